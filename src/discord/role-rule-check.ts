import type { Client } from 'discord.js';
import type { Clock } from '../shared/clock.js';
import { listRoleRules } from '../domain/roles/rules.js';
import { roleGrantProblem } from '../domain/roles/safety.js';
import { raiseStaffAlert } from '../domain/alerts/staff-alerts.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { botStandingIn, roleFactsOf } from './role-gateway.js';

/**
 * Rules from the rules file are stored at start-up, before the bot can see the roles: once it
 * is connected, each rule whose role it refuses to give is logged as one line and reported to
 * staff once. The role queue refuses the grants themselves. Returns how many rules were refused.
 */
export async function reportRefusedRoleRules(deps: { db: Db; clock: Clock; logger: Logger }, client: Client): Promise<number> {
  let refused = 0;
  for (const rule of await listRoleRules(deps.db)) {
    const guild = client.guilds.cache.get(rule.guildId);
    const role = guild?.roles.cache.get(rule.roleId);
    if (!guild || !role) continue;
    const problem = roleGrantProblem(roleFactsOf(role), botStandingIn(guild));
    if (!problem) continue;
    refused++;
    deps.logger.warn({ ruleId: rule.id, productId: rule.productId, roleId: rule.roleId }, `role rule #${rule.id} is not applied: ${problem}`);
    await raiseStaffAlert(deps.db, deps.clock, {
      kind: 'role_problem',
      dedupeKey: `role-rule-refused:${rule.id}`,
      message: `⚠️ Role rule #${rule.id} (product #${rule.productId}) is not applied: ${problem} Or remove it with \`/customer role-rule remove id:${rule.id}\`.`,
    });
  }
  return refused;
}
