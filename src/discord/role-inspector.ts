import { RESTJSONErrorCodes, type Client } from 'discord.js';
import { DiscordAPIError } from './rest.js';
import type { RoleInspector } from '../domain/roles/ports.js';
import { botStandingIn, roleFactsOf, roleManageProblem } from './role-gateway.js';

/** What staff commands read about roles, from the live client. */
export function createRoleInspector(client: Client): RoleInspector {
  return {
    async memberRoles(guildId, userId) {
      const guild = client.guilds.cache.get(guildId);
      if (!guild) return null;
      try {
        // Forced: staff press Re-sync precisely when the cache may be wrong (a role removed by hand).
        const member = await guild.members.fetch({ user: userId, force: true });
        return [...member.roles.cache.keys()].filter((id) => id !== guild.id);
      } catch (error) {
        if (error instanceof DiscordAPIError && (error.code === RESTJSONErrorCodes.UnknownMember || error.code === RESTJSONErrorCodes.UnknownUser)) return null;
        throw error;
      }
    },
    roleName: (guildId, roleId) => client.guilds.cache.get(guildId)?.roles.cache.get(roleId)?.name,
    manageProblem: (guildId, roleId) => roleManageProblem(client, guildId, roleId),
    roleFacts(guildId, roleId) {
      const role = client.guilds.cache.get(guildId)?.roles.cache.get(roleId);
      return role && roleFactsOf(role);
    },
    botStanding(guildId) {
      const guild = client.guilds.cache.get(guildId);
      return guild && botStandingIn(guild);
    },
  };
}
