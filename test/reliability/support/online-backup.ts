import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPurchaseEvent, type PurchaseEventHooks } from '../../../src/domain/purchases/apply.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { parseStoreEvent } from '../../../src/domain/purchases/parse.js';
import { backupDatabaseFile } from '../../../src/store/backup.js';
import { inTransaction, openMigratedDatabase } from '../../../src/store/database.js';

// An online backup of a database that keeps being written (purchases and refunds, one
// transaction each), then a restore: the copy put in place of the database and opened the way
// the bot opens it. The copy must pass integrity_check and equal the database as it was after
// some one write: its figures are compared with the figures recorded after every write.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
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

export interface DatabaseFigures {
  customers: number;
  orders: number;
  orderItems: number;
  completedOrders: number;
  completedCents: number;
  aggregateOrders: number;
  aggregateCents: number;
}

const FIGURES_SQL = `select
  (select count(*) from customers) as customers,
  (select count(*) from orders) as orders,
  (select count(*) from order_items) as orderItems,
  (select count(*) from orders where status in ('paid', 'completed')) as completedOrders,
  (select coalesce(sum(total_cents), 0) from orders where status in ('paid', 'completed')) as completedCents,
  (select coalesce(sum(orders_count), 0) from customers) as aggregateOrders,
  (select coalesce(sum(total_spent_cents), 0) from customers) as aggregateCents`;

/** Customers whose aggregates disagree with their own orders in the same file. */
const CUSTOMERS_OFF_SQL = `select count(*) as n from customers c
  where c.orders_count != (select count(*) from orders o where o.customer_id = c.id and o.status in ('paid', 'completed'))
     or c.total_spent_cents != (select coalesce(sum(total_cents), 0) from orders o where o.customer_id = c.id and o.status in ('paid', 'completed'))`;

