import { performance } from 'node:perf_hooks';
import {
  ApplicationCommandType,
  ButtonStyle,
  ChannelType,
  ComponentType,
  GatewayDispatchEvents,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  MessageType,
} from 'discord.js';
import type { APIApplicationCommand, APIModalInteractionResponseCallbackComponent } from 'discord-api-types/v10';
import { codePointLength } from '../../shared/text.js';
import { ResolvedBuilder, buildCommandOptions } from './command-options.js';
import type { LocalGateway } from './gateway.js';
import { DiscordHttpError, asArray, asObject, asString, invalidFormBody, unknownMessage } from './http-util.js';
import { createInteractionToken } from './ids.js';
import type { MessageStore } from './messages.js';
import type { ChannelRecord, GuildRecord, LocalDiscordState, MemberRecord, MessageRecord } from './state.js';
import type {
  AutocompleteArgs,
  AutocompleteChoice,
  ClickButtonArgs,
  InteractionCallbackRecord,
  InteractionHandle,
  InvokeSlashArgs,
  InvokeUserCommandArgs,
  JsonObject,
  LocalMessage,
  LocalModal,
  SelectMenuArgs,
  SubmitModalArgs,
  UploadedFile,
} from './types.js';
import { MAX_UPLOAD_BYTES, validateCallback, validateMessageBody } from './validation.js';
import { channelJson, interactionMemberJson, messageJson, userJson } from './wire.js';

type InteractionKind = 'command' | 'autocomplete' | 'component' | 'modal';

const ALLOWED_CALLBACKS: Record<InteractionKind, InteractionResponseType[]> = {
  command: [InteractionResponseType.ChannelMessageWithSource, InteractionResponseType.DeferredChannelMessageWithSource, InteractionResponseType.Modal],
  autocomplete: [InteractionResponseType.ApplicationCommandAutocompleteResult],
  component: [
    InteractionResponseType.ChannelMessageWithSource,
    InteractionResponseType.DeferredChannelMessageWithSource,
    InteractionResponseType.DeferredMessageUpdate,
    InteractionResponseType.UpdateMessage,
    InteractionResponseType.Modal,
  ],
  modal: [
    InteractionResponseType.ChannelMessageWithSource,
    InteractionResponseType.DeferredChannelMessageWithSource,
    InteractionResponseType.DeferredMessageUpdate,
    InteractionResponseType.UpdateMessage,
  ],
};

/** Interaction tokens stay valid for follow-ups and edits this long. */
const TOKEN_LIFETIME_MS = 15 * 60 * 1000;
const DEFAULT_WAIT_MS = 5000;

export interface InteractionRecord {
  id: string;
  token: string;
  type: InteractionType;
  kind: InteractionKind;
  label: string;
  guildId: string | null;
  channelId: string;
  userId: string;
  replyType: number;
  dispatchedAt: number;
  createdAtMs: number;
  callbacks: InteractionCallbackRecord[];
  /** A callback that arrived after the acknowledgement window and was refused. */
  late: InteractionCallbackRecord | null;
  originalId: string | null;
  sourceMessageId: string | null;
  followUpIds: string[];
  modal: LocalModal | null;
  choices: AutocompleteChoice[] | null;
  /** The message that made a deferral (5 or 6) visible. */
  shownAfterDefer: string | null;
  listeners: Set<() => void>;
}

export interface InteractionDeskDeps {
  state: LocalDiscordState;
  gateway: LocalGateway;
  messages: MessageStore;
  ackTimeoutMs: number;
  enforceDefaultMemberPermissions: boolean;
  announce: (message: MessageRecord, event: 'create' | 'update' | 'delete') => void;
  log: (line: string) => void;
}

export interface WireAnswer {
  status: number;
  body?: unknown;
}

class LocalInteractionHandle implements InteractionHandle {
  constructor(
    private readonly desk: InteractionDesk,
    private readonly record: InteractionRecord,
  ) {}

  get id(): string {
    return this.record.id;
  }

  get token(): string {
    return this.record.token;
  }

  get ephemeral(): boolean {
    const original = this.desk.messageRecord(this.record.originalId ?? this.record.sourceMessageId);
    return original !== undefined && (original.flags & MessageFlags.Ephemeral) !== 0;
  }

