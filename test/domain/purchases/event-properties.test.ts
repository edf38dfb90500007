import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listStaffAlerts } from '../../../src/domain/alerts/staff-alerts.js';
import type { Db } from '../../../src/store/database.js';
import { countInboundEvents, findInboundEvent } from '../../../src/store/purchase-event.repository.js';
import { findOrderByNumber, getOrderWithItems } from '../../../src/store/order.repository.js';
import { openTestContext, type TestContext } from '../../support/context.js';
import { openStoreDoor, type StoreDoor } from '../../support/store-door.js';

// For any event the store's checkout might send: either the door refuses it (4xx naming the
// field) and nothing is stored, or it is acknowledged and the worker applies it. Never the third
// thing: acknowledged, then refused by the store and lost.

const SECRET = 'property-test-secret';
let db: Db;
let context: TestContext;
let door: StoreDoor;
let runs = 0;

/** A fresh store and door: an event's fate must not depend on what earlier runs left behind. */
async function open(): Promise<void> {
  context = await openTestContext();
  ({ db } = context);
  door = await openStoreDoor(context, SECRET);
}

async function close(): Promise<void> {
  await door.close();
  await context.close();
}

async function send(body: unknown) {
  const response = await door.post(JSON.stringify(body));
  return { status: response.statusCode, message: response.json<{ message?: string }>().message ?? '' };
}

// ---------------------------------------------------------------------------------------------
// Awkward values, mixed with ordinary ones so that many events get through the door.

const unicodeText = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ maxLength }),
    fc.constantFrom('👨‍👩‍👧‍👦'.repeat(Math.ceil(maxLength / 7)), '🔥'.repeat(maxLength), 'a'.repeat(maxLength), ' \t\u3000 ', '\u0000', '\ud800'),
  );

const lengthAround = (limit: number) => fc.integer({ min: Math.max(0, limit - 3), max: limit + 3 });

const emailArb = fc.oneof(
  fc.constantFrom(
    'player@example.com',
    'Player@Example.COM',
    '  padded@example.com  ',
    'spieler.ü@bücher.example',
    '用户@例子.广告',
    'first,last@example.com',
    '"quoted"@example.com',
    'nobody@localhost',
    'no-at-sign',
    '@example.com',
    'a@b.c',
    'tab\t@example.com',
    'semi;colon@example.com',
    '',
  ),
  fc.emailAddress(),
  lengthAround(254).map((n) => `${'e'.repeat(Math.max(1, n - 12))}@example.com`),
  lengthAround(254).map((n) => `${'é'.repeat(Math.max(1, n - 12))}@example.com`),
  fc.tuple(unicodeText(20), unicodeText(20)).map(([local, domain]) => `${local}@${domain}.com`),
);

const idArb = fc.oneof(
  fc.integer({ min: 1, max: 1_000_000 }),
  fc.integer({ min: 1, max: 1_000_000 }).map(String),
  fc.constantFrom(0, -1, 1.5, Number.MAX_SAFE_INTEGER, 2 ** 60, '007', ' 42 ', 'abc', '1e3', '', null),
);

const orderNumberArb = fc.oneof(
  fc.stringMatching(/^ORD-\d{1,8}$/),
  unicodeText(70),
  lengthAround(64).map((n) => 'N'.repeat(n)),
  lengthAround(64).map((n) => '🎮'.repeat(n)),
  fc.integer({ min: 0, max: 1_000_000 }),
  fc.constantFrom('', '   ', 'ord-1', 'ORD\n1'),
);

const moneyArb = fc.oneof(
  fc.integer({ min: 0, max: 100_000 }).map((cents) => (cents / 100).toFixed(2)),
  fc.double({ min: -10, max: 1e13, noNaN: true }),
  fc.constantFrom('29.99', '29.9', '29', '0', '-5.00', '1e3', '29.999', 'free', '', ' 1.00 ', '999999999999.99', 1e20, Infinity, null),
);

const quantityArb = fc.oneof(fc.integer({ min: -1, max: 20 }), fc.constantFrom('3', '0', '1.5', 1e7, ' 2 ', null));

const timestampArb = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer({ min: -1, max: 2 ** 45 }),
  fc.constantFrom('2026-02-30', '2026-13-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', 'yesterday', '', 8.64e15 + 1, null),
);

const itemArb = fc.record(
  {
    product_id: idArb,
    product_name: fc.oneof(unicodeText(210), lengthAround(200).map((n) => '🔥'.repeat(n))),
    name: unicodeText(30),
    quantity: quantityArb,
    price: moneyArb,
  },
  { requiredKeys: [] },
);

const customerArb = fc.record(
  { id: idArb, email: emailArb, name: fc.oneof(unicodeText(110), lengthAround(100).map((n) => '👾'.repeat(n))), ip: fc.constantFrom('203.0.113.7', '::1', 'not-an-ip') },
  { requiredKeys: ['email'] },
);

