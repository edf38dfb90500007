import { sql, type Kysely } from 'kysely';
import { forDialect } from './dialect.js';

// Frozen in time: never imports application code.
//
// Roles on purchase: staff rules mapping products to Discord roles, what the bot
// believes each member holds, the durable queue of role changes, and alerts for staff.

const OPEN_JOB_STATUSES = ['pending', 'waiting_member', 'needs_attention'];

export async function up(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  await db.schema
    .createTable('role_rules')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    // No foreign key to products: staff may map a product the store has not sold yet.
    .addColumn('product_id', 'integer', (c) => c.notNull())
    .addColumn('role_id', 'text', (c) => c.notNull())
    .addColumn('guild_id', 'text', (c) => c.notNull())
    .addColumn('revoke_on_refund', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('revoke_on_chargeback', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('revoke_on_subscription_end', 'integer', (c) => c.notNull().defaultTo(1))
    // How long a subscription whose payment failed keeps its role.
    .addColumn('grace_period_hours', 'integer', (c) => c.notNull().defaultTo(72))
    .addColumn('created_by_id', 'text', (c) => c.notNull())
    .addColumn('created_by_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    // A removed rule is kept (soft-deleted) so the start-up rules file never brings back a rule
    // staff removed from Discord; adding the same product → role again revives the row.
    .addColumn('removed_at', 'text')
    .addColumn('removed_by_id', 'text')
    .addColumn('removed_by_name', 'text')
    // Customers who bought the product before the rule existed get the role in the background:
    // the last customer id reconciled, and when the whole backlog was done.
    .addColumn('backfill_cursor', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('backfilled_at', 'text')
    .addUniqueConstraint('role_rules_product_role', ['product_id', 'role_id'])
    .execute();

  await db.schema
    .createTable('role_assignments')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('guild_id', 'text', (c) => c.notNull())
    .addColumn('discord_user_id', 'text', (c) => c.notNull())
    .addColumn('role_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'integer', (c) => c.references('customers.id').onDelete('set null'))
    // granted | revoked: what the bot last applied (or saw) in Discord.
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('role_assignments_member_role', ['guild_id', 'discord_user_id', 'role_id'])
    .execute();
  await db.schema.createIndex('role_assignments_customer').on('role_assignments').columns(['customer_id']).execute();
  await db.schema.createIndex('role_assignments_user').on('role_assignments').columns(['discord_user_id']).execute();

  await db.schema
    .createTable('role_jobs')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('guild_id', 'text', (c) => c.notNull())
    .addColumn('discord_user_id', 'text', (c) => c.notNull())
    .addColumn('role_id', 'text', (c) => c.notNull())
    // add | remove
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'integer', (c) => c.references('customers.id').onDelete('set null'))
    // Sent to Discord as the audit-log reason.
    .addColumn('reason', 'text', (c) => c.notNull())
    // pending | waiting_member | done | needs_attention | failed | superseded
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    // Set while a worker holds the job: nobody else calls Discord for it until the lease ends.
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // At most one open job per member and role: a newer wish supersedes the open one. A partial
  // unique index (SQLite and PostgreSQL both have them) makes the database hold the line too.
  await db.schema
    .createIndex('role_jobs_one_open')
    .on('role_jobs')
    .columns(['guild_id', 'discord_user_id', 'role_id'])
    .unique()
    .where(sql.ref('status'), 'in', OPEN_JOB_STATUSES)
    .execute();
  await db.schema.createIndex('role_jobs_due').on('role_jobs').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('role_jobs_customer').on('role_jobs').columns(['customer_id', 'status']).execute();
  await db.schema.createIndex('role_jobs_user').on('role_jobs').columns(['discord_user_id', 'status']).execute();

  await db.schema
    .createTable('staff_alerts')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    // Unique when set (NULLs are distinct on every dialect): raising the same alert twice is a no-op.
    .addColumn('dedupe_key', 'text', (c) => c.unique())
    // pending | sent | failed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema.createIndex('staff_alerts_due').on('staff_alerts').columns(['status', 'next_attempt_at']).execute();

  // Where the time-based sweep (subscription ends, grace periods) stopped last time.
  await db.schema
    .createTable('role_sweeps')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('swept_until', 'text', (c) => c.notNull())
    .execute();
}

export async function down(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  for (const table of ['role_sweeps', 'staff_alerts', 'role_jobs', 'role_assignments', 'role_rules']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
