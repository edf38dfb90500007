import { ApplicationCommandOptionType, ApplicationCommandType, ComponentType, InteractionResponseType, MessageFlags } from 'discord.js';
import type { APIApplicationCommand, APIApplicationCommandOption } from 'discord-api-types/v10';
import { DiscordHttpError, asArray, asNumber, asObject, asString, invalidFormBody } from './http-util.js';
import type { SnowflakeSource } from './ids.js';
import type { UploadedFile } from './types.js';
import { codePointLength, isWellFormed } from '../../shared/text.js';

/**
 * The limits Discord enforces server-side (docs/discord-limits.md), so a bot that would be refused in
 * production is refused here too, with the same codes. Lengths are counted in code points, as
 * Discord counts them, so the fake is never stricter than Discord either.
 */

/** Discord documents 10 MiB per file for a server without boosts, and at most 10 files per message. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
export const MAX_FILES = 10;
const COMMAND_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

/** Discord documents that only these flags may be set on an interaction's message reply. */
const REPLY_FLAGS =
  MessageFlags.SuppressEmbeds | MessageFlags.Ephemeral | MessageFlags.SuppressNotifications | MessageFlags.IsVoiceMessage | MessageFlags.IsComponentsV2;

function tooLong(path: string, max: number): DiscordHttpError {
  return invalidFormBody(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
}

function required(path: string): DiscordHttpError {
  return invalidFormBody(path, 'BASE_TYPE_REQUIRED', 'This field is required');
}

/**
 * Refuses any string in `value` that holds half a surrogate pair: Discord stores text as UTF-8,
 * where a lone surrogate cannot exist, and refuses the whole body.
 */
function checkUnicode(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (!isWellFormed(value)) throw invalidFormBody(path, 'STRING_TYPE_INVALID_UNICODE', 'Must be a valid Unicode string.');
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkUnicode(item, path === '' ? String(index) : `${path}.${index}`));
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) checkUnicode(item, path === '' ? key : `${path}.${key}`);
  }
}

interface LengthRule {
  max: number;
  min?: number;
  /** Embed texts are trimmed before they are counted, so white space alone counts as empty. */
  trim?: boolean;
}

function checkLength(value: unknown, path: string, rule: LengthRule): number {
  const min = rule.min ?? 0;
  if (value === undefined || value === null) {
    if (min > 0) throw required(path);
    return 0;
  }
  const raw = typeof value === 'string' ? value : JSON.stringify(value);
  const text = rule.trim ? raw.trim() : raw;
  const length = codePointLength(text);
  if (length > rule.max) throw tooLong(path, rule.max);
  if (length < min) {
    if (length === 0 && min === 1) throw required(path);
    throw invalidFormBody(path, 'BASE_TYPE_BAD_LENGTH', `Must be between ${min} and ${rule.max} in length.`);
  }
  return length;
}

function checkRange(value: unknown, path: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = asNumber(value);
  if (n === undefined || !Number.isInteger(n)) throw invalidFormBody(path, 'NUMBER_TYPE_COERCE', `Value "${JSON.stringify(value)}" is not int.`);
  if (n < min) throw invalidFormBody(path, 'NUMBER_TYPE_MIN', `int value should be greater than or equal to ${min}.`);
  if (n > max) throw invalidFormBody(path, 'NUMBER_TYPE_MAX', `int value should be less than or equal to ${max}.`);
  return n;
}

