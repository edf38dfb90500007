import type { Kysely } from 'kysely';
import { forDialect } from './dialect.js';

// Frozen in time: never imports application code.

export async function up(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  // Every purchase event the store platform sent us, stored under its own id before we answer
  // 2xx: the primary key is what makes a redelivered event a no-op.
  await db.schema
    .createTable('inbound_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('event_type', 'text', (c) => c.notNull())
    // The raw body exactly as signed, so a later parser can re-read it.
    .addColumn('payload', 'text', (c) => c.notNull())
    // hmac-hex | standard-webhooks
    .addColumn('signature_scheme', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    // pending | processed | ignored | failed
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    // Times the event was claimed: a crash mid-processing counts too, so a poison event that
    // kills the process cannot loop forever.
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    // While set and in the future, a worker is processing the event; once past, it is claimable again.
    .addColumn('lease_until', 'text')
    .addColumn('processed_at', 'text')
    .addColumn('last_error', 'text')
    .execute();
  // Claiming walks pending events in the order they arrived.
  await db.schema.createIndex('inbound_events_due').on('inbound_events').columns(['status', 'received_at', 'id']).execute();

  await db.schema
    .createTable('support_tickets')
    // The store platform's ticket id.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'integer', (c) => c.references('customers.id').onDelete('set null'))
    // Free text from the customer: blanked when the customer is erased.
    .addColumn('subject', 'text')
    .addColumn('status', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('support_tickets_customer').on('support_tickets').columns(['customer_id']).execute();

  // The store platform's customer id → ours. A table rather than a column on customers: it goes
  // with the customer row (cascade) and needs no change to the customers schema.
  await db.schema
    .createTable('platform_customers')
    .addColumn('platform_customer_id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'integer', (c) => c.notNull().references('customers.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('platform_customers_customer').on('platform_customers').columns(['customer_id']).execute();

  // A chargeback's state per order, kept apart from the order status so that a dispute.created
  // delivered after its dispute.resolved cannot reopen a dispute that is over.
  await db.schema
    .createTable('order_disputes')
    .addColumn('order_id', 'integer', (c) => c.primaryKey().references('orders.id').onDelete('cascade'))
    .addColumn('dispute_id', 'text')
    // open | won | lost
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'text')
    .addColumn('resolved_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  // When a subscription's payment failed: the role side counts its grace period from here.
  await db.schema.alterTable('subscriptions').addColumn('failed_at', 'text').execute();
}

export async function down(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  await db.schema.alterTable('subscriptions').dropColumn('failed_at').execute();
  for (const table of ['order_disputes', 'platform_customers', 'support_tickets', 'inbound_events']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
