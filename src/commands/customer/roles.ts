import { ButtonStyle, ComponentType, type APIEmbed, type ChatInputCommandInteraction } from 'discord.js';
import { recordActivity } from '../../domain/customers/activity-log.js';
import { UserError } from '../../shared/errors.js';
import { describeCustomerRoles, reconcileCustomerRoles, retryCustomerRoleJobs, type RoleJob } from '../../domain/roles/sync.js';
import type { Actor } from '../../domain/customers/types.js';
import { findCustomerById } from '../../store/customer.repository.js';
import { inTransaction } from '../../store/database.js';
import type { BotDeps } from '../context.js';
import { customId } from '../custom-ids.js';
import { BRAND_COLOR, DANGER_COLOR, discordDate, escapeText, field, fitEmbed, type View } from '../../discord/render/view.js';
import { resolveOneCustomer } from './resolve-customer.js';
import type { RoleInspector } from '../../domain/roles/ports.js';

export interface RolesOptions {
  customer: string;
}

export function parseRolesOptions(interaction: ChatInputCommandInteraction): RolesOptions {
  return { customer: interaction.options.getString('customer', true) };
}

export function roleText(inspector: RoleInspector, guildId: string, roleId: string): string {
  const name = inspector.roleName(guildId, roleId);
  return name === undefined ? `<@&${roleId}> (unknown role)` : `@${escapeText(name)}`;
}

const JOB_STATUS_TEXT: Record<RoleJob['status'], string> = {
  pending: 'queued',
  waiting_member: 'waiting for the member to join',
  needs_attention: '⚠️ needs attention',
  done: 'done',
  failed: '❌ failed',
  superseded: 'replaced by a newer change',
};

function jobLine(inspector: RoleInspector, guildId: string, job: RoleJob, withError: boolean): string {
  const sign = job.action === 'add' ? '➕' : '➖';
  const attempts = job.attempts > 0 && job.status !== 'done' ? ` (${job.attempts} attempt${job.attempts === 1 ? '' : 's'})` : '';
  const when = job.status === 'done' || job.status === 'superseded' || job.status === 'failed' ? ` ${discordDate(job.updatedAt, 'R')}` : '';
  const error = withError && job.lastError ? `\n  ↳ ${escapeText(job.lastError)}` : '';
  return `${sign} ${roleText(inspector, guildId, job.roleId)} · ${JOB_STATUS_TEXT[job.status]}${attempts}${when}${error}`;
}

/**
 * The customer's roles as three views side by side: what their purchases entitle them to (the
 * plan), what the member holds in Discord right now, and the changes still queued.
 */
export async function buildRolesView(deps: BotDeps, inspector: RoleInspector, guildId: string, customerId: number, notice?: string): Promise<View> {
  const customer = await findCustomerById(deps.db, customerId);
  if (!customer) throw new UserError('customer_not_found', `No customer with id ${customerId}.`);
  const view = await describeCustomerRoles(deps.db, deps.clock, customerId);
  if (!view) throw new UserError('customer_not_found', `No customer with id ${customerId}.`);
  const discordId = view.discordUserId;
  const held = discordId === null ? null : await inspector.memberRoles(guildId, discordId);

  const lines: string[] = [];
  if (discordId === null) lines.push('No Discord account linked: roles are applied when the customer links one.');
  else if (held === null) lines.push(`Discord: <@${discordId}> — **not in the server**; queued roles are applied when they join.`);
  else lines.push(`Discord: <@${discordId}>`);
  if (view.banned) lines.push('🚫 Banned: no new roles are granted while a ban is active.');

  const expected = [...view.plan.desired].map((roleId) => {
    const withheld = view.plan.blockedByBan.includes(roleId) ? ' · **withheld (banned)**' : '';
    const source = view.plan.sources.get(roleId);
    return `${roleText(inspector, guildId, roleId)}${source ? ` — ${escapeText(source)}` : ''}${withheld}`;
  });
  const ruleRoles = new Set(view.rules.filter((r) => r.guildId === guildId).map((r) => r.roleId));
  const heldText =
    discordId === null ? '—' : held === null ? 'Not in the server' : held.length === 0 ? 'No roles' : held.map((id) => roleText(inspector, guildId, id)).join(', ');
  const missing = held === null ? [] : [...view.plan.desired].filter((id) => !held.includes(id) && !view.plan.blockedByBan.includes(id));
  const unexpected = held === null ? [] : held.filter((id) => ruleRoles.has(id) && !view.plan.desired.has(id));
  const open = view.jobs.filter((j) => j.status === 'pending' || j.status === 'waiting_member' || j.status === 'needs_attention');
  const recent = view.jobs.filter((j) => !open.includes(j));

  const fields = [
    field(`Expected roles (${expected.length})`, expected.length ? expected.join('\n') : 'None: no purchase of this customer maps to a role.'),
    field('In Discord now', heldText),
  ];
  if (held !== null && discordId !== null && (missing.length > 0 || unexpected.length > 0)) {
    const diff = [
      ...missing.map((id) => `Missing: ${roleText(inspector, guildId, id)}`),
      ...unexpected.map((id) => `Not from a purchase: ${roleText(inspector, guildId, id)}`),
    ];
    fields.push(field('Differences', diff.join('\n')));
  }
  fields.push(field(`Queued changes (${open.length})`, open.length ? open.map((j) => jobLine(inspector, guildId, j, true)).join('\n') : 'None'));
  if (recent.length > 0) fields.push(field('Recent changes', recent.map((j) => jobLine(inspector, guildId, j, j.status === 'failed')).join('\n')));
  const problems = [...new Set([...view.plan.desired, ...open.map((j) => j.roleId)])]
    .map((id) => inspector.manageProblem(guildId, id))
    .filter((p): p is string => p !== null);
  if (problems.length > 0) fields.push(field('⚠️ The bot cannot manage these roles', [...new Set(problems)].join('\n')));

  const embed: APIEmbed = {
    title: `Roles · ${customer.name}`,
    description: lines.join('\n'),
    color: view.banned || open.some((j) => j.status === 'needs_attention') ? DANGER_COLOR : BRAND_COLOR,
    fields,
    footer: { text: `Customer #${customer.id} · Re-sync compares with Discord and queues what is missing.` },
  };
  return {
    content: notice ?? '',
    embeds: [fitEmbed(embed)],
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          { type: ComponentType.Button, style: ButtonStyle.Primary, custom_id: customId.roleResync(customerId), label: 'Re-sync' },
          { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: customId.rolesView(customerId), label: 'Refresh' },
          { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: customId.profile(customerId), label: 'Profile' },
        ],
      },
    ],
  };
}

export async function runRoles(deps: BotDeps, inspector: RoleInspector, guildId: string, options: RolesOptions): Promise<View> {
  const customer = await resolveOneCustomer(deps.db, options.customer);
  return buildRolesView(deps, inspector, guildId, customer.id);
}

/**
 * Re-sync: reads what the member holds in Discord, corrects the bot's belief (a role removed by
 * hand is granted again), puts stuck jobs back in line, queues what is missing and wakes the
 * queue, then shows the refreshed view.
 */
export async function runRoleResync(deps: BotDeps, inspector: RoleInspector, guildId: string, actor: Actor, customerId: number): Promise<View> {
  const customer = await findCustomerById(deps.db, customerId);
  if (!customer) throw new UserError('customer_not_found', `No customer with id ${customerId}.`);
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
  return buildRolesView(deps, inspector, guildId, customerId, parts.join(' '));
}
