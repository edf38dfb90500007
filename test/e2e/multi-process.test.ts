import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployCommands } from '../../src/commands/deploy.js';
import { systemClock } from '../../src/shared/clock.js';
import { createWebhookEndpoint } from '../../src/domain/webhooks/endpoints.js';
import { startLocalDiscord, type LocalDiscord } from '../../src/sandbox/local-discord/index.js';
import { isPostgres, migrateToLatest, openStoreDatabase, type Db } from '../../src/store/database.js';
import { BotProcess, botProcessEnv, freePort, sendSignedEvent } from '../support/bot-process.js';
import { buyerOrderEventBody } from '../support/store-door.js';
import { onPostgres, testDatabaseUrl, withAdminClient } from '../support/database.js';

// Two real bot processes (the built `src/index.js`, as `npm start` runs it) on one database (a SQLite file in WAL
// mode, or with TEST_DATABASE_URL a PostgreSQL database of the test's own) and one local Discord.
// Purchases and refunds are sent to both; the process holding the Discord gateway is killed with
// SIGKILL a third of the way through. The survivor must take the gateway over,
// finish what the dead one had claimed, and leave Discord and the database exactly as the events
// say: nothing acknowledged lost, no role granted twice, every role change made.

const GUILD = '4500000000000000001';
const CHANNEL = '4500000000000000002';
const OWNER = '4500000000000000099';
const VIP = '4500000000000000010';
const PRODUCT = 5;
const SECRET = 'multi-process-secret';
const BUYERS = 120;

const buyerId = (buyer: number) => String(4500000000000100000n + BigInt(buyer));
const buyerEmail = (buyer: number) => `buyer${buyer}@multi.example.com`;
/** Every fourth buyer is refunded, so roles are taken as well as given. */
const refunded = (buyer: number) => buyer % 4 === 0;

function purchaseEvent(buyer: number, type: 'order.paid' | 'order.refunded'): { id: string; body: string } {
  const id = `evt_mp_${type === 'order.paid' ? 'p' : 'r'}${buyer}`;
  const buyerOf = { email: buyerEmail(buyer), name: `Buyer ${buyer}`, discordId: buyerId(buyer) };
  return { id, body: buyerOrderEventBody({ id, type, orderId: buyer + 1, orderNumber: `ORD-MP-${buyer + 1}`, total: '9.99', productId: PRODUCT, buyer: buyerOf }) };
}

/** Paid orders in buyer order, each refund some way after its payment. */
function planEvents(): { id: string; body: string }[] {
  const events: { id: string; body: string }[] = [];
  for (let buyer = 0; buyer < BUYERS; buyer++) {
    events.push(purchaseEvent(buyer, 'order.paid'));
    const late = buyer - 10;
    if (late >= 0 && refunded(late)) events.push(purchaseEvent(late, 'order.refunded'));
  }
  for (let buyer = BUYERS - 10; buyer < BUYERS; buyer++) if (refunded(buyer)) events.push(purchaseEvent(buyer, 'order.refunded'));
  return events;
}

const dialect = onPostgres ? 'PostgreSQL' : 'SQLite';

interface TestStore {
  /** DATABASE_URL for the bots: a SQLite file path or a postgres:// URL. */
  location: string;
  drop(): Promise<void>;
}

/**
 * A database of the test's own: a SQLite file in `dir`, or a new PostgreSQL database beside
 * TEST_DATABASE_URL's. Not a schema in that database as the store tests use: the bots connect
 * with DATABASE_URL alone and work in the default schema.
 */
async function createTestStore(dir: string): Promise<TestStore> {
  const adminUrl = testDatabaseUrl;
  if (adminUrl === undefined) return { location: join(dir, 'customers.db'), drop: () => Promise.resolve() };
  const name = `mp_${randomBytes(8).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    location: url.toString(),
    drop: () =>
      withAdminClient(adminUrl, async (client) => {
        // A SIGKILLed bot's sessions can outlive it for a moment; DROP DATABASE refuses while any remain.
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await client.query(`DROP DATABASE IF EXISTS ${name}`);
      }),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Waits until `read()` returns `wanted`; a deadline only against hanging, far beyond the need. */
async function waitUntil<T>(read: () => T | Promise<T>, wanted: T, what: string, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (last !== wanted) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${String(last)}, expected ${String(wanted)}`);
    await sleep(200);
    last = await read();
  }
}

function send(url: string, event: { body: string }): Promise<boolean> {
  return sendSignedEvent(url, SECRET, event.body);
}

/** The pid in a holder id (`host/pid-namespace/pid/random`). */
function pidOf(holder: string | undefined): number | undefined {
  const pid = holder?.split('/')[2];
  return pid === undefined ? undefined : Number(pid);
}

