import { describe, expect, it } from 'vitest';
import { createBan, liftBan } from '../../../src/domain/bans/bans.js';
import type { ManualClock } from '../../../src/shared/clock.js';
import { addRoleRule } from '../../../src/domain/roles/rules.js';
import {
  backfillRoleRules,
  describeCustomerRoles,
  reconcileCustomerRoles,
  reconcileDiscordMember,
  retryCustomerRoleJobs,
  sweepTimedRoleChanges,
} from '../../../src/domain/roles/sync.js';
import { listStaffAlerts } from '../../../src/domain/alerts/staff-alerts.js';
import type { Customer } from '../../../src/domain/customers/types.js';
import { insertCustomer } from '../../../src/domain/customers/registration.js';
import type { Db } from '../../../src/store/database.js';
import { setOrderStatus, upsertOrder } from '../../../src/store/order.repository.js';
import type { SubscriptionStatus } from '../../../src/shared/vocabulary.js';
import { useTestContext } from '../../support/context.js';

const GUILD = '3000000000000000001';
const VIP = '3000000000000000010';
const SUPPORTER = '3000000000000000011';
const ALICE_DISCORD = '3000000000000000100';
const ALICE_NEW_DISCORD = '3000000000000000101';
const STAFF = { id: '3000000000000000900', name: 'Sam Staff' };
const HOUR = 3_600_000;

let db: Db;
let clock: ManualClock;
let alice: Customer;

useTestContext(async (context) => {
  ({ db, clock } = context);
  alice = await insertCustomer(db, clock, { name: 'Alice Johnson', email: 'alice@example.com', discord: { id: ALICE_DISCORD, username: 'alice_j' } });
  await addRoleRule(db, clock, { productId: 5, roleId: VIP, guildId: GUILD, actor: STAFF });
  await addRoleRule(db, clock, { productId: 7, roleId: SUPPORTER, guildId: GUILD, gracePeriodHours: 48, actor: STAFF });
});

let nextOrder = 1;
async function buy(customer: Customer, productId = 5, status: 'completed' | 'paid' | 'pending' = 'completed') {
  const id = nextOrder++;
  return upsertOrder(db, clock, {
    id,
    orderNumber: `ORD-2026-${String(id).padStart(5, '0')}`,
    customerId: customer.id,
    status,
    totalCents: 999,
    currency: 'USD',
    createdAt: clock.now().toISOString(),
    completedAt: status === 'pending' ? null : clock.now().toISOString(),
    items: [{ productId, productName: productId === 5 ? 'VIP Rank' : 'Supporter', quantity: 1, priceCents: 999 }],
  });
}

async function subscribe(customer: Customer, status: SubscriptionStatus, periodEnd: string | null, updatedAt = clock.now().toISOString()) {
  const now = clock.now().toISOString();
  await db.insertInto('products').values({ id: 7, name: 'Supporter', created_at: now, updated_at: now }).onConflict((oc) => oc.column('id').doNothing()).execute();
  await db
    .insertInto('subscriptions')
    .values({ id: 70, customer_id: customer.id, product_id: 7, status, current_period_end: periodEnd, created_at: now, cancelled_at: null, updated_at: updatedAt })
    .onConflict((oc) => oc.column('id').doUpdateSet({ status, current_period_end: periodEnd, updated_at: updatedAt }))
    .execute();
}

const jobs = () => db.selectFrom('role_jobs').select(['id', 'discord_user_id', 'role_id', 'action', 'status', 'reason']).orderBy('id').execute();
const openJobs = async () => (await jobs()).filter((j) => ['pending', 'waiting_member', 'needs_attention'].includes(j.status));

async function markApplied(discordUserId: string, roleId: string, state: 'granted' | 'revoked') {
  const now = clock.now().toISOString();
  await db
    .insertInto('role_assignments')
    .values({ guild_id: GUILD, discord_user_id: discordUserId, role_id: roleId, customer_id: alice.id, state, updated_at: now })
    .onConflict((oc) => oc.columns(['guild_id', 'discord_user_id', 'role_id']).doUpdateSet({ state, updated_at: now }))
    .execute();
  await db.updateTable('role_jobs').set({ status: 'done' }).where('discord_user_id', '=', discordUserId).where('role_id', '=', roleId).where('status', '=', 'pending').execute();
}

