/**
 * The PostgreSQL side of the benchmark. The SQLite store is copied once, with the store's own copy
 * code (what `npm run migrate:copy` runs), into a source database; every run then works on a fresh
 * database created from that one as a template, so runs start from the same data, and drops it
 * afterwards. The floors are hand-written named statements on a plain pg client.
 */
import SQLite from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { migrateToLatest, openDatabase, openPostgresDatabase } from '../../src/store/database.js';
import { migrations } from '../../src/store/migrations/index.js';
import { checkSourceMigrations, copySqliteStoreToPostgres } from '../../src/store/sqlite-to-postgres.js';

/** Marks a database this benchmark created, and so may drop and copy again when its data is stale. */
const SOURCE_COMMENT = 'store benchmark source (npm run bench -- --postgres): safe to drop';

export interface PostgresWork {
  /** The work database's URL: what the store, the floors and the bot's children connect to. */
  url: string;
  name: string;
  source: string;
  /** "PostgreSQL 15.20", and the settings that shape the figures. */
  description: string;
  version: string;
  drop(): Promise<void>;
}

export function databaseNameOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  // Used in CREATE/DROP DATABASE (quoted) and in the work database's name (limited to 63 bytes).
  if (!/^[a-z_][a-z0-9_]{0,39}$/.test(name)) throw new Error(`--postgres: name the source database in lower-case letters, digits and _ (at most 40), not "${name}"`);
  return name;
}

export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(url);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const id = (name: string) => pg.escapeIdentifier(name);

interface StoreCounts {
  customers: number;
  orders: number;
}

function sqliteCounts(source: SQLite.Database): StoreCounts {
  const count = (table: string) => Number(source.prepare(`SELECT count(*) FROM ${table}`).pluck().get());
  return { customers: count('customers'), orders: count('orders') };
}

/** The counts in a PostgreSQL store, or null when it is not a (complete) store. */
async function postgresCounts(url: string): Promise<StoreCounts | null> {
  return withClient(url, async (client) => {
    try {
      const { rows } = await client.query<{ customers: string; orders: string }>(
        'SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM orders) AS orders',
      );
      const row = rows[0];
      return row ? { customers: Number(row.customers), orders: Number(row.orders) } : null;
    } catch {
      return null;
    }
  });
}

/**
 * Makes sure the source database at `url` holds the SQLite store at `sqlitePath`: kept when it
 * already holds as many customers and orders, else (re)created and filled by the store's copy.
 * Refuses to drop a database this benchmark did not create. A SQLite store behind this version's
 * migrations is copied into `scratchDir` and migrated there first (the copy needs them level).
 */
