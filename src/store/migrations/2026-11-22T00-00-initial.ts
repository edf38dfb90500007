import { sql, type Kysely } from 'kysely';
import { forDialect, isPostgres, postgresSearchFold } from './dialect.js';

// Frozen in time: this file never imports application code, so later changes to the
// application cannot silently change what an old migration does.
//
// Conventions: timestamps are ISO-8601 UTC strings (`2025-01-20T14:30:00.000Z`), which sort
// correctly as text on every dialect; money is integer minor units (cents); booleans are 0/1.

export async function up(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  await db.schema
    .createTable('customers')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    // Emails are compared case-insensitively: the lower-cased copy carries the unique index.
    .addColumn('email_lower', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text')
    .addColumn('country', 'text')
    .addColumn('discord_id', 'text', (c) => c.unique())
    .addColumn('discord_username', 'text')
    .addColumn('discord_avatar', 'text')
    .addColumn('steam_id', 'text', (c) => c.unique())
    .addColumn('steam_username', 'text')
    .addColumn('steam_avatar', 'text')
    .addColumn('game_user_id', 'text')
    .addColumn('two_factor_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_seen_at', 'text')
    .addColumn('last_ip', 'text')
    .addColumn('referral_code', 'text', (c) => c.unique())
    .addColumn('referred_by', 'integer', (c) => c.references('customers.id').onDelete('set null'))
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('support_tickets_count', 'integer', (c) => c.notNull().defaultTo(0))
    // Aggregates over completed orders, maintained by the store whenever an order changes.
    .addColumn('orders_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('total_spent_cents', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('first_order_at', 'text')
    .addColumn('last_order_at', 'text')
    .addColumn('last_order_number', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  // Every list sort is newest-first by default with id as the tie-breaker, so each sort key gets
  // an index ending in id: a page is then an index walk, not a sort of a million rows.
  await db.schema.createIndex('customers_created_at').on('customers').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('customers_name').on('customers').columns(['name', 'id']).execute();
  await db.schema.createIndex('customers_orders_count').on('customers').columns(['orders_count', 'id']).execute();
  await db.schema.createIndex('customers_total_spent').on('customers').columns(['total_spent_cents', 'id']).execute();
  await db.schema.createIndex('customers_last_order_at').on('customers').columns(['last_order_at', 'id']).execute();
  await db.schema.createIndex('customers_steam_game').on('customers').columns(['game_user_id']).execute();
  await db.schema.createIndex('customers_referred_by').on('customers').columns(['referred_by']).execute();

  await db.schema
    .createTable('products')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('orders')
    // The store platform's own order id, so events about the same order land on the same row.
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('order_number', 'text', (c) => c.notNull().unique())
    .addColumn('customer_id', 'integer', (c) => c.references('customers.id').onDelete('set null'))
    // pending | paid | completed | refunded | cancelled | failed | disputed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('total_cents', 'integer', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('completed_at', 'text')
    .addColumn('refunded_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('orders_customer').on('orders').columns(['customer_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('orders_completed_at').on('orders').columns(['completed_at']).execute();

  await db.schema
    .createTable('order_items')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('order_id', 'integer', (c) => c.notNull().references('orders.id').onDelete('cascade'))
    .addColumn('product_id', 'integer', (c) => c.references('products.id').onDelete('set null'))
    .addColumn('product_name', 'text', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('price_cents', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('order_items_order').on('order_items').columns(['order_id']).execute();

  await db.schema
    .createTable('subscriptions')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('customer_id', 'integer', (c) => c.references('customers.id').onDelete('set null'))
    .addColumn('product_id', 'integer', (c) => c.references('products.id').onDelete('set null'))
    // active | cancelled | payment_failed | expired
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('current_period_end', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('cancelled_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('subscriptions_customer').on('subscriptions').columns(['customer_id']).execute();

  await db.schema
    .createTable('notes')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('customer_id', 'integer', (c) => c.notNull().references('customers.id').onDelete('cascade'))
    .addColumn('author_id', 'text', (c) => c.notNull())
    .addColumn('author_name', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notes_customer').on('notes').columns(['customer_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('bans')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    // email | ip | discord | game_id | customer
    .addColumn('type', 'text', (c) => c.notNull())
    // Normalised target as staff gave it: lower-cased email, canonical IP or CIDR, snowflake, game id,
    // or the customer id as text.
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'integer', (c) => c.references('customers.id').onDelete('set null'))
    // For ip bans: the first and last address of the range as fixed-width hex (IPv4 mapped into
    // IPv6), so "is this address banned" is a text BETWEEN on every dialect.
    .addColumn('ip_start', 'text')
    .addColumn('ip_end', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'text', (c) => c.notNull())
    .addColumn('created_by_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('lifted_at', 'text')
    .addColumn('lifted_by_id', 'text')
    .addColumn('lifted_by_name', 'text')
    .addColumn('lift_reason', 'text')
    .execute();
  await db.schema.createIndex('bans_type_value').on('bans').columns(['type', 'value']).execute();
  await db.schema.createIndex('bans_customer').on('bans').columns(['customer_id']).execute();
  await db.schema.createIndex('bans_ip_range').on('bans').columns(['ip_start', 'ip_end']).execute();
  await db.schema.createIndex('bans_created_at').on('bans').columns(['created_at', 'id']).execute();

  await db.schema
    .createTable('activity_log')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text')
    .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('activity_log_target').on('activity_log').columns(['target_type', 'target_id']).execute();
  await db.schema.createIndex('activity_log_created_at').on('activity_log').columns(['created_at']).execute();

  if (isPostgres(db)) {
    await upPostgres(db);
    return;
  }

  // The activity log is append-only: the database itself refuses to rewrite history.
  await sql`CREATE TRIGGER activity_log_no_update BEFORE UPDATE ON activity_log
    BEGIN SELECT RAISE(ABORT, 'activity_log is append-only'); END`.execute(db);
  await sql`CREATE TRIGGER activity_log_no_delete BEFORE DELETE ON activity_log
    BEGIN SELECT RAISE(ABORT, 'activity_log is append-only'); END`.execute(db);

  // Substring search over name and email: a trigram full-text index answers any term of three or
  // more characters without scanning the table. It is external-content (the customers table holds
  // the text), kept in step by triggers so every write path, bulk or not, keeps it right.
  await sql`CREATE VIRTUAL TABLE customer_search USING fts5(
    name, email, content='customers', content_rowid='id', tokenize='trigram case_sensitive 0')`.execute(db);
  await sql`CREATE TRIGGER customers_search_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_search(rowid, name, email) VALUES (new.id, new.name, new.email);
  END`.execute(db);
  await sql`CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customer_search(customer_search, rowid, name, email) VALUES ('delete', old.id, old.name, old.email);
  END`.execute(db);
  await sql`CREATE TRIGGER customers_search_update AFTER UPDATE OF name, email ON customers BEGIN
    INSERT INTO customer_search(customer_search, rowid, name, email) VALUES ('delete', old.id, old.name, old.email);
    INSERT INTO customer_search(rowid, name, email) VALUES (new.id, new.name, new.email);
  END`.execute(db);
}

/** The append-only log and substring search, in PostgreSQL's terms. */
async function upPostgres(db: Kysely<any>): Promise<void> {
  await sql`CREATE FUNCTION activity_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'activity_log is append-only'; END $$`.execute(db);
  await sql`CREATE TRIGGER activity_log_no_update BEFORE UPDATE ON activity_log
    FOR EACH ROW EXECUTE FUNCTION activity_log_append_only()`.execute(db);
  await sql`CREATE TRIGGER activity_log_no_delete BEFORE DELETE ON activity_log
    FOR EACH ROW EXECUTE FUNCTION activity_log_append_only()`.execute(db);

  // Substring search: pg_trgm GIN indexes over the same folded text SQLite's trigram index holds.
  // PostgreSQL keeps them in step with the table itself, so no triggers are needed.
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
  for (const column of ['name', 'email']) {
    await sql`CREATE INDEX ${sql.id(`customers_search_${column}`)} ON customers
      USING gin ((${sql.raw(postgresSearchFold(column))}) gin_trgm_ops)`.execute(db);
  }
}

export async function down(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  if (isPostgres(db)) {
    await sql`DROP FUNCTION IF EXISTS activity_log_append_only() CASCADE`.execute(db);
    for (const table of ['activity_log', 'bans', 'notes', 'subscriptions', 'order_items', 'orders', 'products', 'customers']) {
      await db.schema.dropTable(table).ifExists().cascade().execute();
    }
    return;
  }
  for (const trigger of [
    'customers_search_update',
    'customers_search_delete',
    'customers_search_insert',
    'activity_log_no_delete',
    'activity_log_no_update',
  ]) {
    await sql`DROP TRIGGER IF EXISTS ${sql.id(trigger)}`.execute(db);
  }
  await sql`DROP TABLE IF EXISTS customer_search`.execute(db);
  for (const table of ['activity_log', 'bans', 'notes', 'subscriptions', 'order_items', 'orders', 'products', 'customers']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
