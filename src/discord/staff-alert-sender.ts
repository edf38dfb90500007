import { DiscordAPIError, Routes, type Client } from 'discord.js';
import type { Clock } from '../shared/clock.js';
import { deliverStaffAlerts, type AlertPostResult, type StaffAlert } from '../domain/staff-alerts.js';
import { startWorker, type Worker } from '../jobs/worker.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';

/**
 * Posts one alert as a plain message. Mentions render (a role shows as @VIP) but never ping:
 * an alert about a role must not notify everyone who holds it.
 */
export function createAlertPoster(client: Client, channelId: string): (alert: StaffAlert) => Promise<AlertPostResult> {
  return async (alert) => {
    try {
      await client.rest.post(Routes.channelMessages(channelId), { body: { content: alert.message, allowed_mentions: { parse: [] } } });
      return { ok: true };
    } catch (error) {
      if (error instanceof DiscordAPIError) return { ok: false, error: `Discord answered ${error.status} (${String(error.code)}): ${error.message}` };
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  };
}

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
