/**
 * The words every layer shares: the statuses an order and a subscription can have and the kinds
 * of ban. The database columns hold exactly these strings, so the store's table types, the
 * domain's rules, the commands' choices and the API's schemas all take them from here.
 */

export const ORDER_STATUSES = ['pending', 'paid', 'completed', 'refunded', 'cancelled', 'failed', 'disputed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** The statuses that count as a completed order in every customer figure. */
export const COMPLETED_STATUSES: readonly OrderStatus[] = ['paid', 'completed'];

export function isCompletedStatus(status: OrderStatus): boolean {
  return COMPLETED_STATUSES.includes(status);
}

export const SUBSCRIPTION_STATUSES = ['active', 'cancelled', 'payment_failed', 'expired'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const BAN_TYPES = ['email', 'ip', 'discord', 'game_id', 'customer'] as const;
export type BanType = (typeof BAN_TYPES)[number];

export function isBanType(value: string): value is BanType {
  return (BAN_TYPES as readonly string[]).includes(value);
}
