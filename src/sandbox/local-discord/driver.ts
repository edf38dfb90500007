import { GatewayDispatchEvents } from 'discord.js';
import type { FaultTable } from './faults.js';
import type { LocalGateway } from './gateway.js';
import type { InteractionDesk } from './interactions.js';
import type { GatewayRelay } from './relay.js';
import type { RequestLog } from './request-log.js';
import type { GuildRecord, LocalDiscordState, MemberRecord, MessageRecord } from './state.js';
import type { LocalAuditEntry, LocalDiscord, LocalMessage } from './types.js';
import { memberJson, roleJson } from './wire.js';

/** Resumable: @discordjs/ws resumes on 4000, while 1000/1001 would make it identify afresh. */
const RESUMABLE_CLOSE_CODE = 4000;

export interface DriverParts {
  apiUrl: string;
  gatewayUrl: string;
  token: string;
  state: LocalDiscordState;
  gateway: LocalGateway;
  desk: InteractionDesk;
  relay: GatewayRelay;
  faults: FaultTable;
  requests: RequestLog;
  auditLog: LocalAuditEntry[];
  log: (line: string) => void;
  stop: () => Promise<void>;
}

/** The handle tests and the sandbox hold: what Discord's users would do, and what the bot did. */
export function localDiscordDriver(parts: DriverParts): LocalDiscord {
  const { state, gateway, desk, faults, requests } = parts;
  return {
    apiUrl: parts.apiUrl,
    gatewayUrl: parts.gatewayUrl,
    token: parts.token,
    applicationId: state.applicationId,
    botUserId: state.botUser.id,
    requests: requests.requests,
    auditLog: parts.auditLog,
    registeredCommands: (guildId) => structuredClone(state.commandsFor(guildId ?? null)),
    ...memberControls(parts),
    ...roleControls(parts),
    invokeSlash: (args) => desk.invokeSlash(args),
    invokeUserCommand: (args) => desk.invokeUserCommand(args),
    autocomplete: (args) => desk.autocomplete(args),
    clickButton: (args) => desk.clickButton(args),
    selectMenu: (args) => desk.selectMenu(args),
    submitModal: (args) => desk.submitModal(args),
    ...messageViews(state),
    injectFault: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    waitForRequest: (match, ms = 5000) => requests.waitFor(match, ms),
    dropGateway: (code = RESUMABLE_CLOSE_CODE) => gateway.drop(code),
    gatewayStats: () => gateway.stats(),
    stop: parts.stop,
  };
}

type MemberControls = Pick<LocalDiscord, 'addMember' | 'removeMember' | 'memberRoles' | 'hasMember' | 'setMemberRoles'>;

function memberControls({ state, gateway, relay, log }: DriverParts): MemberControls {
  return {
    addMember: (guildId, seed) => {
      const guild = state.guild(guildId);
      const member = state.putMember(guild, seed);
      gateway.dispatch(GatewayDispatchEvents.GuildMemberAdd, { guild_id: guild.id, ...memberJson(state, member) });
      log(`guild ${guild.id}: ${seed.user.username} (${seed.user.id}) joined`);
    },
    removeMember: (guildId, userId) => {
      const { guild } = guildMember(state, guildId, userId);
      guild.members.delete(userId);
      relay.memberRemoved(guild, userId);
    },
    memberRoles: (guildId, userId) => [...(state.guild(guildId).members.get(userId)?.roles ?? [])],
    hasMember: (guildId, userId) => state.guild(guildId).members.has(userId),
    setMemberRoles: (guildId, userId, roleIds) => {
      const { guild, member } = guildMember(state, guildId, userId);
      const unknown = roleIds.filter((id) => !guild.roles.has(id));
      if (unknown.length > 0) throw new Error(`local-discord: guild ${guildId} has no role ${unknown.join(', ')}`);
      member.roles = roleIds.filter((id) => id !== guild.id);
      relay.memberChanged(guild, member);
    },
  };
}

function roleControls({ state, gateway }: DriverParts): Pick<LocalDiscord, 'setBotPermissions' | 'updateRole'> {
  const updateRole: LocalDiscord['updateRole'] = (guildId, roleId, patch) => {
    const guild = state.guild(guildId);
    const role = guild.roles.get(roleId);
    if (!role) throw new Error(`local-discord: guild ${guildId} has no role ${roleId}`);
    if (patch.name !== undefined) role.name = patch.name;
    if (patch.position !== undefined) role.position = patch.position;
    if (patch.permissions !== undefined) role.permissions = BigInt(patch.permissions);
    gateway.dispatch(GatewayDispatchEvents.GuildRoleUpdate, { guild_id: guild.id, role: roleJson(role) });
  };
  return {
    // The bot's own managed role carries its permissions; without one, its highest role does.
    setBotPermissions: (guildId, permissions) => {
      const botId = state.botUser.id;
      const { guild, member } = guildMember(state, guildId, botId);
      const roles = member.roles.map((id) => guild.roles.get(id)).filter((role) => role !== undefined);
      const target = roles.find((role) => role.botId === botId) ?? roles.sort((a, b) => b.position - a.position)[0];
      if (!target) throw new Error(`local-discord: the bot has no role in guild ${guildId} to carry permissions`);
      updateRole(guildId, target.id, { permissions });
    },
    updateRole,
  };
}

function messageViews(state: LocalDiscordState): Pick<LocalDiscord, 'channelMessages' | 'dmMessages' | 'message'> {
  const snapshots = (list: MessageRecord[]): LocalMessage[] => list.map((message) => state.snapshot(message));
  return {
    channelMessages: (channelId) => snapshots(state.channelMessages(channelId)),
    dmMessages: (userId) => {
      const channel = [...state.dmChannels.values()].find((candidate) => candidate.recipientId === userId);
      return channel ? snapshots(state.channelMessages(channel.id)) : [];
    },
    message: (messageId) => {
      const message = state.messages.get(messageId);
      return message && !message.deleted ? state.snapshot(message) : undefined;
    },
  };
}

function guildMember(state: LocalDiscordState, guildId: string, userId: string): { guild: GuildRecord; member: MemberRecord } {
  const guild = state.guild(guildId);
  const member = guild.members.get(userId);
  if (!member) throw new Error(`local-discord: user ${userId} is not a member of guild ${guildId}`);
  return { guild, member };
}
