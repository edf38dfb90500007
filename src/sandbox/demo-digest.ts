import { DIGEST_HISTORY_LENGTH } from '../domain/digest/digest.js';
import { computePeriod } from '../domain/digest/period.js';
import { insertSegmentSnapshot } from '../store/digest.repository.js';
import { listRegistrationTimes } from '../store/customer.repository.js';
import { listOrderTimes } from '../store/order.repository.js';
import type { Db } from '../store/database.js';
import { COMPLETED_STATUSES } from '../shared/vocabulary.js';

/** The schedule the demo's past digests ran on; the sandbox passes the configured one. */
export interface DemoDigestSchedule {
  cron: string;
  timeZone: string;
  atRiskDays: number;
}

export const DEFAULT_DEMO_SCHEDULE: DemoDigestSchedule = { cron: '0 9 * * 1', timeZone: 'UTC', atRiskDays: 90 };

const DAY = 24 * 60 * 60 * 1000;

/**
 * The segment snapshots the weekly digest would have stored at its last occurrences, counted
 * from the demo's own customers and completed orders as they stood then, so the digest chart has
 * a full history on first run and its lines agree with the store.
 */
export async function addDigestHistory(db: Db, now: number, schedule: DemoDigestSchedule): Promise<number> {
  const customers = await listRegistrationTimes(db);
  const orders = await listOrderTimes(db, COMPLETED_STATUSES);
  const occurrences: Date[] = [];
  for (let at = new Date(now); occurrences.length < DIGEST_HISTORY_LENGTH; ) {
    const period = computePeriod(schedule.cron, schedule.timeZone, at);
    occurrences.push(period.scheduledAt);
    at = new Date(period.scheduledAt.getTime() - 1);
  }
  for (const scheduledAt of occurrences.reverse()) {
    const takenAt = scheduledAt.toISOString();
    const cutoff = new Date(scheduledAt.getTime() - schedule.atRiskDays * DAY).toISOString();
    const counts = new Map<number, { orders: number; last: string }>();
    for (const order of orders) {
      const at = order.completed_at ?? order.created_at;
      if (at > takenAt || order.customer_id === null) continue;
      const seen = counts.get(order.customer_id) ?? { orders: 0, last: at };
      counts.set(order.customer_id, { orders: seen.orders + 1, last: at > seen.last ? at : seen.last });
    }
    const registered = customers.filter((customer) => customer.created_at <= takenAt);
    const ordersOf = (id: number) => counts.get(id)?.orders ?? 0;
    // Without an order a customer is never at risk: sorts after every cut-off.
    const lastOrderOf = (id: number) => counts.get(id)?.last ?? '\uffff';
    const repeatOrMore = registered.filter((customer) => ordersOf(customer.id) >= 2).length;
    const loyal = registered.filter((customer) => ordersOf(customer.id) >= 5).length;
    await insertSegmentSnapshot(db, {
      period_key: takenAt,
      taken_at: takenAt,
      new_count: registered.length - repeatOrMore,
      repeat_count: repeatOrMore - loyal,
      loyal_count: loyal,
      at_risk_count: registered.filter((customer) => lastOrderOf(customer.id) <= cutoff).length,
      customers_total: registered.length,
    });
  }
  return occurrences.length;
}
