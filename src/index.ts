import 'dotenv/config';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from './config.js';
import { systemClock } from './shared/clock.js';
import { dataDirectoryFor } from './domain/exports/download-links.js';
import { RoleRulesFileError } from './domain/roles/rules.js';
import { closeLogDestination, createLogger, openLogDestination, type LogDestination, type Logger } from './logger.js';
import { startServices } from './services.js';
import { migrateToLatest, removeFolders } from './store/database.js';
import { checkListenAddress, listenRefusal, openConfiguredStore, prepareTempDirectory, roleRulesRefusal } from './startup.js';

/** What has been started so far, so a failure can say why in the log before the process ends. */
const started: { config?: Readonly<Config>; createdFolders?: string[]; logger?: Logger; logs?: LogDestination } = {};

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  started.config = config;
  const sandbox = !config.discordToken;
  // Nothing is created until the listener's address and the database's place are known to work.
  await checkListenAddress(config.httpHost, config.httpPort);
  const temp = prepareTempDirectory();
  const tempDir = temp.folder;
  started.createdFolders = temp.created;
  const db = await openConfiguredStore(config.databasePath);
  started.createdFolders = [];

  // In the sandbox the terminal is the user interface, so logs go to a file beside the database.
  const logs = openLogDestination(sandbox ? join(dataDirectoryFor(config.databasePath), 'bot.log') : undefined);
  const logger = createLogger(config.logLevel, logs);
  Object.assign(started, { logger, logs });
  await migrateToLatest(db);

  if (sandbox) {
    const { runSandbox } = await import('./sandbox/sandbox.js');
    await runSandbox({ db, clock: systemClock, config, logger, tempDir });
    await db.destroy();
    await closeLogDestination(logs);
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
    onFatal: (error) => void stop(error),
  });
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await services.stop();
    await db.destroy();
    logger.info('stopped');
    await closeLogDestination(logs);
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

let stopping = false;

/** One line for the person who started the bot, the same line in the log, then exit 1. */
async function stop(error: unknown): Promise<void> {
  // A second failure while the first is being reported (the start carrying on meanwhile) adds nothing.
  if (stopping) return;
  stopping = true;
  const { config, logger, logs } = started;
  removeFolders(started.createdFolders ?? []);
  const refusal =
    error instanceof ConfigError
      ? error
      : error instanceof RoleRulesFileError
        ? roleRulesRefusal(error)
        : config
          ? listenRefusal(error, config.httpHost, config.httpPort)
          : undefined;
  const message = refusal ? refusal.message : (error instanceof Error ? error.message : String(error)).split('\n')[0];
  const line = refusal ? `Configuration error: ${message}` : `The bot stopped: ${message}`;
  logger?.fatal(refusal ? {} : { err: error }, message);
  if (logs) await closeLogDestination(logs);
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

// A failure nothing caught ends the bot as any other does: one line, the log kept, exit 1.
process.on('uncaughtException', (error) => void stop(error));
process.on('unhandledRejection', (error) => void stop(error));
main().catch(stop);
