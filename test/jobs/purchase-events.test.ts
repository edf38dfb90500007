import { describe, expect, it } from 'vitest';
import { listActivity, recordActivity, SYSTEM_ACTOR } from '../../src/domain/customers/activity-log.js';
import type { CustomerChangeCause, PurchaseEventHooks } from '../../src/domain/purchases/apply.js';
import type { ManualClock } from '../../src/shared/clock.js';
import type { Customer } from '../../src/domain/customers/types.js';
import { MAX_EVENT_ATTEMPTS, processDueEvents, retryDelayMs, startInboundEventWorker } from '../../src/jobs/purchase-events.js';
import { createLogger } from '../../src/logger.js';
import { findCustomerByEmail } from '../../src/store/customer.repository.js';
import type { Db } from '../../src/store/database.js';
import {
  claimDueEvents,
  countInboundEvents,
  findInboundEvent,
  LeaseLostError,
  markEventProcessed,
  storeInboundEvent,
} from '../../src/store/purchase-event.repository.js';
import { getOrderWithItems } from '../../src/store/order.repository.js';
import { useTestContext } from '../support/context.js';

let db: Db;
let clock: ManualClock;
let hooks: CountingHooks;
const logger = createLogger('silent');

class CountingHooks implements PurchaseEventHooks {
  changed: Array<{ customerId: number; cause: CustomerChangeCause }> = [];
  created: Customer[] = [];
  failing = false;
  customerChanged(_trx: Db, customerId: number, cause: CustomerChangeCause): Promise<void> {
    if (this.failing) return Promise.reject(new Error('role sync unavailable'));
    this.changed.push({ customerId, cause });
    return Promise.resolve();
  }
  /** Writes in the event's transaction, as the outbox will: rolled back with it. */
  async customerCreated(trx: Db, customer: Customer): Promise<void> {
    this.created.push(customer);
    await recordActivity(trx, clock, { actor: SYSTEM_ACTOR, action: 'test.customer_created', targetType: 'customer', targetId: customer.id });
  }
}

async function announcedCustomers(): Promise<number> {
  return (await listActivity(db, { action: 'test.customer_created' })).length;
}

useTestContext((context) => {
  ({ db, clock } = context);
  hooks = new CountingHooks();
});

const ORDER = { order_id: 123, order_number: 'ORD-1', customer_email: 'player@example.com', total: '29.99' };

async function receive(id: string, eventType: string, data: unknown) {
  const result = await storeInboundEvent(db, clock, { id, eventType, payload: JSON.stringify({ id, event_type: eventType, data }), scheme: 'hmac-hex' });
  // Distinct received_at values keep the received order unambiguous.
  clock.advance(1);
  return result;
}

function process(options: { limit?: number; leaseMs?: number } = {}) {
  return processDueEvents(db, clock, hooks, { logger, ...options });
}

describe('processing stored purchase events', () => {
  it('applies due events in received order and marks them processed', async () => {
    await receive('evt_1', 'order.created', ORDER);
    await receive('evt_2', 'order.paid', ORDER);
    expect(await process()).toBe(2);
    expect((await getOrderWithItems(db, 123))?.status).toBe('paid');
    expect(await countInboundEvents(db)).toEqual({ pending: 0, processed: 2, ignored: 0, failed: 0 });
    expect(await findInboundEvent(db, 'evt_1')).toMatchObject({ status: 'processed', attempts: 1, leaseUntil: null, processedAt: clock.now().toISOString() });
    expect(hooks.changed.map((c) => c.cause.eventId)).toEqual(['evt_1', 'evt_2']);
  });

  it('ends in the right state whatever order the events arrived in', async () => {
    await receive('evt_r', 'order.refunded', ORDER);
    await receive('evt_p', 'order.paid', ORDER);
    await receive('evt_c', 'order.completed', ORDER);
    await process();
    expect((await getOrderWithItems(db, 123))?.status).toBe('refunded');
    expect(await findCustomerByEmail(db, 'player@example.com')).toMatchObject({ ordersCount: 0, totalSpentCents: 0 });
  });

  it('has no second effect for a duplicate delivery', async () => {
    expect(await receive('evt_1', 'order.paid', ORDER)).toBe('stored');
    expect(await receive('evt_1', 'order.paid', ORDER)).toBe('duplicate');
    await process();
    expect(await receive('evt_1', 'order.paid', ORDER)).toBe('duplicate');
    expect(await process()).toBe(0);
    expect(await findCustomerByEmail(db, 'player@example.com')).toMatchObject({ ordersCount: 1, totalSpentCents: 2999 });
    expect(hooks.changed).toHaveLength(1);
    expect(hooks.created).toHaveLength(1);
    expect(await announcedCustomers()).toBe(1);
  });

  it('acknowledges unknown event types as ignored', async () => {
    await receive('evt_u', 'coupon.created', {});
    await process();
    expect(await findInboundEvent(db, 'evt_u')).toMatchObject({ status: 'ignored', lastError: 'unknown event type "coupon.created"' });
  });

  it('rolls back a failed event entirely and retries it with backoff', async () => {
    await receive('evt_1', 'order.paid', ORDER);
    hooks.failing = true;
    await process();
    expect(await getOrderWithItems(db, 123)).toBeUndefined();
    expect(await findCustomerByEmail(db, 'player@example.com')).toBeUndefined();
    expect(await announcedCustomers()).toBe(0);
    const failed = await findInboundEvent(db, 'evt_1');
    expect(failed).toMatchObject({ status: 'pending', attempts: 1, leaseUntil: null, lastError: 'role sync unavailable' });
    expect(failed?.nextAttemptAt).toBe(new Date(clock.now().getTime() + 30_000).toISOString());

    hooks.failing = false;
    clock.advance(29_000);
    expect(await process()).toBe(0);
    clock.advance(1_000);
    expect(await process()).toBe(1);
    expect(await findInboundEvent(db, 'evt_1')).toMatchObject({ status: 'processed', attempts: 2 });
    expect(await findCustomerByEmail(db, 'player@example.com')).toMatchObject({ ordersCount: 1 });
    // Announced in both attempts, but the first announcement was rolled back with its event.
    expect(hooks.created).toHaveLength(2);
    expect(await announcedCustomers()).toBe(1);
  });

  it('doubles the delay after each failure, up to an hour', () => {
    expect([1, 2, 3, 4, 7, 8, 9, 20].map(retryDelayMs)).toEqual([30_000, 60_000, 120_000, 240_000, 1_920_000, 3_600_000, 3_600_000, 3_600_000]);
  });

  it('marks an event failed after ten attempts', async () => {
    await receive('evt_1', 'order.paid', ORDER);
    hooks.failing = true;
    for (let attempt = 1; attempt <= MAX_EVENT_ATTEMPTS; attempt++) {
      expect(await process()).toBe(1);
      clock.advance(60 * 60 * 1000);
    }
    expect(await findInboundEvent(db, 'evt_1')).toMatchObject({ status: 'failed', attempts: MAX_EVENT_ATTEMPTS, lastError: 'role sync unavailable' });
    expect(await process()).toBe(0);
  });

  it('retries a dispute that arrived before its order, once the order is there', async () => {
    await receive('evt_d', 'dispute.created', { order_id: 123 });
    await process();
    expect(await findInboundEvent(db, 'evt_d')).toMatchObject({ status: 'pending', attempts: 1 });
    await receive('evt_o', 'order.paid', ORDER);
    await process();
    clock.advance(retryDelayMs(1));
    await process();
    expect((await getOrderWithItems(db, 123))?.status).toBe('disputed');
  });
});

