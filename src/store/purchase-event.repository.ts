import type { OnConflictBuilder } from 'kysely';
import type { Clock } from '../shared/clock.js';
import { clipText } from '../shared/text.js';
import { withDurableCommit, type Db } from './database.js';
import { GroupCommit } from './group-commit.js';
import { claimDue, hasDue, releaseLeasesOf, settleClaim, type LeaseQueue } from './lease-queue.js';
import type { Database, InboundEventStatus, SignatureScheme } from './schema/index.js';

export interface NewInboundEvent {
  id: string;
  eventType: string;
  /** The raw body as received (UTF-8), kept verbatim. */
  payload: string;
  scheme: SignatureScheme;
}

/** An event a worker holds a lease on; `attempt` identifies this claim. */
export interface ClaimedEvent {
  id: string;
  eventType: string;
  payload: string;
  scheme: SignatureScheme;
  receivedAt: string;
  /** 1 for the first claim, 2 for the second, …: a claim that crashed counts too. */
  attempt: number;
  leaseUntil: string;
}

export interface InboundEvent extends Omit<ClaimedEvent, 'attempt' | 'leaseUntil'> {
  status: InboundEventStatus;
  attempts: number;
  nextAttemptAt: string;
  leaseUntil: string | null;
  processedAt: string | null;
  lastError: string | null;
}

const LAST_ERROR_MAX_LENGTH = 2000;

/**
 * Stores a verified event under its id in one statement (it commits before the HTTP answer).
 * A second delivery of the same id changes nothing and reports `duplicate`, unless the first
 * was marked failed: then the new delivery takes its place, queued afresh (see {@link requeueFailed}).
 */
export async function storeInboundEvent(db: Db, clock: Clock, event: NewInboundEvent): Promise<'stored' | 'duplicate'> {
  const now = clock.now().toISOString();
  // The 200 that follows ends the store's retries: the row must survive a power loss too.
  return withDurableCommit(db, (conn) => insertInboundEvent(conn, event, now));
}

async function insertInboundEvent(db: Db, event: NewInboundEvent, now: string): Promise<'stored' | 'duplicate'> {
  const inserted = await db
    .insertInto('inbound_events')
    .values(newEventRow(event, now))
    // RETURNING after a conflict whose update the WHERE skips yields no row, on SQLite and
    // PostgreSQL alike.
    .onConflict(requeueFailed)
    .returning('id')
    .executeTakeFirst();
  return inserted ? 'stored' : 'duplicate';
}

/**
 * The store's answer to "this event failed": fix the cause, then deliver it again. A redelivery
 * of a failed event replaces it and is queued as if new, with its attempts counted from zero;
 * an event pending, processed or ignored stays as it is.
 */
function requeueFailed(oc: OnConflictBuilder<Database, 'inbound_events'>) {
  return oc
    .column('id')
    .doUpdateSet((eb) => ({
      event_type: eb.ref('excluded.event_type'),
      payload: eb.ref('excluded.payload'),
      signature_scheme: eb.ref('excluded.signature_scheme'),
      received_at: eb.ref('excluded.received_at'),
      status: 'pending' as const,
      attempts: 0,
      next_attempt_at: eb.ref('excluded.received_at'),
      lease_until: null,
      processed_at: null,
      last_error: null,
    }))
    .where('inbound_events.status', '=', 'failed');
}

function newEventRow(event: NewInboundEvent, receivedAt: string) {
  return {
    id: event.id,
    event_type: event.eventType,
    payload: event.payload,
    signature_scheme: event.scheme,
    received_at: receivedAt,
    status: 'pending' as const,
    attempts: 0,
    next_attempt_at: receivedAt,
    lease_until: null,
    processed_at: null,
    last_error: null,
  };
}

/**
 * Stores events acknowledged earlier (each at its own `receivedAt`) in one statement; an id the
 * store already has is skipped, unless it failed (queued afresh, as in {@link storeInboundEvent}).
 * Returns how many were new or queued again.
 */
export async function insertInboundEvents(db: Db, events: ReadonlyArray<NewInboundEvent & { receivedAt: string }>): Promise<number> {
  if (events.length === 0) return 0;
  const result = await db
    .insertInto('inbound_events')
    .values(events.map((e) => newEventRow(e, e.receivedAt)))
    .onConflict(requeueFailed)
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/** Where the webhook listener stores a verified event before it answers 200. */
export interface EventStore {
  store(event: NewInboundEvent): Promise<'stored' | 'duplicate'>;
}

/**
 * {@link storeInboundEvent} with group commit (see {@link GroupCommit}): each caller still learns
 * whether its event was new or a duplicate.
 */
export class InboundEventWriter implements EventStore {
  readonly #group: GroupCommit<NewInboundEvent, 'stored' | 'duplicate'>;

  constructor(db: Db, clock: Clock) {
    this.#group = new GroupCommit((batch) => {
      const now = clock.now().toISOString();
      return withDurableCommit(db, (conn) =>
        conn.transaction().execute(async (trx) => {
          const out: Array<'stored' | 'duplicate'> = [];
          for (const event of batch) out.push(await insertInboundEvent(trx, event, now));
          return out;
        }),
      );
    });
  }

  store(event: NewInboundEvent): Promise<'stored' | 'duplicate'> {
    return this.#group.submit(event);
  }
}

