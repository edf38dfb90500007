import { ChannelType, MessageType, PermissionFlagsBits } from 'discord.js';
import type { APIApplicationCommand } from 'discord-api-types/v10';
import {
  DiscordHttpError,
  asArray,
  asObject,
  asString,
  missingPermissions,
  unknownApplicationCommand,
  unknownChannel,
  unknownGuild,
  unknownMember,
  unknownMessage,
  unknownRole,
  unknownUser,
} from './http-util.js';
import type { InteractionDesk, WireAnswer } from './interactions.js';
import type { MessageStore } from './messages.js';
import type { ChannelRecord, GuildRecord, LocalDiscordState, MemberRecord, MessageRecord } from './state.js';
import type { LocalAuditEntry, RecordedRequest, UploadedFile } from './types.js';
import { normalizeCommands, validateMessageBody } from './validation.js';
import { channelJson, guildJson, memberJson, messageJson, roleJson, userJson } from './wire.js';

export interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  files: UploadedFile[];
  request: RecordedRequest;
}

export interface Route {
  method: string;
  pattern: string;
  /** Interaction callbacks and webhooks authenticate with the token in the path, not a header. */
  auth: boolean;
  handle: (context: RouteContext) => WireAnswer;
}

export interface RouteDeps {
  state: LocalDiscordState;
  desk: InteractionDesk;
  messages: MessageStore;
  auditLog: LocalAuditEntry[];
  gatewayUrl: () => string;
  memberChanged: (guild: GuildRecord, member: MemberRecord) => void;
  memberRemoved: (guild: GuildRecord, userId: string) => void;
  announce: (message: MessageRecord, event: 'create' | 'update' | 'delete') => void;
}

const ok = (body: unknown): WireAnswer => ({ status: 200, body });
const noContent = (): WireAnswer => ({ status: 204 });

