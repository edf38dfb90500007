import type { Client } from 'discord.js';
import type { Clock } from '../shared/clock.js';
import { deliverStaffAlerts } from '../domain/alerts/staff-alerts.js';
import { createAlertPoster } from '../discord/staff-alert-sender.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { startWorker, type Worker } from './worker.js';

/** One pass: posts due alerts to the channel; alerts stay pending while no channel is configured. */
export async function sendPendingStaffAlerts(
  db: Db,
  clock: Clock,
  client: Client,
  channelId: string | undefined,
  logger: Logger,
  options: { limit?: number } = {},
): Promise<number> {
  if (!channelId) return 0;
  const { handled, failed } = await deliverStaffAlerts(db, clock, createAlertPoster(client, channelId), options);
  for (const alert of failed) {
    logger.error({ alert: alert.id, kind: alert.kind, error: alert.lastError, channelId }, 'a staff alert could not be posted; check that the bot can send messages in ALERT_CHANNEL_ID');
  }
  return handled;
}

export interface StaffAlertWorkerOptions {
  db: Db;
  clock: Clock;
  client: Client;
  /** `config.alertChannelId`. */
  channelId: string | undefined;
  logger: Logger;
  intervalMs?: number;
}

/** Posts staff alerts in the background; `wake()` it after raising one. */
export function startStaffAlertWorker(options: StaffAlertWorkerOptions): Worker {
  if (!options.channelId) {
    options.logger.warn('ALERT_CHANNEL_ID (or DIGEST_CHANNEL_ID) is not set: staff alerts about roles and banned buyers are stored but not posted');
  }
  return startWorker({
    name: 'staff-alerts',
    logger: options.logger,
    intervalMs: options.intervalMs ?? 15_000,
    runOnce: () => (options.client.isReady() ? sendPendingStaffAlerts(options.db, options.clock, options.client, options.channelId, options.logger) : Promise.resolve(0)),
  });
}
