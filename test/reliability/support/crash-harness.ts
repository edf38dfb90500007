import Database from 'better-sqlite3';
import { readWaitingIntake } from '../../../src/store/purchase-event-intake.js';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../src/shared/clock.js';
import { createWebhookEndpoint } from '../../../src/domain/webhooks/endpoints.js';
import { startLocalDiscord, type LocalDiscord } from '../../../src/sandbox/local-discord/index.js';
import { openMigratedDatabase } from '../../../src/store/database.js';
import { BotProcess, botProcessEnv, freePort, sendSignedEvent } from '../../support/bot-process.js';
import { buyerOrderEventBody } from '../../support/store-door.js';
import { seededRandom, shuffle } from './random.js';

// Crash consistency, end to end: the real bot as a child process (the built `src/index.js`, as `npm start` runs it,
// a SQLite file, a local Discord, a local customer.created receiver) is sent a burst of signed
// purchase events (orders and refunds) while it is killed with SIGKILL at random moments and
// restarted; the sender retries whatever was not acknowledged, as the store does, and sends some
// acknowledged events again. When everything has drained, an oracle compares the database,
// Discord and the receiver with what the events say must be true.

const GUILD = '4400000000000000001';
const VIP = '4400000000000000010';
const PRODUCT = 5;
const SECRET = 'crash-harness-secret';
const PRICE_CENTS = 999;

export interface CrashTrialOptions {
  /** Purchase events in the burst (orders and refunds), before duplicates and retries. */
  events: number;
  /** SIGKILLs during the trial, at random moments: during the burst and while the queues drain. */
  kills: number;
  seed: number;
  /** Concurrent sender connections (the store delivers in parallel). */
  senders?: number;
  /** Share of acknowledged events sent a second time. */
  duplicateRate?: number;
  /** How long the queues may take to drain after the last acknowledgement. */
  drainTimeoutMs?: number;
  /** Keep the trial's directory (database, bot log) for a post-mortem. */
  keepDir?: boolean;
}

/** What the oracle found; every count must be 0 (and integrity "ok") for the trial to pass. */
export interface CrashViolations {
  acknowledgedLost: number;
  eventsNotProcessed: number;
  wrongOrderStatus: number;
  wrongAggregates: number;
  duplicateGrants: number;
  missingRoleChanges: number;
  openRoleJobs: number;
  outboxNotDrained: number;
  customersNeverAnnounced: number;
  badWebhookSignatures: number;
  neverAcknowledged: number;
  integrity: string;
}

export interface CrashTrialResult {
  seed: number;
  events: number;
  orders: number;
  refunds: number;
  buyers: number;
  kills: number;
  /** Kills that landed after the last acknowledgement (while the queues drained). */
  killsWhileDraining: number;
  acknowledged: number;
  duplicatesSent: number;
  retriesSent: number;
  roleGrants: number;
  roleRemovals: number;
  /** DELETEs of a role the member did not hold: harmless (Discord answers 204), counted for the record. */
  redundantRemovals: number;
  webhookDeliveriesReceived: number;
  /** customer.created received more than once (at-least-once delivery), counted for the record. */
  webhookRedeliveries: number;
  durationMs: number;
  violations: CrashViolations;
  /** Short descriptions of the first problems found, for a failure message. */
  problems: string[];
  dir: string;
}

interface PlannedOrder {
  id: number;
  buyer: number;
  refunded: boolean;
}

interface PlannedEvent {
  id: string;
  body: string;
}

function buyerDiscordId(buyer: number): string {
  return String(4400000000000100000n + BigInt(buyer));
}

function buyerEmail(buyer: number): string {
  return `buyer${buyer}@crash.example.com`;
}

/**
 * Orders spread over buyers so that removals happen: half the buyers buy once (and half of those
 * are refunded, so the role comes and goes), the others buy many times with some refunds.
 */
