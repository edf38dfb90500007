import type { APIEmbed, ChatInputCommandInteraction } from 'discord.js';
import { UserError } from '../../shared/errors.js';
import { addRoleRule, findRoleRuleEvenRemoved, listRoleRules, removeRoleRule, type RoleRule } from '../../domain/roles/rules.js';
import { roleGrantProblemBrief } from '../../domain/roles/safety.js';
import { findRoleTakeBack, takeBackRemovedRuleRole } from '../../domain/roles/sync.js';
import { clipText } from '../../shared/text.js';
import type { Actor } from '../../domain/customers/types.js';
import { confirmRow } from '../components.js';
import type { BotDeps } from '../context.js';
import { customId } from '../custom-ids.js';
import { BRAND_COLOR, SUCCESS_COLOR, WARNING_COLOR, clip, escapeText, field, fitEmbed, type View } from '../../discord/render/view.js';
import { roleText } from './roles.js';
import type { RoleInspector } from '../../domain/roles/ports.js';

export interface RoleRuleAddOptions {
  productId: number;
  role: { id: string; name: string; managed: boolean; permissions: bigint; position: number };
  revokeOnRefund: boolean | undefined;
  revokeOnChargeback: boolean | undefined;
  revokeOnSubscriptionEnd: boolean | undefined;
  graceHours: number | undefined;
}

export function parseRoleRuleAddOptions(interaction: ChatInputCommandInteraction): RoleRuleAddOptions {
  const role = interaction.options.getRole('role', true);
  return {
    productId: interaction.options.getInteger('product_id', true),
    role: {
      id: role.id,
      name: role.name,
      managed: role.managed,
      // A cached role (discord.js Role) or the interaction's resolved data (the API's role object).
      permissions: typeof role.permissions === 'string' ? BigInt(role.permissions) : role.permissions.bitfield,
      position: 'rawPosition' in role ? role.rawPosition : role.position,
    },
    revokeOnRefund: interaction.options.getBoolean('revoke_on_refund') ?? undefined,
    revokeOnChargeback: interaction.options.getBoolean('revoke_on_chargeback') ?? undefined,
    revokeOnSubscriptionEnd: interaction.options.getBoolean('revoke_on_subscription_end') ?? undefined,
    graceHours: interaction.options.getInteger('grace_hours') ?? undefined,
  };
}

export function parseRoleRuleRemoveOptions(interaction: ChatInputCommandInteraction): { id: number } {
  return { id: interaction.options.getInteger('id', true) };
}

function productText(rule: Pick<RoleRule, 'productId' | 'productName'>): string {
  return rule.productName ? `product #${rule.productId} (${escapeText(rule.productName)})` : `product #${rule.productId}`;
}

function revocationText(rule: RoleRule): string {
  const on = [rule.revokeOnRefund && 'refund', rule.revokeOnChargeback && 'chargeback', rule.revokeOnSubscriptionEnd && 'subscription end'].filter(Boolean);
  const grace = rule.revokeOnSubscriptionEnd ? ` (failed payments keep it ${rule.gracePeriodHours} h)` : '';
  return on.length ? `taken back on ${on.join(', ')}${grace}` : 'never taken back';
}

export async function runRoleRuleAdd(deps: BotDeps, inspector: RoleInspector, guildId: string, actor: Actor, options: RoleRuleAddOptions): Promise<View> {
  if (options.role.id === guildId) throw new UserError('role_rule_invalid', '@everyone cannot be granted: pick another role.');
  if (options.role.managed) {
    throw new UserError('role_rule_invalid', `@${escapeText(options.role.name)} is managed by an integration (a bot's or a booster role), so no bot can give it: pick another role.`);
  }
  // The cache is fresher than the interaction's copy when the role was edited a moment ago.
  const seen = inspector.roleFacts(guildId, options.role.id) ?? options.role;
  const rule = await addRoleRule(deps.db, deps.clock, {
    grantCheck: { role: { ...seen, name: escapeText(seen.name) }, bot: inspector.botStanding(guildId) },
    productId: options.productId,
    roleId: options.role.id,
    guildId,
    revokeOnRefund: options.revokeOnRefund,
    revokeOnChargeback: options.revokeOnChargeback,
    revokeOnSubscriptionEnd: options.revokeOnSubscriptionEnd,
    gracePeriodHours: options.graceHours,
    actor,
  });
  const problem = inspector.manageProblem(guildId, rule.roleId);
  const role = `@${escapeText(options.role.name)}`;
  const embed: APIEmbed = {
    title: `Rule #${rule.id} added`,
    description: `Buying ${productText(rule)} gives ${role}; ${revocationText(rule)}.`,
    color: problem ? WARNING_COLOR : SUCCESS_COLOR,
    fields: problem ? [field('⚠️ Until this is fixed, grants wait', problem)] : [],
    footer: { text: `Customers who bought product #${rule.productId} before get the role in the background.` },
  };
  return { content: '', embeds: [fitEmbed(embed)], components: [] };
}

const BUTTON_LABEL_MAX = 80;