  firstResponse(ms = DEFAULT_WAIT_MS): Promise<InteractionCallbackRecord> {
    return this.desk.waitFor(this.record, ms, 'answered', () => {
      this.desk.throwIfLate(this.record);
      return this.record.callbacks[0];
    });
  }

  settled(ms = DEFAULT_WAIT_MS): Promise<LocalMessage | LocalModal> {
    return this.desk.waitFor(this.record, ms, 'settled', () => this.desk.settledResult(this.record));
  }

  original(): LocalMessage | undefined {
    return this.desk.snapshot(this.record.originalId);
  }

  followUps(): LocalMessage[] {
    return this.record.followUpIds
      .map((id) => this.desk.snapshot(id))
      .filter((message): message is LocalMessage => message !== undefined);
  }

  callbacks(): InteractionCallbackRecord[] {
    return this.record.callbacks.map((callback) => ({ ...callback }));
  }
}

interface InteractionContext {
  guild: GuildRecord | null;
  channel: ChannelRecord;
  member: MemberRecord | null;
  userId: string;
}

/** Builds interactions from what the bot registered, sends them down the gateway, and takes the bot's answers. */
export class InteractionDesk {
  readonly #records = new Map<string, InteractionRecord>();
  readonly #byToken = new Map<string, InteractionRecord>();

  constructor(private readonly deps: InteractionDeskDeps) {}

  // ---- driver side -------------------------------------------------------------------------

  async invokeSlash(args: InvokeSlashArgs): Promise<InteractionHandle> {
    const context = this.#commandContext(args);
    const command = this.#findCommand(context, args.name, ApplicationCommandType.ChatInput);
    const built = buildCommandOptions(this.deps.state, context.guild, command, args);
    const record = this.#newRecord(InteractionType.ApplicationCommand, 'command', built.label, context, MessageType.ChatInputCommand);
    const resolved = built.resolved.toJson();
    const data = {
      id: command.id,
      name: command.name,
      type: ApplicationCommandType.ChatInput,
      ...(command.guild_id === undefined ? {} : { guild_id: command.guild_id }),
      ...(built.options.length > 0 ? { options: built.options } : {}),
      ...(resolved === undefined ? {} : { resolved }),
    };
    return this.#dispatch(record, this.#payload(record, context, data, args.locale));
  }

  async invokeUserCommand(args: InvokeUserCommandArgs): Promise<InteractionHandle> {
    const context = this.#commandContext(args);
    const command = this.#findCommand(context, args.name, ApplicationCommandType.User);
    const resolved = new ResolvedBuilder(this.deps.state, context.guild);
    if (!resolved.user(args.targetUserId)) throw new Error(`local-discord: target user ${args.targetUserId} is unknown`);
    const record = this.#newRecord(InteractionType.ApplicationCommand, 'command', `user command "${command.name}"`, context, MessageType.ContextMenuCommand);
    const data = {
      id: command.id,
      name: command.name,
      type: ApplicationCommandType.User,
      target_id: args.targetUserId,
      resolved: resolved.toJson(),
      ...(command.guild_id === undefined ? {} : { guild_id: command.guild_id }),
    };
    return this.#dispatch(record, this.#payload(record, context, data, args.locale));
  }

  async autocomplete(args: AutocompleteArgs): Promise<AutocompleteChoice[]> {
    const context = this.#commandContext(args);
    const command = this.#findCommand(context, args.name, ApplicationCommandType.ChatInput);
    const built = buildCommandOptions(this.deps.state, context.guild, command, args, args.focused);
    const record = this.#newRecord(InteractionType.ApplicationCommandAutocomplete, 'autocomplete', `${built.label} (autocomplete ${args.focused})`, context, 0);
    const data = {
      id: command.id,
      name: command.name,
      type: ApplicationCommandType.ChatInput,
      options: built.options,
      ...(command.guild_id === undefined ? {} : { guild_id: command.guild_id }),
    };
    const handle = await this.#dispatch(record, this.#payload(record, context, data, args.locale));
    await handle.firstResponse(args.timeoutMs ?? DEFAULT_WAIT_MS);
    return (record.choices ?? []).map((choice) => ({ ...choice }));
  }