function planTrial(events: number, random: () => number, trial: number): { orders: PlannedOrder[]; sequence: PlannedEvent[]; buyers: number } {
  const buyers = Math.max(4, Math.round(events / 25));
  const singles = Math.floor(buyers / 2);
  const orders: PlannedOrder[] = [];
  let count = 0;
  let nextOrderId = 1;
  for (let b = 0; b < singles && count < events; b++) {
    const refunded = random() < 0.5 && count + 2 <= events;
    orders.push({ id: nextOrderId++, buyer: b, refunded });
    count += refunded ? 2 : 1;
  }
  while (count < events) {
    const buyer = singles + Math.floor(random() * (buyers - singles));
    const refunded = random() < 0.2 && count + 2 <= events;
    orders.push({ id: nextOrderId++, buyer, refunded });
    count += refunded ? 2 : 1;
  }

  // Each refund is sent some time after its payment; in between, other buyers' events interleave.
  // Half the refunds come at the end, when their grants have long been applied: real removals.
  const sequence: PlannedEvent[] = [];
  const pendingRefunds: PlannedOrder[] = [];
  const lateRefunds: PlannedOrder[] = [];
  const shuffled = shuffle(random, orders);
  for (const order of shuffled) {
    sequence.push(orderEvent(trial, order, 'order.paid'));
    if (order.refunded) (random() < 0.5 ? lateRefunds : pendingRefunds).push(order);
    while (pendingRefunds.length > 0 && random() < 0.3) {
      const index = Math.floor(random() * pendingRefunds.length);
      const [refund] = pendingRefunds.splice(index, 1);
      if (refund) sequence.push(orderEvent(trial, refund, 'order.refunded'));
    }
  }
  for (const refund of [...pendingRefunds, ...lateRefunds]) sequence.push(orderEvent(trial, refund, 'order.refunded'));
  return { orders, sequence, buyers };
}

function orderEvent(trial: number, order: PlannedOrder, type: 'order.paid' | 'order.refunded'): PlannedEvent {
  const id = `evt_t${trial}_${type === 'order.paid' ? 'p' : 'r'}${order.id}`;
  const buyer = { email: buyerEmail(order.buyer), name: `Buyer ${order.buyer}`, discordId: buyerDiscordId(order.buyer) };
  return { id, body: buyerOrderEventBody({ id, type, orderId: order.id, orderNumber: `ORD-CRASH-${order.id}`, total: (PRICE_CENTS / 100).toFixed(2), productId: PRODUCT, buyer }) };
}

interface Receiver {
  url: string;
  /** webhook-id → how many times it arrived. */
  received: Map<string, number>;
  emails: Set<string>;
  badSignatures: number;
  close(): Promise<void>;
}

