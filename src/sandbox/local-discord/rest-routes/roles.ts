import type { Lookups } from './lookups.js';
import { noContent, type Route, type RouteDeps } from './route.js';

export function memberRoleRoutes(deps: RouteDeps, look: Lookups): Route[] {
  const pattern = '/guilds/:guildId/members/:userId/roles/:roleId';
  return [
    { method: 'PUT', pattern, auth: true, handle: setRole(true, deps, look) },
    { method: 'DELETE', pattern, auth: true, handle: setRole(false, deps, look) },
  ];
}

function setRole(add: boolean, { memberChanged }: RouteDeps, look: Lookups): Route['handle'] {
  return ({ params, request }) => {
    const guild = look.guildOf(params);
    const member = look.memberOf(guild, params.userId);
    const roleId = params.roleId ?? '';
    look.requireRoleManageable(guild, roleId);
    const has = member.roles.includes(roleId);
    // Granting a role the member has, or taking one they lack, succeeds without an event, as on Discord.
    if (add !== has) {
      member.roles = add ? [...member.roles, roleId] : member.roles.filter((id) => id !== roleId);
      look.audit({ action: add ? 'member_role_add' : 'member_role_remove', guildId: guild.id, targetId: member.userId, roleId }, request);
      memberChanged(guild, member);
    }
    return noContent();
  };
}
