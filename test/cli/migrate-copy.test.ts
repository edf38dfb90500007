import SQLite from 'better-sqlite3';
import { Migrator, sql } from 'kysely';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/domain/api-access/tokens.js';
import { ManualClock } from '../../src/shared/clock.js';
import { UserError } from '../../src/shared/errors.js';
import { addNote } from '../../src/domain/customers/notes.js';
import { eraseCustomer, purgeErasedRoleTraces } from '../../src/domain/privacy/erasure.js';
import { lookupCustomer, type LookupResult } from '../../src/domain/customers/lookup.js';
import { processRoleJobs } from '../../src/jobs/role-queue.js';
import { countTrigramMatches, watchTerm } from '../../src/store/customer-counts.repository.js';
import { insertCustomer } from '../../src/domain/customers/registration.js';
import { insertLinkSession } from '../../src/store/link-session.repository.js';
import { openDatabase, openMigratedDatabase, type Db } from '../../src/store/database.js';
import { migrations } from '../../src/store/migrations/index.js';
import { checkSourceMigrations, copySqliteStoreToPostgres } from '../../src/store/sqlite-to-postgres.js';
import { onPostgres, openTestDatabase, testDatabaseUrl } from '../support/database.js';
import { seedSmallStore } from '../support/fixtures.js';
import { ADMIN, buildSubject } from '../support/gdpr-fixture.js';

let dir: string;
let sourcePath: string;
/** The id of a customer deleted from the SQLite store: the highest id it ever handed out. */
let deletedCustomerId: number;

/**
 * A store built by the real domain code: customers with orders (one refunded), a purchase-event
 * customer with linked Discord and Steam accounts, role rules and jobs, notes, bans, link
 * sessions, a webhook endpoint and delivery, subscriptions and tickets, an API token, activity,
 * that customer erased, a referral to a customer who registered later, a watched search term, and
 * a customer deleted by hand.
 */
async function buildSqliteStore(path: string): Promise<void> {
  const { db } = await openMigratedDatabase(path);
  try {
    const clock = new ManualClock('2026-11-21T12:00:00.000Z');
    const store = await seedSmallStore(db, clock);
    await addNote(db, clock, { customerId: store.alice.id, author: ADMIN, body: 'Prefers refunds as store credit' });
    await insertLinkSession(db, { tokenHash: 'c'.repeat(64), customerId: store.alice.id, createdAt: clock.now().toISOString(), expiresAt: '2026-11-21T12:15:00.000Z' });
    const subject = await buildSubject(db, clock);
    await createApiToken(db, clock, { name: 'Checkout', scopes: ['customers:read'], actor: ADMIN });
    await eraseCustomer(db, clock, { customerId: subject.customerId, actor: ADMIN, reason: 'Asked in ticket T-5501' });
    await processRoleJobs(db, clock, subject.gateway);
    await purgeErasedRoleTraces(db, clock);
    const later = await insertCustomer(db, clock, { name: 'Lena Later', email: 'lena@example.org', createdAt: '2026-11-21T12:00:00.000Z' });
    await db.updateTable('customers').set({ referred_by: later.id }).where('id', '=', store.bob.id).execute();
    await db.updateTable('customers').set({ referred_by: store.bob.id }).where('id', '=', later.id).execute();
    const deleted = await insertCustomer(db, clock, { name: 'Del Eted', email: 'deleted@example.org' });
    await db.deleteFrom('customers').where('id', '=', deleted.id).execute();
    deletedCustomerId = deleted.id;
    await db.transaction().execute(async (trx) => watchTerm(trx, 'example', await countTrigramMatches(trx, '"example"'), '2026-11-21'));
  } finally {
    await db.destroy();
  }
}

function openSource(path = sourcePath): SQLite.Database {
  return new SQLite(path, { readonly: true, fileMustExist: true });
}

async function copyIntoFreshSchema(path = sourcePath) {
  const { db } = await openTestDatabase();
  const source = openSource(path);
  try {
    const report = await copySqliteStoreToPostgres(source, db, { batchRows: 3 });
    return { db, report };
  } finally {
    source.close();
  }
}

