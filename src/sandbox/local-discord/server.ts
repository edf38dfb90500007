import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { localDiscordDriver } from './driver.js';
import { FaultTable } from './faults.js';
import { LocalGateway } from './gateway.js';
import { createBotToken } from './ids.js';
import { InteractionDesk } from './interactions.js';
import { MessageStore } from './messages.js';
import { gatewayRelay } from './relay.js';
import { RequestLog } from './request-log.js';
import { restHandler } from './rest-server.js';
import { buildRoutes } from './rest-routes/index.js';
import { DEFAULT_APPLICATION_ID, DEFAULT_GUILD_SEED } from './seed.js';
import { LocalDiscordState } from './state.js';
import type { LocalAuditEntry, LocalDiscord, LocalDiscordOptions } from './types.js';

/**
 * Starts a local Discord (REST under /api and the gateway on the same port) that an unmodified
 * discord.js client can log in to, and returns the driver tests and the sandbox use.
 */
export async function startLocalDiscord(options: LocalDiscordOptions = {}): Promise<LocalDiscord> {
  const applicationId = options.applicationId ?? DEFAULT_APPLICATION_ID;
  const botUser = options.botUser ?? { id: applicationId, username: 'Store Desk' };
  const log = options.log ?? ((): void => undefined);
  const state = new LocalDiscordState(applicationId, botUser, options.guilds ?? [DEFAULT_GUILD_SEED]);
  const host = options.host ?? '127.0.0.1';

  // Known once the server listens; everything that builds a URL asks for it then.
  let origin = '';
  const requests = new RequestLog();
  const auditLog: LocalAuditEntry[] = [];
  const faults = new FaultTable();
  for (const fault of options.faults ?? []) faults.add(fault);

  const gateway = new LocalGateway({
    state,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
    resumeUrl: () => `${webSocketUrl(origin)}/resume`,
    log,
  });
  const messages = new MessageStore(state, () => origin);
  const relay = gatewayRelay(state, gateway);
  const desk = new InteractionDesk({
    state,
    gateway,
    messages,
    ackTimeoutMs: options.interactionAckTimeoutMs ?? 3000,
    enforceDefaultMemberPermissions: options.enforceDefaultMemberPermissions ?? false,
    announce: relay.announce,
    log,
  });
  const routes = buildRoutes({ state, desk, messages, auditLog, gatewayUrl: () => webSocketUrl(origin), ...relay });

  const handle = restHandler({ routes, messages, faults, requests, log });
  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => gateway.handleUpgrade(req, socket, head));
  origin = await listen(server, options.port ?? 0, host);
  log(`local Discord listening on ${origin} (REST ${origin}/api, gateway ${webSocketUrl(origin)})`);

  return localDiscordDriver({
    apiUrl: `${origin}/api`,
    gatewayUrl: webSocketUrl(origin),
    token: createBotToken(botUser.id),
    state,
    gateway,
    desk,
    relay,
    faults,
    requests,
    auditLog,
    log,
    stop: async () => {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      log('local Discord stopped');
    },
  });
}

/** Listens and returns the origin (`http://host:port`) the server answers on. */
async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${host}:${address.port}`;
}

/** The gateway shares the REST port. */
function webSocketUrl(origin: string): string {
  return origin.replace(/^http/, 'ws');
}
