import { loadConfig, type Config } from '../../src/config.js';
import type { ManualClock } from '../../src/shared/clock.js';
import type { CustomerLinkedChange, CustomerLinkedHook } from '../../src/domain/linking/link-account.js';
import { createLinkUrl } from '../../src/domain/linking/link-sessions.js';
import type { Customer } from '../../src/domain/customers/types.js';
import { createHttpApp, type HttpApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { findCustomerById } from '../../src/store/customer.repository.js';
import { insertCustomer } from '../../src/domain/customers/registration.js';
import type { Db } from '../../src/store/database.js';
import { startFakeDiscordOAuth, type FakeDiscordOAuth, type FakeDiscordUser } from './fake-discord-oauth.js';
import { startFakeSteam, type FakeSteam } from './fake-steam.js';
import { openTestContext } from './context.js';

export const APP_SECRET = 'test-app-secret-0123456789abcdef-0123456789';
export const ALICE_DISCORD: FakeDiscordUser = { id: '3100000000000000001', username: 'alice', avatar: 'a_0123456789abcdef0123456789abcdef' };
export const MALLORY_DISCORD: FakeDiscordUser = { id: '3100000000000000002', username: 'mallory', discriminator: '1337' };
export const ALICE_STEAM_ID = '76561198000000001';

export interface LinkHarness {
  app: HttpApp;
  db: Db;
  clock: ManualClock;
  config: Readonly<Config>;
  discord: FakeDiscordOAuth;
  steam: FakeSteam;
  /** Warnings and errors logged, one parsed JSON object each. */
  logs: Record<string, unknown>[];
  hookCalls: { customerId: number; change: CustomerLinkedChange }[];
  /** Replaces the hook the routes call (default: records into hookCalls). */
  setHook(hook: CustomerLinkedHook): void;
  alice: Customer;
  /** A fresh link URL for the customer, as the API hands it out. */
  linkUrl(customerId?: number): Promise<string>;
  /** A fresh link URL's path for the customer (`/link/<token>`). */
  linkPath(customerId?: number): Promise<string>;
  customer(id?: number): Promise<Customer>;
  /** The `reason` of every "refused" log line, in order. */
  refusals(): string[];
  close(): Promise<void>;
}

/** Path and query of an absolute URL, for app.inject. */
export function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

export async function startLinkHarness(options: { env?: Record<string, string>; publicUrl?: string; now?: string } = {}): Promise<LinkHarness> {
  const context = await openTestContext({ now: options.now });
  const { db, clock } = context;
  const publicUrl = options.publicUrl ?? 'http://localhost:3000';
  const discord = await startFakeDiscordOAuth({ users: [ALICE_DISCORD, MALLORY_DISCORD], registeredRedirectUri: `${publicUrl}/link/discord/callback` });
  const steam = await startFakeSteam({ now: () => clock.now(), signedInAs: ALICE_STEAM_ID });
  steam.profiles.set(ALICE_STEAM_ID, { personaname: 'AliceOnSteam', avatarhash: 'fe'.repeat(20) });
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    PUBLIC_URL: publicUrl,
    APP_SECRET,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_CLIENT_ID: discord.clientId,
    DISCORD_CLIENT_SECRET: discord.clientSecret,
    STEAM_OPENID_URL: steam.openIdUrl,
    STEAM_API_URL: steam.apiUrl,
    STEAM_API_KEY: steam.apiKey,
    ...options.env,
  });
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const hookCalls: LinkHarness['hookCalls'] = [];
  let hook: CustomerLinkedHook = (_trx, customerId, change) => {
    hookCalls.push({ customerId, change });
    return Promise.resolve();
  };
  const app = await createHttpApp({
    db,
    clock,
    config,
    logger,
    wake: { inboundEvents: () => {}, webhookDeliveries: () => {} },
    onCustomerLinked: (trx, customerId, change) => hook(trx, customerId, change),
  });
  await app.ready();
  const alice = await insertCustomer(db, clock, { name: 'Alice Johnson', email: 'alice@example.com' });
  const linkUrl = async (customerId = alice.id): Promise<string> =>
    (await createLinkUrl(db, clock, { customerId, publicUrl: config.publicUrl, appSecret: config.appSecret })).url;

  return {
    app,
    db,
    clock,
    config,
    discord,
    steam,
    logs,
    hookCalls,
    setHook: (next) => {
      hook = next;
    },
    alice,
    linkUrl,
    linkPath: async (customerId = alice.id) => pathOf(await linkUrl(customerId)),
    customer: async (id = alice.id) => {
      const found = await findCustomerById(db, id);
      if (!found) throw new Error(`no customer ${id}`);
      return found;
    },
    refusals: () => logs.filter((l) => typeof l.reason === 'string').map((l) => l.reason as string),
    close: async () => {
      await app.close();
      await discord.close();
      await steam.close();
      await context.close();
    },
  };
}

/** A page's HTML with the entities the pages use decoded, to compare with the text a person reads. */
export function pageText(html: string): string {
  return html.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
