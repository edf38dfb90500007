import type { OrderStatus, SubscriptionStatus } from '../customers/types.js';

/** One product → role mapping, as the planner needs it. */
export interface PlanRule {
  productId: number;
  roleId: string;
  guildId: string;
  revokeOnRefund: boolean;
  revokeOnChargeback: boolean;
  revokeOnSubscriptionEnd: boolean;
  /** How long a subscription whose payment failed keeps the role. */
  gracePeriodHours: number;
}

export interface PlanOrder {
  id: number;
  orderNumber?: string | undefined;
  status: OrderStatus;
  productIds: readonly number[];
}

export interface PlanSubscription {
  id?: number | undefined;
  productId: number;
  status: SubscriptionStatus;
  currentPeriodEnd: string | null;
  /** When the payment failed (the row's update time when the store does not say). */
  failedAt: string | null;
}

export interface PlanAssignment {
  guildId: string;
  discordUserId: string;
  roleId: string;
  /** What the bot believes the member holds once queued changes are applied. */
  state: 'granted' | 'revoked';
}

export interface PlanInput {
  rules: readonly PlanRule[];
  orders: readonly PlanOrder[];
  subscriptions: readonly PlanSubscription[];
  now: Date;
  banned: boolean;
  /** The Discord account linked to the customer now; null when none is. */
  discordUserId: string | null;
  /** Every assignment of this customer, on any Discord account it was ever linked to. */
  assignments: readonly PlanAssignment[];
  /**
   * Roles no rule maps any more that are still taken back when nothing entitles the customer to
   * them: a removed rule's role whose take-back staff confirmed, or `'all'` for an erased customer
   * (every role the bot gave them goes).
   */
  takeBack?: ReadonlySet<string> | 'all' | undefined;
}

export interface RoleChange {
  action: 'add' | 'remove';
  guildId: string;
  discordUserId: string;
  roleId: string;
  /** Why, in words fit for Discord's audit log. */
  reason: string;
}

export interface RolePlan {
  grants: RoleChange[];
  revokes: RoleChange[];
  /** Roles the customer's purchases entitle them to, ban or not. */
  desired: Set<string>;
  /** Desired roles not granted because the customer is banned. */
  blockedByBan: string[];
  /** For each desired role, what entitles the customer to it. */
  sources: Map<string, string>;
}

const HOUR_MS = 3_600_000;

function orderCounts(rule: PlanRule, status: OrderStatus): boolean {
  switch (status) {
    case 'paid':
    case 'completed':
      return true;
    case 'refunded':
      return !rule.revokeOnRefund;
    case 'disputed':
      return !rule.revokeOnChargeback;
    default:
      return false;
  }
}

function time(iso: string | null): number {
  if (!iso) return Number.NaN;
  return new Date(iso).getTime();
}

function subscriptionCounts(rule: PlanRule, sub: PlanSubscription, now: number): boolean {
  if (!rule.revokeOnSubscriptionEnd) return true;
  switch (sub.status) {
    case 'active':
      return true;
    case 'cancelled':
      // Cancelled at period end: the customer paid for the time up to it.
      return time(sub.currentPeriodEnd) > now;
    case 'payment_failed': {
      const graceEnd = time(sub.failedAt) + rule.gracePeriodHours * HOUR_MS;
      // A failure reported before the paid period ends never cuts that period short.
      return graceEnd > now || time(sub.currentPeriodEnd) > now;
    }
    case 'expired':
      return false;
  }
}

function orderLabel(order: PlanOrder): string {
  return order.orderNumber ?? `order #${order.id}`;
}

/**
 * Decides which Discord roles a customer should hold and what must change to get there. A role
 * is desired when some rule's product was bought in an order that still counts for that rule
 * (paid or completed; refunded or disputed only when the rule does not revoke on them) or the
 * customer has a subscription to it that still runs (active, cancelled before its period end,
 * payment failed within the grace period; any at all when the rule keeps the role past the end).
 *
 * Only roles some rule maps (or `takeBack` names) are ever revoked from the linked account: a role
 * whose last rule was removed is left as it is unless staff asked for it back. Every role held by another Discord account of the customer (an old
 * link) is revoked. A banned customer gets no new grant; what they already hold follows the
 * rules as usual.
 */
export function planRoleChanges(input: PlanInput): RolePlan {
  const now = input.now.getTime();
  const desired = new Set<string>();
  const sources = new Map<string, string>();
  const guildOf = new Map<string, string>();
  for (const rule of input.rules) guildOf.set(rule.roleId, rule.guildId);

  for (const rule of input.rules) {
    if (desired.has(rule.roleId)) continue;
    const order = input.orders.find((o) => o.productIds.includes(rule.productId) && orderCounts(rule, o.status));
    if (order) {
      desired.add(rule.roleId);
      sources.set(rule.roleId, `${orderLabel(order)} (product #${rule.productId}, ${order.status})`);
      continue;
    }
    const sub = input.subscriptions.find((s) => s.productId === rule.productId && subscriptionCounts(rule, s, now));
    if (sub) {
      desired.add(rule.roleId);
      sources.set(rule.roleId, `subscription${sub.id === undefined ? '' : ` #${sub.id}`} (product #${rule.productId}, ${sub.status})`);
    }
  }

  const grants: RoleChange[] = [];
  const revokes: RoleChange[] = [];
  const blockedByBan: string[] = [];
  const current = input.discordUserId;
  const granted = (roleId: string) =>
    current !== null && input.assignments.some((a) => a.discordUserId === current && a.roleId === roleId && a.state === 'granted');

  if (current !== null) {
    for (const roleId of desired) {
      if (granted(roleId)) continue;
      if (input.banned) {
        blockedByBan.push(roleId);
        continue;
      }
      grants.push({ action: 'add', guildId: guildOf.get(roleId) ?? '', discordUserId: current, roleId, reason: `Purchase: ${sources.get(roleId) ?? 'qualifying purchase'}` });
    }
  }

  const takeBack = input.takeBack;
  const revocable = (roleId: string) => guildOf.has(roleId) || takeBack === 'all' || (takeBack?.has(roleId) ?? false);
  const revoked = new Set<string>();
  for (const a of input.assignments) {
    if (a.state !== 'granted') continue;
    const key = `${a.guildId}:${a.discordUserId}:${a.roleId}`;
    if (revoked.has(key)) continue;
    if (a.discordUserId !== current) {
      revoked.add(key);
      revokes.push({ action: 'remove', guildId: a.guildId, discordUserId: a.discordUserId, roleId: a.roleId, reason: 'The store account is now linked to another Discord account' });
    } else if (revocable(a.roleId) && !desired.has(a.roleId)) {
      revoked.add(key);
      revokes.push({
        action: 'remove',
        guildId: a.guildId,
        discordUserId: a.discordUserId,
        roleId: a.roleId,
        reason:
          takeBack !== 'all' && takeBack?.has(a.roleId)
            ? 'The store rule that gave this role was removed'
            : 'No purchase entitles the customer to this role any more (refund, chargeback or subscription end)',
      });
    }
  }

  return { grants, revokes, desired, blockedByBan, sources };
}
