import type SQLite from 'better-sqlite3';
import { sql, type RawBuilder } from 'kysely';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { UserError } from '../shared/errors.js';
import { countTrigramMatches, listWatchedTerms, setWatchedTermCount } from './customer-counts.repository.js';
import { isPostgres, type Db } from './database.js';
import { migrations } from './migrations/index.js';

/**
 * Moving a store from its SQLite file to PostgreSQL: every base table copied in foreign-key order,
 * in batches, inside one PostgreSQL transaction, then checked against the source.
 *
 * What is not copied:
 * - SQLite's own tables (sqlite_sequence, the FTS5 search indexes and their shadow tables) and
 *   Kysely's migration bookkeeping: the target has its own, written by its own migrations.
 * - store_counters and customer_day_counts: on PostgreSQL, triggers on customers keep them. Those
 *   triggers are switched off for the copy and the two tables recomputed afterwards, each in one
 *   statement: with the triggers firing, every insert also updates the one store_counters row,
 *   whose versions pile up inside the single transaction, each update slower than the one before
 *   (bench/results.md).
 * - search_positions: both migrations fill it with the same numbers.
 *
 * search_term_counts is copied (which terms are watched is the application's choice), but its
 * counts are recounted with PostgreSQL's search, which folds case across Unicode as its
 * trigger does.
 */

/** Triggers that keep the derived tables on insert; a trigger not in this list stops the copy. */
const DERIVED_INSERT_TRIGGERS = ['customers_counters_insert', 'customers_days_insert', 'customers_terms_insert'];
const DERIVED_TABLES = new Set(['store_counters', 'customer_day_counts']);
const FILLED_BY_MIGRATIONS = new Set(['search_positions']);
/** Written by a migration with a random key; the source's key replaces it (ban hashes depend on it). */
const REPLACED_TABLES = new Set(['privacy_keys']);

const DEFAULT_BATCH_ROWS = 5_000;

export interface CopyProgress {
  table: string;
  rows: number;
  total: number;
}

export interface CopyOptions {
  /** Rows per INSERT; default 5,000. */
  batchRows?: number;
  /** Called after every batch. */
  onProgress?: (progress: CopyProgress) => void;
}

export interface TableCopy {
  table: string;
  rows: number;
  ms: number;
}

export interface VerificationCheck {
  name: string;
  sqlite: string;
  postgres: string;
  ok: boolean;
}

export interface CopyReport {
  /** True when the copy was committed: every check matched. */
  ok: boolean;
  tables: TableCopy[];
  checks: VerificationCheck[];
  /** Time spent recomputing the derived tables and setting the id sequences. */
  finishMs: number;
  ms: number;
}

interface SourceTable {
  name: string;
  columns: string[];
  /** Tables whose rows this one refers to (itself excluded). */
  parents: string[];
  /** The column referring to this table's own integer primary key, if any. */
  selfReference: string | null;
  /** The INTEGER PRIMARY KEY column (the rowid), if any. */
  rowidColumn: string | null;
  /** What the copy pages by: rowid, or a WITHOUT ROWID table's primary key. */
  keyColumns: string[];
}

interface TargetColumn {
  type: string;
  identity: boolean;
}

/**
 * Refuses a SQLite store whose migrations differ from this version's: behind, it lacks tables or
 * columns the target has; ahead, it has ones this version does not know. The file is opened
 * read-only, so it is never migrated here: see the CLI's usage for how to bring it up to date.
 */
export function checkSourceMigrations(source: SQLite.Database, label: string): void {
  const hasTable = source.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'").get();
  if (hasTable === undefined) throw new UserError('not_a_store', `${label} is not a store database (it has no migration table)`);
  const applied = new Set(source.prepare('SELECT name FROM kysely_migration').pluck().all() as string[]);
  const known = Object.keys(migrations).sort();
  const unknown = [...applied].filter((name) => !known.includes(name)).sort();
  if (unknown.length > 0) {
    throw new UserError('source_ahead', `${label} was migrated by a newer version of the bot (${unknown.at(-1)}): copy it with that version`);
  }
  const missing = known.filter((name) => !applied.has(name));
  if (missing.length > 0) {
    throw new UserError(
      'source_behind',
      `${label} lacks ${missing.length === 1 ? 'migration' : `${missing.length} migrations, the last`} ${missing.at(-1)}: ` +
        `migrate it first (DATABASE_URL=${label} npm run migrate), then copy again`,
    );
  }
}

