/**
 * Builds a realistic store for the benchmarks, deterministically from a seed, through the store's
 * own code: insertCustomers and insertOrders (the bulk paths, with their validation, the search
 * index triggers and the per-customer aggregates), applyPurchaseEvent for subscriptions and
 * support tickets, createBan and addNote for bans and notes.
 *
 *   npm run bench:data -- --customers 1000000 --orders 5000000 [--out data/bench.db] [--seed 1]
 */
import type SQLite from 'better-sqlite3';
import { existsSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { applyPurchaseEvent, type PurchaseEventHooks } from '../src/domain/purchases/apply.js';
import { createBan } from '../src/domain/bans/bans.js';
import { ManualClock } from '../src/shared/clock.js';
import { addNote } from '../src/domain/customers/notes.js';
import { hashPassword } from '../src/domain/customers/passwords.js';
import type { PurchaseEvent } from '../src/domain/purchases/parse.js';
import { insertCustomers, type NewCustomerInput } from '../src/domain/customers/registration.js';
import { openMigratedDatabase, type Db } from '../src/store/database.js';
import { insertOrders, type OrderInput } from '../src/store/order.repository.js';
import { BENCH_NOW, generateCustomer, type GeneratedCustomer, generateOrders, orderCounts, SUBSCRIPTION_PRODUCTS } from './lib/fixture.js';
import { Rng } from './lib/rng.js';

export interface GenerateOptions {
  customers: number;
  orders: number;
  out: string;
  seed: number;
  /** Progress lines; silent when absent. */
  log?: (line: string) => void;
}

export interface GenerateSummary {
  customers: number;
  orders: number;
  subscriptions: number;
  tickets: number;
  bans: number;
  notes: number;
  seconds: number;
}

const CUSTOMER_BATCH = 5_000;
const ORDER_BATCH = 8_000;
const NO_HOOKS: PurchaseEventHooks = { customerChanged: () => Promise.resolve(), customerCreated: () => Promise.resolve() };
const STAFF = { id: '2200000000000000100', name: 'Bench Staff' };

export async function generateStore(options: GenerateOptions): Promise<GenerateSummary> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${options.out}${suffix}`, { force: true });
  const { db, sqlite } = await openMigratedDatabase(options.out);
  // A build, not a live store: a page cache that holds the growing indexes, and no write-ahead
  // log or fsync (a crash midway just means building again). The file is left in WAL mode, as
  // the bot runs it.
  sqlite.pragma('cache_size = -2097152');
  sqlite.pragma('synchronous = OFF');
  sqlite.pragma('journal_mode = MEMORY');
  const deferred = deferSecondaryIndexes(sqlite);
  setSearchIndexLoading(sqlite, true);
  const clock = new ManualClock(BENCH_NOW);
  const passwordHash = await hashPassword('correct horse battery staple');
  const counts = orderCounts(options.seed, options.customers, options.orders);
  const taken = new Set<string>();
  const emails: string[] = [];
  let nextOrderId = 1;
  let lastReport = 0;

  for (let start = 0; start < options.customers; start += CUSTOMER_BATCH) {
    const end = Math.min(options.customers, start + CUSTOMER_BATCH);
    const generated: GeneratedCustomer[] = [];
    for (let i = start; i < end; i++) generated.push(generateCustomer(options.seed, i, options.customers, taken, start, passwordHash));
    await db.transaction().execute(async (trx) => {
      const inputs: NewCustomerInput[] = generated.map((g) => g.input);
      const customers = await insertCustomers(trx, clock, inputs);
      let orders: OrderInput[] = [];
      for (let k = 0; k < customers.length; k++) {
        const customer = customers[k];
        const g = generated[k];
        if (!customer || !g) continue;
        emails.push(customer.email);
        const count = counts[start + k] ?? 0;
        orders.push(...generateOrders(options.seed, start + k, customer.id, g.createdAtMs, count, nextOrderId));
        nextOrderId += count;
        if (orders.length >= ORDER_BATCH) {
          await insertOrders(trx, clock, orders);
          orders = [];
        }
      }
      await insertOrders(trx, clock, orders);
    });
    if (end - lastReport >= options.customers / 10 || end === options.customers) {
      lastReport = end;
      log(`  ${end.toLocaleString('en-US')} customers, ${(nextOrderId - 1).toLocaleString('en-US')} orders (${seconds(started)} s)`);
    }
  }
  taken.clear();
  const indexStarted = performance.now();
  for (const index of deferred) sqlite.exec(index.sql);
  setSearchIndexLoading(sqlite, false);
  log(`  ${deferred.length} secondary indexes built and the search indexes merged in ${seconds(indexStarted)} s (${seconds(started)} s)`);

  const rng = new Rng(options.seed * 31 + 5);
  const extras = await addExtras(db, clock, rng, options.customers, emails, nextOrderId);
  log(`  ${extras.subscriptions} subscriptions, ${extras.tickets} tickets, ${extras.bans} bans, ${extras.notes} notes (${seconds(started)} s)`);

  sqlite.pragma('journal_mode = WAL');
  await db.destroy();
  return { customers: options.customers, orders: nextOrderId - 1, ...extras, seconds: (performance.now() - started) / 1000 };
}

/**
 * The secondary indexes of customers, orders and items are dropped for the bulk load and built
 * again, with the migrations' own definitions, once the rows are in: SQLite then builds each
 * from sorted keys instead of updating it row by row (and every aggregate update moved a
 * customer's entries in six of them). Kept: the unique constraints, which the store's checks
 * rely on, and orders by customer, which every batch's aggregate pass reads.
 */
function deferSecondaryIndexes(sqlite: SQLite.Database): Array<{ name: string; sql: string }> {
  const indexes = sqlite
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('customers', 'orders', 'order_items') AND name <> 'orders_customer'")
    .all() as Array<{ name: string; sql: string }>;
  for (const index of indexes) sqlite.exec(`DROP INDEX "${index.name}"`);
  return indexes;
}

const SEARCH_INDEXES = ['customer_search', 'customer_grams'] as const;

/**
 * The two full-text indexes the customer triggers feed, set for a bulk load: terms gather in a
 * 64 MB in-memory table before each flush (1 MB by default) and segments are not merged while
 * rows arrive; at the end they are merged once ('optimize') and FTS5's defaults come back, as
 * the bot runs them. Measured at 200,000 customers: 17.3 s → 15.3 s, merge included.
 */
function setSearchIndexLoading(sqlite: SQLite.Database, loading: boolean): void {
  for (const table of SEARCH_INDEXES) {
    if (!loading) sqlite.exec(`INSERT INTO ${table}(${table}) VALUES ('optimize')`);
    // FTS5 takes its settings as literals only.
    sqlite.exec(`INSERT INTO ${table}(${table}, rank) VALUES ('hashsize', ${loading ? 64 * 1024 * 1024 : 1024 * 1024})`);
    sqlite.exec(`INSERT INTO ${table}(${table}, rank) VALUES ('automerge', ${loading ? 0 : 4})`);
  }
}

/** Subscriptions and tickets arrive as purchase events; bans and notes are staff actions. */
async function addExtras(db: Db, clock: ManualClock, rng: Rng, customers: number, emails: readonly string[], firstFreeOrderId: number) {
  const subscriptions = Math.round(customers * 0.015);
  const tickets = Math.round(customers * 0.02);
  const bans = Math.max(1, Math.round(customers * 0.0015));
  const notes = Math.round(customers * 0.01);
  const customerAt = (i: number) => ({ platformId: null, email: emails[i] ?? null, name: null, ip: null, discordId: null });
  const now = Date.parse(BENCH_NOW);

  await db.transaction().execute(async (trx) => {
    for (let s = 0; s < subscriptions; s++) {
      const index = rng.int(0, customers - 1);
      const product = rng.pick(SUBSCRIPTION_PRODUCTS);
      const createdMs = now - rng.int(1, 700) * 86_400_000;
      const periodEnd = new Date(now + rng.int(-60, 30) * 86_400_000).toISOString();
      const state = rng.weighted([
        ['subscription.created', 60],
        ['subscription.cancelled', 20],
        ['subscription.payment_failed', 8],
        ['subscription.expired', 12],
      ] as const);
      const event: PurchaseEvent = {
        id: `evt_bench_sub_${s}`,
        occurredAt: new Date(createdMs).toISOString(),
        kind: 'subscription',
        eventType: state,
        subscription: {
          id: firstFreeOrderId + s,
          customer: customerAt(index),
          productId: product.id,
          productName: product.name,
          status: null,
          currentPeriodEnd: periodEnd,
          createdAt: new Date(createdMs).toISOString(),
        },
      };
      await applyPurchaseEvent(trx, clock, event, NO_HOOKS, { storeCurrency: 'USD' });
    }
    for (let t = 0; t < tickets; t++) {
      const event: PurchaseEvent = {
        id: `evt_bench_ticket_${t}`,
        occurredAt: new Date(now - rng.int(1, 900) * 86_400_000).toISOString(),
        kind: 'ticket',
        eventType: 'ticket.created',
        ticket: {
          id: `T-${100000 + t}`,
          customer: customerAt(rng.int(0, customers - 1)),
          subject: rng.pick(['Rank not applied', 'Refund request', 'Cannot log in', 'Crate key missing', 'Chargeback question']),
          status: rng.pick(['open', 'closed', 'closed', 'pending']),
          createdAt: null,
        },
      };
      await applyPurchaseEvent(trx, clock, event, NO_HOOKS);
    }
    const bannedCustomers = new Set<number>();
    for (let b = 0; b < bans; b++) {
      const id = rng.int(1, customers);
      if (bannedCustomers.has(id)) continue;
      bannedCustomers.add(id);
      const kind = rng.weighted([
        ['customer', 50],
        ['email', 20],
        ['ip', 20],
        ['discord', 10],
      ] as const);
      const target =
        kind === 'customer'
          ? String(id)
          : kind === 'email'
            ? `spam${b}@throwaway-${b % 50}.example`
            : kind === 'ip'
              ? `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.0/${rng.pick([24, 32])}`
              : (BigInt('900000000000000000') + BigInt(b)).toString();
      await createBan(trx, clock, {
        type: kind,
        target: kind === 'ip' && target.endsWith('/32') ? target.replace(/\.0\/32$/, '.7') : target,
        duration: rng.pick(['permanent', 'permanent', '30d', '90d', '7d']),
        reason: rng.pick(['chargeback abuse', 'cheating', 'toxic in chat', 'ban evasion', 'fraudulent payment']),
        actor: STAFF,
      }).catch((error: unknown) => {
        // A generated IP range may overlap one already banned: the store refuses it, as it should.
        if (!(error instanceof Error && 'code' in error)) throw error;
      });
    }
    for (let n = 0; n < notes; n++) {
      await addNote(trx, clock, {
        customerId: rng.int(1, customers),
        author: STAFF,
        body: rng.pick([
          'Asked for a refund on a crate key; gave store credit instead.',
          'VIP since the first season, always polite.',
          'Chargeback in the past, watch new orders.',
          'Rank re-applied by hand after a sync issue.',
          'Wants invoices with a VAT number.',
        ]),
      });
    }
  });
  const count = async (table: 'subscriptions' | 'support_tickets' | 'bans' | 'notes') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { subscriptions: await count('subscriptions'), tickets: await count('support_tickets'), bans: await count('bans'), notes: await count('notes') };
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}

function positiveInteger(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number`);
  return n;
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string', default: '1000000' },
      orders: { type: 'string', default: '5000000' },
      out: { type: 'string', default: 'data/bench.db' },
      seed: { type: 'string', default: '1' },
    },
  });
  const options: GenerateOptions = {
    customers: positiveInteger(values.customers, 'customers'),
    orders: Number(values.orders),
    out: values.out,
    seed: positiveInteger(values.seed, 'seed'),
    log: (line) => console.log(line),
  };
  if (!Number.isSafeInteger(options.orders) || options.orders < 0) throw new Error('--orders must be a whole number, 0 or more');
  if (existsSync(options.out)) console.log(`replacing ${options.out}`);
  console.log(`building ${options.out}: ${options.customers.toLocaleString('en-US')} customers, ${options.orders.toLocaleString('en-US')} orders, seed ${options.seed}`);
  const summary = await generateStore(options);
  console.log(
    `done in ${summary.seconds.toFixed(1)} s: ${summary.customers.toLocaleString('en-US')} customers, ${summary.orders.toLocaleString('en-US')} orders, ` +
      `${summary.subscriptions} subscriptions, ${summary.tickets} tickets, ${summary.bans} bans, ${summary.notes} notes`,
  );
}
