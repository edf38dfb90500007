import { PermissionFlagsBits } from 'discord.js';
import { asArray, asObject, asString, missingPermissions } from '../http-util.js';
import { memberJson } from '../wire.js';
import type { Lookups } from './lookups.js';
import { limitParam, noContent, ok, type Route, type RouteDeps } from './route.js';

/** `members/search` comes before `members/:userId`, which would otherwise take it. */
export function memberRoutes(deps: RouteDeps, look: Lookups): Route[] {
  const { state } = deps;
  const { guildOf, memberOf } = look;
  const member = '/guilds/:guildId/members/:userId';
  return [
    {
      method: 'GET',
      pattern: '/guilds/:guildId/members',
      auth: true,
      handle: ({ params, query }) => {
        const limit = limitParam(query, 1, 1000);
        const afterParam = query.get('after') ?? '0';
        const after = /^\d+$/.test(afterParam) ? BigInt(afterParam) : 0n;
        const members = [...guildOf(params).members.values()]
          .filter((member) => BigInt(member.userId) > after)
          .sort((a, b) => (BigInt(a.userId) < BigInt(b.userId) ? -1 : 1))
          .slice(0, limit);
        return ok(members.map((member) => memberJson(state, member)));
      },
    },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/members/search',
      auth: true,
      handle: ({ params, query }) => {
        const needle = (query.get('query') ?? '').toLowerCase();
        const limit = limitParam(query, 1, 1000);
        const members = [...guildOf(params).members.values()].filter((member) => {
          const user = state.users.get(member.userId);
          return [user?.username, user?.globalName, member.nick].some((name) => name?.toLowerCase().startsWith(needle));
        });
        return ok(members.slice(0, limit).map((member) => memberJson(state, member)));
      },
    },
    { method: 'GET', pattern: member, auth: true, handle: ({ params }) => ok(memberJson(state, memberOf(guildOf(params), params.userId))) },
    { method: 'PATCH', pattern: member, auth: true, handle: updateMember(deps, look) },
    { method: 'DELETE', pattern: member, auth: true, handle: kickMember(deps, look) },
  ];
}

function updateMember({ state, memberChanged }: RouteDeps, look: Lookups): Route['handle'] {
  return ({ params, body, request }) => {
    const guild = look.guildOf(params);
    const member = look.memberOf(guild, params.userId);
    const patch = asObject(body);
    if (Array.isArray(patch.roles)) {
      const wanted = asArray(patch.roles).map(String).filter((id) => id !== guild.id);
      const changed = [...wanted.filter((id) => !member.roles.includes(id)), ...member.roles.filter((id) => !wanted.includes(id))];
      for (const roleId of changed) look.requireRoleManageable(guild, roleId);
      member.roles = [...new Set(wanted)];
    }
    if ('nick' in patch) {
      if (!look.botHas(guild, PermissionFlagsBits.ManageNicknames)) throw missingPermissions();
      member.nick = asString(patch.nick) ?? null;
    }
    look.audit({ action: 'member_update', guildId: guild.id, targetId: member.userId }, request);
    memberChanged(guild, member);
    return ok(memberJson(state, member));
  };
}

function kickMember({ memberRemoved }: RouteDeps, look: Lookups): Route['handle'] {
  return ({ params, request }) => {
    const guild = look.guildOf(params);
    const member = look.memberOf(guild, params.userId);
    if (!look.botHas(guild, PermissionFlagsBits.KickMembers) || member.userId === guild.ownerId) throw missingPermissions();
    guild.members.delete(member.userId);
    look.audit({ action: 'member_kick', guildId: guild.id, targetId: member.userId }, request);
    memberRemoved(guild, member.userId);
    return noContent();
  };
}
