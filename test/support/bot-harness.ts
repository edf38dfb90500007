import { Events, type Client } from 'discord.js';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { createBot } from '../../src/bot.js';
import type { BotDeps } from '../../src/commands/context.js';
import { deployCommands } from '../../src/commands/deploy.js';
import { PendingActions } from '../../src/commands/pending-actions.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { startLocalDiscord, type InteractionHandle, type LocalDiscord, type LocalMessage, type LocalRoleSeed } from '../../src/sandbox/local-discord/index.js';
import type { Database } from '../../src/store/schema/index.js';
import type { TestContext } from './context.js';

export const GUILD_ID = '2200000000000000001';
export const CHANNEL_ID = '2200000000000000002';
export const STAFF_ROLE_ID = '2200000000000000010';
export const ADMIN_ROLE_ID = '2200000000000000011';
export const STAFF_ID = '2200000000000000100';
export const ADMIN_ID = '2200000000000000101';
export const OUTSIDER_ID = '2200000000000000102';
export const MODERATOR_ID = '2200000000000000103';
/** A guild member whose Discord account is linked to a customer in the fixtures. */
export const LINKED_MEMBER_ID = '2200000000000000200';

const MODERATE_MEMBERS = String(1n << 40n);

/** The test context with the local Discord and the bot logged in to it (`openTestContext({ discord })`). */
export interface Harness extends TestContext {
  discord: LocalDiscord;
  client: Client;
  deps: BotDeps;
  config: Readonly<Config>;
  /** The bot's logger: warnings and errors, kept in `logs`. */
  logger: Logger;
  /** Warnings and errors the bot logged, one parsed JSON object each. */
  logs: Record<string, unknown>[];
  /** Runs `/customer <subcommand>` as the given user and waits for the visible result. */
  customer(subcommand: string, options?: Record<string, string | number | boolean>, userId?: string): Promise<{ handle: InteractionHandle; message: LocalMessage }>;
}

export interface BotOptions {
  env?: Record<string, string>;
  /** Wraps the database handle the bot uses (e.g. to slow every query down). */
  wrapDb?: (db: Kysely<Database>) => Kysely<Database>;
  /** The test provokes failures on purpose: logged errors are expected, not a defect. */
  allowErrors?: boolean;
  /** More guild roles besides Staff and Admin (e.g. roles buyers get). */
  roles?: LocalRoleSeed[];
}

/**
 * Starts the local Discord with the test guild and the bot on `base`'s database and clock.
 * Closing the harness fails when the bot logged an error the test did not allow, then stops the
 * bot and Discord and closes `base`.
 */
export async function startBot(base: TestContext, options: BotOptions = {}): Promise<Harness> {
  const { db, clock } = base;
  const config = loadConfig({ STAFF_ROLE_IDS: STAFF_ROLE_ID, ADMIN_ROLE_IDS: ADMIN_ROLE_ID, LOG_LEVEL: 'silent', ...options.env });
  const discord = await startLocalDiscord({
    guilds: [
      {
        id: GUILD_ID,
        name: 'Test Store',
        ownerId: ADMIN_ID,
        roles: [
          { id: STAFF_ROLE_ID, name: 'Staff', position: 2 },
          { id: ADMIN_ROLE_ID, name: 'Admin', position: 3 },
          ...(options.roles ?? []),
        ],
        channels: [{ id: CHANNEL_ID, name: 'staff' }],
        members: [
          { user: { id: STAFF_ID, username: 'staffer', global_name: 'Sam Staff' }, roles: [STAFF_ROLE_ID], permissions: MODERATE_MEMBERS },
          { user: { id: ADMIN_ID, username: 'admin', global_name: 'Ada Admin' }, roles: [STAFF_ROLE_ID, ADMIN_ROLE_ID], permissions: MODERATE_MEMBERS },
          { user: { id: OUTSIDER_ID, username: 'visitor' }, roles: [], permissions: '0' },
          { user: { id: MODERATOR_ID, username: 'mod' }, roles: [], permissions: MODERATE_MEMBERS },
          { user: { id: LINKED_MEMBER_ID, username: 'alice_j' }, roles: [] },
        ],
      },
    ],
  });
  const logs: Record<string, unknown>[] = [];
  const logSink = { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) };
  const tempDir = mkdtempSync(join(tmpdir(), 'desk-test-'));
  const deps: BotDeps = {
    db: options.wrapDb ? options.wrapDb(db) : db,
    clock,
    config: { ...config, guildId: GUILD_ID },
    logger: createLogger('warn', logSink),
    tempDir,
    pending: new PendingActions(() => clock.now().getTime()),
  };
  await deployCommands({ token: discord.token, apiUrl: discord.apiUrl, guildId: GUILD_ID, applicationId: discord.applicationId });
  const client = createBot(deps, discord.apiUrl);
  const ready = once(client, Events.ClientReady);
  await client.login(discord.token);
  await ready;

  return {
    ...base,
    discord,
    client,
    deps,
    config: deps.config,
    logger: deps.logger,
    logs,
    async customer(subcommand, opts = {}, userId = STAFF_ID) {
      const handle = await discord.invokeSlash({ guildId: GUILD_ID, channelId: CHANNEL_ID, userId, name: 'customer', subcommand, options: opts });
      const message = (await handle.settled()) as LocalMessage;
      return { handle, message };
    },
    async close() {
      const errors = logs.filter((l) => Number(l.level) >= 50);
      await client.destroy();
      await discord.stop();
      await base.close();
      rmSync(tempDir, { recursive: true, force: true });
      if (errors.length && !options.allowErrors) throw new Error(`the bot logged errors: ${JSON.stringify(errors).slice(0, 2000)}`);
    },
  };
}

/** Field values of the first embed by name, for readable assertions. */
export function embedFields(message: LocalMessage, index = 0): Record<string, string> {
  const embed = message.embeds[index];
  return Object.fromEntries((embed?.fields ?? []).map((f) => [f.name, f.value]));
}

/** Every button and select of a message: custom id and label. */
export function controls(message: LocalMessage): { customId: string; label: string; disabled: boolean; type: number; options: { label: string; value: string }[] }[] {
  const out: { customId: string; label: string; disabled: boolean; type: number; options: { label: string; value: string }[] }[] = [];
  for (const row of message.components) {
    if (!('components' in row)) continue;
    for (const c of row.components as unknown as Record<string, unknown>[]) {
      out.push({
        customId: typeof c.custom_id === 'string' ? c.custom_id : '',
        label: typeof c.label === 'string' ? c.label : typeof c.placeholder === 'string' ? c.placeholder : '',
        disabled: Boolean(c.disabled),
        type: Number(c.type),
        options: ((c.options as { label: string; value: string }[] | undefined) ?? []).map((o) => ({ label: o.label, value: o.value })),
      });
    }
  }
  return out;
}

export function buttonByLabel(message: LocalMessage, label: string | RegExp) {
  const found = controls(message).find((c) => (typeof label === 'string' ? c.label === label : label.test(c.label)));
  if (!found) throw new Error(`no control labelled ${String(label)} in ${controls(message).map((c) => c.label).join(', ')}`);
  return found;
}
