import { beforeEach, describe, expect, it } from 'vitest';
import { listActivity } from '../../../src/domain/customers/activity-log.js';
import { applyPurchaseEvent, EventNotReadyError, type CustomerChangeCause, type PurchaseEventHooks } from '../../../src/domain/purchases/apply.js';
import type { ManualClock } from '../../../src/shared/clock.js';
import { parseStoreEvent, type PurchaseEvent } from '../../../src/domain/purchases/parse.js';
import { nextOrderStatus, nextSubscriptionState, ORDER_SIGNALS, type OrderSignal, type SubscriptionState } from '../../../src/domain/purchases/state.js';
import type { Customer, OrderStatus } from '../../../src/domain/customers/types.js';
import { findCustomerByEmail, findCustomerById } from '../../../src/store/customer.repository.js';
import { insertCustomer } from '../../../src/domain/customers/registration.js';
import type { Db } from '../../../src/store/database.js';
import { getOrderWithItems, upsertOrder } from '../../../src/store/order.repository.js';
import { useTestContext } from '../../support/context.js';

let db: Db;
let clock: ManualClock;
let hooks: RecordingHooks;
let nextEventId = 1;

useTestContext((context) => {
  ({ db, clock } = context);
  hooks = new RecordingHooks();
});

class RecordingHooks implements PurchaseEventHooks {
  changed: Array<{ customerId: number; cause: CustomerChangeCause }> = [];
  created: Customer[] = [];
  failWith: Error | undefined;
  customerChanged(_trx: Db, customerId: number, cause: CustomerChangeCause): Promise<void> {
    if (this.failWith) return Promise.reject(this.failWith);
    this.changed.push({ customerId, cause });
    return Promise.resolve();
  }
  customerCreated(_trx: Db, customer: Customer): Promise<void> {
    this.created.push(customer);
    return Promise.resolve();
  }
}

function event(type: string, data: unknown, id = `evt_${nextEventId++}`, createdAt?: string): PurchaseEvent {
  const result = parseStoreEvent(Buffer.from(JSON.stringify({ id, event_type: type, created_at: createdAt, data })), {});
  if (!result.ok) throw new Error(result.message);
  return result.event;
}

function apply(e: PurchaseEvent) {
  return applyPurchaseEvent(db, clock, e, hooks, { storeCurrency: 'EUR' });
}

const ORDER = {
  id: 123,
  order_number: 'ORD-2025-00123',
  total: '29.99',
  currency: 'USD',
  customer: { id: 45, email: 'Player@Example.com', name: 'PlayerOne', ip: '203.0.113.7' },
  items: [{ product_id: 5, product_name: 'VIP Rank', quantity: 1, price: '29.99' }],
  created_at: '2026-11-20T10:00:00Z',
};

async function orderStatus(id = 123): Promise<OrderStatus | undefined> {
  return (await getOrderWithItems(db, id))?.status;
}

async function customerByEmail(email: string): Promise<Customer> {
  const customer = await findCustomerByEmail(db, email);
  if (!customer) throw new Error(`no customer ${email}`);
  return customer;
}

describe('nextOrderStatus', () => {
  // Rows: the stored status (null: never seen). Columns: ORDER_SIGNALS in order.
  const table: Record<string, readonly OrderStatus[]> = {
    //            created      paid         completed    refunded    dispute_opened dispute_won  dispute_lost
    null: ['pending', 'paid', 'completed', 'refunded', 'disputed', 'completed', 'refunded'],
    pending: ['pending', 'paid', 'completed', 'refunded', 'disputed', 'completed', 'refunded'],
    paid: ['paid', 'paid', 'completed', 'refunded', 'disputed', 'completed', 'refunded'],
    completed: ['completed', 'completed', 'completed', 'refunded', 'disputed', 'completed', 'refunded'],
    refunded: ['refunded', 'refunded', 'refunded', 'refunded', 'refunded', 'refunded', 'refunded'],
    disputed: ['disputed', 'disputed', 'disputed', 'refunded', 'disputed', 'completed', 'refunded'],
    cancelled: ['cancelled', 'paid', 'completed', 'refunded', 'disputed', 'completed', 'refunded'],
    failed: ['failed', 'paid', 'completed', 'refunded', 'disputed', 'completed', 'refunded'],
  };
  const cases = Object.entries(table).flatMap(([current, row]) =>
    ORDER_SIGNALS.map((signal, i) => [current === 'null' ? null : (current as OrderStatus), signal, row[i]] as const),
  );

  it('covers every stored status and every signal', () => {
    expect(cases).toHaveLength(8 * 7);
  });

  it.each(cases)('from %s, %s gives %s', (current: OrderStatus | null, signal: OrderSignal, expected: OrderStatus | undefined) => {
    expect(nextOrderStatus(current, signal)).toBe(expected);
  });
});

