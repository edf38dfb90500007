import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { Clock } from '../shared/clock.js';
import type { Db } from './database.js';
import type { Database } from './schema/index.js';

// One way to claim, settle and release the rows of a queue table under a lease. Every such table
// has `status`, `attempts`, `next_attempt_at`, `lease_until` and `lease_holder`; what differs per
// queue (its statuses, its claim order, whether a claim counts an attempt, what a release leaves
// behind) is in its LeaseQueue. Retry delays are the caller's (src/shared/backoff.ts).

/** The queue tables whose rows are claimed under a lease recorded with its holder. */
export type LeaseQueueTable = 'inbound_events' | 'webhook_deliveries' | 'role_jobs';

type Row<T extends LeaseQueueTable> = Selectable<Database[T]>;
type Column<T extends LeaseQueueTable> = keyof Row<T> & string;
type Status<T extends LeaseQueueTable> = Database[T] extends { status: infer S extends string } ? S : never;

export interface LeaseQueue<T extends LeaseQueueTable> {
  readonly table: T;
  /** The statuses a row is claimed in; settling and releasing touch only rows still in one. */
  readonly open: readonly Status<T>[];
  /** The claim order, first claimed first; also the order {@link claimDue} hands rows back in. */
  readonly order: readonly Column<T>[];
  /** Whether taking the lease counts an attempt (then `attempts` identifies the claim). */
  readonly claimCountsAttempt: boolean;
  /**
   * What releasing a dead holder's lease leaves: `expire` ends the lease now; `interrupt` sets it
   * to the epoch and makes the row due now, so the next claimer can tell "claimed once, never
   * settled" (the work may already have happened) from a row never claimed (lease null).
   */
  readonly release: 'expire' | 'interrupt';
}

/** The queue of any of the tables. */
export type AnyLeaseQueue = { [T in LeaseQueueTable]: LeaseQueue<T> }[LeaseQueueTable];

/** A lease in the past: "claimed once, never settled" (see {@link LeaseQueue.release}). */
const INTERRUPTED_LEASE = new Date(0).toISOString();

// The queues' own column types differ (ids, statuses); the statements below use only the columns
// they share, so they are built on this one shape and the rows typed back per table.
interface LeasedRow {
  id: string | number;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  lease_until: string | null;
  lease_holder: string | null;
}
type LeasedDb = Kysely<{ queue: LeasedRow }>;
type Leased = ExpressionBuilder<{ queue: LeasedRow }, 'queue'>;

/** A LeaseQueue of any table, as the statements below see it. */
interface AnyQueue {
  readonly table: string;
  readonly open: readonly string[];
  readonly order: readonly string[];
  readonly claimCountsAttempt: boolean;
  readonly release: 'expire' | 'interrupt';
}

function leased(db: Db): LeasedDb {
  return db as unknown as LeasedDb;
}

function tableOf(queue: AnyQueue): 'queue' {
  return queue.table as unknown as 'queue';
}

// One status compiles to `=`, as the due indexes were written for.
function inOpen(queue: AnyQueue) {
  const open = queue.open;
  return (eb: Leased) => (open.length === 1 ? eb('status', '=', open[0] as string) : eb('status', 'in', open));
}

function leaseFree(nowIso: string) {
  return (eb: Leased) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', nowIso)]);
}

/** The rows claimable at `nowIso`: open, due, and not leased by a live holder. */
function dueRows(db: Db, queue: AnyQueue, nowIso: string) {
  return leased(db).selectFrom(tableOf(queue)).where(inOpen(queue)).where('next_attempt_at', '<=', nowIso).where(leaseFree(nowIso));
}

export interface ClaimOptions {
  limit: number;
  leaseMs: number;
  /** The claiming process, recorded so that only a dead process's claims are released. */
  holder: string | null;
}

export interface Claimed<R> {
  rows: R[];
  /** The lease the rows were claimed until. */
  leaseUntil: string;
}

/**
 * Leases up to `limit` due rows in the queue's order, with `columns` of each (all when omitted;
 * they must include the order columns). A holder that dies leaves its leases to expire, or to
 * {@link releaseLeasesOf}.
 *
 * One UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING statement, so a claim is atomic on its
 * own. The outer WHERE repeats the state and lease conditions: when two processes pick the same
 * rows, PostgreSQL re-checks them on the row the first one just leased and the second skips it
 * (SQLite runs the two statements one after the other anyway).
 */
export async function claimDue<T extends LeaseQueueTable>(db: Db, clock: Clock, queue: LeaseQueue<T>, options: ClaimOptions): Promise<Claimed<Row<T>>>;
export async function claimDue<T extends LeaseQueueTable, K extends Column<T>>(
  db: Db,
  clock: Clock,
  queue: LeaseQueue<T>,
  options: ClaimOptions & { columns: readonly K[] },
): Promise<Claimed<Pick<Row<T>, K>>>;
export async function claimDue<T extends LeaseQueueTable>(
  db: Db,
  clock: Clock,
  queue: LeaseQueue<T>,
  options: ClaimOptions & { columns?: readonly string[] },
): Promise<Claimed<Record<string, unknown>>> {
  const now = clock.now();
  const nowIso = now.toISOString();
  const leaseUntil = new Date(now.getTime() + options.leaseMs).toISOString();
  let due = dueRows(db, queue, nowIso).select('id');
  for (const column of queue.order) due = due.orderBy(column as 'id');
  const claim = leased(db)
    .updateTable(tableOf(queue))
    .set((eb) => ({
      ...(queue.claimCountsAttempt ? { attempts: eb('attempts', '+', 1) } : {}),
      lease_until: leaseUntil,
      lease_holder: options.holder,
    }))
    .where(inOpen(queue))
    .where(leaseFree(nowIso))
    .where('id', 'in', due.limit(options.limit));
  const rows = (await (options.columns ? claim.returning(options.columns as 'id'[]) : claim.returningAll()).execute()) as Record<string, unknown>[];
  // RETURNING order is unspecified: put the batch back in claim order.
  return { rows: rows.sort(byColumns(queue.order)), leaseUntil };
}

