import { ChannelType, PermissionFlagsBits } from 'discord.js';
import type { APIApplicationCommand } from 'discord-api-types/v10';
import { SnowflakeSource } from './ids.js';
import type { LocalGuildSeed, LocalMemberSeed, LocalMessage, LocalUserSeed } from './types.js';

export interface UserRecord {
  id: string;
  username: string;
  globalName: string | null;
  avatar: string | null;
  bot: boolean;
}

export interface RoleRecord {
  id: string;
  name: string;
  position: number;
  permissions: bigint;
  color: number;
  managed: boolean;
  botId: string | null;
}

export interface ChannelRecord {
  id: string;
  name: string;
  type: ChannelType;
  guildId: string | null;
  parentId: string | null;
  position: number;
  recipientId: string | null;
}

export interface MemberRecord {
  userId: string;
  roles: string[];
  nick: string | null;
  joinedAt: string;
  permissionsOverride: bigint | null;
}

export interface GuildRecord {
  id: string;
  name: string;
  ownerId: string;
  roles: Map<string, RoleRecord>;
  channels: Map<string, ChannelRecord>;
  members: Map<string, MemberRecord>;
}

/** A message as the fake holds it: the fields a test's snapshot shows (absent ones as null), and the fake's own bookkeeping. */
export interface MessageRecord extends Omit<LocalMessage, 'guildId' | 'interactionId' | 'editedAt'> {
  guildId: string | null;
  type: number;
  interactionId: string | null;
  interactionUserId: string | null;
  webhookId: string | null;
  editedAt: Date | null;
  deleted: boolean;
}

export const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((all, bit) => all | bit, 0n);

/** What Discord gives @everyone in a new server, minus the voice bits nothing here uses. */
export const DEFAULT_EVERYONE_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseApplicationCommands |
  PermissionFlagsBits.CreateInstantInvite |
  PermissionFlagsBits.ChangeNickname;

/** What a bot's invite link usually asks for: enough to post, and to grant roles below its own. */
export const DEFAULT_BOT_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ManageRoles;

export function toUserRecord(seed: LocalUserSeed): UserRecord {
  return {
    id: seed.id,
    username: seed.username,
    globalName: seed.global_name ?? null,
    avatar: seed.avatar ?? null,
    bot: seed.bot ?? false,
  };
}

export class LocalDiscordState {
  readonly ids = new SnowflakeSource();
  readonly users = new Map<string, UserRecord>();
  readonly guilds = new Map<string, GuildRecord>();
  readonly dmChannels = new Map<string, ChannelRecord>();
  readonly messages = new Map<string, MessageRecord>();
  /** Keyed by guild id; global commands under ''. */
  readonly commands = new Map<string, APIApplicationCommand[]>();
  readonly botUser: UserRecord;

  constructor(
    readonly applicationId: string,
    botUser: { id: string; username: string },
    seeds: LocalGuildSeed[],
  ) {
    this.botUser = { id: botUser.id, username: botUser.username, globalName: null, avatar: null, bot: true };
    this.users.set(this.botUser.id, this.botUser);
    for (const seed of seeds) this.addGuild(seed);
  }

  private addGuild(seed: LocalGuildSeed): void {
    if (this.guilds.has(seed.id)) throw new Error(`local-discord: guild ${seed.id} is seeded twice`);
    const guild: GuildRecord = {
      id: seed.id,
      name: seed.name,
      ownerId: seed.ownerId,
      roles: new Map(),
      channels: new Map(),
      members: new Map(),
    };
    for (const role of seed.roles) {
      guild.roles.set(role.id, {
        id: role.id,
        name: role.name,
        position: role.position,
        permissions: role.permissions === undefined ? 0n : BigInt(role.permissions),
        color: role.color ?? 0,
        managed: role.managed ?? false,
        botId: null,
      });
    }
    if (!guild.roles.has(seed.id)) {
      guild.roles.set(seed.id, {
        id: seed.id,
        name: '@everyone',
        position: 0,
        permissions: DEFAULT_EVERYONE_PERMISSIONS,
        color: 0,
        managed: false,
        botId: null,
      });
    }
    seed.channels.forEach((channel, position) => {
      guild.channels.set(channel.id, {
        id: channel.id,
        name: channel.name,
        type: channel.type ?? ChannelType.GuildText,
        guildId: seed.id,
        parentId: channel.parentId ?? null,
        position,
        recipientId: null,
      });
    });
    this.guilds.set(guild.id, guild);
    for (const member of seed.members) this.putMember(guild, member);

    if (!guild.members.has(this.botUser.id)) {
      // Inviting a bot creates a managed role named after it, placed above the server's existing roles.
      const top = Math.max(0, ...[...guild.roles.values()].map((role) => role.position));
      const botRole: RoleRecord = {
        id: this.ids.next(),
        name: this.botUser.username,
        position: top + 1,
        permissions: DEFAULT_BOT_PERMISSIONS,
        color: 0,
        managed: true,
        botId: this.botUser.id,
      };
      guild.roles.set(botRole.id, botRole);
      guild.members.set(this.botUser.id, {
        userId: this.botUser.id,
        roles: [botRole.id],
        nick: null,
        joinedAt: new Date().toISOString(),
        permissionsOverride: null,
      });
    }
  }

