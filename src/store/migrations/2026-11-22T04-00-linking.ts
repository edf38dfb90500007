import type { Kysely } from 'kysely';
import { forDialect } from './dialect.js';

// Frozen in time: never imports application code.

export async function up(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  await db.schema
    .createTable('link_sessions')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    // Keyed hash of the one-time link token: the token itself is only ever in the customer's URL.
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('customer_id', 'integer', (c) => c.notNull().references('customers.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    // Set when a link completed: the URL is then spent.
    .addColumn('used_at', 'text')
    // The attempt in flight: discord | steam, with its single-use state (OAuth `state`, or the
    // `session` bound into Steam's return_to), hashed like the token, and the PKCE verifier.
    // Starting a new attempt replaces the previous one, so only the latest state is ever valid.
    .addColumn('provider', 'text')
    .addColumn('state_hash', 'text', (c) => c.unique())
    .addColumn('code_verifier', 'text')
    .addColumn('attempt_started_at', 'text')
    .addColumn('linked_provider', 'text')
    .execute();
  await db.schema.createIndex('link_sessions_customer').on('link_sessions').columns(['customer_id']).execute();
  await db.schema.createIndex('link_sessions_expires_at').on('link_sessions').columns(['expires_at']).execute();

  await db.schema
    .createTable('used_openid_nonces')
    // Steam's openid.response_nonce; the unique key is what refuses a replayed assertion.
    .addColumn('response_nonce', 'text', (c) => c.primaryKey())
    .addColumn('seen_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('used_openid_nonces_seen_at').on('used_openid_nonces').columns(['seen_at']).execute();
}

export async function down(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  await db.schema.dropTable('used_openid_nonces').ifExists().execute();
  await db.schema.dropTable('link_sessions').ifExists().execute();
}
