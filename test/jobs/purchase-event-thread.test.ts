import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/shared/clock.js';
import { startInboundEventThread } from '../../src/jobs/purchase-event-thread.js';
import { createLogger } from '../../src/logger.js';
import { backupDatabaseFile } from '../../src/store/backup.js';
import { openMigratedDatabase, type Db } from '../../src/store/database.js';
import {
  appendToIntake,
  closeIntakeFile,
  countIntake,
  intakePathFor,
  moveIntakeIntoStore,
  openIntakeFile,
  readWaitingIntake,
  type IntakeFile,
} from '../../src/store/purchase-event-intake.js';
import { findInboundEvent } from '../../src/store/purchase-event.repository.js';
import { BUYER_IDS, SHOP_GUILD_ID, VIP_ROLE_ID, orderEvent, startShop, type ShopHarness } from '../support/services-harness.js';

// The events thread and the intake file exist only beside a SQLite file.
const onSqlite = process.env.TEST_DATABASE_URL === undefined;
const [ana, ben] = BUYER_IDS;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fileStore(): Promise<{ path: string; db: Db; intake: IntakeFile }> {
  const dir = mkdtempSync(join(tmpdir(), 'intake-test-'));
  const path = join(dir, 'store.db');
  const { db } = await openMigratedDatabase(path);
  const intake = openIntakeFile(intakePathFor(path));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => db.destroy());
  cleanups.push(() => closeIntakeFile(intake));
  return { path, db, intake };
}

function event(id: string) {
  return { id, eventType: 'order.paid', payload: JSON.stringify({ id, event_type: 'order.paid' }), scheme: 'hmac-hex' as const };
}

describe.runIf(onSqlite)('the intake file', () => {
  it('stores new events and reports ids already waiting or already in the store as duplicates', async () => {
    const { db, intake } = await fileStore();
    expect(await appendToIntake(intake, db, [event('a'), event('b'), event('a')], '2026-11-22T10:00:00.000Z')).toEqual(['stored', 'stored', 'duplicate']);
    expect(await moveIntakeIntoStore(intake, db)).toBe(2);
    expect(await appendToIntake(intake, db, [event('b'), event('c')], '2026-11-22T10:00:01.000Z')).toEqual(['duplicate', 'stored']);
    expect(countIntake(intake)).toBe(1);
  });

  it('moves events into the store as pending, in the order and at the time they were acknowledged', async () => {
    const { db, intake } = await fileStore();
    await appendToIntake(intake, db, [event('late')], '2026-11-22T10:00:02.000Z');
    await appendToIntake(intake, db, [event('early')], '2026-11-22T10:00:01.000Z');
    expect(await moveIntakeIntoStore(intake, db, 1)).toBe(1);
    expect((await findInboundEvent(db, 'early'))?.receivedAt).toBe('2026-11-22T10:00:01.000Z');
    expect(await findInboundEvent(db, 'late')).toBeUndefined();
    expect(await moveIntakeIntoStore(intake, db)).toBe(1);
    expect(await findInboundEvent(db, 'late')).toMatchObject({ status: 'pending', attempts: 0, receivedAt: '2026-11-22T10:00:02.000Z', nextAttemptAt: '2026-11-22T10:00:02.000Z' });
    expect(countIntake(intake)).toBe(0);
    expect(await moveIntakeIntoStore(intake, db)).toBe(0);
  });

  it('takes a failed event delivered again as new, and puts it back in the queue', async () => {
    const { db, intake } = await fileStore();
    await appendToIntake(intake, db, [event('f')], '2026-11-22T10:00:00.000Z');
    await moveIntakeIntoStore(intake, db);
    await db.updateTable('inbound_events').set({ status: 'failed', attempts: 10, last_error: 'gave up' }).where('id', '=', 'f').execute();
    expect(await appendToIntake(intake, db, [event('f')], '2026-11-22T11:00:00.000Z')).toEqual(['stored']);
    expect(await moveIntakeIntoStore(intake, db)).toBe(1);
    expect(await findInboundEvent(db, 'f')).toMatchObject({ status: 'pending', attempts: 0, lastError: null, receivedAt: '2026-11-22T11:00:00.000Z' });
  });

  it('moves an event that a crash left both in the store and in the intake file without storing it twice or resetting it', async () => {
    const { db, intake } = await fileStore();
    await appendToIntake(intake, db, [event('x')], '2026-11-22T10:00:00.000Z');
    await moveIntakeIntoStore(intake, db);
    await db.updateTable('inbound_events').set({ status: 'processed' }).where('id', '=', 'x').execute();
    // As if the process died after the store's commit and before the intake row was deleted.
    intake.sqlite
      .prepare('INSERT INTO intake_events (id, event_type, payload, signature_scheme, received_at) VALUES (?, ?, ?, ?, ?)')
      .run('x', 'order.paid', '{}', 'hmac-hex', '2026-11-22T10:00:00.000Z');
    expect(await moveIntakeIntoStore(intake, db)).toBe(1);
    expect(countIntake(intake)).toBe(0);
    expect(await findInboundEvent(db, 'x')).toMatchObject({ status: 'processed' });
    expect((await db.selectFrom('inbound_events').select('id').execute()).length).toBe(1);
  });

  it('puts events still waiting in the intake file into a backup, as pending', async () => {
    const { path, db, intake } = await fileStore();
    await appendToIntake(intake, db, [event('moved')], '2026-11-22T10:00:00.000Z');
    await moveIntakeIntoStore(intake, db);
    await appendToIntake(intake, db, [event('waiting')], '2026-11-22T10:00:01.000Z');
    expect(readWaitingIntake(path).map((e) => e.id)).toEqual(['waiting']);

    const target = join(path, '..', 'backup.db');
    await backupDatabaseFile(path, target);
    const { db: copy } = await openMigratedDatabase(target);
    cleanups.push(() => copy.destroy());
    const rows = await copy.selectFrom('inbound_events').select(['id', 'status', 'received_at']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'moved', status: 'pending', received_at: '2026-11-22T10:00:00.000Z' },
      { id: 'waiting', status: 'pending', received_at: '2026-11-22T10:00:01.000Z' },
    ]);
  });
});

