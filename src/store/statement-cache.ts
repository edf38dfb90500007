import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct SQL texts kept prepared; the app issues a few hundred shapes of query. */
const MAX_STATEMENTS = 500;
/** Longer texts are multi-row inserts whose row count varies: preparing them again is cheap next to running them. */
const MAX_CACHED_SQL_LENGTH = 4_096;

/**
 * better-sqlite3 for Kysely, with prepared statements kept by SQL text (the oldest dropped
 * first beyond `max`). Kysely prepares every query it runs, and preparing a statement over the
 * customers table (~50 µs, schema lookups for 28 columns) costs more than running a primary-key
 * lookup (~5 µs): without this a by-id read through Kysely took 4× the hand-prepared statement.
 *
 * Safe because Kysely runs one query at a time on the connection (a stream holds it until done),
 * so a cached statement is never re-entered while it iterates; SQLite re-prepares a cached
 * statement by itself after a schema change.
 */
export function withStatementCache(database: SQLite.Database, max = MAX_STATEMENTS): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare(sql: string): SqliteStatement {
      // First in, first out rather than least recently used: a hit costs one lookup, and with a
      // few hundred shapes of query an eviction is rare enough that its choice hardly matters.
      const cached = cache.get(sql);
      if (cached) return cached;
      const statement = database.prepare(sql);
      if (sql.length <= MAX_CACHED_SQL_LENGTH) {
        cache.set(sql, statement);
        if (cache.size > max) {
          const oldest = cache.keys().next();
          if (!oldest.done) cache.delete(oldest.value);
        }
      }
      return statement;
    },
  };
}
