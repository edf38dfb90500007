import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createInflate } from 'node:zlib';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  EmbedBuilder,
  Events,
  GatewayIntentBits,
  MessageFlags,
  ModalBuilder,
  RESTEvents,
  SlashCommandBuilder,
  StringSelectMenuBuilder,
  TextInputBuilder,
  TextInputStyle,
} from 'discord.js';
import type { GuildMember, Interaction, RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_IDS,
  missingPermissionsFault,
  rateLimitFault,
  startLocalDiscord,
} from '../../src/sandbox/local-discord/index.js';
import type { LocalDiscord, LocalMessage, LocalModal } from '../../src/sandbox/local-discord/index.js';

const { guild: GUILD_ID, channels, users, roles } = DEFAULT_IDS;
const ROLE_ROUTE = '/guilds/:guildId/members/:userId/roles/:roleId';

const commands: RESTPostAPIApplicationCommandsJSONBody[] = [
  new SlashCommandBuilder()
    .setName('customer')
    .setDescription('Customer desk')
    .addSubcommand((sub) =>
      sub
        .setName('lookup')
        .setDescription('Find a customer')
        .addStringOption((option) => option.setName('query').setDescription('Email, name or id').setRequired(true).setAutocomplete(true))
        .addIntegerOption((option) => option.setName('limit').setDescription('How many').setMinValue(1).setMaxValue(25))
        .addUserOption((option) => option.setName('member').setDescription('A Discord member')),
    )
    .addSubcommand((sub) =>
      sub
        .setName('ban')
        .setDescription('Ban a customer')
        .addStringOption((option) =>
          option.setName('duration').setDescription('How long').setRequired(true).addChoices({ name: '24 hours', value: '24h' }, { name: 'Permanent', value: 'permanent' }),
        ),
    )
    .toJSON(),
];

let discord: LocalDiscord;
let client: Client | undefined;

async function connect(intents: GatewayIntentBits[] = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers]): Promise<Client> {
  const created = new Client({ intents, rest: { api: discord.apiUrl } });
  client = created;
  const ready = once(created, Events.ClientReady);
  await created.login(discord.token);
  await ready;
  return created;
}

/** Runs `handler` for every interaction and rethrows its failures into the test instead of losing them. */
function onInteraction(bot: Client, handler: (interaction: Interaction) => Promise<void>): { errors: unknown[] } {
  const errors: unknown[] = [];
  bot.on(Events.InteractionCreate, (interaction) => {
    handler(interaction).catch((error: unknown) => errors.push(error));
  });
  return { errors };
}

beforeEach(async () => {
  discord = await startLocalDiscord();
});

afterEach(async () => {
  await client?.destroy();
  client = undefined;
  await discord.stop();
});

describe('logging in', () => {
  it('brings a discord.js client to ready in well under 15 s with the guild, its channels and members cached', async () => {
    const started = performance.now();
    const bot = await connect();
    expect(performance.now() - started).toBeLessThan(3000);

    const guild = bot.guilds.cache.get(GUILD_ID);
    expect(guild?.name).toBe('Pixel Peak Store');
    expect(guild?.members.cache.get(users.customer)?.user.username).toBe('alex');
    expect(guild?.members.cache.get(users.vipCustomer)?.roles.cache.has(roles.vip)).toBe(true);
    expect(guild?.members.me?.permissions.has('ManageRoles')).toBe(true);
    expect(guild?.channels.cache.get(channels.general)?.name).toBe('general');
    expect(bot.user?.id).toBe(discord.botUserId);
    expect(discord.requests.map((request) => request.path)).toContain('/gateway/bot');
  });

  it('answers unknown routes with a Discord-shaped 404 and records them', async () => {
    const response = await fetch(`${discord.apiUrl}/v10/nowhere/at/all`, { headers: { Authorization: `Bot ${discord.token}` } });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: '404: Not Found', code: 0 });
    expect(discord.requests.at(-1)).toMatchObject({ path: '/nowhere/at/all', route: null, status: 404 });
  });

  it('speaks zlib-stream to a client that asks for it', async () => {
    const socket = new WebSocket(`${discord.gatewayUrl}/?v=10&encoding=json&compress=zlib-stream`);
    const inflate = createInflate();
    const hello = new Promise<{ op: number; d: { heartbeat_interval: number } }>((resolve) => {
      inflate.on('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString('utf8')) as { op: number; d: { heartbeat_interval: number } }));
    });
    socket.on('message', (data: Buffer) => inflate.write(data));
    expect(await hello).toMatchObject({ op: 10, d: { heartbeat_interval: 41_250 } });
    socket.close();
  });
});

