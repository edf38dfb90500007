/**
 * Which Discord roles the bot may hand to buyers. A purchase must never buy power over the
 * server: a role that can moderate members, change the server, or reach everyone at once is
 * refused, however it was mapped (a command, the rules file, or permissions edited later).
 */

/**
 * Discord's permission bits (discord.com/developers/docs/topics/permissions) that a buyer's role
 * may not carry. Everything Discord itself treats as a moderator's permission (those that need
 * two-factor authentication on a server that requires it) plus what lets a member act on other
 * members or reach the whole server: Mention Everyone, Manage Nicknames, Manage Events, View
 * Audit Log (it shows staff's actions and reasons) and the voice moderation bits.
 */
export const DANGEROUS_PERMISSIONS: readonly { name: string; bit: bigint }[] = [
  { name: 'Kick Members', bit: 1n << 1n },
  { name: 'Ban Members', bit: 1n << 2n },
  { name: 'Administrator', bit: 1n << 3n },
  { name: 'Manage Channels', bit: 1n << 4n },
  { name: 'Manage Server', bit: 1n << 5n },
  { name: 'View Audit Log', bit: 1n << 7n },
  { name: 'Manage Messages', bit: 1n << 13n },
  { name: 'Mention Everyone', bit: 1n << 17n },
  { name: 'Mute Members', bit: 1n << 22n },
  { name: 'Deafen Members', bit: 1n << 23n },
  { name: 'Move Members', bit: 1n << 24n },
  { name: 'Manage Nicknames', bit: 1n << 27n },
  { name: 'Manage Roles', bit: 1n << 28n },
  { name: 'Manage Webhooks', bit: 1n << 29n },
  { name: 'Manage Expressions', bit: 1n << 30n },
  { name: 'Manage Events', bit: 1n << 33n },
  { name: 'Manage Threads', bit: 1n << 34n },
  { name: 'Timeout Members', bit: 1n << 40n },
  { name: 'View Creator Monetization Analytics', bit: 1n << 41n },
];

/** A guild role as the bot sees it: `position` is Discord's raw position (higher is more powerful). */
export interface GuildRoleFacts {
  id: string;
  name: string;
  permissions: bigint;
  position: number;
}

/** Where the bot stands in the server: its highest role, and whether it owns the server. */
export interface BotStanding {
  highestPosition: number;
  /** How staff find the bot's role in Server Settings → Roles. */
  highestRoleName: string;
  ownsServer: boolean;
}

/** The dangerous permissions among `permissions`, by Discord's names, lowest bit first. */
export function dangerousPermissionNames(permissions: bigint): string[] {
  return DANGEROUS_PERMISSIONS.filter((p) => (permissions & p.bit) !== 0n).map((p) => p.name);
}

function listText(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;
}

/** Why buyers may not get the role because of what it allows, or null. */
export function dangerousRoleProblem(role: GuildRoleFacts): string | null {
  const names = dangerousPermissionNames(role.permissions);
  if (names.length === 0) return null;
  return (
    `@${role.name} carries ${listText(names)}: buyers would get power over the server, so the bot never gives it. ` +
    `Pick a role without ${names.length === 1 ? 'it' : 'them'}, or take ${names.length === 1 ? 'it' : 'them'} off in Server Settings → Roles → @${role.name}.`
  );
}

function atOrAboveBot(role: GuildRoleFacts, bot: BotStanding | undefined): bot is BotStanding {
  return bot !== undefined && !bot.ownsServer && role.position >= bot.highestPosition;
}

/**
 * Why the bot may not make `role` something buyers get, as a sentence staff can act on; null
 * when it may. A role at the bot's own position counts as above it: Discord refuses both.
 */
export function roleGrantProblem(role: GuildRoleFacts, bot: BotStanding | undefined): string | null {
  const dangerous = dangerousRoleProblem(role);
  if (dangerous) return dangerous;
  if (atOrAboveBot(role, bot)) {
    return (
      `@${role.name} is at or above the bot’s own highest role (@${bot.highestRoleName}), so Discord would not let the bot give it. ` +
      `Drag @${bot.highestRoleName} above @${role.name} in Server Settings → Roles, then add the rule again.`
    );
  }
  return null;
}

/**
 * {@link roleGrantProblem} in a few words, for a list: "it carries Administrator". `lasting` is
 * false when moving the bot's role would fix it.
 */
export function roleGrantProblemBrief(role: GuildRoleFacts, bot: BotStanding | undefined): { lasting: boolean; why: string } | null {
  const names = dangerousPermissionNames(role.permissions);
  if (names.length > 0) return { lasting: true, why: `it carries ${listText(names)}` };
  if (atOrAboveBot(role, bot)) return { lasting: false, why: 'it is at or above the bot’s own highest role' };
  return null;
}