/** Validates a message create/edit body (or an interaction callback's `data`). */
export function validateMessageBody(body: Record<string, unknown>, files: UploadedFile[], requireSomething: boolean): void {
  checkUnicode(body, '');
  checkLength(body.content, 'content', { max: 2000 });

  const embeds = asArray(body.embeds);
  if (embeds.length > 10) throw tooLong('embeds', 10);
  let embedCharacters = 0;
  embeds.forEach((raw, index) => {
    const embed = asObject(raw);
    const at = `embeds.${index}`;
    embedCharacters += checkLength(embed.title, `${at}.title`, { max: 256, trim: true });
    embedCharacters += checkLength(embed.description, `${at}.description`, { max: 4096, trim: true });
    if (embed.footer !== undefined) embedCharacters += checkLength(asObject(embed.footer).text, `${at}.footer.text`, { max: 2048, min: 1, trim: true });
    if (embed.author !== undefined) embedCharacters += checkLength(asObject(embed.author).name, `${at}.author.name`, { max: 256, min: 1, trim: true });
    const fields = asArray(embed.fields);
    if (fields.length > 25) throw tooLong(`${at}.fields`, 25);
    fields.forEach((rawField, fieldIndex) => {
      const field = asObject(rawField);
      embedCharacters += checkLength(field.name, `${at}.fields.${fieldIndex}.name`, { max: 256, min: 1, trim: true });
      embedCharacters += checkLength(field.value, `${at}.fields.${fieldIndex}.value`, { max: 1024, min: 1, trim: true });
    });
  });
  if (embedCharacters > 6000) {
    throw invalidFormBody('embeds', 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
  }

  const flags = asNumber(body.flags) ?? 0;
  const components = asArray(body.components);
  if ((flags & MessageFlags.IsComponentsV2) === 0) validateActionRows(components);

  validateFiles(files);

  if (requireSomething) {
    const hasContent = typeof body.content === 'string' && body.content.trim().length > 0;
    const hasSomething =
      hasContent ||
      embeds.length > 0 ||
      components.length > 0 ||
      files.length > 0 ||
      asArray(body.sticker_ids).length > 0 ||
      body.poll !== undefined;
    if (!hasSomething) throw new DiscordHttpError(400, 50006, 'Cannot send an empty message');
  }
}

function validateFiles(files: UploadedFile[]): void {
  if (files.length > MAX_FILES) throw tooLong('attachments', MAX_FILES);
  if (files.some((file) => file.size > MAX_UPLOAD_BYTES)) throw new DiscordHttpError(413, 40005, 'Request entity too large');
}

const SELECTS = new Set<number>([
  ComponentType.StringSelect,
  ComponentType.UserSelect,
  ComponentType.RoleSelect,
  ComponentType.MentionableSelect,
  ComponentType.ChannelSelect,
]);

function validateSelect(select: Record<string, unknown>, at: string): void {
  checkLength(select.placeholder, `${at}.placeholder`, { max: 150 });
  const min = checkRange(select.min_values, `${at}.min_values`, 0, 25) ?? 1;
  const max = checkRange(select.max_values, `${at}.max_values`, 1, 25) ?? 1;
  if (min > max) throw invalidFormBody(`${at}.min_values`, 'SELECT_COMPONENT_MIN_VALUES_GREATER_THAN_MAX', 'min_values must be less than or equal to max_values');
  if (select.type !== ComponentType.StringSelect) return;
  const options = asArray(select.options);
  if (options.length === 0 || options.length > 25) {
    throw invalidFormBody(`${at}.options`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 25 in length.');
  }
  if (max > options.length) {
    throw invalidFormBody(`${at}.max_values`, 'SELECT_COMPONENT_TOO_MANY_VALUES', 'max_values must be less than or equal to the number of options');
  }
  const values = new Set<string>();
  options.forEach((raw, index) => {
    const option = asObject(raw);
    const optionAt = `${at}.options.${index}`;
    checkLength(option.label, `${optionAt}.label`, { max: 100, min: 1 });
    checkLength(option.value, `${optionAt}.value`, { max: 100, min: 1 });
    checkLength(option.description, `${optionAt}.description`, { max: 100 });
    const value = asString(option.value) ?? '';
    if (values.has(value)) throw invalidFormBody(`${optionAt}.value`, 'SELECT_COMPONENT_OPTION_VALUE_DUPLICATED', 'Select option values must be unique');
    values.add(value);
  });
}

function validateActionRows(rows: unknown[]): void {
  if (rows.length > 5) throw tooLong('components', 5);
  const customIds = new Set<string>();
  rows.forEach((rawRow, rowIndex) => {
    const row = asObject(rawRow);
    const at = `components.${rowIndex}`;
    if (row.type !== ComponentType.ActionRow) {
      throw invalidFormBody(`${at}.type`, 'UNION_TYPE_CHOICES', 'Value of field "type" must be one of (1,).');
    }
    const children = asArray(row.components);
    if (children.length === 0 || children.length > 5) {
      throw invalidFormBody(`${at}.components`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
    }
    const hasSelect = children.some((child) => asObject(child).type !== ComponentType.Button);
    if (hasSelect && children.length > 1) {
      throw invalidFormBody(`${at}.components`, 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', 'The specified component exceeds the maximum width');
    }
    children.forEach((rawChild, childIndex) => {
      const child = asObject(rawChild);
      const childAt = `${at}.components.${childIndex}`;
      const isLink = child.type === ComponentType.Button && (child.style === 5 || child.style === 6);
      if (child.type === ComponentType.Button) {
        checkLength(child.label, `${childAt}.label`, { max: 80 });
        if (child.style === 5) checkLength(child.url, `${childAt}.url`, { max: 512, min: 1 });
      } else if (!SELECTS.has(asNumber(child.type) ?? -1)) {
        throw invalidFormBody(`${childAt}.type`, 'UNION_TYPE_CHOICES', 'Value of field "type" must be a button or a select menu.');
      }
      const customId = asString(child.custom_id);
      if (customId !== undefined) {
        checkLength(customId, `${childAt}.custom_id`, { max: 100, min: 1 });
        if (customIds.has(customId)) {
          throw invalidFormBody(`${childAt}.custom_id`, 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated');
        }
        customIds.add(customId);
      } else if (!isLink) {
        throw required(`${childAt}.custom_id`);
      }
      if (SELECTS.has(asNumber(child.type) ?? -1)) validateSelect(child, childAt);
    });
  });
}

function validateTextInput(input: Record<string, unknown>, at: string): void {
  checkLength(input.value, `${at}.value`, { max: 4000 });
  checkLength(input.placeholder, `${at}.placeholder`, { max: 100 });
  const min = checkRange(input.min_length, `${at}.min_length`, 0, 4000) ?? 0;
  const max = checkRange(input.max_length, `${at}.max_length`, 1, 4000) ?? 4000;
  if (min > max) throw invalidFormBody(`${at}.min_length`, 'TEXT_INPUT_MIN_LENGTH_GREATER_THAN_MAX', 'min_length must be less than or equal to max_length');
  if (input.style !== 1 && input.style !== 2) throw invalidFormBody(`${at}.style`, 'BASE_TYPE_CHOICES', 'Value must be one of {1, 2}.');
}

export function validateModal(data: Record<string, unknown>): void {
  checkUnicode(data, 'data');
  checkLength(data.title, 'data.title', { max: 45, min: 1 });
  checkLength(data.custom_id, 'data.custom_id', { max: 100, min: 1 });
  const components = asArray(data.components);
  if (components.length === 0 || components.length > 5) {
    throw invalidFormBody('data.components', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
  }
  const customIds = new Set<string>();
  components.forEach((raw, index) => {
    const component = asObject(raw);
    const inputs =
      component.type === ComponentType.ActionRow
        ? asArray(component.components).map(asObject)
        : component.type === ComponentType.Label
          ? [asObject(component.component)]
          : [];
    if (component.type === ComponentType.Label) {
      checkLength(component.label, `data.components.${index}.label`, { max: 45, min: 1 });
      checkLength(component.description, `data.components.${index}.description`, { max: 100 });
    }
    inputs.forEach((input, inputIndex) => {
      const at = component.type === ComponentType.Label ? `data.components.${index}.component` : `data.components.${index}.components.${inputIndex}`;
      checkLength(input.custom_id, `${at}.custom_id`, { max: 100, min: 1 });
      const customId = asString(input.custom_id) ?? '';
      if (customIds.has(customId)) throw invalidFormBody(`${at}.custom_id`, 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated');
      customIds.add(customId);
      if (input.type === ComponentType.TextInput) {
        if (component.type === ComponentType.ActionRow) checkLength(input.label, `${at}.label`, { max: 45, min: 1 });
        validateTextInput(input, at);
      } else if (SELECTS.has(asNumber(input.type) ?? -1)) {
        validateSelect(input, at);
      }
    });
  });
}

export function validateAutocompleteChoices(data: Record<string, unknown>): void {
  checkUnicode(data, 'data');
  const choices = asArray(data.choices);
  if (choices.length > 25) throw tooLong('data.choices', 25);
  choices.forEach((raw, index) => {
    const choice = asObject(raw);
    checkLength(choice.name, `data.choices.${index}.name`, { max: 100, min: 1 });
    if (typeof choice.value === 'string') checkLength(choice.value, `data.choices.${index}.value`, { max: 100 });
  });
}

function checkFlags(data: Record<string, unknown>, allowed: number): void {
  const flags = asNumber(data.flags) ?? 0;
  if ((flags & ~allowed) !== 0) throw invalidFormBody('data.flags', 'MESSAGE_FLAGS_INVALID', 'Invalid message flags.');
}

/**
 * Validates an interaction callback's `data` for its type, as Discord does before it shows
 * anything. Which types an interaction accepts at all is the caller's concern.
 */
export function validateCallback(type: InteractionResponseType, data: Record<string, unknown>, files: UploadedFile[]): void {
  switch (type) {
    case InteractionResponseType.ChannelMessageWithSource:
      checkFlags(data, REPLY_FLAGS);
      validateMessageBody(data, files, true);
      break;
    case InteractionResponseType.UpdateMessage:
      checkFlags(data, REPLY_FLAGS);
      validateMessageBody(data, files, false);
      break;
    case InteractionResponseType.DeferredChannelMessageWithSource:
      // Discord documents that a deferral may only carry the ephemeral flag.
      checkFlags(data, MessageFlags.Ephemeral);
      break;
    case InteractionResponseType.ApplicationCommandAutocompleteResult:
      validateAutocompleteChoices(data);
      break;
    case InteractionResponseType.Modal:
      validateModal(data);
      break;
    default:
      break;
  }
}

const SUBCOMMANDS = new Set<number>([ApplicationCommandOptionType.Subcommand, ApplicationCommandOptionType.SubcommandGroup]);

function validateOptions(options: unknown[], at: string, depth: number): void {
  if (options.length > 25) throw invalidFormBody(`${at}`, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  const names = new Set<string>();
  let sawOptional = false;
  const kinds = new Set<boolean>();
  options.forEach((raw, index) => {
    const option = asObject(raw);
    const optionAt = `${at}.${index}`;
    const rawType = asNumber(option.type);
    const type = rawType as ApplicationCommandOptionType | undefined;
    const name = asString(option.name) ?? '';
    if (!COMMAND_NAME.test(name) || name !== name.toLowerCase()) {
      throw invalidFormBody(`${optionAt}.name`, 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
    }
    if (names.has(name)) {
      throw invalidFormBody(`${optionAt}.name`, 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS', 'Option names must be unique');
    }
    names.add(name);
    checkLength(option.description, `${optionAt}.description`, { max: 100, min: 1 });
    if (type === undefined || rawType === undefined || rawType < 1 || rawType > 11) {
      throw invalidFormBody(`${optionAt}.type`, 'BASE_TYPE_CHOICES', 'Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.');
    }
    const isSub = SUBCOMMANDS.has(type);
    kinds.add(isSub);
    if (isSub) {
      const maxDepth = type === ApplicationCommandOptionType.SubcommandGroup ? 0 : 1;
      if (depth > maxDepth) {
        throw invalidFormBody(`${optionAt}.type`, 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'Sub-command and sub-command group option types are mutually exclusive to all other types');
      }
      const children = asArray(option.options);
      if (type === ApplicationCommandOptionType.SubcommandGroup && children.some((child) => (asObject(child).type as ApplicationCommandOptionType) !== ApplicationCommandOptionType.Subcommand)) {
        throw invalidFormBody(`${optionAt}.options`, 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'A sub-command group may only contain sub-commands');
      }
      validateOptions(children, `${optionAt}.options`, depth + 1);
      return;
    }
    if (option.required === true && sawOptional) {
      throw invalidFormBody(`${optionAt}.required`, 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', 'Required options must be placed before non-required options');
    }
    if (option.required !== true) sawOptional = true;
    const choices = asArray(option.choices);
    if (choices.length > 25) throw invalidFormBody(`${optionAt}.choices`, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
    if (choices.length > 0 && option.autocomplete === true) {
      throw invalidFormBody(`${optionAt}.autocomplete`, 'APPLICATION_COMMAND_AUTOCOMPLETE_INVALID', 'Autocomplete cannot be set on options with choices');
    }
    choices.forEach((rawChoice, choiceIndex) => {
      const choice = asObject(rawChoice);
      checkLength(choice.name, `${optionAt}.choices.${choiceIndex}.name`, { max: 100, min: 1 });
      if (typeof choice.value === 'string') checkLength(choice.value, `${optionAt}.choices.${choiceIndex}.value`, { max: 100, min: 1 });
    });
  });
  if (kinds.size > 1) {
    throw invalidFormBody(at, 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'Sub-command and sub-command group option types are mutually exclusive to all other types');
  }
}

/**
 * Validates a bulk-overwrite body and returns the commands as Discord stores them: ids kept for
 * commands that already existed under the same name and type, new ids otherwise.
 */
export function normalizeCommands(
  body: unknown,
  existing: APIApplicationCommand[],
  applicationId: string,
  guildId: string | null,
  ids: SnowflakeSource,
): APIApplicationCommand[] {
  if (!Array.isArray(body)) throw new DiscordHttpError(400, 50035, 'Invalid Form Body');
  checkUnicode(body, '');
  const seen = new Set<string>();
  const perType = new Map<ApplicationCommandType, number>();
  return (body as unknown[]).map((raw, index) => {
    const command = asObject(raw);
    const type = (asNumber(command.type) ?? ApplicationCommandType.ChatInput) as ApplicationCommandType;
    const name = asString(command.name) ?? '';
    perType.set(type, (perType.get(type) ?? 0) + 1);
    const limit = type === ApplicationCommandType.ChatInput ? 100 : 15;
    if ((perType.get(type) ?? 0) > limit) {
      throw new DiscordHttpError(400, 30032, 'Maximum number of application commands reached');
    }
    const nameOk =
      type === ApplicationCommandType.ChatInput ? COMMAND_NAME.test(name) && name === name.toLowerCase() : codePointLength(name) >= 1 && codePointLength(name) <= 32;
    if (!nameOk) throw invalidFormBody(`${index}.name`, 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
    if (seen.has(`${type}:${name}`)) {
      throw invalidFormBody(`${index}.name`, 'APPLICATION_COMMANDS_DUPLICATE_NAME', `Application command names must be unique`);
    }
    seen.add(`${type}:${name}`);
    const description = asString(command.description) ?? '';
    if (type === ApplicationCommandType.ChatInput) {
      checkLength(description, `${index}.description`, { max: 100, min: 1 });
      validateOptions(asArray(command.options), `${index}.options`, 0);
    }
    const previous = existing.find((candidate) => candidate.name === name && candidate.type === type);
    const permissions = command.default_member_permissions;
    const stored = {
      id: previous?.id ?? ids.next(),
      application_id: applicationId,
      version: ids.next(),
      type,
      name,
      name_localizations: (command.name_localizations as APIApplicationCommand['name_localizations']) ?? null,
      description,
      description_localizations:
        (command.description_localizations as APIApplicationCommand['description_localizations']) ?? null,
      default_member_permissions: typeof permissions === 'string' ? permissions : null,
      nsfw: command.nsfw === true,
      ...(guildId === null ? {} : { guild_id: guildId }),
      ...(type === ApplicationCommandType.ChatInput
        ? { options: structuredClone(asArray(command.options)) as APIApplicationCommandOption[] }
        : {}),
      contexts: (command.contexts as APIApplicationCommand['contexts']) ?? null,
      integration_types: (command.integration_types as APIApplicationCommand['integration_types']) ?? [0],
      ...(typeof command.dm_permission === 'boolean' ? { dm_permission: command.dm_permission } : {}),
    } as APIApplicationCommand;
    return stored;
  });
}