describe('nextSubscriptionState', () => {
  const P1 = '2026-12-01T00:00:00.000Z';
  const P2 = '2027-01-01T00:00:00.000Z';
  const state = (status: SubscriptionState['status'], currentPeriodEnd: string | null = P1): SubscriptionState => ({ status, currentPeriodEnd });
  const cases: Array<[SubscriptionState | null, Parameters<typeof nextSubscriptionState>[1], string | null, SubscriptionState]> = [
    [null, 'created', P1, state('active')],
    [null, 'renewed', P1, state('active')],
    [null, 'cancelled', P1, state('cancelled')],
    [null, 'payment_failed', null, state('payment_failed', null)],
    [null, 'expired', P1, state('expired')],
    [state('active'), 'renewed', P2, state('active', P2)],
    [state('active', P2), 'renewed', P1, state('active', P2)],
    [state('cancelled'), 'renewed', P1, state('cancelled')],
    [state('cancelled'), 'renewed', P2, state('active', P2)],
    [state('cancelled'), 'renewed', null, state('cancelled')],
    [state('payment_failed'), 'renewed', null, state('active')],
    [state('payment_failed'), 'renewed', P2, state('active', P2)],
    [state('active'), 'cancelled', null, state('cancelled')],
    [state('active', P2), 'cancelled', P1, state('active', P2)],
    [state('expired'), 'cancelled', P1, state('expired')],
    [state('active'), 'payment_failed', P1, state('payment_failed')],
    [state('cancelled'), 'payment_failed', P1, state('cancelled')],
    [state('active'), 'expired', P1, state('expired')],
    [state('expired'), 'created', P1, state('expired')],
    [state('expired'), 'renewed', P1, state('expired')],
    [state('active', null), 'created', P1, state('active', P1)],
  ];

  it.each(cases)('from %j, %s with period end %s gives %j', (current, signal, periodEnd, expected) => {
    expect(nextSubscriptionState(current, signal, periodEnd)).toEqual(expected);
  });
});