/**
 * Copies the store in `source` (a SQLite connection at this version's latest migration, see
 * {@link checkSourceMigrations}) into `target`, a migrated, empty PostgreSQL store, and verifies
 * the copy: row counts of every table and the money aggregates on both sides. It all happens in
 * one PostgreSQL transaction, committed only when every check matches: otherwise the target is
 * left as it was and the report says what differed. Reads the source in one read transaction,
 * so the copy is one consistent snapshot even if something writes to the file meanwhile (those
 * writes are not copied: stop the bot first). Holds one batch in memory at a time.
 */
export async function copySqliteStoreToPostgres(source: SQLite.Database, target: Db, options: CopyOptions = {}): Promise<CopyReport> {
  if (!isPostgres(target)) throw new Error('the target of the copy must be a PostgreSQL database');
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const started = performance.now();
  const ownsReadTransaction = !source.inTransaction;
  if (ownsReadTransaction) source.exec('BEGIN');
  try {
    const tables = orderByForeignKeys(readSourceTables(source));
    const targetColumns = await readTargetColumns(target);
    checkSameTables(tables, targetColumns);
    let report: CopyReport | undefined;
    try {
      await target.transaction().execute(async (trx) => {
        await refuseNonEmptyTarget(trx, tables);
        const triggers = await disableDerivedTriggers(trx);
        const copies: TableCopy[] = [];
        for (const table of tables) {
          copies.push(await copyTable(source, trx, table, targetColumns.get(table.name) as Map<string, TargetColumn>, batchRows, options.onProgress));
        }
        const finishStarted = performance.now();
        await setIdentitySequences(source, trx, tables, targetColumns);
        await recomputeDerivedTables(trx);
        for (const name of triggers) await sql`ALTER TABLE customers ENABLE TRIGGER ${sql.id(name)}`.execute(trx);
        const finishMs = Math.round(performance.now() - finishStarted);
        const checks = await verifyCopy(source, trx, tables);
        const ok = checks.every((check) => check.ok);
        report = { ok, tables: copies, checks, finishMs, ms: 0 };
        if (!ok) throw new VerificationFailed();
        // Statistics for the planner before the bot's first query, not after autovacuum's.
        for (const table of tables) await sql`ANALYZE ${sql.table(table.name)}`.execute(trx);
      });
    } catch (error) {
      if (!(error instanceof VerificationFailed) || report === undefined) throw error;
    }
    if (report === undefined) throw new Error('the copy ended without a report');
    return { ...report, ms: Math.round(performance.now() - started) };
  } finally {
    if (ownsReadTransaction && source.inTransaction) source.exec('COMMIT');
  }
}

class VerificationFailed extends Error {}

