import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { constants as zlibConstants, createDeflate } from 'node:zlib';
import type { Deflate } from 'node:zlib';
import { GatewayDispatchEvents, GatewayIntentBits, GatewayOpcodes } from 'discord.js';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import { asArray, asNumber, asObject, asString } from './http-util.js';
import type { LocalDiscordState, MemberRecord } from './state.js';
import type { GatewayStats, JsonObject } from './types.js';
import { guildCreateJson, memberJson, userJson } from './wire.js';

/** Which intent a dispatch needs; events not listed here reach every session. */
const EVENT_INTENTS: Partial<Record<string, number>> = {
  [GatewayDispatchEvents.GuildCreate]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.GuildUpdate]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.GuildRoleCreate]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.GuildRoleUpdate]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.GuildRoleDelete]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.GuildMemberAdd]: GatewayIntentBits.GuildMembers,
  [GatewayDispatchEvents.GuildMemberUpdate]: GatewayIntentBits.GuildMembers,
  [GatewayDispatchEvents.GuildMemberRemove]: GatewayIntentBits.GuildMembers,
};

/** Discord keeps a session resumable for a while; this many buffered events is plenty for tests. */
const REPLAY_BUFFER = 1000;
/** Guilds above discord.js's default large_threshold only list the bot in GUILD_CREATE. */
const DEFAULT_LARGE_THRESHOLD = 50;

interface Connection {
  socket: WebSocket;
  send(text: string): void;
  session: GatewaySession | null;
}

interface GatewaySession {
  id: string;
  intents: number;
  largeThreshold: number;
  seq: number;
  connection: Connection | null;
  buffer: Array<{ seq: number; text: string }>;
}

export interface GatewayDeps {
  state: LocalDiscordState;
  heartbeatIntervalMs: number;
  resumeUrl: () => string;
  log: (line: string) => void;
}

export class LocalGateway {
  readonly #server = new WebSocketServer({ noServer: true });
  readonly #sessions = new Map<string, GatewaySession>();
  readonly #connections = new Set<Connection>();
  readonly #sessionWaiters = new Set<() => void>();
  #identifies = 0;
  #resumes = 0;

