import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { inTransaction, openMigratedDatabase, withDurableCommit, type Db } from '../../src/store/database.js';
import { findInboundEvent, storeInboundEvent } from '../../src/store/purchase-event.repository.js';
import { openTestContext } from '../support/context.js';

// What the 200 to a purchase event promises: the event row is fsynced before the answer
// (synchronous=FULL for that one commit), so it survives a power loss as well as a crash of the
// bot; every other commit keeps synchronous=NORMAL (a crash of the bot, not of the machine).

async function synchronous(db: Db): Promise<number> {
  const { rows } = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(db);
  return Number(rows[0]?.synchronous);
}

const FULL = 2;
const NORMAL = 1;

describe('the durability of an acknowledged purchase event', () => {
  it('commits the event with synchronous=FULL and leaves the connection at NORMAL', async () => {
    const file = await openTestContext({ onDisk: true });
    const { db, clock } = file;
    try {
      expect(await synchronous(db)).toBe(NORMAL);
      let during: number | undefined;
      await withDurableCommit(db, async (conn) => {
        during = await synchronous(conn);
      });
      expect(during).toBe(FULL);
      expect(await synchronous(db)).toBe(NORMAL);

      expect(await storeInboundEvent(db, clock, { id: 'evt_1', eventType: 'order.paid', payload: '{}', scheme: 'hmac-hex' })).toBe('stored');
      expect(await storeInboundEvent(db, clock, { id: 'evt_1', eventType: 'order.paid', payload: '{}', scheme: 'hmac-hex' })).toBe('duplicate');
      expect((await findInboundEvent(db, 'evt_1'))?.status).toBe('pending');
      expect(await synchronous(db)).toBe(NORMAL);
    } finally {
      await file.close();
    }
  });

  it('goes back to NORMAL when the work fails, and inside a transaction leaves the commit to its caller', async () => {
    const { db } = await openMigratedDatabase();
    try {
      await expect(withDurableCommit(db, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(await synchronous(db)).toBe(NORMAL);
      const inside = await inTransaction(db, (trx) => withDurableCommit(trx, (conn) => Promise.resolve(conn === trx)));
      expect(inside).toBe(true);
    } finally {
      await db.destroy();
    }
  });
});