describe('slash commands', () => {
  it('delivers a registered command with typed options to interactionCreate', async () => {
    const bot = await connect();
    await bot.application?.commands.set(commands, GUILD_ID);
    expect(discord.registeredCommands(GUILD_ID).map((command) => command.name)).toEqual(['customer']);

    const seen: unknown[] = [];
    const { errors } = onInteraction(bot, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      seen.push({
        sub: interaction.options.getSubcommand(),
        query: interaction.options.getString('query'),
        limit: interaction.options.getInteger('limit'),
        member: interaction.options.getUser('member')?.username,
        memberRoles: (interaction.options.getMember('member') as GuildMember | null)?.roles.cache.has(roles.vip),
        staff: interaction.memberPermissions?.has('ManageGuild'),
      });
      await interaction.reply({ content: 'found', flags: MessageFlags.Ephemeral });
    });

    const handle = await discord.invokeSlash({
      userId: users.staff,
      name: 'customer',
      subcommand: 'lookup',
      options: { query: 'alex@example.com', limit: '5', member: users.vipCustomer },
    });
    const first = await handle.firstResponse();
    expect(first.type).toBe(4);
    expect(first.ackMs).toBeLessThan(3000);
    expect(((await handle.settled()) as LocalMessage).content).toBe('found');
    expect(handle.ephemeral).toBe(true);
    expect(seen).toEqual([{ sub: 'lookup', query: 'alex@example.com', limit: 5, member: 'sam', memberRoles: true, staff: true }]);
    expect(errors).toEqual([]);
  });

  it('refuses invocations Discord would never send, naming what exists', async () => {
    const bot = await connect();
    await bot.application?.commands.set(commands, GUILD_ID);
    await expect(discord.invokeSlash({ userId: users.staff, name: 'customer', subcommand: 'lookup', options: { email: 'x' } })).rejects.toThrow(
      /has no option "email"; it has: query, limit, member/,
    );
    await expect(discord.invokeSlash({ userId: users.staff, name: 'customer', subcommand: 'ban', options: { duration: '3d' } })).rejects.toThrow(
      /only accepts its choices: "24h", "permanent"/,
    );
    await expect(discord.invokeSlash({ userId: users.staff, name: 'customer', subcommand: 'lookup' })).rejects.toThrow(/requires option "query"/);
    await expect(discord.invokeSlash({ userId: users.staff, name: 'orders' })).rejects.toThrow(/no slash command "orders".*registered: customer/);
  });

  it('runs a user context-menu command and hands back the reply when asked withResponse', async () => {
    const bot = await connect();
    await bot.application?.commands.set([{ type: 2, name: 'Customer profile' }], GUILD_ID);
    const replies: unknown[] = [];
    const { errors } = onInteraction(bot, async (interaction) => {
      if (!interaction.isUserContextMenuCommand()) return;
      const response = await interaction.reply({
        content: `profile of ${interaction.targetUser.username}`,
        files: [new AttachmentBuilder(Buffer.from('avatar'), { name: 'avatar.png' })],
        withResponse: true,
      });
      replies.push(response.resource?.message?.content);
    });

    const handle = await discord.invokeUserCommand({ userId: users.staff, name: 'Customer profile', targetUserId: users.customer });
    const reply = (await handle.settled()) as LocalMessage;
    expect(reply.content).toBe('profile of alex');
    expect(reply.attachments[0]?.data.toString()).toBe('avatar');
    await expect.poll(() => replies).toEqual(['profile of alex']);
    expect(errors).toEqual([]);
  });

  it('shows a deferred ephemeral reply once it is edited with embeds, components and a file', async () => {
    const bot = await connect();
    await bot.application?.commands.set(commands, GUILD_ID);
    const csv = Buffer.from('id,email\n1,alex@example.com\n');
    const { errors } = onInteraction(bot, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      await interaction.editReply({
        embeds: [new EmbedBuilder().setTitle('Alex').addFields({ name: 'Orders', value: '3' })],
        components: [new ActionRowBuilder<ButtonBuilder>().addComponents(new ButtonBuilder().setCustomId('orders').setLabel('Orders').setStyle(ButtonStyle.Primary))],
        files: [new AttachmentBuilder(csv, { name: 'customers.csv' })],
      });
    });

    const handle = await discord.invokeSlash({ userId: users.staff, name: 'customer', subcommand: 'lookup', options: { query: 'alex' } });
    expect((await handle.firstResponse()).type).toBe(5);
    const message = (await handle.settled()) as LocalMessage;
    expect(handle.ephemeral).toBe(true);
    expect(message.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(message.embeds[0]).toMatchObject({ title: 'Alex', fields: [{ name: 'Orders', value: '3' }] });
    expect(message.components).toHaveLength(1);
    expect(message.attachments).toMatchObject([{ filename: 'customers.csv', size: csv.length }]);
    expect(message.attachments[0]?.data.equals(csv)).toBe(true);
    expect(discord.channelMessages(channels.general)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('refuses an answer that comes after the acknowledgement window with 10062', async () => {
    await discord.stop();
    discord = await startLocalDiscord({ interactionAckTimeoutMs: 50 });
    const bot = await connect();
    await bot.application?.commands.set(commands, GUILD_ID);
    const { errors } = onInteraction(bot, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await new Promise((resolve) => setTimeout(resolve, 120));
      await interaction.reply('too late');
    });

    const handle = await discord.invokeSlash({ userId: users.staff, name: 'customer', subcommand: 'lookup', options: { query: 'a' } });
    await expect(handle.firstResponse()).rejects.toThrow(/answered after \d+ ms .*refused it with 10062/);
    await expect.poll(() => errors).toMatchObject([{ code: 10062 }]);
  });
});

describe('components and modals', () => {
  it('routes a button click to the handler and lets interaction.update() change the message in place', async () => {
    const bot = await connect();
    await bot.application?.commands.set(commands, GUILD_ID);
    const { errors } = onInteraction(bot, async (interaction) => {
      if (interaction.isChatInputCommand()) {
        await interaction.reply({
          content: 'Page 1',
          components: [
            new ActionRowBuilder<ButtonBuilder>().addComponents(new ButtonBuilder().setCustomId('next').setLabel('Next').setStyle(ButtonStyle.Secondary)),
            new ActionRowBuilder<StringSelectMenuBuilder>().addComponents(
              new StringSelectMenuBuilder().setCustomId('pick').addOptions({ label: 'Alex', value: 'alex' }, { label: 'Sam', value: 'sam' }),
            ),
          ],
        });
      } else if (interaction.isButton()) {
        expect(interaction.message.content).toBe('Page 1');
        await interaction.update({ content: 'Page 2', components: [] });
      } else if (interaction.isStringSelectMenu()) {
        await interaction.reply({ content: `picked ${interaction.values.join(',')}`, flags: MessageFlags.Ephemeral });
      }
    });

    const command = await discord.invokeSlash({ userId: users.staff, name: 'customer', subcommand: 'lookup', options: { query: 'a' } });
    const page = (await command.settled()) as LocalMessage;
    expect(discord.channelMessages(channels.general).map((message) => message.id)).toEqual([page.id]);

    const picked = await discord.selectMenu({ message: page, customId: 'pick', values: ['sam'], userId: users.staff });
    expect(((await picked.settled()) as LocalMessage).content).toBe('picked sam');

    const click = await discord.clickButton({ message: page, customId: 'next', userId: users.staff });
    expect((await click.firstResponse()).type).toBe(7);
    const updated = (await click.settled()) as LocalMessage;
    expect(updated).toMatchObject({ id: page.id, content: 'Page 2', components: [] });
    expect(discord.message(page.id)?.content).toBe('Page 2');
    expect(command.original()?.content).toBe('Page 2');
    expect(errors).toEqual([]);
  });

  it('lets a modal shown with showModal be submitted and read with getTextInputValue', async () => {
    const bot = await connect();
    await bot.application?.commands.set(commands, GUILD_ID);
    const { errors } = onInteraction(bot, async (interaction) => {
      if (interaction.isChatInputCommand()) {
        await interaction.showModal(
          new ModalBuilder()
            .setCustomId('note')
            .setTitle('Add a note')
            .addComponents(
              new ActionRowBuilder<TextInputBuilder>().addComponents(
                new TextInputBuilder().setCustomId('text').setLabel('Note').setStyle(TextInputStyle.Paragraph),
              ),
            ),
        );
      } else if (interaction.isModalSubmit()) {
        await interaction.reply({ content: `saved: ${interaction.fields.getTextInputValue('text')}`, flags: MessageFlags.Ephemeral });
      }
    });

    const command = await discord.invokeSlash({ userId: users.staff, name: 'customer', subcommand: 'lookup', options: { query: 'a' } });
    const modal = (await command.settled()) as LocalModal;
    expect(modal).toMatchObject({ customId: 'note', title: 'Add a note' });
    await expect(discord.submitModal({ customId: 'note', fields: { txt: 'x' }, userId: users.staff })).rejects.toThrow(/has no field txt/);

    const submit = await discord.submitModal({ customId: 'note', fields: { text: 'Prefers DMs' }, userId: users.staff });
    expect(((await submit.settled()) as LocalMessage).content).toBe('saved: Prefers DMs');
    expect(errors).toEqual([]);
  });

  it("returns the bot's autocomplete choices", async () => {
    const bot = await connect();
    await bot.application?.commands.set(commands, GUILD_ID);
    const { errors } = onInteraction(bot, async (interaction) => {
      if (!interaction.isAutocomplete()) return;
      const typed = interaction.options.getFocused();
      await interaction.respond([
        { name: `${typed}@example.com`, value: `${typed}@example.com` },
        { name: `${typed} (id 7)`, value: '7' },
      ]);
    });

    const choices = await discord.autocomplete({ userId: users.staff, name: 'customer', subcommand: 'lookup', options: { query: 'ale' }, focused: 'query' });
    expect(choices).toEqual([
      { name: 'ale@example.com', value: 'ale@example.com' },
      { name: 'ale (id 7)', value: '7' },
    ]);
    expect(errors).toEqual([]);
  });
});

describe('members and roles', () => {
  it("grants a role over REST, changing memberRoles and the client's member cache, with the audit reason recorded", async () => {
    const bot = await connect();
    const member = await bot.guilds.cache.get(GUILD_ID)!.members.fetch(users.customer);
    const updated = once(bot, Events.GuildMemberUpdate);
    await member.roles.add(roles.vip, 'purchase ORD-1');
    await updated;

    expect(discord.memberRoles(GUILD_ID, users.customer)).toEqual([roles.vip]);
    expect(bot.guilds.cache.get(GUILD_ID)!.members.cache.get(users.customer)!.roles.cache.has(roles.vip)).toBe(true);
    expect(discord.auditLog).toMatchObject([{ action: 'member_role_add', targetId: users.customer, roleId: roles.vip, reason: 'purchase ORD-1' }]);
  });

  it('refuses a role above the bot, and a 50013 fault, as DiscordAPIError 50013', async () => {
    const bot = await connect();
    const member = bot.guilds.cache.get(GUILD_ID)!.members.cache.get(users.customer)!;
    discord.updateRole(GUILD_ID, roles.vip, { position: 99 });
    await expect(member.roles.add(roles.vip)).rejects.toMatchObject({ code: 50013, status: 403 });

    discord.injectFault(missingPermissionsFault(ROLE_ROUTE, { method: 'PUT' }));
    const error: unknown = await member.roles.add(roles.supporter).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 50013, message: 'Missing Permissions' });
    expect(discord.memberRoles(GUILD_ID, users.customer)).toEqual([]);
  });

  it("honours a 429's Retry-After: @discordjs/rest waits, retries and succeeds", async () => {
    const bot = await connect();
    const member = bot.guilds.cache.get(GUILD_ID)!.members.cache.get(users.customer)!;
    discord.injectFault(rateLimitFault(ROLE_ROUTE, { method: 'PUT', retryAfterMs: 300 }));
    const limited = once(bot.rest, RESTEvents.RateLimited);

    const started = performance.now();
    await member.roles.add(roles.supporter);
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    expect(await limited).toMatchObject([{ retryAfter: expect.any(Number) as number, global: false }]);
    expect(discord.requests.filter((request) => request.method === 'PUT').map((request) => request.status)).toEqual([429, 204]);
    expect(discord.memberRoles(GUILD_ID, users.customer)).toEqual([roles.supporter]);
  });

  it('dispatches guildMemberAdd when a member joins through the driver', async () => {
    const bot = await connect();
    const joined = once(bot, Events.GuildMemberAdd) as Promise<[GuildMember]>;
    discord.addMember(GUILD_ID, { user: { id: '1230000000000000099', username: 'newcomer' }, roles: [] });
    const [member] = await joined;
    expect(member.user.username).toBe('newcomer');
    expect(bot.guilds.cache.get(GUILD_ID)!.memberCount).toBe(6);
  });
});

