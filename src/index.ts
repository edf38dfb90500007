import 'dotenv/config';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { destination } from 'pino';
import { createBot } from './bot.js';
import { PendingActions } from './commands/pending-actions.js';
import type { BotDeps } from './commands/context.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { systemClock } from './domain/clock.js';
import { createLogger } from './logger.js';
import { migrateToLatest, openDatabase } from './store/database.js';

function readConfig(): Readonly<Config> {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const sandbox = !config.discordToken;
  // In the sandbox the terminal is the user interface, so logs go to a file beside the database.
  const logger = sandbox
    ? createLogger(config.logLevel, destination({ dest: join(config.databasePath, '..', 'bot.log'), mkdir: true, sync: false }))
    : createLogger(config.logLevel);

  const { db } = openDatabase(config.databasePath);
  await migrateToLatest(db);
  const tempDir = join(tmpdir(), 'customer-desk-exports');
  mkdirSync(tempDir, { recursive: true });
  const deps: BotDeps = { db, clock: systemClock, config, logger, tempDir, pending: new PendingActions(() => Date.now()) };

  if (sandbox) {
    const { runSandbox } = await import('./sandbox/sandbox.js');
    await runSandbox(deps);
    await db.destroy();
    return;
  }

  const client = createBot(deps, config.discordApiUrl);
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await client.destroy();
    await db.destroy();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  await client.login(config.discordToken);
}

main().catch((error: unknown) => {
  console.error(`The bot stopped: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
