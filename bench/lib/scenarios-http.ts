/**
 * HTTP scenarios: the bot's own Fastify app (createHttpApp, as the bot serves it) listening on
 * 127.0.0.1, loaded by a separate process over keep-alive connections, beside a bare node:http
 * server answering the same requests with hand-written prepared statements (on PostgreSQL: named
 * statements on a plain pg pool as large as the store's).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createApiToken, MAX_RATE_LIMIT_PER_MINUTE } from '../../src/domain/api-access/tokens.js';
import { systemClock } from '../../src/shared/clock.js';
import { loadConfig } from '../../src/config.js';
import { createHttpApp } from '../../src/http/app.js';
import { startInboundEventWorker, storeEventHooks } from '../../src/jobs/purchase-events.js';
import { startInboundEventThread } from '../../src/jobs/purchase-event-thread.js';
import type { Worker } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/logger.js';
import { closeIntakeFile, countIntake, intakePathFor, openIntakeFile } from '../../src/store/purchase-event-intake.js';
import type { EventStore } from '../../src/store/purchase-event.repository.js';
import { startWalCheckpointer } from '../../src/store/wal-checkpointer.js';
import { runChild } from './children.js';
import { namedStatement } from './postgres.js';
import type { LoadConfig, LoadResult } from './load-child.js';
import type { Row } from './report.js';
import type { BenchContext } from './scenarios-db.js';
import { count, ratio, rssSampler } from './stats.js';

export const WEBHOOK_SECRET = 'bench-store-webhook-secret';
const CONNECTIONS = 32;
/** pg.Pool's default, which the store's pool keeps (src/store/database.ts). */
const POSTGRES_POOL_SIZE = 10;