  constructor(private readonly deps: GatewayDeps) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#server.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req));
  }

  #accept(socket: WebSocket, req: IncomingMessage): void {
    const query = new URL(req.url ?? '/', 'ws://local').searchParams;
    const connection = this.#createConnection(socket, query.get('compress') === 'zlib-stream');
    this.#connections.add(connection);
    socket.on('close', (code) => this.#onClose(connection, code));
    socket.on('error', () => socket.terminate());

    const version = query.get('v');
    if (version !== null && version !== '10' && version !== '9') {
      socket.close(4012, 'Invalid API version');
      return;
    }
    if ((query.get('encoding') ?? 'json') !== 'json') {
      // Only JSON is spoken here; ETF would need erlpack on both ends.
      socket.close(4002, 'Error while decoding payload.');
      return;
    }
    socket.on('message', (data) => this.#onMessage(connection, data));
    connection.send(JSON.stringify({ op: GatewayOpcodes.Hello, d: { heartbeat_interval: this.deps.heartbeatIntervalMs }, s: null, t: null }));
  }

  #createConnection(socket: WebSocket, zlibStream: boolean): Connection {
    if (!zlibStream) {
      return {
        socket,
        session: null,
        send: (text) => {
          if (socket.readyState === socket.OPEN) socket.send(text);
        },
      };
    }
    // zlib-stream: one deflate context for the whole connection, each payload ending in a sync flush.
    const deflate: Deflate = createDeflate();
    const pending: Buffer[] = [];
    deflate.on('data', (chunk: Buffer) => pending.push(chunk));
    socket.on('close', () => deflate.close());
    return {
      socket,
      session: null,
      send: (text) => {
        deflate.write(text);
        deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
          const frame = Buffer.concat(pending.splice(0));
          if (socket.readyState === socket.OPEN) socket.send(frame, { binary: true });
        });
      },
    };
  }

  #onMessage(connection: Connection, data: RawData): void {
    let payload: JsonObject;
    try {
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      payload = asObject(JSON.parse(text));
    } catch {
      connection.socket.close(4002, 'Error while decoding payload.');
      return;
    }
    const op = asNumber(payload.op);
    const d = payload.d;
    switch (op) {
      case GatewayOpcodes.Heartbeat:
        connection.send(JSON.stringify({ op: GatewayOpcodes.HeartbeatAck }));
        return;
      case GatewayOpcodes.Identify:
        this.#identify(connection, asObject(d));
        return;
      case GatewayOpcodes.Resume:
        this.#resume(connection, asObject(d));
        return;
      default:
        break;
    }
    if (!connection.session) {
      connection.socket.close(4003, 'Not authenticated.');
      return;
    }
    switch (op) {
      case GatewayOpcodes.RequestGuildMembers:
        this.#sendMemberChunk(connection.session, asObject(d));
        return;
      case GatewayOpcodes.PresenceUpdate:
      case GatewayOpcodes.VoiceStateUpdate:
        return;
      default:
        connection.socket.close(4001, 'Unknown opcode.');
    }
  }

  #identify(connection: Connection, d: JsonObject): void {
    if (connection.session) {
      connection.socket.close(4005, 'Already authenticated.');
      return;
    }
    if (!asString(d.token)) {
      connection.socket.close(4004, 'Authentication failed.');
      return;
    }
    const { state } = this.deps;
    const session: GatewaySession = {
      id: state.ids.next(),
      intents: asNumber(d.intents) ?? 0,
      largeThreshold: asNumber(d.large_threshold) ?? DEFAULT_LARGE_THRESHOLD,
      seq: 0,
      connection,
      buffer: [],
    };
    connection.session = session;
    this.#sessions.set(session.id, session);
    this.#identifies += 1;
    this.deps.log(`gateway: IDENTIFY (intents ${session.intents}), session ${session.id}`);

    this.#sendTo(session, GatewayDispatchEvents.Ready, {
      v: 10,
      user: { ...userJson(state.botUser), verified: true, mfa_enabled: false, flags: 0, email: null },
      guilds: [...state.guilds.keys()].map((id) => ({ id, unavailable: true })),
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: this.deps.resumeUrl(),
      shard: [0, 1],
      application: { id: state.applicationId, flags: 0 },
      private_channels: [],
      relationships: [],
      presences: [],
      geo_ordered_rtc_regions: [],
      guild_join_requests: [],
      user_settings: {},
    });
    if ((session.intents & GatewayIntentBits.Guilds) === 0) {
      this.deps.log('gateway: the client did not ask for the Guilds intent, so no GUILD_CREATE follows (as on Discord)');
    }
    for (const guild of state.guilds.values()) {
      const everyone = (session.intents & GatewayIntentBits.GuildMembers) !== 0 && guild.members.size <= session.largeThreshold;
      const members = everyone ? [...guild.members.values()] : [guild.members.get(state.botUser.id)].filter((m): m is MemberRecord => m !== undefined);
      this.#sendTo(session, GatewayDispatchEvents.GuildCreate, guildCreateJson(state, guild, members));
    }
    this.#wakeSessionWaiters();
  }

  #resume(connection: Connection, d: JsonObject): void {
    const session = this.#sessions.get(asString(d.session_id) ?? '');
    if (!session) {
      connection.send(JSON.stringify({ op: GatewayOpcodes.InvalidSession, d: false }));
      return;
    }
    const since = asNumber(d.seq) ?? 0;
    session.connection = connection;
    connection.session = session;
    this.#resumes += 1;
    const missed = session.buffer.filter((entry) => entry.seq > since);
    this.deps.log(`gateway: RESUME session ${session.id} from seq ${since}, replaying ${missed.length}`);
    for (const entry of missed) connection.send(entry.text);
    this.#sendTo(session, GatewayDispatchEvents.Resumed, {});
  }

  #sendMemberChunk(session: GatewaySession, d: JsonObject): void {
    const guild = this.deps.state.guilds.get(asString(d.guild_id) ?? '');
    if (!guild) return;
    const query = (asString(d.query) ?? '').toLowerCase();
    const limit = asNumber(d.limit) ?? 0;
    const wanted = asArray(d.user_ids).filter((id): id is string => typeof id === 'string');
    let members = [...guild.members.values()];
    if (wanted.length > 0) {
      members = members.filter((member) => wanted.includes(member.userId));
    } else if (query !== '') {
      members = members.filter((member) =>
        (this.deps.state.users.get(member.userId)?.username ?? '').toLowerCase().startsWith(query),
      );
    }
    if (limit > 0) members = members.slice(0, limit);
    this.#sendTo(session, GatewayDispatchEvents.GuildMembersChunk, {
      guild_id: guild.id,
      members: members.map((member) => memberJson(this.deps.state, member)),
      chunk_index: 0,
      chunk_count: 1,
      not_found: wanted.filter((id) => !guild.members.has(id)),
      ...(d.nonce === undefined ? {} : { nonce: d.nonce }),
    });
  }

  #onClose(connection: Connection, code: number): void {
    this.#connections.delete(connection);
    const session = connection.session;
    if (!session || session.connection !== connection) return;
    session.connection = null;
    // A client that closes normally ends its session; Discord only keeps abnormal closes resumable.
    if (code === 1000 || code === 1001) this.#sessions.delete(session.id);
  }

  #sendTo(session: GatewaySession, event: string, data: unknown): void {
    session.seq += 1;
    const text = JSON.stringify({ op: GatewayOpcodes.Dispatch, t: event, s: session.seq, d: data });
    session.buffer.push({ seq: session.seq, text });
    if (session.buffer.length > REPLAY_BUFFER) session.buffer.shift();
    session.connection?.send(text);
  }

  /**
   * Sends an event to every session whose intents cover it (`intent` overrides the usual one);
   * a session that is reconnecting gets it on RESUME.
   */
  dispatch(event: string, data: unknown, intent: number | undefined = EVENT_INTENTS[event]): void {
    for (const session of this.#sessions.values()) {
      if (intent !== undefined && (session.intents & intent) === 0) continue;
      this.#sendTo(session, event, data);
    }
  }

  hasSession(): boolean {
    return this.#sessions.size > 0;
  }

  /** Resolves once some client has identified; interactions have nowhere to go before that. */
  async waitForSession(ms: number): Promise<void> {
    if (this.hasSession()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#sessionWaiters.delete(done);
        reject(new Error(`local-discord: no discord.js client has connected to the gateway within ${ms} ms (did it log in?)`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#sessionWaiters.add(done);
    });
  }

  #wakeSessionWaiters(): void {
    for (const wake of [...this.#sessionWaiters]) {
      this.#sessionWaiters.delete(wake);
      wake();
    }
  }

  drop(code: number): void {
    for (const connection of this.#connections) connection.socket.close(code, 'local-discord: dropped on purpose');
  }

  stats(): GatewayStats {
    return { identifies: this.#identifies, resumes: this.#resumes, connections: this.#connections.size };
  }

  async close(): Promise<void> {
    for (const connection of this.#connections) connection.socket.terminate();
    this.#connections.clear();
    this.#sessions.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
