import { once } from 'node:events';
import { ButtonStyle, Client, ComponentType, Events, GatewayIntentBits, InteractionResponseType, MessageFlags } from 'discord.js';
import type { Interaction, RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IDS, startLocalDiscord } from '../../src/sandbox/local-discord/index.js';
import type { LocalDiscord, UploadedFile } from '../../src/sandbox/local-discord/index.js';
import { DiscordHttpError } from '../../src/sandbox/local-discord/http-util.js';
import { validateAutocompleteChoices, validateCallback, validateMessageBody, validateModal } from '../../src/sandbox/local-discord/validation.js';

const LONE = '\ud83d';
const EMOJI = '😀';
const MiB = 1024 * 1024;

function emoji(count: number): string {
  return EMOJI.repeat(count);
}

/** Runs `check` and returns Discord's answer: the status, code and the first error code at `path`. */
function refusal(check: () => void): { status: number; code: number; errors: unknown } | null {
  try {
    check();
    return null;
  } catch (error) {
    if (!(error instanceof DiscordHttpError)) throw error;
    return { status: error.status, code: error.code, errors: error.errors };
  }
}

function errorCodeAt(errors: unknown, path: string): string | undefined {
  let cursor = errors as Record<string, unknown> | undefined;
  for (const key of path.split('.')) cursor = cursor?.[key] as Record<string, unknown> | undefined;
  const list = (cursor as { _errors?: { code: string }[] } | undefined)?._errors;
  return list?.[0]?.code;
}

function message(body: Record<string, unknown>, files: UploadedFile[] = []): () => void {
  return () => validateMessageBody(body, files, true);
}

function file(index: number, size: number): UploadedFile {
  return { field: `files[${index}]`, filename: `f${index}.bin`, size, data: Buffer.alloc(0) };
}

function select(overrides: Record<string, unknown>, options: Record<string, unknown>[] = [{ label: 'A', value: 'a' }]): Record<string, unknown> {
  return { components: [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.StringSelect, custom_id: 'pick', options, ...overrides }] }] };
}

function textInputModal(input: Record<string, unknown>): Record<string, unknown> {
  return {
    title: 'Add a note',
    custom_id: 'note',
    components: [{ type: ComponentType.Label, label: 'Note', component: { type: ComponentType.TextInput, custom_id: 'text', style: 2, ...input } }],
  };
}

describe('text is counted and checked as Discord does', () => {
  it('refuses a lone surrogate anywhere in a message body with 50035 at that field', () => {
    const content = refusal(message({ content: `hi ${LONE}` }));
    expect(content).toMatchObject({ status: 400, code: 50035 });
    expect(errorCodeAt(content?.errors, 'content')).toBeDefined();

    const title = refusal(message({ embeds: [{ title: `Ann${LONE}` }] }));
    expect(errorCodeAt(title?.errors, 'embeds.0.title')).toBeDefined();

    const label = refusal(
      message({ components: [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Primary, custom_id: 'x', label: `${LONE}!` }] }] }),
    );
    expect(errorCodeAt(label?.errors, 'components.0.components.0.label')).toBeDefined();
  });

  it('counts content in code points: 2,000 emoji pass, 2,001 do not', () => {
    expect(refusal(message({ content: emoji(2000) }))).toBeNull();
    expect(errorCodeAt(refusal(message({ content: emoji(2001) }))?.errors, 'content')).toBe('BASE_TYPE_MAX_LENGTH');
  });

  it('counts embed texts and their 6,000 total in code points', () => {
    expect(refusal(message({ embeds: [{ title: emoji(256), description: emoji(4096), footer: { text: emoji(1600) } }] }))).toBeNull();
    expect(errorCodeAt(refusal(message({ embeds: [{ title: emoji(257) }] }))?.errors, 'embeds.0.title')).toBe('BASE_TYPE_MAX_LENGTH');
    const twoEmbeds = refusal(message({ embeds: [{ description: emoji(3001) }, { description: emoji(3000) }] }));
    expect(twoEmbeds).toMatchObject({ code: 50035 });
    expect(errorCodeAt(twoEmbeds?.errors, 'embeds')).toBe('MAX_EMBED_SIZE_EXCEEDED');
  });

  it('refuses an embed field whose name or value is empty or only white space', () => {
    expect(errorCodeAt(refusal(message({ embeds: [{ fields: [{ name: 'Notes', value: '   ' }] }] }))?.errors, 'embeds.0.fields.0.value')).toBeDefined();
    expect(errorCodeAt(refusal(message({ embeds: [{ fields: [{ name: '\n', value: 'x' }] }] }))?.errors, 'embeds.0.fields.0.name')).toBeDefined();
  });

  it('refuses a message whose only content is white space as an empty message', () => {
    expect(refusal(message({ content: '  \n ' }))).toMatchObject({ status: 400, code: 50006 });
  });
});

