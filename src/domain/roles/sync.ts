import { listBansEndedBetween } from '../../store/ban.repository.js';
import { inTransaction, type Db } from '../../store/database.js';
import { findOrderHeader, listBuyersOfProductAfter, listCustomerOrderLinesOfProducts } from '../../store/order.repository.js';
import { findCustomerIdByDiscordId, findCustomerIdsHoldingBanValue, findCustomerRoleIdentity } from '../../store/customer.repository.js';
import type { RoleJobAction, RoleJobRow, RoleJobStatus } from '../../store/schema/index.js';
import { findActiveBansForCustomer } from '../bans/bans.js';
import type { Clock } from '../../shared/clock.js';
import { isCompletedStatus } from '../../shared/vocabulary.js';
import { planRoleChanges, type PlanAssignment, type PlanInput, type PlanOrder, type PlanRule, type PlanSubscription, type RoleChange, type RolePlan } from './plan.js';
import { recordActivity } from '../customers/activity-log.js';
import { UserError } from '../../shared/errors.js';
import { findRoleRuleEvenRemoved, listRoleRules, type RoleRule } from './rules.js';
import type { Actor } from '../customers/types.js';
import { raiseStaffAlert } from '../alerts/staff-alerts.js';
import { clipText } from '../../shared/text.js';

/**
 * What made the customer's roles worth a look; carried into job reasons and alerts. Shaped like
 * the purchase event processor's cause, so its hook can pass its cause straight through.
 */
export interface RoleSyncCause {
  /** e.g. `order.paid`, `dispute.created`, `subscription.cancelled`, `discord.linked`, `staff.resync`, `member.joined`. */
  eventType: string;
  /** The inbound event id, when a purchase event caused it. */
  eventId?: string | undefined;
  /** Set when the cause is an order: a banned customer's paid order then raises a staff alert. */
  orderId?: number | undefined;
  subscriptionId?: number | undefined;
}

export interface ReconcileOptions {
  /**
   * What the linked member holds in Discord right now (a re-sync, a join): corrects the bot's
   * belief before planning, so a role removed by hand is granted again. `roleIds: null` means
   * the user is not in that guild (Discord dropped their roles when they left).
   */
  memberRoles?: { guildId: string; roleIds: readonly string[] | null } | undefined;
  /** Roles of removed rules to take back as well, when nothing else entitles the customer to them. */
  takeBack?: ReadonlySet<string> | undefined;
}

export interface ReconcileResult {
  enqueued: number;
  /** The role removals among them, as guild, member and role. */
  removals: Array<{ guildId: string; discordUserId: string; roleId: string }>;
  /** Roles withheld because the customer is banned. */
  blockedByBan: string[];
}

export const OPEN_JOB_STATUSES: readonly RoleJobStatus[] = ['pending', 'waiting_member', 'needs_attention'];

/** Discord caps audit-log reasons at 512 characters. */
const REASON_MAX = 500;

type Key = string;
const keyOf = (guildId: string, discordUserId: string, roleId: string): Key => `${guildId}:${discordUserId}:${roleId}`;

interface CustomerRoleFacts {
  customer: { id: number; name: string; discordId: string | null; erased: boolean };
  rules: RoleRule[];
  orders: PlanOrder[];
  subscriptions: PlanSubscription[];
  banned: boolean;
  assignments: Array<PlanAssignment & { customerId: number | null }>;
  openJobs: RoleJobRow[];
}

/** A failure with no `failed_at` (rows older than the column) is timed from the row's last update, the nearest to it. */
function failedAtOf(row: { updated_at: string }): string | null {
  const failedAt = (row as { failed_at?: unknown }).failed_at;
  return typeof failedAt === 'string' ? failedAt : row.updated_at;
}

