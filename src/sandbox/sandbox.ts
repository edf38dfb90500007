import { once } from 'node:events';
import { Events } from 'discord.js';
import { createBot } from '../bot.js';
import type { BotDeps } from '../commands/context.js';
import { deployCommands } from '../commands/deploy.js';
import { seedDemoBans } from './demo-bans.js';
import { seedDemoData } from './demo-data.js';
import { startLocalDiscord, type LocalGuildSeed } from './local-discord/index.js';
import { Terminal } from './terminal.js';

export const SANDBOX_GUILD_ID = '1100000000000000001';
export const SANDBOX_CHANNEL_ID = '1100000000000000002';
export const SANDBOX_STAFF_ID = '1100000000000000003';
const ADMIN_ROLE_ID = '1100000000000000004';
const ADMINISTRATOR = String(1n << 3n);

/** The local store guild: one admin (the person at the terminal), a staff channel, and the
 * customers who linked Discord as members, so "Customer profile" works on them. */
export function sandboxGuild(linkedDiscordIds: { id: string; username: string }[]): LocalGuildSeed {
  return {
    id: SANDBOX_GUILD_ID,
    name: 'Sandbox Store',
    ownerId: SANDBOX_STAFF_ID,
    roles: [{ id: ADMIN_ROLE_ID, name: 'Store Admin', position: 2, permissions: ADMINISTRATOR }],
    channels: [{ id: SANDBOX_CHANNEL_ID, name: 'staff' }],
    members: [
      { user: { id: SANDBOX_STAFF_ID, username: 'you', global_name: 'You (staff)' }, roles: [ADMIN_ROLE_ID] },
      ...linkedDiscordIds.map((u) => ({ user: { id: u.id, username: u.username }, roles: [] })),
    ],
  };
}

export interface SandboxRun {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

/**
 * `npm start` without DISCORD_TOKEN: the real bot, unmodified, against a local Discord on
 * loopback, with demo data in an empty database and a terminal prompt to drive it.
 */
export async function runSandbox(deps: BotDeps, io: SandboxRun = {}): Promise<void> {
  const output = io.output ?? process.stdout;
  const input = io.input ?? process.stdin;
  const seeded = await seedDemoData(deps.db, deps.clock);
  if (seeded.customers > 0) await seedDemoBans(deps.db, deps.clock);

  const linked = await deps.db
    .selectFrom('customers')
    .select(['discord_id', 'discord_username'])
    .where('discord_id', 'is not', null)
    .orderBy('id')
    .limit(50)
    .execute();
  const discord = await startLocalDiscord({
    guilds: [sandboxGuild(linked.map((r) => ({ id: r.discord_id ?? '', username: r.discord_username ?? 'member' })))],
  });
  const config = { ...deps.config, guildId: SANDBOX_GUILD_ID };
  await deployCommands({ token: discord.token, apiUrl: discord.apiUrl, guildId: SANDBOX_GUILD_ID, applicationId: discord.applicationId });
  const client = createBot({ ...deps, config }, discord.apiUrl);
  const ready = once(client, Events.ClientReady);
  await client.login(discord.token);
  await ready;

  const customers = await deps.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  output.write(
    `Sandbox: the bot is connected to a local Discord at ${discord.apiUrl} (no Discord token set).\n` +
      `Database: ${deps.config.databasePath} with ${customers.n} customers${seeded.customers ? ' (demo data just created)' : ''}.\n` +
      `You are a store admin in "Sandbox Store". Logs: ${deps.config.databasePath.replace(/[^/]+$/, '')}bot.log\n\n`,
  );
  const terminal = new Terminal({
    discord,
    guildId: SANDBOX_GUILD_ID,
    channelId: SANDBOX_CHANNEL_ID,
    staffUserId: SANDBOX_STAFF_ID,
    input,
    output,
    echo: !(input as { isTTY?: boolean }).isTTY,
  });
  try {
    await terminal.run();
  } finally {
    await client.destroy();
    await discord.stop();
  }
}
