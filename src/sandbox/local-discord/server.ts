import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayDispatchEvents, GatewayIntentBits } from 'discord.js';
import { FaultTable } from './faults.js';
import { LocalGateway } from './gateway.js';
import { DiscordHttpError, matchPath, parseRequestBody, rateLimitHeaders, readRequestBody, sendJson } from './http-util.js';
import { createBotToken } from './ids.js';
import { InteractionDesk } from './interactions.js';
import { MessageStore } from './messages.js';
import { buildRoutes } from './rest-routes.js';
import type { Route } from './rest-routes.js';
import { DEFAULT_APPLICATION_ID, DEFAULT_GUILD_SEED } from './seed.js';
import { LocalDiscordState } from './state.js';
import type { GuildRecord, MemberRecord, MessageRecord } from './state.js';
import type {
  GatewayStats,
  LocalAuditEntry,
  LocalDiscord,
  LocalDiscordOptions,
  LocalFault,
  LocalMemberSeed,
  LocalMessage,
  RecordedRequest,
} from './types.js';
import { memberJson, roleJson, userJson, messageJson } from './wire.js';

const API_PREFIX = /^\/api(?:\/v(\d+))?(\/.*)?$/;
/** Resumable: @discordjs/ws resumes on 4000, while 1000/1001 would make it identify afresh. */
const RESUMABLE_CLOSE_CODE = 4000;

/**
 * Starts a local Discord (REST under /api and the gateway on the same port) that an unmodified
 * discord.js client can log in to, and returns the driver tests and the sandbox use.
 */
