import { sql, type Kysely } from 'kysely';
import { forDialect } from './dialect.js';

// Frozen in time: never imports application code.
//
// The weekly at-risk digest: one row per scheduled occurrence, claimed before the
// message is posted, so a digest goes out exactly once per period across restarts and concurrent
// runs; and one segment snapshot per occurrence, so week-over-week changes and the chart come from
// stored history instead of from data that has since changed.

export async function up(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  await db.schema
    .createTable('digest_runs')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    // The scheduled occurrence as an ISO-8601 UTC instant; ISO strings sort as time, so "the run
    // before this one" is an index range on this column. The unique key is the claim.
    .addColumn('period_key', 'text', (c) => c.notNull().unique())
    // sending: claimed, being built or posted; sent; failed: the last attempt failed (retried);
    // skipped: the first period the bot ever saw, which it was not running for (a baseline).
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('sending', 'sent', 'failed', 'skipped')`))
    .addColumn('claimed_at', 'text', (c) => c.notNull())
    // While sending: another run leaves the period alone until then (a crash leaves it set; the
    // next start-up releases it, as only one bot process serves a SQLite file).
    .addColumn('lease_expires_at', 'text')
    .addColumn('sent_at', 'text')
    .addColumn('message_id', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    // Customers whose last order is at or before this instant were at risk in this digest: the
    // next digest's "became at risk since" window starts here.
    .addColumn('at_risk_cutoff', 'text', (c) => c.notNull())
    .addColumn('at_risk_days', 'integer', (c) => c.notNull())
    // The schedule that produced the period, for people reading the table after a config change.
    .addColumn('cron', 'text', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('at_risk_count', 'integer')
    .addColumn('newly_at_risk_count', 'integer')
    .execute();

  await db.schema
    .createTable('segment_snapshots')
    .addColumn('period_key', 'text', (c) => c.primaryKey())
    .addColumn('taken_at', 'text', (c) => c.notNull())
    .addColumn('new_count', 'integer', (c) => c.notNull())
    .addColumn('repeat_count', 'integer', (c) => c.notNull())
    .addColumn('loyal_count', 'integer', (c) => c.notNull())
    .addColumn('at_risk_count', 'integer', (c) => c.notNull())
    .addColumn('customers_total', 'integer', (c) => c.notNull())
    .execute();
}

export async function down(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  await db.schema.dropTable('segment_snapshots').ifExists().execute();
  await db.schema.dropTable('digest_runs').ifExists().execute();
}
