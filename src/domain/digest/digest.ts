import { csvCellBytes } from '../exports/csv.js';
import { toExportRow, writeCustomerExport, DEFAULT_MAX_EXPORT_BYTES, type ExportFile } from '../exports/customer-export.js';
import { findPreviousDigestRun, listSegmentSnapshots, type SegmentSnapshotRow } from '../../store/digest.repository.js';
import type { Db } from '../../store/database.js';
import type { Clock } from '../../shared/clock.js';
import { iterateCustomers } from '../customers/list.js';
import { atRiskCutoff } from '../customers/profile.js';
import { computePeriod } from './period.js';
import { UserError } from '../../shared/errors.js';
import type { Customer } from '../customers/types.js';

export { checkSchedule, computePeriod, nextOccurrence, type DigestPeriod } from './period.js';

/**
 * The weekly at-risk digest as plain data: how many customers are at risk, who
 * became at risk since the previous digest, the most valuable of them, and the segments' change.
 * Every figure is an index range over the per-customer aggregates (customers.last_order_at,
 * orders_count, total_spent_cents), never a scan of orders, so the build stays fast at a million
 * customers (bench/results.md).
 */

export interface SegmentCounts {
  /** 0–1 completed orders (customers without orders included, as docs/product.md#statistics counts them). */
  newCount: number;
  /** 2–4 completed orders. */
  repeatCount: number;
  /** 5+ completed orders. */
  loyalCount: number;
  /** At least one order and none in the at-risk period: a flag across the three segments. */
  atRiskCount: number;
  customersTotal: number;
}

export interface SegmentSnapshot extends SegmentCounts {
  /** The period the counts belong to (an ISO instant); for a preview, the time it was built. */
  periodKey: string;
  takenAt: string;
}

export interface AtRiskCustomer {
  id: number;
  name: string;
  email: string;
  ordersCount: number;
  /** LTV = orders × average order value, which is total spent to the cent (docs/product.md#statistics). */
  ltvCents: number;
  lastOrderAt: string;
  lastOrderNumber: string | null;
}

export interface WeeklyDigest {
  generatedAt: string;
  /** The scheduled occurrence this digest is for; null for a preview. */
  periodKey: string | null;
  timeZone: string;
  atRiskDays: number;
  /** A last order at or before this instant makes a customer at risk. */
  atRiskCutoff: string;
  /** The previous digest's cut-off: customers whose last order falls after it and at or before `atRiskCutoff` became at risk since. */
  previousCutoff: string;
  /** When the previous posted digest was scheduled; null when none was (also after a baseline). */
  previousDigestAt: string | null;
  atRiskCount: number;
  withOrdersCount: number;
  newlyAtRiskCount: number;
  /** The newly at-risk customers with the highest LTV, highest first. */
  newlyAtRisk: AtRiskCustomer[];
  /** All at-risk customers with the highest LTV, highest first. */
  mostValuableAtRisk: AtRiskCustomer[];
  segments: SegmentCounts;
  /** The stored snapshot before this digest, or null when there is none yet. */
  previousSegments: SegmentSnapshot | null;
  /** `segments` minus `previousSegments`; null without a previous snapshot. */
  segmentChanges: SegmentCounts | null;
  /** Stored snapshots then this digest's own counts, oldest first: what the chart draws. */
  history: SegmentSnapshot[];
}

export interface BuildDigestOptions {
  atRiskDays: number;
  timeZone: string;
  /** See WeeklyDigest.previousCutoff; `previousDigestInputs` finds it. */
  previousCutoff: string;
  previousDigestAt?: string | null;
  /** The occurrence being built; its own stored snapshot (after a retry) is not "previous". */
  periodKey?: string | null;
  /** How many customers each top list holds (1–25, default 10). */
  topN?: number;
  /** Points on the chart, this digest's included (2–52, default 12). */
  historyLength?: number;
}

export const DIGEST_TOP_N = 10;
export const DIGEST_HISTORY_LENGTH = 12;

