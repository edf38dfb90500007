import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyPurchaseEvent, type PurchaseEventHooks } from '../../src/domain/apply-purchase-event.js';
import { ManualClock } from '../../src/domain/clock.js';
import { parseStoreEvent } from '../../src/domain/purchase-events.js';
import { backupDatabaseFile } from '../../src/store/backup.js';
import { inTransaction, openMigratedDatabase, type Db } from '../../src/store/database.js';

const hooks: PurchaseEventHooks = { customerChanged: () => Promise.resolve(), customerCreated: () => Promise.resolve() };

function event(i: number, type: 'order.paid' | 'order.refunded') {
  const body = JSON.stringify({
    id: `evt_${type}_${i}`,
    event_type: type,
    created_at: '2026-11-22T12:00:00Z',
    data: {
      id: i,
      order_number: `ORD-B-${i}`,
      total: '12.50',
      customer: { email: `backup${i % 700}@example.com`, name: `Backup buyer ${i % 700} ${'x'.repeat(200)}` },
      items: [{ product_id: 5, product_name: 'VIP Rank', quantity: 1, price: '12.50' }],
    },
  });
  const parsed = parseStoreEvent(Buffer.from(body), {});
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.event;
}

interface Figures {
  customers: number;
  orders: number;
  completedCents: number;
  aggregateCents: number;
  aggregateOrders: number;
  completedOrders: number;
  customersOff: number;
}

/** Row counts and the per-customer aggregates checked against the orders they summarise. */
function figuresOf(path: string): Figures & { integrity: string } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const one = (query: string) => Number((db.prepare(query).get() as { n: number | null }).n ?? 0);
    return {
      integrity: String(db.pragma('integrity_check', { simple: true })),
      customers: one('select count(*) as n from customers'),
      orders: one('select count(*) as n from orders'),
      completedOrders: one("select count(*) as n from orders where status in ('paid', 'completed')"),
      completedCents: one("select sum(total_cents) as n from orders where status in ('paid', 'completed')"),
      aggregateOrders: one('select sum(orders_count) as n from customers'),
      aggregateCents: one('select sum(total_spent_cents) as n from customers'),
      customersOff: one(`select count(*) as n from customers c where c.orders_count != (select count(*) from orders o where o.customer_id = c.id and o.status in ('paid', 'completed'))
        or c.total_spent_cents != (select coalesce(sum(total_cents), 0) from orders o where o.customer_id = c.id and o.status in ('paid', 'completed'))`),
    };
  } finally {
    db.close();
  }
}

let dir: string;
let path: string;
let db: Db;
let clock: ManualClock;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'backup-test-'));
  path = join(dir, 'customers.db');
  db = (await openMigratedDatabase(path)).db;
  clock = new ManualClock('2026-11-22T12:00:00Z');
  // Big enough that the backup takes many steps (a few MiB).
  await inTransaction(db, async (trx) => {
    for (let i = 1; i <= 6_000; i++) await applyPurchaseEvent(trx, clock, event(i, 'order.paid'), hooks);
  });
});

afterEach(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run backup', () => {
  it('takes a complete, consistent copy while purchases keep being written, and a copy taken at rest equals the database', async () => {
    const before = figuresOf(path);
    let writing = true;
    let written = 0;
    const writer = (async () => {
      for (let i = 6_001; writing; i++) {
        await applyPurchaseEvent(db, clock, event(i, 'order.paid'), hooks);
        // Refunds too, so aggregates go down as well as up while the copy is taken.
        if (i % 3 === 0) await applyPurchaseEvent(db, clock, event(i - 3_000, 'order.refunded'), hooks);
        written++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const backup = await backupDatabaseFile(path, join(dir, 'during.db'), { pagesPerStep: 64 });
    writing = false;
    await writer;
    const after = figuresOf(path);

    expect(written).toBeGreaterThan(0);
    expect(backup.steps).toBeGreaterThan(1);
    expect(backup.integrity).toBe('ok');
    const copy = figuresOf(backup.path);
    expect(copy.integrity).toBe('ok');
    expect(copy.orders).toBeGreaterThanOrEqual(before.orders);
    expect(copy.orders).toBeLessThanOrEqual(after.orders);
    // One snapshot: every customer's aggregates agree with the orders in the same copy.
    expect(copy.customersOff).toBe(0);
    expect(copy.aggregateOrders).toBe(copy.completedOrders);
    expect(copy.aggregateCents).toBe(copy.completedCents);

    const atRest = await backupDatabaseFile(path, join(dir, 'at-rest.db'));
    const { integrity: _i, ...rest } = figuresOf(atRest.path);
    const { integrity: _j, ...live } = figuresOf(path);
    expect(rest).toEqual(live);
    expect(existsSync(`${atRest.path}-wal`)).toBe(false);
  }, 60_000);

  it('never overwrites an existing file', async () => {
    await backupDatabaseFile(path, join(dir, 'copy.db'));
    await expect(backupDatabaseFile(path, join(dir, 'copy.db'))).rejects.toThrow('already exists');
  });

  it('writes a timestamped file under backups/ beside the database by default, or into the folder given with --to', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/backup.ts', ...args], {
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: path, DOTENV_CONFIG_PATH: '/nonexistent/.env', LOG_LEVEL: 'silent' },
        encoding: 'utf8',
      });
    const byDefault = run([]);
    expect(byDefault.stderr).toBe('');
    expect(byDefault.status).toBe(0);
    const [file] = readdirSync(join(dir, 'backups'));
    expect(file).toMatch(/^customers-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z\.db$/);
    expect(byDefault.stdout).toContain(`to ${join(dir, 'backups', file!)}`);
    expect(byDefault.stdout).toContain('integrity ok');

    const elsewhere = mkdtempSync(join(tmpdir(), 'backup-target-'));
    try {
      expect(run(['--to', elsewhere]).status).toBe(0);
      expect(readdirSync(elsewhere)).toHaveLength(1);
      const refused = run(['--frobnicate']);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('unknown option --frobnicate');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  }, 30_000);
});
