import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct SQL texts kept prepared; the app issues a few hundred shapes of query. */
const MAX_STATEMENTS = 500;
/** Longer texts are multi-row inserts and IN lists, whose row count varies. */
const MAX_CACHED_SQL_LENGTH = 4_096;
/**
 * A few of the long ones are kept too: a bulk import repeats the same full-chunk insert (400 rows)
 * thousands of times, and preparing its long SQL again each time is a real share of an import
 * (bench/results.md).
 */
const MAX_LONG_STATEMENTS = 8;
const MAX_LONG_SQL_LENGTH = 256 * 1024;

/**
 * better-sqlite3 for Kysely, with prepared statements kept by SQL text (the oldest dropped
 * first beyond `max`). Kysely prepares every query it runs, and preparing a statement over the
 * customers table (schema lookups for each of its columns) costs more than running a primary-key
 * lookup, so preparing once per SQL text is what keeps Kysely's reads near the hand-prepared
 * statement (bench/results.md).
 *
 * Safe because Kysely runs one query at a time on the connection (a stream holds it until done),
 * so a cached statement is never re-entered while it iterates; SQLite re-prepares a cached
 * statement by itself after a schema change.
 */
export function withStatementCache(database: SQLite.Database, max = MAX_STATEMENTS): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  const long = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      long.clear();
      database.close();
    },
    prepare(sql: string): SqliteStatement {
      // First in, first out rather than least recently used: a hit costs one lookup, and with a
      // few hundred shapes of query an eviction is rare enough that its choice hardly matters.
      const short = sql.length <= MAX_CACHED_SQL_LENGTH;
      const kept = short ? cache : sql.length <= MAX_LONG_SQL_LENGTH ? long : null;
      const cached = kept?.get(sql);
      if (cached) return cached;
      const statement = database.prepare(sql);
      if (kept) {
        kept.set(sql, statement);
        if (kept.size > (short ? max : MAX_LONG_STATEMENTS)) {
          const oldest = kept.keys().next();
          if (!oldest.done) kept.delete(oldest.value);
        }
      }
      return statement;
    },
  };
}
