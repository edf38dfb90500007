import SQLite from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { UserError } from '../shared/errors.js';
import { intakePathFor, readWaitingIntake } from '../store/purchase-event-intake.js';
import { isPostgresUrl, migrateToLatest, openPostgresDatabase, type Db } from '../store/database.js';
import { checkSourceMigrations, copySqliteStoreToPostgres, type CopyReport } from '../store/sqlite-to-postgres.js';
import { parseCommandArgs, UsageError } from './cli-support.js';

const USAGE = `Usage:
  npm run migrate:copy -- --from data/customers.db --to postgres://user:password@host:5432/database

Copies the store from its SQLite file into an empty PostgreSQL database and checks the copy
(row counts of every table, revenue and order figures). Stop the bot first: what it writes during
the copy is not copied. The SQLite file is only read, never changed; it must be at this version's
latest migration. The PostgreSQL database is migrated, then filled in one transaction: if
anything fails or differs, it is left empty. Then point DATABASE_URL at it and start the bot.`;

async function main(): Promise<void> {
  const { values, positionals } = parseCommandArgs(process.argv.slice(2), {
    from: { type: 'string' },
    to: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.from === undefined) throw new UsageError('give the SQLite file to copy with --from');
  if (values.to === undefined) throw new UsageError('give the PostgreSQL database to copy into with --to');
  if (isPostgresUrl(values.from)) throw new UsageError('--from is the SQLite file; the PostgreSQL URL goes in --to');
  if (!isPostgresUrl(values.to) || !URL.canParse(values.to)) throw new UsageError('--to must be a postgres:// URL (postgres://user:password@host:5432/database)');
  const from = values.from.replace(/^sqlite:(\/\/)?/, '');
  if (!existsSync(from) || !statSync(from).isFile()) throw new UserError('no_source', `there is no SQLite file at ${from}`);

  const waiting = readWaitingIntake(from).length;
  if (waiting > 0) {
    throw new UserError(
      'events_waiting',
      `${waiting} acknowledged purchase ${waiting === 1 ? 'event waits' : 'events wait'} in ${intakePathFor(from)}: start the bot once on ${from} and stop it (it moves them into the store), then copy`,
    );
  }
  const source = openSource(from);
  let target: Db | undefined;
  try {
    checkSourceMigrations(source, from);
    target = openPostgresDatabase(values.to, { maxConnections: 2 }).db;
    await migrateToLatest(target);
    const where = describeTarget(values.to);
    console.log(`Copying ${from} to ${where}…`);
    let lastPrinted = performance.now();
    const report = await copySqliteStoreToPostgres(source, target, {
      onProgress: ({ table, rows, total }) => {
        const now = performance.now();
        if (rows < total && now - lastPrinted < 10_000) return;
        lastPrinted = now;
        console.log(`  ${table}: ${rows.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} rows`);
      },
    });
    printReport(report);
    if (report.ok) {
      console.log(`Copied and verified in ${seconds(report.ms)}. Set DATABASE_URL to ${where} (with its password) and start the bot.`);
    } else {
      const differences = report.checks.filter((c) => !c.ok).length;
      console.error(`Error: ${differences} ${differences === 1 ? 'figure differs' : 'figures differ'} between the two databases; nothing was kept in PostgreSQL`);
      process.exitCode = 1;
    }
  } finally {
    source.close();
    await target?.destroy();
  }
}

function openSource(path: string): SQLite.Database {
  let source: SQLite.Database | undefined;
  try {
    source = new SQLite(path, { readonly: true, fileMustExist: true });
    // Read-only connections still wait for a writer's lock rather than fail at once.
    source.pragma('busy_timeout = 5000');
    source.prepare('SELECT count(*) FROM sqlite_master').get();
    return source;
  } catch (error) {
    source?.close();
    const message = error instanceof Error ? error.message : String(error);
    throw new UserError('bad_source', `cannot read ${path} as a SQLite database: ${message}`);
  }
}

/** Host and database, never the password. */
function describeTarget(url: string): string {
  const parsed = new URL(url);
  return `postgres://${parsed.host}${parsed.pathname}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function printReport(report: CopyReport): void {
  const rows = report.tables.reduce((sum, t) => sum + t.rows, 0);
  const slowest = [...report.tables].sort((a, b) => b.ms - a.ms).slice(0, 3);
  console.log(
    `Copied ${rows.toLocaleString('en-US')} rows from ${report.tables.length} tables (slowest: ${slowest.map((t) => `${t.table} ${seconds(t.ms)}`).join(', ')}); ` +
      `derived tables and id sequences in ${seconds(report.finishMs)}.`,
  );
  // Tables empty on both sides say little: one line for all of them.
  const empty = report.checks.filter((c) => c.ok && c.name.endsWith(' rows') && c.sqlite === '0');
  const shown = report.checks.filter((c) => !empty.includes(c));
  const width = Math.max(...shown.map((c) => c.name.length), 5);
  const valueWidth = Math.max(...shown.flatMap((c) => [c.sqlite.length, c.postgres.length]), 10);
  console.log(`${'check'.padEnd(width)}  ${'SQLite'.padStart(valueWidth)}  ${'PostgreSQL'.padStart(valueWidth)}`);
  for (const check of shown) {
    console.log(`${check.name.padEnd(width)}  ${check.sqlite.padStart(valueWidth)}  ${check.postgres.padStart(valueWidth)}${check.ok ? '' : '  DIFFERS'}`);
  }
  if (empty.length > 0) console.log(`empty on both sides: ${empty.map((c) => c.name.replace(/ rows$/, '')).join(', ')}`);
}

try {
  await main();
} catch (error) {
  if (error instanceof UsageError) console.error(`Error: ${error.message}\n\n${USAGE}`);
  else console.error(`Error: ${error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
