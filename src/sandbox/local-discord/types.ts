import type {
  APIApplicationCommand,
  APIEmbed,
  APIMessageTopLevelComponent,
  APIModalInteractionResponseCallbackComponent,
} from 'discord-api-types/v10';

/** Wire JSON as it crosses the fake's edges; typed loosely on purpose, narrowed where read. */
export type JsonObject = Record<string, unknown>;

export interface LocalUserSeed {
  id: string;
  username: string;
  global_name?: string | null;
  avatar?: string | null;
  bot?: boolean;
}

export interface LocalRoleSeed {
  id: string;
  name: string;
  position: number;
  /** Permission bits as a decimal string, as Discord sends them. */
  permissions?: string;
  color?: number;
  /** Managed roles belong to an integration (a bot's own role); nobody can grant them. */
  managed?: boolean;
}

export interface LocalChannelSeed {
  id: string;
  name: string;
  /** A discord-api-types `ChannelType`; 0 (guild text) when absent. */
  type?: number;
  parentId?: string;
}

export interface LocalMemberSeed {
  user: LocalUserSeed;
  /** Role ids besides @everyone. */
  roles: string[];
  /** Overrides the permissions computed from roles (decimal string), e.g. to make someone staff without a role. */
  permissions?: string;
  nick?: string | null;
  joinedAt?: string;
}

export interface LocalGuildSeed {
  id: string;
  name: string;
  ownerId: string;
  /** The @everyone role (id = guild id) is added when missing. */
  roles: LocalRoleSeed[];
  channels: LocalChannelSeed[];
  /** The bot is added as a member, with its own managed role, when it is not listed here. */
  members: LocalMemberSeed[];
}

/**
 * A canned answer for the next `times` requests whose method and path match.
 * `route` is either a path pattern relative to the versioned API base, where `:name` matches
 * one segment (`/guilds/:guildId/members/:userId/roles/:roleId`), or a RegExp tested against that path.
 */
export interface LocalFault {
  method?: string;
  route: string | RegExp;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Defaults to 1; `Infinity` keeps the fault until `clearFaults()`. */
  times?: number;
  /** Holds the answer this long first: longer than the client's timeout, it is a timeout. */
  delayMs?: number;
}

export interface LocalDiscordOptions {
  applicationId?: string;
  botUser?: { id: string; username: string };
  /** Defaults to one small store guild (see `DEFAULT_GUILD_SEED`). */
  guilds?: LocalGuildSeed[];
  /** 0 (an ephemeral port) by default. */
  port?: number;
  host?: string;
  faults?: LocalFault[];
  /** Discord forgets an interaction nobody answered within 3 s; callbacks after that get 10062. */
  interactionAckTimeoutMs?: number;
  /**
   * Refuse to invoke a command the member lacks `default_member_permissions` for, as a server
   * whose admins never touched Integrations would. Off by default: admins can widen a command to
   * any role there, so the bot must still check who is asking.
   */
  enforceDefaultMemberPermissions?: boolean;
  /** Sent in HELLO; Discord uses 41250. */
  heartbeatIntervalMs?: number;
  /** Receives one line per notable event (sandbox mode prints them). */
  log?: (line: string) => void;
}

export interface UploadedFile {
  /** The multipart field name, `files[0]` for discord.js. */
  field: string;
  filename: string;
  contentType?: string;
  size: number;
  data: Buffer;
}

export interface RecordedRequest {
  method: string;
  /** Decoded and relative to the versioned API base: `/webhooks/1/tok/messages/@original`. */
  path: string;
  /** The route that handled it, e.g. `PUT /guilds/:guildId/members/:userId/roles/:roleId`; null when unknown. */
  route: string | null;
  query: Record<string, string>;
  headers: Record<string, string>;
  authorization: string | null;
  /** `X-Audit-Log-Reason`, URI-decoded. */
  auditLogReason: string | null;
  /** Parsed JSON, or the `payload_json` part of a multipart body. */
  body: unknown;
  files: UploadedFile[];
  /** The status the fake answered with; 0 while the request is still being handled. */
  status: number;
  time: number;
}

export interface LocalAttachment {
  id: string;
  filename: string;
  contentType?: string;
  size: number;
  data: Buffer;
  description?: string;
  /** Served by the fake itself, so a bot that downloads its own upload gets the bytes back. */
  url: string;
}

export interface LocalMessage {
  id: string;
  channelId: string;
  guildId?: string;
  authorId: string;
  content: string;
  embeds: APIEmbed[];
  components: APIMessageTopLevelComponent[];
  attachments: LocalAttachment[];
  flags: number;
  /** The interaction this message answers, for replies and follow-ups. */
  interactionId?: string;
  createdAt: Date;
  editedAt?: Date;
}

export interface LocalModal {
  customId: string;
  title: string;
  components: APIModalInteractionResponseCallbackComponent[];
  /** The interaction that showed it. */
  interactionId: string;
}

export interface InteractionCallbackRecord {
  type: number;
  data?: unknown;
  /** Milliseconds from the INTERACTION_CREATE dispatch to the callback's arrival. */
  ackMs: number;
}

