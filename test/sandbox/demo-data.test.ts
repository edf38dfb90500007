import { describe, expect, it } from 'vitest';
import { listActivity } from '../../src/domain/customers/activity-log.js';
import { ManualClock } from '../../src/shared/clock.js';
import { iterateCustomers } from '../../src/domain/customers/list.js';
import { lookupCustomer } from '../../src/domain/customers/lookup.js';
import { isAtRisk, segmentFor } from '../../src/domain/customers/profile.js';
import { getStoreStatistics } from '../../src/domain/customers/statistics.js';
import type { Customer } from '../../src/domain/customers/types.js';
import { listBans } from '../../src/domain/bans/bans.js';
import { buildWeeklyDigest } from '../../src/domain/digest/digest.js';
import { seedDemoBans } from '../../src/sandbox/demo-bans.js';
import { DEMO_STAFF, seedDemoData } from '../../src/sandbox/demo-data.js';
import { listSegmentSnapshots } from '../../src/store/digest.repository.js';
import type { Db } from '../../src/store/database.js';
import { openTestDatabase } from '../support/database.js';
import { useTestContext } from '../support/context.js';

const NOW = '2026-11-22T12:00:00.000Z';
let db: Db;
let clock: ManualClock;

useTestContext({ now: NOW }, (context) => ({ db, clock } = context));

async function snapshot(target: Db) {
  return {
    customers: await target.selectFrom('customers').selectAll().orderBy('id').execute(),
    orders: await target.selectFrom('orders').selectAll().orderBy('id').execute(),
    items: await target.selectFrom('order_items').selectAll().orderBy('id').execute(),
    notes: await target.selectFrom('notes').selectAll().orderBy('id').execute(),
    snapshots: await target.selectFrom('segment_snapshots').selectAll().orderBy('period_key').execute(),
  };
}

async function allCustomers(): Promise<Customer[]> {
  const customers: Customer[] = [];
  for await (const c of iterateCustomers(db, clock, {}, { atRiskDays: 90 })) customers.push(c);
  return customers;
}

