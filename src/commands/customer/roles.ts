import type { ChatInputCommandInteraction } from 'discord.js';
import { recordActivity } from '../../domain/customers/activity-log.js';
import { UserError } from '../../shared/errors.js';
import { describeCustomerRoles, reconcileCustomerRoles, retryCustomerRoleJobs } from '../../domain/roles/sync.js';
import type { Actor, Customer } from '../../domain/customers/types.js';
import { findCustomerById } from '../../store/customer.repository.js';
import { inTransaction } from '../../store/database.js';
import type { BotDeps } from '../context.js';
import { renderRolesView, roleMention, type RolesViewData } from '../../discord/render/roles.js';
import type { View } from '../../discord/render/view.js';
import { resolveOneCustomer } from './resolve-customer.js';
import type { RoleInspector } from '../../domain/roles/ports.js';

export interface RolesOptions {
  customer: string;
}

export function parseRolesOptions(interaction: ChatInputCommandInteraction): RolesOptions {
  return { customer: interaction.options.getString('customer', true) };
}

export function roleText(inspector: RoleInspector, guildId: string, roleId: string): string {
  return roleMention(inspector.roleName(guildId, roleId), roleId);
}

async function findCustomer(deps: BotDeps, customerId: number): Promise<Customer> {
  const customer = await findCustomerById(deps.db, customerId);
  if (!customer) throw new UserError('customer_not_found', `No customer with id ${customerId}.`);
  return customer;
}

/** What the roles view of `customer` shows: the domain's plan and jobs, and what Discord holds now. */
export async function loadRolesView(deps: BotDeps, inspector: RoleInspector, guildId: string, customer: Customer): Promise<RolesViewData> {
  const roles = await describeCustomerRoles(deps.db, deps.clock, customer.id);
  if (!roles) throw new UserError('customer_not_found', `No customer with id ${customer.id}.`);
  const discordId = roles.discordUserId;
  const held = discordId === null ? null : await inspector.memberRoles(guildId, discordId);
  const named = new Set([...roles.plan.desired, ...(held ?? []), ...roles.jobs.map((j) => j.roleId)]);
  const guildRoles = new Map([...named].map((id) => [id, { name: inspector.roleName(guildId, id), problem: inspector.manageProblem(guildId, id) }]));
  return { customer: { id: customer.id, name: customer.name }, guildId, roles, held, guildRoles };
}

/** The customer's roles: the plan, what Discord holds now, and the changes still queued. */
export async function buildRolesView(deps: BotDeps, inspector: RoleInspector, guildId: string, customerId: number, notice?: string): Promise<View> {
  return renderRolesView(await loadRolesView(deps, inspector, guildId, await findCustomer(deps, customerId)), notice);
}

export async function runRoles(deps: BotDeps, inspector: RoleInspector, guildId: string, options: RolesOptions): Promise<View> {
  const customer = await resolveOneCustomer(deps.db, options.customer);
  return renderRolesView(await loadRolesView(deps, inspector, guildId, customer));
}

/**
 * Re-sync: reads what the member holds in Discord, corrects the bot's belief (a role removed by
 * hand is granted again), puts stuck jobs back in line, queues what is missing and wakes the
 * queue, then shows the refreshed view.
 */
export async function runRoleResync(deps: BotDeps, inspector: RoleInspector, guildId: string, actor: Actor, customerId: number): Promise<View> {
  const customer = await findCustomer(deps, customerId);
  const discordId = customer.discord?.id ?? null;
  const held = discordId === null ? undefined : await inspector.memberRoles(guildId, discordId);
  const { retried, enqueued, blocked } = await inTransaction(deps.db, async (trx) => {
    const retriedJobs = await retryCustomerRoleJobs(trx, deps.clock, customerId);
    const result = await reconcileCustomerRoles(trx, deps.clock, customerId, { eventType: 'staff.resync' }, held === undefined ? {} : { memberRoles: { guildId, roleIds: held } });
    await recordActivity(trx, deps.clock, {
      actor,
      action: 'role.resync',
      targetType: 'customer',
      targetId: customerId,
      details: { retried: retriedJobs, enqueued: result.enqueued },
    });
    return { retried: retriedJobs, enqueued: result.enqueued, blocked: result.blockedByBan.length };
  });
  deps.wakeRoleWorker?.();
  const parts = [
    enqueued + retried === 0 ? 'Re-synced: nothing to change.' : `Re-synced: ${enqueued} change${enqueued === 1 ? '' : 's'} queued${retried ? `, ${retried} waiting change${retried === 1 ? '' : 's'} retried` : ''}.`,
  ];
  if (blocked > 0) parts.push(`${blocked} role${blocked === 1 ? ' is' : 's are'} withheld because the customer is banned.`);
  // The customer read above is still who they are; Discord is asked again, as the queue may have moved.
  return renderRolesView(await loadRolesView(deps, inspector, guildId, customer), parts.join(' '));
}
