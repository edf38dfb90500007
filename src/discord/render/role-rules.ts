import type { APIEmbed } from 'discord.js';
import type { RoleRule } from '../../domain/roles/rules.js';
import { clipText } from '../../shared/text.js';
import { customId } from '../custom-ids.js';
import { confirmRow } from './components.js';
import { BRAND_COLOR, SUCCESS_COLOR, WARNING_COLOR, clip, escapeText, field, fitEmbed, type View } from './view.js';

// The `/customer role-rule` answers, drawn from what their loaders in
// src/commands/customer/role-rule.ts read. Roles arrive already named (roleMention).

function productText(rule: Pick<RoleRule, 'productId' | 'productName'>): string {
  return rule.productName ? `product #${rule.productId} (${escapeText(rule.productName)})` : `product #${rule.productId}`;
}

function revocationText(rule: RoleRule): string {
  const on = [rule.revokeOnRefund && 'refund', rule.revokeOnChargeback && 'chargeback', rule.revokeOnSubscriptionEnd && 'subscription end'].filter(Boolean);
  const grace = rule.revokeOnSubscriptionEnd ? ` (failed payments keep it ${rule.gracePeriodHours} h)` : '';
  return on.length ? `taken back on ${on.join(', ')}${grace}` : 'never taken back';
}

/** A rule just added; `problem` is why the bot cannot manage its role yet, if it cannot. */
export function renderRoleRuleAdded(rule: RoleRule, roleName: string, problem: string | null): View {
  const role = `@${escapeText(roleName)}`;
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

/** What removing a rule came to, as its loader read it. */
export interface RuleRemovalData {
  rule: RoleRule;
  /** The rule had been removed before this command. */
  removedEarlier: boolean;
  /** Its role, as roleMention writes it. */
  role: string;
  /** The role's plain name for the button, when the bot can see it. */
  roleName: string | undefined;
  /** Members holding the role because of this rule alone. */
  members: number;
  /** The confirmation's pending-actions token; null when no member holds the role. */
  token: string | null;
  /** Other live rules that give the same role. */
  sameRoleRuleIds: number[];
}

/** The removal, and the offer to take its role back from the members who hold it because of that rule alone. */
export function renderRuleRemoval(data: RuleRemovalData): View {
  const { rule, role, members, token } = data;
  const removed = data.removedEarlier ? `Rule #${rule.id} was removed already.` : `Rule #${rule.id} removed: ${productText(rule)} no longer gives ${role}.`;
  if (members === 0 || token === null) return { content: `${removed} No member holds ${role} because of it.`, embeds: [], components: [] };
  const who = members === 1 ? '1 member holds' : `${members} members hold`;
  const count = members === 1 ? '1 member' : `${members} members`;
  // Button labels are plain text (no markdown) and Discord caps them at 80 characters: the count must survive.
  const tail = ` back from ${count}`;
  const label = `${clipText(`Take @${data.roleName ?? 'the role'}`, BUTTON_LABEL_MAX - tail.length)}${tail}`;
  // Assignments do not record which rule gave a role: while another rule maps it, the planner
  // takes it from whoever that rule does not entitle at their next sync.
  const sameRole = data.sameRoleRuleIds;
  const keeping = sameRole.length
    ? `${sameRole.map((id) => `Rule #${id}`).join(', ')} also ${sameRole.length === 1 ? 'gives' : 'give'} ${role}, so they lose it at their next role sync either way; take it back now?`
    : 'Take it back from them? They keep it unless you do.';
  return {
    content: `${removed} ${who} ${role} because of this rule alone (members who also get it from another rule, or were given it by hand, are not counted). ${keeping}`,
    embeds: [],
    components: [confirmRow({ confirm: customId.ruleTakeBack(token), cancel: customId.ruleKeep(token) }, label, 'Let them keep it')],
  };
}

export function renderRoleTakeBack(role: string, removals: number): View {
  return {
    content: `Taking ${role} back: ${removals === 1 ? '1 removal' : `${removals} removals`} queued. \`/customer roles\` shows each member's progress.`,
    embeds: [],
    components: [],
  };
}

export function renderRoleKept(role: string): View {
  return { content: `Nothing taken back: its holders keep ${role}.`, embeds: [], components: [] };
}

/** One line of the rule list: the rule, its role named, and why the bot refuses the role, if it does. */
export interface ListedRule {
  rule: RoleRule;
  role: string;
  refusal: { lasting: boolean; why: string } | null;
}

export function renderRoleRuleList(rules: ListedRule[]): View {
  // Rules from the rules file were stored before the bot could see the roles: the list says which the bot refuses.
  const refusal = ({ refusal: problem }: ListedRule) => (problem ? ` · ⚠️ **${problem.lasting ? 'never given' : 'not given yet'}**: ${problem.why}` : '');
  const lines = rules.map((r) => `**#${r.rule.id}** ${productText(r.rule)} → ${r.role}${refusal(r)} · ${revocationText(r.rule)}`);
  const embed: APIEmbed = {
    title: `Role rules (${rules.length})`,
    color: BRAND_COLOR,
    description: lines.length ? clip(lines.join('\n'), 4000) : 'No rules yet. Add one with `/customer role-rule add product_id: role:`.',
    footer: { text: 'Remove a rule with /customer role-rule remove id:' },
  };
  return { content: '', embeds: [fitEmbed(embed)], components: [] };
}
