import type { Clock } from '../shared/clock.js';
import type { Db } from './database.js';
import type { DigestRunRow, DigestRunStatus, NewDigestRunRow, SegmentSnapshotRow } from './schema/index.js';

export type { DigestRunRow, DigestRunStatus, SegmentSnapshotRow };

export async function findDigestRun(db: Db, periodKey: string): Promise<DigestRunRow | undefined> {
  return db.selectFrom('digest_runs').selectAll().where('period_key', '=', periodKey).executeTakeFirst();
}

/** The latest run scheduled strictly after `instant` (an ISO string), whatever its status. */
export async function findLatestDigestRunAfter(db: Db, instant: string): Promise<DigestRunRow | undefined> {
  return db.selectFrom('digest_runs').selectAll().where('period_key', '>', instant).orderBy('period_key', 'desc').limit(1).executeTakeFirst();
}

/**
 * The latest digest staff saw (sent) or the baseline the bot started from (skipped), scheduled
 * before `beforePeriodKey` when given: where "became at risk since the last digest" starts.
 */
export async function findPreviousDigestRun(db: Db, beforePeriodKey?: string): Promise<DigestRunRow | undefined> {
  let query = db.selectFrom('digest_runs').selectAll().where('status', 'in', ['sent', 'skipped']);
  if (beforePeriodKey !== undefined) query = query.where('period_key', '<', beforePeriodKey);
  return query.orderBy('period_key', 'desc').limit(1).executeTakeFirst();
}

export async function hasAnyDigestRun(db: Db): Promise<boolean> {
  const row = await db.selectFrom('digest_runs').select('id').limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * Claims a period: inserts its run unless one exists. False means another run got there first;
 * the unique key on period_key decides, so two processes cannot both claim it.
 */
export async function insertDigestRun(db: Db, row: NewDigestRunRow): Promise<boolean> {
  const result = await db
    .insertInto('digest_runs')
    .values(row)
    .onConflict((oc) => oc.column('period_key').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/**
 * Takes over a run left `sending` past its lease, or `failed`, for another attempt. Conditional
 * on the status and lease it was read with, so of two runs racing for it only one wins.
 */
export async function reclaimDigestRun(
  db: Db,
  clock: Clock,
  run: Pick<DigestRunRow, 'period_key' | 'status' | 'attempts'>,
  leaseMs: number,
): Promise<boolean> {
  const now = clock.now();
  const nowIso = now.toISOString();
  let update = db
    .updateTable('digest_runs')
    .set({
      status: 'sending',
      claimed_at: nowIso,
      lease_expires_at: new Date(now.getTime() + leaseMs).toISOString(),
      attempts: run.attempts + 1,
    })
    .where('period_key', '=', run.period_key)
    .where('status', '=', run.status)
    .where('attempts', '=', run.attempts);
  if (run.status === 'sending') update = update.where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', nowIso)]));
  const result = await update.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function recordDigestBuilt(
  db: Db,
  periodKey: string,
  figures: { atRiskCutoff: string; atRiskDays: number; atRiskCount: number; newlyAtRiskCount: number },
): Promise<void> {
  await db
    .updateTable('digest_runs')
    .set({
      at_risk_cutoff: figures.atRiskCutoff,
      at_risk_days: figures.atRiskDays,
      at_risk_count: figures.atRiskCount,
      newly_at_risk_count: figures.newlyAtRiskCount,
    })
    .where('period_key', '=', periodKey)
    .execute();
}

export async function markDigestRunSent(db: Db, clock: Clock, periodKey: string, messageId: string | null): Promise<void> {
  await db
    .updateTable('digest_runs')
    .set({ status: 'sent', sent_at: clock.now().toISOString(), message_id: messageId, lease_expires_at: null, last_error: null })
    .where('period_key', '=', periodKey)
    .execute();
}

export async function markDigestRunFailed(db: Db, periodKey: string, error: string): Promise<void> {
  await db
    .updateTable('digest_runs')
    .set({ status: 'failed', lease_expires_at: null, last_error: error.slice(0, 2000) })
    .where('period_key', '=', periodKey)
    .execute();
}

/**
 * At start-up: a run still `sending` belonged to a process that is gone (one bot process serves
 * a SQLite file), so its lease ends now and the next check finds out whether it was posted.
 */
export async function releaseDigestLeases(db: Db, clock: Clock): Promise<number> {
  const result = await db
    .updateTable('digest_runs')
    .set({ lease_expires_at: clock.now().toISOString() })
    .where('status', '=', 'sending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Stores the segment counts of a period once; a second call for the same period keeps the first. */
export async function insertSegmentSnapshot(db: Db, snapshot: SegmentSnapshotRow): Promise<void> {
  await db
    .insertInto('segment_snapshots')
    .values(snapshot)
    .onConflict((oc) => oc.column('period_key').doNothing())
    .execute();
}

/** The latest `limit` snapshots (scheduled before `beforePeriodKey` when given), oldest first. */
export async function listSegmentSnapshots(db: Db, options: { beforePeriodKey?: string; limit: number }): Promise<SegmentSnapshotRow[]> {
  let query = db.selectFrom('segment_snapshots').selectAll();
  if (options.beforePeriodKey !== undefined) query = query.where('period_key', '<', options.beforePeriodKey);
  const rows = await query.orderBy('period_key', 'desc').limit(options.limit).execute();
  return rows.reverse();
}
