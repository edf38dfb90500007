import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { PurchaseEventHooks } from '../../../src/domain/purchases/apply.js';
import { UserError } from '../../../src/shared/errors.js';
import type { ManualClock } from '../../../src/shared/clock.js';
import { listStaffAlerts, raiseStaffAlert } from '../../../src/domain/alerts/staff-alerts.js';
import { codePointLength, wellFormed } from '../../../src/shared/text.js';
import { MAX_EVENT_ATTEMPTS, processDueEvents, storeEventHooks } from '../../../src/jobs/purchase-events.js';
import type { Logger } from '../../../src/logger.js';
import { findCustomerByEmail } from '../../../src/store/customer.repository.js';
import type { Db } from '../../../src/store/database.js';
import { claimDueEvents, countInboundEvents, findInboundEvent, scheduleEventRetry } from '../../../src/store/purchase-event.repository.js';
import { findOrderByNumber, getOrderWithItems } from '../../../src/store/order.repository.js';
import { useTestContext } from '../../support/context.js';
import { openStoreDoor, type StoreDoor } from '../../support/store-door.js';

// What the door (POST /webhooks/store) acknowledges, the store applies: each case goes through
// the real route and the real worker against the real migrations.

const SECRET = 'contract-test-secret';
let db: Db;
let clock: ManualClock;
let logger: Logger;
let door: StoreDoor;
let eventNumber = 0;

useTestContext(async (context) => {
  ({ db, clock, logger } = context);
  door = await openStoreDoor(context, SECRET);
});
afterEach(() => door.close());

async function send(eventType: string, data: unknown) {
  const id = `evt_${++eventNumber}`;
  const response = await door.post(JSON.stringify({ id, event_type: eventType, data }));
  return { id, status: response.statusCode, body: response.json<{ message?: string }>() };
}

async function nothingStored(): Promise<void> {
  expect(await countInboundEvents(db)).toEqual({ pending: 0, processed: 0, ignored: 0, failed: 0 });
}

const order = (overrides: Record<string, unknown> = {}) => ({
  id: 123,
  order_number: 'ORD-1',
  total: '29.99',
  customer: { email: 'player@example.com', name: 'Player' },
  items: [{ product_id: 5, product_name: 'VIP Rank', quantity: 1, price: '29.99' }],
  ...overrides,
});

describe('the purchase webhook refuses at the door what the store would refuse', () => {
  it.each([
    ['a comma', 'first,last@example.com'],
    ['a double quote', '"player"@example.com'],
    ['no dotted domain', 'player@localhost'],
    ['a NUL', 'pla\u0000yer@example.com'],
  ])('refuses an email with %s with 400 naming the field, and stores nothing', async (_what, email) => {
    const answer = await send('order.paid', order({ customer: { email } }));
    expect(answer.status).toBe(400);
    expect(answer.body.message).toMatch(/^data\.customer\.email: /);
    await nothingStored();
  });

  it('refuses the flat customer_email the same way', async () => {
    const answer = await send('order.paid', { order_id: 1, customer_email: 'a,b@example.com' });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toMatch(/^data\.customer_email: /);
    await nothingStored();
  });

  it('refuses an order number over 64 characters with 400 naming the field, and stores nothing', async () => {
    const answer = await send('order.paid', order({ order_number: 'N'.repeat(65) }));
    expect(answer.status).toBe(400);
    expect(answer.body.message).toMatch(/^data\.order_number: .*64/);
    await nothingStored();
  });
});

describe('the purchase webhook applies what it acknowledges', () => {
  it('applies an order number of 64 emoji: lengths are counted in code points', async () => {
    const number = '🎮'.repeat(64);
    const answer = await send('order.paid', order({ order_number: number }));
    expect(answer.status).toBe(200);
    await door.work();
    expect(await findInboundEvent(db, answer.id)).toMatchObject({ status: 'processed' });
    expect((await findOrderByNumber(db, number))?.id).toBe(123);
  });

  it('applies a product name of 200 emoji and a customer name of 100', async () => {
    const productName = '🔥'.repeat(200);
    const name = '👾'.repeat(100);
    const answer = await send('order.paid', order({ customer: { email: 'emoji@example.com', name }, items: [{ product_name: productName, price: '1.00' }] }));
    expect(answer.status).toBe(200);
    await door.work();
    expect(await findInboundEvent(db, answer.id)).toMatchObject({ status: 'processed' });
    expect((await getOrderWithItems(db, 123))?.items[0]?.productName).toBe(productName);
    expect((await findCustomerByEmail(db, 'emoji@example.com'))?.name).toBe(name);
  });

  it('clips a product name over 200 characters on a grapheme boundary and applies the order', async () => {
    const family = '👨‍👩‍👧‍👦';
    const answer = await send('order.paid', order({ items: [{ product_name: 'x'.repeat(197) + family, price: '1.00' }] }));
    expect(answer.status).toBe(200);
    await door.work();
    expect(await findInboundEvent(db, answer.id)).toMatchObject({ status: 'processed' });
    const stored = (await getOrderWithItems(db, 123))?.items[0]?.productName ?? '';
    expect(codePointLength(stored)).toBeLessThanOrEqual(200);
    expect(stored).not.toContain('\u200d');
    expect(stored.startsWith('x'.repeat(197))).toBe(true);
  });

  it('applies an IDN email with a non-ASCII local part', async () => {
    const answer = await send('order.paid', order({ customer: { email: 'spieler.ü@bücher.example' } }));
    expect(answer.status).toBe(200);
    await door.work();
    expect(await findInboundEvent(db, answer.id)).toMatchObject({ status: 'processed' });
    expect(await findCustomerByEmail(db, 'spieler.ü@bücher.example')).toBeDefined();
  });
});

