import { Routes, type Client } from 'discord.js';
import { DiscordAPIError } from './rest.js';
import type { AlertPostResult, StaffAlert } from '../domain/alerts/staff-alerts.js';

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
