import type { Kysely } from 'kysely';
import { forDialect } from './dialect.js';

// Frozen in time: never imports application code.
//
// Several bot processes on one database. `leases` holds named leases with an expiry: the Discord
// gateway (one process logs in at a time) and each live process's heartbeat (`process:<id>`).
// The queue rows record which process holds their lease, so a process that starts, or notices
// another one died, releases only the dead process's leases, never a live one's.

export async function up(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('acquired_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  for (const table of ['inbound_events', 'role_jobs', 'webhook_deliveries']) {
    await db.schema.alterTable(table).addColumn('lease_holder', 'text').execute();
    // Every process looks for claims of dead processes every few seconds: the live leases only.
    await db.schema.createIndex(`${table}_live_lease`).on(table).columns(['lease_until', 'lease_holder']).where('lease_until', 'is not', null).execute();
  }
}

export async function down(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  for (const table of ['inbound_events', 'role_jobs', 'webhook_deliveries']) {
    await db.schema.dropIndex(`${table}_live_lease`).execute();
    await db.schema.alterTable(table).dropColumn('lease_holder').execute();
  }
  await db.schema.dropTable('leases').execute();
}