describe('reconciling a customer after a purchase', () => {
  it('queues one grant for the linked member, naming the order in the audit-log reason', async () => {
    const order = await buy(alice);
    const result = await reconcileCustomerRoles(db, clock, alice.id, { eventType: 'order.paid', orderId: order.id });
    expect(result).toEqual({ enqueued: 1, removals: [], blockedByBan: [] });
    const [job] = await jobs();
    expect(job).toMatchObject({ discord_user_id: ALICE_DISCORD, role_id: VIP, action: 'add', status: 'pending' });
    expect(job!.reason).toContain(order.orderNumber);
    expect(job!.reason).toContain('order.paid');
  });

  it('queues nothing more when the same purchase is reconciled again (duplicate events)', async () => {
    const order = await buy(alice);
    for (let i = 0; i < 3; i++) await reconcileCustomerRoles(db, clock, alice.id, { eventType: 'order.paid', orderId: order.id });
    expect(await jobs()).toHaveLength(1);
  });

  it('queues nothing for a pending order', async () => {
    await buy(alice, 5, 'pending');
    expect((await reconcileCustomerRoles(db, clock, alice.id)).enqueued).toBe(0);
  });

  it('runs inside the transaction it is given, so a rolled-back purchase queues nothing', async () => {
    const order = await buy(alice);
    await expect(
      db.transaction().execute(async (trx) => {
        await reconcileCustomerRoles(trx, clock, alice.id, { eventType: 'order.paid', orderId: order.id });
        throw new Error('the event processor failed after reconciling');
      }),
    ).rejects.toThrow('failed after reconciling');
    expect(await jobs()).toEqual([]);
  });

  it('takes a granted role back on refund', async () => {
    const order = await buy(alice);
    await reconcileCustomerRoles(db, clock, alice.id);
    await markApplied(ALICE_DISCORD, VIP, 'granted');
    await setOrderStatus(db, clock, order.id, 'refunded');
    expect((await reconcileCustomerRoles(db, clock, alice.id, { eventType: 'order.refunded', orderId: order.id })).enqueued).toBe(1);
    expect(await openJobs()).toMatchObject([{ action: 'remove', role_id: VIP }]);
  });

  it('withdraws a grant that never reached Discord when the order is refunded, with no removal call, keeping one open job per member and role', async () => {
    const order = await buy(alice);
    await reconcileCustomerRoles(db, clock, alice.id);
    await setOrderStatus(db, clock, order.id, 'refunded');
    await reconcileCustomerRoles(db, clock, alice.id);
    expect(await openJobs()).toEqual([]);
    await setOrderStatus(db, clock, order.id, 'completed');
    await reconcileCustomerRoles(db, clock, alice.id);
    expect((await jobs()).map((j) => [j.action, j.status])).toEqual([
      ['add', 'superseded'],
      ['add', 'pending'],
    ]);
  });

  it('replaces a grant that may have reached Discord (a worker holds it) with a removal when the order is refunded', async () => {
    const order = await buy(alice);
    await reconcileCustomerRoles(db, clock, alice.id);
    await db.updateTable('role_jobs').set({ lease_until: new Date(clock.now().getTime() + 60_000).toISOString() }).execute();
    await setOrderStatus(db, clock, order.id, 'refunded');
    await reconcileCustomerRoles(db, clock, alice.id);
    expect((await jobs()).map((j) => [j.action, j.status])).toEqual([
      ['add', 'superseded'],
      ['remove', 'pending'],
    ]);
  });

  it('lets the database refuse a second open job for the same member and role', async () => {
    const now = clock.now().toISOString();
    const job = { guild_id: GUILD, discord_user_id: ALICE_DISCORD, role_id: VIP, action: 'add' as const, customer_id: alice.id, reason: 'x', status: 'pending' as const, next_attempt_at: now, created_at: now, updated_at: now };
    await db.insertInto('role_jobs').values(job).execute();
    await expect(db.insertInto('role_jobs').values({ ...job, status: 'waiting_member' }).execute()).rejects.toThrow(/UNIQUE|unique constraint/);
    await db.insertInto('role_jobs').values({ ...job, status: 'done' }).execute();
  });
});

