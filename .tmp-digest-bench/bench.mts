import { sql } from 'kysely';
import { openMigratedDatabase } from '../src/store/database.js';

const N = Number(process.env.N ?? 200_000);
const skew = process.env.SKEW === '1';
const { db, sqlite } = await openMigratedDatabase();
const now = Date.parse('2026-11-23T08:00:00Z');
const DAY = 86400000;
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const insert = sqlite.prepare(`insert into customers (name, email, email_lower, orders_count, total_spent_cents, first_order_at, last_order_at, created_at, updated_at) values (?,?,?,?,?,?,?,?,?)`);
const t0 = performance.now();
sqlite.transaction(() => {
  for (let i = 0; i < N; i++) {
    const hasOrders = rnd() < 0.6;
    const orders = hasOrders ? 1 + Math.floor(rnd() * 9) : 0;
    const ageDays = rnd() * 730;
    const last = hasOrders ? new Date(now - ageDays * DAY).toISOString() : null;
    // SKEW: at-risk customers (older than 90 days) are all tiny spenders, high spenders are all recent.
    const spent = hasOrders ? (skew ? (ageDays > 90 ? 100 + Math.floor(rnd() * 100) : 10_000 + Math.floor(rnd() * 1_000_000)) : orders * (500 + Math.floor(rnd() * 5000))) : 0;
    insert.run(`Customer ${i}`, `c${i}@example.com`, `c${i}@example.com`, orders, spent, last, last, new Date(now - 800 * DAY).toISOString(), new Date(now).toISOString());
  }
})();
console.log(`inserted ${N} in ${(performance.now() - t0).toFixed(0)} ms (skew=${skew})`);
sqlite.exec('ANALYZE'); // comment says what production would look like without it: we test both
if (process.env.NOANALYZE === '1') sqlite.exec('DELETE FROM sqlite_stat1');

const cutoff = new Date(now - 90 * DAY).toISOString();
const prev = new Date(now - 97 * DAY).toISOString();

async function time<T>(label: string, fn: () => Promise<T>, runs = 5): Promise<T> {
  let result!: T;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) { const s = performance.now(); result = await fn(); times.push(performance.now() - s); }
  times.sort((a, b) => a - b);
  console.log(`${label}: median ${times[Math.floor(runs / 2)]!.toFixed(1)} ms`);
  return result;
}
function plan(q: { compile(): { sql: string; parameters: readonly unknown[] } }) {
  const c = q.compile();
  console.log('   plan:', sqlite.prepare('EXPLAIN QUERY PLAN ' + c.sql).all(...(c.parameters as unknown[])).map((r: any) => r.detail).join(' | '));
}

const atRiskCount = db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).where('last_order_at', '<=', cutoff);
plan(atRiskCount);
console.log('   at risk:', (await time('count at risk', () => atRiskCount.executeTakeFirstOrThrow())).n);
const newly = db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).where('last_order_at', '>', prev).where('last_order_at', '<=', cutoff);
plan(newly);
console.log('   newly:', (await time('count newly at risk', () => newly.executeTakeFirstOrThrow())).n);
const segs = db.selectFrom('customers').select((eb) => [eb.fn.countAll<number>().filterWhere('orders_count', '>=', 2).as('repeat'), eb.fn.countAll<number>().filterWhere('orders_count', '>=', 5).as('loyal')]).where('orders_count', '>=', 2);
plan(segs);
await time('segment counts', () => segs.executeTakeFirstOrThrow());
const total = db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n'));
plan(total);
await time('total count', () => total.executeTakeFirstOrThrow());

const topDefault = db.selectFrom('customers').select(['id', 'total_spent_cents', 'last_order_at']).where('last_order_at', '<=', cutoff).orderBy('total_spent_cents', 'desc').orderBy('id', 'desc').limit(10);
plan(topDefault);
await time('top 10 by LTV among at risk (planner default)', () => topDefault.execute());
// Walk the spending index, reading last_order_at from the table per row.
const topWalk = db.selectFrom('customers').select(['id', 'total_spent_cents', 'last_order_at']).where(sql<string>`customers.last_order_at || ''`, '<=', cutoff).orderBy('total_spent_cents', 'desc').orderBy('id', 'desc').limit(10);
plan(topWalk);
await time('top 10 by LTV: walk spending index', () => topWalk.execute());
// Range on last_order_at then a bounded sort.
const topRange = db.selectFrom('customers').select(['id', 'total_spent_cents', 'last_order_at']).where('last_order_at', '<=', cutoff).orderBy(sql`total_spent_cents + 0`, 'desc').orderBy('id', 'desc').limit(10);
plan(topRange);
await time('top 10 by LTV: at-risk range + top-N sort', () => topRange.execute());
const topNewly = db.selectFrom('customers').select(['id', 'total_spent_cents', 'last_order_at']).where('last_order_at', '>', prev).where('last_order_at', '<=', cutoff).orderBy('total_spent_cents', 'desc').orderBy('id', 'desc').limit(10);
plan(topNewly);
await time('top 10 newly at risk by LTV', () => topNewly.execute());

if (process.env.INDEX === '1') {
  sqlite.exec('CREATE INDEX customers_spent_last_order ON customers (total_spent_cents, last_order_at, id)');
  sqlite.exec('ANALYZE');
  plan(topWalk);
  await time('top 10 walk with covering (spent,last_order_at,id) index', () => topWalk.execute());
  plan(topDefault);
  await time('top 10 planner default with covering index', () => topDefault.execute());
}
if (process.env.ITER === '1') {
  const { iterateCustomers } = await import('../src/domain/customer-list.js');
  const clock = { now: () => new Date(now) };
  for (const sort of ['highest_spending', 'last_order'] as const) {
    const s = performance.now();
    let n = 0;
    for await (const _ of iterateCustomers(db, clock, { filter: 'at_risk', sort }, { atRiskDays: 90 })) n++;
    console.log(`iterate at-risk sorted by ${sort}: ${n} rows in ${(performance.now() - s).toFixed(0)} ms`);
  }
  const { writeCustomerExport } = await import('../src/domain/export/customer-export.js');
  const s = performance.now();
  const file = await writeCustomerExport(iterateCustomers(db, clock, { filter: 'at_risk', sort: 'highest_spending' }, { atRiskDays: 90, batchSize: 5000 }), { format: 'csv', directory: '/tmp', baseName: 'bench-at-risk' });
  console.log(`CSV of at-risk (${file.rows} rows, ${file.bytes} bytes, zipped=${file.compressed}) in ${(performance.now() - s).toFixed(0)} ms`);
}
