import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { inTransaction, migrateToLatest, openDatabase, openMigratedDatabase, withDurableCommit, type Db } from '../../src/store/database.js';
import { findInboundEvent, InboundEventWriter, storeInboundEvent } from '../../src/store/inbound-event.repository.js';
import { LogSync } from '../../src/store/log-sync.js';

// What the 200 to a purchase event promises: the event row is on disk before the answer, so it
// survives a power loss as well as a crash of the bot. The row commits like every other write
// (synchronous=NORMAL: a crash of the bot, not of the machine); then the write-ahead log is
// fdatasynced from the thread pool, and only then is the caller answered.

const clock = new ManualClock('2026-11-22T12:00:00Z');
const event = (id: string) => ({ id, eventType: 'order.paid', payload: '{}', scheme: 'hmac-hex' as const });

async function synchronous(db: Db): Promise<number> {
  const { rows } = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(db);
  return Number(rows[0]?.synchronous);
}

const FULL = 2;
const NORMAL = 1;

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

function tempDir(): { dir: string; [Symbol.dispose]: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'durable-'));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('the durability of an acknowledged purchase event', () => {
  it('answers only after the write-ahead log, synced after the commit, is on disk', async () => {
    using temp = tempDir();
    const path = join(temp.dir, 'customers.db');
    const syncs: { path: string; committed: boolean; done: ReturnType<typeof deferred> }[] = [];
    const { db } = openDatabase(path, {
      syncFile: (file) => {
        const reader = new Database(path, { readonly: true });
        try {
          const committed = reader.prepare("SELECT 1 FROM inbound_events WHERE id = 'evt_1'").get() !== undefined;
          const done = deferred();
          syncs.push({ path: file, committed, done });
          return done.promise;
        } finally {
          reader.close();
        }
      },
    });
    await migrateToLatest(db);
    try {
      let answered = false;
      const stored = storeInboundEvent(db, clock, event('evt_1')).then((result) => {
        answered = true;
        return result;
      });
      while (syncs.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      expect(syncs[0]?.path).toBe(`${path}-wal`);
      // The sync starts after the commit (the row is there for another connection) ...
      expect(syncs[0]?.committed).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 20));
      // ... and the answer waits for it.
      expect(answered).toBe(false);
      syncs[0]?.done.resolve();
      expect(await stored).toBe('stored');
      expect(await synchronous(db)).toBe(NORMAL);
    } finally {
      await db.destroy();
    }
  });

  it('refuses the acknowledgement when the sync fails, so the store sends the event again', async () => {
    using temp = tempDir();
    const { db } = openDatabase(join(temp.dir, 'customers.db'), { syncFile: () => Promise.reject(new Error('EIO: disk gone')) });
    await migrateToLatest(db);
    try {
      const writer = new InboundEventWriter(db, clock);
      await expect(writer.store(event('evt_1'))).rejects.toThrow('EIO');
      // The row may be there; the store's retry is then reported a duplicate and answered 200.
      expect((await findInboundEvent(db, 'evt_1'))?.status).toBe('pending');
    } finally {
      await db.destroy();
    }
  });

  it('syncs a real file and keeps duplicates apart', async () => {
    using temp = tempDir();
    const { db } = await openMigratedDatabase(join(temp.dir, 'customers.db'));
    try {
      expect(await storeInboundEvent(db, clock, event('evt_1'))).toBe('stored');
      expect(await storeInboundEvent(db, clock, event('evt_1'))).toBe('duplicate');
      expect((await findInboundEvent(db, 'evt_1'))?.status).toBe('pending');
      expect(await synchronous(db)).toBe(NORMAL);
    } finally {
      await db.destroy();
    }
  });

  it('commits with synchronous=FULL where there is no log file to sync, and goes back to NORMAL', async () => {
    const { db } = await openMigratedDatabase();
    try {
      let during: number | undefined;
      await withDurableCommit(db, async (conn) => {
        during = await synchronous(conn);
      });
      expect(during).toBe(FULL);
      expect(await synchronous(db)).toBe(NORMAL);
      await expect(withDurableCommit(db, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(await synchronous(db)).toBe(NORMAL);
      // Inside a transaction the caller's commit decides.
      const inside = await inTransaction(db, (trx) => withDurableCommit(trx, (conn) => Promise.resolve(conn === trx)));
      expect(inside).toBe(true);
    } finally {
      await db.destroy();
    }
  });
});

describe('the shared log sync', () => {
  it('lets callers waiting together share one sync, and makes a caller during a sync wait for the next', async () => {
    const started: ReturnType<typeof deferred>[] = [];
    const log = new LogSync('/x-wal', () => {
      const done = deferred();
      started.push(done);
      return done.promise;
    });
    const first = log.sync();
    expect(started).toHaveLength(1);
    // These commits may have landed after the running sync began: they need the next one.
    let secondDone = false;
    const second = log.sync().then(() => (secondDone = true));
    const third = log.sync();
    expect(started).toHaveLength(1);
    started[0]?.resolve();
    await first;
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(secondDone).toBe(false);
    expect(started).toHaveLength(2);
    started[1]?.resolve();
    await Promise.all([second, third]);
    expect(secondDone).toBe(true);
    // Idle again: the next caller starts a sync of its own at once.
    const fourth = log.sync();
    expect(started).toHaveLength(3);
    started[2]?.resolve();
    await fourth;
  });

  it('still runs the next sync when the one before it failed', async () => {
    let calls = 0;
    const log = new LogSync('/x-wal', () => (++calls === 1 ? Promise.reject(new Error('EIO')) : Promise.resolve()));
    const failed = log.sync();
    const next = log.sync();
    await expect(failed).rejects.toThrow('EIO');
    await expect(next).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