async function loadFacts(db: Db, clock: Clock, customerId: number): Promise<CustomerRoleFacts | undefined> {
  const customer = await findCustomerRoleIdentity(db, customerId);
  if (!customer) return undefined;
  const rules = await listRoleRules(db);
  // An erased customer's purchases still count for the accounts, but entitle nobody to a role:
  // every role the bot gave them is planned for removal.
  const productIds = customer.erased_at === null ? [...new Set(rules.map((r) => r.productId))] : [];

  const orders = new Map<number, PlanOrder & { productIds: number[] }>();
  const subscriptions: PlanSubscription[] = [];
  if (productIds.length > 0) {
    const rows = await listCustomerOrderLinesOfProducts(db, customerId, productIds);
    for (const row of rows) {
      const order = orders.get(row.id) ?? { id: row.id, orderNumber: row.order_number, status: row.status, productIds: [] };
      if (row.product_id !== null) order.productIds.push(row.product_id);
      orders.set(row.id, order);
    }
    const subs = await db
      .selectFrom('subscriptions')
      .selectAll()
      .where('customer_id', '=', customerId)
      .where('product_id', 'in', productIds)
      .execute();
    for (const sub of subs) {
      if (sub.product_id === null) continue;
      subscriptions.push({
        id: sub.id,
        productId: sub.product_id,
        status: sub.status,
        currentPeriodEnd: sub.current_period_end,
        failedAt: failedAtOf(sub),
      });
    }
  }

  const banned = (await findActiveBansForCustomer(db, clock, customerId)).length > 0;
  const discordId = customer.discord_id;
  const assignmentRows = await db
    .selectFrom('role_assignments')
    .selectAll()
    .where((eb) => (discordId === null ? eb('customer_id', '=', customerId) : eb.or([eb('customer_id', '=', customerId), eb('discord_user_id', '=', discordId)])))
    .execute();
  const openJobs = await db
    .selectFrom('role_jobs')
    .selectAll()
    .where('status', 'in', OPEN_JOB_STATUSES)
    .where((eb) => (discordId === null ? eb('customer_id', '=', customerId) : eb.or([eb('customer_id', '=', customerId), eb('discord_user_id', '=', discordId)])))
    .execute();

  return {
    customer: { id: customer.id, name: customer.name, discordId, erased: customer.erased_at !== null },
    rules,
    orders: [...orders.values()],
    subscriptions,
    banned,
    assignments: assignmentRows.map((a) => ({ guildId: a.guild_id, discordUserId: a.discord_user_id, roleId: a.role_id, state: a.state, customerId: a.customer_id })),
    openJobs,
  };
}

/** Records what the bot believes a member holds: the one writer of `role_assignments` rows. */
export async function setAssignment(db: Db, now: string, key: { guildId: string; discordUserId: string; roleId: string }, customerId: number | null, state: 'granted' | 'revoked'): Promise<void> {
  await db
    .insertInto('role_assignments')
    .values({ guild_id: key.guildId, discord_user_id: key.discordUserId, role_id: key.roleId, customer_id: customerId, state, updated_at: now })
    .onConflict((oc) => oc.columns(['guild_id', 'discord_user_id', 'role_id']).doUpdateSet({ customer_id: customerId, state, updated_at: now }))
    .execute();
}

/** What the bot last recorded for the job's member and role, if anything. */
export async function assignmentState(db: Db, job: Pick<RoleJobRow, 'guild_id' | 'discord_user_id' | 'role_id'>): Promise<'granted' | 'revoked' | undefined> {
  const row = await db
    .selectFrom('role_assignments')
    .select('state')
    .where('guild_id', '=', job.guild_id)
    .where('discord_user_id', '=', job.discord_user_id)
    .where('role_id', '=', job.role_id)
    .executeTakeFirst();
  return row?.state;
}

/**
 * Brings the bot's belief about the linked member in line with what Discord shows: a role the
 * bot granted but the member lacks was removed by hand (or the member left), and a desired role
 * the member already holds needs no grant. A role the member holds that no purchase entitles
 * them to (staff gave it by hand) is not the bot's, so it is left alone.
 */
async function correctFromMember(
  db: Db,
  now: string,
  facts: CustomerRoleFacts,
  desired: ReadonlySet<string>,
  memberRoles: NonNullable<ReconcileOptions['memberRoles']>,
): Promise<void> {
  const current = facts.customer.discordId;
  if (current === null) return;
  const held = new Set(memberRoles.roleIds ?? []);
  const ruleRoles = new Set(facts.rules.filter((r) => r.guildId === memberRoles.guildId).map((r) => r.roleId));
  for (const roleId of ruleRoles) {
    const key = { guildId: memberRoles.guildId, discordUserId: current, roleId };
    const row = facts.assignments.find((a) => a.guildId === key.guildId && a.discordUserId === current && a.roleId === roleId);
    let truth: 'granted' | 'revoked' | undefined;
    if (row?.state === 'granted' && !held.has(roleId)) truth = 'revoked';
    else if (row?.state !== 'granted' && held.has(roleId) && desired.has(roleId)) truth = 'granted';
    if (truth === undefined) continue;
    await setAssignment(db, now, key, facts.customer.id, truth);
    if (row) row.state = truth;
    else facts.assignments.push({ ...key, state: truth, customerId: facts.customer.id });
  }
}

