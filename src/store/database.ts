import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, sql, SqliteAdapter, type Compilable, type KyselyConfig, type SqliteDatabase } from 'kysely';
import { accessSync, constants, existsSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import pg from 'pg';
import { createFolders, databaseFileError, removeFolders } from './database-location.js';
import { migrations } from './migrations/index.js';
import { ImmediateSqliteDialect } from './sqlite-immediate.js';
import { withStatementCache } from './statement-cache.js';
import type { Database } from './schema/index.js';

export { createFolders, DatabaseLocationError, FolderError, removeFolders } from './database-location.js';

export type Db = Kysely<Database>;

export interface OpenOptions {
  /** Kysely's query log: for tests that count the queries a feature runs. */
  log?: KyselyConfig['log'];
}

export interface OpenedDatabase {
  db: Db;
  /** The underlying connection, for the few things Kysely does not cover (backups, checkpoints). */
  sqlite: SQLite.Database;
}

/**
 * Opens (creating if needed) the SQLite database at `path` (`:memory:` for tests) with the
 * settings the bot relies on: WAL so readers never block the writer, enforced foreign keys, and
 * a busy timeout so a second process (a backup, the CLI) waits instead of failing. A file that
 * cannot be opened or written throws {@link DatabaseLocationError}, leaving behind no folder or
 * file it made.
 */
export function openDatabase(path: string, options: OpenOptions = {}): OpenedDatabase {
  if (path === ':memory:') return openConnection(path, options);
  const file = resolve(path);
  const existed = existsSync(file);
  let created: string[] = [];
  let attempted = false;
  try {
    created = createFolders(dirname(file));
    // SQLite opens a file the bot may only read without complaint, read-only; asking now shows at
    // start-up, not at the first purchase, that writes would fail. The folder is written too
    // (the -wal and -shm files).
    accessSync(dirname(file), constants.W_OK);
    if (existed) accessSync(file, constants.W_OK);
    attempted = true;
    return openConnection(path, options);
  } catch (error) {
    if (attempted && !existed) for (const made of [file, `${file}-wal`, `${file}-shm`]) rmSync(made, { force: true });
    removeFolders(created);
    throw databaseFileError(file, error);
  }
}

function openConnection(path: string, options: OpenOptions): OpenedDatabase {
  const sqlite = new SQLite(path);
  try {
    configureConnection(sqlite);
  } catch (error) {
    sqlite.close();
    throw error;
  }
  const statements = withStatementCache(sqlite);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: statements }), ...(options.log ? { log: options.log } : {}) });
  rawConnections.set(db, statements);
  return { db, sqlite };
}

function configureConnection(sqlite: SQLite.Database): void {
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // NORMAL in WAL mode survives a process crash; only a power loss can drop the last commits.
  // Commits that answer someone outside (a purchase event's 200) use withDurableCommit instead.
  sqlite.pragma('synchronous = NORMAL');
  // Deleted and overwritten content is zeroed instead of lingering in free pages and unused page
  // space, so an erased customer's data is really gone from the file (GDPR erasure). Always on,
  // not just during erasure: a copy left behind by an earlier rename or page split is just as
  // readable. Its cost on inserts, orders and renames is too small to tell from noise.
  sqlite.pragma('secure_delete = ON');
  // SQLite's lower() folds ASCII letters only. For queries alone, never in the schema: any other
  // client (the sqlite3 shell, a backup tool) must still be able to write the file. Composed
  // (NFC), so a ü typed as u and a combining diaeresis meets a ü typed as one character.
  sqlite.function('unicode_lower', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? text.toLowerCase().normalize('NFC') : text));
}

/** The better-sqlite3 connection behind each Kysely instance opened by {@link openDatabase}. */
const rawConnections = new WeakMap<Db, SqliteDatabase>();

/**
 * Runs a select and returns its rows as arrays of values, in the order selected. On a SQLite
 * store, better-sqlite3's raw mode on the connection Kysely holds for it: building a JavaScript
 * object per row in the driver cost a third of a million-row export's read. Elsewhere (PostgreSQL,
 * inside a transaction) through Kysely, with each row's values in column order.
 */
export async function selectRowsAsArrays(db: Db, query: Compilable<unknown>): Promise<unknown[][]> {
  const compiled = query.compile();
  const sqlite = rawConnections.get(db);
  if (sqlite === undefined) {
    const { rows } = await db.executeQuery(compiled);
    return rows.map((row) => Object.values(row as object) as unknown[]);
  }
  // Held like any Kysely query, so it never runs inside another caller's open transaction. The
  // statement is the cached one Kysely would use (a new one per batch would leave finished
  // statements piling up until the collector came by), switched to raw mode for this call only:
  // nothing else can run on it in between.
  return db.connection().execute(() => {
    const statement = sqlite.prepare(compiled.sql) as SQLite.Statement;
    statement.raw(true);
    try {
      return Promise.resolve(statement.all(...compiled.parameters) as unknown[][]);
    } finally {
      statement.raw(false);
    }
  });
}