describe('order events', () => {
  it('create the customer of an unknown email, named as the order names them, and announce it once', async () => {
    const result = await apply(event('order.created', ORDER));
    const customer = await customerByEmail('player@example.com');
    expect(result).toEqual({ outcome: 'applied', customerId: customer.id, changed: true });
    expect(customer).toMatchObject({ name: 'PlayerOne', email: 'Player@Example.com', ordersCount: 0 });
    expect(hooks.created.map((c) => c.id)).toEqual([customer.id]);
    expect(hooks.changed).toEqual([{ customerId: customer.id, cause: { eventId: expect.any(String), eventType: 'order.created', orderId: 123 } }]);
    expect(await getOrderWithItems(db, 123)).toMatchObject({
      orderNumber: 'ORD-2025-00123',
      status: 'pending',
      totalCents: 2999,
      currency: 'USD',
      createdAt: '2026-11-20T10:00:00.000Z',
      completedAt: null,
      items: [{ productId: 5, productName: 'VIP Rank', quantity: 1, priceCents: 2999 }],
    });
  });

  it("name a new customer after the email's local part when the event gives no name", async () => {
    await apply(event('order.paid', { order_id: 5, customer_email: 'quiet.buyer@example.com', total: '1.00' }));
    expect((await customerByEmail('quiet.buyer@example.com')).name).toBe('quiet.buyer');
  });

  it('find an existing customer by email, whatever its case, and create nobody', async () => {
    const known = await insertCustomer(db, clock, { name: 'Known', email: 'player@example.com' });
    await apply(event('order.paid', { ...ORDER, customer: { email: 'PLAYER@example.COM' } }));
    expect(hooks.created).toEqual([]);
    expect((await findCustomerById(db, known.id))?.ordersCount).toBe(1);
  });

  it("find the customer by the store's customer id once it has been seen with an email", async () => {
    await apply(event('order.paid', ORDER));
    const customer = await customerByEmail('player@example.com');
    await apply(event('order.paid', { order_id: 124, order_number: 'ORD-2025-00124', customer_id: 45, total: '5.00' }));
    expect((await getOrderWithItems(db, 124))?.customerId).toBe(customer.id);
    expect(hooks.created).toHaveLength(1);
  });

  it('retry later an order whose customer is known only by an unseen store id', async () => {
    await expect(apply(event('order.paid', { order_id: 9, customer_id: 999, total: '1.00' }))).rejects.toBeInstanceOf(EventNotReadyError);
  });

  it('count a paid order in the customer figures and a completed one once', async () => {
    await apply(event('order.created', ORDER));
    await apply(event('order.paid', ORDER, 'evt_paid', '2026-11-20T10:05:00Z'));
    let customer = await customerByEmail('player@example.com');
    expect(customer).toMatchObject({ ordersCount: 1, totalSpentCents: 2999, lastOrderAt: '2026-11-20T10:05:00.000Z' });
    expect(await orderStatus()).toBe('paid');
    await apply(event('order.completed', ORDER));
    customer = await customerByEmail('player@example.com');
    expect(customer).toMatchObject({ ordersCount: 1, totalSpentCents: 2999, lastOrderAt: '2026-11-20T10:05:00.000Z' });
    expect(await orderStatus()).toBe('completed');
  });

  it('treat order.received as a completed order', async () => {
    await apply(event('order.received', ORDER));
    expect(await orderStatus()).toBe('completed');
  });

  it('end refunded when the refund arrives before the payment', async () => {
    await apply(event('order.refunded', ORDER, 'evt_r', '2026-11-21T09:00:00Z'));
    await apply(event('order.paid', ORDER));
    await apply(event('order.completed', ORDER));
    await apply(event('order.created', ORDER));
    expect(await getOrderWithItems(db, 123)).toMatchObject({ status: 'refunded', refundedAt: '2026-11-21T09:00:00.000Z' });
    expect(await customerByEmail('player@example.com')).toMatchObject({ ordersCount: 0, totalSpentCents: 0 });
  });

  it('take a completed order out of the figures when it is refunded', async () => {
    await apply(event('order.completed', ORDER));
    await apply(event('order.refunded', ORDER));
    expect(await customerByEmail('player@example.com')).toMatchObject({ ordersCount: 0, totalSpentCents: 0, lastOrderAt: null });
  });

  it('keep a completed order completed when its order.created arrives last', async () => {
    await apply(event('order.completed', { ...ORDER, created_at: undefined }, 'evt_c', '2026-11-20T10:07:00Z'));
    await apply(event('order.created', ORDER));
    expect(await getOrderWithItems(db, 123)).toMatchObject({ status: 'completed', createdAt: '2026-11-20T10:00:00.000Z', completedAt: '2026-11-20T10:07:00.000Z' });
    expect(await customerByEmail('player@example.com')).toMatchObject({ ordersCount: 1, totalSpentCents: 2999 });
  });

  it('call customerChanged only when something changed', async () => {
    await apply(event('order.paid', ORDER));
    const again = await apply(event('order.paid', ORDER));
    expect(again).toMatchObject({ outcome: 'applied', changed: false });
    expect(hooks.changed).toHaveLength(1);
  });

  it('keep the stored items and total when a later event carries none', async () => {
    await apply(event('order.paid', ORDER));
    await apply(event('order.completed', { order_id: 123, customer_email: 'player@example.com' }));
    expect(await getOrderWithItems(db, 123)).toMatchObject({ totalCents: 2999, orderNumber: 'ORD-2025-00123', items: [{ productName: 'VIP Rank' }] });
  });

  it('use the store currency when neither the event nor the stored order names one', async () => {
    await apply(event('order.paid', { order_id: 7, customer_email: 'eu@example.com', total: '3.50' }));
    expect(await getOrderWithItems(db, 7)).toMatchObject({ currency: 'EUR', orderNumber: 'ORD-7', totalCents: 350 });
  });

  it('keep an order known only by its number on one row when its id turns up later', async () => {
    await apply(event('order.created', { order_number: 'ORD-X-1', customer_email: 'n@example.com', total: '2.00' }));
    await apply(event('order.paid', { order_id: 555, order_number: 'ORD-X-1', customer_email: 'n@example.com' }));
    const customer = await customerByEmail('n@example.com');
    expect(customer.ordersCount).toBe(1);
    const rows = await db.selectFrom('orders').select(['id', 'status']).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.status).toBe('paid');
    expect(rows[0]?.id).toBeGreaterThan(2 ** 52);
  });

  it('leave an order whose customer was erased without a customer, and create nobody', async () => {
    await apply(event('order.paid', ORDER));
    await db.updateTable('orders').set({ customer_id: null }).where('id', '=', 123).execute();
    await db.deleteFrom('platform_customers').execute();
    await db.updateTable('customers').set({ email: 'erased-1@invalid.example', email_lower: 'erased-1@invalid.example' }).execute();
    const result = await apply(event('order.refunded', ORDER));
    expect(result).toMatchObject({ customerId: null });
    expect(await orderStatus()).toBe('refunded');
    expect(hooks.created).toHaveLength(1);
    expect(await findCustomerByEmail(db, 'player@example.com')).toBeUndefined();
  });

  it('record the IP the customer bought from, never shown on the customer', async () => {
    await apply(event('order.paid', ORDER));
    const row = await db.selectFrom('customers').select('last_ip').executeTakeFirstOrThrow();
    expect(row.last_ip).toBe('203.0.113.7');
    expect(JSON.stringify(await customerByEmail('player@example.com'))).not.toContain('203.0.113.7');
  });

  it('give a customer created by a purchase the country of the address they bought from, in what it announces', async () => {
    await apply(event('order.paid', { ...ORDER, customer: { ...ORDER.customer, ip: '81.2.69.160' } }));
    expect(hooks.created.map((c) => c.country)).toEqual(['GB']);
    expect((await customerByEmail('player@example.com')).country).toBe('GB');
  });

  it('move a known customer to the country a later purchase comes from, and keep it when the address places nobody', async () => {
    const known = await insertCustomer(db, clock, { name: 'Known', email: 'player@example.com', country: 'FR' });
    await apply(event('order.paid', { ...ORDER, customer: { email: 'player@example.com', ip: '5.9.0.1' } }));
    expect((await findCustomerById(db, known.id))?.country).toBe('DE');
    await apply(event('order.paid', { ...ORDER, id: 124, order_number: 'ORD-2025-00124', customer: { email: 'player@example.com', ip: '10.1.2.3' } }));
    expect((await findCustomerById(db, known.id))?.country).toBe('DE');
  });

  it('roll back everything when a hook fails', async () => {
    hooks.failWith = new Error('role planner down');
    await expect(apply(event('order.paid', ORDER))).rejects.toThrow('role planner down');
    expect(await getOrderWithItems(db, 123)).toBeUndefined();
    expect(await findCustomerByEmail(db, 'player@example.com')).toBeUndefined();
  });

  it('ignore unknown event types', async () => {
    expect(await apply(event('coupon.created', {}))).toEqual({ outcome: 'ignored', reason: 'unknown event type "coupon.created"' });
  });
});

