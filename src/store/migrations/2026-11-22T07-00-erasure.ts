import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { forDialect, isPostgres } from './dialect.js';

// Frozen in time: never imports application code.
//
// GDPR erasure. The customer row stays, anonymised, so orders keep their customer
// and the per-customer aggregates every revenue figure is read from; `erased_at` says it was
// erased. SQLite specifics (triggers, the FTS5 option) are written as SQLite SQL, like the
// initial migration's; a PostgreSQL migration set will say the same in its own dialect.

const REDACTED_DETAILS = '{"redacted":"erasure"}';

export async function up(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  await db.schema.alterTable('customers').addColumn('erased_at', 'text').execute();
  // The role-trace follow-up and "is anyone erased" questions read erased customers only.
  await db.schema.createIndex('customers_erased_at').on('customers').columns(['erased_at']).execute();

  if (isPostgres(db)) await allowRedactionOnPostgres(db);
  else await allowRedactionOnSqlite(db);

  // Bans on an erased customer's email or ids keep working against a keyed hash of the value.
  // The key is random per database, so one store's hashes cannot be precomputed from another's.
  await db.schema
    .createTable('privacy_keys')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db
    .insertInto('privacy_keys')
    .values({ name: 'ban_hash_key', value: randomBytes(32).toString('hex'), created_at: new Date().toISOString() })
    .execute();
}

/** SQLite: the search index forgets at once, and the log's update trigger lets redaction through. */
async function allowRedactionOnSqlite(db: Kysely<any>): Promise<void> {
  // An external-content FTS5 index keeps its own copy of every token; a plain 'delete' only adds
  // a tombstone and leaves the old tokens in the segment until a merge. With secure-delete the
  // tokens are removed from the segment at once, so an erased email is gone from the index.
  await sql`INSERT INTO customer_search(customer_search, rank) VALUES ('secure-delete', 1)`.execute(db);
  // Tokens tombstoned before now (a renamed customer's old name) leave the segments once, here:
  // one merge of the whole index, about a second at a million customers.
  await sql`INSERT INTO customer_search(customer_search) VALUES ('optimize')`.execute(db);

  // The activity log stays append-only, with one narrow exception: an entry's details may be
  // replaced by the fixed redaction marker (erasure removes account ids and the like that older
  // entries recorded), and nothing else about the entry may change. Who did what, to which
  // target and when remains; DELETE stays refused.
  await sql`DROP TRIGGER IF EXISTS activity_log_no_update`.execute(db);
  await sql`CREATE TRIGGER activity_log_no_update BEFORE UPDATE ON activity_log
    WHEN NOT (
      new.details = ${sql.lit(REDACTED_DETAILS)}
      AND new.id = old.id
      AND new.actor_id = old.actor_id
      AND new.actor_name = old.actor_name
      AND new.action = old.action
      AND new.target_type = old.target_type
      AND new.target_id IS old.target_id
      AND new.created_at = old.created_at
    )
    BEGIN SELECT RAISE(ABORT, 'activity_log is append-only'); END`.execute(db);
}

/** PostgreSQL: the same update trigger (its search indexes keep no copy of their own to purge). */
async function allowRedactionOnPostgres(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS activity_log_no_update ON activity_log`.execute(db);
  await sql`CREATE TRIGGER activity_log_no_update BEFORE UPDATE ON activity_log
    FOR EACH ROW WHEN (NOT (
      new.details = ${sql.lit(REDACTED_DETAILS)}
      AND new.id = old.id
      AND new.actor_id = old.actor_id
      AND new.actor_name = old.actor_name
      AND new.action = old.action
      AND new.target_type = old.target_type
      AND new.target_id IS NOT DISTINCT FROM old.target_id
      AND new.created_at = old.created_at
    ))
    EXECUTE FUNCTION activity_log_append_only()`.execute(db);
}

export async function down(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  await db.schema.dropTable('privacy_keys').ifExists().execute();
  if (isPostgres(db)) {
    await sql`DROP TRIGGER IF EXISTS activity_log_no_update ON activity_log`.execute(db);
    await sql`CREATE TRIGGER activity_log_no_update BEFORE UPDATE ON activity_log
      FOR EACH ROW EXECUTE FUNCTION activity_log_append_only()`.execute(db);
    await db.schema.dropIndex('customers_erased_at').ifExists().execute();
    await db.schema.alterTable('customers').dropColumn('erased_at').execute();
    return;
  }
  await sql`DROP TRIGGER IF EXISTS activity_log_no_update`.execute(db);
  await sql`CREATE TRIGGER activity_log_no_update BEFORE UPDATE ON activity_log
    BEGIN SELECT RAISE(ABORT, 'activity_log is append-only'); END`.execute(db);
  await sql`INSERT INTO customer_search(customer_search, rank) VALUES ('secure-delete', 0)`.execute(db);
  await db.schema.dropIndex('customers_erased_at').ifExists().execute();
  await db.schema.alterTable('customers').dropColumn('erased_at').execute();
}
