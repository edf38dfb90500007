import type { Db } from '../../store/database.js';
import type { StaffAlertRow } from '../../store/schema/index.js';
import { exponentialDelayMs, type ExponentialBackoff } from '../../shared/backoff.js';
import type { Clock } from '../../shared/clock.js';
import { clipText } from '../../shared/text.js';

export interface StaffAlertInput {
  /** A stable category, e.g. `role_problem`, `banned_purchase`, `role_retry_exhausted`. */
  kind: string;
  /** The text staff read: what happened and what to do about it. */
  message: string;
  /** Raising an alert whose key already exists does nothing: one alert per problem. */
  dedupeKey?: string | undefined;
}

export interface StaffAlert {
  id: number;
  kind: string;
  message: string;
  dedupeKey: string | null;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  createdAt: string;
  sentAt: string | null;
  lastError: string | null;
}

/** Discord's message content limit; an alert is one message. */
const MESSAGE_MAX = 2000;
/** Enough of a posting error to act on; the rest is in the log. */
const LAST_ERROR_MAX = 500;
/** Posting is retried this many times, then the alert is marked failed (and logged by the sender). */
export const STAFF_ALERT_MAX_ATTEMPTS = 5;
const POST_BACKOFF: ExponentialBackoff = { firstMs: 30_000, capMs: 15 * 60_000 };

function toStaffAlert(row: StaffAlertRow): StaffAlert {
  return {
    id: row.id,
    kind: row.kind,
    message: row.message,
    dedupeKey: row.dedupe_key,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    lastError: row.last_error,
  };
}

/**
 * Stores an alert for the staff channel, inside the caller's transaction when given one, so an
 * alert exists exactly when the change that caused it was committed. Returns false when an alert
 * with the same dedupe key exists already.
 */
export async function raiseStaffAlert(db: Db, clock: Clock, input: StaffAlertInput): Promise<boolean> {
  const now = clock.now().toISOString();
  const message = clipText(input.message, MESSAGE_MAX);
  const result = await db
    .insertInto('staff_alerts')
    .values({ kind: input.kind, message, dedupe_key: input.dedupeKey ?? null, status: 'pending', next_attempt_at: now, created_at: now })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/**
 * Frees dedupe keys once their problem is solved (a role change went through after all), so the
 * same problem arising again later is reported again instead of being swallowed by the old alert.
 */
export async function releaseStaffAlertKeys(db: Db, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.updateTable('staff_alerts').set({ dedupe_key: null }).where('dedupe_key', 'in', keys).execute();
}

export async function listStaffAlerts(db: Db, filter: { status?: StaffAlert['status']; kind?: string; limit?: number } = {}): Promise<StaffAlert[]> {
  let query = db.selectFrom('staff_alerts').selectAll().orderBy('id', 'asc').limit(filter.limit ?? 100);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  return (await query.execute()).map(toStaffAlert);
}

export type AlertPostResult = { ok: true } | { ok: false; error: string };

/**
 * Posts due alerts, oldest first, one at a time through `post` (the Discord adapter): a posted
 * alert is marked sent; a failed post is retried with backoff and marked failed after
 * {@link STAFF_ALERT_MAX_ATTEMPTS}. Returns how many alerts were handled.
 */
export async function deliverStaffAlerts(
  db: Db,
  clock: Clock,
  post: (alert: StaffAlert) => Promise<AlertPostResult>,
  options: { limit?: number } = {},
): Promise<{ handled: number; failed: StaffAlert[] }> {
  const rows = await db
    .selectFrom('staff_alerts')
    .selectAll()
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', clock.now().toISOString())
    .orderBy('id', 'asc')
    .limit(options.limit ?? 10)
    .execute();
  const failed: StaffAlert[] = [];
  for (const row of rows) {
    const alert = toStaffAlert(row);
    let result: AlertPostResult;
    try {
      result = await post(alert);
    } catch (error) {
      result = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    const now = clock.now();
    if (result.ok) {
      await db.updateTable('staff_alerts').set({ status: 'sent', sent_at: now.toISOString(), attempts: row.attempts + 1, last_error: null }).where('id', '=', row.id).execute();
      continue;
    }
    const attempts = row.attempts + 1;
    const giveUp = attempts >= STAFF_ALERT_MAX_ATTEMPTS;
    const delayMs = exponentialDelayMs(attempts, POST_BACKOFF);
    await db
      .updateTable('staff_alerts')
      .set({
        status: giveUp ? 'failed' : 'pending',
        attempts,
        last_error: clipText(result.error, LAST_ERROR_MAX),
        next_attempt_at: new Date(now.getTime() + delayMs).toISOString(),
      })
      .where('id', '=', row.id)
      .execute();
    if (giveUp) failed.push({ ...alert, status: 'failed', attempts, lastError: result.error });
  }
  return { handled: rows.length, failed };
}