export function buildRoutes(deps: RouteDeps): Route[] {
  const { state, desk, messages } = deps;

  const guildOf = (params: Record<string, string>): GuildRecord => {
    const guild = state.guilds.get(params.guildId ?? '');
    if (!guild) throw unknownGuild();
    return guild;
  };
  const memberOf = (guild: GuildRecord, userId: string | undefined): MemberRecord => {
    const member = guild.members.get(userId ?? '');
    if (!member) throw unknownMember();
    return member;
  };
  const botHas = (guild: GuildRecord, permission: bigint): boolean => {
    const bot = guild.members.get(state.botUser.id);
    return bot !== undefined && (state.memberPermissions(guild, bot) & permission) === permission;
  };
  const requireRoleManageable = (guild: GuildRecord, roleId: string): void => {
    const role = guild.roles.get(roleId);
    if (!role) throw unknownRole();
    if (state.botCannotManageRole(guild, role) !== null) throw missingPermissions();
  };
  const audit = (entry: Omit<LocalAuditEntry, 'time' | 'reason'>, request: RecordedRequest): void => {
    deps.auditLog.push({ ...entry, reason: request.auditLogReason, time: Date.now() });
  };
  const channelOf = (params: Record<string, string>): ChannelRecord => {
    const channel = state.findChannel(params.channelId ?? '');
    if (!channel) throw unknownChannel();
    return channel;
  };
  const channelMessage = (channel: ChannelRecord, messageId: string | undefined): MessageRecord => {
    const message = state.messages.get(messageId ?? '');
    if (!message || message.deleted || message.channelId !== channel.id || (message.flags & 64) !== 0) throw unknownMessage();
    return message;
  };
  const requireChannelAccess = (channel: ChannelRecord, permission: bigint): void => {
    if (channel.guildId === null) return;
    const guild = state.guild(channel.guildId);
    if (!botHas(guild, PermissionFlagsBits.ViewChannel)) throw new DiscordHttpError(403, 50001, 'Missing Access');
    if (!botHas(guild, permission)) throw missingPermissions();
  };

  const commandScope = (params: Record<string, string>): string | null => {
    if (params.applicationId !== state.applicationId) throw new DiscordHttpError(403, 50001, 'Missing Access');
    if (params.guildId === undefined) return null;
    if (!state.guilds.has(params.guildId)) throw new DiscordHttpError(403, 50001, 'Missing Access');
    return params.guildId;
  };
  const commandRoutes = (base: string): Route[] => [
    {
      method: 'GET',
      pattern: base,
      auth: true,
      handle: ({ params }) => ok(state.commandsFor(commandScope(params))),
    },
    {
      method: 'PUT',
      pattern: base,
      auth: true,
      handle: ({ params, body }) => {
        const scope = commandScope(params);
        const stored = normalizeCommands(body, state.commandsFor(scope), state.applicationId, scope, state.ids);
        state.commands.set(scope ?? '', stored);
        return ok(stored);
      },
    },
    {
      method: 'POST',
      pattern: base,
      auth: true,
      handle: ({ params, body }) => {
        const scope = commandScope(params);
        const current = state.commandsFor(scope);
        const [created] = normalizeCommands([body], current, state.applicationId, scope, state.ids);
        if (!created) throw new DiscordHttpError(400, 50035, 'Invalid Form Body');
        const existed = current.some((command) => command.id === created.id);
        state.commands.set(scope ?? '', [...current.filter((command) => command.id !== created.id), created]);
        return { status: existed ? 200 : 201, body: created };
      },
    },
    {
      method: 'GET',
      pattern: `${base}/:commandId`,
      auth: true,
      handle: ({ params }) => ok(findCommand(state.commandsFor(commandScope(params)), params.commandId)),
    },
    {
      method: 'PATCH',
      pattern: `${base}/:commandId`,
      auth: true,
      handle: ({ params, body }) => {
        const scope = commandScope(params);
        const current = state.commandsFor(scope);
        const existing = findCommand(current, params.commandId);
        const [updated] = normalizeCommands([{ ...existing, ...asObject(body) }], [existing], state.applicationId, scope, state.ids);
        if (!updated) throw new DiscordHttpError(400, 50035, 'Invalid Form Body');
        state.commands.set(scope ?? '', current.map((command) => (command.id === existing.id ? updated : command)));
        return ok(updated);
      },
    },
    {
      method: 'DELETE',
      pattern: `${base}/:commandId`,
      auth: true,
      handle: ({ params }) => {
        const scope = commandScope(params);
        const current = state.commandsFor(scope);
        const existing = findCommand(current, params.commandId);
        state.commands.set(scope ?? '', current.filter((command) => command.id !== existing.id));
        return noContent();
      },
    },
  ];

  const applicationJson = {
    id: state.applicationId,
    name: state.botUser.username,
    icon: null,
    description: '',
    bot_public: true,
    bot_require_code_grant: false,
    verify_key: '0'.repeat(64),
    flags: 0,
    team: null,
    bot: userJson(state.botUser),
    owner: userJson(state.botUser),
    summary: '',
    approximate_guild_count: state.guilds.size,
  };

  const setRole = (add: boolean) => ({ params, request }: RouteContext): WireAnswer => {
    const guild = guildOf(params);
    const member = memberOf(guild, params.userId);
    const roleId = params.roleId ?? '';
    requireRoleManageable(guild, roleId);
    const has = member.roles.includes(roleId);
    // Granting a role the member has, or taking one they lack, succeeds without an event, as on Discord.
    if (add !== has) {
      member.roles = add ? [...member.roles, roleId] : member.roles.filter((id) => id !== roleId);
      audit({ action: add ? 'member_role_add' : 'member_role_remove', guildId: guild.id, targetId: member.userId, roleId }, request);
      deps.memberChanged(guild, member);
    }
    return noContent();
  };

  return [
    {
      method: 'GET',
      pattern: '/gateway',
      auth: false,
      handle: () => ok({ url: deps.gatewayUrl() }),
    },
    {
      method: 'GET',
      pattern: '/gateway/bot',
      auth: true,
      handle: () =>
        ok({
          url: deps.gatewayUrl(),
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
        }),
    },
    {
      method: 'GET',
      pattern: '/users/@me',
      auth: true,
      handle: () => ok({ ...userJson(state.botUser), verified: true, mfa_enabled: false, flags: 0, email: null, locale: 'en-US' }),
    },
    {
      method: 'POST',
      pattern: '/users/@me/channels',
      auth: true,
      handle: ({ body }) => {
        const recipientId = asString(asObject(body).recipient_id) ?? '';
        const recipient = state.users.get(recipientId);
        if (!recipient) throw unknownUser();
        return ok(channelJson(state.dmChannelFor(recipientId), recipient));
      },
    },
    {
      method: 'GET',
      pattern: '/users/:userId',
      auth: true,
      handle: ({ params }) => {
        const user = state.users.get(params.userId ?? '');
        if (!user) throw unknownUser();
        return ok(userJson(user));
      },
    },
    { method: 'GET', pattern: '/applications/@me', auth: true, handle: () => ok(applicationJson) },
    { method: 'GET', pattern: '/oauth2/applications/@me', auth: true, handle: () => ok(applicationJson) },
    ...commandRoutes('/applications/:applicationId/commands'),
    ...commandRoutes('/applications/:applicationId/guilds/:guildId/commands'),
    {
      method: 'GET',
      pattern: '/guilds/:guildId',
      auth: true,
      handle: ({ params }) => ok(guildJson(guildOf(params))),
    },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/channels',
      auth: true,
      handle: ({ params }) => ok([...guildOf(params).channels.values()].map((channel) => channelJson(channel))),
    },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/roles',
      auth: true,
      handle: ({ params }) => ok([...guildOf(params).roles.values()].map(roleJson)),
    },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/members',
      auth: true,
      handle: ({ params, query }) => {
        const limit = Math.min(Math.max(Number(query.get('limit') ?? '1') || 1, 1), 1000);
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
        const limit = Math.min(Math.max(Number(query.get('limit') ?? '1') || 1, 1), 1000);
        const members = [...guildOf(params).members.values()].filter((member) => {
          const user = state.users.get(member.userId);
          return [user?.username, user?.globalName, member.nick].some((name) => name?.toLowerCase().startsWith(needle));
        });
        return ok(members.slice(0, limit).map((member) => memberJson(state, member)));
      },
    },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/members/:userId',
      auth: true,
      handle: ({ params }) => {
        const guild = guildOf(params);
        return ok(memberJson(state, memberOf(guild, params.userId)));
      },
    },
    {
      method: 'PATCH',
      pattern: '/guilds/:guildId/members/:userId',
      auth: true,
      handle: ({ params, body, request }) => {
        const guild = guildOf(params);
        const member = memberOf(guild, params.userId);
        const patch = asObject(body);
        if (Array.isArray(patch.roles)) {
          const wanted = asArray(patch.roles).map(String).filter((id) => id !== guild.id);
          const changed = [...wanted.filter((id) => !member.roles.includes(id)), ...member.roles.filter((id) => !wanted.includes(id))];
          for (const roleId of changed) requireRoleManageable(guild, roleId);
          member.roles = [...new Set(wanted)];
        }
        if ('nick' in patch) {
          if (!botHas(guild, PermissionFlagsBits.ManageNicknames)) throw missingPermissions();
          member.nick = asString(patch.nick) ?? null;
        }
        audit({ action: 'member_update', guildId: guild.id, targetId: member.userId }, request);
        deps.memberChanged(guild, member);
        return ok(memberJson(state, member));
      },
    },
    {
      method: 'DELETE',
      pattern: '/guilds/:guildId/members/:userId',
      auth: true,
      handle: ({ params, request }) => {
        const guild = guildOf(params);
        const member = memberOf(guild, params.userId);
        if (!botHas(guild, PermissionFlagsBits.KickMembers) || member.userId === guild.ownerId) throw missingPermissions();
        guild.members.delete(member.userId);
        audit({ action: 'member_kick', guildId: guild.id, targetId: member.userId }, request);
        deps.memberRemoved(guild, member.userId);
        return noContent();
      },
    },
    { method: 'PUT', pattern: '/guilds/:guildId/members/:userId/roles/:roleId', auth: true, handle: setRole(true) },
    { method: 'DELETE', pattern: '/guilds/:guildId/members/:userId/roles/:roleId', auth: true, handle: setRole(false) },
    {
      method: 'GET',
      pattern: '/channels/:channelId',
      auth: true,
      handle: ({ params }) => {
        const channel = channelOf(params);
        const recipient = channel.recipientId === null ? undefined : state.users.get(channel.recipientId);
        return ok(channelJson(channel, recipient));
      },
    },
    {
      method: 'GET',
      pattern: '/channels/:channelId/messages',
      auth: true,
      handle: ({ params, query }) => {
        const channel = channelOf(params);
        requireChannelAccess(channel, PermissionFlagsBits.ReadMessageHistory);
        const limit = Math.min(Math.max(Number(query.get('limit') ?? '50') || 50, 1), 100);
        // Discord lists newest first.
        const list = state.channelMessages(channel.id).reverse().slice(0, limit);
        return ok(list.map((message) => messageJson(state, message)));
      },
    },
    {
      method: 'POST',
      pattern: '/channels/:channelId/messages',
      auth: true,
      handle: ({ params, body, files }) => {
        const channel = channelOf(params);
        const payload = asObject(body);
        requireChannelAccess(channel, PermissionFlagsBits.SendMessages | (files.length > 0 ? PermissionFlagsBits.AttachFiles : 0n));
        validateMessageBody(payload, files, true);
        const message = messages.create({
          channelId: channel.id,
          guildId: channel.guildId,
          body: payload,
          files,
          type: MessageType.Default,
        });
        deps.announce(message, 'create');
        return ok(messageJson(state, message));
      },
    },
    {
      method: 'GET',
      pattern: '/channels/:channelId/messages/:messageId',
      auth: true,
      handle: ({ params }) => {
        const channel = channelOf(params);
        return ok(messageJson(state, channelMessage(channel, params.messageId)));
      },
    },
    {
      method: 'PATCH',
      pattern: '/channels/:channelId/messages/:messageId',
      auth: true,
      handle: ({ params, body, files }) => {
        const channel = channelOf(params);
        const message = channelMessage(channel, params.messageId);
        if (message.authorId !== state.botUser.id) throw new DiscordHttpError(403, 50005, 'Cannot edit a message authored by another user');
        const payload = asObject(body);
        validateMessageBody(payload, files, false);
        messages.edit(message, payload, files);
        deps.announce(message, 'update');
        return ok(messageJson(state, message));
      },
    },
    {
      method: 'DELETE',
      pattern: '/channels/:channelId/messages/:messageId',
      auth: true,
      handle: ({ params }) => {
        const channel = channelOf(params);
        const message = channelMessage(channel, params.messageId);
        if (message.authorId !== state.botUser.id && channel.type !== ChannelType.DM) {
          requireChannelAccess(channel, PermissionFlagsBits.ManageMessages);
        }
        message.deleted = true;
        deps.announce(message, 'delete');
        return noContent();
      },
    },
    {
      method: 'POST',
      pattern: '/interactions/:interactionId/:token/callback',
      auth: false,
      handle: ({ params, query, body, files }) =>
        desk.handleCallback(params.interactionId ?? '', params.token ?? '', query, body, files),
    },
    {
      method: 'POST',
      pattern: '/webhooks/:applicationId/:token',
      auth: false,
      handle: ({ params, query, body, files }) =>
        desk.executeWebhook(params.applicationId ?? '', params.token ?? '', query, body, files),
    },
    {
      method: 'GET',
      pattern: '/webhooks/:applicationId/:token/messages/:messageId',
      auth: false,
      handle: ({ params }) => desk.getWebhookMessage(params.applicationId ?? '', params.token ?? '', params.messageId ?? ''),
    },
    {
      method: 'PATCH',
      pattern: '/webhooks/:applicationId/:token/messages/:messageId',
      auth: false,
      handle: ({ params, body, files }) =>
        desk.editWebhookMessage(params.applicationId ?? '', params.token ?? '', params.messageId ?? '', body, files),
    },
    {
      method: 'DELETE',
      pattern: '/webhooks/:applicationId/:token/messages/:messageId',
      auth: false,
      handle: ({ params }) => desk.deleteWebhookMessage(params.applicationId ?? '', params.token ?? '', params.messageId ?? ''),
    },
  ];
}

function findCommand(commands: APIApplicationCommand[], commandId: string | undefined): APIApplicationCommand {
  const command = commands.find((candidate) => candidate.id === commandId);
  if (!command) throw unknownApplicationCommand();
  return command;
}