describe('leases', () => {
  it('let another pass take an event over only after the lease of a crashed pass expires', async () => {
    await receive('evt_1', 'order.paid', ORDER);
    const [crashed] = await claimDueEvents(db, clock, { limit: 10, leaseMs: 60_000 });
    expect(crashed).toMatchObject({ id: 'evt_1', attempt: 1 });

    expect(await process()).toBe(0);
    clock.advance(59_999);
    expect(await process()).toBe(0);
    clock.advance(1);
    expect(await process()).toBe(1);
    expect(await findInboundEvent(db, 'evt_1')).toMatchObject({ status: 'processed', attempts: 2 });
    expect(hooks.changed).toHaveLength(1);

    // The crashed pass coming back to life cannot finish the event a second time.
    await expect(markEventProcessed(db, clock, crashed!)).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('give up on an event whose attempts keep dying with the process', async () => {
    await receive('evt_1', 'order.paid', ORDER);
    for (let i = 0; i < MAX_EVENT_ATTEMPTS; i++) {
      await claimDueEvents(db, clock, { limit: 10, leaseMs: 1_000 });
      clock.advance(1_000);
    }
    await process();
    expect(await findInboundEvent(db, 'evt_1')).toMatchObject({ status: 'failed', attempts: MAX_EVENT_ATTEMPTS + 1 });
    expect(await getOrderWithItems(db, 123)).toBeUndefined();
  });

  it('claim at most the limit, oldest first', async () => {
    for (const id of ['evt_a', 'evt_b', 'evt_c']) await receive(id, 'coupon.created', {});
    const claimed = await claimDueEvents(db, clock, { limit: 2, leaseMs: 60_000 });
    expect(claimed.map((c) => c.id)).toEqual(['evt_a', 'evt_b']);
  });
});

describe('the inbound event worker', () => {
  it('applies an event soon after being woken', async () => {
    const worker = startInboundEventWorker({ db, clock, hooks, logger, intervalMs: 60_000 });
    try {
      await receive('evt_1', 'order.paid', ORDER);
      worker.wake();
      await expect.poll(async () => (await findInboundEvent(db, 'evt_1'))?.status).toBe('processed');
    } finally {
      await worker.stop();
    }
  });
  it('claims under this process id and calls back after a pass that handled events, not after an empty one', async () => {
    const holders: Array<string | null> = [];
    const recordingHooks: PurchaseEventHooks = {
      async customerChanged(trx, customerId, cause) {
        const row = await trx.selectFrom('inbound_events').select('lease_holder').where('id', '=', 'evt_1').executeTakeFirstOrThrow();
        holders.push(row.lease_holder);
        await hooks.customerChanged(trx, customerId, cause);
      },
      customerCreated: (trx, customer) => hooks.customerCreated(trx, customer),
    };
    let handledPasses = 0;
    const worker = startInboundEventWorker({ db, clock, hooks: recordingHooks, logger, intervalMs: 60_000, holder: 'process-a', onHandled: () => handledPasses++ });
    try {
      worker.wake();
      await receive('evt_1', 'order.paid', ORDER);
      worker.wake();
      await expect.poll(async () => (await findInboundEvent(db, 'evt_1'))?.status).toBe('processed');
      await expect.poll(() => handledPasses).toBe(1);
      expect(holders).toEqual(['process-a']);
    } finally {
      await worker.stop();
    }
    expect(handledPasses).toBe(1);
  });
});