describe('Discord ids on orders', () => {
  const DISCORD = '123456789012345678';

  it('link the Discord id the platform vouches for, and record it in the activity log', async () => {
    await apply(event('order.paid', { ...ORDER, metadata: { discord_id: DISCORD } }));
    const customer = await customerByEmail('player@example.com');
    expect(customer.discord).toEqual({ id: DISCORD, username: null, avatar: null });
    const activity = await listActivity(db, { action: 'customer.discord_from_order' });
    expect(activity).toMatchObject([{ actor: { id: 'system' }, targetType: 'customer', targetId: String(customer.id), details: { discordId: DISCORD, orderId: 123 } }]);
  });

  it('link it on a later event too, and tell the role side', async () => {
    await apply(event('order.paid', ORDER));
    const result = await apply(event('order.completed', { ...ORDER, customer: { ...ORDER.customer, discord_id: DISCORD } }));
    expect(result).toMatchObject({ changed: true });
    expect((await customerByEmail('player@example.com')).discord?.id).toBe(DISCORD);
    expect(hooks.changed).toHaveLength(2);
  });

  it('never take a Discord id another customer holds, nor replace one already linked', async () => {
    const holder = await insertCustomer(db, clock, { name: 'Holder', email: 'holder@example.com', discord: { id: DISCORD } });
    await insertCustomer(db, clock, { name: 'Linked', email: 'linked@example.com', discord: { id: '223456789012345678' } });
    await apply(event('order.paid', { ...ORDER, metadata: { discord_id: DISCORD } }));
    await apply(event('order.paid', { order_id: 2, customer_email: 'linked@example.com', total: '1.00', metadata: { discord_id: '323456789012345678' } }));
    expect((await customerByEmail('player@example.com')).discord).toBeNull();
    expect((await customerByEmail('linked@example.com')).discord?.id).toBe('223456789012345678');
    expect((await findCustomerById(db, holder.id))?.discord?.id).toBe(DISCORD);
    expect(await listActivity(db, { action: 'customer.discord_from_order' })).toEqual([]);
  });
});