export async function startLocalDiscord(options: LocalDiscordOptions = {}): Promise<LocalDiscord> {
  const applicationId = options.applicationId ?? DEFAULT_APPLICATION_ID;
  const botUser = options.botUser ?? { id: applicationId, username: 'Store Desk' };
  const log = options.log ?? ((): void => undefined);
  const state = new LocalDiscordState(applicationId, botUser, options.guilds ?? [DEFAULT_GUILD_SEED]);
  const token = createBotToken(botUser.id);
  const host = options.host ?? '127.0.0.1';

  let origin = '';
  const requests: RecordedRequest[] = [];
  const requestWaiters = new Set<(request: RecordedRequest) => void>();
  const auditLog: LocalAuditEntry[] = [];
  const faults = new FaultTable();
  for (const fault of options.faults ?? []) faults.add(fault);

  const gateway = new LocalGateway({
    state,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
    resumeUrl: () => `${origin.replace(/^http/, 'ws')}/resume`,
    log,
  });
  const messages = new MessageStore(state, () => origin);

  const announce = (message: MessageRecord, event: 'create' | 'update' | 'delete'): void => {
    // Ephemeral messages exist only for the user who saw them; the bot gets no gateway event.
    if ((message.flags & 64) !== 0) return;
    const intent = message.guildId === null ? GatewayIntentBits.DirectMessages : GatewayIntentBits.GuildMessages;
    if (event === 'delete') {
      gateway.dispatch(
        GatewayDispatchEvents.MessageDelete,
        { id: message.id, channel_id: message.channelId, ...(message.guildId === null ? {} : { guild_id: message.guildId }) },
        intent,
      );
      return;
    }
    const type = event === 'create' ? GatewayDispatchEvents.MessageCreate : GatewayDispatchEvents.MessageUpdate;
    gateway.dispatch(type, messageJson(state, message), intent);
  };

  const memberChanged = (guild: GuildRecord, member: MemberRecord): void => {
    gateway.dispatch(GatewayDispatchEvents.GuildMemberUpdate, { guild_id: guild.id, ...memberJson(state, member) });
  };
  const memberRemoved = (guild: GuildRecord, userId: string): void => {
    const user = state.users.get(userId);
    if (user) gateway.dispatch(GatewayDispatchEvents.GuildMemberRemove, { guild_id: guild.id, user: userJson(user) });
  };

  const desk = new InteractionDesk({
    state,
    gateway,
    messages,
    ackTimeoutMs: options.interactionAckTimeoutMs ?? 3000,
    enforceDefaultMemberPermissions: options.enforceDefaultMemberPermissions ?? false,
    announce,
    log,
  });
  const routes = buildRoutes({
    state,
    desk,
    messages,
    auditLog,
    gatewayUrl: () => origin.replace(/^http/, 'ws'),
    memberChanged,
    memberRemoved,
    announce,
  });

  const finish = (record: RecordedRequest, status: number): void => {
    record.status = status;
    for (const waiter of [...requestWaiters]) waiter(record);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = (req.method ?? 'GET').toUpperCase();

    const attachment = matchPath('/attachments/:channelId/:attachmentId/:filename', url.pathname);
    if (attachment && method === 'GET') {
      const found = messages.findAttachment(attachment.attachmentId ?? '');
      if (!found) {
        sendJson(res, 404, { message: '404: Not Found', code: 0 });
        return;
      }
      res.writeHead(200, { 'Content-Type': found.contentType ?? 'application/octet-stream', 'Content-Length': String(found.size) });
      res.end(found.data);
      return;
    }

    const prefixed = API_PREFIX.exec(url.pathname);
    // discord.js percent-encodes path segments (`%40original`), so match on decoded segments.
    const path = (prefixed?.[2] ?? url.pathname)
      .split('/')
      .map((segment) => {
        try {
          return decodeURIComponent(segment);
        } catch {
          return segment;
        }
      })
      .join('/');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const reason = headers['x-audit-log-reason'];
    const record: RecordedRequest = {
      method,
      path,
      route: null,
      query: Object.fromEntries(url.searchParams),
      headers,
      authorization: headers.authorization ?? null,
      auditLogReason: reason === undefined ? null : safeDecode(reason),
      body: undefined,
      files: [],
      status: 0,
      time: Date.now(),
    };
    requests.push(record);

    let route: Route | undefined;
    let params: Record<string, string> = {};
    for (const candidate of routes) {
      if (candidate.method !== method) continue;
      const matched = matchPath(candidate.pattern, path);
      if (matched) {
        route = candidate;
        params = matched;
        break;
      }
    }
    const limitHeaders = rateLimitHeaders(route ? `${route.method} ${route.pattern}` : `${method} ${path}`);

    try {
      const raw = await readRequestBody(req);
      const parsed = await parseRequestBody(raw, headers['content-type']);
      record.body = parsed.json;
      record.files = parsed.files;

      const fault = faults.take(method, path);
      if (fault) {
        log(`rest: ${method} ${path} → injected ${fault.status}${fault.delayMs ? ` after ${fault.delayMs} ms` : ''}`);
        if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
        sendJson(res, fault.status, fault.body ?? { message: `${fault.status}`, code: 0 }, { ...limitHeaders, ...fault.headers });
        finish(record, fault.status);
        return;
      }
      if (!prefixed || !route) {
        log(`rest: unknown route ${method} ${url.pathname}`);
        sendJson(res, 404, { message: '404: Not Found', code: 0 }, limitHeaders);
        finish(record, 404);
        return;
      }
      record.route = `${route.method} ${route.pattern}`;
      if (route.auth && !/^Bot \S+/.test(record.authorization ?? '')) {
        sendJson(res, 401, { message: '401: Unauthorized', code: 0 }, limitHeaders);
        finish(record, 401);
        return;
      }
      const answer = route.handle({ params, query: url.searchParams, body: parsed.json, files: parsed.files, request: record });
      sendJson(res, answer.status, answer.body, limitHeaders);
      finish(record, answer.body === undefined && answer.status === 200 ? 204 : answer.status);
    } catch (error) {
      if (error instanceof DiscordHttpError) {
        log(`rest: ${method} ${path} → ${error.status} ${error.code} ${error.message}`);
        sendJson(res, error.status, error.body(), limitHeaders);
        finish(record, error.status);
        return;
      }
      // A bug in the fake, not a Discord answer: say so loudly rather than pretend.
      log(`rest: ${method} ${path} crashed the local Discord: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      sendJson(res, 500, { message: '500: local-discord internal error', code: 0 }, limitHeaders);
      finish(record, 500);
    }
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => gateway.handleUpgrade(req, socket, head));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://${host}:${port}`;
  log(`local Discord listening on ${origin} (REST ${origin}/api, gateway ${origin.replace(/^http/, 'ws')})`);

  const guildMember = (guildId: string, userId: string): { guild: GuildRecord; member: MemberRecord } => {
    const guild = state.guild(guildId);
    const member = guild.members.get(userId);
    if (!member) throw new Error(`local-discord: user ${userId} is not a member of guild ${guildId}`);
    return { guild, member };
  };
  const snapshots = (list: MessageRecord[]): LocalMessage[] => list.map((message) => state.snapshot(message));

  const driver: LocalDiscord = {
    apiUrl: `${origin}/api`,
    gatewayUrl: origin.replace(/^http/, 'ws'),
    token,
    applicationId,
    botUserId: botUser.id,
    requests,
    auditLog,

    registeredCommands: (guildId) => structuredClone(state.commandsFor(guildId ?? null)),

    addMember(guildId: string, seed: LocalMemberSeed): void {
      const guild = state.guild(guildId);
      const member = state.putMember(guild, seed);
      gateway.dispatch(GatewayDispatchEvents.GuildMemberAdd, { guild_id: guild.id, ...memberJson(state, member) });
      log(`guild ${guild.id}: ${seed.user.username} (${seed.user.id}) joined`);
    },

    removeMember(guildId: string, userId: string): void {
      const { guild } = guildMember(guildId, userId);
      guild.members.delete(userId);
      memberRemoved(guild, userId);
    },

    memberRoles: (guildId, userId) => [...(state.guild(guildId).members.get(userId)?.roles ?? [])],

    hasMember: (guildId, userId) => state.guild(guildId).members.has(userId),

    setMemberRoles(guildId: string, userId: string, roleIds: string[]): void {
      const { guild, member } = guildMember(guildId, userId);
      const unknown = roleIds.filter((id) => !guild.roles.has(id));
      if (unknown.length > 0) throw new Error(`local-discord: guild ${guildId} has no role ${unknown.join(', ')}`);
      member.roles = roleIds.filter((id) => id !== guild.id);
      memberChanged(guild, member);
    },

    setBotPermissions(guildId: string, permissions: bigint | string): void {
      const { guild, member } = guildMember(guildId, botUser.id);
      const roles = member.roles.map((id) => guild.roles.get(id)).filter((role) => role !== undefined);
      const target = roles.find((role) => role.botId === botUser.id) ?? roles.sort((a, b) => b.position - a.position)[0];
      if (!target) throw new Error(`local-discord: the bot has no role in guild ${guildId} to carry permissions`);
      driver.updateRole(guildId, target.id, { permissions });
    },

    updateRole(guildId, roleId, patch): void {
      const guild = state.guild(guildId);
      const role = guild.roles.get(roleId);
      if (!role) throw new Error(`local-discord: guild ${guildId} has no role ${roleId}`);
      if (patch.name !== undefined) role.name = patch.name;
      if (patch.position !== undefined) role.position = patch.position;
      if (patch.permissions !== undefined) role.permissions = BigInt(patch.permissions);
      gateway.dispatch(GatewayDispatchEvents.GuildRoleUpdate, { guild_id: guild.id, role: roleJson(role) });
    },

    invokeSlash: (args) => desk.invokeSlash(args),
    invokeUserCommand: (args) => desk.invokeUserCommand(args),
    autocomplete: (args) => desk.autocomplete(args),
    clickButton: (args) => desk.clickButton(args),
    selectMenu: (args) => desk.selectMenu(args),
    submitModal: (args) => desk.submitModal(args),

    channelMessages: (channelId) => snapshots(state.channelMessages(channelId)),
    dmMessages(userId: string): LocalMessage[] {
      const channel = [...state.dmChannels.values()].find((candidate) => candidate.recipientId === userId);
      return channel ? snapshots(state.channelMessages(channel.id)) : [];
    },
    message(messageId: string): LocalMessage | undefined {
      const message = state.messages.get(messageId);
      return message && !message.deleted ? state.snapshot(message) : undefined;
    },

    injectFault: (fault: LocalFault) => faults.add(fault),
    clearFaults: () => faults.clear(),

    waitForRequest(match, ms = 5000): Promise<RecordedRequest> {
      const done = requests.find((request) => request.status !== 0 && match(request));
      if (done) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          requestWaiters.delete(waiter);
          const seen = requests.slice(-10).map((request) => `${request.method} ${request.path} → ${request.status}`);
          reject(new Error(`local-discord: no matching request within ${ms} ms; last requests: ${seen.join('; ') || 'none'}`));
        }, ms);
        const waiter = (request: RecordedRequest): void => {
          if (!match(request)) return;
          clearTimeout(timer);
          requestWaiters.delete(waiter);
          resolve(request);
        };
        requestWaiters.add(waiter);
      });
    },

    dropGateway: (code = RESUMABLE_CLOSE_CODE) => gateway.drop(code),
    gatewayStats: (): GatewayStats => gateway.stats(),

    async stop(): Promise<void> {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      log('local Discord stopped');
    },
  };
  return driver;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
