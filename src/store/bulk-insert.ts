import type { Compilable, CompiledQuery, DialectAdapter } from 'kysely';
import type { Db } from './database.js';

type Row = Record<string, unknown>;

interface Prepared {
  query: CompiledQuery<unknown>;
  /** Where each (row, column) value goes in the parameters, row by row. */
  positions: Int32Array;
}

/** Per dialect adapter (shared by a Kysely instance and its transactions), per shape and row count. */
const prepared = new WeakMap<DialectAdapter, Map<string, Prepared>>();
/**
 * Full chunks repeat; the last chunk of each call has a row count of its own. Keeping a few
 * shapes covers the full chunks of every table, and the least recently used goes beyond that, so a long
 * run of imports with ever-different remainders does not grow the cache.
 */
const MAX_SHAPES = 16;

/**
 * A multi-row INSERT whose query Kysely builds and compiles once per shape (the table, the
 * columns of `rows[0]`, the row count and the dialect), then runs again with new values. A bulk
 * import sends thousands of 400-row inserts of one shape, and building Kysely's tree for thousands
 * of values and compiling it again for each is a real share of an import (bench/results.md).
 *
 * `build` receives rows of markers and must produce the insert (with any ON CONFLICT or
 * RETURNING); every marker must end up as a parameter exactly once. Every row must carry the same
 * columns as the first, none of them undefined.
 */
export async function insertRowsCompiled<R>(db: Db, shape: string, rows: readonly Row[], build: (db: Db, rows: Row[]) => Compilable<R>): Promise<R[]> {
  const first = rows[0];
  if (first === undefined) return [];
  const columns = Object.keys(first);
  const adapter = db.getExecutor().adapter;
  let byShape = prepared.get(adapter);
  if (!byShape) {
    byShape = new Map();
    prepared.set(adapter, byShape);
  }
  const key = `${shape}|${columns.join(',')}|${rows.length}`;
  let entry = byShape.get(key);
  if (entry) {
    // Most recently used last: the full chunks, used on every call, are never the oldest.
    byShape.delete(key);
    byShape.set(key, entry);
  } else {
    entry = prepare(db, columns, rows.length, build);
    if (byShape.size >= MAX_SHAPES) {
      const oldest = byShape.keys().next();
      if (!oldest.done) byShape.delete(oldest.value);
    }
    byShape.set(key, entry);
  }
  const { query, positions } = entry;
  const parameters = query.parameters.slice();
  let at = 0;
  for (const row of rows) {
    for (const column of columns) {
      const value = row[column];
      if (value === undefined) throw new Error(`bulk insert into ${shape}: a row lacks ${column}`);
      parameters[positions[at++] as number] = value;
    }
  }
  const result = await db.executeQuery<R>({ ...(query as CompiledQuery<R>), parameters });
  return result.rows;
}

function prepare<R>(db: Db, columns: readonly string[], count: number, build: (db: Db, rows: Row[]) => Compilable<R>): Prepared {
  const marker = (row: number, column: number) => `\u0000bulk-insert-${row}-${column}\u0000`;
  const markerRows = Array.from({ length: count }, (_, r) => Object.fromEntries(columns.map((column, c) => [column, marker(r, c)])));
  const query = build(db, markerRows).compile() as CompiledQuery<unknown>;
  const index = new Map<unknown, number>();
  query.parameters.forEach((value, i) => index.set(value, index.has(value) ? -1 : i));
  const positions = new Int32Array(count * columns.length);
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < columns.length; c++) {
      const at = index.get(marker(r, c));
      if (at === undefined || at < 0) throw new Error(`bulk insert: value (${r}, ${columns[c] ?? c}) must be a parameter exactly once`);
      positions[r * columns.length + c] = at;
    }
  }
  return { query, positions };
}
