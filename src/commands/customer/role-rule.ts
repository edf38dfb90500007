import type { ChatInputCommandInteraction } from 'discord.js';
import { UserError } from '../../shared/errors.js';
import { addRoleRule, findRoleRuleEvenRemoved, listRoleRules, removeRoleRule } from '../../domain/roles/rules.js';
import { roleGrantProblemBrief } from '../../domain/roles/safety.js';
import { findRoleTakeBack, takeBackRemovedRuleRole } from '../../domain/roles/sync.js';
import type { Actor } from '../../domain/customers/types.js';
import type { BotDeps } from '../context.js';
import { renderRoleKept, renderRoleRuleAdded, renderRoleRuleList, renderRoleTakeBack, renderRuleRemoval } from '../../discord/render/role-rules.js';
import { escapeText, type View } from '../../discord/render/view.js';
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
  return renderRoleRuleAdded(rule, options.role.name, inspector.manageProblem(guildId, rule.roleId));
}

/**
 * Removes the rule, then offers to take its role back from the members who hold it because of
 * that rule alone. Run again on a rule removed earlier, it only makes the offer again (the one
 * before may have expired).
 */
export async function runRoleRuleRemove(deps: BotDeps, inspector: RoleInspector, actor: Actor, options: { id: number }): Promise<View> {
  const earlier = await findRoleRuleEvenRemoved(deps.db, options.id);
  const rule = earlier?.removedAt ? earlier : await removeRoleRule(deps.db, deps.clock, { id: options.id, actor });
  const { members } = await findRoleTakeBack(deps.db, deps.clock, rule.guildId, rule.roleId);
  const token = members === 0 ? null : deps.pending.put(actor.id, { ruleId: rule.id });
  const sameRole = token === null ? [] : (await listRoleRules(deps.db)).filter((r) => r.guildId === rule.guildId && r.roleId === rule.roleId);
  return renderRuleRemoval({
    rule,
    removedEarlier: !!earlier?.removedAt,
    role: roleText(inspector, rule.guildId, rule.roleId),
    roleName: inspector.roleName(rule.guildId, rule.roleId),
    members,
    token,
    sameRoleRuleIds: sameRole.map((r) => r.id),
  });
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
  return renderRoleTakeBack(roleText(inspector, rule.guildId, rule.roleId), removals);
}

export async function runRoleRuleKeep(deps: BotDeps, inspector: RoleInspector, actor: Actor, token: string): Promise<View> {
  const request = deps.pending.take<TakeBackRequest>(token, actor.id);
  const rule = request && (await findRoleRuleEvenRemoved(deps.db, request.ruleId));
  const role = rule ? roleText(inspector, rule.guildId, rule.roleId) : 'the role';
  return renderRoleKept(role);
}

export async function runRoleRuleList(deps: BotDeps, inspector: RoleInspector): Promise<View> {
  const rules = await listRoleRules(deps.db);
  return renderRoleRuleList(
    rules.map((rule) => {
      const facts = inspector.roleFacts(rule.guildId, rule.roleId);
      return { rule, role: roleText(inspector, rule.guildId, rule.roleId), refusal: facts ? roleGrantProblemBrief(facts, inspector.botStanding(rule.guildId)) : null };
    }),
  );
}
