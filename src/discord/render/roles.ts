import { ButtonStyle, ComponentType, type APIEmbed } from 'discord.js';
import type { CustomerRolesView, RoleJob } from '../../domain/roles/sync.js';
import { customId } from '../custom-ids.js';
import { BRAND_COLOR, DANGER_COLOR, discordDate, escapeText, field, fitEmbed, type View } from './view.js';

/** A role as staff read it: its name when the bot can see it, else the mention and a warning. */
export function roleMention(name: string | undefined, roleId: string): string {
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

function jobLine(roleText: (roleId: string) => string, job: RoleJob, withError: boolean): string {
  const sign = job.action === 'add' ? '➕' : '➖';
  const attempts = job.attempts > 0 && job.status !== 'done' ? ` (${job.attempts} attempt${job.attempts === 1 ? '' : 's'})` : '';
  const when = job.status === 'done' || job.status === 'superseded' || job.status === 'failed' ? ` ${discordDate(job.updatedAt, 'R')}` : '';
  const error = withError && job.lastError ? `\n  ↳ ${escapeText(job.lastError)}` : '';
  return `${sign} ${roleText(job.roleId)} · ${JOB_STATUS_TEXT[job.status]}${attempts}${when}${error}`;
}

/** What the bot sees of one role of the guild. */
export interface GuildRoleSight {
  name: string | undefined;
  /** Why the bot cannot give or take it, or null. */
  problem: string | null;
}

/** Everything the roles view shows, as its loader read it. */
export interface RolesViewData {
  customer: { id: number; name: string };
  guildId: string;
  roles: CustomerRolesView;
  /** The member's roles in Discord now; null when not in the server (or nothing linked). */
  held: string[] | null;
  /** Every role the view names. */
  guildRoles: ReadonlyMap<string, GuildRoleSight>;
}

/**
 * The customer's roles as three views side by side: what their purchases entitle them to (the
 * plan), what the member holds in Discord right now, and the changes still queued.
 */
export function renderRolesView(data: RolesViewData, notice?: string): View {
  const { customer, guildId, roles: view, held, guildRoles } = data;
  const discordId = view.discordUserId;
  const roleText = (roleId: string) => roleMention(guildRoles.get(roleId)?.name, roleId);

  const lines: string[] = [];
  if (discordId === null) lines.push('No Discord account linked: roles are applied when the customer links one.');
  else if (held === null) lines.push(`Discord: <@${discordId}> — **not in the server**; queued roles are applied when they join.`);
  else lines.push(`Discord: <@${discordId}>`);
  if (view.banned) lines.push('🚫 Banned: no new roles are granted while a ban is active.');

  const expected = [...view.plan.desired].map((roleId) => {
    const withheld = view.plan.blockedByBan.includes(roleId) ? ' · **withheld (banned)**' : '';
    const source = view.plan.sources.get(roleId);
    return `${roleText(roleId)}${source ? ` — ${escapeText(source)}` : ''}${withheld}`;
  });
  const ruleRoles = new Set(view.rules.filter((r) => r.guildId === guildId).map((r) => r.roleId));
  const heldText =
    discordId === null ? '—' : held === null ? 'Not in the server' : held.length === 0 ? 'No roles' : held.map((id) => roleText(id)).join(', ');
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
      ...missing.map((id) => `Missing: ${roleText(id)}`),
      ...unexpected.map((id) => `Not from a purchase: ${roleText(id)}`),
    ];
    fields.push(field('Differences', diff.join('\n')));
  }
  fields.push(field(`Queued changes (${open.length})`, open.length ? open.map((j) => jobLine(roleText, j, true)).join('\n') : 'None'));
  if (recent.length > 0) fields.push(field('Recent changes', recent.map((j) => jobLine(roleText, j, j.status === 'failed')).join('\n')));
  const problems = [...new Set([...view.plan.desired, ...open.map((j) => j.roleId)])]
    .map((id) => guildRoles.get(id)?.problem ?? null)
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
          { type: ComponentType.Button, style: ButtonStyle.Primary, custom_id: customId.roleResync(customer.id), label: 'Re-sync' },
          { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: customId.rolesView(customer.id), label: 'Refresh' },
          { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: customId.profile(customer.id), label: 'Profile' },
        ],
      },
    ],
  };
}