describe('banned customers', () => {
  it('records no grant for a banned customer and tells staff once per order', async () => {
    await createBan(db, clock, { type: 'customer', target: String(alice.id), duration: 'permanent', reason: 'chargeback abuse', actor: STAFF });
    const order = await buy(alice);
    const first = await reconcileCustomerRoles(db, clock, alice.id, { eventType: 'order.paid', orderId: order.id });
    await reconcileCustomerRoles(db, clock, alice.id, { eventType: 'order.completed', orderId: order.id });
    expect(first).toEqual({ enqueued: 0, removals: [], blockedByBan: [VIP] });
    expect(await jobs()).toEqual([]);
    const alerts = await listStaffAlerts(db);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain(`Order ${order.orderNumber} by banned customer #${alice.id}`);
    expect(alerts[0]!.message).toContain('was recorded but no roles were granted');
    expect(alerts[0]!.message).toContain(`<@&${VIP}>`);
  });

  it('withholds a grant that was still waiting in the queue when the ban came', async () => {
    await buy(alice);
    await reconcileCustomerRoles(db, clock, alice.id);
    await createBan(db, clock, { type: 'discord', target: ALICE_DISCORD, duration: 'permanent', reason: 'fraud', actor: STAFF });
    expect((await reconcileCustomerRoles(db, clock, alice.id)).blockedByBan).toEqual([VIP]);
    expect(await openJobs()).toEqual([]);
  });

  it('keeps the roles a customer held before the ban', async () => {
    await buy(alice);
    await reconcileCustomerRoles(db, clock, alice.id);
    await markApplied(ALICE_DISCORD, VIP, 'granted');
    await createBan(db, clock, { type: 'customer', target: String(alice.id), duration: 'permanent', reason: 'fraud', actor: STAFF });
    expect(await reconcileCustomerRoles(db, clock, alice.id)).toEqual({ enqueued: 0, removals: [], blockedByBan: [] });
    expect(await openJobs()).toEqual([]);
  });

  it('grants the withheld role once the ban is lifted, at the next sweep', async () => {
    const ban = await createBan(db, clock, { type: 'customer', target: String(alice.id), duration: 'permanent', reason: 'mistake', actor: STAFF });
    await buy(alice);
    await reconcileCustomerRoles(db, clock, alice.id);
    await sweepTimedRoleChanges(db, clock);
    clock.advance(60_000);
    await liftBan(db, clock, { banId: ban.id, actor: STAFF });
    clock.advance(60_000);
    expect(await sweepTimedRoleChanges(db, clock)).toEqual({ reconciled: 1 });
    expect(await openJobs()).toMatchObject([{ action: 'add', role_id: VIP }]);
  });
});

describe('linking and re-linking Discord', () => {
  it('grants retroactively when a customer links Discord after buying', async () => {
    const bob = await insertCustomer(db, clock, { name: 'Bob', email: 'bob@example.com' });
    await buy(bob);
    expect((await reconcileCustomerRoles(db, clock, bob.id)).enqueued).toBe(0);
    await db.updateTable('customers').set({ discord_id: '3000000000000000200' }).where('id', '=', bob.id).execute();
    expect((await reconcileCustomerRoles(db, clock, bob.id, { eventType: 'discord.linked' })).enqueued).toBe(1);
    expect(await openJobs()).toMatchObject([{ discord_user_id: '3000000000000000200', action: 'add' }]);
  });

  it('moves the roles to the new account when the customer re-links another Discord account', async () => {
    await buy(alice);
    await reconcileCustomerRoles(db, clock, alice.id);
    await markApplied(ALICE_DISCORD, VIP, 'granted');
    await db.updateTable('customers').set({ discord_id: ALICE_NEW_DISCORD }).where('id', '=', alice.id).execute();
    await reconcileCustomerRoles(db, clock, alice.id, { eventType: 'discord.linked' });
    expect((await openJobs()).map((j) => [j.discord_user_id, j.action])).toEqual([
      [ALICE_NEW_DISCORD, 'add'],
      [ALICE_DISCORD, 'remove'],
    ]);
  });
});

