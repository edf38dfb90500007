import type { OrderStatus, SubscriptionStatus } from '../customers/types.js';

// The platform delivers events more than once and out of order, so an event never simply sets a
// status: it is combined with what is stored, and these two pure functions decide the result.

/** What an event says happened to an order. */
export type OrderSignal = 'created' | 'paid' | 'completed' | 'refunded' | 'dispute_opened' | 'dispute_won' | 'dispute_lost';

export const ORDER_SIGNALS: readonly OrderSignal[] = ['created', 'paid', 'completed', 'refunded', 'dispute_opened', 'dispute_won', 'dispute_lost'];

/**
 * The order status after `signal`, given the stored status (`null`: not seen yet).
 *
 * - `refunded` is terminal: a paid or completed delivered after the refund (or after a lost
 *   chargeback) does not bring the order back.
 * - A chargeback (`disputed`) holds against late paid/completed events; only its resolution
 *   (won → completed, lost → refunded) or a refund ends it.
 * - Otherwise a status never moves backwards: pending < paid < completed. A late `created`
 *   keeps whatever is stored, including a cancelled or failed order; a payment revives those.
 */
export function nextOrderStatus(current: OrderStatus | null, signal: OrderSignal): OrderStatus {
  if (current === 'refunded') return 'refunded';
  switch (signal) {
    case 'refunded':
    case 'dispute_lost':
      return 'refunded';
    case 'dispute_won':
      return 'completed';
    case 'dispute_opened':
      return 'disputed';
    case 'created':
      return current ?? 'pending';
    case 'paid':
      return current === 'completed' || current === 'disputed' ? current : 'paid';
    case 'completed':
      return current === 'disputed' ? 'disputed' : 'completed';
  }
}

export type SubscriptionSignal = 'created' | 'renewed' | 'cancelled' | 'payment_failed' | 'expired';

export interface SubscriptionState {
  status: SubscriptionStatus;
  currentPeriodEnd: string | null;
}

/**
 * The subscription state after `signal`, which carries the period end it speaks about (if any).
 * The period end orders events that arrive out of order: an event about an earlier period than
 * the stored one is stale and changes nothing.
 *
 * - created / renewed → active. A renewal reactivates a cancelled, failed or expired subscription
 *   only when it brings a later period end; a renewal for the stored period that arrives after a
 *   cancellation or failure is the older of the two.
 * - cancelled keeps the period end (access lasts until then); it does not undo an expiry of the
 *   same period.
 * - payment_failed does not apply to a cancelled or expired subscription (nothing was charged),
 *   unless it is about a later period.
 * - expired is final unless a renewal with a later period follows.
 */
export function nextSubscriptionState(
  current: SubscriptionState | null,
  signal: SubscriptionSignal,
  periodEnd: string | null,
): SubscriptionState {
  if (current === null) {
    const status: SubscriptionStatus = signal === 'created' || signal === 'renewed' ? 'active' : signal;
    return { status, currentPeriodEnd: periodEnd };
  }
  const stored = current.currentPeriodEnd;
  const newer = periodEnd !== null && (stored === null || periodEnd > stored);
  const stale = periodEnd !== null && stored !== null && periodEnd < stored;
  const latestPeriod = newer ? periodEnd : stored;
  if (stale) return current;
  switch (signal) {
    case 'created':
      return { status: current.status, currentPeriodEnd: latestPeriod };
    case 'renewed':
      if (newer) return { status: 'active', currentPeriodEnd: periodEnd };
      if (periodEnd === null && current.status !== 'cancelled' && current.status !== 'expired') {
        return { status: 'active', currentPeriodEnd: stored };
      }
      return current;
    // About a later period than the stored one, both mean the store renewed meanwhile (its renewal
    // is still on the way): the stored expiry or cancellation is then the older news.
    case 'cancelled':
      return current.status === 'expired' && !newer ? current : { status: 'cancelled', currentPeriodEnd: latestPeriod };
    case 'payment_failed':
      return (current.status === 'expired' || current.status === 'cancelled') && !newer ? current : { status: 'payment_failed', currentPeriodEnd: latestPeriod };
    case 'expired':
      return { status: 'expired', currentPeriodEnd: latestPeriod };
  }
}
