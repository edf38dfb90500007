import { PermissionFlagsBits } from 'discord.js';
import { DiscordHttpError, missingPermissions, unknownChannel, unknownGuild, unknownMember, unknownMessage, unknownRole } from '../http-util.js';
import type { ChannelRecord, GuildRecord, MemberRecord, MessageRecord } from '../state.js';
import type { LocalAuditEntry, RecordedRequest } from '../types.js';
import type { RouteDeps } from './route.js';

export const missingAccess = (): DiscordHttpError => new DiscordHttpError(403, 50001, 'Missing Access');

/** What the routes look up by path parameter, and the permission checks Discord makes before acting. */
export interface Lookups {
  guildOf: (params: Record<string, string>) => GuildRecord;
  memberOf: (guild: GuildRecord, userId: string | undefined) => MemberRecord;
  channelOf: (params: Record<string, string>) => ChannelRecord;
  /** A message the bot can see in `channel`: ephemeral ones belong to the interaction, not the channel. */
  channelMessage: (channel: ChannelRecord, messageId: string | undefined) => MessageRecord;
  botHas: (guild: GuildRecord, permission: bigint) => boolean;
  requireRoleManageable: (guild: GuildRecord, roleId: string) => void;
  requireChannelAccess: (channel: ChannelRecord, permission: bigint) => void;
  audit: (entry: Omit<LocalAuditEntry, 'time' | 'reason'>, request: RecordedRequest) => void;
}

export function lookups({ state, auditLog }: Pick<RouteDeps, 'state' | 'auditLog'>): Lookups {
  const botHas = (guild: GuildRecord, permission: bigint): boolean => {
    const bot = guild.members.get(state.botUser.id);
    return bot !== undefined && (state.memberPermissions(guild, bot) & permission) === permission;
  };
  return {
    guildOf: (params) => {
      const guild = state.guilds.get(params.guildId ?? '');
      if (!guild) throw unknownGuild();
      return guild;
    },
    memberOf: (guild, userId) => {
      const member = guild.members.get(userId ?? '');
      if (!member) throw unknownMember();
      return member;
    },
    channelOf: (params) => {
      const channel = state.findChannel(params.channelId ?? '');
      if (!channel) throw unknownChannel();
      return channel;
    },
    channelMessage: (channel, messageId) => {
      const message = state.messages.get(messageId ?? '');
      if (!message || message.deleted || message.channelId !== channel.id || (message.flags & 64) !== 0) throw unknownMessage();
      return message;
    },
    botHas,
    requireRoleManageable: (guild, roleId) => {
      const role = guild.roles.get(roleId);
      if (!role) throw unknownRole();
      if (state.botCannotManageRole(guild, role) !== null) throw missingPermissions();
    },
    requireChannelAccess: (channel, permission) => {
      if (channel.guildId === null) return;
      const guild = state.guild(channel.guildId);
      if (!botHas(guild, PermissionFlagsBits.ViewChannel)) throw missingAccess();
      if (!botHas(guild, permission)) throw missingPermissions();
    },
    audit: (entry, request) => {
      auditLog.push({ ...entry, reason: request.auditLogReason, time: Date.now() });
    },
  };
}