  async clickButton(args: ClickButtonArgs): Promise<InteractionHandle> {
    const { message, component } = this.#findComponent(args.message.id, args.customId, args.userId);
    if (component.type !== ComponentType.Button) {
      throw new Error(`local-discord: component "${args.customId}" on message ${message.id} is not a button (type ${String(component.type)})`);
    }
    if (component.style === ButtonStyle.Link || component.style === ButtonStyle.Premium) {
      throw new Error(`local-discord: button "${args.customId}" opens a link; Discord sends no interaction for it`);
    }
    return this.#dispatchComponent(message, args.userId, { custom_id: args.customId, component_type: ComponentType.Button });
  }

  async selectMenu(args: SelectMenuArgs): Promise<InteractionHandle> {
    const { message, component } = this.#findComponent(args.message.id, args.customId, args.userId);
    const type = component.type as ComponentType;
    const selectTypes: ComponentType[] = [
      ComponentType.StringSelect,
      ComponentType.UserSelect,
      ComponentType.RoleSelect,
      ComponentType.MentionableSelect,
      ComponentType.ChannelSelect,
    ];
    if (!selectTypes.includes(type)) {
      throw new Error(`local-discord: component "${args.customId}" on message ${message.id} is not a select menu (type ${type})`);
    }
    const min = typeof component.min_values === 'number' ? component.min_values : 1;
    const max = typeof component.max_values === 'number' ? component.max_values : 1;
    if (args.values.length < min || args.values.length > max) {
      throw new Error(`local-discord: select "${args.customId}" takes between ${min} and ${max} values, got ${args.values.length}`);
    }
    const guild = message.guildId === null ? null : this.deps.state.guild(message.guildId);
    const resolved = new ResolvedBuilder(this.deps.state, guild);
    this.#resolveSelectValues(type, component, args.values, resolved, `select "${args.customId}"`);
    const json = resolved.toJson();
    return this.#dispatchComponent(message, args.userId, {
      custom_id: args.customId,
      component_type: type,
      values: [...args.values],
      ...(json === undefined ? {} : { resolved: json }),
    });
  }

  async submitModal(args: SubmitModalArgs): Promise<InteractionHandle> {
    const opener = [...this.#records.values()]
      .reverse()
      .find((record) => record.modal?.customId === args.customId && record.userId === args.userId);
    if (!opener?.modal) {
      const shown = [...this.#records.values()].flatMap((record) => (record.modal ? [`"${record.modal.customId}" (to ${record.userId})`] : []));
      throw new Error(`local-discord: no modal "${args.customId}" was shown to user ${args.userId}; shown so far: ${shown.join(', ') || 'none'}`);
    }
    const sourceId = args.message?.id ?? opener.sourceMessageId;
    const source = sourceId === null ? undefined : this.messageRecord(sourceId);
    if (sourceId !== null && !source) throw new Error(`local-discord: message ${sourceId} does not exist`);
    const guild = opener.guildId === null ? null : this.deps.state.guild(opener.guildId);
    const resolved = new ResolvedBuilder(this.deps.state, guild);
    const components = this.#fillModal(opener.modal, args.fields, resolved);
    const context = this.#context(opener.guildId, opener.channelId, args.userId);
    const record = this.#newRecord(InteractionType.ModalSubmit, 'modal', `modal "${args.customId}"`, context, MessageType.Default);
    record.sourceMessageId = source?.id ?? null;
    const json = resolved.toJson();
    const data = { custom_id: args.customId, components, ...(json === undefined ? {} : { resolved: json }) };
    const payload = this.#payload(record, context, data);
    if (source) payload.message = messageJson(this.deps.state, source);
    return this.#dispatch(record, payload);
  }

  // ---- REST side ---------------------------------------------------------------------------

  handleCallback(interactionId: string, token: string, query: URLSearchParams, rawBody: unknown, files: UploadedFile[]): WireAnswer {
    const record = this.#records.get(interactionId);
    if (!record || record.token !== token) throw new DiscordHttpError(404, 10062, 'Unknown interaction');
    const body = asObject(rawBody);
    const type = (typeof body.type === 'number' ? body.type : -1) as InteractionResponseType;
    const data = asObject(body.data);
    const ackMs = Math.round(performance.now() - record.dispatchedAt);

    this.#admitCallback(record, type, body.data, ackMs);
    validateCallback(type, data, files);
    const message = this.#applyCallback(record, type, data, files);
    record.callbacks.push({ type, ...(body.data === undefined ? {} : { data: body.data }), ackMs });
    this.deps.log(`interaction ${record.label}: callback type ${type} after ${ackMs} ms`);
    this.#notify(record);

    if (query.get('with_response') !== 'true') return { status: 204 };
    return { status: 200, body: this.#callbackResponse(record, type, message) };
  }

  executeWebhook(applicationId: string, token: string, query: URLSearchParams, rawBody: unknown, files: UploadedFile[]): WireAnswer {
    const record = this.#webhookRecord(applicationId, token);
    if (record.callbacks.length === 0) throw new DiscordHttpError(404, 10015, 'Unknown Webhook');
    const body = asObject(rawBody);
    validateMessageBody(body, files, true);
    const original = this.messageRecord(record.originalId);
    let message: MessageRecord;
    if (original && (original.flags & MessageFlags.Loading) !== 0) {
      // The first follow-up after a deferred reply becomes the reply, keeping the deferral's ephemerality.
      this.deps.messages.edit(original, body, files);
      message = original;
      this.deps.announce(message, 'update');
    } else {
      message = this.deps.messages.create({
        channelId: record.channelId,
        guildId: record.guildId,
        body,
        files,
        type: record.replyType,
        allowEphemeral: true,
        interactionId: record.id,
        interactionUserId: record.userId,
        webhookId: this.deps.state.applicationId,
      });
      record.followUpIds.push(message.id);
      this.deps.announce(message, 'create');
    }
    record.shownAfterDefer ??= message.id;
    this.#notify(record);
    return query.get('wait') === 'true' ? { status: 200, body: messageJson(this.deps.state, message) } : { status: 204 };
  }

  getWebhookMessage(applicationId: string, token: string, messageId: string): WireAnswer {
    const record = this.#webhookRecord(applicationId, token);
    return { status: 200, body: messageJson(this.deps.state, this.#webhookMessage(record, messageId)) };
  }

  editWebhookMessage(applicationId: string, token: string, messageId: string, rawBody: unknown, files: UploadedFile[]): WireAnswer {
    const record = this.#webhookRecord(applicationId, token);
    const message = this.#webhookMessage(record, messageId);
    const body = asObject(rawBody);
    validateMessageBody(body, files, false);
    this.deps.messages.edit(message, body, files);
    if (message.id === record.originalId) record.shownAfterDefer ??= message.id;
    this.deps.announce(message, 'update');
    this.#notify(record);
    return { status: 200, body: messageJson(this.deps.state, message) };
  }

  deleteWebhookMessage(applicationId: string, token: string, messageId: string): WireAnswer {
    const record = this.#webhookRecord(applicationId, token);
    const message = this.#webhookMessage(record, messageId);
    message.deleted = true;
    this.deps.announce(message, 'delete');
    this.#notify(record);
    return { status: 204 };
  }

  // ---- waiting -----------------------------------------------------------------------------

  waitFor<T>(record: InteractionRecord, ms: number, what: string, probe: () => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        try {
          const value = probe();
          if (value === undefined) return false;
          resolve(value);
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
        return true;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        record.listeners.delete(listener);
        reject(new Error(`local-discord: ${record.label} (interaction ${record.id}) was not ${what} within ${ms} ms; ${this.#describe(record)}`));
      }, ms);
      const listener = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        record.listeners.delete(listener);
      };
      record.listeners.add(listener);
    });
  }

  throwIfLate(record: InteractionRecord): void {
    if (record.late) {
      throw new Error(
        `local-discord: ${record.label} was answered after ${record.late.ackMs} ms (type ${record.late.type}); ` +
          `Discord only accepts a first answer within ${this.deps.ackTimeoutMs} ms and refused it with 10062 Unknown interaction`,
      );
    }
  }

  settledResult(record: InteractionRecord): LocalMessage | LocalModal | undefined {
    this.throwIfLate(record);
    const first = record.callbacks[0];
    if (!first) return undefined;
    switch (first.type as InteractionResponseType) {
      case InteractionResponseType.ChannelMessageWithSource:
      case InteractionResponseType.UpdateMessage:
        return this.snapshot(record.originalId);
      case InteractionResponseType.Modal:
        return record.modal ? { ...record.modal } : undefined;
      case InteractionResponseType.DeferredChannelMessageWithSource: {
        const original = this.messageRecord(record.originalId);
        return original && (original.flags & MessageFlags.Loading) === 0 ? this.snapshot(original.id) : undefined;
      }
      case InteractionResponseType.DeferredMessageUpdate:
        return record.shownAfterDefer === null ? undefined : this.snapshot(record.shownAfterDefer);
      default:
        throw new Error(`local-discord: ${record.label} was answered with type ${first.type}, which shows nothing (use autocomplete() for choices)`);
    }
  }

  messageRecord(id: string | null): MessageRecord | undefined {
    if (id === null) return undefined;
    const message = this.deps.state.messages.get(id);
    return message && !message.deleted ? message : undefined;
  }

  snapshot(id: string | null): LocalMessage | undefined {
    const message = this.messageRecord(id);
    return message ? this.deps.state.snapshot(message) : undefined;
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Refuses a second answer, a late one (recorded, as Discord has already failed it) and a type this interaction may not get. */
  #admitCallback(record: InteractionRecord, type: InteractionResponseType, data: unknown, ackMs: number): void {
    if (record.callbacks.length > 0) throw new DiscordHttpError(400, 40060, 'Interaction has already been acknowledged.');
    if (ackMs > this.deps.ackTimeoutMs) {
      record.late = { type, data, ackMs };
      this.#notify(record);
      this.deps.log(`interaction ${record.label}: answered after ${ackMs} ms, refused with 10062`);
      throw new DiscordHttpError(404, 10062, 'Unknown interaction');
    }
    const allowed = ALLOWED_CALLBACKS[record.kind].filter(
      (candidate) =>
        record.kind !== 'modal' ||
        record.sourceMessageId !== null ||
        (candidate !== InteractionResponseType.DeferredMessageUpdate && candidate !== InteractionResponseType.UpdateMessage),
    );
    if (!allowed.includes(type)) {
      throw invalidFormBody('type', 'INTERACTION_RESPONSE_TYPE_INVALID', `Interaction response type ${type} is invalid for this interaction`);
    }
  }

  /** Does what the callback asks; returns the message it answered with or updated, if any. */
  #applyCallback(record: InteractionRecord, type: InteractionResponseType, data: JsonObject, files: UploadedFile[]): MessageRecord | undefined {
    let message: MessageRecord | undefined;
    switch (type) {
      case InteractionResponseType.ChannelMessageWithSource:
        message = this.#createResponse(record, data, files, 0);
        record.originalId = message.id;
        break;
      case InteractionResponseType.DeferredChannelMessageWithSource:
        message = this.#createResponse(record, { flags: data.flags }, [], MessageFlags.Loading);
        record.originalId = message.id;
        break;
      case InteractionResponseType.DeferredMessageUpdate:
        record.originalId = record.sourceMessageId;
        message = this.messageRecord(record.sourceMessageId);
        break;
      case InteractionResponseType.UpdateMessage: {
        const source = this.messageRecord(record.sourceMessageId);
        if (!source) throw unknownMessage();
        this.deps.messages.edit(source, data, files);
        record.originalId = source.id;
        message = source;
        this.deps.announce(source, 'update');
        break;
      }
      case InteractionResponseType.ApplicationCommandAutocompleteResult:
        record.choices = asArray(data.choices).map((raw) => {
          const choice = asObject(raw);
          return { name: asString(choice.name) ?? '', value: typeof choice.value === 'number' ? choice.value : String(choice.value) };
        });
        break;
      case InteractionResponseType.Modal:
        record.modal = {
          customId: asString(data.custom_id) ?? '',
          title: asString(data.title) ?? '',
          components: structuredClone(asArray(data.components)) as APIModalInteractionResponseCallbackComponent[],
          interactionId: record.id,
        };
        break;
      default:
        break;
    }
    return message;
  }

  /** The body of a `with_response=true` callback. */
  #callbackResponse(record: InteractionRecord, type: InteractionResponseType, message: MessageRecord | undefined): JsonObject {
    return {
      interaction: {
        id: record.id,
        type: record.type,
        ...(message
          ? {
              response_message_id: message.id,
              response_message_loading: (message.flags & MessageFlags.Loading) !== 0,
              response_message_ephemeral: (message.flags & MessageFlags.Ephemeral) !== 0,
            }
          : {}),
      },
      resource: { type, ...(message ? { message: messageJson(this.deps.state, message) } : {}) },
    };
  }

  #describe(record: InteractionRecord): string {
    const callbacks = record.callbacks.map((callback) => `type ${callback.type} after ${callback.ackMs} ms`);
    const original = this.messageRecord(record.originalId);
    const state = original ? ((original.flags & MessageFlags.Loading) !== 0 ? '@original is still loading' : '@original exists') : 'no @original';
    const late = record.late ? `; a late answer (type ${record.late.type} after ${record.late.ackMs} ms) was refused` : '';
    return `callbacks: ${callbacks.join(', ') || 'none'}; ${state}; follow-ups: ${record.followUpIds.length}${late}`;
  }

  #notify(record: InteractionRecord): void {
    for (const listener of [...record.listeners]) listener();
  }

  #context(guildId: string | null, channelId: string, userId: string): InteractionContext {
    const { state } = this.deps;
    if (guildId === null) {
      const channel = state.dmChannels.get(channelId);
      if (!channel) throw new Error(`local-discord: DM channel ${channelId} does not exist`);
      if (!state.users.has(userId)) throw new Error(`local-discord: user ${userId} is unknown`);
      return { guild: null, channel, member: null, userId };
    }
    const guild = state.guild(guildId);
    const channel = guild.channels.get(channelId);
    if (!channel) throw new Error(`local-discord: guild ${guild.id} has no channel ${channelId}`);
    const member = guild.members.get(userId);
    if (!member) throw new Error(`local-discord: user ${userId} is not a member of guild ${guild.id} (addMember first)`);
    return { guild, channel, member, userId };
  }

  #commandContext(args: { guildId?: string; channelId?: string; userId: string }): InteractionContext {
    const guild = args.guildId === undefined ? this.deps.state.firstGuild() : this.deps.state.guild(args.guildId);
    const channelId =
      args.channelId ?? [...guild.channels.values()].find((channel) => channel.type === ChannelType.GuildText)?.id;
    if (channelId === undefined) throw new Error(`local-discord: guild ${guild.id} has no text channel to invoke commands in`);
    return this.#context(guild.id, channelId, args.userId);
  }

  #findCommand(context: InteractionContext, name: string, type: ApplicationCommandType): APIApplicationCommand {
    const { state } = this.deps;
    const candidates = [...state.commandsFor(context.guild?.id ?? null), ...state.commandsFor(null)];
    const command = candidates.find((candidate) => candidate.name === name && candidate.type === type);
    if (!command) {
      const known = candidates.filter((candidate) => candidate.type === type).map((candidate) => candidate.name);
      throw new Error(
        `local-discord: no ${type === ApplicationCommandType.ChatInput ? 'slash' : 'user'} command "${name}" is registered ` +
          `for guild ${context.guild?.id ?? '(dm)'} or globally; registered: ${known.join(', ') || 'none'}`,
      );
    }
    if (this.deps.enforceDefaultMemberPermissions && context.guild && context.member && command.default_member_permissions) {
      const required = BigInt(command.default_member_permissions);
      const has = state.memberPermissions(context.guild, context.member);
      if ((has & required) !== required) {
        throw new Error(
          `local-discord: user ${context.userId} cannot see "${name}": it is registered with default_member_permissions ${required} ` +
            `and the member has ${has}`,
        );
      }
    }
    return command;
  }

  #findComponent(messageId: string, customId: string, userId: string): { message: MessageRecord; component: JsonObject } {
    const message = this.messageRecord(messageId);
    if (!message) throw new Error(`local-discord: message ${messageId} does not exist (or was deleted)`);
    if ((message.flags & MessageFlags.Ephemeral) !== 0 && message.interactionUserId !== userId) {
      // Discord shows an ephemeral message to one user only; allowed anyway so tests can prove
      // the bot refuses a replayed custom id from someone else.
      this.deps.log(`note: user ${userId} clicks ephemeral message ${messageId}, which only ${message.interactionUserId ?? '?'} could see on Discord`);
    }
    const found: JsonObject[] = [];
    const walk = (nodes: unknown[]): void => {
      for (const node of nodes.map(asObject)) {
        if (node.custom_id === customId) found.push(node);
        walk(asArray(node.components));
        if (node.accessory !== undefined) walk([node.accessory]);
        if (node.component !== undefined) walk([node.component]);
      }
    };
    walk(message.components);
    const component = found[0];
    if (!component) {
      const ids: string[] = [];
      const collect = (nodes: unknown[]): void => {
        for (const node of nodes.map(asObject)) {
          const id = asString(node.custom_id);
          if (id !== undefined) ids.push(id);
          collect(asArray(node.components));
          if (node.accessory !== undefined) collect([node.accessory]);
        }
      };
      collect(message.components);
      throw new Error(`local-discord: message ${messageId} has no component "${customId}"; it has: ${ids.join(', ') || 'none'}`);
    }
    if (component.disabled === true) throw new Error(`local-discord: component "${customId}" is disabled`);
    return { message, component };
  }

  #resolveSelectValues(type: ComponentType, component: JsonObject, values: string[], resolved: ResolvedBuilder, where: string): void {
    for (const value of values) {
      let ok: boolean;
      switch (type) {
        case ComponentType.StringSelect:
          ok = asArray(component.options).some((option) => asObject(option).value === value);
          break;
        case ComponentType.UserSelect:
          ok = resolved.user(value);
          break;
        case ComponentType.RoleSelect:
          ok = resolved.role(value);
          break;
        case ComponentType.MentionableSelect:
          ok = resolved.user(value) || resolved.role(value);
          break;
        default:
          ok = resolved.channel(value, asArray(component.channel_types) as number[]);
      }
      if (!ok) throw new Error(`local-discord: ${where} cannot take value "${value}"`);
    }
  }

  #fillModal(modal: LocalModal, fields: Record<string, string | string[]>, resolved: ResolvedBuilder): JsonObject[] {
    const inputs = modal.components.flatMap((raw) => {
      const component = asObject(raw);
      return component.type === ComponentType.Label ? [component.component] : asArray(component.components);
    });
    const known = inputs.map((input) => asString(asObject(input).custom_id)).filter((id) => id !== undefined);
    const unknown = Object.keys(fields).filter((key) => !known.includes(key));
    if (unknown.length > 0) {
      throw new Error(`local-discord: modal "${modal.customId}" has no field ${unknown.join(', ')}; it has: ${known.join(', ')}`);
    }
    const fill = (raw: unknown): JsonObject => {
      const input = asObject(raw);
      const customId = asString(input.custom_id) ?? '';
      const given = fields[customId];
      const where = `modal "${modal.customId}" field "${customId}"`;
      if (input.type === ComponentType.TextInput) {
        if (Array.isArray(given)) throw new Error(`local-discord: ${where} is a text input and takes a string`);
        const value = given ?? '';
        if (value === '' && input.required !== false) throw new Error(`local-discord: ${where} is required`);
        // Discord counts these lengths in code points.
        if (value !== '' && typeof input.min_length === 'number' && codePointLength(value) < input.min_length) throw new Error(`local-discord: ${where} needs at least ${input.min_length} characters`);
        if (typeof input.max_length === 'number' && codePointLength(value) > input.max_length) throw new Error(`local-discord: ${where} takes at most ${input.max_length} characters`);
        return { type: ComponentType.TextInput, ...(input.id === undefined ? {} : { id: input.id }), custom_id: customId, value };
      }
      const values = given === undefined ? [] : Array.isArray(given) ? given : [given];
      this.#resolveSelectValues(input.type as ComponentType, input, values, resolved, where);
      return { type: input.type, ...(input.id === undefined ? {} : { id: input.id }), custom_id: customId, values };
    };
    const components = modal.components.map((raw): JsonObject => {
      const component = asObject(raw);
      const id = component.id === undefined ? {} : { id: component.id };
      if (component.type === ComponentType.ActionRow) {
        return { type: ComponentType.ActionRow, ...id, components: asArray(component.components).map(fill) };
      }
      if (component.type === ComponentType.Label) return { type: ComponentType.Label, ...id, component: fill(component.component) };
      return { type: component.type, ...id };
    });
    return components;
  }

  #newRecord(type: InteractionType, kind: InteractionKind, label: string, context: InteractionContext, replyType: number): InteractionRecord {
    return {
      id: this.deps.state.ids.next(),
      token: createInteractionToken(),
      type,
      kind,
      label,
      guildId: context.guild?.id ?? null,
      channelId: context.channel.id,
      userId: context.userId,
      replyType,
      dispatchedAt: 0,
      createdAtMs: Date.now(),
      callbacks: [],
      late: null,
      originalId: null,
      sourceMessageId: null,
      followUpIds: [],
      modal: null,
      choices: null,
      shownAfterDefer: null,
      listeners: new Set(),
    };
  }

  #payload(record: InteractionRecord, context: InteractionContext, data: JsonObject, locale?: string): JsonObject {
    const { state } = this.deps;
    const { guild, member, channel } = context;
    const bot = guild?.members.get(state.botUser.id);
    const appPermissions = guild && bot ? state.memberPermissions(guild, bot) : 0n;
    const user = state.users.get(context.userId);
    if (!user) throw new Error(`local-discord: user ${context.userId} is unknown`);
    const recipient = channel.recipientId === null ? undefined : state.users.get(channel.recipientId);
    return {
      id: record.id,
      application_id: state.applicationId,
      type: record.type,
      data,
      token: record.token,
      version: 1,
      channel_id: channel.id,
      channel: channelJson(channel, recipient),
      ...(guild && member
        ? {
            guild_id: guild.id,
            guild: { id: guild.id, locale: 'en-US', features: [] },
            member: interactionMemberJson(state, guild, member),
            guild_locale: 'en-US',
          }
        : { user: userJson(user) }),
      app_permissions: appPermissions.toString(),
      locale: locale ?? 'en-US',
      entitlements: [],
      authorizing_integration_owners: guild ? { '0': guild.id } : { '1': user.id },
      context: guild ? 0 : 1,
      attachment_size_limit: MAX_UPLOAD_BYTES,
    };
  }

  async #dispatchComponent(message: MessageRecord, userId: string, data: JsonObject): Promise<InteractionHandle> {
    const context = this.#context(message.guildId, message.channelId, userId);
    const record = this.#newRecord(InteractionType.MessageComponent, 'component', `component "${String(data.custom_id)}"`, context, MessageType.Default);
    record.sourceMessageId = message.id;
    const payload = this.#payload(record, context, data);
    payload.message = messageJson(this.deps.state, message);
    return this.#dispatch(record, payload);
  }

  async #dispatch(record: InteractionRecord, payload: JsonObject): Promise<InteractionHandle> {
    await this.deps.gateway.waitForSession(DEFAULT_WAIT_MS);
    this.#records.set(record.id, record);
    this.#byToken.set(record.token, record);
    record.dispatchedAt = performance.now();
    this.deps.gateway.dispatch(GatewayDispatchEvents.InteractionCreate, payload);
    this.deps.log(`interaction ${record.label}: dispatched by user ${record.userId}`);
    return new LocalInteractionHandle(this, record);
  }

  #createResponse(record: InteractionRecord, data: JsonObject, files: UploadedFile[], systemFlags: number): MessageRecord {
    const message = this.deps.messages.create({
      channelId: record.channelId,
      guildId: record.guildId,
      body: data,
      files,
      type: record.replyType,
      systemFlags,
      allowEphemeral: true,
      interactionId: record.id,
      interactionUserId: record.userId,
      webhookId: this.deps.state.applicationId,
    });
    this.deps.announce(message, 'create');
    return message;
  }

  #webhookRecord(applicationId: string, token: string): InteractionRecord {
    const record = this.#byToken.get(token);
    if (!record || applicationId !== this.deps.state.applicationId) throw new DiscordHttpError(404, 10015, 'Unknown Webhook');
    if (Date.now() - record.createdAtMs > TOKEN_LIFETIME_MS) throw new DiscordHttpError(401, 50027, 'Invalid Webhook Token');
    return record;
  }

  #webhookMessage(record: InteractionRecord, messageId: string): MessageRecord {
    const id = messageId === '@original' ? record.originalId : messageId;
    if (id === null || (id !== record.originalId && !record.followUpIds.includes(id))) throw unknownMessage();
    const message = this.messageRecord(id);
    if (!message) throw unknownMessage();
    return message;
  }
}
