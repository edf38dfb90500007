import { describe, expect, it } from 'vitest';
import { planRoleChanges, type PlanAssignment, type PlanInput, type PlanRule, type PlanSubscription, type RolePlan } from '../../../src/domain/roles/plan.js';
import type { OrderStatus, SubscriptionStatus } from '../../../src/domain/customers/types.js';

const GUILD = '3000000000000000001';
const VIP = '3000000000000000010';
const SUPPORTER = '3000000000000000011';
const UNMANAGED = '3000000000000000012';
const ME = '3000000000000000100';
const OLD_ME = '3000000000000000101';
const NOW = new Date('2026-11-22T12:00:00.000Z');
const HOUR = 3_600_000;

const at = (offsetHours: number) => new Date(NOW.getTime() + offsetHours * HOUR).toISOString();

function rule(overrides: Partial<PlanRule> = {}): PlanRule {
  return {
    productId: 5,
    roleId: VIP,
    guildId: GUILD,
    revokeOnRefund: true,
    revokeOnChargeback: true,
    revokeOnSubscriptionEnd: true,
    gracePeriodHours: 72,
    ...overrides,
  };
}

function plan(overrides: Partial<PlanInput>): RolePlan {
  return planRoleChanges({ rules: [rule()], orders: [], subscriptions: [], now: NOW, banned: false, discordUserId: ME, assignments: [], ...overrides });
}

const granted = (roleId: string, discordUserId = ME): PlanAssignment => ({ guildId: GUILD, discordUserId, roleId, state: 'granted' });
const revoked = (roleId: string, discordUserId = ME): PlanAssignment => ({ guildId: GUILD, discordUserId, roleId, state: 'revoked' });

const ORDER_STATUSES: OrderStatus[] = ['pending', 'paid', 'completed', 'refunded', 'cancelled', 'failed', 'disputed'];
const SUB_STATUSES: SubscriptionStatus[] = ['active', 'cancelled', 'payment_failed', 'expired'];

/** The rule, restated independently of the implementation. */
function orderEntitles(status: OrderStatus, r: PlanRule): boolean {
  if (status === 'paid' || status === 'completed') return true;
  if (status === 'refunded') return !r.revokeOnRefund;
  if (status === 'disputed') return !r.revokeOnChargeback;
  return false;
}

describe('which orders entitle a customer to a role', () => {
  const cases: Array<{ status: OrderStatus; revokeOnRefund: boolean; revokeOnChargeback: boolean }> = [];
  for (const status of ORDER_STATUSES) for (const revokeOnRefund of [true, false]) for (const revokeOnChargeback of [true, false]) cases.push({ status, revokeOnRefund, revokeOnChargeback });

  it.each(cases)('an order $status with revoke_on_refund=$revokeOnRefund and revoke_on_chargeback=$revokeOnChargeback follows the rule', ({ status, revokeOnRefund, revokeOnChargeback }) => {
    const r = rule({ revokeOnRefund, revokeOnChargeback });
    const result = plan({ rules: [r], orders: [{ id: 1, orderNumber: 'ORD-1', status, productIds: [5] }] });
    const expected = orderEntitles(status, r);
    expect(result.desired.has(VIP)).toBe(expected);
    expect(result.grants.map((g) => g.roleId)).toEqual(expected ? [VIP] : []);
  });

  it('ignores orders for products no rule maps', () => {
    const result = plan({ orders: [{ id: 1, status: 'completed', productIds: [6, 7] }] });
    expect(result.desired.size).toBe(0);
    expect(result.grants).toEqual([]);
  });

  it('keeps the role while another order of the same product still counts after one is refunded', () => {
    const result = plan({
      orders: [
        { id: 1, status: 'refunded', productIds: [5] },
        { id: 2, status: 'completed', productIds: [5] },
      ],
      assignments: [granted(VIP)],
    });
    expect(result.desired.has(VIP)).toBe(true);
    expect(result.revokes).toEqual([]);
  });

  it('grants a role that two products map to when either was bought', () => {
    const result = plan({ rules: [rule({ productId: 5 }), rule({ productId: 6 })], orders: [{ id: 1, status: 'paid', productIds: [6] }] });
    expect([...result.desired]).toEqual([VIP]);
    expect(result.grants).toHaveLength(1);
  });

  it('names the order in the audit-log reason of a grant', () => {
    const result = plan({ orders: [{ id: 1, orderNumber: 'ORD-2026-00001', status: 'completed', productIds: [5] }] });
    expect(result.grants[0]).toMatchObject({ action: 'add', guildId: GUILD, discordUserId: ME, roleId: VIP });
    expect(result.grants[0]!.reason).toContain('ORD-2026-00001');
  });
});

