import { Events, type Client } from 'discord.js';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createBot } from './bot.js';
import type { BotDeps } from './commands/context.js';
import { PendingActions } from './commands/pending-actions.js';
import type { Config } from './config.js';
import { createDigestSender } from './discord/digest-sender.js';
import { createDiscordRoleGateway } from './discord/role-gateway.js';
import { startStaffAlertWorker } from './discord/staff-alert-sender.js';
import type { PurchaseEventHooks } from './domain/apply-purchase-event.js';
import type { Clock } from './domain/clock.js';
import type { CustomerLinkedHook } from './domain/linking/link-account.js';
import { exportsDirectoryFor } from './domain/export/download-links.js';
import { enqueueCustomerCreated } from './domain/outbound-webhooks.js';
import { loadRoleRulesFile } from './domain/role-rules.js';
import { reconcileCustomerRoles } from './domain/role-sync.js';
import { createHttpApp, type HttpApp } from './http/app.js';
import { startDigestScheduler, type DigestScheduler } from './jobs/digest.js';
import { startExportCleanupWorker } from './jobs/export-cleanup.js';
import { processDueEvents } from './jobs/inbound-events.js';
import { recoverInterruptedRoleJobs, startRoleQueueWorker, startRoleSweepWorker } from './jobs/role-queue.js';
import { releaseWebhookDeliveryLeases, startWebhookDeliveryWorker } from './jobs/webhook-deliveries.js';
import { startWorker, type Worker } from './jobs/worker.js';
import type { Logger } from './logger.js';
import type { Db } from './store/database.js';
import { releaseInboundEventLeases } from './store/inbound-event.repository.js';
import { startWalCheckpointer } from './store/wal-checkpointer.js';

export interface ServicesOptions {
  db: Db;
  clock: Clock;
  config: Readonly<Config>;
  logger: Logger;
  tempDir: string;
  discord: { token: string; apiUrl: string; guildId: string };
  /** Where the HTTP listener binds; `false` builds the app without listening (tests use inject). */
  listen: { host: string; port: number } | false;
  /** Poll intervals, shortened by tests. */
  intervals?: Partial<Record<'inbound' | 'roles' | 'webhooks' | 'alerts' | 'sweep' | 'exportCleanup' | 'digest', number>>;
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
  client: Client<true>;
  http: HttpApp;
  /** `http://host:port` when listening. */
  httpUrl: string | undefined;
  botDeps: BotDeps;
  digest: DigestScheduler;
  workers: Record<'inbound' | 'roles' | 'webhooks' | 'alerts' | 'sweep' | 'exportCleanup', Worker>;
  stop(): Promise<void>;
}

/**
 * Starts everything the bot is: the Discord client, the HTTP listener and the background
 * workers, wired together. The one place that knows how the pieces connect; index.ts, the
 * sandbox and the end-to-end tests all start the bot through it.
 */