describe('members joining', () => {
  it('makes the jobs that waited for a member due when they join', async () => {
    await buy(alice);
    await reconcileCustomerRoles(db, clock, alice.id);
    await db.updateTable('role_jobs').set({ status: 'waiting_member', next_attempt_at: '2026-11-23T12:00:00.000Z' }).execute();
    clock.advance(HOUR);
    const result = await reconcileDiscordMember(db, clock, GUILD, ALICE_DISCORD, []);
    expect(result).toEqual({ resumed: 1, enqueued: 0 });
    expect(await db.selectFrom('role_jobs').select(['status', 'next_attempt_at']).execute()).toEqual([{ status: 'pending', next_attempt_at: clock.now().toISOString() }]);
  });

  it('grants again to a member who left (and so lost the role) and came back', async () => {
    await buy(alice);
    await reconcileCustomerRoles(db, clock, alice.id);
    await markApplied(ALICE_DISCORD, VIP, 'granted');
    expect(await reconcileDiscordMember(db, clock, GUILD, ALICE_DISCORD, [])).toEqual({ resumed: 0, enqueued: 1 });
    expect(await openJobs()).toMatchObject([{ action: 'add', role_id: VIP }]);
  });

  it('does nothing for a member who is not a customer', async () => {
    expect(await reconcileDiscordMember(db, clock, GUILD, '3000000000000000555', [])).toEqual({ resumed: 0, enqueued: 0 });
  });
});

describe('re-sync against what Discord shows', () => {
  it('queues a grant again for a role removed by hand', async () => {
    await buy(alice);
    await reconcileCustomerRoles(db, clock, alice.id);
    await markApplied(ALICE_DISCORD, VIP, 'granted');
    expect((await reconcileCustomerRoles(db, clock, alice.id)).enqueued).toBe(0);
    const result = await reconcileCustomerRoles(db, clock, alice.id, { eventType: 'staff.resync' }, { memberRoles: { guildId: GUILD, roleIds: [] } });
    expect(result.enqueued).toBe(1);
  });

  it('records a role the member already holds instead of granting it again', async () => {
    await buy(alice);
    const result = await reconcileCustomerRoles(db, clock, alice.id, { eventType: 'staff.resync' }, { memberRoles: { guildId: GUILD, roleIds: [VIP] } });
    expect(result.enqueued).toBe(0);
    expect(await db.selectFrom('role_assignments').select(['role_id', 'state']).execute()).toEqual([{ role_id: VIP, state: 'granted' }]);
  });

  it('leaves a rule role staff gave by hand to someone who did not buy it', async () => {
    const result = await reconcileCustomerRoles(db, clock, alice.id, { eventType: 'staff.resync' }, { memberRoles: { guildId: GUILD, roleIds: [VIP] } });
    expect(result.enqueued).toBe(0);
    expect(await db.selectFrom('role_assignments').selectAll().execute()).toEqual([]);
  });

  it('puts stuck jobs back in line', async () => {
    await buy(alice);
    await reconcileCustomerRoles(db, clock, alice.id);
    await db.updateTable('role_jobs').set({ status: 'needs_attention', next_attempt_at: '2026-11-23T00:00:00.000Z' }).execute();
    expect(await retryCustomerRoleJobs(db, clock, alice.id)).toBe(1);
    expect(await openJobs()).toMatchObject([{ status: 'pending' }]);
  });

  it('describes the plan, the withheld roles and the queue for staff', async () => {
    await buy(alice);
    await reconcileCustomerRoles(db, clock, alice.id);
    const view = await describeCustomerRoles(db, clock, alice.id);
    expect(view).toMatchObject({ customerId: alice.id, discordUserId: ALICE_DISCORD, banned: false });
    expect([...view!.plan.desired]).toEqual([VIP]);
    expect(view!.jobs).toMatchObject([{ action: 'add', status: 'pending', roleId: VIP }]);
  });
});