/** Builds the digest as of `clock.now()`; reads only. */
export async function buildWeeklyDigest(db: Db, clock: Clock, options: BuildDigestOptions): Promise<WeeklyDigest> {
  const now = clock.now();
  const generatedAt = now.toISOString();
  const cutoff = atRiskCutoff(now, options.atRiskDays);
  const topN = clampInteger(options.topN, DIGEST_TOP_N, 1, 25);
  const historyLength = clampInteger(options.historyLength, DIGEST_HISTORY_LENGTH, 2, 52);
  const periodKey = options.periodKey ?? null;

  const { segments, withOrdersCount } = await countSegments(db, cutoff);
  // A shorter AT_RISK_DAYS moves the cut-off forward past many customers at once (they did
  // become at risk); a longer one moves it back, and nobody became at risk.
  const windowOpen = options.previousCutoff < cutoff;
  const newlyAtRiskCount = windowOpen ? await countLastOrderRange(db, options.previousCutoff, cutoff) : 0;
  const newlyAtRisk = newlyAtRiskCount > 0 ? await topByLtv(db, cutoff, topN, options.previousCutoff) : [];
  const mostValuableAtRisk = segments.atRiskCount > 0 ? await topByLtv(db, cutoff, topN, null) : [];

  const stored = await listSegmentSnapshots(db, { beforePeriodKey: periodKey ?? undefined, limit: historyLength - 1 });
  const previousRow = stored.at(-1);
  const previousSegments = previousRow ? toSnapshot(previousRow) : null;
  const current: SegmentSnapshot = { ...segments, periodKey: periodKey ?? generatedAt, takenAt: generatedAt };

  return {
    generatedAt,
    periodKey,
    timeZone: options.timeZone,
    atRiskDays: options.atRiskDays,
    atRiskCutoff: cutoff,
    previousCutoff: options.previousCutoff,
    previousDigestAt: options.previousDigestAt ?? null,
    atRiskCount: segments.atRiskCount,
    withOrdersCount,
    newlyAtRiskCount,
    newlyAtRisk,
    mostValuableAtRisk,
    segments,
    previousSegments,
    segmentChanges: previousSegments ? subtractCounts(segments, previousSegments) : null,
    history: [...stored.map(toSnapshot), current],
  };
}

/**
 * Where "became at risk since the last digest" starts for the period `periodKey` (or, for a
 * preview, now): the cut-off of the last digest sent (or the baseline the bot started from);
 * without one, the cut-off one period earlier (the previous occurrence; for a preview, a period's
 * length before now), i.e. "in the last week" on the default schedule.
 */
export async function previousDigestInputs(
  db: Db,
  options: { cron: string; timeZone: string; atRiskDays: number; now: Date; periodKey?: string },
): Promise<{ previousCutoff: string; previousDigestAt: string | null }> {
  const previous = await findPreviousDigestRun(db, options.periodKey);
  // A baseline was never posted: the window starts when it was recorded (its cut-off says so),
  // and naming it "the last digest" would point staff at a message that does not exist.
  if (previous) return { previousCutoff: previous.at_risk_cutoff, previousDigestAt: previous.status === 'sent' ? previous.period_key : null };
  const period = computePeriod(options.cron, options.timeZone, options.now);
  const length = period.scheduledAt.getTime() - period.previousScheduledAt.getTime();
  const since = options.periodKey === undefined ? new Date(options.now.getTime() - length) : period.previousScheduledAt;
  return { previousCutoff: atRiskCutoff(since, options.atRiskDays), previousDigestAt: null };
}

/** The digest's segment counts as a stored snapshot row for its period. */
export function snapshotRowOf(digest: WeeklyDigest, periodKey: string): SegmentSnapshotRow {
  return {
    period_key: periodKey,
    taken_at: digest.generatedAt,
    new_count: digest.segments.newCount,
    repeat_count: digest.segments.repeatCount,
    loyal_count: digest.segments.loyalCount,
    at_risk_count: digest.segments.atRiskCount,
    customers_total: digest.segments.customersTotal,
  };
}

async function countSegments(db: Db, cutoff: string): Promise<{ segments: SegmentCounts; withOrdersCount: number }> {
  const all = await db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirstOrThrow();
  // One range of the (orders_count, id) index covers all three thresholds.
  const buyers = await db
    .selectFrom('customers')
    .select((eb) => [
      eb.fn.countAll<number | string>().as('with_orders'),
      eb.fn.countAll<number | string>().filterWhere('orders_count', '>=', 2).as('repeat_or_more'),
      eb.fn.countAll<number | string>().filterWhere('orders_count', '>=', 5).as('loyal'),
    ])
    .where('orders_count', '>=', 1)
    .executeTakeFirstOrThrow();
  // last_order_at is set exactly when a customer has a completed order (see customer-list).
  const atRisk = await db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('last_order_at', '<=', cutoff)
    .executeTakeFirstOrThrow();
  const total = Number(all.count);
  const repeatOrMore = Number(buyers.repeat_or_more);
  const loyal = Number(buyers.loyal);
  return {
    segments: {
      newCount: total - repeatOrMore,
      repeatCount: repeatOrMore - loyal,
      loyalCount: loyal,
      atRiskCount: Number(atRisk.count),
      customersTotal: total,
    },
    withOrdersCount: Number(buyers.with_orders),
  };
}