/** The events thread on a file store, polling every 50 ms and ending after 200 ms idle. */
function startThread(path: string, db: Db, onHandled: () => void) {
  const inbound = startInboundEventThread({
    databasePath: path,
    db,
    clock: systemClock,
    logger: createLogger('silent'),
    holder: 'test',
    storeCurrency: 'USD',
    intervalMs: 50,
    idleExitMs: 200,
    onHandled,
  });
  cleanups.push(() => inbound.worker.stop());
  return inbound;
}

describe.runIf(onSqlite)('the events thread', () => {
  it('starts on an event, ends when idle, and starts again for the next one', async () => {
    const { path, db } = await fileStore();
    const handled: number[] = [];
    const inbound = startThread(path, db, () => handled.push(Date.now()));
    expect(inbound.isThreadRunning()).toBe(false);
    const status = async (id: string) => (await findInboundEvent(db, id))?.status;

    const paid = (id: string, orderId: number) => ({ ...event(id), payload: JSON.stringify(orderEvent('order.paid', { id: orderId, email: `buyer${orderId}@example.com` }, id)) });
    const first = paid('first', 1);
    expect(await inbound.events.store(first)).toBe('stored');
    inbound.worker.wake();
    expect(inbound.isThreadRunning()).toBe(true);
    await expect.poll(() => status('first'), { timeout: 10_000 }).toBe('processed');
    await expect.poll(() => inbound.isThreadRunning(), { timeout: 10_000 }).toBe(false);

    const second = paid('second', 2);
    expect(await inbound.events.store(second)).toBe('stored');
    inbound.worker.wake();
    await expect.poll(() => status('second'), { timeout: 10_000 }).toBe('processed');
    expect(handled.length).toBeGreaterThanOrEqual(2);
    expect(await db.selectFrom('orders').select('id').orderBy('id').execute()).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('is started by an event that is waiting in the intake file without anyone waking it', async () => {
    const { path, db, intake } = await fileStore();
    const payload = JSON.stringify(orderEvent('order.paid', { id: 9, email: 'left@example.com' }, 'left'));
    await appendToIntake(intake, db, [{ ...event('left'), payload }], new Date().toISOString());
    startThread(path, db, () => undefined);
    await expect.poll(async () => (await findInboundEvent(db, 'left'))?.status, { timeout: 10_000 }).toBe('processed');
  });
});

describe.runIf(onSqlite)('purchase events applied on their own thread', () => {
  let shop: ShopHarness | undefined;
  afterEach(async () => {
    await shop?.stop();
    shop = undefined;
  });

  it('acknowledges a signed order.paid from the intake file, applies it on the thread and grants the role', async () => {
    shop = await startShop({ eventsThread: true });
    const paid = await shop.send(orderEvent('order.paid', { id: 1, email: 'ana@example.com', discordId: ana }));
    expect(paid).toEqual({ status: 200, body: JSON.stringify({ received: true }) });
    await expect.poll(() => shop!.discord.memberRoles(SHOP_GUILD_ID, ana), { timeout: 10_000 }).toContain(VIP_ROLE_ID);
    expect(shop.roleCalls(ana)).toMatchObject([{ method: 'PUT', status: 204 }]);
    const statuses = await shop.db.selectFrom('inbound_events').select('status').execute();
    expect(statuses).toEqual([{ status: 'processed' }]);
    const order = await shop.db.selectFrom('orders').select(['status', 'total_cents']).where('id', '=', 1).executeTakeFirstOrThrow();
    expect(order).toEqual({ status: 'paid', total_cents: 2999 });
  });

  it('reports a repeated delivery as a duplicate both while the first waits and after it was applied, and applies it once', async () => {
    shop = await startShop({ eventsThread: true });
    const paid = orderEvent('order.paid', { id: 2, email: 'ben@example.com', discordId: ben });
    const together = await Promise.all([shop.send(paid), shop.send(paid)]);
    expect(together.map((r) => r.status)).toEqual([200, 200]);
    expect(together.map((r) => JSON.parse(r.body) as unknown)).toEqual(
      expect.arrayContaining([{ received: true }, { received: true, duplicate: true }]),
    );
    await expect.poll(() => shop!.discord.memberRoles(SHOP_GUILD_ID, ben), { timeout: 10_000 }).toContain(VIP_ROLE_ID);
    const again = await shop.send(paid);
    expect(JSON.parse(again.body)).toEqual({ received: true, duplicate: true });
    expect(shop.roleCalls(ben)).toHaveLength(1);
    expect(await shop.db.selectFrom('orders').select('id').execute()).toEqual([{ id: 2 }]);
  });

  it('moves every acknowledged event into the store before it stops', async () => {
    shop = await startShop({ eventsThread: true });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const paid = orderEvent('order.paid', { id: 100 + i, email: `buyer${i}@example.com` });
      ids.push(paid.id as string);
      expect((await shop.send(paid)).status).toBe(200);
    }
    const databasePath = shop.services.botDeps.config.databasePath;
    const running = shop;
    shop = undefined;
    // The harness's stop also removes the folder: read the store first, the intake file after.
    await running.services.stop();
    const stored = await running.db.selectFrom('inbound_events').select('id').execute();
    expect(stored.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(readWaitingIntake(databasePath)).toEqual([]);
    await running.discord.stop();
    await running.db.destroy();
  });

  it('applies events a crash left in the intake file when the bot starts again', async () => {
    // Acknowledged by a process that died before moving them: only the intake file has them.
    const { path, db, intake } = await fileStore();
    const paid = orderEvent('order.paid', { id: 7, email: 'ana@example.com', discordId: ana });
    const raw = JSON.stringify(paid);
    await appendToIntake(intake, db, [{ id: paid.id as string, eventType: 'order.paid', payload: raw, scheme: 'hmac-hex' }], new Date().toISOString());
    closeIntakeFile(intake);
    await db.destroy();

    shop = await startShop({ eventsThread: true, databasePath: path });
    await expect.poll(() => shop!.discord.memberRoles(SHOP_GUILD_ID, ana), { timeout: 10_000 }).toContain(VIP_ROLE_ID);
    expect(await findInboundEvent(shop.db, paid.id as string)).toMatchObject({ status: 'processed' });
    expect(readWaitingIntake(path)).toEqual([]);
  });
});