describe('the time-based sweep', () => {
  it('takes a cancelled subscription’s role back once its paid period ends, and only then', async () => {
    await subscribe(alice, 'cancelled', '2026-11-25T00:00:00.000Z');
    await reconcileCustomerRoles(db, clock, alice.id);
    await markApplied(ALICE_DISCORD, SUPPORTER, 'granted');
    expect(await sweepTimedRoleChanges(db, clock)).toEqual({ reconciled: 0 });
    clock.set('2026-11-24T23:59:00.000Z');
    expect(await sweepTimedRoleChanges(db, clock)).toEqual({ reconciled: 0 });
    clock.set('2026-11-25T00:01:00.000Z');
    expect(await sweepTimedRoleChanges(db, clock)).toEqual({ reconciled: 1 });
    expect(await openJobs()).toMatchObject([{ action: 'remove', role_id: SUPPORTER }]);
    clock.advance(HOUR);
    expect(await sweepTimedRoleChanges(db, clock)).toEqual({ reconciled: 0 });
  });

  it('takes the role back when a failed payment runs out of its grace period', async () => {
    await subscribe(alice, 'active', '2026-11-22T11:00:00.000Z');
    await reconcileCustomerRoles(db, clock, alice.id);
    await markApplied(ALICE_DISCORD, SUPPORTER, 'granted');
    await subscribe(alice, 'payment_failed', '2026-11-22T11:00:00.000Z');
    await sweepTimedRoleChanges(db, clock);
    expect(await reconcileCustomerRoles(db, clock, alice.id)).toEqual({ enqueued: 0, removals: [], blockedByBan: [] });
    clock.advance(47 * HOUR);
    await sweepTimedRoleChanges(db, clock);
    expect(await openJobs()).toEqual([]);
    clock.advance(2 * HOUR);
    expect(await sweepTimedRoleChanges(db, clock)).toEqual({ reconciled: 1 });
    expect(await openJobs()).toMatchObject([{ action: 'remove', role_id: SUPPORTER }]);
  });

  it('skips customers the bot never gave a role', async () => {
    const bob = await insertCustomer(db, clock, { name: 'Bob', email: 'bob@example.com', discord: { id: '3000000000000000300' } });
    await subscribe(bob, 'cancelled', '2026-11-22T13:00:00.000Z');
    clock.advance(2 * HOUR);
    expect(await sweepTimedRoleChanges(db, clock)).toEqual({ reconciled: 0 });
  });

  it('grants the withheld roles when a temporary customer ban expires', async () => {
    await createBan(db, clock, { type: 'customer', target: String(alice.id), duration: '24h', reason: 'cool-off', actor: STAFF });
    await buy(alice);
    expect((await reconcileCustomerRoles(db, clock, alice.id)).blockedByBan).toEqual([VIP]);
    await sweepTimedRoleChanges(db, clock);
    clock.advance(25 * HOUR);
    expect(await sweepTimedRoleChanges(db, clock)).toEqual({ reconciled: 1 });
    expect(await openJobs()).toMatchObject([{ action: 'add', role_id: VIP }]);
  });
});

describe('backfilling a new rule', () => {
  it('gives the role to customers who bought the product before the rule existed, once', async () => {
    const GOLD = '3000000000000000020';
    const customers: Customer[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await insertCustomer(db, clock, { name: `Buyer ${i}`, email: `b${i}@example.com`, discord: { id: `30000000000000004${String(i).padStart(2, '0')}` } });
      customers.push(c);
      await buy(c, 9);
    }
    await addRoleRule(db, clock, { productId: 9, roleId: GOLD, guildId: GUILD, actor: STAFF });
    expect(await backfillRoleRules(db, clock, { batchSize: 2 })).toBe(2);
    expect(await backfillRoleRules(db, clock, { batchSize: 2 })).toBe(2);
    expect(await backfillRoleRules(db, clock, { batchSize: 2 })).toBe(1);
    expect(await backfillRoleRules(db, clock, { batchSize: 2 })).toBe(0);
    const gold = (await openJobs()).filter((j) => j.role_id === GOLD);
    expect(gold.map((j) => j.discord_user_id).sort()).toEqual(customers.map((c) => c.discord!.id).sort());
  });
});