describe('events that name only a known order', () => {
  it('refunds an order when the refund carries only its id and order number', async () => {
    expect((await send('order.paid', order())).status).toBe(200);
    await door.work();
    const refund = await send('order.refunded', { id: 123, order_number: 'ORD-1' });
    expect(refund.status).toBe(200);
    await door.work();
    expect(await findInboundEvent(db, refund.id)).toMatchObject({ status: 'processed' });
    expect((await getOrderWithItems(db, 123))?.status).toBe('refunded');
  });

  it('refunds an order named only by its number', async () => {
    expect((await send('order.paid', order())).status).toBe(200);
    await door.work();
    const refund = await send('order.refunded', { order_number: 'ORD-1' });
    expect(refund.status).toBe(200);
    await door.work();
    expect((await getOrderWithItems(db, 123))?.status).toBe('refunded');
  });

  it('waits, and does not invent a customer, for an order it has not seen that names nobody', async () => {
    const refund = await send('order.refunded', { id: 777 });
    expect(refund.status).toBe(200);
    await door.work();
    expect(await findInboundEvent(db, refund.id)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(await getOrderWithItems(db, 777)).toBeUndefined();
    expect((await send('order.paid', order({ id: 777, order_number: 'ORD-777' }))).status).toBe(200);
    await door.work();
    clock.advance(60_000);
    await door.work();
    expect(await findInboundEvent(db, refund.id)).toMatchObject({ status: 'processed' });
    expect((await getOrderWithItems(db, 777))?.status).toBe('refunded');
  });
});

describe('a failure that no retry can fix', () => {
  it('is marked failed at the first attempt and staff are alerted', async () => {
    expect((await send('order.paid', order())).status).toBe(200);
    expect((await send('order.paid', order({ id: 124, order_number: 'ORD-2' }))).status).toBe(200);
    await door.work();
    // Order 124 now claims order 123's number: the store refuses it, and always will.
    const clash = await send('order.completed', order({ id: 124, order_number: 'ORD-1' }));
    expect(clash.status).toBe(200);
    await door.work();
    expect(await findInboundEvent(db, clash.id)).toMatchObject({ status: 'failed', attempts: 1 });
    const alerts = await listStaffAlerts(db, { kind: 'purchase_event_failed' });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.message).toContain(clash.id);
    expect(alerts[0]?.message).toContain('ORD-1');
  });
});