describe('dispute events', () => {
  beforeEach(async () => {
    await apply(event('order.paid', ORDER));
    hooks.changed = [];
  });

  it('mark the order disputed and hold it there against a late payment or completion', async () => {
    await apply(event('dispute.created', { id: 'dp_1', order_id: 123 }));
    await apply(event('order.paid', ORDER));
    await apply(event('order.completed', ORDER));
    expect(await orderStatus()).toBe('disputed');
    expect(await customerByEmail('player@example.com')).toMatchObject({ ordersCount: 0, totalSpentCents: 0 });
    expect(hooks.changed.map((c) => c.cause.eventType)).toEqual(['dispute.created']);
  });

  it('complete the order again when the dispute is won', async () => {
    await apply(event('dispute.created', { order_id: 123 }));
    await apply(event('dispute.resolved', { order_id: 123, outcome: 'won' }));
    expect(await orderStatus()).toBe('completed');
    expect((await customerByEmail('player@example.com')).ordersCount).toBe(1);
  });

  it('refund the order when the dispute is lost, for good', async () => {
    await apply(event('dispute.created', { order_number: 'ORD-2025-00123' }));
    await apply(event('dispute.resolved', { order_number: 'ORD-2025-00123', status: 'lost' }));
    await apply(event('order.completed', ORDER));
    expect(await orderStatus()).toBe('refunded');
    expect((await customerByEmail('player@example.com')).ordersCount).toBe(0);
  });

  it('not reopen a dispute whose dispute.created arrives after its resolution', async () => {
    await apply(event('dispute.resolved', { order_id: 123, outcome: 'won' }));
    await apply(event('dispute.created', { order_id: 123 }));
    expect(await orderStatus()).toBe('completed');
  });

  it('wait for an order that has not arrived yet', async () => {
    await expect(apply(event('dispute.created', { order_id: 999 }))).rejects.toBeInstanceOf(EventNotReadyError);
  });
});

