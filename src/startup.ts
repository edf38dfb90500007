/**
 * What the composition root checks before it creates anything, and how it words what went wrong:
 * each refusal is a ConfigError whose one line names the setting and the fix.
 */
import { lookup } from 'node:dns/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { ConfigError } from './config.js';
import type { RoleRulesFileError } from './domain/roles/rules.js';
import { createFolders, DatabaseLocationError, FolderError, isPostgresUrl, openStoreDatabase, type Db } from './store/database.js';

/** How long a name lookup or a first PostgreSQL connection may take before start-up gives up. */
const ANSWER_WITHIN_MS = 10_000;

const HOST_FIX = 'set HTTP_HOST to 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or a name of this machine';
const FOLDER_FIX = 'set DATABASE_URL to a file in a folder the bot can write, e.g. data/customers.db';

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function withinTime<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} did not answer within ${ANSWER_WITHIN_MS / 1000} s`), { code: 'ETIMEDOUT' })), ANSWER_WITHIN_MS);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** The refusal for a failed bind on HTTP_HOST:HTTP_PORT, or undefined for a failure of another kind. */
export function listenRefusal(error: unknown, host: string, port: number): ConfigError | undefined {
  switch (codeOf(error)) {
    case 'EADDRINUSE':
      return new ConfigError(`HTTP_PORT ${port} is already in use on ${host} (another program, or another copy of the bot, listens there); stop it or set HTTP_PORT to a free port`);
    case 'EACCES':
      return new ConfigError(`HTTP_PORT ${port} needs privileges the bot does not have (ports below 1024); set HTTP_PORT to 1024 or above, e.g. 3000`);
    case 'EADDRNOTAVAIL':
      return new ConfigError(`HTTP_HOST "${host}" is not an address of this machine; ${HOST_FIX}`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
    case 'ETIMEDOUT':
      return new ConfigError(`HTTP_HOST "${host}" does not resolve to an address; ${HOST_FIX}`);
    default:
      return undefined;
  }
}

/**
 * Resolves HTTP_HOST and binds HTTP_HOST:HTTP_PORT once, then lets go: a name that does not
 * resolve or a port another program holds is refused before the database or a log file exists.
 * The real listener, bound later, is refused the same way if the port was taken in between.
 */
export async function checkListenAddress(host: string, port: number): Promise<void> {
  try {
    await withinTime(lookup(host), `the name ${host}`);
  } catch (error) {
    throw listenRefusal(error, host, port) ?? new ConfigError(`HTTP_HOST "${host}" does not resolve to an address; ${HOST_FIX}`);
  }
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (error) {
    throw listenRefusal(error, host, port) ?? error;
  } finally {
    await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()));
  }
}

/**
 * Creates the folder in the system's temporary folder where exports are assembled; returns it
 * and the folders made for it (to remove should start-up fail later). A temporary folder the bot
 * cannot write (TMPDIR) is refused in one line.
 */
export function prepareTempDirectory(): { folder: string; created: string[] } {
  const folder = join(tmpdir(), 'customer-desk-exports');
  try {
    return { folder, created: createFolders(folder) };
  } catch (error) {
    if (!(error instanceof FolderError)) throw error;
    throw new ConfigError(`TMPDIR ${tmpdir()}: ${error.message}; set TMPDIR to a folder the bot can write, or leave it unset`);
  }
}

/** The one line for a role rules file that cannot be read or applied. */
export function roleRulesRefusal(error: RoleRulesFileError): ConfigError {
  return new ConfigError(`ROLE_RULES_FILE ${error.message.replace(/^([^:]+): /, '$1 ')}; correct the file (see Roles on purchase in the README) or point ROLE_RULES_FILE at another`);
}

function postgresAddress(location: string): string {
  const url = new URL(location);
  return `${url.hostname || 'localhost'}:${url.port || '5432'}`;
}

/** The one line for a PostgreSQL store that cannot be reached or refuses the bot. */
function postgresRefusal(location: string, error: unknown): ConfigError {
  const at = postgresAddress(location);
  const url = new URL(location);
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || url.username || 'postgres';
  const code = codeOf(error);
  if (code === 'ECONNREFUSED') return new ConfigError(`DATABASE_URL: cannot reach PostgreSQL at ${at} (connection refused); start the server or correct the host and port in DATABASE_URL`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new ConfigError(`DATABASE_URL: cannot reach PostgreSQL at ${at} (the host name does not resolve); correct the host in DATABASE_URL`);
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new ConfigError(`DATABASE_URL: cannot reach PostgreSQL at ${at} (no answer); check the host and port in DATABASE_URL and any firewall between`);
  }
  if (code === '28P01' || code === '28000') return new ConfigError(`DATABASE_URL: PostgreSQL at ${at} refused the user name or password; correct them in DATABASE_URL`);
  if (code === '3D000') return new ConfigError(`DATABASE_URL: PostgreSQL at ${at} has no database "${database}"; create it (createdb ${database}) or correct DATABASE_URL`);
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  const password = URL.canParse(location) ? decodeURIComponent(new URL(location).password) : '';
  return new ConfigError(`DATABASE_URL: PostgreSQL at ${at} failed: ${password === '' ? message : message.replaceAll(password, '***')}`);
}

/** The one line for a SQLite file that cannot be opened where DATABASE_URL says. */
function sqliteRefusal(error: DatabaseLocationError): ConfigError {
  switch (error.problem) {
    case 'not-a-database':
      return new ConfigError(`DATABASE_URL ${error.path} is not a SQLite database; point DATABASE_URL at the store's database file, or at a new file name to start an empty store`);
    case 'damaged':
      return new ConfigError(`DATABASE_URL ${error.path} is damaged; restore it from a backup (see Backups in the README)`);
    default:
      return new ConfigError(`DATABASE_URL ${error.message}; ${FOLDER_FIX}`);
  }
}

/**
 * Opens the store DATABASE_URL names (migrations are the caller's next step). A SQLite file that
 * cannot be made or used, or a PostgreSQL server that cannot be reached, is refused with a
 * ConfigError; a SQLite refusal leaves behind nothing it created.
 */
export async function openConfiguredStore(location: string): Promise<Db> {
  let db: Db;
  try {
    db = openStoreDatabase(location);
  } catch (error) {
    throw error instanceof DatabaseLocationError ? sqliteRefusal(error) : error;
  }
  if (isPostgresUrl(location)) {
    try {
      await withinTime(sql`SELECT 1`.execute(db), 'PostgreSQL');
    } catch (error) {
      void db.destroy().catch(() => undefined);
      throw postgresRefusal(location, error);
    }
  }
  return db;
}
