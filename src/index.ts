import 'dotenv/config';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { destination } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { systemClock } from './domain/clock.js';
import { dataDirectoryFor } from './domain/export/download-links.js';
import { createLogger } from './logger.js';
import { startServices } from './services.js';
import { migrateToLatest, openStoreDatabase } from './store/database.js';

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
    ? createLogger(config.logLevel, destination({ dest: join(dataDirectoryFor(config.databasePath), 'bot.log'), mkdir: true, sync: false }))
    : createLogger(config.logLevel);

  const db = openStoreDatabase(config.databasePath);
  await migrateToLatest(db);
  const tempDir = join(tmpdir(), 'customer-desk-exports');
  mkdirSync(tempDir, { recursive: true });

  if (sandbox) {
    const { runSandbox } = await import('./sandbox/sandbox.js');
    await runSandbox({ db, clock: systemClock, config, logger, tempDir });
    await db.destroy();
    return;
  }

  const services = await startServices({
    db,
    clock: systemClock,
    config,
    logger,
    tempDir,
    // loadConfig refuses a token without a guild id, so both are set here.
    discord: { token: config.discordToken ?? '', apiUrl: config.discordApiUrl, guildId: config.guildId ?? '' },
    listen: { host: config.httpHost, port: config.httpPort },
  });
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await services.stop();
    await db.destroy();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`The bot stopped: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