describe('demo data', () => {
  it('is the same for the same seed and time, and different for another seed', async () => {
    const result = await seedDemoData(db, clock, { customers: 120, seed: 7 });
    const { db: twin } = await openTestDatabase();
    const { db: other } = await openTestDatabase();
    try {
      expect(await seedDemoData(twin, new ManualClock(NOW), { customers: 120, seed: 7 })).toEqual(result);
      expect(await snapshot(twin)).toEqual(await snapshot(db));
      await seedDemoData(other, new ManualClock(NOW), { customers: 120, seed: 8 });
      expect(await snapshot(other)).not.toEqual(await snapshot(db));
    } finally {
      await twin.destroy();
      await other.destroy();
    }
  });

  it('gives every segment, customers at risk, and one Alice Johnson at alice@example.com', async () => {
    const result = await seedDemoData(db, clock);
    expect(result.customers).toBe(300);
    expect(result.orders).toBeGreaterThan(300);

    const customers = await allCustomers();
    expect(customers).toHaveLength(300);
    const segments = new Set(customers.map((c) => segmentFor(c.ordersCount)));
    expect([...segments].sort()).toEqual(['loyal', 'new', 'repeat']);
    expect(customers.filter((c) => isAtRisk(c, clock.now(), 90)).length).toBeGreaterThan(0);
    expect(customers.filter((c) => c.name === 'Alice Johnson')).toHaveLength(1);
    expect(customers.filter((c) => c.name.startsWith('Alice ')).length).toBeGreaterThanOrEqual(4);

    const alice = await lookupCustomer(db, 'alice@example.com');
    expect(alice).toMatchObject({ kind: 'customer', customer: { name: 'Alice Johnson', email: 'alice@example.com' } });

    const stats = await getStoreStatistics(db, clock, { timeZone: 'Europe/Berlin', atRiskDays: 90 });
    expect(stats.totalCustomers).toBe(300);
    expect(stats.loyalCustomers).toBeGreaterThan(0);
    expect(stats.atRisk).toBeGreaterThan(0);
    expect(stats.totalOrders).toBeLessThan(result.orders);
  });

  it('looks like a real store: linked accounts, refunds, referrals, tickets and staff notes', async () => {
    await seedDemoData(db, clock);
    const customers = await allCustomers();
    const share = (f: (c: Customer) => boolean) => customers.filter(f).length / customers.length;
    expect(share((c) => c.discord !== null)).toBeGreaterThan(0.45);
    expect(share((c) => c.discord !== null)).toBeLessThan(0.75);
    expect(share((c) => c.steam !== null)).toBeGreaterThan(0.2);
    expect(share((c) => c.steam !== null)).toBeLessThan(0.4);
    expect(customers.some((c) => c.discord !== null && c.discord.avatar === null)).toBe(true);
    for (const c of customers) {
      if (c.discord) expect(c.discord.id).toMatch(/^\d{17,20}$/);
      if (c.steam) expect(c.steam.id).toMatch(/^7656119\d{10}$/);
      expect(c.createdAt <= NOW).toBe(true);
      if (c.firstOrderAt) expect(c.firstOrderAt >= c.createdAt).toBe(true);
    }
    expect(customers.some((c) => c.gameUserId !== null)).toBe(true);
    expect(customers.some((c) => c.referredBy !== null)).toBe(true);
    expect(customers.some((c) => c.supportTicketsCount > 0)).toBe(true);

    const statuses = await db.selectFrom('orders').select('status').distinct().execute();
    expect(statuses.map((s) => s.status)).toEqual(expect.arrayContaining(['completed', 'refunded', 'pending']));
    const products = await db.selectFrom('products').select('name').execute();
    expect(products.map((p) => p.name)).toEqual(expect.arrayContaining(['VIP Rank', 'MVP Rank', 'Crate Key', 'Monthly Supporter']));

    const notes = await db.selectFrom('notes').selectAll().execute();
    expect(notes.length).toBeGreaterThan(0);
    expect(notes.every((n) => n.author_id === DEMO_STAFF.id)).toBe(true);
    expect(await listActivity(db, { action: 'note.add', limit: 1000 })).toHaveLength(notes.length);
  });

  it('copes with a tiny store', async () => {
    for (const customers of [1, 2, 3, 4, 6]) {
      const { db: tiny } = await openTestDatabase();
      try {
        expect((await seedDemoData(tiny, clock, { customers })).customers).toBe(customers);
      } finally {
        await tiny.destroy();
      }
    }
  });

  it('leaves a database that already has customers alone', async () => {
    await seedDemoData(db, clock, { customers: 20 });
    expect(await seedDemoData(db, clock, { customers: 20 })).toEqual({ customers: 0, orders: 0 });
    expect((await allCustomers()).length).toBe(20);
  });

  it('has twelve weekly segment snapshots counted from its own orders, so the digest chart has twelve points', async () => {
    await seedDemoData(db, clock, { digest: { cron: '0 9 * * 1', timeZone: 'Europe/Berlin', atRiskDays: 90 } });
    const snapshots = await listSegmentSnapshots(db, { limit: 100 });
    expect(snapshots).toHaveLength(12);
    // 2026-11-22 is a Sunday: the last Monday 09:00 in Berlin was 2026-11-16 08:00 UTC.
    expect(snapshots.at(-1)?.period_key).toBe('2026-11-16T08:00:00.000Z');
    expect(snapshots[0]?.period_key).toBe('2026-08-31T07:00:00.000Z');
    for (const [i, s] of snapshots.entries()) {
      expect(s.new_count + s.repeat_count + s.loyal_count).toBe(s.customers_total);
      if (i > 0) expect(s.customers_total).toBeGreaterThanOrEqual(snapshots[i - 1]!.customers_total);
    }
    expect(snapshots.at(-1)!.customers_total).toBeLessThanOrEqual(300);
    expect(new Set(snapshots.map((s) => s.loyal_count)).size).toBeGreaterThan(1);
    const digest = await buildWeeklyDigest(db, clock, { atRiskDays: 90, timeZone: 'Europe/Berlin', previousCutoff: '2026-08-01T00:00:00.000Z' });
    expect(digest.history).toHaveLength(12);
  });

  it('has bans in every status, active, expired and lifted', async () => {
    await seedDemoData(db, clock);
    await seedDemoBans(db, clock);
    for (const status of ['active', 'expired', 'lifted'] as const) {
      const page = await listBans(db, clock, { status });
      expect(page.items.length, status).toBeGreaterThan(0);
    }
    const lifted = (await listBans(db, clock, { status: 'lifted' })).items[0];
    expect(lifted).toMatchObject({ liftedBy: { name: DEMO_STAFF.name } });
  });
});
