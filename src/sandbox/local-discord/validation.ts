import { ApplicationCommandOptionType, ApplicationCommandType, ComponentType, MessageFlags } from 'discord.js';
import type { APIApplicationCommand, APIApplicationCommandOption } from 'discord-api-types/v10';
import { DiscordHttpError, asArray, asNumber, asObject, asString, invalidFormBody } from './http-util.js';
import type { SnowflakeSource } from './ids.js';
import type { UploadedFile } from './types.js';

/**
 * The limits Discord enforces server-side (PRODUCT.md §12), so a bot that would be refused in
 * production is refused here too, with the same codes.
 */

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
const COMMAND_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

function tooLong(path: string, max: number): DiscordHttpError {
  return invalidFormBody(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
}

function checkLength(value: unknown, path: string, max: number, min = 0): number {
  if (value === undefined || value === null) {
    if (min > 0) throw invalidFormBody(path, 'BASE_TYPE_REQUIRED', 'This field is required');
    return 0;
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text.length > max) throw tooLong(path, max);
  if (text.length < min) {
    throw invalidFormBody(path, 'BASE_TYPE_BAD_LENGTH', `Must be between ${min} and ${max} in length.`);
  }
  return text.length;
}

/** Validates a message create/edit body (or an interaction callback's `data`). */
export function validateMessageBody(body: Record<string, unknown>, files: UploadedFile[], requireSomething: boolean): void {
  checkLength(body.content, 'content', 2000);

  const embeds = asArray(body.embeds);
  if (embeds.length > 10) throw invalidFormBody('embeds', 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
  let embedCharacters = 0;
  embeds.forEach((raw, index) => {
    const embed = asObject(raw);
    const at = `embeds.${index}`;
    embedCharacters += checkLength(embed.title, `${at}.title`, 256);
    embedCharacters += checkLength(embed.description, `${at}.description`, 4096);
    embedCharacters += checkLength(asObject(embed.footer).text, `${at}.footer.text`, 2048);
    embedCharacters += checkLength(asObject(embed.author).name, `${at}.author.name`, 256);
    const fields = asArray(embed.fields);
    if (fields.length > 25) throw invalidFormBody(`${at}.fields`, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
    fields.forEach((rawField, fieldIndex) => {
      const field = asObject(rawField);
      embedCharacters += checkLength(field.name, `${at}.fields.${fieldIndex}.name`, 256, 1);
      embedCharacters += checkLength(field.value, `${at}.fields.${fieldIndex}.value`, 1024, 1);
    });
  });
  if (embedCharacters > 6000) {
    throw invalidFormBody('embeds', 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
  }

  const flags = asNumber(body.flags) ?? 0;
  const components = asArray(body.components);
  if ((flags & MessageFlags.IsComponentsV2) === 0) validateActionRows(components);

  const uploaded = files.reduce((total, file) => total + file.size, 0);
  if (uploaded > MAX_UPLOAD_BYTES) throw new DiscordHttpError(413, 40005, 'Request entity too large');

  if (requireSomething) {
    const hasContent = typeof body.content === 'string' && body.content.length > 0;
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

function validateActionRows(rows: unknown[]): void {
  if (rows.length > 5) throw invalidFormBody('components', 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
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
      checkLength(child.label, `${childAt}.label`, 80);
      const customId = asString(child.custom_id);
      if (customId !== undefined) {
        checkLength(customId, `${childAt}.custom_id`, 100, 1);
        if (customIds.has(customId)) {
          throw invalidFormBody(`${childAt}.custom_id`, 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated');
        }
        customIds.add(customId);
      } else if (child.type !== ComponentType.Button || (child.style !== 5 && child.style !== 6)) {
        throw invalidFormBody(`${childAt}.custom_id`, 'BASE_TYPE_REQUIRED', 'This field is required');
      }
      if (child.type === ComponentType.StringSelect) {
        const options = asArray(child.options);
        if (options.length === 0 || options.length > 25) {
          throw invalidFormBody(`${childAt}.options`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 25 in length.');
        }
      }
    });
  });
}

export function validateModal(data: Record<string, unknown>): void {
  checkLength(data.title, 'data.title', 45, 1);
  checkLength(data.custom_id, 'data.custom_id', 100, 1);
  const components = asArray(data.components);
  if (components.length === 0 || components.length > 5) {
    throw invalidFormBody('data.components', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
  }
  components.forEach((raw, index) => {
    const component = asObject(raw);
    const inputs =
      component.type === ComponentType.ActionRow
        ? asArray(component.components).map(asObject)
        : component.type === ComponentType.Label
          ? [asObject(component.component)]
          : [];
    if (component.type === ComponentType.Label) checkLength(component.label, `data.components.${index}.label`, 45, 1);
    inputs.forEach((input, inputIndex) => {
      const at = `data.components.${index}.components.${inputIndex}`;
      checkLength(input.custom_id, `${at}.custom_id`, 100, 1);
      if (input.type === ComponentType.TextInput && component.type === ComponentType.ActionRow) {
        checkLength(input.label, `${at}.label`, 45, 1);
      }
    });
  });
}

export function validateAutocompleteChoices(data: Record<string, unknown>): void {
  const choices = asArray(data.choices);
  if (choices.length > 25) throw invalidFormBody('data.choices', 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  choices.forEach((raw, index) => {
    const choice = asObject(raw);
    checkLength(choice.name, `data.choices.${index}.name`, 100, 1);
    if (typeof choice.value === 'string') checkLength(choice.value, `data.choices.${index}.value`, 100);
  });
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
    checkLength(option.description, `${optionAt}.description`, 100, 1);
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
      checkLength(choice.name, `${optionAt}.choices.${choiceIndex}.name`, 100, 1);
      if (typeof choice.value === 'string') checkLength(choice.value, `${optionAt}.choices.${choiceIndex}.value`, 100, 1);
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
      type === ApplicationCommandType.ChatInput ? COMMAND_NAME.test(name) && name === name.toLowerCase() : name.length >= 1 && name.length <= 32;
    if (!nameOk) throw invalidFormBody(`${index}.name`, 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
    if (seen.has(`${type}:${name}`)) {
      throw invalidFormBody(`${index}.name`, 'APPLICATION_COMMANDS_DUPLICATE_NAME', `Application command names must be unique`);
    }
    seen.add(`${type}:${name}`);
    const description = asString(command.description) ?? '';
    if (type === ApplicationCommandType.ChatInput) {
      checkLength(description, `${index}.description`, 100, 1);
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
