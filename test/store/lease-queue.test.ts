import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exponentialDelayMs, withJitter } from '../../src/shared/backoff.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { Db } from '../../src/store/database.js';
import { INBOUND_EVENT_QUEUE, insertInboundEvents } from '../../src/store/purchase-event.repository.js';
import { claimDue, hasDue, leaseHolders, releaseLeasesOf, settleClaim } from '../../src/store/lease-queue.js';
import { openTestDatabase } from '../support/database.js';

// The kit on the inbound-event queue: a table with no foreign keys, whose claims count attempts.
const queue = INBOUND_EVENT_QUEUE;
const LEASE_MS = 60_000;
let db: Db;
let clock: ManualClock;

beforeEach(async () => {
  db = (await openTestDatabase()).db;
  clock = new ManualClock('2026-11-22T10:00:00Z');
});

afterEach(async () => {
  await db.destroy();
});

async function enqueue(count: number): Promise<void> {
  const start = Date.parse('2026-11-22T09:00:00Z');
  await insertInboundEvents(
    db,
    Array.from({ length: count }, (_, i) => ({
      id: `evt_${String(i).padStart(3, '0')}`,
      eventType: 'order.paid',
      payload: '{}',
      scheme: 'hmac-hex' as const,
      // Received in the reverse order of their ids, so the claim order is seen to follow the queue's.
      receivedAt: new Date(start + (count - i) * 1000).toISOString(),
    })),
  );
}

const claim = (holder: string | null, limit = 10, leaseMs = LEASE_MS) => claimDue(db, clock, queue, { limit, leaseMs, holder, columns: ['id', 'received_at', 'attempts'] });

async function holderOf(id: string): Promise<string | null> {
  const row = await db.selectFrom('inbound_events').select('lease_holder').where('id', '=', id).executeTakeFirstOrThrow();
  return row.lease_holder;
}

describe('a lease queue', () => {
  it('hands due rows back in the queue order and counts each claim as an attempt', async () => {
    await enqueue(3);
    const { rows, leaseUntil } = await claim('a');
    expect(rows.map((r) => r.id)).toEqual(['evt_002', 'evt_001', 'evt_000']);
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
    expect(leaseUntil).toBe('2026-11-22T10:01:00.000Z');
  });

  it('gives each due row to one of two holders claiming at once, never to both', async () => {
    await enqueue(40);
    for (let round = 0; round < 5; round++) {
      const [a, b] = await Promise.all([claim('a', 25), claim('b', 25)]);
      const ids = [...a.rows, ...b.rows].map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const row of a.rows) expect(await holderOf(row.id)).toBe('a');
      for (const row of b.rows) expect(await holderOf(row.id)).toBe('b');
      // On PostgreSQL the second claimer skips rows the first leased meanwhile, so it may get fewer.
      expect(ids.length).toBeGreaterThan(0);
      expect(ids.length).toBeLessThanOrEqual(40);
      clock.advance(LEASE_MS);
    }
  });

  it('leaves a leased row alone until its lease runs out, then lets another holder claim it', async () => {
    await enqueue(1);
    const first = await claim('a', 10, 1000);
    expect(first.rows).toHaveLength(1);
    clock.advance(999);
    expect((await claim('b')).rows).toEqual([]);
    expect(await hasDue(db, clock, queue)).toBe(false);
    clock.advance(1);
    expect(await hasDue(db, clock, queue)).toBe(true);
    const second = await claim('b');
    expect(second.rows.map((r) => [r.id, r.attempts])).toEqual([['evt_000', 2]]);
    expect(await holderOf('evt_000')).toBe('b');
  });

  it('settles a row only for the claim that still holds it', async () => {
    await enqueue(1);
    await claim('a', 10, 1000);
    clock.advance(1000);
    await claim('b');
    expect(await settleClaim(db, queue, { id: 'evt_000', attempt: 1 }, { status: 'processed' })).toBe(false);
    expect(await settleClaim(db, queue, { id: 'evt_000', attempt: 2 }, { status: 'processed' })).toBe(true);
    const row = await db.selectFrom('inbound_events').selectAll().where('id', '=', 'evt_000').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'processed', lease_until: null, lease_holder: null });
    // A settled row is closed: settling it again changes nothing.
    expect(await settleClaim(db, queue, { id: 'evt_000', attempt: 2 }, { status: 'failed' })).toBe(false);
  });

  it('releases only the leases of the named holders, and those recorded without one when null is named', async () => {
    await enqueue(3);
    await claim('a', 1);
    await claim('b', 1);
    await claim(null, 1);
    expect((await leaseHolders(db, queue, clock.now().toISOString())).sort()).toEqual(['a', 'b', null].sort());
    expect(await releaseLeasesOf(db, clock, queue, [])).toBe(0);
    expect(await releaseLeasesOf(db, clock, queue, ['a', null])).toBe(2);
    expect(await leaseHolders(db, queue, clock.now().toISOString())).toEqual(['b']);
    // What was released is due at once, and claimed again under the new holder.
    expect((await claim('c')).rows.map((r) => r.id)).toEqual(['evt_002', 'evt_000']);
    expect(await holderOf('evt_001')).toBe('b');
  });

  it('releases every lease when no holders are named', async () => {
    await enqueue(2);
    await claim('a', 1);
    await claim('b', 1);
    expect(await releaseLeasesOf(db, clock, queue)).toBe(2);
    expect(await leaseHolders(db, queue, clock.now().toISOString())).toEqual([]);
  });
});

describe('the retry backoff', () => {
  const attempt = fc.integer({ min: 1, max: 60 });
  const backoff = fc.record({ firstMs: fc.integer({ min: 1, max: 60_000 }), capMs: fc.integer({ min: 1, max: 86_400_000 }) });

  it('doubles from the first delay and never goes past its cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => exponentialDelayMs(n, { firstMs: 5_000, capMs: 30_000 }))).toEqual([5_000, 10_000, 20_000, 30_000, 30_000]);
    fc.assert(
      fc.property(attempt, backoff, (n, b) => {
        const delay = exponentialDelayMs(n, b);
        expect(delay).toBeLessThanOrEqual(b.capMs);
        expect(delay).toBeGreaterThanOrEqual(Math.min(b.firstMs, b.capMs));
        expect(exponentialDelayMs(n + 1, b)).toBeGreaterThanOrEqual(delay);
      }),
    );
  });

  it('spreads a delay within its jitter, in whole milliseconds, whatever the random number', () => {
    const jitter = fc.record({ floor: fc.double({ min: 0, max: 2, noNaN: true }), spread: fc.double({ min: 0, max: 1, noNaN: true }) });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 86_400_000 }), jitter, fc.double({ min: -1, max: 2, noNaN: true }), (delay, j, random) => {
        const spread = withJitter(delay, j, random);
        expect(Number.isInteger(spread)).toBe(true);
        expect(spread).toBeGreaterThanOrEqual(Math.round(delay * j.floor));
        expect(spread).toBeLessThanOrEqual(Math.round(delay * (j.floor + j.spread)));
      }),
    );
    expect([0, 0.5, 1].map((r) => withJitter(10_000, { floor: 0.5, spread: 0.5 }, r))).toEqual([5_000, 7_500, 10_000]);
  });
});
