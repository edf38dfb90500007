import type { BotStanding, GuildRoleFacts } from './safety.js';

// What the roles capability needs from Discord, declared here so that the domain and the jobs
// depend on these shapes and never on discord.js; src/discord/ implements them.

export type RoleProblemKind = 'unknown_member' | 'missing_permissions' | 'role_above_bot' | 'unknown_role' | 'dangerous_role' | 'retry';

/** What one role call came to, in the queue's terms; `message` is meant for staff. */
export type RoleCallResult = { ok: true } | { ok: false; kind: RoleProblemKind; message: string };

/** The one thing the role queue needs from Discord. Implementations never throw for Discord's answers. */
export interface RoleGateway {
  addRole(guildId: string, userId: string, roleId: string, reason: string): Promise<RoleCallResult>;
  removeRole(guildId: string, userId: string, roleId: string, reason: string): Promise<RoleCallResult>;
  /**
   * Whether the member holds the role right now (null when that cannot be told: not a member,
   * Discord unreachable). Asked before repeating a call that may already have happened.
   */
  memberHasRole?(guildId: string, userId: string, roleId: string): Promise<boolean | null>;
}

/** What the role views read from Discord. */
export interface RoleInspector {
  /** The member's role ids (without @everyone); null when the user is not in the server. */
  memberRoles(guildId: string, userId: string): Promise<string[] | null>;
  /** The role's name, when the bot can see it. */
  roleName(guildId: string, roleId: string): string | undefined;
  /** Why the bot cannot give or take the role (an actionable sentence), or null. */
  manageProblem(guildId: string, roleId: string): string | null;
  /** The role's permissions and position, when the bot can see it. */
  roleFacts(guildId: string, roleId: string): GuildRoleFacts | undefined;
  /** The bot's highest role in the guild, when the bot is there. */
  botStanding(guildId: string): BotStanding | undefined;
}
