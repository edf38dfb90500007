import type { Clock } from '../shared/clock.js';
import type { Db } from './database.js';

/** A lease by name, for one holder, lasting `ttlMs` from each acquire or renewal. */
export interface LeaseClaim {
  name: string;
  holder: string;
  ttlMs: number;
}

export interface Lease {
  name: string;
  holder: string;
  acquiredAt: string;
  expiresAt: string;
}

// Every write below is one conditional statement whose WHERE re-checks the holder or the expiry:
// SQLite runs writers one at a time, and PostgreSQL re-evaluates the condition on the row version
// it waited for, so of two processes racing for one lease exactly one statement changes the row.

function expiry(clock: Clock, ttlMs: number): { now: string; expiresAt: string } {
  const now = clock.now();
  return { now: now.toISOString(), expiresAt: new Date(now.getTime() + ttlMs).toISOString() };
}

/** Extends the lease while `holder` still has it (even past its expiry, as long as nobody took it). */
export async function renewLease(db: Db, clock: Clock, claim: LeaseClaim): Promise<boolean> {
  const { expiresAt } = expiry(clock, claim.ttlMs);
  const result = await db.updateTable('leases').set({ expires_at: expiresAt }).where('name', '=', claim.name).where('holder', '=', claim.holder).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Takes the lease when nobody holds it or its holder let it expire, or renews it when `holder`
 * already has it. False while another holder's lease runs.
 */
export async function acquireLease(db: Db, clock: Clock, claim: LeaseClaim): Promise<boolean> {
  if (await renewLease(db, clock, claim)) return true;
  const { now, expiresAt } = expiry(clock, claim.ttlMs);
  const taken = await db
    .updateTable('leases')
    .set({ holder: claim.holder, acquired_at: now, expires_at: expiresAt })
    .where('name', '=', claim.name)
    .where('expires_at', '<=', now)
    .executeTakeFirst();
  if (Number(taken.numUpdatedRows) === 1) return true;
  const inserted = await db
    .insertInto('leases')
    .values({ name: claim.name, holder: claim.holder, acquired_at: now, expires_at: expiresAt })
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/**
 * Takes the lease from `from`, whatever its expiry: for a holder known to be dead before its
 * lease runs out. False when `from` no longer holds it (someone else was quicker).
 */
export async function takeOverLease(db: Db, clock: Clock, claim: LeaseClaim, from: string): Promise<boolean> {
  const { now, expiresAt } = expiry(clock, claim.ttlMs);
  const result = await db
    .updateTable('leases')
    .set({ holder: claim.holder, acquired_at: now, expires_at: expiresAt })
    .where('name', '=', claim.name)
    .where('holder', '=', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Gives the lease up at once (a clean shutdown), if `holder` still has it. */
export async function releaseLease(db: Db, name: string, holder: string): Promise<boolean> {
  const result = await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function findLease(db: Db, name: string): Promise<Lease | undefined> {
  const row = await db.selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();
  return row && { name: row.name, holder: row.holder, acquiredAt: row.acquired_at, expiresAt: row.expires_at };
}

/** Unexpired leases whose name starts with `prefix` (e.g. every live process's heartbeat). */
export async function listLiveLeases(db: Db, clock: Clock, prefix: string): Promise<Lease[]> {
  const rows = await db
    .selectFrom('leases')
    .selectAll()
    .where('name', '>=', prefix)
    .where('name', '<', `${prefix}\uffff`)
    .where('expires_at', '>', clock.now().toISOString())
    .orderBy('name')
    .execute();
  return rows.map((row) => ({ name: row.name, holder: row.holder, acquiredAt: row.acquired_at, expiresAt: row.expires_at }));
}

/** Forgets leases under `prefix` that expired before `before` (heartbeats of processes long gone). */
export async function deleteExpiredLeases(db: Db, prefix: string, before: Date): Promise<number> {
  const result = await db
    .deleteFrom('leases')
    .where('name', '>=', prefix)
    .where('name', '<', `${prefix}\uffff`)
    .where('expires_at', '<', before.toISOString())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
