import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/shared/clock.js';
import { atRiskCutoff, getCustomerProfile } from '../../../src/domain/customers/profile.js';
import { buildWeeklyDigest } from '../../../src/domain/digest/digest.js';
import { eraseCustomer, previewErasure } from '../../../src/domain/privacy/erasure.js';
import { getStoreStatistics, startOfMonthInZone } from '../../../src/domain/customers/statistics.js';
import type { OrderStatus } from '../../../src/domain/customers/types.js';
import { insertCustomer } from '../../../src/domain/customers/registration.js';
import type { Db } from '../../../src/store/database.js';
import { countOrdersByStatus, setOrderStatus, upsertOrder } from '../../../src/store/order.repository.js';
import { openTestDatabase } from '../../support/database.js';
import { useTestContext } from '../../support/context.js';

const DAY = 24 * 60 * 60 * 1000;

function monthStart(now: string, zone: string): string {
  return startOfMonthInZone(new Date(now), zone).toISOString();
}

describe('the start of the month in the store time zone', () => {
  it('uses winter time for a Berlin month that began before the clocks went forward', () => {
    // Summer time began on 29 March 2026; 1 March was still CET (UTC+1).
    expect(monthStart('2026-03-30T12:00:00Z', 'Europe/Berlin')).toBe('2026-02-28T23:00:00.000Z');
    expect(monthStart('2026-04-10T12:00:00Z', 'Europe/Berlin')).toBe('2026-03-31T22:00:00.000Z');
  });

  it('uses summer time for a Berlin or New York month that began before the clocks went back', () => {
    // Berlin left summer time on 25 October 2026, New York on 1 November at 02:00.
    expect(monthStart('2026-10-26T12:00:00Z', 'Europe/Berlin')).toBe('2026-09-30T22:00:00.000Z');
    expect(monthStart('2026-11-05T12:00:00Z', 'America/New_York')).toBe('2026-11-01T04:00:00.000Z');
    expect(monthStart('2026-03-20T12:00:00Z', 'America/New_York')).toBe('2026-03-01T05:00:00.000Z');
  });

  it('follows the local calendar, not UTC, around midnight', () => {
    // 00:30 on 1 April in Berlin is still 31 March in UTC.
    expect(monthStart('2026-03-31T22:30:00Z', 'Europe/Berlin')).toBe('2026-03-31T22:00:00.000Z');
    expect(monthStart('2026-03-31T21:59:59Z', 'Europe/Berlin')).toBe('2026-02-28T23:00:00.000Z');
    // 22:00 on 30 November in New York is already 1 December in UTC.
    expect(monthStart('2026-12-01T03:00:00Z', 'America/New_York')).toBe('2026-11-01T04:00:00.000Z');
    expect(monthStart('2026-12-01T05:00:00Z', 'America/New_York')).toBe('2026-12-01T05:00:00.000Z');
    expect(monthStart('2026-06-15T00:00:00Z', 'UTC')).toBe('2026-06-01T00:00:00.000Z');
  });

  it('starts at the first instant that exists when local midnight was skipped', () => {
    // Paraguay went from UTC−4 to UTC−3 at 00:00 on 1 October 2017: the month began at 01:00.
    expect(monthStart('2017-10-15T12:00:00Z', 'America/Asuncion')).toBe('2017-10-01T04:00:00.000Z');
  });

  it('refuses a time zone that does not exist', () => {
    expect(() => startOfMonthInZone(new Date(), 'Mars/Olympus_Mons')).toThrow(/not a time zone/);
  });
});

describe('store statistics', () => {
  let db: Db;
  let clock: ManualClock;
  let nextOrder = 1;

  useTestContext((context) => {
    ({ db, clock } = context);
    nextOrder = 1;
  });

  async function customer(name: string, registered: string, orders: Array<{ daysAgo: number; cents: number; status?: OrderStatus }>) {
    const c = await insertCustomer(db, clock, { name, email: `${name.toLowerCase()}@example.com`, createdAt: registered });
    for (const o of orders) {
      const id = nextOrder++;
      await upsertOrder(db, clock, {
        id,
        orderNumber: `ORD-${id}`,
        customerId: c.id,
        status: o.status ?? 'completed',
        totalCents: o.cents,
        currency: 'USD',
        createdAt: new Date(clock.now().getTime() - o.daysAgo * DAY).toISOString(),
        items: [],
      });
    }
    return c;
  }

  it('counts customers, segments, risk, orders and revenue from completed orders', async () => {
    // Berlin: November 2026 began at 2026-10-31T23:00Z.
    await customer('Fresh', '2026-10-31T23:00:00Z', []);
    await customer('Late', '2026-10-31T22:59:59Z', [{ daysAgo: 1, cents: 1000 }]);
    await customer('Repeat', '2025-01-01T00:00:00Z', [
      { daysAgo: 10, cents: 2000 },
      { daysAgo: 20, cents: 3000 },
      { daysAgo: 5, cents: 9999, status: 'refunded' },
    ]);
    await customer('Loyal', '2024-01-01T00:00:00Z', [
      { daysAgo: 100, cents: 1000 },
      { daysAgo: 120, cents: 1000 },
      { daysAgo: 140, cents: 1000 },
      { daysAgo: 160, cents: 1000 },
      { daysAgo: 180, cents: 1000 },
    ]);
    await customer('Lapsed', '2024-06-01T00:00:00Z', [
      { daysAgo: 90, cents: 500 },
      { daysAgo: 3, cents: 700, status: 'pending' },
    ]);

    const stats = await getStoreStatistics(db, clock, { timeZone: 'Europe/Berlin', atRiskDays: 90 });
    expect(stats).toEqual({
      totalCustomers: 5,
      newThisMonth: 1,
      withOrders: 4,
      repeatCustomers: 2,
      loyalCustomers: 1,
      atRisk: 2,
      totalOrders: 9,
      revenueCents: 11_500,
      averageOrderValueCents: Math.round(11_500 / 9),
    });

    // In Tokyo both registrations already fall in November; in UTC neither does.
    expect((await getStoreStatistics(db, clock, { timeZone: 'Asia/Tokyo', atRiskDays: 90 })).newThisMonth).toBe(2);
    expect((await getStoreStatistics(db, clock, { timeZone: 'UTC', atRiskDays: 90 })).newThisMonth).toBe(0);
  });

  it('follows refunds as they happen', async () => {
    await customer('Buyer', '2026-01-01T00:00:00Z', [
      { daysAgo: 1, cents: 1000 },
      { daysAgo: 2, cents: 3000 },
    ]);
    await setOrderStatus(db, clock, 2, 'refunded');
    const stats = await getStoreStatistics(db, clock, { timeZone: 'UTC', atRiskDays: 90 });
    expect(stats).toMatchObject({ withOrders: 1, repeatCustomers: 0, totalOrders: 1, revenueCents: 1000, averageOrderValueCents: 1000 });
  });

  it('reports zeros for an empty store', async () => {
    expect(await getStoreStatistics(db, clock, { timeZone: 'America/New_York', atRiskDays: 90 })).toEqual({
      totalCustomers: 0,
      newThisMonth: 0,
      withOrders: 0,
      repeatCustomers: 0,
      loyalCustomers: 0,
      atRisk: 0,
      totalOrders: 0,
      revenueCents: 0,
      averageOrderValueCents: 0,
    });
  });
});

