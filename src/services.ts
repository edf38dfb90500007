import { Events, type Client } from 'discord.js';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createBot } from './bot.js';
import type { BotDeps } from './commands/context.js';
import { PendingActions } from './commands/pending-actions.js';
import { ConfigError, type Config } from './config.js';
import { createDigestSender } from './discord/digest-sender.js';
import { createDiscordRoleGateway } from './discord/role-gateway.js';
import { startStaffAlertWorker } from './jobs/staff-alerts.js';
import { systemClock, type Clock } from './shared/clock.js';
import type { CustomerLinkedHook } from './domain/linking/link-account.js';
import { exportsDirectoryFor } from './domain/exports/download-links.js';
import { loadRoleRulesFile } from './domain/roles/rules.js';
import { reconcileCustomerRoles } from './domain/roles/sync.js';
import { createHttpApp, type HttpApp } from './http/app.js';
import { startDigestScheduler, type DigestScheduler } from './jobs/digest.js';
import { startExportCleanupWorker } from './jobs/export-cleanup.js';
import { startInboundEventWorker, storeEventHooks } from './jobs/purchase-events.js';
import { startInboundEventThread } from './jobs/purchase-event-thread.js';
import { isLocalProcessGone, PROCESS_HEARTBEAT_MS, PROCESS_LEASE_TTL_MS, startProcessPresence, type ProcessPresence } from './jobs/bot-processes.js';
import { startLeadership, type Leadership, type StopLeading } from './jobs/leadership.js';
import { startRoleQueueWorker, startRoleSweepWorker } from './jobs/role-queue.js';
import { startWebhookDeliveryWorker } from './jobs/webhook-deliveries.js';
import type { Worker } from './jobs/worker.js';
import type { Logger } from './logger.js';
import { isPostgres, isSqliteFile, type Db } from './store/database.js';
import type { EventStore } from './store/purchase-event.repository.js';
import { startWalCheckpointer, type WalCheckpointer } from './store/wal-checkpointer.js';

export interface ServicesOptions {
  db: Db;
  clock: Clock;
  config: Readonly<Config>;
  logger: Logger;
  tempDir: string;
  discord: { token: string; apiUrl: string; guildId: string };
  /** Where the HTTP listener binds; `false` builds the app without listening (tests use inject). */
  listen: { host: string; port: number } | false;
  /**
   * Where purchase events are applied: 'thread' (a worker thread with its own connection; the
   * default on a SQLite file with the system clock) or 'inline' (this event loop).
   */
  inboundEvents?: 'thread' | 'inline';
  /**
   * Called with a failure no retry can mend (Discord refusing the token), worded as the one line
   * for the person who started the bot; the composition root ends the process. Without it such a
   * failure is retried like any other.
   */
  onFatal?: (error: ConfigError) => void;
  /** Poll intervals, shortened by tests. */
  intervals?: Partial<Record<'inbound' | 'inboundIdle' | 'roles' | 'webhooks' | 'alerts' | 'sweep' | 'exportCleanup' | 'digest' | 'leases', number>>;
}

/** discord.js's answer to a 401 on login, or to the gateway closing with 4004 (authentication failed). */
function isTokenRefused(error: unknown): boolean {
  const { code, status } = (error ?? {}) as { code?: unknown; status?: unknown };
  return code === 'TokenInvalid' || code === 4004 || status === 401;
}

/**
 * Linking Discord after buying applies past purchases (and a re-link takes the roles from the
 * old account): the role plan is written in the link's own transaction, then the queue is woken.
 */
export function applyRolesOnLink(clock: Clock, wakeRoleQueue: () => void): CustomerLinkedHook {
  return async (trx, customerId, change) => {
    await reconcileCustomerRoles(trx, clock, customerId, { eventType: `${change.provider}.linked` });
    // The caller commits after this returns; the queue also polls, but is nudged right away.
    setImmediate(wakeRoleQueue);
  };
}

export interface RunningServices {
  /** The logged-in Discord client while this process holds the gateway lease. */
  readonly client: Client<true> | undefined;
  /** Whether this process holds the gateway lease (only one bot process on a database does). */
  isGatewayHolder(): boolean;
  http: HttpApp;
  /** `http://host:port` when listening. */
  httpUrl: string | undefined;
  botDeps: BotDeps;
  digest: DigestScheduler;
  workers: Record<'inbound' | 'roles' | 'webhooks' | 'alerts' | 'sweep' | 'exportCleanup', Worker>;
  stop(): Promise<void>;
}

type Intervals = NonNullable<ServicesOptions['intervals']>;
type Workers = RunningServices['workers'];

/** What only the holder of the gateway lease runs, while it holds it. */
interface GatewayWork {
  client: Client<true>;
  roles: Worker;
  alerts: Worker;
  sweep: Worker;
  digest: DigestScheduler;
}
type GatewayWorkSlot = { current: GatewayWork | undefined };

/**
 * Starts everything the bot is: the Discord client, the HTTP listener and the background
 * workers, wired together. The one place that knows how the pieces connect; index.ts, the
 * sandbox and the end-to-end tests all start the bot through it.
 */