describe('messages the bot sends', () => {
  it('stores a channel post and a DM, files included, and serves the upload back', async () => {
    const bot = await connect([GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers, GatewayIntentBits.GuildMessages]);
    const channel = bot.channels.cache.get(channels.digest);
    if (!channel?.isSendable()) throw new Error('digest channel is not sendable');
    const created = once(bot, Events.MessageCreate);
    const report = Buffer.from('weekly digest');
    const sent = await channel.send({ content: 'Customers at risk', files: [new AttachmentBuilder(report, { name: 'at-risk.csv' })] });
    await created;

    const [stored] = discord.channelMessages(channels.digest);
    expect(stored).toMatchObject({ id: sent.id, content: 'Customers at risk', attachments: [{ filename: 'at-risk.csv', size: report.length }] });
    const download = await fetch(stored!.attachments[0]!.url);
    expect(Buffer.from(await download.arrayBuffer()).equals(report)).toBe(true);

    await (await bot.users.fetch(users.customer)).send('Your VIP rank is active');
    expect(discord.dmMessages(users.customer).map((message) => message.content)).toEqual(['Your VIP rank is active']);
  });

  it("refuses what Discord refuses: an embed with 26 fields gets 50035 Invalid Form Body", async () => {
    const bot = await connect();
    const channel = bot.channels.cache.get(channels.general);
    if (!channel?.isSendable()) throw new Error('general channel is not sendable');
    const fields = Array.from({ length: 26 }, (_, index) => ({ name: `f${index}`, value: 'x' }));
    await expect(channel.send({ embeds: [{ title: 'too wide', fields }] })).rejects.toMatchObject({ code: 50035, status: 400 });
    expect(discord.channelMessages(channels.general)).toEqual([]);
  });
});