function quoteId(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Base tables that hold the store's own data, with what the copy needs to know about each. */
function readSourceTables(source: SQLite.Database): SourceTable[] {
  const all = source.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string; sql: string | null }>;
  const virtual = all.filter((t) => /^CREATE VIRTUAL TABLE/i.test(t.sql ?? '')).map((t) => t.name);
  const copied = all.filter(
    (t) =>
      !t.name.startsWith('sqlite_') &&
      !t.name.startsWith('kysely_') &&
      !virtual.some((v) => t.name === v || t.name.startsWith(`${v}_`)) &&
      !DERIVED_TABLES.has(t.name) &&
      !FILLED_BY_MIGRATIONS.has(t.name),
  );
  return copied.map(({ name, sql: definition }) => {
    const info = source.prepare(`PRAGMA table_info(${quoteId(name)})`).all() as Array<{ name: string; type: string; pk: number }>;
    const keys = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    const withoutRowid = /\bWITHOUT\s+ROWID\s*;?\s*$/i.test(definition ?? '');
    const rowidColumn = keys.length === 1 && keys[0]?.type.toUpperCase() === 'INTEGER' ? keys[0].name : null;
    const foreignKeys = source.prepare(`PRAGMA foreign_key_list(${quoteId(name)})`).all() as Array<{ table: string; from: string; to: string | null }>;
    const selfReferences = foreignKeys.filter((fk) => fk.table === name);
    const self = selfReferences[0];
    if (selfReferences.length > 1 || (self !== undefined && (rowidColumn === null || (self.to !== null && self.to !== rowidColumn)))) {
      throw new Error(`${name} refers to itself other than by one column holding its integer key; the copy cannot order such rows`);
    }
    return {
      name,
      columns: info.map((c) => c.name),
      parents: [...new Set(foreignKeys.map((fk) => fk.table).filter((t) => t !== name))],
      selfReference: self?.from ?? null,
      rowidColumn,
      keyColumns: withoutRowid ? keys.map((k) => k.name) : ['rowid'],
    };
  });
}

