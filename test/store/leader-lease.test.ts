import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { isLocalProcessGone, newProcessId, releaseLeasesOfDeadProcesses, startProcessPresence } from '../../src/jobs/bot-processes.js';
import { startLeadership, type Leadership } from '../../src/jobs/leadership.js';
import { createLogger } from '../../src/logger.js';
import type { Db } from '../../src/store/database.js';
import { claimDueEvents, storeInboundEvent } from '../../src/store/purchase-event.repository.js';
import { acquireLease, findLease, releaseLease, renewLease, takeOverLease } from '../../src/store/leader-lease.js';
import { useTestContext } from '../support/context.js';

const TTL = 30_000;
const logger = createLogger('silent');
let db: Db;
const running: Leadership[] = [];

useTestContext((context) => ({ db } = context));
afterEach(async () => {
  for (const leadership of running.splice(0)) await leadership.stop();
});

describe('the leadership lease', () => {
  it('belongs to one holder at a time, and to another once the holder stops renewing past the expiry', async () => {
    const store = db;
    const clock = new ManualClock('2026-11-22T10:00:00Z');
    const a = { name: 'gateway', holder: 'a', ttlMs: TTL };
    const b = { name: 'gateway', holder: 'b', ttlMs: TTL };

    expect(await acquireLease(store, clock, a)).toBe(true);
    expect(await acquireLease(store, clock, b)).toBe(false);
    clock.advance(TTL - 1);
    expect(await renewLease(store, clock, a)).toBe(true);
    clock.advance(TTL - 1);
    expect(await acquireLease(store, clock, b)).toBe(false);

    clock.advance(2);
    expect(await acquireLease(store, clock, b)).toBe(true);
    expect(await renewLease(store, clock, a)).toBe(false);
    expect((await findLease(store, 'gateway'))?.holder).toBe('b');
  });

  it('is taken over from a holder known to be dead only while that holder still has it', async () => {
    const store = db;
    const clock = new ManualClock('2026-11-22T10:00:00Z');
    await acquireLease(store, clock, { name: 'gateway', holder: 'dead', ttlMs: TTL });
    expect(await takeOverLease(store, clock, { name: 'gateway', holder: 'b', ttlMs: TTL }, 'dead')).toBe(true);
    expect(await takeOverLease(store, clock, { name: 'gateway', holder: 'c', ttlMs: TTL }, 'dead')).toBe(false);
    expect(await releaseLease(store, 'gateway', 'c')).toBe(false);
    expect(await releaseLease(store, 'gateway', 'b')).toBe(true);
    expect(await acquireLease(store, clock, { name: 'gateway', holder: 'c', ttlMs: TTL })).toBe(true);
  });

  it('lets one of two processes lead, and the other once the leader stops', async () => {
    const store = db;
    const clock = new ManualClock('2026-11-22T10:00:00Z');
    const led: string[] = [];
    const start = (holder: string) => {
      const leadership = startLeadership({
        db: store,
        clock,
        logger,
        name: 'gateway',
        holder,
        ttlMs: TTL,
        intervalMs: 10,
        lead: () => {
          led.push(`start ${holder}`);
          return Promise.resolve(() => {
            led.push(`stop ${holder}`);
            return Promise.resolve();
          });
        },
      });
      running.push(leadership);
      return leadership;
    };
    const first = start('a');
    await first.ready;
    const second = start('b');
    await second.ready;
    expect([first.isLeading(), second.isLeading()]).toEqual([true, false]);

    await first.stop();
    await expect.poll(() => second.isLeading()).toBe(true);
    expect(led).toEqual(['start a', 'stop a', 'start b']);
  });

  it('stops leading when another process took the lease after it expired', async () => {
    const store = db;
    const clock = new ManualClock('2026-11-22T10:00:00Z');
    let stopped = false;
    const leadership = startLeadership({
      db: store,
      clock,
      logger,
      name: 'gateway',
      holder: 'paused',
      ttlMs: TTL,
      intervalMs: 10,
      lead: () =>
        Promise.resolve(() => {
          stopped = true;
          return Promise.resolve();
        }),
    });
    running.push(leadership);
    await leadership.ready;
    expect(leadership.isLeading()).toBe(true);
    // As if the holder had been frozen past its expiry while another process took over.
    await store.updateTable('leases').set({ holder: 'other' }).where('name', '=', 'gateway').execute();
    await expect.poll(() => leadership.isLeading()).toBe(false);
    expect(stopped).toBe(true);
    expect((await findLease(store, 'gateway'))?.holder).toBe('other');
  });
});

describe('claims of stopped processes', () => {
  it("releases a dead process's claimed events at once and leaves a live process's claims alone", async () => {
    const store = db;
    const clock = new ManualClock('2026-11-22T10:00:00Z');
    for (const id of ['e1', 'e2', 'e3']) await storeInboundEvent(store, clock, { id, eventType: 'order.paid', payload: '{}', scheme: 'hmac-hex' });
    const live = await startProcessPresence({ db: store, clock, logger, id: 'live', intervalMs: 60_000 });
    await claimDueEvents(store, clock, { limit: 1, leaseMs: 60_000, holder: 'live' });
    await claimDueEvents(store, clock, { limit: 1, leaseMs: 60_000, holder: 'dead' });
    await claimDueEvents(store, clock, { limit: 1, leaseMs: 60_000 });

    const recovered = await releaseLeasesOfDeadProcesses(store, clock, 'me', () => false);
    expect(recovered).toEqual({ events: 2, roleJobs: 0, deliveries: 0 });
    const again = await claimDueEvents(store, clock, { limit: 10, leaseMs: 60_000, holder: 'me' });
    expect(again.map((e) => e.id).sort()).toEqual(['e2', 'e3']);
    await live.stop();
  });

  it("takes a process for dead once its heartbeat expired, and never this process's own claims", async () => {
    const store = db;
    const clock = new ManualClock('2026-11-22T10:00:00Z');
    await storeInboundEvent(store, clock, { id: 'e1', eventType: 'order.paid', payload: '{}', scheme: 'hmac-hex' });
    await storeInboundEvent(store, clock, { id: 'e2', eventType: 'order.paid', payload: '{}', scheme: 'hmac-hex' });
    const other = await startProcessPresence({ db: store, clock, logger, id: 'other', intervalMs: 60_000, ttlMs: TTL });
    await claimDueEvents(store, clock, { limit: 1, leaseMs: 10 * 60_000, holder: 'other' });
    await claimDueEvents(store, clock, { limit: 1, leaseMs: 10 * 60_000, holder: 'me' });

    expect((await releaseLeasesOfDeadProcesses(store, clock, 'me', () => false)).events).toBe(0);
    clock.advance(TTL + 1);
    expect((await releaseLeasesOfDeadProcesses(store, clock, 'me', () => false)).events).toBe(1);
    await other.stop();
  });

  it('tells a killed process on this machine from a live one', () => {
    const mine = newProcessId();
    expect(isLocalProcessGone(mine)).toBe(false);
    const [host, namespace] = mine.split('/');
    // Pids are below 2^22 on Linux; this one cannot exist.
    expect(isLocalProcessGone(`${host}/${namespace}/99999999/abcd`)).toBe(namespace !== '');
    expect(isLocalProcessGone(`another-host/${namespace}/99999999/abcd`)).toBe(false);
  });
});