/**
 * What the bot believes each member will hold once the queue has run: the open job's action when
 * there is one, else the last applied state. A banned customer's grant still waiting in the
 * queue counts as not granted, so the ban withholds it too.
 */
function believedAssignments(facts: CustomerRoleFacts): PlanAssignment[] {
  const believed = new Map<Key, PlanAssignment>();
  for (const a of facts.assignments) believed.set(keyOf(a.guildId, a.discordUserId, a.roleId), { guildId: a.guildId, discordUserId: a.discordUserId, roleId: a.roleId, state: a.state });
  for (const job of facts.openJobs) {
    const key = keyOf(job.guild_id, job.discord_user_id, job.role_id);
    const applied = believed.get(key)?.state ?? 'revoked';
    const state = job.action === 'remove' ? 'revoked' : facts.banned && applied !== 'granted' ? applied : 'granted';
    believed.set(key, { guildId: job.guild_id, discordUserId: job.discord_user_id, roleId: job.role_id, state });
  }
  return [...believed.values()];
}

function toPlanRules(rules: readonly RoleRule[]): PlanRule[] {
  return rules.map((r) => ({
    productId: r.productId,
    roleId: r.roleId,
    guildId: r.guildId,
    revokeOnRefund: r.revokeOnRefund,
    revokeOnChargeback: r.revokeOnChargeback,
    revokeOnSubscriptionEnd: r.revokeOnSubscriptionEnd,
    gracePeriodHours: r.gracePeriodHours,
  }));
}

function planFor(facts: CustomerRoleFacts, clock: Clock, takeBack?: ReadonlySet<string>): RolePlan {
  const input: PlanInput = {
    // Erasure takes back every role the bot gave, including those of rules removed since.
    takeBack: facts.customer.erased ? 'all' : takeBack,
    rules: toPlanRules(facts.rules),
    orders: facts.orders,
    subscriptions: facts.subscriptions,
    now: clock.now(),
    banned: facts.banned,
    discordUserId: facts.customer.discordId,
    assignments: believedAssignments(facts),
  };
  return planRoleChanges(input);
}

function clipReason(text: string): string {
  // discord.js percent-encodes the reason into a header, which throws on half a surrogate pair.
  return clipText(text, REASON_MAX);
}

async function supersede(db: Db, now: string, job: RoleJobRow): Promise<void> {
  await db.updateTable('role_jobs').set({ status: 'superseded', updated_at: now }).where('id', '=', job.id).where('status', 'in', OPEN_JOB_STATUSES).execute();
}

/**
 * Supersedes an add job that never reached Discord (never claimed, never attempted) while the
 * member does not hold the role: then nothing needs taking back. False when it may have run (a
 * worker holds it, or an earlier attempt failed in a way that may still have applied it), and the
 * caller queues a removal as usual. The worker's claim checks the status, so the two cannot cross.
 */