describe('figures that sit side by side', () => {
  const STATUSES: readonly OrderStatus[] = ['pending', 'paid', 'completed', 'refunded', 'cancelled', 'failed', 'disputed'];
  const operation = fc.oneof(
    fc.record({ kind: fc.constant('order' as const), order: fc.integer({ min: 1, max: 12 }), customer: fc.integer({ min: 0, max: 5 }), status: fc.constantFrom(...STATUSES), cents: fc.integer({ min: 0, max: 50_000 }), daysAgo: fc.integer({ min: 0, max: 400 }) }),
    fc.record({ kind: fc.constant('status' as const), order: fc.integer({ min: 1, max: 12 }), status: fc.constantFrom(...STATUSES) }),
    fc.record({ kind: fc.constant('erase' as const), customer: fc.integer({ min: 0, max: 5 }) }),
  );

  it("reconcile whatever orders come, change status, move or outlive an erasure: the store's, the digest's and each profile's", async () => {
    // One database for every run: the equalities hold for the whole store, whatever earlier runs left.
    const { db } = await openTestDatabase();
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { maxLength: 30 }), async (operations) => {
          run++;
          const clock = new ManualClock('2026-11-22T12:00:00.000Z');
          const customers = [];
          for (let i = 0; i < 6; i++) customers.push(await insertCustomer(db, clock, { name: `Customer ${i}`, email: `c${run}-${i}@example.com`, createdAt: '2026-01-01T00:00:00Z' }));
          const placed = new Set<number>();
          for (const op of operations) {
            if (op.kind === 'order') {
              await upsertOrder(db, clock, {
                id: run * 100 + op.order,
                orderNumber: `ORD-${run * 100 + op.order}`,
                customerId: customers[op.customer]!.id,
                status: op.status,
                totalCents: op.cents,
                currency: 'USD',
                createdAt: new Date(clock.now().getTime() - op.daysAgo * DAY).toISOString(),
                items: [],
              });
              placed.add(run * 100 + op.order);
            } else if (op.kind === 'status') {
              if (placed.has(run * 100 + op.order)) await setOrderStatus(db, clock, run * 100 + op.order, op.status);
            } else {
              await eraseCustomer(db, clock, { customerId: customers[op.customer]!.id, actor: { id: 'admin', name: 'Admin' } });
            }
          }

          const stats = await getStoreStatistics(db, clock, { timeZone: 'UTC', atRiskDays: 90 });
          const digest = await buildWeeklyDigest(db, clock, { atRiskDays: 90, timeZone: 'UTC', previousCutoff: atRiskCutoff(clock.now(), 90) });
          const { newCount, repeatCount, loyalCount, atRiskCount } = digest.segments;
          expect(stats.totalCustomers).toBe(newCount + repeatCount + loyalCount);
          expect(stats.repeatCustomers).toBe(repeatCount + loyalCount);
          expect(stats.loyalCustomers).toBe(loyalCount);
          expect(stats.withOrders).toBe(digest.withOrdersCount);
          expect(stats.atRisk).toBe(atRiskCount);

          const completed = await db.selectFrom('orders').select((eb) => eb.fn.countAll<number | string>().as('n')).where('status', 'in', ['paid', 'completed']).executeTakeFirstOrThrow();
          expect(stats.totalOrders).toBe(Number(completed.n));
          for (const customer of customers) {
            const profile = await getCustomerProfile(db, clock, customer.id, { atRiskDays: 90 });
            const byStatus = await countOrdersByStatus(db, customer.id);
            // A profile's Total orders is the paid and completed part of its Recent orders breakdown.
            expect(profile.statistics.totalOrders).toBe((byStatus.paid ?? 0) + (byStatus.completed ?? 0));
            expect((await previewErasure(db, customer.id)).ordersKept).toBe(Object.values(byStatus).reduce((a, b) => a + b, 0));
          }
        }),
        { numRuns: 30 },
      );
    } finally {
      await db.destroy();
    }
  });
});
