import { userInfo } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { UserError } from '../shared/errors.js';
import type { Actor } from '../domain/customers/types.js';
import { openConfiguredStore } from '../startup.js';
import { migrateToLatest, type Db } from '../store/database.js';

/** A mistake in how the command was typed; shown with the usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Who the activity log says did it: the operating-system user running the command. */
export function cliActor(): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the log still says it came from the CLI.
  }
  return { id: 'cli', name: `CLI (${user})` };
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, strict, with its long messages replaced by one line naming the option. */
export function parseCommandArgs<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
    const message = error instanceof Error ? error.message : String(error);
    const option = /'(-[^' ]*)/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${option ?? message}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`option ${option ?? ''} needs a value`.replace('  ', ' '));
    throw new UsageError(message.split('\n')[0] ?? message);
  }
}

/**
 * Runs a CLI command against the configured database (migrated first), printing expected
 * failures as one line and exiting 1: a person reads this, never a stack trace.
 */
export async function runCli(usage: string, main: (db: Db, config: Readonly<Config>) => Promise<void>): Promise<void> {
  let db: Db | undefined;
  try {
    const config = loadConfig(process.env);
    db = await openConfiguredStore(config.databasePath);
    await migrateToLatest(db);
    await main(db, config);
  } catch (error) {
    printCliError(error, usage);
  } finally {
    await db?.destroy();
  }
}

/** One line for a person (the usage too when the command was mistyped), exit code 1. */
export function printCliError(error: unknown, usage: string): void {
  if (error instanceof UsageError) {
    console.error(`Error: ${error.message}\n\n${usage}`);
  } else if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
  } else {
    const message = error instanceof UserError || error instanceof Error ? error.message : String(error);
    console.error(`Error: ${message.split('\n')[0] ?? message}`);
  }
  process.exitCode = 1;
}

export function positionalId(value: string | undefined, what: string): number {
  if (value === undefined) throw new UsageError(`give the ${what} id`);
  if (!/^[1-9]\d{0,15}$/.test(value)) throw new UsageError(`"${value}" is not a ${what} id (a whole number such as 3)`);
  return Number(value);
}