async function withdrawUnstartedGrant(db: Db, now: string, job: RoleJobRow): Promise<boolean> {
  if ((await assignmentState(db, job)) === 'granted') return false;
  const result = await db
    .updateTable('role_jobs')
    .set({ status: 'superseded', updated_at: now })
    .where('id', '=', job.id)
    .where('status', '=', 'pending')
    .where('attempts', '=', 0)
    .where('lease_until', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

async function enqueue(db: Db, now: string, change: RoleChange, customerId: number, cause: RoleSyncCause | undefined): Promise<void> {
  const reason = clipReason(cause ? `${change.reason} [${cause.eventType}]` : change.reason);
  await db
    .insertInto('role_jobs')
    .values({
      guild_id: change.guildId,
      discord_user_id: change.discordUserId,
      role_id: change.roleId,
      action: change.action,
      customer_id: customerId,
      reason,
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

async function alertBannedOrder(db: Db, clock: Clock, facts: CustomerRoleFacts, orderId: number, withheld: readonly string[]): Promise<void> {
  const order = await findOrderHeader(db, orderId);
  // Only money that moved is worth telling staff about; a refund of that order is not a new purchase.
  if (!order || order.customer_id !== facts.customer.id || !isCompletedStatus(order.status)) return;
  const roles = withheld.length > 0 ? ` Withheld: ${withheld.map((id) => `<@&${id}>`).join(', ')}.` : '';
  await raiseStaffAlert(db, clock, {
    kind: 'banned_purchase',
    dedupeKey: bannedOrderAlertKey(order.id),
    message:
      `🚫 Order ${order.order_number} by banned customer #${facts.customer.id} (${facts.customer.name}) was recorded but no roles were granted.${roles}` +
      ` Review the ban with /customer lookup query:#${facts.customer.id}; if it is lifted, roles follow at the next re-sync.`,
  });
}

/** One alert per order, whoever notices first (role sync or the purchase event processor). */
export function bannedOrderAlertKey(orderId: number): string {
  return `banned-order:${orderId}`;
}

/**
 * Plans the customer's roles from their purchases, bans and what the bot believes each member
 * holds, and queues the changes in the transaction it is given (or its own), so a purchase and
 * the role change it causes commit together. A newer wish for the same member and role
 * supersedes the open job. Idempotent: running it twice queues nothing the second time.
 * When the cause is a paid order of a banned customer, staff get one alert per order.
 */
export async function reconcileCustomerRoles(db: Db, clock: Clock, customerId: number, cause?: RoleSyncCause, options: ReconcileOptions = {}): Promise<ReconcileResult> {
  return inTransaction(db, async (trx) => {
    const facts = await loadFacts(trx, clock, customerId);
    if (!facts) return { enqueued: 0, removals: [], blockedByBan: [] };
    const now = clock.now().toISOString();
    const current = facts.customer.discordId;

    // A member's assignments follow the account they are linked to now.
    if (current !== null && facts.assignments.some((a) => a.discordUserId === current && a.customerId !== customerId)) {
      await trx
        .updateTable('role_assignments')
        .set({ customer_id: customerId })
        .where('discord_user_id', '=', current)
        .where((eb) => eb.or([eb('customer_id', 'is', null), eb('customer_id', '!=', customerId)]))
        .execute();
    }
    if (options.memberRoles) await correctFromMember(trx, now, facts, planFor(facts, clock).desired, options.memberRoles);
    const plan = planFor(facts, clock, options.takeBack);

    const open = new Map(facts.openJobs.map((j) => [keyOf(j.guild_id, j.discord_user_id, j.role_id), j]));
    let enqueued = 0;
    const removals: ReconcileResult['removals'] = [];
    for (const change of [...plan.grants, ...plan.revokes]) {
      const job = open.get(keyOf(change.guildId, change.discordUserId, change.roleId));
      if (job?.action === change.action) continue;
      // A refund that lands before its grant ran: withdrawing the grant is enough, no removal call.
      if (job?.action === 'add' && change.action === 'remove' && (await withdrawUnstartedGrant(trx, now, job))) continue;
      if (job) await supersede(trx, now, job);
      await enqueue(trx, now, change, customerId, cause);
      enqueued++;
      if (change.action === 'remove') removals.push({ guildId: change.guildId, discordUserId: change.discordUserId, roleId: change.roleId });
    }
    if (current !== null) {
      for (const roleId of plan.blockedByBan) {
        const rule = facts.rules.find((r) => r.roleId === roleId);
        const job = rule && open.get(keyOf(rule.guildId, current, roleId));
        if (job?.action === 'add') await supersede(trx, now, job);
      }
    }
    if (facts.banned && cause?.orderId !== undefined) await alertBannedOrder(trx, clock, facts, cause.orderId, plan.blockedByBan);
    return { enqueued, removals, blockedByBan: plan.blockedByBan };
  });
}

/** Customers the bot gave the role to (or is about to), whatever rule did it. */
async function customersGivenRole(db: Db, guildId: string, roleId: string): Promise<number[]> {
  const rows = await db
    .selectFrom('role_assignments')
    .select('customer_id')
    .where('guild_id', '=', guildId)
    .where('role_id', '=', roleId)
    .where('state', '=', 'granted')
    .union(
      db
        .selectFrom('role_jobs')
        .select('customer_id')
        .where('guild_id', '=', guildId)
        .where('role_id', '=', roleId)
        .where('action', '=', 'add')
        .where('status', 'in', OPEN_JOB_STATUSES),
    )
    .execute();
  return rows.map((r) => r.customer_id).filter((id): id is number => id !== null).sort((a, b) => a - b);
}

export interface RoleTakeBack {
  /** Customers who would lose the role. */
  customerIds: number[];
  /** Discord members who would lose it (a customer may have held it on an old account too). */
  members: number;
}

/**
 * Who holds the role because the bot gave it and no rule entitles them to it any more: what
 * taking back a removed rule's role would remove. Members entitled through another rule for the
 * same role keep it, and a role staff gave by hand is not the bot's, so it is not counted.
 * Reads one customer at a time; changes nothing.
 */
export async function findRoleTakeBack(db: Db, clock: Clock, guildId: string, roleId: string): Promise<RoleTakeBack> {
  const customerIds: number[] = [];
  let members = 0;
  const takeBack = new Set([roleId]);
  for (const id of await customersGivenRole(db, guildId, roleId)) {
    const facts = await loadFacts(db, clock, id);
    if (!facts) continue;
    const losing = planFor(facts, clock, takeBack).revokes.filter((r) => r.guildId === guildId && r.roleId === roleId).length;
    if (losing === 0) continue;
    customerIds.push(id);
    members += losing;
  }
  return { customerIds, members };
}

/** Customers reconciled per transaction while taking a role back, so a big store never holds the database long. */
const TAKE_BACK_BATCH = 100;

/**
 * Staff confirmed it: the role of a removed rule is taken back, through the role queue, from
 * every member who holds it because of the bot and whom no remaining rule entitles to it.
 * Refused when the rule was added again meanwhile. Safe to repeat: a second run queues nothing.
 * Returns how many removals were queued.
 */
export async function takeBackRemovedRuleRole(db: Db, clock: Clock, input: { ruleId: number; actor: Actor }): Promise<{ rule: RoleRule; removals: number }> {
  const rule = await findRoleRuleEvenRemoved(db, input.ruleId);
  if (!rule) throw new UserError('role_rule_not_found', `There is no rule #${input.ruleId}. /customer role-rule list shows the rules.`);
  if (rule.removedAt === null) throw new UserError('role_rule_active', `Rule #${rule.id} was added again, so nothing was taken back.`);
  const { customerIds } = await findRoleTakeBack(db, clock, rule.guildId, rule.roleId);
  const takeBack = new Set([rule.roleId]);
  let removals = 0;
  for (let i = 0; i < customerIds.length; i += TAKE_BACK_BATCH) {
    await inTransaction(db, async (trx) => {
      for (const id of customerIds.slice(i, i + TAKE_BACK_BATCH)) {
        const result = await reconcileCustomerRoles(trx, clock, id, { eventType: 'role_rule.take_back' }, { takeBack });
        removals += result.removals.filter((r) => r.guildId === rule.guildId && r.roleId === rule.roleId).length;
      }
    });
  }
  await recordActivity(db, clock, {
    actor: input.actor,
    action: 'role_rule.take_back',
    targetType: 'role_rule',
    targetId: rule.id,
    details: { roleId: rule.roleId, guildId: rule.guildId, customers: customerIds.length, removals },
  });
  return { rule, removals };
}

export interface CustomerRolesView {
  customerId: number;
  discordUserId: string | null;
  banned: boolean;
  rules: RoleRule[];
  plan: RolePlan;
  /** Open jobs first (newest first), then the last few finished ones. */
  jobs: RoleJob[];
}

export interface RoleJob {
  id: number;
  guildId: string;
  discordUserId: string;
  roleId: string;
  action: RoleJobAction;
  status: RoleJobStatus;
  attempts: number;
  reason: string;
  lastError: string | null;
  nextAttemptAt: string;
  updatedAt: string;
}

export function toRoleJob(row: RoleJobRow): RoleJob {
  return {
    id: row.id,
    guildId: row.guild_id,
    discordUserId: row.discord_user_id,
    roleId: row.role_id,
    action: row.action,
    status: row.status,
    attempts: row.attempts,
    reason: row.reason,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    updatedAt: row.updated_at,
  };
}

/** What staff see in `/customer roles`: the plan (without changing anything) and the queue. */
export async function describeCustomerRoles(db: Db, clock: Clock, customerId: number): Promise<CustomerRolesView | undefined> {
  const facts = await loadFacts(db, clock, customerId);
  if (!facts) return undefined;
  const plan = planFor(facts, clock);
  const recent = await db
    .selectFrom('role_jobs')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('status', 'not in', OPEN_JOB_STATUSES)
    .orderBy('id', 'desc')
    .limit(5)
    .execute();
  const jobs = [...facts.openJobs.sort((a, b) => b.id - a.id), ...recent].map(toRoleJob);
  return { customerId, discordUserId: facts.customer.discordId, banned: facts.banned, rules: facts.rules, plan, jobs };
}

/**
 * Puts the customer's stuck jobs (waiting for the member, needing attention) back in line now:
 * staff pressed Re-sync after fixing the bot's permissions or the member joined.
 */
export async function retryCustomerRoleJobs(db: Db, clock: Clock, customerId: number): Promise<number> {
  const now = clock.now().toISOString();
  const result = await db
    .updateTable('role_jobs')
    .set({ status: 'pending', next_attempt_at: now, updated_at: now })
    .where('customer_id', '=', customerId)
    .where('status', 'in', ['waiting_member', 'needs_attention'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * guildMemberAdd: the member's waiting jobs are due now, and when the member is linked to a
 * customer their roles are reconciled against what Discord shows them holding (a returning
 * member lost every role when they left).
 */
export async function reconcileDiscordMember(
  db: Db,
  clock: Clock,
  guildId: string,
  discordUserId: string,
  memberRoleIds?: readonly string[],
): Promise<{ resumed: number; enqueued: number }> {
  return inTransaction(db, async (trx) => {
    const now = clock.now().toISOString();
    const resumed = await trx
      .updateTable('role_jobs')
      .set({ status: 'pending', next_attempt_at: now, updated_at: now })
      .where('guild_id', '=', guildId)
      .where('discord_user_id', '=', discordUserId)
      .where('status', '=', 'waiting_member')
      .executeTakeFirst();
    const customerId = await findCustomerIdByDiscordId(trx, discordUserId);
    let enqueued = 0;
    if (customerId !== undefined) {
      const result = await reconcileCustomerRoles(
        trx,
        clock,
        customerId,
        { eventType: 'member.joined' },
        memberRoleIds === undefined ? {} : { memberRoles: { guildId, roleIds: memberRoleIds } },
      );
      enqueued = result.enqueued;
    }
    return { resumed: Number(resumed.numUpdatedRows), enqueued };
  });
}

const SWEEP_NAME = 'timed';
const HOUR_MS = 3_600_000;

/**
 * Time-based revocation: reconciles the customers whose cancelled subscription reached its period
 * end, whose failed payment ran out of grace, or whose ban expired or was lifted since the last
 * sweep (the roles it withheld are granted then). Cheap by design: it reads only subscriptions whose end fell in the window, and only
 * of customers the bot has granted (or is about to grant) something.
 */
export async function sweepTimedRoleChanges(db: Db, clock: Clock): Promise<{ reconciled: number }> {
  const now = clock.now();
  const nowIso = now.toISOString();
  const state = await db.selectFrom('role_sweeps').select('swept_until').where('name', '=', SWEEP_NAME).executeTakeFirst();
  const from = state?.swept_until ?? new Date(0).toISOString();
  if (from >= nowIso) return { reconciled: 0 };

  const rules = (await listRoleRules(db)).filter((r) => r.revokeOnSubscriptionEnd);
  const candidates = new Set<number>();
  if (rules.length > 0) {
    const productIds = [...new Set(rules.map((r) => r.productId))];
    const ended = await db
      .selectFrom('subscriptions')
      .select('customer_id')
      .where('status', 'in', ['cancelled', 'payment_failed'])
      .where('product_id', 'in', productIds)
      .where('current_period_end', '>', from)
      .where('current_period_end', '<=', nowIso)
      .where('customer_id', 'in', (eb) =>
        eb
          .selectFrom('role_assignments')
          .select('customer_id')
          .where('state', '=', 'granted')
          .union(eb.selectFrom('role_jobs').select('customer_id').where('status', 'in', OPEN_JOB_STATUSES).where('action', '=', 'add')),
      )
      .execute();
    for (const row of ended) if (row.customer_id !== null) candidates.add(row.customer_id);

    // The grace period depends on the rule, and failed_at is not in every schema version: read
    // the few failed subscriptions that could have crossed their grace end, and decide here.
    const maxGraceMs = Math.max(...rules.map((r) => r.gracePeriodHours)) * HOUR_MS;
    const failed = await db
      .selectFrom('subscriptions')
      .selectAll()
      .where('status', '=', 'payment_failed')
      .where('product_id', 'in', productIds)
      .where('updated_at', '>', new Date(new Date(from).getTime() - maxGraceMs).toISOString())
      .execute();
    for (const sub of failed) {
      if (sub.customer_id === null) continue;
      const failedAt = new Date(failedAtOf(sub) ?? sub.updated_at).getTime();
      const crossed = rules.some((r) => {
        if (r.productId !== sub.product_id) return false;
        const graceEnd = failedAt + r.gracePeriodHours * HOUR_MS;
        return graceEnd > new Date(from).getTime() && graceEnd <= now.getTime();
      });
      if (crossed) candidates.add(sub.customer_id);
    }
  }

  // A ban that expired or was lifted frees the roles it withheld.
  const expiredBans = await listBansEndedBetween(db, from, nowIso);
  for (const row of expiredBans) {
    if (row.customer_id !== null) candidates.add(row.customer_id);
    // customer_id is whoever held the identifier when the ban was made (often nobody): the ban
    // also withheld roles from whoever holds it now, e.g. a Discord id a later order linked.
    for (const id of await findCustomerIdsHoldingBanValue(db, row.type, row.value)) candidates.add(id);
  }

  for (const customerId of [...candidates].sort((a, b) => a - b)) {
    await reconcileCustomerRoles(db, clock, customerId, { eventType: 'subscription.ended' });
  }
  await db
    .insertInto('role_sweeps')
    .values({ name: SWEEP_NAME, swept_until: nowIso })
    .onConflict((oc) => oc.column('name').doUpdateSet({ swept_until: nowIso }))
    .execute();
  return { reconciled: candidates.size };
}

/**
 * Gives roles to customers who bought a product before its rule existed, a batch at a time
 * (keyset over customer ids, remembered on the rule), so a new rule on a big store never holds
 * the database for long. Returns how many customers were reconciled.
 */
export async function backfillRoleRules(db: Db, clock: Clock, options: { batchSize?: number } = {}): Promise<number> {
  const batchSize = options.batchSize ?? 100;
  const rules = await db
    .selectFrom('role_rules')
    .select(['id', 'product_id', 'backfill_cursor'])
    .where('removed_at', 'is', null)
    .where('backfilled_at', 'is', null)
    .orderBy('id')
    .execute();
  let reconciled = 0;
  for (const rule of rules) {
    const buyers = await listBuyersOfProductAfter(db, rule.product_id, rule.backfill_cursor, batchSize);
    const subscribers = await db
      .selectFrom('subscriptions')
      .select('customer_id')
      .distinct()
      .where('product_id', '=', rule.product_id)
      .where('customer_id', '>', rule.backfill_cursor)
      .orderBy('customer_id')
      .limit(batchSize)
      .execute();
    const ids = [...new Set([...buyers, ...subscribers].map((r) => r.customer_id).filter((id): id is number => id !== null))].sort((a, b) => a - b).slice(0, batchSize);
    for (const id of ids) await reconcileCustomerRoles(db, clock, id, { eventType: 'role_rule.backfill' });
    reconciled += ids.length;
    const last = ids.at(-1);
    await db
      .updateTable('role_rules')
      .set(ids.length < batchSize ? { backfill_cursor: last ?? rule.backfill_cursor, backfilled_at: clock.now().toISOString() } : { backfill_cursor: last ?? rule.backfill_cursor })
      .where('id', '=', rule.id)
      .execute();
  }
  return reconciled;
}

/** Whether a role change for this Discord user still waits for its call to Discord. */
export async function hasPendingRoleJobFor(db: Db, discordUserId: string): Promise<boolean> {
  const open = await db.selectFrom('role_jobs').select('id').where('discord_user_id', '=', discordUserId).where('status', '=', 'pending').limit(1).executeTakeFirst();
  return open !== undefined;
}
