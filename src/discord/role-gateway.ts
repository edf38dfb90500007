import { PermissionFlagsBits, RESTJSONErrorCodes, Routes, type Client, type Guild, type Role } from 'discord.js';
import { DiscordAPIError, HTTPError } from './rest.js';
import { dangerousRoleProblem, type BotStanding, type GuildRoleFacts } from '../domain/roles/safety.js';
import type { RoleCallResult, RoleGateway } from '../domain/roles/ports.js';

function roleLabel(guild: Guild | undefined, roleId: string): string {
  const role = guild?.roles.cache.get(roleId);
  return role ? `@${role.name}` : `<@&${roleId}>`;
}

function botLabel(guild: Guild): string {
  const me = guild.members.me;
  const own = me?.roles.botRole ?? me?.roles.highest;
  return own && own.id !== guild.id ? `@${own.name}` : 'the bot';
}

/** The plain facts the domain's role checks read, from the cache. */
export function roleFactsOf(role: Role): GuildRoleFacts {
  return { id: role.id, name: role.name, permissions: role.permissions.bitfield, position: role.rawPosition };
}

/** Where the bot stands in the guild, from the cache; undefined when it is not there (yet). */
export function botStandingIn(guild: Guild): BotStanding | undefined {
  const me = guild.members.me;
  if (!me) return undefined;
  const highest = me.roles.highest;
  return { highestPosition: highest.rawPosition, highestRoleName: highest.id === guild.id ? 'the bot' : highest.name, ownsServer: guild.ownerId === me.id };
}

/**
 * What Discord would refuse, read from the client's cache first: asking anyway would only earn
 * a 403, and 10,000 of those in ten minutes get the bot banned from the API for a while. A grant
 * of a role that carries dangerous permissions is refused here too, whichever rule asked for it;
 * taking such a role back is always allowed.
 */
function precheck(client: Client, guildId: string, roleId: string, action: 'add' | 'remove' = 'remove'): RoleCallResult | undefined {
  const guild = client.guilds.cache.get(guildId);
  if (!guild) {
    if (!client.isReady()) return { ok: false, kind: 'retry', message: 'The bot is not connected to Discord yet.' };
    return { ok: false, kind: 'missing_permissions', message: `The bot is not in the server ${guildId}: invite it with the Manage Roles permission.` };
  }
  const role: Role | undefined = guild.roles.cache.get(roleId);
  if (!role) {
    return {
      ok: false,
      kind: 'unknown_role',
      message: `The role ${roleId} no longer exists in the server: remove its rule with \`/customer role-rule remove\` and map the product to the new role.`,
    };
  }
  if (action === 'add') {
    const dangerous = dangerousRoleProblem(roleFactsOf(role));
    if (dangerous) return { ok: false, kind: 'dangerous_role', message: dangerous };
  }
  const me = guild.members.me;
  if (!me || guild.ownerId === me.id) return undefined;
  if (!me.permissions.has(PermissionFlagsBits.ManageRoles)) {
    return { ok: false, kind: 'missing_permissions', message: `Give the bot Manage Roles (Server Settings → Roles → ${botLabel(guild)} → Permissions), then press Re-sync.` };
  }
  if (role.managed) {
    return { ok: false, kind: 'missing_permissions', message: `@${role.name} is managed by an integration, so no bot can give or take it: map the product to another role.` };
  }
  // Even an administrator bot cannot touch a role at or above its own highest role.
  if (me.roles.highest.comparePositionTo(role) <= 0) {
    return { ok: false, kind: 'role_above_bot', message: `The bot's role must be above @${role.name} in Server Settings → Roles (drag ${botLabel(guild)} above @${role.name}).` };
  }
  return undefined;
}

/** Why the bot cannot give or take this role, as an actionable sentence; null when it can (as far as the cache shows). */
export function roleManageProblem(client: Client, guildId: string, roleId: string): string | null {
  const refused = precheck(client, guildId, roleId, 'add');
  return refused && !refused.ok ? refused.message : null;
}