export async function startServices(options: ServicesOptions): Promise<RunningServices> {
  const { db, config, logger } = options;
  const intervals = options.intervals ?? {};

  await loadRoleRulesIfPresent(options);
  const checkpointer = await startCheckpointer(db, logger);

  // Workers reference each other through wake(); they are created below, before anything runs.
  const workers = {} as Workers;
  // Several bot processes may share the database: each claims queue rows under its own id and
  // keeps a heartbeat; what a dead process had claimed is due again at once (checked now and
  // every few seconds), what a live one holds is left alone.
  const presence = await startProcessPresence({
    db,
    clock: options.clock,
    logger,
    intervalMs: intervals.leases,
    onRecovered: () => {
      for (const worker of Object.values(workers)) worker.wake();
    },
  });
  await presence.check();

  const exportsDir = exportsDirectoryFor(config.databasePath);
  const botDeps = createBotDeps(options, exportsDir, () => workers.roles.wake());
  // The gateway work while this process leads; undefined otherwise.
  const gatewayWork: GatewayWorkSlot = { current: undefined };
  const whileLeading = (pick: 'roles' | 'alerts' | 'sweep'): Worker => ({ wake: () => gatewayWork.current?.[pick].wake(), stop: () => Promise.resolve() });
  workers.roles = whileLeading('roles');
  workers.alerts = whileLeading('alerts');
  workers.sweep = whileLeading('sweep');
  const eventStore = startQueueWorkers(options, workers, presence.id, exportsDir);

  const digest: DigestScheduler = {
    wake: () => gatewayWork.current?.digest.wake(),
    nextInvocation: () => gatewayWork.current?.digest.nextInvocation() ?? null,
    stop: () => Promise.resolve(),
  };
  const gateway = startLeadership({
    db,
    clock: options.clock,
    logger,
    name: 'gateway',
    holder: presence.id,
    ttlMs: PROCESS_LEASE_TTL_MS,
    intervalMs: intervals.leases ?? PROCESS_HEARTBEAT_MS,
    isHolderGone: isLocalProcessGone,
    lead: () => leadGateway(options, botDeps, presence.id, gatewayWork),
  });
  // A lone process (or the first) is logged in before it serves HTTP: a refused token ends
  // start-up before the listener has acknowledged anything (docs/startup.md).
  await gateway.ready;

  const { http, httpUrl } = await startHttp(options, workers, eventStore);

  return {
    get client() {
      return gatewayWork.current?.client;
    },
    isGatewayHolder: () => gateway.isLeading(),
    http,
    httpUrl,
    botDeps,
    digest,
    workers,
    stop: () => stopInOrder({ http, workers, gateway, presence, checkpointer }),
  };
}

/** New work stops first (HTTP), then the workers finish their pass, then Discord and the database. */
async function stopInOrder(running: {
  http: HttpApp;
  workers: Workers;
  gateway: Leadership;
  presence: ProcessPresence;
  checkpointer: WalCheckpointer;
}): Promise<void> {
  const { http, workers, gateway, presence, checkpointer } = running;
  await http.close();
  for (const worker of [workers.inbound, workers.webhooks, workers.exportCleanup]) await worker.stop();
  // Gives the gateway lease up, so another process logs in without waiting for it to expire.
  await gateway.stop();
  await presence.stop();
  await checkpointer.stop();
}

async function loadRoleRulesIfPresent({ db, clock, config, logger, discord }: ServicesOptions): Promise<void> {
  if (!existsSync(config.roleRulesFile)) return;
  const loaded = await loadRoleRulesFile(db, clock, config.roleRulesFile, discord.guildId);
  logger.info({ file: config.roleRulesFile, ...loaded }, 'role rules file loaded');
}

/**
 * Checkpoints of the write-ahead log run on their own thread, never inside a request. SQLite's
 * log only: PostgreSQL checkpoints by itself.
 */
async function startCheckpointer(db: Db, logger: Logger): Promise<WalCheckpointer> {
  if (isPostgres(db)) return { stop: () => Promise.resolve() };
  return startWalCheckpointer(db, { onError: (error) => logger.warn({ err: error }, 'WAL checkpoint failed') });
}

function createBotDeps(options: ServicesOptions, exportsDir: string, wakeRoleWorker: () => void): BotDeps {
  const { db, clock, config, logger } = options;
  return {
    db,
    clock,
    config: { ...config, guildId: options.discord.guildId },
    logger,
    tempDir: options.tempDir,
    exportsDir,
    pending: new PendingActions(() => Date.now()),
    wakeRoleWorker,
  };
}

/**
 * Only the holder of the 'gateway' lease logs in to Discord, so one process answers
 * interactions and does the Discord-bound work (role changes, staff alerts, the time-based role
 * sweep, the digest); the others serve HTTP and the queues, and take over when it dies.
 */
async function leadGateway(options: ServicesOptions, botDeps: BotDeps, holder: string, slot: GatewayWorkSlot): Promise<StopLeading> {
  const client = await logIn(options, botDeps);
  const work = await startGatewayWork(options, client, holder);
  slot.current = work;
  return async () => {
    slot.current = undefined;
    for (const worker of [work.sweep, work.roles, work.alerts]) await worker.stop();
    await work.digest.stop();
    await work.client.destroy();
  };
}