function inspect(path: string): { figures: DatabaseFigures; integrity: string; customersOff: number } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return {
      figures: db.prepare(FIGURES_SQL).get() as DatabaseFigures,
      integrity: String(db.pragma('integrity_check', { simple: true })),
      customersOff: (db.prepare(CUSTOMERS_OFF_SQL).get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

export interface OnlineBackupResult {
  via: 'npm run backup' | 'backupDatabaseFile';
  /** Purchases in the database before the backup started. */
  baseEvents: number;
  databaseMiB: number;
  copyMiB: number;
  /** Writes committed while the backup ran. */
  writtenDuring: number;
  backupMs: number;
  backupOutput: string;
  /** Steps the backup API took (in-process only: the CLI prints its own summary). */
  steps: number | null;
  /** Writes recorded as snapshots (the state before the backup, then after each write). */
  snapshots: number;
  /** Index of the snapshot the copy equals (0 = as it was when the backup started), or -1. */
  matchingSnapshot: number;
  copyFigures: DatabaseFigures;
  copyIntegrity: string;
  copyCustomersOff: number;
  /** The copy put in place of the database and opened (and migrated) as the bot does. */
  restoredIntegrity: string;
  restoredFigures: DatabaseFigures;
  /** The restored database took a new purchase. */
  restoredWritable: boolean;
  /** No -wal beside the copy: it is complete on its own. */
  standalone: boolean;
  /** A second copy taken once the writes stopped equals the live database. */
  atRestEqualsLive: boolean;
  problems: string[];
}

/**
 * Fills a database file with `baseEvents` purchases, then backs it up (with `npm run backup` in
 * a process of its own, or with `backupDatabaseFile` in this one) while purchases and refunds
 * keep being committed, restores the copy, and compares it with the snapshots recorded.
 */
export async function runOnlineBackup(options: { baseEvents: number; via: 'cli' | 'function'; pagesPerStep?: number }): Promise<OnlineBackupResult> {
  const dir = mkdtempSync(join(tmpdir(), 'online-backup-'));
  const path = join(dir, 'customers.db');
  const problems: string[] = [];
  const opened = await openMigratedDatabase(path);
  const { db } = opened;
  try {
    const clock = new ManualClock('2026-11-22T12:00:00Z');
    for (let start = 1; start <= options.baseEvents; start += 2_000) {
      await inTransaction(db, async (trx) => {
        for (let i = start; i < Math.min(start + 2_000, options.baseEvents + 1); i++) await applyPurchaseEvent(trx, clock, event(i, 'order.paid'), hooks);
      });
    }
    const live = new Database(path, { readonly: true });
    const figuresNow = () => live.prepare(FIGURES_SQL).get() as DatabaseFigures;
    // The figures after each write are followed in memory (a query after every write would slow
    // the writer down to a few writes a second) and checked against the database at the end.
    let state: DatabaseFigures = figuresNow();
    const snapshots: DatabaseFigures[] = [state];
    const emails = new Set(Array.from({ length: Math.min(options.baseEvents, 700) }, (_, i) => (i + 1) % 700));
    const refundOffset = Math.floor(options.baseEvents / 2);

    let writing = true;
    let writtenDuring = 0;
    const writer = (async () => {
      for (let i = options.baseEvents + 1; writing; i++) {
        await applyPurchaseEvent(db, clock, event(i, 'order.paid'), hooks);
        const newCustomer = emails.has(i % 700) ? 0 : 1;
        emails.add(i % 700);
        state = {
          customers: state.customers + newCustomer,
          orders: state.orders + 1,
          orderItems: state.orderItems + 1,
          completedOrders: state.completedOrders + 1,
          completedCents: state.completedCents + 1250,
          aggregateOrders: state.aggregateOrders + 1,
          aggregateCents: state.aggregateCents + 1250,
        };
        snapshots.push(state);
        // Refunds too (of an order paid earlier, each once), so aggregates go down as well as up.
        if (i % 3 === 0 && i - refundOffset >= 1) {
          await applyPurchaseEvent(db, clock, event(i - refundOffset, 'order.refunded'), hooks);
          state = { ...state, completedOrders: state.completedOrders - 1, completedCents: state.completedCents - 1250, aggregateOrders: state.aggregateOrders - 1, aggregateCents: state.aggregateCents - 1250 };
          snapshots.push(state);
        }
        writtenDuring++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();

    const target = join(dir, 'backups', 'during.db');
    const started = Date.now();
    let backupOutput: string;
    let steps: number | null = null;
    try {
      mkdirSync(dirname(target), { recursive: true });
      if (options.via === 'cli') {
        backupOutput = await runBackupCli(path, target);
      } else {
        const result = await backupDatabaseFile(path, target, { pagesPerStep: options.pagesPerStep ?? 64 });
        steps = result.steps;
        backupOutput = `${result.steps} steps, ${result.restarts} restarts, integrity ${result.integrity}`;
      }
    } finally {
      writing = false;
      await writer;
    }
    const backupMs = Date.now() - started;

    if (JSON.stringify(figuresNow()) !== JSON.stringify(state)) problems.push(`the figures followed in memory ${JSON.stringify(state)} differ from the database's ${JSON.stringify(figuresNow())}`);
    const copy = inspect(target);
    const matchingSnapshot = snapshots.findIndex((s) => JSON.stringify(s) === JSON.stringify(copy.figures));
    if (matchingSnapshot < 0) problems.push(`the copy ${JSON.stringify(copy.figures)} equals no state the database was in`);
    if (copy.integrity !== 'ok') problems.push(`integrity_check of the copy: ${copy.integrity}`);
    if (copy.customersOff !== 0) problems.push(`${copy.customersOff} customers' aggregates disagree with their orders in the copy`);
    const standalone = !existsSync(`${target}-wal`);

    // Restore as the backup's usage says: the copy in place of the database, then open it as the bot does.
    const restoredPath = join(dir, 'restored', 'customers.db');
    mkdirSync(dirname(restoredPath), { recursive: true });
    copyFileSync(target, restoredPath);
    const restored = await openMigratedDatabase(restoredPath);
    let restoredWritable = false;
    let restoredFigures: DatabaseFigures;
    let restoredIntegrity: string;
    try {
      const inRestore = inspect(restoredPath);
      restoredFigures = inRestore.figures;
      restoredIntegrity = inRestore.integrity;
      if (JSON.stringify(restoredFigures) !== JSON.stringify(copy.figures)) problems.push('the restored database differs from the copy');
      const applied = await applyPurchaseEvent(restored.db, clock, event(10_000_000, 'order.paid'), hooks);
      restoredWritable = applied.outcome !== 'ignored' && inspect(restoredPath).figures.orders === restoredFigures.orders + 1;
    } finally {
      await restored.db.destroy();
    }

    const atRest = await backupDatabaseFile(path, join(dir, 'backups', 'at-rest.db'));
    const atRestEqualsLive = JSON.stringify(inspect(atRest.path).figures) === JSON.stringify(figuresNow());
    live.close();
    return {
      via: options.via === 'cli' ? 'npm run backup' : 'backupDatabaseFile',
      baseEvents: options.baseEvents,
      databaseMiB: Math.round((statSync(path).size / 1024 / 1024) * 10) / 10,
      copyMiB: Math.round((statSync(target).size / 1024 / 1024) * 10) / 10,
      writtenDuring,
      backupMs,
      backupOutput: backupOutput.trim().replaceAll(dir, '<temporary folder>'),
      steps,
      snapshots: snapshots.length,
      matchingSnapshot,
      copyFigures: copy.figures,
      copyIntegrity: copy.integrity,
      copyCustomersOff: copy.customersOff,
      restoredIntegrity,
      restoredFigures,
      restoredWritable,
      standalone,
      atRestEqualsLive,
      problems,
    };
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run backup -- --to <target>` against DATABASE_URL, in a process of its own. */
function runBackupCli(databasePath: string, target: string): Promise<string> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/backup.ts', '--to', target], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: databasePath, DOTENV_CONFIG_PATH: '/nonexistent/.env', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 && err === '' ? done(out) : reject(new Error(`npm run backup exited with ${code}: ${err || out}`))));
  });
}