function describeFailure(client: Client, guildId: string, userId: string, roleId: string, error: unknown): RoleCallResult {
  const guild = client.guilds.cache.get(guildId);
  if (error instanceof DiscordAPIError) {
    switch (error.code) {
      case RESTJSONErrorCodes.UnknownMember:
      case RESTJSONErrorCodes.UnknownUser:
        return { ok: false, kind: 'unknown_member', message: `<@${userId}> is not in the server; the role is applied when they join.` };
      case RESTJSONErrorCodes.UnknownRole:
        return {
          ok: false,
          kind: 'unknown_role',
          message: `The role ${roleId} no longer exists in the server: remove its rule with \`/customer role-rule remove\` and map the product to the new role.`,
        };
      case RESTJSONErrorCodes.MissingPermissions:
      case RESTJSONErrorCodes.MissingAccess: {
        const role = roleLabel(guild, roleId);
        return {
          ok: false,
          kind: 'missing_permissions',
          message: `Discord refused (Missing Permissions): give the bot Manage Roles, and make sure the bot's role is above ${role} in Server Settings → Roles.`,
        };
      }
      case RESTJSONErrorCodes.UnknownGuild:
        return { ok: false, kind: 'missing_permissions', message: `The bot is not in the server ${guildId}: invite it with the Manage Roles permission.` };
    }
    return { ok: false, kind: 'retry', message: `Discord answered ${error.status} (${String(error.code)}): ${error.message}` };
  }
  if (error instanceof HTTPError) return { ok: false, kind: 'retry', message: `Discord answered ${error.status}: ${error.message}` };
  // Network failures and timeouts: @discordjs/rest has already retried them a few times.
  return { ok: false, kind: 'retry', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}

/**
 * Discord allows a bot 50 requests a second. @discordjs/rest counts them in one-second windows
 * that start with a request, so two windows back to back can put more than 50 into one second;
 * the role queue is the one bulk sender, so it paces itself below that in any sliding second and
 * leaves the rest of the budget to commands and alerts.
 */
export const ROLE_CALLS_PER_SECOND = 40;

/** At most `limit` starts in any `windowMs`: waits for the oldest start to leave the window. */
export function createPacer(limit: number, windowMs = 1_000, now: () => number = Date.now): () => Promise<number> {
  const starts: number[] = [];
  // Resolves with the instant the call was let through, as the pacer counted it.
  return async () => {
    for (;;) {
      const t = now();
      while (starts.length > 0 && (starts[0] ?? 0) <= t - windowMs) starts.shift();
      if (starts.length < limit) {
        starts.push(t);
        return t;
      }
      await new Promise((resolve) => setTimeout(resolve, (starts[0] ?? t) + windowMs - t + 1));
    }
  };
}

/**
 * The role queue's hands in Discord, over the client's REST manager: `reason` becomes the
 * audit-log reason, and @discordjs/rest waits out 429s itself (Retry-After, per-route buckets
 * and the global limit), so a rate limit only ever delays a call.
 */
export function createDiscordRoleGateway(client: Client): RoleGateway {
  const pace = createPacer(ROLE_CALLS_PER_SECOND);
  const call = async (method: 'put' | 'delete', guildId: string, userId: string, roleId: string, reason: string): Promise<RoleCallResult> => {
    const refused = precheck(client, guildId, roleId, method === 'put' ? 'add' : 'remove');
    if (refused) return refused;
    try {
      await pace();
      await client.rest[method](Routes.guildMemberRole(guildId, userId, roleId), { reason });
      return { ok: true };
    } catch (error) {
      return describeFailure(client, guildId, userId, roleId, error);
    }
  };
  return {
    memberHasRole: async (guildId, userId, roleId) => {
      try {
        await pace();
        const member = (await client.rest.get(Routes.guildMember(guildId, userId))) as { roles?: unknown };
        return Array.isArray(member.roles) ? member.roles.includes(roleId) : null;
      } catch {
        return null;
      }
    },
    addRole: (guildId, userId, roleId, reason) => call('put', guildId, userId, roleId, reason),
    // Removing a role the member lacks is a 204 like any other: it counts as done.
    removeRole: (guildId, userId, roleId, reason) => call('delete', guildId, userId, roleId, reason),
  };
}