describe('the gateway', () => {
  it('acknowledges heartbeats, so the client measures a ping instead of declaring the link a zombie', async () => {
    await discord.stop();
    discord = await startLocalDiscord({ heartbeatIntervalMs: 50 });
    const bot = await connect();
    await expect.poll(() => bot.ws.ping, { timeout: 2000 }).toBeGreaterThanOrEqual(0);
    expect(discord.gatewayStats()).toMatchObject({ identifies: 1, resumes: 0 });
  });

  it('tells the client when a member leaves', async () => {
    const bot = await connect();
    const left = once(bot, Events.GuildMemberRemove) as Promise<[GuildMember]>;
    discord.removeMember(GUILD_ID, users.customer);
    expect((await left)[0].id).toBe(users.customer);
    expect(discord.hasMember(GUILD_ID, users.customer)).toBe(false);
  });

  it('survives a forced disconnect: the client resumes and gets the events it missed', async () => {
    const bot = await connect();
    const resumed = once(bot, Events.ShardResume);
    const joined = once(bot, Events.GuildMemberAdd) as Promise<[GuildMember]>;

    discord.dropGateway();
    discord.addMember(GUILD_ID, { user: { id: '1230000000000000098', username: 'while-away' }, roles: [] });
    await resumed;

    expect((await joined)[0].user.username).toBe('while-away');
    expect(discord.gatewayStats()).toMatchObject({ identifies: 1, resumes: 1, connections: 1 });
  });
});