/** The logged-in client once it is ready; a refused token is also reported to onFatal. */
async function logIn(options: ServicesOptions, botDeps: BotDeps): Promise<Client<true>> {
  const client = createBot(botDeps, options.discord.apiUrl);
  const ready = once(client, Events.ClientReady) as Promise<[Client<true>]>;
  try {
    await client.login(options.discord.token);
  } catch (error) {
    await client.destroy();
    if (isTokenRefused(error)) {
      options.onFatal?.(new ConfigError('DISCORD_TOKEN was refused by Discord; copy the bot token again from the Developer Portal (Bot → Reset Token) into DISCORD_TOKEN'));
    }
    throw error;
  }
  const [readyClient] = await ready;
  return readyClient;
}

async function startGatewayWork(options: ServicesOptions, client: Client<true>, holder: string): Promise<GatewayWork> {
  const { db, clock, config, logger } = options;
  const intervals: Intervals = options.intervals ?? {};
  const roles = startRoleQueueWorker({ db, clock, gateway: createDiscordRoleGateway(client), logger, intervalMs: intervals.roles, holder });
  return {
    client,
    roles,
    alerts: startStaffAlertWorker({ db, clock, client, channelId: config.alertChannelId, logger, intervalMs: intervals.alerts }),
    sweep: startRoleSweepWorker({ db, clock, logger, intervalMs: intervals.sweep, onEnqueued: () => roles.wake() }),
    digest: await startDigestScheduler({
      db,
      clock,
      config,
      logger,
      tempDir: options.tempDir,
      // Without DIGEST_CHANNEL_ID the scheduler only logs one warning.
      sender: createDigestSender(client, config.digestChannelId ?? ''),
      safetyIntervalMs: intervals.digest,
    }),
  };
}

/**
 * The queues every process works on: webhook deliveries, export clean-up and purchase events.
 * Returns the event store of the inbound thread when it runs on one.
 */
function startQueueWorkers(options: ServicesOptions, workers: Workers, holder: string, exportsDir: string): EventStore | undefined {
  const { db, clock, config, logger } = options;
  const intervals: Intervals = options.intervals ?? {};
  workers.webhooks = startWebhookDeliveryWorker(db, clock, { allowPrivateGlobally: config.webhookAllowPrivateUrls, logger, intervalMs: intervals.webhooks, holder });
  workers.exportCleanup = startExportCleanupWorker({ db, clock, directory: exportsDir, logger, intervalMs: intervals.exportCleanup });
  const wakeAfterEvents = () => {
    workers.roles.wake();
    workers.webhooks.wake();
    workers.alerts.wake();
  };
  const inbound = startInboundEvents(options, holder, wakeAfterEvents);
  workers.inbound = inbound.worker;
  return inbound.events;
}

/**
 * On a SQLite file the events are applied on a thread of their own (see purchase-event-thread.ts);
 * in memory (tests with a hand-moved clock) and on PostgreSQL, whose calls never block the
 * event loop, right here.
 */
function startInboundEvents(options: ServicesOptions, holder: string, onHandled: () => void): { worker: Worker; events?: EventStore } {
  const { db, clock, config, logger } = options;
  const intervals: Intervals = options.intervals ?? {};
  const inboundMode = options.inboundEvents ?? (clock === systemClock && isSqliteFile(config.databasePath) ? 'thread' : 'inline');
  if (inboundMode === 'thread') {
    return startInboundEventThread({
      databasePath: config.databasePath,
      db,
      clock,
      logger,
      holder,
      storeCurrency: config.storeCurrency,
      intervalMs: intervals.inbound ?? 5_000,
      ...(intervals.inboundIdle === undefined ? {} : { idleExitMs: intervals.inboundIdle }),
      onHandled,
    });
  }
  const worker = startInboundEventWorker({
    db,
    clock,
    hooks: storeEventHooks(clock),
    logger,
    storeCurrency: config.storeCurrency,
    intervalMs: intervals.inbound ?? 5_000,
    holder,
    onHandled,
  });
  return { worker };
}

/** The HTTP app, listening when asked to; `httpUrl` is where it listens. */
async function startHttp(options: ServicesOptions, workers: Workers, eventStore: EventStore | undefined): Promise<{ http: HttpApp; httpUrl: string | undefined }> {
  const { db, clock, config, logger } = options;
  const http = await createHttpApp({
    db,
    clock,
    config,
    logger,
    wake: { inboundEvents: () => workers.inbound.wake(), webhookDeliveries: () => workers.webhooks.wake() },
    ...(eventStore ? { events: eventStore } : {}),
    onCustomerLinked: applyRolesOnLink(clock, () => workers.roles.wake()),
  });
  if (!options.listen) return { http, httpUrl: undefined };
  await http.listen({ host: options.listen.host, port: options.listen.port });
  const address = http.server.address();
  const httpUrl = address && typeof address === 'object' ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : undefined;
  logger.info({ url: httpUrl }, 'HTTP listener started');
  return { http, httpUrl };
}
