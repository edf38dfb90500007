import SQLite from 'better-sqlite3';
import { Kysely, Migrator, sql, SqliteAdapter, SqliteDialect } from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrations } from './migrations/index.js';
import { withStatementCache } from './statement-cache.js';
import type { Database } from './tables.js';

export type Db = Kysely<Database>;

export interface OpenedDatabase {
  db: Db;
  /** The underlying connection, for the few things Kysely does not cover (backups, checkpoints). */
  sqlite: SQLite.Database;
}

/**
 * Opens (creating if needed) the SQLite database at `path` (`:memory:` for tests) with the
 * settings the bot relies on: WAL so readers never block the writer, enforced foreign keys, and
 * a busy timeout so a second process (a backup, the CLI) waits instead of failing.
 */
export function openDatabase(path: string): OpenedDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // NORMAL in WAL mode survives a process crash; only a power loss can drop the last commits.
  // Commits that answer someone outside (a purchase event's 200) use withDurableCommit instead.
  sqlite.pragma('synchronous = NORMAL');
  // Deleted and overwritten content is zeroed instead of lingering in free pages and unused page
  // space, so an erased customer's data is really gone from the file (GDPR erasure). Always on,
  // not just during erasure: a copy left behind by an earlier rename or page split is just as
  // readable. Measured cost: within run-to-run noise on inserts, orders and renames.
  sqlite.pragma('secure_delete = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, sqlite };
}

/** Runs every migration not yet applied; throws with the failing migration's name. */
export async function migrateToLatest(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrations) } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const cause = error instanceof Error ? error.message : JSON.stringify(error);
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${cause}`, { cause: error });
  }
}

/** A migrated in-memory database, for tests and tools. */
export async function openMigratedDatabase(path = ':memory:'): Promise<OpenedDatabase> {
  const opened = openDatabase(path);
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
 * to synchronous=FULL, so that commit fsyncs the write-ahead log (about 1–2 ms) and survives a
 * power loss, then back to NORMAL; everything else keeps NORMAL's cheaper commits, which survive
 * a process crash. Inside a caller's transaction the caller's commit decides. PostgreSQL commits
 * are durable by default (synchronous_commit = on), so elsewhere this just runs `work`.
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