describe(`two bot processes on one ${dialect} database`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'multi-process-'));
  const logFile = join(dir, 'bots.log');
  const events = planEvents();
  const acknowledged = new Set<string>();
  const announced = new Map<string, number>();
  let store: TestStore | undefined;
  /** The test's own connection to the bots' database, for reading what they did. */
  let db: Db | undefined;
  let discord: LocalDiscord;
  let receiver: Server;
  let bots: [BotProcess, BotProcess];
  let gatewayHolderBeforeKill: number | undefined;
  let killed: BotProcess;
  let survivor: BotProcess;
  let answeredAfterKill: unknown;

  const reader = (): Db => {
    if (!db) throw new Error('the database was not set up');
    return db;
  };
  const gatewayHolderPid = async () => {
    const row = await reader().selectFrom('leases').select('holder').where('name', '=', 'gateway').executeTakeFirst();
    return pidOf(row?.holder);
  };
  const openWork = async () => {
    const count = async (query: Promise<{ n: number | string | bigint } | undefined>) => Number((await query)?.n ?? 0);
    const read = reader();
    return (
      (await count(read.selectFrom('inbound_events').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'pending').executeTakeFirst())) +
      (await count(read.selectFrom('role_jobs').select((eb) => eb.fn.countAll().as('n')).where('status', 'not in', ['done', 'superseded']).executeTakeFirst())) +
      (await count(read.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'pending').executeTakeFirst()))
    );
  };

  beforeAll(async () => {
    writeFileSync(join(dir, 'rules.json'), JSON.stringify({ rules: [{ product_id: PRODUCT, role_id: VIP }] }));
    receiver = createServer((req, res) => {
      const id = String(req.headers['webhook-id'] ?? '');
      req.resume();
      req.on('end', () => {
        announced.set(id, (announced.get(id) ?? 0) + 1);
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((ready) => receiver.listen(0, '127.0.0.1', ready));
    const receiverPort = (receiver.address() as { port: number }).port;

    discord = await startLocalDiscord({
      guilds: [
        {
          id: GUILD,
          name: 'Multi Store',
          ownerId: OWNER,
          roles: [{ id: VIP, name: 'VIP', position: 1 }],
          channels: [{ id: CHANNEL, name: 'general' }],
          members: [{ user: { id: OWNER, username: 'owner' }, roles: [] }, ...Array.from({ length: BUYERS }, (_, b) => ({ user: { id: buyerId(b), username: `buyer${b}` }, roles: [] }))],
        },
      ],
    });
    await deployCommands({ token: discord.token, apiUrl: discord.apiUrl, guildId: GUILD, applicationId: discord.applicationId });
    store = await createTestStore(dir);
    db = openStoreDatabase(store.location);
    await migrateToLatest(db);
    await createWebhookEndpoint(db, systemClock, { url: `http://127.0.0.1:${receiverPort}/hooks`, allowPrivate: true, actor: { id: 'test', name: 'test' } }, { allowPrivateGlobally: true });

    const location = store.location;
    const envFor = async (): Promise<Record<string, string>> =>
      botProcessEnv(
        { discord, guildId: GUILD, databaseUrl: location, port: await freePort(), storeWebhookSecret: SECRET, roleRulesFile: join(dir, 'rules.json') },
        { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', LOG_LEVEL: 'warn' },
      );
    bots = [new BotProcess(await envFor(), logFile, { name: 'a', logStdout: true }), new BotProcess(await envFor(), logFile, { name: 'b', logStdout: true })];
    // One after the other, so which one holds the gateway is known: the first.
    bots[0].start();
    await bots[0].waitForHealth();
    bots[1].start();
    await bots[1].waitForHealth();
    gatewayHolderBeforeKill = await gatewayHolderPid();
    const identifiesBeforeKill = discord.gatewayStats().identifies;
    [killed, survivor] = gatewayHolderBeforeKill === bots[1].pid ? [bots[1], bots[0]] : [bots[0], bots[1]];
    // Eight senders, alternating between the two processes; what is not acknowledged is sent
    // again to whichever process is up, as the store retries.
    const queue = events.map((event, i) => ({ event, turn: i }));
    const killAt = Math.floor(events.length / 3);
    let killing: Promise<void> | undefined;
    const sender = async () => {
      for (;;) {
        const next = queue.shift();
        if (!next) return;
        if (acknowledged.size >= killAt) killing ??= killed.kill('SIGKILL');
        const live = bots.filter((bot) => bot.alive);
        const target = live[next.turn % live.length] ?? survivor;
        if (await send(target.url, next.event)) acknowledged.add(next.event.id);
        else queue.push({ ...next, turn: next.turn + 1 });
      }
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    await killing;

    // The survivor logs in to Discord once it holds the gateway, then answers a slash command.
    await waitUntil(gatewayHolderPid, survivor.pid, 'the gateway holder');
    // Holding the lease comes before the login: an interaction sent before the survivor has
    // identified would go only to the dead session, as on Discord.
    await waitUntil(() => discord.gatewayStats().identifies > identifiesBeforeKill, true, 'the survivor identifying to the gateway');
    const handle = await discord.invokeSlash({ guildId: GUILD, channelId: CHANNEL, userId: OWNER, name: 'customer', subcommand: 'stats' });
    answeredAfterKill = await handle.settled(20_000);

    await waitUntil(openWork, 0, 'open queue rows');
  }, 120_000);

  afterAll(async () => {
    try {
      for (const bot of bots ?? []) await bot.kill('SIGKILL');
      await db?.destroy();
      await store?.drop();
      await discord?.stop();
      await new Promise<void>((done) => (receiver ? receiver.close(() => done()) : done()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const log = () => {
    try {
      return readFileSync(logFile, 'utf8').slice(-4000);
    } catch {
      return '';
    }
  };

  it(`keeps the store in ${dialect}, where both processes record their heartbeats`, async () => {
    expect(isPostgres(reader())).toBe(onPostgres);
    expect(existsSync(join(dir, 'customers.db'))).toBe(!onPostgres);
    // Read from the test's own connection: both bots wrote here, not to some other store.
    const heartbeats = await reader().selectFrom('leases').select('holder').where('name', 'like', 'process:%').execute();
    expect(new Set(heartbeats.map((row) => pidOf(row.holder)))).toEqual(new Set(bots.map((bot) => bot.pid)));
  });

  it('hands the Discord gateway to the surviving process, which answers a slash command after the kill', async () => {
    expect(gatewayHolderBeforeKill).toBe(killed.pid);
    expect(killed.alive).toBe(false);
    expect(await gatewayHolderPid()).toBe(survivor.pid);
    expect(answeredAfterKill, log()).toBeDefined();
  });

  it('loses no acknowledged event and processes every one exactly once', async () => {
    expect(acknowledged.size).toBe(events.length);
    const read = reader();
    const stored = new Map((await read.selectFrom('inbound_events').select(['id', 'status']).execute()).map((row) => [row.id, row.status]));
    const lost = [...acknowledged].filter((id) => stored.get(id) !== 'processed');
    expect(lost, log()).toEqual([]);
    const orders = await read.selectFrom('orders').select(['id', 'status']).execute();
    expect(orders).toHaveLength(BUYERS);
    for (const order of orders) expect(order.status).toBe(refunded(order.id - 1) ? 'refunded' : 'paid');
    const counts = await read.selectFrom('customers').select(['email', 'orders_count']).execute();
    expect(counts).toHaveLength(BUYERS);
    for (const customer of counts) expect(customer.orders_count).toBe(refunded(Number(/\d+/.exec(customer.email)?.[0])) ? 0 : 1);
  });
  it('grants no role twice and makes every role change', () => {
    const held = new Set<string>();
    const duplicates: string[] = [];
    let grants = 0;
    let removals = 0;
    for (const request of discord.requests) {
      const match = /^\/guilds\/\d+\/members\/(\d+)\/roles\/(\d+)$/.exec(request.path);
      if (!match || request.status < 200 || request.status >= 300) continue;
      const key = `${match[1]}:${match[2]}`;
      if (request.method === 'PUT') {
        grants++;
        if (held.has(key)) duplicates.push(key);
        held.add(key);
      } else if (request.method === 'DELETE') {
        // A DELETE of a role the member lacks is harmless (Discord answers 204): not counted.
        if (held.delete(key)) removals++;
      }
    }
    expect(duplicates).toEqual([]);
    // A refund that arrives before its grant was applied supersedes it, so removals may be few.
    expect(grants).toBeGreaterThanOrEqual(BUYERS - BUYERS / 4);
    expect(grants - removals).toBe(BUYERS - BUYERS / 4);
    const wrong = Array.from({ length: BUYERS }, (_, b) => b).filter((b) => discord.memberRoles(GUILD, buyerId(b)).includes(VIP) === refunded(b));
    expect(wrong, log()).toEqual([]);
  });

  it('drains every queue, outgoing webhooks included', async () => {
    expect(await openWork()).toBe(0);
    const deliveries = await reader()
      .selectFrom('webhook_deliveries')
      .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    expect(deliveries).toEqual([{ status: 'delivered', n: BUYERS }]);
    expect(announced.size).toBe(BUYERS);
  });
});