export async function startServices(options: ServicesOptions): Promise<RunningServices> {
  const { db, clock, config, logger } = options;
  const { guildId } = options.discord;

  // SQLite serves one bot process: whatever the previous process held when it died is due now.
  const recovered = {
    events: await releaseInboundEventLeases(db, clock),
    roleJobs: await recoverInterruptedRoleJobs(db, clock),
    deliveries: await releaseWebhookDeliveryLeases(db, clock),
  };
  if (recovered.events + recovered.roleJobs + recovered.deliveries > 0) logger.warn(recovered, 'resumed work interrupted by the last shutdown');

  if (existsSync(config.roleRulesFile)) {
    const loaded = await loadRoleRulesFile(db, clock, config.roleRulesFile, guildId);
    logger.info({ file: config.roleRulesFile, ...loaded }, 'role rules file loaded');
  }

  // Checkpoints of the write-ahead log run on their own thread, never inside a request.
  const checkpointer = await startWalCheckpointer(db, { onError: (error) => logger.warn({ err: error }, 'WAL checkpoint failed') });

  // Workers reference each other through wake(); they are created below, before anything runs.
  const workers = {} as RunningServices['workers'];
  const wakeAfterEvents = () => {
    workers.roles.wake();
    workers.webhooks.wake();
    workers.alerts.wake();
  };

  // Role plans and the outbox are written inside each event's transaction, so an event's
  // effects (orders, role jobs, webhook deliveries) commit together or not at all.
  const hooks: PurchaseEventHooks = {
    customerChanged: async (trx, customerId, cause) => {
      await reconcileCustomerRoles(trx, clock, customerId, cause);
    },
    customerCreated: async (trx, customer) => {
      await enqueueCustomerCreated(trx, clock, customer);
    },
  };

  const exportsDir = exportsDirectoryFor(config.databasePath);
  const botDeps: BotDeps = {
    db,
    clock,
    config: { ...config, guildId },
    logger,
    tempDir: options.tempDir,
    exportsDir,
    pending: new PendingActions(() => Date.now()),
    wakeRoleWorker: () => workers.roles.wake(),
  };
  const client = createBot(botDeps, options.discord.apiUrl);
  const ready = once(client, Events.ClientReady) as Promise<[Client<true>]>;
  await client.login(options.discord.token);
  const [readyClient] = await ready;

  const intervals = options.intervals ?? {};
  workers.roles = startRoleQueueWorker({ db, clock, gateway: createDiscordRoleGateway(readyClient), logger, intervalMs: intervals.roles });
  workers.alerts = startStaffAlertWorker({ db, clock, client: readyClient, channelId: config.alertChannelId, logger, intervalMs: intervals.alerts });
  workers.sweep = startRoleSweepWorker({ db, clock, logger, intervalMs: intervals.sweep, onEnqueued: () => workers.roles.wake() });
  workers.webhooks = startWebhookDeliveryWorker(db, clock, { allowPrivateGlobally: config.webhookAllowPrivateUrls, logger, intervalMs: intervals.webhooks });
  workers.exportCleanup = startExportCleanupWorker({ db, clock, directory: exportsDir, logger, intervalMs: intervals.exportCleanup });
  workers.inbound = startWorker({
    name: 'inbound-events',
    logger,
    intervalMs: intervals.inbound ?? 5_000,
    runOnce: async () => {
      const handled = await processDueEvents(db, clock, hooks, { logger, storeCurrency: config.storeCurrency });
      if (handled > 0) wakeAfterEvents();
      return handled;
    },
  });

  const digest = await startDigestScheduler({
    db,
    clock,
    config,
    logger,
    tempDir: options.tempDir,
    // Without DIGEST_CHANNEL_ID the scheduler only logs one warning.
    sender: createDigestSender(readyClient, config.digestChannelId ?? ''),
    safetyIntervalMs: intervals.digest,
  });

  const http = await createHttpApp({
    db,
    clock,
    config,
    logger,
    wake: { inboundEvents: () => workers.inbound.wake(), webhookDeliveries: () => workers.webhooks.wake() },
    onCustomerLinked: applyRolesOnLink(clock, () => workers.roles.wake()),
  });
  let httpUrl: string | undefined;
  if (options.listen) {
    await http.listen({ host: options.listen.host, port: options.listen.port });
    const address = http.server.address();
    if (address && typeof address === 'object') httpUrl = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    logger.info({ url: httpUrl }, 'HTTP listener started');
  }

  return {
    client: readyClient,
    http,
    httpUrl,
    botDeps,
    digest,
    workers,
    async stop() {
      // New work stops first (HTTP), then the workers finish their pass, then Discord and the database.
      await http.close();
      for (const worker of [workers.inbound, workers.webhooks, workers.sweep, workers.roles, workers.alerts, workers.exportCleanup]) await worker.stop();
      await digest.stop();
      await client.destroy();
      await checkpointer.stop();
    },
  };
}