describe('which subscriptions entitle a customer to a role', () => {
  // period end and failure time relative to now, in hours; null = not set
  const table: Array<{ status: SubscriptionStatus; periodEnd: number | null; failedAgo: number | null; grace: number; revokeOnEnd: boolean; expected: boolean }> = [
    { status: 'active', periodEnd: 24, failedAgo: null, grace: 72, revokeOnEnd: true, expected: true },
    { status: 'active', periodEnd: -24, failedAgo: null, grace: 72, revokeOnEnd: true, expected: true },
    { status: 'active', periodEnd: null, failedAgo: null, grace: 72, revokeOnEnd: true, expected: true },
    { status: 'cancelled', periodEnd: 24, failedAgo: null, grace: 72, revokeOnEnd: true, expected: true },
    { status: 'cancelled', periodEnd: -1, failedAgo: null, grace: 72, revokeOnEnd: true, expected: false },
    { status: 'cancelled', periodEnd: 0, failedAgo: null, grace: 72, revokeOnEnd: true, expected: false },
    { status: 'cancelled', periodEnd: null, failedAgo: null, grace: 72, revokeOnEnd: true, expected: false },
    { status: 'cancelled', periodEnd: -1, failedAgo: null, grace: 72, revokeOnEnd: false, expected: true },
    { status: 'payment_failed', periodEnd: -5, failedAgo: 5, grace: 72, revokeOnEnd: true, expected: true },
    { status: 'payment_failed', periodEnd: -80, failedAgo: 71, grace: 72, revokeOnEnd: true, expected: true },
    { status: 'payment_failed', periodEnd: -80, failedAgo: 72, grace: 72, revokeOnEnd: true, expected: false },
    { status: 'payment_failed', periodEnd: -80, failedAgo: 73, grace: 72, revokeOnEnd: true, expected: false },
    { status: 'payment_failed', periodEnd: -2, failedAgo: 2, grace: 0, revokeOnEnd: true, expected: false },
    { status: 'payment_failed', periodEnd: 48, failedAgo: 100, grace: 24, revokeOnEnd: true, expected: true },
    { status: 'payment_failed', periodEnd: -200, failedAgo: 200, grace: 72, revokeOnEnd: false, expected: true },
    { status: 'payment_failed', periodEnd: null, failedAgo: null, grace: 72, revokeOnEnd: true, expected: false },
    { status: 'expired', periodEnd: -1, failedAgo: null, grace: 72, revokeOnEnd: true, expected: false },
    { status: 'expired', periodEnd: 10, failedAgo: null, grace: 72, revokeOnEnd: true, expected: false },
    { status: 'expired', periodEnd: -1, failedAgo: null, grace: 72, revokeOnEnd: false, expected: true },
  ];

  it.each(table)(
    'a $status subscription (period end $periodEnd h, failed $failedAgo h ago, grace $grace h, revoke_on_subscription_end=$revokeOnEnd) gives the role: $expected',
    ({ status, periodEnd, failedAgo, grace, revokeOnEnd, expected }) => {
      const sub: PlanSubscription = {
        id: 9,
        productId: 5,
        status,
        currentPeriodEnd: periodEnd === null ? null : at(periodEnd),
        failedAt: failedAgo === null ? null : at(-failedAgo),
      };
      const result = plan({ rules: [rule({ gracePeriodHours: grace, revokeOnSubscriptionEnd: revokeOnEnd })], subscriptions: [sub], assignments: [granted(VIP)] });
      expect(result.desired.has(VIP)).toBe(expected);
      expect(result.revokes.map((r) => r.roleId)).toEqual(expected ? [] : [VIP]);
    },
  );

  it('covers every subscription status in the table', () => {
    expect(new Set(table.map((t) => t.status))).toEqual(new Set(SUB_STATUSES));
  });
});

