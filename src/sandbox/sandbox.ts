import { join } from 'node:path';
import { deployCommands } from '../commands/deploy.js';
import type { Config } from '../config.js';
import type { Clock } from '../shared/clock.js';
import { dataDirectoryFor } from '../domain/exports/download-links.js';
import type { Logger } from '../logger.js';
import { startServices } from '../services.js';
import { shownStoreLocation, type Db } from '../store/database.js';
import { countAllCustomers, listDiscordLinkedCustomers } from '../store/customer.repository.js';
import { seedDemoBans } from './demo-bans.js';
import { DEMO_STAFF, seedDemoData } from './demo-data.js';
import { addRoleRule } from '../domain/roles/rules.js';
import { generateWebhookSecret } from '../domain/webhooks/signing.js';
import { startLocalDiscord, type LocalGuildSeed } from './local-discord/index.js';
import { sandboxFilesDirectoryFor } from './saved-files.js';
import { sandboxStoreCommand } from './store-events.js';
import { Terminal } from './terminal.js';

export const SANDBOX_GUILD_ID = '1100000000000000001';
export const SANDBOX_CHANNEL_ID = '1100000000000000002';
export const SANDBOX_STAFF_ID = '1100000000000000003';
const ADMIN_ROLE_ID = '1100000000000000004';
export const SANDBOX_VIP_ROLE_ID = '1100000000000000005';
export const SANDBOX_MVP_ROLE_ID = '1100000000000000006';
const ADMINISTRATOR = String(1n << 3n);

/** The local store guild: one admin (the person at the terminal), a staff channel, and the
 * customers who linked Discord as members, so "Customer profile" works on them. */
export function sandboxGuild(linkedDiscordIds: { id: string; username: string }[]): LocalGuildSeed {
  return {
    id: SANDBOX_GUILD_ID,
    name: 'Sandbox Store',
    ownerId: SANDBOX_STAFF_ID,
    roles: [
      { id: SANDBOX_VIP_ROLE_ID, name: 'VIP', position: 1 },
      { id: SANDBOX_MVP_ROLE_ID, name: 'MVP', position: 2 },
      { id: ADMIN_ROLE_ID, name: 'Store Admin', position: 3, permissions: ADMINISTRATOR },
    ],
    channels: [{ id: SANDBOX_CHANNEL_ID, name: 'staff' }],
    members: [
      { user: { id: SANDBOX_STAFF_ID, username: 'you', global_name: 'You (staff)' }, roles: [ADMIN_ROLE_ID] },
      ...linkedDiscordIds.map((u) => ({ user: { id: u.id, username: u.username }, roles: [] })),
    ],
  };
}

export interface SandboxRun {
  db: Db;
  clock: Clock;
  config: Readonly<Config>;
  logger: Logger;
  tempDir: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Start the HTTP listener on HTTP_HOST:HTTP_PORT (off in tests, which share one machine). */
  listen?: boolean;
  /** Where files the bot sends are written; `sandbox` in the data folder by default. */
  filesDirectory?: string;
}

/**
 * `npm start` without DISCORD_TOKEN: the real bot, unmodified, against a local Discord on
 * loopback, with demo data in an empty database and a terminal prompt to drive it.
 */
export async function runSandbox(run: SandboxRun): Promise<void> {
  const deps = run;
  const output = run.output ?? process.stdout;
  const input = run.input ?? process.stdin;
  const seeded = await seedDemoData(deps.db, deps.clock, {
    digest: { cron: deps.config.digestCron, timeZone: deps.config.storeTimeZone, atRiskDays: deps.config.atRiskDays },
  });
  if (seeded.customers > 0) {
    await seedDemoBans(deps.db, deps.clock);
    // Demo products 1 (VIP Rank) and 2 (MVP Rank) grant roles; past buyers get them in the background.
    await addRoleRule(deps.db, deps.clock, { productId: 1, roleId: SANDBOX_VIP_ROLE_ID, guildId: SANDBOX_GUILD_ID, actor: DEMO_STAFF });
    await addRoleRule(deps.db, deps.clock, { productId: 2, roleId: SANDBOX_MVP_ROLE_ID, guildId: SANDBOX_GUILD_ID, actor: DEMO_STAFF });
  }

  const linked = await listDiscordLinkedCustomers(deps.db, 50);
  const guild = sandboxGuild(linked.map((r) => ({ id: r.discord_id ?? '', username: r.discord_username ?? 'member' })));
  const discord = await startLocalDiscord({ guilds: [guild] });
  // The prompt's `store …` lines need a listener that accepts signed events; without a configured
  // secret this session makes one of its own, used nowhere else and forgotten when it ends.
  const generatedSecret = deps.config.storeWebhookSecret === undefined ? generateWebhookSecret() : undefined;
  const config: Readonly<Config> = generatedSecret ? { ...deps.config, storeWebhookSecret: generatedSecret } : deps.config;
  await deployCommands({ token: discord.token, apiUrl: discord.apiUrl, guildId: SANDBOX_GUILD_ID, applicationId: discord.applicationId });
  const services = await startServices({
    db: deps.db,
    clock: deps.clock,
    config,
    logger: deps.logger,
    tempDir: deps.tempDir,
    discord: { token: discord.token, apiUrl: discord.apiUrl, guildId: SANDBOX_GUILD_ID },
    listen: run.listen === false ? false : { host: deps.config.httpHost, port: deps.config.httpPort },
  });

  const filesDirectory = run.filesDirectory ?? sandboxFilesDirectoryFor(deps.config.databasePath);
  const customerCount = await countAllCustomers(deps.db);
  output.write(
    `Sandbox: the bot is connected to a local Discord at ${discord.apiUrl} (no Discord token set).\n` +
      `Database: ${shownStoreLocation(deps.config.databasePath)} with ${customerCount} customers${seeded.customers ? ' (demo data just created)' : ''}.\n` +
      `You are a store admin in "Sandbox Store". Logs: ${join(dataDirectoryFor(deps.config.databasePath), 'bot.log')}\n` +
      `Files the bot sends (exports, charts, pictures) are saved under ${filesDirectory}\n` +
      (services.httpUrl ? `HTTP listener (purchase events, API, link pages): ${services.httpUrl}\n` : '') +
      (generatedSecret
        ? `STORE_WEBHOOK_SECRET is not set: purchase events are signed for this session only with ${generatedSecret}\n`
        : '') +
      'Type store for the store\'s side: purchases, refunds, chargebacks, subscriptions, tickets.\n\n',
  );
  const terminal = new Terminal({
    discord,
    guildId: SANDBOX_GUILD_ID,
    channelId: SANDBOX_CHANNEL_ID,
    staffUserId: SANDBOX_STAFF_ID,
    input,
    output,
    echo: !(input as { isTTY?: boolean }).isTTY,
    filesDirectory,
    store: sandboxStoreCommand({
      db: deps.db,
      clock: deps.clock,
      http: services.http,
      discord,
      guildId: SANDBOX_GUILD_ID,
      secret: config.storeWebhookSecret ?? '',
      roleNames: new Map(guild.roles.map((r) => [r.id, r.name])),
    }),
  });
  try {
    await terminal.run();
  } finally {
    await services.stop();
    await discord.stop();
  }
}