describe('subscription events', () => {
  const SUB = {
    id: 900,
    customer: { id: 45, email: 'player@example.com', name: 'PlayerOne' },
    product: { id: 5, name: 'VIP Monthly' },
    current_period_end: '2026-12-20T00:00:00Z',
  };

  async function subscription() {
    return db.selectFrom('subscriptions').selectAll().where('id', '=', 900).executeTakeFirstOrThrow();
  }

  it('make a created subscription active with its period end, creating the customer and product', async () => {
    await apply(event('subscription.created', SUB, 'evt_s1', '2026-11-20T00:00:00Z'));
    const customer = await customerByEmail('player@example.com');
    expect(await subscription()).toMatchObject({
      customer_id: customer.id,
      product_id: 5,
      status: 'active',
      current_period_end: '2026-12-20T00:00:00.000Z',
      created_at: '2026-11-20T00:00:00.000Z',
    });
    expect(await db.selectFrom('products').select('name').where('id', '=', 5).executeTakeFirst()).toEqual({ name: 'VIP Monthly' });
    expect(hooks.created).toHaveLength(1);
    expect(hooks.changed).toMatchObject([{ customerId: customer.id, cause: { eventType: 'subscription.created', subscriptionId: 900 } }]);
  });

  it('keep the period end on cancellation (access until then)', async () => {
    await apply(event('subscription.created', SUB));
    await apply(event('subscription.cancelled', { ...SUB, current_period_end: undefined }, 'evt_x', '2026-11-25T00:00:00Z'));
    expect(await subscription()).toMatchObject({ status: 'cancelled', current_period_end: '2026-12-20T00:00:00.000Z', cancelled_at: '2026-11-25T00:00:00.000Z' });
  });

  it('stamp the first payment failure and clear it on a renewal', async () => {
    await apply(event('subscription.created', SUB));
    await apply(event('subscription.payment_failed', SUB, 'evt_f1', '2026-12-20T00:00:00Z'));
    await apply(event('subscription.payment_failed', SUB, 'evt_f2', '2026-12-21T00:00:00Z'));
    expect(await subscription()).toMatchObject({ status: 'payment_failed', failed_at: '2026-12-20T00:00:00.000Z' });
    await apply(event('subscription.renewed', { ...SUB, current_period_end: '2027-01-20T00:00:00Z' }));
    expect(await subscription()).toMatchObject({ status: 'active', failed_at: null, current_period_end: '2027-01-20T00:00:00.000Z' });
  });

  it('expire a subscription, and ignore its late created event', async () => {
    await apply(event('subscription.created', SUB));
    await apply(event('subscription.expired', SUB));
    await apply(event('subscription.created', SUB));
    expect((await subscription()).status).toBe('expired');
    expect(hooks.changed.map((c) => c.cause.eventType)).toEqual(['subscription.created', 'subscription.expired']);
  });

  it('stay cancelled when the renewal for the same period arrives after the cancellation', async () => {
    await apply(event('subscription.cancelled', SUB));
    await apply(event('subscription.renewed', SUB));
    expect((await subscription()).status).toBe('cancelled');
  });
});

describe('ticket events', () => {
  const TICKET = { id: 'T-1', subject: 'Rank missing', status: 'open', customer: { email: 'player@example.com' } };

  it('store the ticket, count it on the customer once, and create the customer of an unknown email', async () => {
    await apply(event('ticket.created', TICKET));
    await apply(event('ticket.created', TICKET));
    const customer = await customerByEmail('player@example.com');
    expect(customer.supportTicketsCount).toBe(1);
    expect(hooks.created).toHaveLength(1);
    expect(await db.selectFrom('support_tickets').selectAll().execute()).toMatchObject([
      { id: 'T-1', customer_id: customer.id, subject: 'Rank missing', status: 'open' },
    ]);
  });

  it('add to a count imported with the customer instead of recounting', async () => {
    await insertCustomer(db, clock, { name: 'P', email: 'player@example.com', supportTicketsCount: 4 });
    await apply(event('ticket.created', TICKET));
    expect((await customerByEmail('player@example.com')).supportTicketsCount).toBe(5);
    expect(hooks.changed).toEqual([]);
  });
});

describe('orders written by other paths', () => {
  it('are combined with, not overwritten by, events', async () => {
    const customer = await insertCustomer(db, clock, { name: 'P', email: 'player@example.com' });
    await upsertOrder(db, clock, {
      id: 123,
      orderNumber: 'ORD-2025-00123',
      customerId: customer.id,
      status: 'refunded',
      totalCents: 2999,
      currency: 'USD',
      createdAt: '2026-11-20T10:00:00Z',
      items: [],
    });
    await apply(event('order.paid', ORDER));
    expect(await orderStatus()).toBe('refunded');
  });
});