describe('components are held to their documented limits', () => {
  it('counts a button label in code points: 80 emoji pass, 81 do not', () => {
    const row = (label: string): Record<string, unknown> => ({
      components: [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Primary, custom_id: 'b', label }] }],
    });
    expect(refusal(message(row(emoji(80))))).toBeNull();
    expect(errorCodeAt(refusal(message(row(emoji(81))))?.errors, 'components.0.components.0.label')).toBe('BASE_TYPE_MAX_LENGTH');
  });

  it('refuses select options over 100 code points in label, value or description, and placeholders over 150', () => {
    expect(refusal(message(select({}, [{ label: emoji(100), value: 'a', description: emoji(100) }])))).toBeNull();
    expect(errorCodeAt(refusal(message(select({}, [{ label: emoji(101), value: 'a' }])))?.errors, 'components.0.components.0.options.0.label')).toBe(
      'BASE_TYPE_MAX_LENGTH',
    );
    expect(errorCodeAt(refusal(message(select({}, [{ label: 'a', value: 'v'.repeat(101) }])))?.errors, 'components.0.components.0.options.0.value')).toBe(
      'BASE_TYPE_MAX_LENGTH',
    );
    expect(
      errorCodeAt(refusal(message(select({}, [{ label: 'a', value: 'a', description: 'd'.repeat(101) }])))?.errors, 'components.0.components.0.options.0.description'),
    ).toBe('BASE_TYPE_MAX_LENGTH');
    expect(refusal(message(select({ placeholder: emoji(150) })))).toBeNull();
    expect(errorCodeAt(refusal(message(select({ placeholder: 'p'.repeat(151) })))?.errors, 'components.0.components.0.placeholder')).toBe('BASE_TYPE_MAX_LENGTH');
  });

  it('refuses an option without a label, duplicate option values, and min/max values outside 0–25 or above the options', () => {
    expect(refusal(message(select({}, [{ label: '', value: 'a' }])))).toMatchObject({ code: 50035 });
    expect(refusal(message(select({}, [{ label: 'A', value: 'a' }, { label: 'B', value: 'a' }])))).toMatchObject({ code: 50035 });
    expect(refusal(message(select({ max_values: 2 })))).toMatchObject({ code: 50035 });
    expect(refusal(message(select({ min_values: 26 })))).toMatchObject({ code: 50035 });
    expect(refusal(message(select({ min_values: 2, max_values: 1 }, [{ label: 'A', value: 'a' }, { label: 'B', value: 'b' }])))).toMatchObject({ code: 50035 });
    expect(refusal(message(select({ min_values: 1, max_values: 2 }, [{ label: 'A', value: 'a' }, { label: 'B', value: 'b' }])))).toBeNull();
  });
});

describe('modals, autocomplete and attachments', () => {
  it('holds a text input to value 4,000, placeholder 100 and min/max length 0–4,000', () => {
    expect(refusal(() => validateModal(textInputModal({ value: emoji(4000), placeholder: emoji(100), min_length: 0, max_length: 4000 })))).toBeNull();
    expect(refusal(() => validateModal(textInputModal({ value: 'v'.repeat(4001) })))).toMatchObject({ code: 50035 });
    expect(refusal(() => validateModal(textInputModal({ placeholder: 'p'.repeat(101) })))).toMatchObject({ code: 50035 });
    expect(refusal(() => validateModal(textInputModal({ max_length: 0 })))).toMatchObject({ code: 50035 });
    expect(refusal(() => validateModal(textInputModal({ min_length: 4001 })))).toMatchObject({ code: 50035 });
    expect(refusal(() => validateModal(textInputModal({ min_length: 10, max_length: 5 })))).toMatchObject({ code: 50035 });
    expect(refusal(() => validateModal({ ...textInputModal({}), title: emoji(45) }))).toBeNull();
    expect(refusal(() => validateModal({ ...textInputModal({}), title: `${LONE}` }))).toMatchObject({ code: 50035 });
  });

  it('counts autocomplete choice names in code points and refuses broken ones', () => {
    expect(refusal(() => validateAutocompleteChoices({ choices: [{ name: emoji(100), value: emoji(100) }] }))).toBeNull();
    expect(refusal(() => validateAutocompleteChoices({ choices: [{ name: emoji(101), value: 'x' }] }))).toMatchObject({ code: 50035 });
    expect(refusal(() => validateAutocompleteChoices({ choices: [{ name: `Ann ${LONE}`, value: 'x' }] }))).toMatchObject({ code: 50035 });
  });

  it('takes up to 10 files of up to 10 MiB each, not a 10 MiB total', () => {
    expect(refusal(message({ content: 'x' }, [file(0, 6 * MiB), file(1, 6 * MiB)]))).toBeNull();
    expect(refusal(message({ content: 'x' }, [file(0, 10 * MiB + 1)]))).toMatchObject({ status: 413, code: 40005 });
    expect(refusal(message({ content: 'x' }, Array.from({ length: 11 }, (_, index) => file(index, 10))))).toMatchObject({ status: 400, code: 50035 });
  });
});