export interface InteractionHandle {
  readonly id: string;
  readonly token: string;
  /**
   * Resolves with the first callback (4 reply, 5 deferred reply, 6 deferred update, 7 update,
   * 8 autocomplete result, 9 modal). Rejects after `ms` (default 5000) if the bot never answers,
   * and when the answer came after the 3-second window (Discord refused it with 10062).
   */
  firstResponse(ms?: number): Promise<InteractionCallbackRecord>;
  /**
   * Resolves once the interaction shows a result: a reply (4) or update (7), a deferral (5/6)
   * followed by an edit of @original or a follow-up, or a modal (9).
   */
  settled(ms?: number): Promise<LocalMessage | LocalModal>;
  original(): LocalMessage | undefined;
  followUps(): LocalMessage[];
  callbacks(): InteractionCallbackRecord[];
  /** `flags & 64` on the original response (or on the message a component sits on). */
  readonly ephemeral: boolean;
}

export interface InvokeSlashArgs {
  /** Defaults to the first guild. */
  guildId?: string;
  /** Defaults to the guild's first text channel. */
  channelId?: string;
  userId: string;
  name: string;
  subcommand?: string;
  subcommandGroup?: string;
  /** name → value; USER / CHANNEL / ROLE / MENTIONABLE options take ids. Strings are coerced for INTEGER, NUMBER and BOOLEAN. */
  options?: Record<string, string | number | boolean>;
  locale?: string;
}

export interface InvokeUserCommandArgs {
  guildId?: string;
  channelId?: string;
  userId: string;
  name: string;
  targetUserId: string;
  locale?: string;
}

export interface AutocompleteArgs extends InvokeSlashArgs {
  /** The option being typed; its value in `options` is what the user typed so far ('' when absent). */
  focused: string;
  timeoutMs?: number;
}

export interface AutocompleteChoice {
  name: string;
  value: string | number;
}

export interface ClickButtonArgs {
  message: Pick<LocalMessage, 'id'>;
  customId: string;
  userId: string;
}

export interface SelectMenuArgs extends ClickButtonArgs {
  /** Option values for a string select; ids for user, role, channel and mentionable selects. */
  values: string[];
}

export interface SubmitModalArgs {
  customId: string;
  /** Text input custom id → value; a string select inside a label takes an array of values. */
  fields: Record<string, string | string[]>;
  userId: string;
  /** Defaults to the message whose component opened the modal, if any. */
  message?: Pick<LocalMessage, 'id'>;
}

export interface LocalAuditEntry {
  action: 'member_role_add' | 'member_role_remove' | 'member_update' | 'member_kick';
  guildId: string;
  targetId: string;
  roleId?: string;
  reason: string | null;
  time: number;
}

export interface GatewayStats {
  identifies: number;
  resumes: number;
  /** Sockets currently open. */
  connections: number;
}

export type ApplicationCommandJson = APIApplicationCommand;

export interface LocalDiscord {
  /** The REST base without the version, e.g. `http://127.0.0.1:PORT/api`; what DISCORD_API_URL is set to. */
  readonly apiUrl: string;
  readonly gatewayUrl: string;
  /** A token the fake accepts (it accepts any `Bot …` token and records it). */
  readonly token: string;
  readonly applicationId: string;
  readonly botUserId: string;
  readonly requests: RecordedRequest[];
  readonly auditLog: LocalAuditEntry[];

  registeredCommands(guildId?: string): ApplicationCommandJson[];
  addMember(guildId: string, member: LocalMemberSeed): void;
  removeMember(guildId: string, userId: string): void;
  /** Role ids besides @everyone; [] when the user is not a member. */
  memberRoles(guildId: string, userId: string): string[];
  hasMember(guildId: string, userId: string): boolean;
  setMemberRoles(guildId: string, userId: string, roleIds: string[]): void;
  /** Rewrites the bot's own (managed, else highest) role's permissions and tells the client. */
  setBotPermissions(guildId: string, permissions: bigint | string): void;
  updateRole(guildId: string, roleId: string, patch: { name?: string; position?: number; permissions?: bigint | string }): void;

  invokeSlash(args: InvokeSlashArgs): Promise<InteractionHandle>;
  invokeUserCommand(args: InvokeUserCommandArgs): Promise<InteractionHandle>;
  autocomplete(args: AutocompleteArgs): Promise<AutocompleteChoice[]>;
  clickButton(args: ClickButtonArgs): Promise<InteractionHandle>;
  selectMenu(args: SelectMenuArgs): Promise<InteractionHandle>;
  submitModal(args: SubmitModalArgs): Promise<InteractionHandle>;

  /** Messages visible in the channel (ephemeral ones are not), oldest first. */
  channelMessages(channelId: string): LocalMessage[];
  /** Messages the bot sent the user in DMs, oldest first. */
  dmMessages(userId: string): LocalMessage[];
  message(messageId: string): LocalMessage | undefined;

  injectFault(fault: LocalFault): void;
  clearFaults(): void;
  /** Resolves with the first recorded request (past or future) that matches. */
  waitForRequest(match: (request: RecordedRequest) => boolean, ms?: number): Promise<RecordedRequest>;

  /** Closes every gateway socket with a resumable code (4000); the client should RESUME. */
  dropGateway(code?: number): void;
  gatewayStats(): GatewayStats;

  stop(): Promise<void>;
}