/** Parents before children, so every foreign key finds its row (ties by name, for a stable order). */
function orderByForeignKeys(tables: SourceTable[]): SourceTable[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: SourceTable[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (table: SourceTable) => {
    if (state.get(table.name) === 'done') return;
    if (state.get(table.name) === 'visiting') throw new Error(`the foreign keys around ${table.name} form a cycle; the copy cannot order them`);
    state.set(table.name, 'visiting');
    for (const parent of table.parents) {
      const parentTable = byName.get(parent);
      if (parentTable) visit(parentTable);
    }
    state.set(table.name, 'done');
    ordered.push(table);
  };
  for (const table of tables) visit(table);
  return ordered;
}

async function readTargetColumns(target: Db): Promise<Map<string, Map<string, TargetColumn>>> {
  const { rows } = await sql<{ table_name: string; column_name: string; type: string; identity: boolean }>`
    SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type, a.attidentity <> '' AS identity
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY c.relname, a.attnum`.execute(target);
  const tables = new Map<string, Map<string, TargetColumn>>();
  for (const row of rows) {
    const columns = tables.get(row.table_name) ?? new Map<string, TargetColumn>();
    columns.set(row.column_name, { type: row.type, identity: row.identity });
    tables.set(row.table_name, columns);
  }
  return tables;
}

/** Both migrations are at the same level, so a difference here means someone changed a schema by hand. */
function checkSameTables(tables: SourceTable[], target: Map<string, Map<string, TargetColumn>>): void {
  const copied = new Set(tables.map((t) => t.name));
  for (const table of tables) {
    const columns = target.get(table.name);
    if (!columns) throw new UserError('schema_differs', `table ${table.name} is in the SQLite file but not in the PostgreSQL database`);
    const missing = table.columns.filter((c) => !columns.has(c));
    const extra = [...columns.keys()].filter((c) => !table.columns.includes(c));
    if (missing.length > 0 || extra.length > 0) {
      const parts = [missing.length > 0 ? `only in SQLite: ${missing.join(', ')}` : '', extra.length > 0 ? `only in PostgreSQL: ${extra.join(', ')}` : ''];
      throw new UserError('schema_differs', `table ${table.name} has different columns on the two sides (${parts.filter(Boolean).join('; ')})`);
    }
  }
  const unknown = [...target.keys()].filter((t) => !copied.has(t) && !t.startsWith('kysely_') && !DERIVED_TABLES.has(t) && !FILLED_BY_MIGRATIONS.has(t));
  if (unknown.length > 0) throw new UserError('schema_differs', `the PostgreSQL database has tables the SQLite file lacks: ${unknown.join(', ')}`);
}

async function refuseNonEmptyTarget(trx: Db, tables: SourceTable[]): Promise<void> {
  const empty = 'Copy into an empty database: create one (createdb <name>) or drop and re-create this one, then run the copy again.';
  // The lock keeps the bot (or a second copy) from adding customers between this check and the commit.
  await sql`LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
  const customers = await sql<{ n: string }>`SELECT count(*)::text AS n FROM customers`.execute(trx);
  const count = Number(customers.rows[0]?.n ?? 0);
  if (count > 0) throw new UserError('target_not_empty', `the PostgreSQL database already holds ${count.toLocaleString('en-US')} customers. ${empty}`);
  for (const table of tables) {
    if (REPLACED_TABLES.has(table.name)) continue;
    const { rows } = await sql<{ found: boolean }>`SELECT EXISTS (SELECT 1 FROM ${sql.table(table.name)}) AS found`.execute(trx);
    if (rows[0]?.found) throw new UserError('target_not_empty', `the PostgreSQL database already holds rows in ${table.name}. ${empty}`);
  }
  for (const name of REPLACED_TABLES) await sql`DELETE FROM ${sql.table(name)}`.execute(trx);
}

/** Switches off the insert triggers the copy replaces with one recomputation each; refuses unknown ones. */
async function disableDerivedTriggers(trx: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT tgname AS name FROM pg_trigger
    WHERE tgrelid = 'customers'::regclass AND NOT tgisinternal AND tgenabled <> 'D' AND (tgtype & 4) <> 0
    ORDER BY tgname`.execute(trx);
  const names = rows.map((r) => r.name);
  const unknown = names.filter((name) => !DERIVED_INSERT_TRIGGERS.includes(name));
  if (unknown.length > 0) throw new Error(`customers has insert triggers the copy does not know how to replace: ${unknown.join(', ')}`);
  for (const name of names) await sql`ALTER TABLE customers DISABLE TRIGGER ${sql.id(name)}`.execute(trx);
  return names;
}

async function copyTable(
  source: SQLite.Database,
  trx: Db,
  table: SourceTable,
  columns: Map<string, TargetColumn>,
  batchRows: number,
  onProgress: CopyOptions['onProgress'],
): Promise<TableCopy> {
  const started = performance.now();
  const total = Number(source.prepare(`SELECT count(*) FROM ${quoteId(table.name)}`).pluck().get());
  const keys = table.keyColumns.map(quoteId).join(', ');
  const select = `SELECT ${keys}, ${table.columns.map(quoteId).join(', ')} FROM ${quoteId(table.name)}`;
  const first = source.prepare(`${select} ORDER BY ${keys} LIMIT ?`).raw(true).safeIntegers(true);
  const following = source.prepare(`${select} WHERE (${keys}) > (${table.keyColumns.map(() => '?').join(', ')}) ORDER BY ${keys} LIMIT ?`).raw(true).safeIntegers(true);
  const keyCount = table.keyColumns.length;
  const read = (after: unknown[] | null) => (after === null ? first.all(batchRows) : following.all(...after, batchRows)) as unknown[][];
  const selfIndex = table.selfReference === null ? -1 : table.columns.indexOf(table.selfReference);
  // Rows that refer to a later row of their own table get that reference once every row is in.
  const deferred: Array<[bigint, bigint]> = [];
  const insertInto = (rows: unknown[][]) => {
    const values = table.columns.map((_, c) => rows.map((row) => row[c + keyCount]));
    const references = values[selfIndex];
    if (references !== undefined) {
      for (const [i, row] of rows.entries()) {
        const value = references[i];
        if (typeof value === 'bigint' && value > (row[0] as bigint)) {
          deferred.push([row[0] as bigint, value]);
          references[i] = null;
        }
      }
    }
    const arrays = values.map((v, c) => sql`${v}::${sql.raw(`${(columns.get(table.columns[c] as string) as TargetColumn).type}[]`)}`);
    return sql`INSERT INTO ${sql.table(table.name)} (${sql.join(table.columns.map((c) => sql.id(c)))})
      SELECT * FROM unnest(${sql.join(arrays)})`.execute(trx);
  };

  let copied = 0;
  let rows = read(null);
  while (rows.length > 0) {
    const after = (rows[rows.length - 1] as unknown[]).slice(0, keyCount);
    const inserting = insertInto(rows);
    inserting.catch(() => undefined);
    // Let the INSERT reach the server, then read the next batch while PostgreSQL works on it.
    await nextTurn();
    const next = read(after);
    await inserting;
    copied += rows.length;
    onProgress?.({ table: table.name, rows: copied, total });
    rows = next;
  }
  const column = table.selfReference;
  if (column !== null && table.rowidColumn !== null) {
    for (let i = 0; i < deferred.length; i += batchRows) {
      const chunk = deferred.slice(i, i + batchRows);
      await sql`UPDATE ${sql.table(table.name)} SET ${sql.id(column)} = v.ref
        FROM unnest(${chunk.map((d) => d[0])}::bigint[], ${chunk.map((d) => d[1])}::bigint[]) AS v(key, ref)
        WHERE ${sql.ref(`${table.name}.${table.rowidColumn}`)} = v.key`.execute(trx);
    }
  }
  return { table: table.name, rows: copied, ms: Math.round(performance.now() - started) };
}

/**
 * Identity columns continue past the highest id SQLite ever handed out: its AUTOINCREMENT never
 * reuses the id of a deleted row, and the bot on PostgreSQL must not either.
 */
async function setIdentitySequences(source: SQLite.Database, trx: Db, tables: SourceTable[], target: Map<string, Map<string, TargetColumn>>): Promise<void> {
  const hasSequences = source.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'").get() !== undefined;
  for (const table of tables) {
    for (const [column, info] of target.get(table.name) ?? []) {
      if (!info.identity) continue;
      const highest = BigInt(source.prepare(`SELECT coalesce(max(${quoteId(column)}), 0) FROM ${quoteId(table.name)}`).pluck().safeIntegers(true).get() as bigint);
      const handedOut = hasSequences
        ? BigInt((source.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').pluck().safeIntegers(true).get(table.name) as bigint | undefined) ?? 0n)
        : 0n;
      const last = highest > handedOut ? highest : handedOut;
      // setval(…, false) makes the next id exactly this one, which also covers an empty table.
      await sql`SELECT setval(pg_get_serial_sequence(${table.name}, ${column}), ${(last + 1n).toString()}::bigint, false)`.execute(trx);
    }
  }
}

/** What the insert triggers would have built, in one statement per table (migration 08's queries). */
async function recomputeDerivedTables(trx: Db): Promise<void> {
  const counters = await sql`UPDATE store_counters SET
      customers = s.customers, with_orders = s.with_orders, repeat_customers = s.repeat_customers,
      loyal_customers = s.loyal_customers, completed_orders = s.completed_orders, revenue_cents = s.revenue_cents
    FROM (SELECT count(*) AS customers, coalesce(sum((orders_count >= 1)::int), 0) AS with_orders,
        coalesce(sum((orders_count >= 2)::int), 0) AS repeat_customers, coalesce(sum((orders_count >= 5)::int), 0) AS loyal_customers,
        coalesce(sum(orders_count), 0) AS completed_orders, coalesce(sum(total_spent_cents), 0) AS revenue_cents
      FROM customers) AS s
    WHERE store_counters.id = 1`.execute(trx);
  if (counters.numAffectedRows !== 1n) throw new Error('store_counters has no row: the PostgreSQL migrations did not run');
  await sql`DELETE FROM customer_day_counts`.execute(trx);
  await sql`INSERT INTO customer_day_counts (kind, day, customers)
    SELECT 'registered', substr(created_at, 1, 10), count(*) FROM customers GROUP BY 2`.execute(trx);
  await sql`INSERT INTO customer_day_counts (kind, day, customers)
    SELECT 'last_order', substr(last_order_at, 1, 10), count(*) FROM customers WHERE last_order_at IS NOT NULL GROUP BY 2`.execute(trx);
  for (const term of await listWatchedTerms(trx)) {
    const customers = await countTrigramMatches(trx, `"${term.replaceAll('"', '""')}"`);
    await setWatchedTermCount(trx, term, customers);
  }
}

interface Figure {
  name: string;
  sqlite: () => FigureValue;
  postgres: RawBuilder<{ value: string | null }>;
}

type FigureValue = string | number | bigint | null | undefined;

function figureText(value: FigureValue): string {
  return value === null || value === undefined ? '—' : String(value);
}

/** Row counts of every copied table and the store's money figures, read on both sides. */
async function verifyCopy(source: SQLite.Database, trx: Db, tables: SourceTable[]): Promise<VerificationCheck[]> {
  const one = (query: string, ...params: unknown[]) => () => source.prepare(query).pluck().safeIntegers(true).get(...params) as FigureValue;
  const figures: Figure[] = [];
  for (const table of [...tables.map((t) => t.name), ...FILLED_BY_MIGRATIONS]) {
    figures.push({ name: `${table} rows`, sqlite: one(`SELECT count(*) FROM ${quoteId(table)}`), postgres: sql`SELECT count(*)::text AS value FROM ${sql.table(table)}` });
  }
  for (const column of ['orders_count', 'total_spent_cents']) {
    figures.push({
      name: `customers.${column} sum`,
      sqlite: one(`SELECT sum(${column}) FROM customers`),
      postgres: sql`SELECT sum(${sql.ref(column)})::text AS value FROM customers`,
    });
  }
  const statuses = new Set([
    ...(source.prepare('SELECT DISTINCT status FROM orders').pluck().all() as string[]),
    ...(await sql<{ status: string }>`SELECT DISTINCT status FROM orders`.execute(trx)).rows.map((r) => r.status),
  ]);
  for (const status of [...statuses].sort()) {
    figures.push({
      name: `orders ${status} count`,
      sqlite: one('SELECT count(*) FROM orders WHERE status = ?', status),
      postgres: sql`SELECT count(*)::text AS value FROM orders WHERE status = ${status}`,
    });
    figures.push({
      name: `orders ${status} total_cents sum`,
      sqlite: one('SELECT sum(total_cents) FROM orders WHERE status = ?', status),
      postgres: sql`SELECT sum(total_cents)::text AS value FROM orders WHERE status = ${status}`,
    });
  }
  for (const column of ['customers', 'with_orders', 'repeat_customers', 'loyal_customers', 'completed_orders', 'revenue_cents']) {
    figures.push({
      name: `store_counters.${column}`,
      sqlite: one(`SELECT ${column} FROM store_counters WHERE id = 1`),
      postgres: sql`SELECT ${sql.ref(column)}::text AS value FROM store_counters WHERE id = 1`,
    });
  }
  // SQLite keeps a day whose count fell to zero; the recomputation has no row for it.
  for (const kind of ['registered', 'last_order']) {
    figures.push({
      name: `customer_day_counts ${kind} days`,
      sqlite: one('SELECT count(*) FROM customer_day_counts WHERE kind = ? AND customers <> 0', kind),
      postgres: sql`SELECT count(*)::text AS value FROM customer_day_counts WHERE kind = ${kind} AND customers <> 0`,
    });
    figures.push({
      name: `customer_day_counts ${kind} sum`,
      sqlite: one('SELECT sum(customers) FROM customer_day_counts WHERE kind = ?', kind),
      postgres: sql`SELECT sum(customers)::text AS value FROM customer_day_counts WHERE kind = ${kind}`,
    });
  }
  const checks: VerificationCheck[] = [];
  for (const figure of figures) {
    const sqliteValue = figureText(figure.sqlite());
    const postgresValue = figureText((await figure.postgres.execute(trx)).rows[0]?.value);
    checks.push({ name: figure.name, sqlite: sqliteValue, postgres: postgresValue, ok: sqliteValue === postgresValue });
  }
  return checks;
}