async function countLastOrderRange(db: Db, after: string, atOrBefore: string): Promise<number> {
  const row = await db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('last_order_at', '>', after)
    .where('last_order_at', '<=', atOrBefore)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/*
 * Top customers by LTV (= total_spent_cents) among those whose last order is at or before the
 * cut-off (and after `after`, for the newly at risk). SQLite plans the open-ended case as a walk
 * down (total_spent_cents, id) that stops at the N-th at-risk row: quick when big spenders are as
 * likely at risk as anyone, slowest when every at-risk customer spent less than every active one.
 * The bounded case is a range of (last_order_at, id) and a top-N sort of that week's rows. Neither
 * needs another index: a composite (total_spent_cents, last_order_at) does not beat them
 * (bench/results.md).
 */
async function topByLtv(db: Db, cutoff: string, limit: number, after: string | null): Promise<AtRiskCustomer[]> {
  let query = db
    .selectFrom('customers')
    .select(['id', 'name', 'email', 'orders_count', 'total_spent_cents', 'last_order_at', 'last_order_number'])
    .where('last_order_at', '<=', cutoff);
  if (after !== null) query = query.where('last_order_at', '>', after);
  const rows = await query.orderBy('total_spent_cents', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    email: row.email,
    ordersCount: row.orders_count,
    ltvCents: row.total_spent_cents,
    lastOrderAt: row.last_order_at ?? '',
    lastOrderNumber: row.last_order_number,
  }));
}

function toSnapshot(row: SegmentSnapshotRow): SegmentSnapshot {
  return {
    periodKey: row.period_key,
    takenAt: row.taken_at,
    newCount: row.new_count,
    repeatCount: row.repeat_count,
    loyalCount: row.loyal_count,
    atRiskCount: row.at_risk_count,
    customersTotal: row.customers_total,
  };
}

function subtractCounts(a: SegmentCounts, b: SegmentCounts): SegmentCounts {
  return {
    newCount: a.newCount - b.newCount,
    repeatCount: a.repeatCount - b.repeatCount,
    loyalCount: a.loyalCount - b.loyalCount,
    atRiskCount: a.atRiskCount - b.atRiskCount,
    customersTotal: a.customersTotal - b.customersTotal,
  };
}

// ---------------------------------------------------------------------------------------------
// The full list as a CSV attachment

export interface AtRiskListFile {
  file: ExportFile;
  /** Customers in the file. */
  rows: number;
  /** True when only the most valuable customers fit Discord's upload limit. */
  truncated: boolean;
}

export interface AtRiskListOptions {
  directory: string;
  /** Largest file; by default Discord's upload cap less the envelope and room for the chart. */
  maxBytes?: number;
  /**
   * Above this many at-risk customers the full list is not even attempted: customer CSVs zip
   * about 4:1, so half a million rows (~55 MB) is about what could still fit in 10 MiB.
   */
  fullListMaxRows?: number;
}

const FULL_LIST_MAX_ROWS = 500_000;
// The chart travels in the same upload; it is about 40 KB.
const CHART_ALLOWANCE_BYTES = 512 * 1024;

/**
 * Writes every at-risk customer of the digest, highest LTV first, as a customer-export CSV (the
 * export's columns, RFC 4180, formula-neutralised, zipped when that makes it fit). When even the
 * zip is over the limit, writes the most valuable customers that fit uncompressed instead and
 * says so (`truncated`). The caller uploads and then deletes `file.path`.
 */
export async function writeAtRiskList(db: Db, digest: WeeklyDigest, options: AtRiskListOptions): Promise<AtRiskListFile> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_EXPORT_BYTES - CHART_ALLOWANCE_BYTES;
  const baseName = `at-risk-customers-${localDay(new Date(digest.generatedAt), digest.timeZone)}`;
  // The digest's own instant, so the list has exactly the digest's cut-off.
  const asOf: Clock = { now: () => new Date(digest.generatedAt) };
  const atRisk = () =>
    iterateCustomers(db, asOf, { filter: 'at_risk', sort: 'highest_spending' }, { atRiskDays: digest.atRiskDays, batchSize: 5_000 });

  if (digest.atRiskCount <= (options.fullListMaxRows ?? FULL_LIST_MAX_ROWS)) {
    try {
      const file = await writeCustomerExport(atRisk(), { format: 'csv', directory: options.directory, baseName, maxBytes });
      return { file, rows: file.rows, truncated: false };
    } catch (error) {
      if (!(error instanceof UserError && error.code === 'export_too_large')) throw error;
    }
  }
  // The header, the BOM and CRLFs are small; 3% covers them and the quoting the estimate misses.
  const budget = Math.floor(maxBytes * 0.97);
  const file = await writeCustomerExport(takeWhileUnder(atRisk(), budget), { format: 'csv', directory: options.directory, baseName, maxBytes });
  return { file, rows: file.rows, truncated: true };
}

async function* takeWhileUnder(customers: AsyncIterable<Customer>, budget: number): AsyncGenerator<Customer> {
  let bytes = 0;
  for await (const customer of customers) {
    // The row as the export writes it: cells, commas and CRLF.
    bytes += toExportRow(customer).reduce<number>((sum, cell) => sum + csvCellBytes(cell) + 1, 1);
    if (bytes > budget) return;
    yield customer;
  }
}

/** YYYY-MM-DD of `instant` in `timeZone`. */
function localDay(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}

function clampInteger(value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.trunc(value)));
}
