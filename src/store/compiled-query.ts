import type { CompiledQuery, Compilable } from 'kysely';
import type { Db } from './database.js';

/**
 * A query built and compiled once per connection pool (or transaction), then run with new values:
 * for the hottest reads, where building Kysely's query tree and compiling it again on every call
 * costs about as much again as running the statement (bench/results.md).
 *
 * `build` receives a marker for each value and must use every marker exactly once as a parameter
 * (never in a position Kysely inlines, such as a LIMIT it renders literally); the markers are found
 * in the compiled parameters and replaced by the values at run time. Compiled per Db, because the
 * SQL text differs between dialects.
 */
export function compiledQuery<Args extends readonly (string | number)[], Row>(
  arity: Args['length'],
  build: (db: Db, ...markers: Args) => Compilable<Row>,
): (db: Db, ...values: Args) => Promise<Row[]> {
  const compiled = new WeakMap<Db, { query: CompiledQuery<Row>; positions: number[] }>();
  const markers = Array.from({ length: arity }, (_, i) => `\u0000compiled-query-marker-${i}\u0000`);
  const prepare = (db: Db) => {
    const query = build(db, ...(markers as unknown as Args)).compile();
    const positions = markers.map((marker) => {
      const at = query.parameters.indexOf(marker);
      if (at < 0 || query.parameters.lastIndexOf(marker) !== at) throw new Error(`compiledQuery: marker ${marker.slice(1, -1)} must be used exactly once`);
      return at;
    });
    const entry = { query, positions };
    compiled.set(db, entry);
    return entry;
  };
  return async (db, ...values) => {
    const { query, positions } = compiled.get(db) ?? prepare(db);
    const parameters = [...query.parameters];
    for (let i = 0; i < positions.length; i++) parameters[positions[i] as number] = values[i];
    const result = await db.executeQuery<Row>({ ...query, parameters });
    return result.rows;
  };
}