describe('interaction callbacks', () => {
  it('accepts only the message flags Discord allows on a reply, and only ephemeral on a deferral', () => {
    const reply = (flags: number): (() => void) => () => validateCallback(InteractionResponseType.ChannelMessageWithSource, { content: 'x', flags }, []);
    const defer = (flags: number): (() => void) => () => validateCallback(InteractionResponseType.DeferredChannelMessageWithSource, { flags }, []);
    expect(refusal(reply(MessageFlags.Ephemeral | MessageFlags.SuppressEmbeds))).toBeNull();
    expect(refusal(reply(MessageFlags.Crossposted))).toMatchObject({ code: 50035 });
    expect(refusal(defer(MessageFlags.Ephemeral))).toBeNull();
    expect(refusal(defer(MessageFlags.SuppressEmbeds))).toMatchObject({ code: 50035 });
  });
});

describe('through the discord.js client', () => {
  const commands: RESTPostAPIApplicationCommandsJSONBody[] = [
    { name: 'ping', description: 'Answers' },
    { name: 'find', description: 'Suggests', options: [{ type: 3, name: 'query', description: 'What to find', autocomplete: true }] },
    { name: 'say', description: 'Echoes', options: [{ type: 3, name: 'text', description: 'What to say', max_length: 5 }] },
  ];
  let discord: LocalDiscord;
  let client: Client;
  let reply: (interaction: Interaction) => Promise<void> = () => Promise.resolve();

  beforeAll(async () => {
    discord = await startLocalDiscord();
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: discord.apiUrl } });
    const ready = once(client, Events.ClientReady);
    await client.login(discord.token);
    await ready;
    await client.application?.commands.set(commands, DEFAULT_IDS.guild);
    client.on(Events.InteractionCreate, (interaction) => void reply(interaction).catch(() => undefined));
  });

  afterAll(async () => {
    await client.destroy();
    await discord.stop();
  });

  it('refuses a channel post holding half a surrogate pair, and stores nothing', async () => {
    const channel = client.channels.cache.get(DEFAULT_IDS.channels.general);
    if (!channel?.isSendable()) throw new Error('general channel is not sendable');
    await expect(channel.send({ content: `Ann ${EMOJI.slice(0, 1)}` })).rejects.toMatchObject({ code: 50035, status: 400 });
    expect(discord.channelMessages(DEFAULT_IDS.channels.general)).toEqual([]);
  });

  it('shows a reply of 2,000 emoji, which Discord accepts', async () => {
    reply = async (interaction) => {
      if (interaction.isChatInputCommand()) await interaction.reply({ content: emoji(2000) });
    };
    const handle = await discord.invokeSlash({ name: 'ping', userId: DEFAULT_IDS.users.staff });
    const shown = await handle.settled();
    expect(shown && 'content' in shown ? shown.content : undefined).toBe(emoji(2000));
  });

  it('refuses autocomplete choices and a modal that break Discord limits, so the bot sees the error', async () => {
    const refused: unknown[] = [];
    reply = async (interaction) => {
      if (interaction.isAutocomplete()) await interaction.respond([{ name: `Ann ${LONE}`, value: 'x' }]).catch((error: unknown) => void refused.push(error));
      if (interaction.isChatInputCommand()) {
        await interaction
          .showModal({ title: 't'.repeat(46), custom_id: 'm', components: [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.TextInput, custom_id: 'x', label: 'X', style: 1 }] }] })
          .catch((error: unknown) => void refused.push(error));
      }
    };
    const choices = await discord.autocomplete({ userId: DEFAULT_IDS.users.staff, name: 'find', options: { query: 'an' }, focused: 'query', timeoutMs: 1000 }).catch(() => []);
    expect(choices).toEqual([]);
    await discord.invokeSlash({ name: 'ping', userId: DEFAULT_IDS.users.staff });
    await expect.poll(() => refused.length).toBe(2);
    expect(refused).toMatchObject([{ code: 50035 }, { code: 50035 }]);
  });

  it('lets a member type as many emoji as a max_length allows, counted in code points as Discord does', async () => {
    reply = async (interaction) => {
      if (interaction.isChatInputCommand() && interaction.commandName === 'say') {
        await interaction.showModal({
          title: 'Say more',
          custom_id: 'more',
          components: [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.TextInput, custom_id: 'x', label: 'X', style: 2, max_length: 10 }] }],
        });
      } else if (interaction.isModalSubmit()) {
        await interaction.reply({ content: interaction.fields.getTextInputValue('x') });
      }
    };
    const command = await discord.invokeSlash({ name: 'say', userId: DEFAULT_IDS.users.staff, options: { text: emoji(5) } });
    await command.settled();
    const submitted = await discord.submitModal({ customId: 'more', fields: { x: emoji(10) }, userId: DEFAULT_IDS.users.staff });
    const shown = await submitted.settled();
    expect(shown && 'content' in shown ? shown.content : undefined).toBe(emoji(10));
  });

  it('registers a context-menu command named with 32 emoji and refuses 33, as Discord counts names', async () => {
    const created = await client.application?.commands.create({ type: 2, name: emoji(32) }, DEFAULT_IDS.guild);
    expect(created?.name).toBe(emoji(32));
    await expect(client.application?.commands.create({ type: 2, name: emoji(33) }, DEFAULT_IDS.guild)).rejects.toMatchObject({ code: 50035 });
  });
});
