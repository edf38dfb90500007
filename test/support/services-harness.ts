import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { systemClock, type ManualClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/logger.js';
import { startLocalDiscord, type LocalDiscord, type LocalRoleSeed } from '../../src/sandbox/local-discord/index.js';
import { startServices, type RunningServices } from '../../src/services.js';
import type { Db } from '../../src/store/database.js';
import { openTestContext } from './context.js';
import { signedEventHeaders } from './store-door.js';

export const SHOP_GUILD_ID = '3300000000000000001';
export const SHOP_CHANNEL_ID = '3300000000000000002';
export const ALERT_CHANNEL_ID = '3300000000000000003';
export const VIP_ROLE_ID = '3300000000000000010';
export const SUPPORTER_ROLE_ID = '3300000000000000011';
export const VIP_PRODUCT_ID = 5;
export const SUPPORTER_PRODUCT_ID = 7;
export const WEBHOOK_SECRET = 'store-webhook-secret-for-tests';
export const BUYER_IDS = ['3300000000000000100', '3300000000000000101', '3300000000000000102'] as const;

export interface ShopHarness {
  discord: LocalDiscord;
  services: RunningServices;
  db: Db;
  /** The services' clock; with `eventsThread` they run on the system clock (the thread has no other) and this one is idle. */
  clock: ManualClock;
  logs: Record<string, unknown>[];
  /** Posts a signed purchase event to the listener, as the store's checkout does. */
  send(event: Record<string, unknown>): Promise<{ status: number; body: string }>;
  /** Role PUT/DELETE calls the local Discord received for one member and role. */
  roleCalls(userId: string, roleId?: string): { method: string; status: number; reason: string | null }[];
  stop(): Promise<void>;
}

/**
 * The whole bot in this process (Discord client, HTTP app, workers) against a local Discord,
 * with one role rule per product: the path a real purchase takes, minus the network to Discord.
 */
export async function startShop(
  options: {
    env?: Record<string, string>;
    members?: readonly string[];
    now?: string;
    /** A SQLite file in the test's folder, with purchase events applied on their own thread (as the bot runs). */
    eventsThread?: boolean;
    /** With eventsThread: this store file instead of a new one. */
    databasePath?: string;
    /** More guild roles besides Supporter and VIP. */
    roles?: LocalRoleSeed[];
  } = {},
): Promise<ShopHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'shop-test-'));
  const rulesFile = join(dir, 'role-rules.json');
  writeFileSync(
    rulesFile,
    JSON.stringify({
      rules: [
        { product_id: VIP_PRODUCT_ID, role_id: VIP_ROLE_ID },
        { product_id: SUPPORTER_PRODUCT_ID, role_id: SUPPORTER_ROLE_ID, grace_period_hours: 72 },
      ],
    }),
  );
  const databasePath = options.databasePath ?? join(dir, 'store.db');
  const context = await openTestContext({ now: options.now ?? new Date(), ...(options.eventsThread ? { databasePath } : {}) });
  const { db, clock } = context;
  const config = loadConfig({
    ...(options.eventsThread ? { DATABASE_URL: databasePath } : {}),
    LOG_LEVEL: 'warn',
    STORE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ROLE_RULES_FILE: rulesFile,
    ALERT_CHANNEL_ID,
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    ...options.env,
  });
  const discord = await startLocalDiscord({
    guilds: [
      {
        id: SHOP_GUILD_ID,
        name: 'Shop',
        ownerId: '3300000000000000099',
        roles: [
          { id: SUPPORTER_ROLE_ID, name: 'Supporter', position: 1 },
          { id: VIP_ROLE_ID, name: 'VIP', position: 2 },
          ...(options.roles ?? []),
        ],
        channels: [
          { id: SHOP_CHANNEL_ID, name: 'general' },
          { id: ALERT_CHANNEL_ID, name: 'staff-alerts' },
        ],
        members: (options.members ?? BUYER_IDS).map((id, i) => ({ user: { id, username: `buyer${i}` }, roles: [] })),
      },
    ],
  });
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger('warn', { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const services = await startServices({
    db,
    clock: options.eventsThread ? systemClock : clock,
    config,
    logger,
    tempDir: dir,
    discord: { token: discord.token, apiUrl: discord.apiUrl, guildId: SHOP_GUILD_ID },
    listen: false,
    // The events thread ends after 300 ms without work, so the tests also cover starting it again.
    intervals: { inbound: 50, inboundIdle: 300, roles: 50, webhooks: 50, alerts: 50, sweep: 60_000 },
    ...(options.eventsThread ? { inboundEvents: 'thread' as const } : {}),
  });
  return {
    discord,
    services,
    db,
    clock,
    logs,
    async send(event) {
      const body = JSON.stringify(event);
      const response = await services.http.inject({ method: 'POST', url: '/webhooks/store', headers: signedEventHeaders(WEBHOOK_SECRET, body), payload: body });
      return { status: response.statusCode, body: response.body };
    },
    roleCalls(userId, roleId = VIP_ROLE_ID) {
      return discord.requests
        .filter((r) => (r.method === 'PUT' || r.method === 'DELETE') && r.path === `/guilds/${SHOP_GUILD_ID}/members/${userId}/roles/${roleId}`)
        .map((r) => ({ method: r.method, status: r.status, reason: r.auditLogReason }));
    },
    async stop() {
      await services.stop();
      await discord.stop();
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let nextId = 5000;

/** A canonical `order.*` event for one buyer and product. */
export function orderEvent(
  type: string,
  order: { id: number; email: string; discordId?: string; productId?: number; total?: string },
  eventId = `evt_${nextId++}`,
): Record<string, unknown> {
  return {
    id: eventId,
    event_type: type,
    created_at: new Date().toISOString(),
    data: {
      id: order.id,
      order_number: `ORD-2026-${order.id}`,
      status: type === 'order.refunded' ? 'refunded' : 'completed',
      total: order.total ?? '29.99',
      currency: 'USD',
      customer: { id: order.id + 100_000, email: order.email, name: order.email.split('@')[0], ...(order.discordId ? { discord_id: order.discordId } : {}) },
      items: [{ product_id: order.productId ?? VIP_PRODUCT_ID, product_name: 'VIP Rank', quantity: 1, price: order.total ?? '29.99' }],
      created_at: new Date().toISOString(),
      completed_at: new Date().toISOString(),
    },
  };
}
