import { countReferrals, findCustomerById } from '../../store/customer.repository.js';
import type { Db } from '../../store/database.js';
import type { Clock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import type { Badge, Customer, CustomerProfile, CustomerStatistics, Segment } from './types.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

/** New = 0–1 completed orders, Repeat = 2–4, Loyal = 5+ (docs/product.md#statistics). */
export function segmentFor(ordersCount: number): Segment {
  if (ordersCount >= 5) return 'loyal';
  if (ordersCount >= 2) return 'repeat';
  return 'new';
}

/** "Loyal" for 5+ completed orders, "Repeat" for 2–4; none below. */
export function badgesFor(ordersCount: number): Badge[] {
  if (ordersCount >= 5) return ['Loyal'];
  if (ordersCount >= 2) return ['Repeat'];
  return [];
}

/**
 * The instant at or before which a last order makes a customer at risk. Days are 24-hour
 * periods, not calendar days, so the answer does not depend on a time zone.
 */
export function atRiskCutoff(now: Date, atRiskDays: number): string {
  if (!Number.isFinite(atRiskDays) || atRiskDays <= 0) {
    throw new UserError('at_risk_days_invalid', 'The at-risk period must be a positive number of days.');
  }
  return new Date(now.getTime() - atRiskDays * DAY_MS).toISOString();
}

/**
 * At least one completed order and none in the last `atRiskDays` days: a last order exactly
 * `atRiskDays` × 24 h ago is at risk ("no order in 90+ days"). A flag on top of the segment.
 */
export function isAtRisk(customer: { ordersCount: number; lastOrderAt: string | null }, now: Date, atRiskDays: number): boolean {
  if (customer.ordersCount < 1 || customer.lastOrderAt === null) return false;
  return customer.lastOrderAt <= atRiskCutoff(now, atRiskDays);
}

/**
 * The figures of docs/product.md#statistics from the customer's stored aggregates: average order value rounded to the
 * cent for display; LTV = orders × AOV computed on the exact average (so it equals total spent
 * to the cent, instead of showing staff a figure one cent off beside it); purchase frequency =
 * average days between first and last completed order, to 0.1 day.
 */
export function computeStatistics(customer: Customer): CustomerStatistics {
  const orders = customer.ordersCount;
  const average = orders > 0 ? Math.round(customer.totalSpentCents / orders) : 0;
  let frequency: number | null = null;
  if (orders >= 2 && customer.firstOrderAt !== null && customer.lastOrderAt !== null) {
    const spanDays = (Date.parse(customer.lastOrderAt) - Date.parse(customer.firstOrderAt)) / DAY_MS;
    frequency = Math.round((spanDays / (orders - 1)) * 10) / 10;
  }
  return {
    totalOrders: orders,
    totalSpentCents: customer.totalSpentCents,
    averageOrderValueCents: average,
    ltvCents: orders > 0 ? Math.round(orders * (customer.totalSpentCents / orders)) : 0,
    purchaseFrequencyDays: frequency,
    firstOrderAt: customer.firstOrderAt,
    lastOrderAt: customer.lastOrderAt,
    lastOrderNumber: customer.lastOrderNumber,
  };
}

/**
 * Everything staff see about one customer's standing, by id or from a customer already read.
 * Throws UserError('customer_not_found').
 */
export async function getCustomerProfile(
  db: Db,
  clock: Clock,
  customerOrId: number | Customer,
  options: { atRiskDays: number },
): Promise<CustomerProfile> {
  const customer = typeof customerOrId === 'number' ? await findCustomerById(db, customerOrId) : customerOrId;
  if (!customer) throw new UserError('customer_not_found', `No customer with id ${customerOrId as number}.`);
  const referralsCount = await countReferrals(db, customer.id);
  return {
    customer,
    statistics: computeStatistics(customer),
    segment: segmentFor(customer.ordersCount),
    atRisk: isAtRisk(customer, clock.now(), options.atRiskDays),
    badges: badgesFor(customer.ordersCount),
    referralsCount,
  };
}
