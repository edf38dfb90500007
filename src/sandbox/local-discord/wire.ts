import type { APIGuildMember, APIRole, APIUser, GuildMemberFlags, RoleFlags } from 'discord-api-types/v10';
import type { ChannelRecord, GuildRecord, LocalDiscordState, MemberRecord, MessageRecord, RoleRecord, UserRecord } from './state.js';
import type { JsonObject } from './types.js';

/** Serializers from the fake's records to the JSON Discord puts on the wire. */

export function userJson(user: UserRecord): APIUser {
  return {
    id: user.id,
    username: user.username,
    discriminator: '0',
    global_name: user.globalName,
    avatar: user.avatar,
    ...(user.bot ? { bot: true } : {}),
  };
}

export function roleJson(role: RoleRecord): APIRole {
  return {
    id: role.id,
    name: role.name,
    color: role.color,
    colors: { primary_color: role.color, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: role.position,
    permissions: role.permissions.toString(),
    managed: role.managed,
    mentionable: false,
    flags: 0 as RoleFlags,
    ...(role.botId === null ? {} : { tags: { bot_id: role.botId } }),
  };
}

export function channelJson(channel: ChannelRecord, recipient?: UserRecord): JsonObject {
  if (channel.guildId === null) {
    return {
      id: channel.id,
      type: channel.type,
      last_message_id: null,
      flags: 0,
      recipients: recipient ? [userJson(recipient)] : [],
    };
  }
  return {
    id: channel.id,
    type: channel.type,
    guild_id: channel.guildId,
    name: channel.name,
    position: channel.position,
    permission_overwrites: [],
    parent_id: channel.parentId,
    nsfw: false,
    topic: null,
    last_message_id: null,
    rate_limit_per_user: 0,
    flags: 0,
  };
}

export function memberJson(state: LocalDiscordState, member: MemberRecord): APIGuildMember {
  const user = state.users.get(member.userId);
  if (!user) throw new Error(`local-discord: member ${member.userId} has no user record`);
  return {
    user: userJson(user),
    nick: member.nick,
    avatar: null,
    banner: null,
    roles: [...member.roles],
    joined_at: member.joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    pending: false,
    communication_disabled_until: null,
  };
}

/** Interactions carry the member's effective permissions, which discord.js exposes as `memberPermissions`. */
export function interactionMemberJson(state: LocalDiscordState, guild: GuildRecord, member: MemberRecord): JsonObject {
  return { ...memberJson(state, member), permissions: state.memberPermissions(guild, member).toString() };
}

export function guildJson(guild: GuildRecord): JsonObject {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: [...guild.roles.values()].map(roleJson),
    emojis: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    max_presences: null,
    max_members: 500_000,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: 'en-US',
    public_updates_channel_id: null,
    max_video_channel_users: 25,
    approximate_member_count: guild.members.size,
    approximate_presence_count: 0,
    nsfw_level: 0,
    stickers: [],
    premium_progress_bar_enabled: false,
    safety_alerts_channel_id: null,
    incidents_data: null,
  };
}

export function guildCreateJson(state: LocalDiscordState, guild: GuildRecord, members: MemberRecord[]): JsonObject {
  const bot = guild.members.get(state.botUser.id);
  return {
    ...guildJson(guild),
    joined_at: bot?.joinedAt ?? new Date().toISOString(),
    large: guild.members.size > 50,
    unavailable: false,
    member_count: guild.members.size,
    voice_states: [],
    members: members.map((member) => memberJson(state, member)),
    channels: [...guild.channels.values()].map((channel) => channelJson(channel)),
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

export function messageJson(state: LocalDiscordState, message: MessageRecord): JsonObject {
  const author = state.users.get(message.authorId) ?? state.botUser;
  const json: JsonObject = {
    id: message.id,
    type: message.type,
    channel_id: message.channelId,
    ...(message.guildId === null ? {} : { guild_id: message.guildId }),
    author: userJson(author),
    content: message.content,
    timestamp: message.createdAt.toISOString(),
    edited_timestamp: message.editedAt?.toISOString() ?? null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: message.attachments.map((attachment) => ({
      id: attachment.id,
      filename: attachment.filename,
      size: attachment.size,
      url: attachment.url,
      proxy_url: attachment.url,
      ...(attachment.contentType === undefined ? {} : { content_type: attachment.contentType }),
      ...(attachment.description === undefined ? {} : { description: attachment.description }),
    })),
    embeds: message.embeds,
    pinned: false,
    flags: message.flags,
    components: message.components,
  };
  if (message.webhookId !== null) {
    json.webhook_id = message.webhookId;
    json.application_id = state.applicationId;
  }
  const interactionUser = message.interactionUserId === null ? undefined : state.users.get(message.interactionUserId);
  if (message.interactionId !== null && interactionUser) {
    json.interaction_metadata = {
      id: message.interactionId,
      type: 2,
      user: userJson(interactionUser),
      authorizing_integration_owners: message.guildId === null ? {} : { '0': message.guildId },
    };
  }
  return json;
}