  /** Adds or replaces a member; returns the record. Unknown role ids are refused, as Discord would. */
  putMember(guild: GuildRecord, seed: LocalMemberSeed): MemberRecord {
    for (const roleId of seed.roles) {
      if (!guild.roles.has(roleId)) {
        throw new Error(`local-discord: member ${seed.user.id} has role ${roleId}, which guild ${guild.id} does not have`);
      }
    }
    const existing = this.users.get(seed.user.id);
    const user = toUserRecord(seed.user);
    if (existing === this.botUser) user.bot = true;
    this.users.set(user.id, existing === this.botUser ? this.botUser : user);
    const member: MemberRecord = {
      userId: seed.user.id,
      roles: seed.roles.filter((roleId) => roleId !== guild.id),
      nick: seed.nick ?? null,
      joinedAt: seed.joinedAt ?? new Date().toISOString(),
      permissionsOverride: seed.permissions === undefined ? null : BigInt(seed.permissions),
    };
    guild.members.set(member.userId, member);
    return member;
  }

  guild(guildId: string): GuildRecord {
    const guild = this.guilds.get(guildId);
    if (!guild) throw new Error(`local-discord: no guild ${guildId} (known: ${[...this.guilds.keys()].join(', ')})`);
    return guild;
  }

  firstGuild(): GuildRecord {
    const [guild] = this.guilds.values();
    if (!guild) throw new Error('local-discord: no guild is seeded');
    return guild;
  }

  findChannel(channelId: string): ChannelRecord | undefined {
    for (const guild of this.guilds.values()) {
      const channel = guild.channels.get(channelId);
      if (channel) return channel;
    }
    return this.dmChannels.get(channelId);
  }

  dmChannelFor(userId: string): ChannelRecord {
    for (const channel of this.dmChannels.values()) {
      if (channel.recipientId === userId) return channel;
    }
    const channel: ChannelRecord = {
      id: this.ids.next(),
      name: '',
      type: ChannelType.DM,
      guildId: null,
      parentId: null,
      position: 0,
      recipientId: userId,
    };
    this.dmChannels.set(channel.id, channel);
    return channel;
  }

  memberPermissions(guild: GuildRecord, member: MemberRecord): bigint {
    if (member.userId === guild.ownerId) return ALL_PERMISSIONS;
    if (member.permissionsOverride !== null) return member.permissionsOverride;
    let permissions = guild.roles.get(guild.id)?.permissions ?? 0n;
    for (const roleId of member.roles) permissions |= guild.roles.get(roleId)?.permissions ?? 0n;
    return (permissions & PermissionFlagsBits.Administrator) !== 0n ? ALL_PERMISSIONS : permissions;
  }

  highestRolePosition(guild: GuildRecord, member: MemberRecord): number {
    return Math.max(0, ...member.roles.map((roleId) => guild.roles.get(roleId)?.position ?? 0));
  }

  /** Why the bot may not grant or take `role`, in Discord's terms; null when it may. */
  botCannotManageRole(guild: GuildRecord, role: RoleRecord): string | null {
    if (guild.ownerId === this.botUser.id) return null;
    const bot = guild.members.get(this.botUser.id);
    if (!bot) return 'the bot is not in the guild';
    if ((this.memberPermissions(guild, bot) & PermissionFlagsBits.ManageRoles) === 0n) {
      return 'the bot lacks Manage Roles';
    }
    // Even an administrator bot cannot touch a role at or above its own highest role.
    if (role.position >= this.highestRolePosition(guild, bot)) {
      return `role ${role.name} (position ${role.position}) is not below the bot's highest role`;
    }
    if (role.managed) return `role ${role.name} is managed by an integration`;
    return null;
  }

  commandsFor(guildId: string | null): APIApplicationCommand[] {
    return this.commands.get(guildId ?? '') ?? [];
  }

  channelMessages(channelId: string): MessageRecord[] {
    return [...this.messages.values()].filter(
      (message) => message.channelId === channelId && !message.deleted && (message.flags & 64) === 0,
    );
  }

  snapshot(message: MessageRecord): LocalMessage {
    return {
      id: message.id,
      channelId: message.channelId,
      ...(message.guildId === null ? {} : { guildId: message.guildId }),
      authorId: message.authorId,
      content: message.content,
      embeds: structuredClone(message.embeds),
      components: structuredClone(message.components),
      attachments: message.attachments.map((attachment) => ({ ...attachment })),
      flags: message.flags,
      ...(message.interactionId === null ? {} : { interactionId: message.interactionId }),
      createdAt: message.createdAt,
      ...(message.editedAt === null ? {} : { editedAt: message.editedAt }),
    };
  }
}
