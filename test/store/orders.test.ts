import { describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/shared/clock.js';
import { UserError } from '../../src/shared/errors.js';
import type { Customer } from '../../src/domain/customers/types.js';
import { findCustomerById } from '../../src/store/customer.repository.js';
import { insertCustomer } from '../../src/domain/customers/registration.js';
import type { Db } from '../../src/store/database.js';
import {
  findOrderByNumber,
  getOrderWithItems,
  listOrdersForCustomer,
  listRecentOrdersOfCustomer,
  recomputeCustomerAggregates,
  setOrderStatus,
  upsertOrder,
  type OrderInput,
} from '../../src/store/order.repository.js';
import { useTestContext } from '../support/context.js';

let db: Db;
let clock: ManualClock;
let alice: Customer;
let bob: Customer;

useTestContext(async (context) => {
  ({ db, clock } = context);
  alice = await insertCustomer(db, clock, { name: 'Alice', email: 'alice@example.com' });
  bob = await insertCustomer(db, clock, { name: 'Bob', email: 'bob@example.com' });
});

function order(id: number, over: Partial<OrderInput> = {}): OrderInput {
  return {
    id,
    orderNumber: `ORD-2026-${String(id).padStart(5, '0')}`,
    customerId: alice.id,
    status: 'completed',
    totalCents: 1000,
    currency: 'USD',
    createdAt: `2026-10-${String(id).padStart(2, '0')}T10:00:00.000Z`,
    items: [{ productId: 1, productName: 'VIP Rank', quantity: 1, priceCents: 1000 }],
    ...over,
  };
}

async function aggregates(customerId: number) {
  const c = await findCustomerById(db, customerId);
  if (!c) throw new Error('customer vanished');
  return {
    ordersCount: c.ordersCount,
    totalSpentCents: c.totalSpentCents,
    firstOrderAt: c.firstOrderAt,
    lastOrderAt: c.lastOrderAt,
    lastOrderNumber: c.lastOrderNumber,
  };
}

describe('customer aggregates', () => {
  it('count paid and completed orders only', async () => {
    await upsertOrder(db, clock, order(1, { status: 'completed', totalCents: 1000 }));
    await upsertOrder(db, clock, order(2, { status: 'paid', totalCents: 2500 }));
    for (const [id, status] of [
      [3, 'pending'],
      [4, 'refunded'],
      [5, 'cancelled'],
      [6, 'failed'],
      [7, 'disputed'],
    ] as const) {
      await upsertOrder(db, clock, order(id, { status, totalCents: 99_999 }));
    }
    expect(await aggregates(alice.id)).toEqual({
      ordersCount: 2,
      totalSpentCents: 3500,
      firstOrderAt: '2026-10-01T10:00:00.000Z',
      lastOrderAt: '2026-10-02T10:00:00.000Z',
      lastOrderNumber: 'ORD-2026-00002',
    });
  });

  it('take the completion time over the creation time for first and last order', async () => {
    await upsertOrder(db, clock, order(1, { createdAt: '2026-10-01T10:00:00Z', completedAt: '2026-10-20T10:00:00Z' }));
    await upsertOrder(db, clock, order(2, { createdAt: '2026-10-05T10:00:00Z' }));
    expect(await aggregates(alice.id)).toMatchObject({
      firstOrderAt: '2026-10-05T10:00:00.000Z',
      lastOrderAt: '2026-10-20T10:00:00.000Z',
      lastOrderNumber: 'ORD-2026-00001',
    });
  });

  it('follow a pending order through payment and refund', async () => {
    await upsertOrder(db, clock, order(1, { status: 'pending' }));
    expect((await aggregates(alice.id)).ordersCount).toBe(0);

    clock.set('2026-11-01T08:00:00.000Z');
    const paid = await setOrderStatus(db, clock, 1, 'paid');
    expect(paid.completedAt).toBe('2026-11-01T08:00:00.000Z');
    expect(await aggregates(alice.id)).toMatchObject({ ordersCount: 1, totalSpentCents: 1000, lastOrderAt: '2026-11-01T08:00:00.000Z' });

    clock.set('2026-11-02T08:00:00.000Z');
    const completed = await setOrderStatus(db, clock, 1, 'completed');
    expect(completed.completedAt).toBe('2026-11-01T08:00:00.000Z');

    const refunded = await setOrderStatus(db, clock, 1, 'refunded', '2026-11-03T09:30:00+01:00');
    expect(refunded).toMatchObject({ status: 'refunded', refundedAt: '2026-11-03T08:30:00.000Z' });
    expect(await aggregates(alice.id)).toEqual({
      ordersCount: 0,
      totalSpentCents: 0,
      firstOrderAt: null,
      lastOrderAt: null,
      lastOrderNumber: null,
    });
  });

  it('fall back to the previous order when the latest one is refunded', async () => {
    await upsertOrder(db, clock, order(1, { totalCents: 1000 }));
    await upsertOrder(db, clock, order(2, { totalCents: 2000 }));
    await setOrderStatus(db, clock, 2, 'refunded');
    expect(await aggregates(alice.id)).toMatchObject({ ordersCount: 1, totalSpentCents: 1000, lastOrderNumber: 'ORD-2026-00001' });
    await setOrderStatus(db, clock, 2, 'disputed');
    await setOrderStatus(db, clock, 2, 'completed');
    expect(await aggregates(alice.id)).toMatchObject({ ordersCount: 2, totalSpentCents: 3000, lastOrderNumber: 'ORD-2026-00002' });
  });

  it('move with an order from one customer to another', async () => {
    await upsertOrder(db, clock, order(1, { totalCents: 1000 }));
    await upsertOrder(db, clock, order(2, { totalCents: 2000 }));
    await upsertOrder(db, clock, order(2, { totalCents: 2000, customerId: bob.id }));
    expect(await aggregates(alice.id)).toMatchObject({ ordersCount: 1, totalSpentCents: 1000 });
    expect(await aggregates(bob.id)).toMatchObject({ ordersCount: 1, totalSpentCents: 2000, lastOrderNumber: 'ORD-2026-00002' });

    await upsertOrder(db, clock, order(1, { totalCents: 1000, customerId: null }));
    expect(await aggregates(alice.id)).toMatchObject({ ordersCount: 0, totalSpentCents: 0, lastOrderAt: null });
  });

  it('move the customer update time forward only when a figure changes', async () => {
    clock.set('2026-11-23T00:00:00.000Z');
    await upsertOrder(db, clock, order(1, { status: 'pending' }));
    expect((await findCustomerById(db, alice.id))?.updatedAt).toBe('2026-11-22T12:00:00.000Z');
    clock.set('2026-11-24T00:00:00.000Z');
    await setOrderStatus(db, clock, 1, 'completed');
    expect((await findCustomerById(db, alice.id))?.updatedAt).toBe('2026-11-24T00:00:00.000Z');
  });

  it('are rebuilt from the orders when recomputed by hand', async () => {
    await upsertOrder(db, clock, order(1, { totalCents: 1234 }));
    await db.updateTable('customers').set({ orders_count: 99, total_spent_cents: 0 }).where('id', '=', alice.id).execute();
    const result = await recomputeCustomerAggregates(db, alice.id);
    expect(result).toMatchObject({ ordersCount: 1, totalSpentCents: 1234 });
    expect(await aggregates(alice.id)).toMatchObject({ ordersCount: 1, totalSpentCents: 1234 });
  });
});

describe('orders', () => {
  it('replace their items and keep product names current', async () => {
    await upsertOrder(db, clock, order(1, { items: [{ productId: 1, productName: 'VIP', quantity: 1, priceCents: 1000 }] }));
    await upsertOrder(
      db,
      clock,
      order(1, {
        totalCents: 1500,
        items: [
          { productId: 1, productName: 'VIP Rank', quantity: 1, priceCents: 1000 },
          { productId: null, productName: 'Custom tip', quantity: 2, priceCents: 250 },
        ],
      }),
    );
    const stored = await getOrderWithItems(db, 1);
    expect(stored?.items).toEqual([
      { productId: 1, productName: 'VIP Rank', quantity: 1, priceCents: 1000 },
      { productId: null, productName: 'Custom tip', quantity: 2, priceCents: 250 },
    ]);
    const product = await db.selectFrom('products').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
    expect(product.name).toBe('VIP Rank');
    expect(await getOrderWithItems(db, 999)).toBeUndefined();
  });

  it('store timestamps in the one ISO form so they sort as text', async () => {
    const stored = await upsertOrder(db, clock, order(1, { createdAt: '2026-10-01T12:00:00+02:00', completedAt: '2026-10-01T10:05:00Z' }));
    expect(stored).toMatchObject({ createdAt: '2026-10-01T10:00:00.000Z', completedAt: '2026-10-01T10:05:00.000Z' });
  });

  it('refuse an order number already used by another order, an unknown customer and bad amounts', async () => {
    await upsertOrder(db, clock, order(1));
    const clash = await upsertOrder(db, clock, order(2, { orderNumber: 'ORD-2026-00001' })).catch((e: unknown) => e);
    expect(clash).toBeInstanceOf(UserError);
    expect((clash as UserError).code).toBe('order_number_taken');
    await expect(upsertOrder(db, clock, order(3, { customerId: 999 }))).rejects.toMatchObject({ code: 'customer_not_found' });
    await expect(upsertOrder(db, clock, order(3, { totalCents: 10.5 }))).rejects.toMatchObject({ code: 'order_invalid' });
    await expect(upsertOrder(db, clock, order(3, { currency: 'dollars' }))).rejects.toMatchObject({ code: 'order_invalid' });
    await expect(setOrderStatus(db, clock, 999, 'paid')).rejects.toMatchObject({ code: 'order_not_found' });
    // A refused write leaves nothing half done.
    expect(await findOrderByNumber(db, 'ORD-2026-00003')).toBeUndefined();
  });

  it('list newest first with the total, and find by number in any case', async () => {
    for (let id = 1; id <= 5; id++) await upsertOrder(db, clock, order(id));
    await upsertOrder(db, clock, order(6, { customerId: bob.id }));
    const page = await listOrdersForCustomer(db, alice.id, { offset: 1, limit: 2 });
    expect(page).toMatchObject({ total: 5, offset: 1, limit: 2 });
    expect(page.items.map((o) => o.id)).toEqual([4, 3]);
    expect((await findOrderByNumber(db, 'ord-2026-00004'))?.id).toBe(4);
  });

  it("recent orders are the customer's newest first, as many as asked for, with the fields a summary shows", async () => {
    for (let id = 1; id <= 5; id++) await upsertOrder(db, clock, order(id, { totalCents: 100 * id }));
    await upsertOrder(db, clock, order(6, { customerId: bob.id }));
    const recent = await listRecentOrdersOfCustomer(db, alice.id, 3);
    expect(recent.map((o) => o.id)).toEqual([5, 4, 3]);
    expect(recent[0]).toEqual({ id: 5, orderNumber: 'ORD-2026-00005', status: 'completed', totalCents: 500, createdAt: '2026-10-05T10:00:00.000Z' });
    expect((await listRecentOrdersOfCustomer(db, bob.id, 50)).map((o) => o.id)).toEqual([6]);
  });
});
