import { sql, type Kysely } from 'kysely';
import { isPostgres } from './dialect.js';

// Frozen in time: never imports application code.
//
// PostgreSQL only; SQLite's schema is unchanged. Lists sorted by last order keep SQLite's order,
// where a customer who never ordered sorts lowest: NULLS FIRST ascending, NULLS LAST descending.
// PostgreSQL's btree default is the opposite (NULLS LAST ascending), so no scan of the initial
// (last_order_at, id) index yields those orders, and every such page sorted all buyers (150–190 ms
// at a million customers). Built NULLS FIRST, the index yields the ascending order forwards and
// the descending one backwards, and serves the range conditions (at-risk cutoffs) as before, so
// it replaces the old one rather than joining it.

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`CREATE INDEX customers_last_order_at_nulls_first ON customers (last_order_at NULLS FIRST, id)`.execute(db);
  await sql`DROP INDEX customers_last_order_at`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`CREATE INDEX customers_last_order_at ON customers (last_order_at, id)`.execute(db);
  await sql`DROP INDEX customers_last_order_at_nulls_first`.execute(db);
}