/**
 * Removes the rule, then offers to take its role back from the members who hold it because of
 * that rule alone. Run again on a rule removed earlier, it only makes the offer again (the one
 * before may have expired).
 */
export async function runRoleRuleRemove(deps: BotDeps, inspector: RoleInspector, actor: Actor, options: { id: number }): Promise<View> {
  const earlier = await findRoleRuleEvenRemoved(deps.db, options.id);
  const rule = earlier?.removedAt ? earlier : await removeRoleRule(deps.db, deps.clock, { id: options.id, actor });
  const role = roleText(inspector, rule.guildId, rule.roleId);
  const removed = earlier?.removedAt ? `Rule #${rule.id} was removed already.` : `Rule #${rule.id} removed: ${productText(rule)} no longer gives ${role}.`;
  const { members } = await findRoleTakeBack(deps.db, deps.clock, rule.guildId, rule.roleId);
  if (members === 0) return { content: `${removed} No member holds ${role} because of it.`, embeds: [], components: [] };
  const token = deps.pending.put(actor.id, { ruleId: rule.id });
  const who = members === 1 ? '1 member holds' : `${members} members hold`;
  const count = members === 1 ? '1 member' : `${members} members`;
  // Button labels are plain text (no markdown) and Discord caps them at 80 characters: the count must survive.
  const tail = ` back from ${count}`;
  const label = `${clipText(`Take @${inspector.roleName(rule.guildId, rule.roleId) ?? 'the role'}`, BUTTON_LABEL_MAX - tail.length)}${tail}`;
  // Assignments do not record which rule gave a role: while another rule maps it, the planner
  // takes it from whoever that rule does not entitle at their next sync.
  const sameRole = (await listRoleRules(deps.db)).filter((r) => r.guildId === rule.guildId && r.roleId === rule.roleId);
  const keeping = sameRole.length
    ? `${sameRole.map((r) => `Rule #${r.id}`).join(', ')} also ${sameRole.length === 1 ? 'gives' : 'give'} ${role}, so they lose it at their next role sync either way; take it back now?`
    : 'Take it back from them? They keep it unless you do.';
  return {
    content: `${removed} ${who} ${role} because of this rule alone (members who also get it from another rule, or were given it by hand, are not counted). ${keeping}`,
    embeds: [],
    components: [confirmRow({ confirm: customId.ruleTakeBack(token), cancel: customId.ruleKeep(token) }, label, 'Let them keep it')],
  };
}

interface TakeBackRequest {
  ruleId: number;
}

export async function runRoleRuleTakeBack(deps: BotDeps, inspector: RoleInspector, actor: Actor, token: string): Promise<View> {
  const request = deps.pending.take<TakeBackRequest>(token, actor.id);
  if (!request) {
    throw new UserError('confirmation_expired', 'This confirmation has expired or belongs to someone else. Run /customer role-rule remove with the same id to be asked again.');
  }
  const { rule, removals } = await takeBackRemovedRuleRole(deps.db, deps.clock, { ruleId: request.ruleId, actor });
  deps.wakeRoleWorker?.();
  const role = roleText(inspector, rule.guildId, rule.roleId);
  return {
    content: `Taking ${role} back: ${removals === 1 ? '1 removal' : `${removals} removals`} queued. \`/customer roles\` shows each member's progress.`,
    embeds: [],
    components: [],
  };
}

export async function runRoleRuleKeep(deps: BotDeps, inspector: RoleInspector, actor: Actor, token: string): Promise<View> {
  const request = deps.pending.take<TakeBackRequest>(token, actor.id);
  const rule = request && (await findRoleRuleEvenRemoved(deps.db, request.ruleId));
  const role = rule ? roleText(inspector, rule.guildId, rule.roleId) : 'the role';
  return { content: `Nothing taken back: its holders keep ${role}.`, embeds: [], components: [] };
}

export async function runRoleRuleList(deps: BotDeps, inspector: RoleInspector): Promise<View> {
  const rules = await listRoleRules(deps.db);
  // Rules from the rules file were stored before the bot could see the roles: the list says which the bot refuses.
  const refusal = (r: RoleRule) => {
    const facts = inspector.roleFacts(r.guildId, r.roleId);
    const problem = facts && roleGrantProblemBrief(facts, inspector.botStanding(r.guildId));
    return problem ? ` · ⚠️ **${problem.lasting ? 'never given' : 'not given yet'}**: ${problem.why}` : '';
  };
  const lines = rules.map((r) => `**#${r.id}** ${productText(r)} → ${roleText(inspector, r.guildId, r.roleId)}${refusal(r)} · ${revocationText(r)}`);
  const embed: APIEmbed = {
    title: `Role rules (${rules.length})`,
    color: BRAND_COLOR,
    description: lines.length ? clip(lines.join('\n'), 4000) : 'No rules yet. Add one with `/customer role-rule add product_id: role:`.',
    footer: { text: 'Remove a rule with /customer role-rule remove id:' },
  };
  return { content: '', embeds: [fitEmbed(embed)], components: [] };
}
