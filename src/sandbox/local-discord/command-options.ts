import { ApplicationCommandOptionType } from 'discord.js';
import type { ChannelType } from 'discord.js';
import type {
  APIApplicationCommand,
  APIApplicationCommandBasicOption,
  APIApplicationCommandOption,
  APIApplicationCommandOptionChoice,
} from 'discord-api-types/v10';
import { codePointLength } from '../../shared/text.js';
import type { GuildRecord, LocalDiscordState } from './state.js';
import type { InvokeSlashArgs, JsonObject } from './types.js';
import { channelJson, interactionMemberJson, roleJson, userJson } from './wire.js';

/** The `resolved` block Discord attaches to interactions that mention users, roles or channels. */
export class ResolvedBuilder {
  readonly users: Record<string, JsonObject> = {};
  readonly members: Record<string, JsonObject> = {};
  readonly roles: Record<string, JsonObject> = {};
  readonly channels: Record<string, JsonObject> = {};

  constructor(
    private readonly state: LocalDiscordState,
    private readonly guild: GuildRecord | null,
  ) {}

  user(id: string): boolean {
    const user = this.state.users.get(id);
    if (!user) return false;
    this.users[id] = { ...userJson(user) };
    const member = this.guild?.members.get(id);
    if (this.guild && member) {
      // Resolved members omit `user` (it sits in `users`), and carry permissions.
      const { user: _user, deaf: _deaf, mute: _mute, ...rest } = interactionMemberJson(this.state, this.guild, member);
      this.members[id] = rest;
    }
    return true;
  }

  role(id: string): boolean {
    const role = this.guild?.roles.get(id);
    if (!role) return false;
    this.roles[id] = { ...roleJson(role) };
    return true;
  }

  channel(id: string, allowedTypes?: number[]): boolean {
    const channel = this.guild?.channels.get(id);
    if (!channel) return false;
    if (allowedTypes && allowedTypes.length > 0 && !allowedTypes.includes(channel.type)) return false;
    this.channels[id] = { ...channelJson(channel), permissions: '0' };
    return true;
  }