export async function ensurePostgresSource(sqlitePath: string, url: string, scratchDir: string, log: (line: string) => void): Promise<void> {
  const name = databaseNameOf(url);
  const admin = withDatabase(url, 'postgres');
  let source = new SQLite(sqlitePath, { readonly: true, fileMustExist: true });
  try {
    const wanted = sqliteCounts(source);
    const existing = await withClient(admin, async (client) => {
      const { rows } = await client.query<{ comment: string | null }>(
        "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
        [name],
      );
      return rows[0];
    });
    if (existing) {
      const found = await postgresCounts(url);
      if (found && found.customers === wanted.customers && found.orders === wanted.orders) {
        await migrateSource(url, log);
        log(`PostgreSQL source ${name} already holds ${wanted.customers.toLocaleString('en-US')} customers and ${wanted.orders.toLocaleString('en-US')} orders: kept`);
        return;
      }
      if (existing.comment !== SOURCE_COMMENT) {
        throw new Error(
          `the PostgreSQL database ${name} exists and does not hold this store (${found ? `${found.customers} customers, ${found.orders} orders` : 'no store'}); ` +
            'the benchmark only replaces databases it created: name another one',
        );
      }
      log(`PostgreSQL source ${name} holds other data (${found ? `${found.customers.toLocaleString('en-US')} customers` : 'no store'}): copying again`);
      await withClient(admin, (client) => client.query(`DROP DATABASE ${id(name)} WITH (FORCE)`));
    }
    const applied = new Set(source.prepare('SELECT name FROM kysely_migration').pluck().all() as string[]);
    if (Object.keys(migrations).some((migration) => !applied.has(migration))) {
      const migrated = join(scratchDir, 'source-migrated.db');
      log(`${sqlitePath} lacks this version's latest migrations: copying it to ${migrated} and migrating it there`);
      source.close();
      copyFileSync(sqlitePath, migrated);
      const opened = openDatabase(migrated);
      await migrateToLatest(opened.db);
      await opened.db.destroy();
      source = new SQLite(migrated, { readonly: true, fileMustExist: true });
    }
    checkSourceMigrations(source, sqlitePath);
    await withClient(admin, async (client) => {
      await client.query(`CREATE DATABASE ${id(name)}`);
      await client.query(`COMMENT ON DATABASE ${id(name)} IS ${pg.escapeLiteral(SOURCE_COMMENT)}`);
    });
    log(`copying ${sqlitePath} into PostgreSQL database ${name} (npm run migrate:copy's code)`);
    const { db } = openPostgresDatabase(url, { maxConnections: 2 });
    try {
      await migrateToLatest(db);
      let lastPrinted = performance.now();
      const report = await copySqliteStoreToPostgres(source, db, {
        onProgress: ({ table, rows, total }) => {
          if (rows < total && performance.now() - lastPrinted < 30_000) return;
          lastPrinted = performance.now();
          if (total >= 10_000) log(`  ${table}: ${rows.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} rows`);
        },
      });
      if (!report.ok) {
        const differing = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.sqlite} vs ${c.postgres}`);
        throw new Error(`the copy into ${name} did not verify: ${differing.join('; ')}`);
      }
      log(`copied and verified in ${(report.ms / 1000).toFixed(0)} s`);
    } catch (error) {
      await db.destroy();
      await withClient(admin, (client) => client.query(`DROP DATABASE IF EXISTS ${id(name)} WITH (FORCE)`));
      throw error;
    }
    await db.destroy();
    // The copy leaves fresh statistics; VACUUM also sets the visibility map and hint bits, as
    // autovacuum would have long since done on a store that grew to this size, so no run pays
    // for first-touch page writes and index-only scans can skip the heap.
    const vacuumStarted = performance.now();
    await withClient(url, (client) => client.query('VACUUM (FREEZE, ANALYZE)'));
    log(`VACUUM (FREEZE, ANALYZE) in ${((performance.now() - vacuumStarted) / 1000).toFixed(0)} s`);
  } finally {
    source.close();
  }
}

/** A kept source created by an older version gets this version's migrations (and fresh statistics if any ran). */
async function migrateSource(url: string, log: (line: string) => void): Promise<void> {
  const applied = () => withClient(url, async (client) => Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM kysely_migration')).rows[0]?.n));
  const before = await applied();
  if (before === Object.keys(migrations).length) return;
  const { db } = openPostgresDatabase(url, { maxConnections: 1 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  log(`PostgreSQL source: ${(await applied()) - before} new migration(s) applied`);
  await withClient(url, (client) => client.query('VACUUM (ANALYZE)'));
}

/** A fresh database for one run, created from the source as a template; drop() removes it. */
export async function createWorkDatabase(sourceUrl: string, log: (line: string) => void): Promise<PostgresWork> {
  const source = databaseNameOf(sourceUrl);
  const admin = withDatabase(sourceUrl, 'postgres');
  const name = `${source}_work_${process.pid}`;
  const { version, description } = await withClient(admin, async (client) => {
    // Work databases of runs that died before dropping theirs.
    const { rows: stale } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${source}\\_work\\_%`]);
    for (const { datname } of stale) {
      const pid = Number(datname.slice(`${source}_work_`.length));
      if (pid === process.pid || !Number.isInteger(pid) || isRunning(pid)) continue;
      log(`dropping ${datname}, left behind by an earlier run`);
      await client.query(`DROP DATABASE IF EXISTS ${id(datname)} WITH (FORCE)`);
    }
    const settings = await client.query<{ version: string; num: string; shared_buffers: string; work_mem: string }>(
      "SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num, current_setting('shared_buffers') AS shared_buffers, current_setting('work_mem') AS work_mem",
    );
    const s = settings.rows[0];
    if (!s) throw new Error('PostgreSQL did not report its version');
    const started = performance.now();
    // FILE_COPY copies the files after one checkpoint; 15's default (WAL_LOG) writes every page
    // of a multi-gigabyte store through the log.
    const strategy = Number(s.num) >= 150_000 ? ' STRATEGY = FILE_COPY' : '';
    await client.query(`DROP DATABASE IF EXISTS ${id(name)}`);
    await client.query(`CREATE DATABASE ${id(name)} TEMPLATE ${id(source)}${strategy}`);
    log(`created ${name} from ${source} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const host = new URL(sourceUrl).host;
    return {
      version: s.version.split(' ')[0] ?? s.version,
      description: `PostgreSQL ${s.version.split(' ')[0] ?? s.version} at ${host} (shared_buffers ${s.shared_buffers}, work_mem ${s.work_mem})`,
    };
  });
  return {
    url: withDatabase(sourceUrl, name),
    name,
    source,
    version,
    description,
    drop: () => withClient(admin, async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${id(name)} WITH (FORCE)`))),
  };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A plain pg client on the work database, for the floors. */
export function connectFloorClient(url: string): Promise<pg.Client> {
  return connect(url);
}

let statementSeq = 0;

/**
 * A hand-written named (server-side prepared) statement: parsed and planned once per
 * connection, then only bound and executed, as a careful hand-written program would run it.
 */
export function namedStatement(client: pg.Client | pg.Pool, text: string) {
  statementSeq += 1;
  const name = `bench_floor_${statementSeq}`;
  return {
    all: async (...values: unknown[]) => (await client.query<Record<string, unknown>>({ name, text, values })).rows,
    get: async (...values: unknown[]): Promise<Record<string, unknown> | undefined> => (await client.query<Record<string, unknown>>({ name, text, values })).rows[0],
  };
}