/** A customer.created receiver on loopback that checks every signature and always answers 200. */
async function startReceiver(secret: () => string): Promise<Receiver> {
  const received = new Map<string, number>();
  const emails = new Set<string>();
  const state = { badSignatures: 0 };
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const expected = createHmac('sha256', secret()).update(body, 'utf8').digest('hex');
      if (req.headers['x-pixlpay-signature'] !== expected) state.badSignatures++;
      const id = String(req.headers['webhook-id'] ?? '');
      received.set(id, (received.get(id) ?? 0) + 1);
      try {
        const email = (JSON.parse(body) as { data?: { customer?: { email?: string } } }).data?.customer?.email;
        if (email) emails.add(email);
      } catch {
        state.badSignatures++;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    emails,
    get badSignatures() {
      return state.badSignatures;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function send(url: string, event: PlannedEvent): Promise<boolean> {
  return sendSignedEvent(url, SECRET, event.body);
}

/** Runs one trial and returns its figures; it throws only when the set-up itself fails. */
export async function runCrashTrial(options: CrashTrialOptions): Promise<CrashTrialResult> {
  const started = Date.now();
  const random = seededRandom(options.seed);
  const dir = mkdtempSync(join(tmpdir(), 'crash-trial-'));
  const dbPath = join(dir, 'customers.db');
  const { orders, sequence, buyers } = planTrial(options.events, random, options.seed);

  writeFileSync(join(dir, 'rules.json'), JSON.stringify({ rules: [{ product_id: PRODUCT, role_id: VIP }] }));
  let endpointSecret = '';
  const receiver = await startReceiver(() => endpointSecret);
  const discord: LocalDiscord = await startLocalDiscord({
    guilds: [
      {
        id: GUILD,
        name: 'Crash Store',
        ownerId: '4400000000000000099',
        roles: [{ id: VIP, name: 'VIP', position: 1 }],
        channels: [{ id: '4400000000000000002', name: 'general' }],
        members: Array.from({ length: buyers }, (_, b) => ({ user: { id: buyerDiscordId(b), username: `buyer${b}` }, roles: [] })),
      },
    ],
  });
  {
    const { db } = await openMigratedDatabase(dbPath);
    const created = await createWebhookEndpoint(db, systemClock, { url: receiver.url, allowPrivate: true, actor: { id: 'harness', name: 'harness' } }, { allowPrivateGlobally: true });
    endpointSecret = created.secret;
    await db.destroy();
  }

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const bot = new BotProcess(
    botProcessEnv(
      { discord, guildId: GUILD, databaseUrl: dbPath, port, storeWebhookSecret: SECRET, roleRulesFile: join(dir, 'rules.json') },
      { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', LOG_LEVEL: 'error' },
    ),
    join(dir, 'bot-stderr.log'),
  );

  const acknowledged = new Set<string>();
  const byId = new Map(sequence.map((e) => [e.id, e]));
  let duplicatesSent = 0;
  let retriesSent = 0;
  let kills = 0;
  let killsWhileDraining = 0;
  let allAcknowledgedAt: number | undefined;
  // Kill moments: a fraction of the burst (by acknowledged count), or past 1 while draining.
  const killPoints = Array.from({ length: options.kills }, () => random() * 1.25).sort((a, b) => a - b);

  try {
    bot.start();
    await bot.waitForHealth();

    let restarting: Promise<void> | undefined;
    const killAndRestart = (): Promise<void> => {
      restarting ??= (async () => {
        await bot.kill('SIGKILL');
        kills++;
        // The supervisor (systemd, Docker) restarts it at once.
        bot.start();
        await bot.waitForHealth();
      })().finally(() => {
        restarting = undefined;
      });
      return restarting;
    };

    const queue = sequence.map((e) => e.id);
    const duplicates: string[] = [];
    const sender = async () => {
      const attempts = new Map<string, number>();
      let failuresInARow = 0;
      for (;;) {
        const id = queue.shift() ?? duplicates.shift();
        if (id === undefined) {
          if (acknowledged.size >= sequence.length) return;
          await sleep(20);
          continue;
        }
        const event = byId.get(id);
        if (!event) continue;
        const isDuplicate = acknowledged.has(id);
        if (isDuplicate) duplicatesSent++;
        if (await send(url, event)) {
          failuresInARow = 0;
          if (!isDuplicate) {
            acknowledged.add(id);
            if (random() < (options.duplicateRate ?? 0.03)) duplicates.push(id);
          }
        } else if (!isDuplicate) {
          // Like the store: not acknowledged, so it is sent again (here after a short pause).
          const tries = (attempts.get(id) ?? 0) + 1;
          attempts.set(id, tries);
          if (tries > 200) continue;
          retriesSent++;
          failuresInARow++;
          queue.push(id);
          // The bot is down or restarting: back off instead of spinning through the queue.
          await sleep(Math.min(500, 25 * failuresInARow));
        }
      }
    };

    const killer = async () => {
      for (const point of killPoints) {
        if (point < 1) {
          const target = Math.max(1, Math.floor(point * sequence.length));
          while (acknowledged.size < target) await sleep(2);
        } else {
          while (acknowledged.size < sequence.length) await sleep(5);
          allAcknowledgedAt ??= Date.now();
          const delay = (point - 1) * 4 * 2_000;
          const due = allAcknowledgedAt + delay;
          if (due > Date.now()) await sleep(due - Date.now());
          killsWhileDraining++;
        }
        await killAndRestart();
      }
    };

    await Promise.all([...Array.from({ length: options.senders ?? 8 }, sender), killer()]);
    allAcknowledgedAt ??= Date.now();
    if (restarting) await restarting;

    // Let the queues drain: every event processed, every role job closed, every delivery made.
    const drainDeadline = Date.now() + (options.drainTimeoutMs ?? 120_000 + options.events * 20);
    const reader = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      reader.pragma('busy_timeout = 5000');
      for (;;) {
        const pendingEvents = (reader.prepare("select count(*) as n from inbound_events where status = 'pending'").get() as { n: number }).n;
        const openJobs = (reader.prepare("select count(*) as n from role_jobs where status in ('pending', 'waiting_member', 'needs_attention')").get() as { n: number }).n;
        const pendingDeliveries = (reader.prepare("select count(*) as n from webhook_deliveries where status = 'pending'").get() as { n: number }).n;
        // Acknowledged but not yet moved into the store by the events thread.
        const waiting = readWaitingIntake(dbPath).length;
        if (pendingEvents + openJobs + pendingDeliveries + waiting === 0) break;
        if (Date.now() > drainDeadline) break;
        await sleep(200);
      }
    } finally {
      reader.close();
    }
    await bot.kill('SIGTERM');

    return {
      ...checkOracle({ dbPath, orders, sequence, acknowledged, discord, receiver, buyers }),
      seed: options.seed,
      events: sequence.length,
      orders: orders.length,
      refunds: orders.filter((o) => o.refunded).length,
      buyers,
      kills,
      killsWhileDraining,
      acknowledged: acknowledged.size,
      duplicatesSent,
      retriesSent,
      durationMs: Date.now() - started,
      dir,
    };
  } finally {
    await bot.kill('SIGKILL');
    await receiver.close();
    await discord.stop();
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

interface OracleInput {
  dbPath: string;
  orders: PlannedOrder[];
  sequence: PlannedEvent[];
  acknowledged: Set<string>;
  discord: LocalDiscord;
  receiver: Receiver;
  buyers: number;
}

type OracleFigures = Pick<
  CrashTrialResult,
  'violations' | 'problems' | 'roleGrants' | 'roleRemovals' | 'redundantRemovals' | 'webhookDeliveriesReceived' | 'webhookRedeliveries'
>;

function checkOracle(input: OracleInput): OracleFigures {
  const problems: string[] = [];
  const note = (text: string) => {
    if (problems.length < 20) problems.push(text);
  };
  const db = new Database(input.dbPath, { readonly: true, fileMustExist: true });
  try {
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    const events = new Map((db.prepare('select id, status from inbound_events').all() as { id: string; status: string }[]).map((e) => [e.id, e.status]));

    let acknowledgedLost = 0;
    for (const id of input.acknowledged) {
      if (!events.has(id)) {
        acknowledgedLost++;
        note(`acknowledged event ${id} is not stored`);
      }
    }
    let eventsNotProcessed = 0;
    for (const [id, status] of events) {
      if (status !== 'processed') {
        eventsNotProcessed++;
        note(`event ${id} is ${status}`);
      }
    }
    const neverAcknowledged = input.sequence.filter((e) => !input.acknowledged.has(e.id)).length;

    // Orders and aggregates: every order stored once, refunded exactly when a refund was sent.
    const stored = new Map((db.prepare('select id, status, customer_id, total_cents from orders').all() as { id: number; status: string; customer_id: number; total_cents: number }[]).map((o) => [o.id, o]));
    let wrongOrderStatus = 0;
    for (const order of input.orders) {
      const row = stored.get(order.id);
      const expected = order.refunded ? 'refunded' : 'paid';
      if (row?.status !== expected) {
        wrongOrderStatus++;
        note(`order ${order.id} is ${row?.status ?? 'missing'}, expected ${expected}`);
      }
    }
    if (stored.size !== input.orders.length) {
      wrongOrderStatus += Math.abs(stored.size - input.orders.length);
      note(`${stored.size} orders stored, ${input.orders.length} expected`);
    }
    const expectedCount = new Map<number, number>();
    for (const order of input.orders) if (!order.refunded) expectedCount.set(order.buyer, (expectedCount.get(order.buyer) ?? 0) + 1);
    const customers = db.prepare('select email, orders_count, total_spent_cents, discord_id from customers').all() as {
      email: string;
      orders_count: number;
      total_spent_cents: number;
      discord_id: string | null;
    }[];
    const byEmail = new Map(customers.map((c) => [c.email, c]));
    let wrongAggregates = 0;
    const buyersSeen = new Set(input.orders.map((o) => o.buyer));
    for (const buyer of buyersSeen) {
      const customer = byEmail.get(buyerEmail(buyer));
      const count = expectedCount.get(buyer) ?? 0;
      if (!customer || customer.orders_count !== count || customer.total_spent_cents !== count * PRICE_CENTS || customer.discord_id !== buyerDiscordId(buyer)) {
        wrongAggregates++;
        note(`buyer ${buyer}: ${JSON.stringify(customer)} but expected ${count} orders`);
      }
    }
    if (customers.length !== buyersSeen.size) {
      wrongAggregates += Math.abs(customers.length - buyersSeen.size);
      note(`${customers.length} customers, ${buyersSeen.size} expected`);
    }

    // Roles: replay what Discord applied, member by member, in the order it applied it.
    const held = new Set<string>();
    let duplicateGrants = 0;
    let redundantRemovals = 0;
    let roleGrants = 0;
    let roleRemovals = 0;
    for (const request of input.discord.requests) {
      const match = /^\/guilds\/(\d+)\/members\/(\d+)\/roles\/(\d+)$/.exec(request.path);
      if (!match || request.status < 200 || request.status >= 300) continue;
      const key = `${match[2]}:${match[3]}`;
      if (request.method === 'PUT') {
        roleGrants++;
        if (held.has(key)) {
          duplicateGrants++;
          note(`role granted twice to ${key}`);
        }
        held.add(key);
      } else if (request.method === 'DELETE') {
        roleRemovals++;
        if (!held.has(key)) redundantRemovals++;
        held.delete(key);
      }
    }
    let missingRoleChanges = 0;
    for (let buyer = 0; buyer < input.buyers; buyer++) {
      const should = (expectedCount.get(buyer) ?? 0) > 0;
      const has = input.discord.memberRoles(GUILD, buyerDiscordId(buyer)).includes(VIP);
      if (should !== has) {
        missingRoleChanges++;
        note(`buyer ${buyer} ${has ? 'holds' : 'lacks'} VIP, expected the opposite`);
      }
    }
    const openRoleJobs = (db.prepare("select count(*) as n from role_jobs where status not in ('done', 'superseded')").get() as { n: number }).n;
    if (openRoleJobs > 0) note(`${openRoleJobs} role jobs not done: ${JSON.stringify(db.prepare("select id, status, last_error from role_jobs where status not in ('done', 'superseded') limit 3").all())}`);

    // The outbox: every customer announced once at least, every delivery delivered.
    const outboxNotDrained = (db.prepare("select count(*) as n from webhook_deliveries where status != 'delivered'").get() as { n: number }).n;
    if (outboxNotDrained > 0) note(`${outboxNotDrained} webhook deliveries not delivered`);
    let customersNeverAnnounced = 0;
    for (const buyer of buyersSeen) {
      if (!input.receiver.emails.has(buyerEmail(buyer))) {
        customersNeverAnnounced++;
        note(`customer.created never arrived for buyer ${buyer}`);
      }
    }
    const webhookDeliveriesReceived = [...input.receiver.received.values()].reduce((a, b) => a + b, 0);

    return {
      violations: {
        acknowledgedLost,
        eventsNotProcessed,
        wrongOrderStatus,
        wrongAggregates,
        duplicateGrants,
        missingRoleChanges,
        openRoleJobs,
        outboxNotDrained,
        customersNeverAnnounced,
        badWebhookSignatures: input.receiver.badSignatures,
        neverAcknowledged,
        integrity,
      },
      problems,
      roleGrants,
      roleRemovals,
      redundantRemovals,
      webhookDeliveriesReceived,
      webhookRedeliveries: webhookDeliveriesReceived - input.receiver.received.size,
    };
  } finally {
    db.close();
  }
}

/** True when the oracle found nothing wrong. */
export function trialPassed(result: CrashTrialResult): boolean {
  const { integrity, ...counts } = result.violations;
  return integrity === 'ok' && Object.values(counts).every((n) => n === 0);
}

/** The bot's stderr of a kept trial directory, for a failure message. */
export function botLog(result: CrashTrialResult): string {
  try {
    return readFileSync(join(result.dir, 'bot-stderr.log'), 'utf8').slice(-4000);
  } catch {
    return '';
  }
}
