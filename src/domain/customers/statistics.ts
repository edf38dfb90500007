import { countCustomersInRange, readStoreCounters } from '../../store/customer-counts.repository.js';
import type { Db } from '../../store/database.js';
import type { Clock } from '../../shared/clock.js';
import { atRiskCutoff } from './profile.js';
import { TimeZoneError, zoneClockOf, type ZoneClock } from '../../shared/time-zone.js';
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
  let zone: ZoneClock;
  try {
    zone = zoneClockOf(timeZone);
  } catch (error) {
    if (error instanceof TimeZoneError) throw new UserError('time_zone_invalid', `"${timeZone}" is not a time zone (use an IANA name such as Europe/Berlin).`);
    throw error;
  }
  const local = new Date(zone.wallAt(now.getTime()));
  return new Date(zone.firstInstantShowing(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), 1)));
}
