import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/domain/clock.js';
import { getStoreStatistics, startOfMonthInZone } from '../src/domain/statistics.js';
import type { OrderStatus } from '../src/domain/types.js';
import { insertCustomer } from '../src/store/customer.repository.js';
import type { Db } from '../src/store/database.js';
import { setOrderStatus, upsertOrder } from '../src/store/order.repository.js';
import { openTestDatabase } from './support/database.js';

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

  beforeEach(async () => {
    ({ db } = await openTestDatabase());
    clock = new ManualClock('2026-11-22T12:00:00.000Z');
    nextOrder = 1;
  });
  afterEach(async () => {
    await db.destroy();
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
