import 'dotenv/config';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfig } from '../config.js';
import { backupDatabaseFile, backupFileName } from '../store/backup.js';
import { createFolders, FolderError, isPostgresUrl } from '../store/database.js';
import { parseCommandArgs, printCliError, UsageError } from './cli-support.js';

const USAGE = `Usage:
  npm run backup                         copies the database to data/backups/<name>-<UTC time>.db
  npm run backup -- --to <file or folder>

Safe while the bot runs: the copy is one consistent snapshot, taken without stopping or slowing
the bot's writes, checked with SQLite's integrity_check. To restore, stop the bot and put the
copy in place of DATABASE_URL (remove any -wal and -shm files beside the old one).`;

async function main(): Promise<void> {
  const { values, positionals } = parseCommandArgs(process.argv.slice(2), { to: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const config = loadConfig(process.env);
  if (isPostgresUrl(config.databasePath)) throw new UsageError('the store is in PostgreSQL: back it up with pg_dump');
  const name = backupFileName(config.databasePath, new Date());
  let target: string;
  if (values.to === undefined) {
    target = join(dirname(config.databasePath), 'backups', name);
  } else if (values.to.endsWith('/') || (existsSync(values.to) && statSync(values.to).isDirectory())) {
    target = join(values.to, name);
  } else {
    target = values.to;
  }
  try {
    createFolders(dirname(target));
  } catch (error) {
    if (!(error instanceof FolderError)) throw error;
    throw new Error(`${values.to === undefined ? 'the backups folder' : '--to'} ${error.message}`);
  }
  const result = await backupDatabaseFile(config.databasePath, target);
  const mib = (result.bytes / 1024 / 1024).toFixed(1);
  console.log(`Backed up ${config.databasePath} to ${result.path} (${mib} MiB, ${result.pages} pages, integrity ${result.integrity}, ${result.durationMs} ms).`);
}

try {
  await main();
} catch (error) {
  printCliError(error, USAGE);
}