describe('bans', () => {
  it('withholds a new grant from a banned customer and lists it', () => {
    const result = plan({ banned: true, orders: [{ id: 1, status: 'completed', productIds: [5] }] });
    expect(result.grants).toEqual([]);
    expect(result.blockedByBan).toEqual([VIP]);
    expect(result.desired.has(VIP)).toBe(true);
  });

  it('leaves roles a banned customer already holds, but still revokes them on refund', () => {
    const kept = plan({ banned: true, orders: [{ id: 1, status: 'completed', productIds: [5] }], assignments: [granted(VIP)] });
    expect(kept).toMatchObject({ grants: [], revokes: [], blockedByBan: [] });
    const refunded = plan({ banned: true, orders: [{ id: 1, status: 'refunded', productIds: [5] }], assignments: [granted(VIP)] });
    expect(refunded.revokes.map((r) => r.roleId)).toEqual([VIP]);
  });
});

describe('linked accounts', () => {
  it("revokes every role held by the customer's previous Discord account and grants them to the new one", () => {
    const result = plan({
      rules: [rule(), rule({ productId: 7, roleId: SUPPORTER })],
      orders: [{ id: 1, status: 'completed', productIds: [5] }],
      assignments: [granted(VIP, OLD_ME), granted(UNMANAGED, OLD_ME), revoked(SUPPORTER, OLD_ME)],
    });
    expect(result.revokes.map((r) => [r.discordUserId, r.roleId])).toEqual([
      [OLD_ME, VIP],
      [OLD_ME, UNMANAGED],
    ]);
    expect(result.grants.map((g) => [g.discordUserId, g.roleId])).toEqual([[ME, VIP]]);
  });

  it('grants nothing without a linked account, and takes roles back from an unlinked one', () => {
    const result = plan({ discordUserId: null, orders: [{ id: 1, status: 'completed', productIds: [5] }], assignments: [granted(VIP, OLD_ME)] });
    expect(result.grants).toEqual([]);
    expect(result.blockedByBan).toEqual([]);
    expect(result.revokes.map((r) => r.discordUserId)).toEqual([OLD_ME]);
  });

  it('leaves a role no rule maps any more on the linked account', () => {
    const result = plan({ assignments: [granted(UNMANAGED)] });
    expect(result.revokes).toEqual([]);
  });
});