  toJson(): JsonObject | undefined {
    const out: JsonObject = {};
    for (const key of ['users', 'members', 'roles', 'channels'] as const) {
      if (Object.keys(this[key]).length > 0) out[key] = this[key];
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
}

function commandLabel(command: APIApplicationCommand, group?: string, sub?: string): string {
  return ['/' + command.name, group, sub].filter(Boolean).join(' ');
}

function names(options: readonly { name: string }[]): string {
  return options.length === 0 ? '(none)' : options.map((option) => option.name).join(', ');
}

export interface BuiltCommandOptions {
  options: JsonObject[];
  resolved: ResolvedBuilder;
  label: string;
}

/**
 * Turns a plain `name → value` map into the option tree Discord would send for the command as
 * the bot registered it, refusing what Discord's client would never let a user send.
 */
export function buildCommandOptions(
  state: LocalDiscordState,
  guild: GuildRecord | null,
  command: APIApplicationCommand,
  args: InvokeSlashArgs,
  focused?: string,
): BuiltCommandOptions {
  const top = command.options ?? [];
  const resolved = new ResolvedBuilder(state, guild);
  const hasSubcommands = top.some(
    (option) => option.type === ApplicationCommandOptionType.Subcommand || option.type === ApplicationCommandOptionType.SubcommandGroup,
  );
  let leaves: readonly APIApplicationCommandOption[] = top;
  let wrap: (leafOptions: JsonObject[]) => JsonObject[] = (leafOptions) => leafOptions;
  let label = commandLabel(command);

  if (hasSubcommands) {
    let container: readonly APIApplicationCommandOption[] = top;
    if (args.subcommandGroup !== undefined) {
      const group = top.find((option) => option.type === ApplicationCommandOptionType.SubcommandGroup && option.name === args.subcommandGroup);
      if (!group || group.type !== ApplicationCommandOptionType.SubcommandGroup) {
        throw new Error(`local-discord: ${label} has no subcommand group "${args.subcommandGroup}"; groups: ${names(top.filter((o) => o.type === ApplicationCommandOptionType.SubcommandGroup))}`);
      }
      container = group.options ?? [];
    }
    const subs = container.filter((option) => option.type === ApplicationCommandOptionType.Subcommand);
    if (args.subcommand === undefined) {
      throw new Error(`local-discord: ${label} needs a subcommand: ${names(subs)}`);
    }
    const sub = subs.find((option) => option.name === args.subcommand);
    if (!sub || sub.type !== ApplicationCommandOptionType.Subcommand) {
      throw new Error(`local-discord: ${commandLabel(command, args.subcommandGroup)} has no subcommand "${args.subcommand}"; it has: ${names(subs)}`);
    }
    leaves = sub.options ?? [];
    label = commandLabel(command, args.subcommandGroup, args.subcommand);
    const subName = sub.name;
    const groupName = args.subcommandGroup;
    wrap = (leafOptions) => {
      const subOption = { type: ApplicationCommandOptionType.Subcommand, name: subName, options: leafOptions };
      return groupName === undefined
        ? [subOption]
        : [{ type: ApplicationCommandOptionType.SubcommandGroup, name: groupName, options: [subOption] }];
    };
  } else if (args.subcommand !== undefined || args.subcommandGroup !== undefined) {
    throw new Error(`local-discord: ${label} has no subcommands`);
  }

  const given = { ...(args.options ?? {}) };
  if (focused !== undefined && !(focused in given)) given[focused] = '';
  for (const name of Object.keys(given)) {
    if (!leaves.some((option) => option.name === name)) {
      throw new Error(`local-discord: ${label} has no option "${name}"; it has: ${names(leaves)}`);
    }
  }

  const built: JsonObject[] = [];
  for (const option of leaves as readonly APIApplicationCommandBasicOption[]) {
    const raw = given[option.name];
    if (option.name === focused) {
      if (!('autocomplete' in option) || option.autocomplete !== true) {
        throw new Error(`local-discord: option "${option.name}" of ${label} is not registered with autocomplete: true, so Discord never asks the bot`);
      }
      built.push({ type: option.type, name: option.name, value: String(raw), focused: true });
      continue;
    }
    if (raw === undefined) {
      // Autocomplete fires before the user has filled every required option.
      if (option.required === true && focused === undefined) {
        throw new Error(`local-discord: ${label} requires option "${option.name}"`);
      }
      continue;
    }
    built.push({ type: option.type, name: option.name, value: convertValue(option, raw, resolved, label) });
  }
  return { options: wrap(built), resolved, label };
}

function convertValue(
  option: APIApplicationCommandBasicOption,
  raw: string | number | boolean,
  resolved: ResolvedBuilder,
  label: string,
): string | number | boolean {
  const where = `option "${option.name}" of ${label}`;
  switch (option.type) {
    case ApplicationCommandOptionType.String: {
      const value = String(raw);
      checkChoices(option.choices, value, where);
      // Discord counts these lengths in code points.
      if (option.min_length !== undefined && codePointLength(value) < option.min_length) throw new Error(`local-discord: ${where} must be at least ${option.min_length} characters`);
      if (option.max_length !== undefined && codePointLength(value) > option.max_length) throw new Error(`local-discord: ${where} must be at most ${option.max_length} characters`);
      return value;
    }
    case ApplicationCommandOptionType.Integer:
    case ApplicationCommandOptionType.Number: {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
      const integer = option.type === ApplicationCommandOptionType.Integer;
      if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
        throw new Error(`local-discord: ${where} takes ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}`);
      }
      checkChoices(option.choices, value, where);
      if (option.min_value !== undefined && value < option.min_value) throw new Error(`local-discord: ${where} must be ≥ ${option.min_value}`);
      if (option.max_value !== undefined && value > option.max_value) throw new Error(`local-discord: ${where} must be ≤ ${option.max_value}`);
      return value;
    }
    case ApplicationCommandOptionType.Boolean: {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw new Error(`local-discord: ${where} takes a boolean, got ${JSON.stringify(raw)}`);
    }
    case ApplicationCommandOptionType.User: {
      const id = String(raw);
      if (!resolved.user(id)) throw new Error(`local-discord: ${where} names unknown user ${id}`);
      return id;
    }
    case ApplicationCommandOptionType.Role: {
      const id = String(raw);
      if (!resolved.role(id)) throw new Error(`local-discord: ${where} names unknown role ${id}`);
      return id;
    }
    case ApplicationCommandOptionType.Channel: {
      const id = String(raw);
      const types = option.channel_types as ChannelType[] | undefined;
      if (!resolved.channel(id, types)) throw new Error(`local-discord: ${where} names channel ${id}, which is unknown or not of the allowed types`);
      return id;
    }
    case ApplicationCommandOptionType.Mentionable: {
      const id = String(raw);
      if (!resolved.user(id) && !resolved.role(id)) throw new Error(`local-discord: ${where} names ${id}, neither a user nor a role`);
      return id;
    }
    default:
      throw new Error(`local-discord: ${where} has type ${option.type}, which invokeSlash cannot fill (attachments are not supported)`);
  }
}

function checkChoices(choices: APIApplicationCommandOptionChoice[] | undefined, value: string | number, where: string): void {
  if (!choices || choices.length === 0) return;
  if (!choices.some((choice) => choice.value === value)) {
    throw new Error(`local-discord: ${where} only accepts its choices: ${choices.map((choice) => JSON.stringify(choice.value)).join(', ')}`);
  }
}