function load(config: LoadConfig): Promise<LoadResult> {
  return runChild<LoadResult>('./load-child', ['--load', JSON.stringify(config)]);
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function startApp(ctx: BenchContext, wakeInbound: () => void, events?: EventStore) {
  const app = await createHttpApp({
    ...(events ? { events } : {}),
    db: ctx.db,
    clock: systemClock,
    config: loadConfig({ LOG_LEVEL: 'silent', STORE_WEBHOOK_SECRET: WEBHOOK_SECRET }),
    logger: createLogger('silent'),
    wake: { inboundEvents: wakeInbound, webhookDeliveries: () => undefined },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${address.port}` };
}

function describe(result: LoadResult): string {
  const failures = result.requests - result.ok + result.errors;
  return failures > 0 ? `${failures} non-200: ${JSON.stringify(result.statuses)}` : '';
}

// ---------------------------------------------------------------------------------------------

export async function benchCustomerGet(ctx: BenchContext): Promise<Row[]> {
  const durationMs = ctx.quick ? 1_000 : 10_000;
  // One token per connection: each token has its own per-minute limit (at most 10,000).
  const tokens: string[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const { token } = await createApiToken(ctx.db, systemClock, { name: `bench ${i}`, scopes: ['customers:read'], rateLimitPerMinute: MAX_RATE_LIMIT_PER_MINUTE });
    tokens.push(token);
  }
  const idRange: [number, number] = [1, ctx.customers];

  // As startServices runs the bot: log checkpoints on their own thread.
  const checkpointer = await startWalCheckpointer(ctx.db);
  const { app, url } = await startApp(ctx, () => undefined);
  const rss = rssSampler();
  const warm = await load({ url, kind: 'customer-get', connections: CONNECTIONS, durationMs: Math.min(2_000, durationMs), tokens, idRange });
  const ours = await load({ url, kind: 'customer-get', connections: CONNECTIONS, durationMs, tokens, idRange });
  const peakRssMb = rss.stop();
  await app.close();
  await checkpointer.stop();

  const pool = ctx.postgres ? new pg.Pool({ connectionString: ctx.postgres.url, max: POSTGRES_POOL_SIZE }) : undefined;
  const floorServer = createServer(pool ? barePostgresCustomerHandler(pool) : bareCustomerHandler(ctx));
  const floorUrl = await listen(floorServer);
  await load({ url: floorUrl, kind: 'customer-get', connections: CONNECTIONS, durationMs: Math.min(2_000, durationMs), tokens, idRange });
  const floor = await load({ url: floorUrl, kind: 'customer-get', connections: CONNECTIONS, durationMs, tokens, idRange });
  await close(floorServer);
  await pool?.end();

  const problems = describe(ours) || describe(warm);
  return [
    {
      scenario: `GET /api/external/v1/customers/:id over HTTP, keep-alive, ${CONNECTIONS} connections`,
      ...(problems ? { note: problems } : {}),
      p50: ours.p50,
      p99: ours.p99,
      throughput: `${count(ours.throughput)} req/s`,
      peakRssMb,
      floor: `bare node:http + ${pool ? `pg pool (${POSTGRES_POOL_SIZE}), named statements` : 'prepared statements'}: ${count(floor.throughput)} req/s, p99 ${floor.p99.toFixed(1)} ms`,
      vsFloor: ratio(floor.throughput, ours.throughput),
      target: '≥ 3,000 req/s, p99 ≤ 30 ms',
      met: ours.throughput >= 3000 && ours.p99 <= 30 && ours.ok === ours.requests,
    },
  ];
}

const TOKEN_SQL = 'SELECT id, scopes, expires_at, revoked_at FROM api_tokens WHERE token_hash = ?';
const CUSTOMER_SQL = 'SELECT * FROM customers WHERE id = ?';
const ORDERS_SQL = 'SELECT id, order_number, total_cents, status, created_at FROM orders WHERE customer_id = ? ORDER BY created_at DESC, id DESC LIMIT 50';
const ORDER_COUNT_SQL = 'SELECT count(*) AS n FROM orders WHERE customer_id = ?';

/** The response body, from the rows the handler read. */
function customerBody(c: Record<string, unknown>, orders: Array<{ total_cents: number | string }>, orderTotal: number): string {
  return JSON.stringify({
    success: true,
    data: {
      id: c.id,
      name: c.name,
      email: c.email,
      orders_count: c.orders_count,
      orders: orders.map((o) => ({ ...o, total: (Number(o.total_cents) / 100).toFixed(2) })),
      order_total: orderTotal,
      statistics: { total_spent: (Number(c.total_spent_cents) / 100).toFixed(2), last_order_date: c.last_order_at },
      created_at: c.created_at,
      updated_at: c.updated_at,
    },
  });
}

/** What the route does, written by hand: token by hash, the customer, 50 recent orders and their count. */
function bareCustomerHandler(ctx: BenchContext) {
  const token = ctx.sqlite.prepare(TOKEN_SQL);
  const customer = ctx.sqlite.prepare(CUSTOMER_SQL);
  const orders = ctx.sqlite.prepare(ORDERS_SQL);
  const orderCount = ctx.sqlite.prepare(ORDER_COUNT_SQL);
  return (req: IncomingMessage, res: ServerResponse) => {
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const row = auth ? (token.get(createHash('sha256').update(auth).digest('hex')) as { scopes: string; revoked_at: string | null } | undefined) : undefined;
    if (!row || row.revoked_at !== null) {
      res.writeHead(401).end();
      return;
    }
    const id = Number(/\/customers\/(\d+)$/.exec(req.url ?? '')?.[1]);
    const c = customer.get(id) as Record<string, unknown> | undefined;
    if (!c) {
      res.writeHead(404).end();
      return;
    }
    const body = customerBody(c, orders.all(id) as Array<{ total_cents: number }>, (orderCount.get(id) as { n: number }).n);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
  };
}

/** The same by hand on PostgreSQL: the three reads after the token run side by side on the pool. */
function barePostgresCustomerHandler(pool: pg.Pool) {
  const numbered = (text: string) => text.replace('?', '$1');
  const token = namedStatement(pool, numbered(TOKEN_SQL));
  const customer = namedStatement(pool, numbered(CUSTOMER_SQL));
  const orders = namedStatement(pool, numbered(ORDERS_SQL));
  const orderCount = namedStatement(pool, numbered(ORDER_COUNT_SQL));
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const row = auth ? await token.get(createHash('sha256').update(auth).digest('hex')) : undefined;
    if (!row || row.revoked_at !== null) {
      res.writeHead(401).end();
      return;
    }
    const id = Number(/\/customers\/(\d+)$/.exec(req.url ?? '')?.[1]);
    const [c, recent, total] = await Promise.all([customer.get(id), orders.all(id), orderCount.get(id)]);
    if (!c) {
      res.writeHead(404).end();
      return;
    }
    const body = customerBody(c, recent as Array<{ total_cents: string }>, Number(total?.n));
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    answer(req, res).catch(() => res.writeHead(500).end());
  };
}

// ---------------------------------------------------------------------------------------------

export async function benchPurchaseEvents(ctx: BenchContext): Promise<Row[]> {
  const durationMs = ctx.quick ? 1_000 : 10_000;
  const emails = ctx.sample.emails.slice(0, 2_000);
  // On PostgreSQL, the SQLite source's: the same store, and only a base for new order numbers.
  const maxOrder = Number((ctx.sqlite.prepare('SELECT max(id) AS m FROM orders').get() as { m: number | null }).m ?? 0);
  const runId = Date.now().toString(36);
  let nextOrderBase = maxOrder + 10_000_000;
  const config = (prefix: string, rate?: number): LoadConfig => {
    nextOrderBase += 1_000_000;
    return {
      url: '',
      kind: 'store-event',
      connections: CONNECTIONS,
      durationMs,
      secret: WEBHOOK_SECRET,
      emails,
      firstOrderId: nextOrderBase,
      eventPrefix: `evt_bench_${runId}_${prefix}`,
      ...(rate === undefined ? {} : { rate }),
    };
  };

  // The bot as it runs (as startServices wires it): events are applied in the background
  // (orders, aggregates, role plans, customer.created outbox) while acknowledgements keep
  // arriving; on SQLite by the events thread from the intake file, on PostgreSQL in this process.
  const checkpointer = await startWalCheckpointer(ctx.db);
  const logger = createLogger('silent');
  const inbound = ctx.postgres
    ? { worker: startInboundEventWorker({ db: ctx.db, clock: systemClock, hooks: storeEventHooks(systemClock), logger, storeCurrency: 'USD', intervalMs: 1_000 }) }
    : startInboundEventThread({
        databasePath: ctx.location,
        db: ctx.db,
        clock: systemClock,
        logger,
        holder: `bench-${process.pid}`,
        storeCurrency: 'USD',
        intervalMs: 1_000,
        onHandled: () => undefined,
      });
  const worker: Worker = inbound.worker;
  const { app, url } = await startApp(ctx, () => worker.wake(), 'events' in inbound ? inbound.events : undefined);
  const intake = ctx.postgres ? undefined : openIntakeFile(intakePathFor(ctx.location));
  const pendingSql = "SELECT count(*) AS n FROM inbound_events WHERE status = 'pending'";
  const pending = ctx.postgres ? namedStatement(ctx.postgres.client, pendingSql) : ctx.sqlite.prepare(pendingSql);
  const pendingNow = async () => Number(((await pending.get()) as { n: number | string }).n) + (intake ? countIntake(intake) : 0);

  const rss = rssSampler();
  const sustainedStart = performance.now();
  const sustained = await load({ ...config('sustained'), url });
  // How long the worker needs to apply everything acknowledged (it runs during the load too).
  while ((await pendingNow()) > 0 && performance.now() - sustainedStart < 10 * durationMs) await new Promise((r) => setTimeout(r, 100));
  const appliedPerSecond = sustained.ok / ((performance.now() - sustainedStart) / 1000);
  const steady = await load({ ...config('steady', 200), url });
  while ((await pendingNow()) > 0) await new Promise((r) => setTimeout(r, 100));
  const peakRssMb = rss.stop();
  await app.close();
  await worker.stop();
  if (intake) closeIntakeFile(intake);
  await checkpointer.stop();

  // The floor is durable the way hand-written code would make it: on SQLite synchronous=FULL, so
  // each INSERT's commit fsyncs the write-ahead log before the 200; on PostgreSQL every commit
  // flushes its log by default (synchronous_commit = on).
  const pool = ctx.postgres ? new pg.Pool({ connectionString: ctx.postgres.url, max: POSTGRES_POOL_SIZE }) : undefined;
  if (!pool) ctx.sqlite.pragma('synchronous = FULL');
  const floorServer = createServer(bareEventHandler(pool ? insertEventPostgres(pool) : insertEventSqlite(ctx)));
  const floorUrl = await listen(floorServer);
  const floorSustained = await load({ ...config('floor-sustained'), url: floorUrl });
  const floorSteady = await load({ ...config('floor-steady', 200), url: floorUrl });
  await close(floorServer);
  if (pool) await pool.end();
  else ctx.sqlite.pragma('synchronous = NORMAL');
  const insertWords = pool ? 'one INSERT each (committed durably)' : 'one fsynced INSERT each';

  const sustainedProblems = describe(sustained);
  const steadyProblems = describe(steady);
  return [
    {
      scenario: `signed purchase events acknowledged durably, ${CONNECTIONS} connections flat out (worker applying them meanwhile)`,
      note: `${sustainedProblems ? `${sustainedProblems}; ` : ''}all applied at ${count(appliedPerSecond)}/s`,
      p50: sustained.p50,
      p99: sustained.p99,
      throughput: `${count(sustained.throughput)} events/s`,
      peakRssMb,
      floor: `bare node:http, HMAC + ${insertWords}: ${count(floorSustained.throughput)} events/s`,
      vsFloor: ratio(floorSustained.throughput, sustained.throughput),
      target: '≥ 1,000 events/s sustained',
      met: sustained.throughput >= 1000 && sustained.ok === sustained.requests,
    },
    {
      scenario: 'signed purchase events at a steady 200/s (open loop, latency from when each was due)',
      ...(steadyProblems ? { note: steadyProblems } : {}),
      p50: steady.p50,
      p99: steady.p99,
      throughput: `${count(steady.throughput)} events/s`,
      floor: `bare node:http, ${insertWords}: p50 ${floorSteady.p50.toFixed(1)} ms, p99 ${floorSteady.p99.toFixed(1)} ms`,
      // The target is about the tail, and the floor's tail is the disk's fsync latency.
      vsFloor: `${ratio(steady.p99, floorSteady.p99)} (p99)`,
      target: 'p99 ack ≤ 50 ms at 200/s',
      met: steady.p99 <= 50 && steady.ok === steady.requests,
    },
  ];
}

const INSERT_EVENT_SQL = `INSERT INTO inbound_events (id, event_type, payload, signature_scheme, received_at, status, attempts, next_attempt_at)
     VALUES (?, ?, ?, 'hmac-hex', ?, 'floor', 0, ?) ON CONFLICT (id) DO NOTHING`;

type InsertEvent = (values: [id: string, type: string, payload: string, receivedAt: string, nextAttemptAt: string]) => Promise<void> | void;

function insertEventSqlite(ctx: BenchContext): InsertEvent {
  const insert = ctx.sqlite.prepare(INSERT_EVENT_SQL);
  return (values) => void insert.run(...values);
}

function insertEventPostgres(pool: pg.Pool): InsertEvent {
  let n = 0;
  const insert = namedStatement(pool, INSERT_EVENT_SQL.replace(/\?/g, () => `$${++n}`));
  return async (values) => void (await insert.all(...values));
}

/** The durable part of the route, by hand: read the body, check the HMAC, one INSERT. */
function bareEventHandler(insert: InsertEvent) {
  const key = Buffer.from(WEBHOOK_SECRET);
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const expected = createHmac('sha256', key).update(body).digest();
      const given = Buffer.from(String(req.headers['x-pixlpay-signature'] ?? ''), 'hex');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.writeHead(401).end();
        return;
      }
      const event = JSON.parse(body.toString('utf8')) as { id: string; event_type: string };
      const now = new Date().toISOString();
      const inserted = insert([event.id, event.event_type, body.toString('utf8'), now, now]);
      if (inserted === undefined) res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
      else {
        inserted.then(
          () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}'),
          () => res.writeHead(500).end(),
        );
      }
    });
  };
}