function byColumns(columns: readonly string[]) {
  return (a: Record<string, unknown>, b: Record<string, unknown>): number => {
    for (const column of columns) {
      const x = a[column] as string | number;
      const y = b[column] as string | number;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  };
}

/**
 * The rows due at `nowIso`, whole, in claim order, without claiming them: for a queue that claims
 * each row just before working on it ({@link claimRow}) and needs the row as it was before.
 */
export async function listDue<T extends LeaseQueueTable>(db: Db, queue: LeaseQueue<T>, nowIso: string, limit: number): Promise<Row<T>[]> {
  let due = dueRows(db, queue, nowIso).selectAll();
  for (const column of queue.order) due = due.orderBy(column as 'id');
  return (await due.limit(limit).execute()) as unknown as Row<T>[];
}

/** Whether any row is claimable now. */
export async function hasDue(db: Db, clock: Clock, queue: AnyLeaseQueue): Promise<boolean> {
  const row = await dueRows(db, queue, clock.now().toISOString()).select('id').limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * Leases one row read earlier, if it is still in the status it was read in and no live holder
 * has it. Returns the lease (which identifies this claim when settling), or undefined when
 * another claimer got there first.
 */
export async function claimRow<T extends LeaseQueueTable>(
  db: Db,
  queue: LeaseQueue<T>,
  row: { id: string | number; status: Status<T> },
  now: Date,
  options: Omit<ClaimOptions, 'limit'>,
): Promise<string | undefined> {
  const nowIso = now.toISOString();
  const lease = new Date(now.getTime() + options.leaseMs).toISOString();
  const result = await leased(db)
    .updateTable(tableOf(queue))
    .set({ lease_until: lease, lease_holder: options.holder })
    .where('id', '=', row.id as string)
    .where('status', '=', row.status as string)
    .where(leaseFree(nowIso))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1 ? lease : undefined;
}

/**
 * Which claim a settlement is for: `attempt` (queues whose claim counts an attempt) or `lease`
 * (the lease {@link claimRow} returned) makes it the current claim's only; without either, any
 * claimer's settlement of a row still open counts.
 */
export type ClaimRef = { id: string | number } & ({ attempt: number; lease?: never } | { lease: string; attempt?: never } | { attempt?: never; lease?: never });

/**
 * Ends a claim: writes `patch` and clears the lease, if the claim still holds the row and the row
 * is still open (`evenIfClosed`: whatever its status, for an outcome that stands even so).
 * Returns false when it did not: the lease was lost to another claimer, or the row was closed
 * meanwhile (cancelled, superseded).
 */
export async function settleClaim<T extends LeaseQueueTable>(
  db: Db,
  queue: LeaseQueue<T>,
  claim: ClaimRef,
  patch: Partial<Row<T>>,
  options: { evenIfClosed?: boolean } = {},
): Promise<boolean> {
  const result = await leased(db)
    .updateTable(tableOf(queue))
    .set({ ...(patch as Partial<LeasedRow>), lease_until: null, lease_holder: null })
    .where('id', '=', claim.id as string)
    .$if(claim.attempt !== undefined, (qb) => qb.where('attempts', '=', claim.attempt as number))
    .$if(claim.lease !== undefined, (qb) => qb.where('lease_until', '=', claim.lease as string))
    .$if(options.evenIfClosed !== true, (qb) => qb.where(inOpen(queue)))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The holders of the leases of `queue` still running at `nowIso` (null: recorded without one). */
export async function leaseHolders(db: Db, queue: AnyLeaseQueue, nowIso: string): Promise<(string | null)[]> {
  const rows = await leased(db).selectFrom(tableOf(queue)).select('lease_holder').distinct().where('lease_until', '>', nowIso).execute();
  return rows.map((row) => row.lease_holder);
}

/**
 * Makes the open rows of `queue` leased by dead processes due at once instead of when their lease
 * runs out (see {@link LeaseQueue.release}). `holders` names the dead processes (null: claims
 * recorded without a holder); without it every lease is released, which is right only when no
 * other bot process can be running.
 */
export async function releaseLeasesOf(db: Db, clock: Clock, queue: AnyLeaseQueue, holders?: readonly (string | null)[]): Promise<number> {
  if (holders?.length === 0) return 0;
  const nowIso = clock.now().toISOString();
  const named = holders?.filter((h): h is string => h !== null) ?? [];
  const result = await leased(db)
    .updateTable(tableOf(queue))
    .set(queue.release === 'expire' ? { lease_until: nowIso, lease_holder: null } : { lease_until: INTERRUPTED_LEASE, lease_holder: null, next_attempt_at: nowIso })
    .where(inOpen(queue))
    .where('lease_until', '>', nowIso)
    .$if(holders !== undefined, (qb) =>
      qb.where((eb) => eb.or([...(named.length > 0 ? [eb('lease_holder', 'in', named)] : []), ...(holders?.includes(null) ? [eb('lease_holder', 'is', null)] : [])])),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
