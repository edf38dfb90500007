import 'dotenv/config';
import { migrations } from '../store/migrations/index.js';
import { loadConfig } from '../config.js';
import { openConfiguredStore } from '../startup.js';
import { isPostgresUrl, migrateToLatest } from '../store/database.js';
import { parseCommandArgs, printCliError, UsageError } from './cli-support.js';

const USAGE = `Usage:
  npm run migrate      brings the store at DATABASE_URL up to this version's schema

The bot does the same when it starts; this is for a new PostgreSQL database, or a store you want
to copy with migrate:copy, without starting the bot. Running it twice changes nothing.`;

async function main(): Promise<void> {
  const { values, positionals } = parseCommandArgs(process.argv.slice(2), { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const config = loadConfig(process.env);
  const db = await openConfiguredStore(config.databasePath);
  try {
    const applied = await migrateToLatest(db);
    // A URL may carry a password: name only its kind.
    const where = isPostgresUrl(config.databasePath) ? 'the PostgreSQL store' : config.databasePath;
    const total = Object.keys(migrations).length;
    console.log(
      applied.length === 0
        ? `${where} is up to date (${total} migrations).`
        : `Applied ${applied.length} of ${total} migrations to ${where}: ${applied.join(', ')}.`,
    );
  } finally {
    await db.destroy();
  }
}

try {
  await main();
} catch (error) {
  printCliError(error, USAGE);
}