/** True for a `postgres://` or `postgresql://` URL: the store then lives in PostgreSQL. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** A store's location as it may be shown to a person: a PostgreSQL URL's password masked. */
export function shownStoreLocation(location: string): string {
  if (!isPostgresUrl(location) || !URL.canParse(location)) return location;
  const url = new URL(location);
  if (url.password !== '') url.password = '***';
  return url.toString();
}

/** True for a SQLite store kept in a file (not in memory, not PostgreSQL). */
export function isSqliteFile(location: string): boolean {
  return location !== ':memory:' && location !== '' && !isPostgresUrl(location);
}

/** True when `db` talks to PostgreSQL (the few queries that differ branch on this). */
export function isPostgres(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

const PG_INT8 = 20;
const PG_NUMERIC = 1700;

/**
 * pg hands back int8 and numeric as strings, because they can exceed 2^53. Every integer the
 * store keeps (ids, cents, counts) is far below that, and the domain expects numbers, as SQLite
 * returns them: count(*) is int8 and sum() over int8 is numeric, so both parse to numbers.
 */
const postgresTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === PG_INT8 || oid === PG_NUMERIC ? (value: string) => Number(value) : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
};

export interface PostgresOptions {
  /** Schema to work in (tables are created and found there first, then in public). */
  schema?: string;
  /** Pool size; pg's default is 10. */
  maxConnections?: number;
}

/**
 * Opens a pooled PostgreSQL connection to the store at `url`. Timestamps stay ISO-8601 text
 * columns, as on SQLite, so nothing is converted on the way in or out.
 */
export function openPostgresDatabase(url: string, options: PostgresOptions = {}): { db: Db; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: url,
    types: postgresTypes,
    ...(options.maxConnections === undefined ? {} : { max: options.maxConnections }),
    ...(options.schema === undefined ? {} : { options: `-c search_path=${schemaName(options.schema)},public` }),
  });
  // An idle connection the server ends (a restart, a failover, an administrator) is reported
  // here, after pg has dropped it from the pool; the next query opens a new one. Unheard, the
  // event would end the process with a stack trace.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, pool };
}

/** Goes unquoted into the connection's startup options, so only plain lower-case names pass. */
function schemaName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`schema name "${name}" must be lower-case letters, digits and _`);
  return name;
}

/** Opens the configured store: PostgreSQL for a postgres:// URL, else the SQLite file at `location`. */
export function openStoreDatabase(location: string): Db {
  return isPostgresUrl(location) ? openPostgresDatabase(location).db : openDatabase(location).db;
}

/** Runs every migration not yet applied and returns their names; throws with the failing one's. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  // Kysely looks for its bookkeeping tables in every schema unless told which one: on a database
  // with more than one schema (tests use one each) it would find another schema's and skip its own.
  const schema = isPostgres(db) ? (await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const cause = error instanceof Error ? error.message : JSON.stringify(error);
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${cause}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** A migrated in-memory database, for tests and tools. */
export async function openMigratedDatabase(path = ':memory:', options: OpenOptions = {}): Promise<OpenedDatabase> {
  const opened = openDatabase(path, options);
  await migrateToLatest(opened.db);
  return opened;
}

/**
 * Copies the write-ahead log into the database file and truncates the log to zero bytes, so
 * content an erasure overwrote no longer sits in old log frames. SQLite only (a no-op elsewhere);
 * must run outside a transaction. Returns false when a reader kept part of the log (it is then
 * checkpointed by a later call or at the next automatic checkpoint).
 */
export async function truncateWriteAheadLog(db: Db): Promise<boolean> {
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return true;
  const result = await sql<{ busy: number; log: number; checkpointed: number }>`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db);
  const row = result.rows[0];
  return row === undefined || row.busy === 0;
}

/**
 * Runs `work` so that what it commits is on disk, not just in the OS cache, when it returns: for
 * writes acknowledged to someone who will not send them again (the store stops retrying a
 * purchase event once it gets its 200). On SQLite the connection is held for `work` and switched
 * to synchronous=FULL, so that commit fsyncs the write-ahead log (waiting for the disk) and
 * survives a power loss, then back to NORMAL; everything else keeps NORMAL's cheaper commits,
 * which survive a process crash. Inside a caller's transaction the caller's commit decides.
 * PostgreSQL commits are durable by default (synchronous_commit = on), so elsewhere this just
 * runs `work`.
 */
export async function withDurableCommit<T>(db: Db, work: (db: Db) => Promise<T>): Promise<T> {
  if (db.isTransaction || !(db.getExecutor().adapter instanceof SqliteAdapter)) return work(db);
  return db.connection().execute(async (connection) => {
    await sql`PRAGMA synchronous = FULL`.execute(connection);
    try {
      return await work(connection);
    } finally {
      await sql`PRAGMA synchronous = NORMAL`.execute(connection);
    }
  });
}

/**
 * Runs `work` in the caller's transaction when handed one, else in a new one: store and domain
 * functions stay atomic on their own and compose inside a larger transaction opened at the edge.
 */
export function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}