describe('a failure the database refuses for good', () => {
  it('is marked failed at the first attempt and staff are alerted', async () => {
    const store = storeEventHooks(clock);
    const refusing: PurchaseEventHooks = {
      ...store,
      // A write the database itself refuses (NOT NULL): no retry can change that.
      customerChanged: async (trx) => {
        await sql`INSERT INTO notes (customer_id, author_id, author_name, body, created_at) VALUES (1, 'x', 'x', NULL, 'x')`.execute(trx);
      },
    };
    const paid = await send('order.paid', order());
    await processDueEvents(db, clock, refusing, { logger, yieldBetweenEvents: false });
    expect(await findInboundEvent(db, paid.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await getOrderWithItems(db, 123)).toBeUndefined();
    expect(await listStaffAlerts(db, { kind: 'purchase_event_failed' })).toHaveLength(1);
  });
});

describe('a failure that a retry might fix', () => {
  it('is retried when a concurrent writer took the new customer\'s email first', async () => {
    const store = storeEventHooks(clock);
    let raced = false;
    const racing: PurchaseEventHooks = {
      ...store,
      // What insertCustomer reports when another process registered the email between its probe and its insert.
      customerCreated: async (trx, customer) => {
        if (!raced) {
          raced = true;
          throw new UserError('email_taken', 'That email is already registered to another customer.');
        }
        await store.customerCreated(trx, customer);
      },
    };
    const paid = await send('order.paid', order());
    await processDueEvents(db, clock, racing, { logger, yieldBetweenEvents: false });
    expect(await findInboundEvent(db, paid.id)).toMatchObject({ status: 'pending', attempts: 1 });
    clock.advance(60_000);
    await processDueEvents(db, clock, racing, { logger, yieldBetweenEvents: false });
    expect(await findInboundEvent(db, paid.id)).toMatchObject({ status: 'processed', attempts: 2 });
    expect(await listStaffAlerts(db, { kind: 'purchase_event_failed' })).toEqual([]);
  });

  it('is retried with backoff, then marked failed after the last attempt, and staff are alerted', async () => {
    const dispute = await send('dispute.created', { dispute_id: 'dp_1', order_id: 999 });
    expect(dispute.status).toBe(200);
    for (let attempt = 1; attempt <= MAX_EVENT_ATTEMPTS; attempt++) {
      await door.work();
      clock.advance(2 * 60 * 60_000);
    }
    expect(await findInboundEvent(db, dispute.id)).toMatchObject({ status: 'failed', attempts: MAX_EVENT_ATTEMPTS });
    const alerts = await listStaffAlerts(db, { kind: 'purchase_event_failed' });
    expect(alerts.map((alert) => alert.message)).toEqual([expect.stringContaining(dispute.id)]);
  });
});

describe('staff alerts about events', () => {
  it('are clipped to one Discord message without splitting an emoji', async () => {
    await raiseStaffAlert(db, clock, { kind: 'purchase_event_failed', message: 'a'.repeat(1998) + '🎮'.repeat(10) });
    const [alert] = await listStaffAlerts(db);
    const message = alert?.message ?? '';
    expect(codePointLength(message)).toBeLessThanOrEqual(2000);
    expect(message).toBe(wellFormed(message));
    expect(message.endsWith('…')).toBe(true);
  });
});

describe('an event that failed', () => {
  it('is queued again and applied when the store delivers it again', async () => {
    const dispute = await send('dispute.created', { dispute_id: 'dp_2', order_id: 555 });
    for (let attempt = 1; attempt <= MAX_EVENT_ATTEMPTS; attempt++) {
      await door.work();
      clock.advance(2 * 60 * 60_000);
    }
    expect(await findInboundEvent(db, dispute.id)).toMatchObject({ status: 'failed' });
    expect((await send('order.paid', order({ id: 555, order_number: 'ORD-555' }))).status).toBe(200);
    await door.work();

    const again = await resend(dispute.id, 'dispute.created', { dispute_id: 'dp_2', order_id: 555 });
    expect(again).toEqual({ status: 200, body: { received: true } });
    await door.work();
    expect(await findInboundEvent(db, dispute.id)).toMatchObject({ status: 'processed', attempts: 1, lastError: null });
    expect((await getOrderWithItems(db, 555))?.status).toBe('disputed');
  });

  it('alerts staff again when its new delivery fails again', async () => {
    await send('order.paid', order());
    await send('order.paid', order({ id: 124, order_number: 'ORD-2' }));
    await door.work();
    const clash = await send('order.completed', order({ id: 124, order_number: 'ORD-1' }));
    await door.work();
    expect((await resend(clash.id, 'order.completed', order({ id: 124, order_number: 'ORD-1' }))).status).toBe(200);
    await door.work();
    expect(await findInboundEvent(db, clash.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await listStaffAlerts(db, { kind: 'purchase_event_failed' })).toHaveLength(2);
  });

  it('is still a duplicate once it was applied', async () => {
    const paid = await send('order.paid', order());
    await door.work();
    expect(await resend(paid.id, 'order.paid', order())).toEqual({ status: 200, body: { received: true, duplicate: true } });
    expect(await findInboundEvent(db, paid.id)).toMatchObject({ status: 'processed', attempts: 1 });
  });
});

async function resend(id: string, eventType: string, data: unknown) {
  const response = await door.post(JSON.stringify({ id, event_type: eventType, data }));
  return { status: response.statusCode, body: response.json<unknown>() };
}

describe('the reason kept on an event', () => {
  it('is cut without splitting an emoji', async () => {
    const event = await send('order.paid', order());
    const [claim] = await claimDueEvents(db, clock, { limit: 1, leaseMs: 60_000 });
    await scheduleEventRetry(db, claim!, clock.now(), 'a'.repeat(1998) + '🎮'.repeat(5));
    const lastError = (await findInboundEvent(db, event.id))?.lastError ?? '';
    expect(lastError).toBe(wellFormed(lastError));
    expect(lastError).toBe(`${'a'.repeat(1998)}🎮…`);
  });
});