describe('properties over every combination', () => {
  type Case = { status: OrderStatus | null; refund: boolean; chargeback: boolean; banned: boolean; held: 'none' | 'granted' | 'revoked'; oldHeld: boolean; linked: boolean };
  const cases: Case[] = [];
  for (const status of [null, ...ORDER_STATUSES])
    for (const refund of [true, false])
      for (const chargeback of [true, false])
        for (const banned of [true, false])
          for (const held of ['none', 'granted', 'revoked'] as const)
            for (const oldHeld of [true, false]) for (const linked of [true, false]) cases.push({ status, refund, chargeback, banned, held, oldHeld, linked });

  function inputOf(c: Case): PlanInput {
    const r = rule({ revokeOnRefund: c.refund, revokeOnChargeback: c.chargeback });
    const assignments: PlanAssignment[] = [];
    if (c.held !== 'none') assignments.push(c.held === 'granted' ? granted(VIP) : revoked(VIP));
    if (c.oldHeld) assignments.push(granted(VIP, OLD_ME));
    return {
      rules: [r],
      orders: c.status === null ? [] : [{ id: 1, status: c.status, productIds: [5] }],
      subscriptions: [],
      now: NOW,
      banned: c.banned,
      discordUserId: c.linked ? ME : null,
      assignments,
    };
  }

  /** The assignments after the plan's changes were applied. */
  function applied(input: PlanInput, result: RolePlan): PlanAssignment[] {
    const map = new Map(input.assignments.map((a) => [`${a.discordUserId}:${a.roleId}`, a]));
    for (const g of result.grants) map.set(`${g.discordUserId}:${g.roleId}`, { guildId: g.guildId, discordUserId: g.discordUserId, roleId: g.roleId, state: 'granted' });
    for (const r of result.revokes) map.set(`${r.discordUserId}:${r.roleId}`, { guildId: r.guildId, discordUserId: r.discordUserId, roleId: r.roleId, state: 'revoked' });
    return [...map.values()];
  }

  it(`holds for all ${cases.length} combinations of order, rule flags, ban, assignments and link`, () => {
    expect(cases.length).toBe(8 * 2 * 2 * 2 * 3 * 2 * 2);
    for (const c of cases) {
      const input = inputOf(c);
      const result = planRoleChanges(input);
      const label = JSON.stringify(c);
      const entitled = c.status !== null && orderEntitles(c.status, input.rules[0]!);
      const heldNow = c.linked && c.held === 'granted';

      expect(result.desired.has(VIP), label).toBe(entitled);
      // Grants go only to the linked account, only for entitled roles it does not hold, never while banned.
      expect(result.grants.length, label).toBe(c.linked && entitled && !heldNow && !c.banned ? 1 : 0);
      expect(result.blockedByBan.length, label).toBe(c.linked && entitled && !heldNow && c.banned ? 1 : 0);
      for (const g of result.grants) expect(g.discordUserId, label).toBe(ME);
      // Revokes: an account that is not (or no longer) linked always loses it; the linked one only when no longer entitled.
      const meHolds = c.held === 'granted';
      const expectedRevokes = (c.oldHeld ? 1 : 0) + (meHolds && (!c.linked || !entitled) ? 1 : 0);
      expect(result.revokes.length, label).toBe(expectedRevokes);
      for (const r of result.revokes) expect(r.discordUserId !== input.discordUserId || !entitled, label).toBe(true);
      // Never both ways for the same member and role.
      const granting = new Set(result.grants.map((g) => `${g.discordUserId}:${g.roleId}`));
      for (const r of result.revokes) expect(granting.has(`${r.discordUserId}:${r.roleId}`), label).toBe(false);

      // Applying the plan reaches a fixed point: planning again changes nothing (nothing is granted twice).
      const again = planRoleChanges({ ...input, assignments: applied(input, result) });
      expect(again.grants, label).toEqual([]);
      expect(again.revokes, label).toEqual([]);
      expect(again.blockedByBan, label).toEqual(result.blockedByBan);
    }
  });
});

describe('taking back roles no rule maps any more', () => {
  it('leaves a role whose rule is gone unless it is named for take-back', () => {
    const assignments = [granted(UNMANAGED), granted(VIP)];
    const orders = [{ id: 1, status: 'completed' as const, productIds: [5] }];
    expect(plan({ assignments, orders }).revokes).toEqual([]);
    const taken = plan({ assignments, orders, takeBack: new Set([UNMANAGED]) });
    expect(taken.revokes).toEqual([{ action: 'remove', guildId: GUILD, discordUserId: ME, roleId: UNMANAGED, reason: 'The store rule that gave this role was removed' }]);
  });

  it('keeps a role named for take-back when a remaining rule still entitles the customer to it', () => {
    const result = plan({ assignments: [granted(VIP)], orders: [{ id: 1, status: 'paid', productIds: [5] }], takeBack: new Set([VIP]) });
    expect(result.revokes).toEqual([]);
  });

  it("takes back every granted role of an erased customer, mapped or not, and nothing they do not hold", () => {
    const result = plan({ rules: [rule()], assignments: [granted(VIP), granted(UNMANAGED), revoked(SUPPORTER)], takeBack: 'all' });
    expect(result.revokes.map((r) => r.roleId).sort()).toEqual([VIP, UNMANAGED].sort());
  });
});