/** Every row of a table, as sorted JSON lines: the same rows in any order compare equal. */
async function tableRows(db: Db, table: string): Promise<string[]> {
  const condition = table === 'customer_day_counts' ? sql`WHERE customers <> 0` : sql``;
  const { rows } = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} ${condition}`.execute(db);
  return rows.map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).sort(([a], [b]) => a.localeCompare(b))))).sort();
}

async function tableCounts(db: Db): Promise<Record<string, number>> {
  const tables = await postgresTables(db);
  const counts: Record<string, number> = {};
  for (const table of tables) counts[table] = Number((await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(db)).rows[0]?.n);
  return counts;
}

async function postgresTables(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'kysely%' ORDER BY 1`.execute(db);
  return rows.map((r) => r.name);
}

function matchedIds(result: LookupResult): { ids: number[]; total: number } {
  return result.kind === 'customer' ? { ids: [result.customer.id], total: 1 } : { ids: result.matches.map((c) => c.id).sort(), total: result.total };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'migrate-copy-'));
  sourcePath = join(dir, 'customers.db');
  if (onPostgres) await buildSqliteStore(sourcePath);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!onPostgres)('copying a SQLite store to PostgreSQL', { timeout: 120_000 }, () => {
  it('copies every table row for row and verifies the counts and money figures', async () => {
    const { db, report } = await copyIntoFreshSchema();
    const sqlite = openDatabase(sourcePath).db;
    try {
      expect(report.ok).toBe(true);
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
      expect(report.checks.map((c) => c.name)).toEqual(
        expect.arrayContaining(['customers rows', 'orders rows', 'customers.total_spent_cents sum', 'orders refunded total_cents sum', 'store_counters.revenue_cents']),
      );

      const tables = await postgresTables(db);
      const counts: Record<string, number> = {};
      for (const table of tables) {
        const rows = await tableRows(db, table);
        expect(rows, table).toEqual(await tableRows(sqlite, table));
        counts[table] = rows.length;
      }
      // The fixture reached every kind of data the copy must carry.
      for (const table of [
        'customers',
        'orders',
        'order_items',
        'notes',
        'bans',
        'link_sessions',
        'api_tokens',
        'role_rules',
        'role_jobs',
        'activity_log',
        'inbound_events',
        'webhook_deliveries',
        'subscriptions',
        'support_tickets',
        'privacy_keys',
        'search_term_counts',
        'customer_day_counts',
      ]) {
        expect(counts[table], table).toBeGreaterThan(0);
      }
      const erased = await db.selectFrom('customers').select('email').where('erased_at', 'is not', null).execute();
      expect(erased).toHaveLength(1);
      expect((await db.selectFrom('orders').select('status').where('status', '=', 'refunded').execute()).length).toBeGreaterThan(0);
    } finally {
      await sqlite.destroy();
      await db.destroy();
    }
  });

  it('finds the same customers by substring on the copy as on SQLite', async () => {
    const { db } = await copyIntoFreshSchema();
    const sqlite = openDatabase(sourcePath).db;
    try {
      for (const query of ['lice', 'EXAMPLE.com', 'builder']) {
        const onSqlite = matchedIds(await lookupCustomer(sqlite, query));
        expect(onSqlite.total, query).toBeGreaterThan(0);
        expect(matchedIds(await lookupCustomer(db, query)), query).toEqual(onSqlite);
      }
      await expect(lookupCustomer(db, 'Qwertzuiop')).rejects.toThrow(/No customer matches/);
    } finally {
      await sqlite.destroy();
      await db.destroy();
    }
  });

  it('gives a customer added after the copy the id after the last one SQLite handed out', async () => {
    const { db } = await copyIntoFreshSchema();
    try {
      const highestCopied = await db.selectFrom('customers').select((eb) => eb.fn.max('id').as('id')).executeTakeFirstOrThrow();
      expect(Number(highestCopied.id)).toBeLessThan(deletedCustomerId);
      const added = await insertCustomer(db, new ManualClock('2026-11-22T00:00:00.000Z'), { name: 'New After Move', email: 'new@example.net' });
      expect(added.id).toBe(deletedCustomerId + 1);
      const counters = await db.selectFrom('store_counters').select('customers').executeTakeFirstOrThrow();
      expect(Number(counters.customers)).toBe(Number((await tableCounts(db)).customers));
    } finally {
      await db.destroy();
    }
  });

  it('refuses a target that already holds customers and leaves it as it was', async () => {
    const { db } = await copyIntoFreshSchema();
    const source = openSource();
    try {
      const before = await tableCounts(db);
      const refusal = copySqliteStoreToPostgres(source, db);
      await expect(refusal).rejects.toThrow(UserError);
      await expect(refusal).rejects.toThrow(`already holds ${before.customers} customers`);
      expect(await tableCounts(db)).toEqual(before);
    } finally {
      source.close();
      await db.destroy();
    }
  });

  it('leaves the target empty when a row cannot be copied', async () => {
    const brokenPath = join(dir, 'orphan.db');
    copyFileSync(sourcePath, brokenPath);
    const broken = new SQLite(brokenPath);
    broken.pragma('foreign_keys = OFF');
    broken
      .prepare("INSERT INTO orders (id, order_number, customer_id, status, total_cents, currency, created_at, updated_at) VALUES (77777, 'ORD-ORPHAN', 999999, 'completed', 100, 'USD', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')")
      .run();
    broken.close();

    const { db } = await openTestDatabase();
    const source = openSource(brokenPath);
    try {
      await expect(copySqliteStoreToPostgres(source, db, { batchRows: 3 })).rejects.toThrow(/foreign key/);
      const counts = await tableCounts(db);
      expect(Object.entries(counts).filter(([table, n]) => n > 0 && !['privacy_keys', 'search_positions', 'store_counters'].includes(table))).toEqual([]);
      // The triggers switched off for the copy are on again: a new customer is counted.
      await insertCustomer(db, new ManualClock('2026-11-22T00:00:00.000Z'), { name: 'First Real', email: 'first@example.net' });
      expect(await db.selectFrom('store_counters').select('customers').executeTakeFirstOrThrow()).toEqual({ customers: 1 });
    } finally {
      source.close();
      await db.destroy();
    }
  });

  it('keeps nothing and names the figure when the SQLite counters disagree with its rows', async () => {
    const driftedPath = join(dir, 'drifted.db');
    copyFileSync(sourcePath, driftedPath);
    const drifted = new SQLite(driftedPath);
    drifted.prepare('UPDATE store_counters SET revenue_cents = revenue_cents + 1').run();
    drifted.close();

    const { db } = await openTestDatabase();
    const source = openSource(driftedPath);
    try {
      const report = await copySqliteStoreToPostgres(source, db);
      expect(report.ok).toBe(false);
      expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['store_counters.revenue_cents']);
      expect((await tableCounts(db)).customers).toBe(0);
    } finally {
      source.close();
      await db.destroy();
    }
  });

  it('refuses a SQLite store that lacks a migration, naming it', async () => {
    const behindPath = join(dir, 'behind.db');
    const { db } = openDatabase(behindPath);
    const names = Object.keys(migrations).sort();
    const allButLast = Object.fromEntries(names.slice(0, -1).map((name) => [name, migrations[name] as (typeof migrations)[string]]));
    const { error } = await new Migrator({ db, provider: { getMigrations: () => Promise.resolve(allButLast) } }).migrateToLatest();
    await db.destroy();
    expect(error).toBeUndefined();
    const source = openSource(behindPath);
    try {
      expect(() => checkSourceMigrations(source, 'behind.db')).toThrow(`behind.db lacks migration ${names.at(-1)}`);
    } finally {
      source.close();
    }
  });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/migrate-copy.ts', ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe.skipIf(!onPostgres)('npm run migrate:copy', { timeout: 120_000 }, () => {
  const database = `migrate_copy_${randomBytes(6).toString('hex')}`;
  let url: string;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: testDatabaseUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  beforeAll(async () => {
    const parsed = new URL(testDatabaseUrl as string);
    parsed.pathname = `/${database}`;
    url = parsed.toString();
    await admin(`CREATE DATABASE ${database}`);
  });
  afterAll(async () => {
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('copies into an empty database, prints the checks, and then refuses to copy into it again', async () => {
    const copied = await runCli(['--from', sourcePath, '--to', url]);
    expect(copied.stderr).toBe('');
    expect(copied.code).toBe(0);
    expect(copied.stdout).toMatch(/^customers rows +\d+ +\d+$/m);
    expect(copied.stdout).toMatch(/^store_counters\.revenue_cents +\d+ +\d+$/m);
    expect(copied.stdout).toContain('Copied and verified');

    const again = await runCli(['--from', sourcePath, '--to', url]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/^Error: the PostgreSQL database already holds \d+ customers\. Copy into an empty database/);
  });

  it('refuses a missing SQLite file in one line', async () => {
    const result = await runCli(['--from', join(dir, 'missing.db'), '--to', url]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`Error: there is no SQLite file at ${join(dir, 'missing.db')}`);
  });
});
