import { countCustomersInRange, readStoreCounters } from '../../store/customer-counts.repository.js';
import type { Db } from '../../store/database.js';
import type { Clock } from '../../shared/clock.js';
import { atRiskCutoff } from './profile.js';
import { UserError } from '../../shared/errors.js';
import type { StoreStatistics } from './types.js';

/**
 * The store's figures. Totals over the per-customer aggregates come from `store_counters`, which
 * triggers keep as aggregates change; "new this month" and "at risk" are day counts plus an index
 * range over at most two days (countCustomersInRange), so the cost does not grow with the store
 * as counting index ranges would (bench/results.md). "New this month" counts registrations since
 * the first of the current calendar month in the store's time zone.
 */
export async function getStoreStatistics(
  db: Db,
  clock: Clock,
  options: { timeZone: string; atRiskDays: number },
): Promise<StoreStatistics> {
  const now = clock.now();
  const monthStart = startOfMonthInZone(now, options.timeZone).toISOString();
  const cutoff = atRiskCutoff(now, options.atRiskDays);

  const counters = await readStoreCounters(db);
  const newThisMonth = await countCustomersInRange(db, 'registered', { from: monthStart });
  // last_order_at is set exactly when a customer has a completed order (see customer-list).
  const atRisk = await countCustomersInRange(db, 'last_order', { to: cutoff, toInclusive: true });

  return {
    totalCustomers: counters.customers,
    newThisMonth,
    withOrders: counters.withOrders,
    repeatCustomers: counters.repeatCustomers,
    loyalCustomers: counters.loyalCustomers,
    atRisk,
    totalOrders: counters.completedOrders,
    revenueCents: counters.revenueCents,
    averageOrderValueCents: counters.completedOrders > 0 ? Math.round(counters.revenueCents / counters.completedOrders) : 0,
  };
}

/**
 * The instant the calendar month containing `now` began in `timeZone` (an IANA name), DST
 * included: in Europe/Berlin, 1 April starts at 22:00 UTC on 31 March (summer time) while
 * 1 March starts at 23:00 UTC on 28 February (winter time). Where local midnight does not exist
 * (a zone that springs forward at 00:00), the month starts at the first instant that exists.
 */
export function startOfMonthInZone(now: Date, timeZone: string): Date {
  const format = zoneFormatter(timeZone);
  const local = wallClock(format, now.getTime());
  const wallMidnight = Date.UTC(local.year, local.month - 1, 1);
  // The offset at local midnight is not the offset now (the month may have changed DST since),
  // so try the offset found at both guesses and keep the earliest that lands in this month.
  const first = wallMidnight - offsetAt(format, wallMidnight);
  const second = wallMidnight - offsetAt(format, first);
  const candidates = [first, second, ...[first, second].map((t) => t + 60 * 60 * 1000)]
    .filter((t) => {
      const wall = wallClock(format, t);
      return wall.year === local.year && wall.month === local.month;
    })
    .sort((a, b) => a - b);
  const start = candidates[0];
  if (start === undefined) throw new Error(`could not find the start of the month in ${timeZone}`);
  return new Date(start);
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function zoneFormatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new UserError('time_zone_invalid', `"${timeZone}" is not a time zone (use an IANA name such as Europe/Berlin).`);
    }
    formatters.set(timeZone, format);
  }
  return format;
}

function wallClock(format: Intl.DateTimeFormat, time: number): WallClock {
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(time)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? NaN,
    month: parts.month ?? NaN,
    day: parts.day ?? NaN,
    hour: parts.hour ?? NaN,
    minute: parts.minute ?? NaN,
    second: parts.second ?? NaN,
  };
}

/** Milliseconds the zone's wall clock is ahead of UTC at `time` (to the second). */
function offsetAt(format: Intl.DateTimeFormat, time: number): number {
  const w = wallClock(format, time);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(time / 1000) * 1000;
}