/** The inbound purchase events, claimed oldest received first; each claim counts an attempt. */
export const INBOUND_EVENT_QUEUE: LeaseQueue<'inbound_events'> = {
  table: 'inbound_events',
  open: ['pending'],
  order: ['received_at', 'id'],
  claimCountsAttempt: true,
  release: 'expire',
};

/**
 * Leases up to `limit` due events, oldest received first: pending, due, and not leased by a
 * live worker. A worker that dies mid-event leaves its lease to expire, and the event is claimed
 * again. Each claim increments `attempts`; `holder` is recorded on it. Atomic: see {@link claimDue}.
 */
export async function claimDueEvents(db: Db, clock: Clock, options: { limit: number; leaseMs: number; holder?: string | undefined }): Promise<ClaimedEvent[]> {
  const { rows, leaseUntil } = await claimDue(db, clock, INBOUND_EVENT_QUEUE, {
    limit: options.limit,
    leaseMs: options.leaseMs,
    holder: options.holder ?? null,
    columns: ['id', 'event_type', 'payload', 'signature_scheme', 'received_at', 'attempts'],
  });
  return rows.map(
    (row): ClaimedEvent => ({
      id: row.id,
      eventType: row.event_type,
      payload: row.payload,
      scheme: row.signature_scheme,
      receivedAt: row.received_at,
      attempt: row.attempts,
      leaseUntil,
    }),
  );
}

/** Whether any event is claimable now (pending, due, not leased by a live worker). */
export async function hasDueInboundEvent(db: Db, clock: Clock): Promise<boolean> {
  return hasDue(db, clock, INBOUND_EVENT_QUEUE);
}

/** Thrown when an event's lease was lost (it expired and someone else claimed it). */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(readonly eventId: string) {
    super(`the lease on inbound event ${eventId} was lost`);
  }
}

/**
 * Ends a claim with a final status. Only the claim that holds the lease may do this (its
 * `attempt` still current, the event still pending): inside the processing transaction this
 * makes a worker whose lease expired roll back instead of applying the event twice.
 */
async function finishClaim(
  db: Db,
  clock: Clock,
  claim: { id: string; attempt: number },
  status: Exclude<InboundEventStatus, 'pending'>,
  error: string | null,
): Promise<void> {
  const patch = { status, processed_at: clock.now().toISOString(), last_error: error === null ? null : truncate(error) };
  if (!(await settleClaim(db, INBOUND_EVENT_QUEUE, claim, patch))) throw new LeaseLostError(claim.id);
}

export async function markEventProcessed(db: Db, clock: Clock, claim: { id: string; attempt: number }): Promise<void> {
  await finishClaim(db, clock, claim, 'processed', null);
}

/** An event acknowledged but not acted on (an unknown type, or nothing to do). */
export async function markEventIgnored(db: Db, clock: Clock, claim: { id: string; attempt: number }, reason?: string): Promise<void> {
  await finishClaim(db, clock, claim, 'ignored', reason ?? null);
}

/** Gives up on an event for good; staff can find it by status. */
export async function markEventFailed(db: Db, clock: Clock, claim: { id: string; attempt: number }, error: string): Promise<void> {
  await finishClaim(db, clock, claim, 'failed', error);
}

/** Releases a claim after a failed attempt so the event is retried at `retryAt`. */
export async function scheduleEventRetry(db: Db, claim: { id: string; attempt: number }, retryAt: Date, error: string): Promise<void> {
  const patch = { next_attempt_at: retryAt.toISOString(), last_error: truncate(error) };
  if (!(await settleClaim(db, INBOUND_EVENT_QUEUE, claim, patch))) throw new LeaseLostError(claim.id);
}

export async function findInboundEvent(db: Db, id: string): Promise<InboundEvent | undefined> {
  const row = await db.selectFrom('inbound_events').selectAll().where('id', '=', id).executeTakeFirst();
  return (
    row && {
      id: row.id,
      eventType: row.event_type,
      payload: row.payload,
      scheme: row.signature_scheme,
      receivedAt: row.received_at,
      status: row.status,
      attempts: row.attempts,
      nextAttemptAt: row.next_attempt_at,
      leaseUntil: row.lease_until,
      processedAt: row.processed_at,
      lastError: row.last_error,
    }
  );
}

/** How many events are in each status (all four keys always present). */
export async function countInboundEvents(db: Db): Promise<Record<InboundEventStatus, number>> {
  const rows = await db
    .selectFrom('inbound_events')
    .select((eb) => ['status', eb.fn.countAll<number>().as('count')])
    .groupBy('status')
    .execute();
  const counts: Record<InboundEventStatus, number> = { pending: 0, processed: 0, ignored: 0, failed: 0 };
  for (const row of rows) counts[row.status] = Number(row.count);
  return counts;
}

function truncate(text: string): string {
  return clipText(text, LAST_ERROR_MAX_LENGTH);
}

/** Events leased by a dead process become claimable at once: see {@link releaseLeasesOf}. */
export async function releaseInboundEventLeases(db: Db, clock: Clock, holders?: readonly (string | null)[]): Promise<number> {
  return releaseLeasesOf(db, clock, INBOUND_EVENT_QUEUE, holders);
}