const orderDataArb = fc.record(
  {
    id: idArb,
    order_number: orderNumberArb,
    total: moneyArb,
    currency: fc.constantFrom('USD', 'eur', 'EURO', '', null),
    customer: customerArb,
    items: fc.oneof(fc.array(itemArb, { maxLength: 4 }), fc.constant(null)),
    created_at: timestampArb,
    completed_at: timestampArb,
  },
  { requiredKeys: ['customer'] },
);

const flatOrderDataArb = fc.record(
  { order_id: idArb, order_number: orderNumberArb, customer_email: emailArb, customer_name: unicodeText(110), total: moneyArb },
  { requiredKeys: ['customer_email'] },
);

const orderTypeArb = fc.constantFrom('order.created', 'order.paid', 'order.completed', 'order.received', 'order.refunded');

const eventArb = fc.oneof(
  fc.record({ event_type: orderTypeArb, data: fc.oneof(orderDataArb, flatOrderDataArb), created_at: timestampArb }),
  fc.record({
    event_type: fc.constantFrom('subscription.created', 'subscription.renewed', 'subscription.cancelled'),
    data: fc.record({ id: idArb, customer: customerArb, product_id: idArb, product_name: unicodeText(210), current_period_end: timestampArb }),
  }),
  fc.record({
    event_type: fc.constantFrom('dispute.created', 'dispute.resolved'),
    data: fc.record(
      { dispute_id: fc.oneof(idArb, unicodeText(210)), order_id: idArb, order_number: orderNumberArb, outcome: fc.constantFrom('won', 'lost', 'WIN', 'maybe', '', null) },
      { requiredKeys: [] },
    ),
  }),
  fc.record({ event_type: fc.constant('ticket.created'), data: fc.record({ id: fc.oneof(idArb, unicodeText(210)), customer: customerArb, subject: unicodeText(310) }) }),
);

function namesAnEmail(data: Record<string, unknown>): boolean {
  const nested = data.customer as { email?: unknown } | undefined;
  return [nested?.email, data.customer_email].some((email) => typeof email === 'string' && email.trim() !== '');
}

describe('every purchase event the door acknowledges is applied', () => {
  it('refuses an event with 4xx naming the field and stores nothing, or acknowledges it and applies it', async () => {
    await fc.assert(
      fc
        .asyncProperty(eventArb, async (event) => {
          const id = `evt_${++runs}`;
          const answer = await send({ id, ...event });
          if (answer.status !== 200) {
            expect(answer.status).toBe(400);
            expect(answer.message).toMatch(/^data(\.[\w.]+)?: /);
            expect(await countInboundEvents(db)).toEqual({ pending: 0, processed: 0, ignored: 0, failed: 0 });
            return;
          }
          await door.work();
          const stored = await findInboundEvent(db, id);
          if (stored?.status === 'pending' && event.event_type.startsWith('dispute.')) {
            // A dispute about an order this fresh store has never seen waits for that order.
            expect(stored.lastError).toMatch(/^dispute for order .* which has not arrived yet$/);
            return;
          }
          if (stored?.status === 'pending' && !namesAnEmail(event.data)) {
            // Naming no customer, or one only by the store's customer id that no earlier event tied
            // to an email, it waits for the event that does (retried, then failed with a staff
            // alert), as a dispute waits for its order.
            expect(stored.lastError).toMatch(/^no customer is known for the store's customer id|has not arrived yet and the event names no customer$/);
            return;
          }
          expect({ status: stored?.status, lastError: stored?.lastError }).toEqual({ status: 'processed', lastError: null });
          expect(await listStaffAlerts(db, { kind: 'purchase_event_failed' })).toEqual([]);
        })
        .beforeEach(open)
        .afterEach(close),
      { numRuns: 80 },
    );
  }, 180_000);
});

describe('events that name only an order the store has', () => {
  it('apply to that order whichever of its id and number they carry, and however they spell them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom('order.refunded', 'order.completed'),
        fc.constantFrom('id', 'order_id', 'number', 'both', 'id as text', 'number in lower case'),
        async (orderId, eventType, naming) => {
          const number = `ORD-${++runs}`;
          const paid = await send({ id: `evt_paid_${runs}`, event_type: 'order.paid', data: { id: orderId + runs * 1_000_000, order_number: number, customer_email: 'buyer@example.com' } });
          expect(paid.status).toBe(200);
          await door.work();
          const storedId = (await findOrderByNumber(db, number))?.id ?? 0;
          const data = {
            id: { id: storedId },
            order_id: { order_id: storedId },
            number: { order_number: number },
            both: { id: storedId, order_number: number },
            'id as text': { id: String(storedId) },
            'number in lower case': { order_number: number.toLowerCase() },
          }[naming];
          const answer = await send({ id: `evt_${runs}`, event_type: eventType, data });
          expect(answer.status).toBe(200);
          await door.work();
          expect(await findInboundEvent(db, `evt_${runs}`)).toMatchObject({ status: 'processed' });
          expect((await getOrderWithItems(db, storedId))?.status).toBe(eventType === 'order.refunded' ? 'refunded' : 'completed');
        },
      )
        .beforeEach(open)
        .afterEach(close),
      { numRuns: 40 },
    );
  }, 180_000);
});
