/**
 * The store-scale benchmark: every scenario of the performance targets, each beside its floor in
 * the same process and run, printed as a table and written to bench/results.md.
 *
 *   npm run bench:data -- --customers 1000000 --orders 5000000     (once: builds data/bench.db)
 *   npm run bench [-- --db data/bench.db] [--quick] [--results file] [--only name,name]
 *   npm run bench -- --postgres postgres://postgres@127.0.0.1:5432/bench_source [same options]
 *
 * The store is copied first (the scenarios write: events, notes, API tokens), so every run starts
 * from the same data. `--quick` builds a 2,000-customer store in a temporary directory and runs
 * every scenario briefly: a smoke run that proves the bench works, not a measurement.
 *
 * `--postgres <url>` runs the same scenarios on PostgreSQL and writes its own table. The URL names
 * the source database: the SQLite store is copied into it once (migrate:copy's code) unless it
 * already holds as many customers and orders; each run works on a fresh database created from it
 * as a template (<name>_work_<pid>) and drops it afterwards (`--keep` keeps it).
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import type pg from 'pg';
import { ManualClock } from '../src/shared/clock.js';
import { readStoreCounters } from '../src/store/customer-counts.repository.js';
import { isPostgresUrl, migrateToLatest, openDatabase, openPostgresDatabase, type Db } from '../src/store/database.js';
import { generateStore } from './generate.js';
import { BENCH_NOW } from './lib/fixture.js';
import { connectFloorClient, createWorkDatabase, ensurePostgresSource, type PostgresWork } from './lib/postgres.js';
import { renderConsole, writeResults, type Row } from './lib/report.js';
import { benchDigest, benchKyselyOverhead, benchLists, benchLookups, benchSearch, benchStatistics, sampleStore, type BenchContext } from './lib/scenarios-db.js';
import { benchDiscord } from './lib/scenarios-discord.js';
import { benchExports, ensureSqliteShell, measureCsvFloor, measurePostgresCsvFloor } from './lib/scenarios-export.js';
import { benchCustomerGet, benchPurchaseEvents } from './lib/scenarios-http.js';

/** Every scenario, in the order they run; `--only` picks some by name. */
export const SCENARIOS = ['exports', 'lookups', 'search', 'lists', 'statistics', 'digest', 'kysely', 'http', 'events', 'discord'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    quick: { type: 'boolean', default: false },
    results: { type: 'string' },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
    postgres: { type: 'string' },
  },
});
if (values.postgres !== undefined && !(isPostgresUrl(values.postgres) && URL.canParse(values.postgres))) {
  throw new Error('--postgres takes the source database as a postgres:// URL, e.g. postgres://postgres@127.0.0.1:5432/bench_source');
}

const log = (line: string) => console.log(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const started = performance.now();
const quick = values.quick;
const only = new Set((values.only?.split(',') ?? SCENARIOS).map((s) => s.trim()) as Scenario[]);
const work = mkdtempSync(join(tmpdir(), 'bench-run-'));
const resultsPath = values.results ?? (quick ? join('data', 'bench-results-quick.md') : join('bench', 'results.md'));
let postgresWork: PostgresWork | undefined;

try {
  let source = values.db;
  if (source === undefined && quick) {
    source = join(work, 'quick-source.db');
    log('building a 2,000-customer store for the quick run');
    await generateStore({ customers: 2_000, orders: 10_000, out: source, seed: 1 });
  }
  source ??= join('data', 'bench.db');
  if (!existsSync(source)) throw new Error(`${source} does not exist: build it with npm run bench:data -- --customers 1000000 --orders 5000000`);

  // Fold the source's write-ahead log into it, then work on a copy.
  const checkpoint = new SQLite(source);
  checkpoint.pragma('wal_checkpoint(TRUNCATE)');
  checkpoint.close();

  let db: Db;
  let sqlite: SQLite.Database;
  let location: string;
  let floorClient: pg.Client | undefined;
  let database: string;
  if (values.postgres === undefined) {
    location = join(work, 'work.db');
    log(`copying ${source} to ${location}`);
    copyFileSync(source, location);
    ({ db, sqlite } = openDatabase(location));
    database = `SQLite ${(sqlite.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v}`;
  } else {
    await ensurePostgresSource(source, values.postgres, work, log);
    postgresWork = await createWorkDatabase(values.postgres, log);
    location = postgresWork.url;
    db = openPostgresDatabase(location).db;
    // The source file, read-only: the same data, for samples and fixed figures.
    sqlite = new SQLite(source, { readonly: true, fileMustExist: true });
    floorClient = await connectFloorClient(location);
    database = postgresWork.description;
  }
  await migrateToLatest(db);
  const customers = (await readStoreCounters(db)).customers;
  const orders = Number((sqlite.prepare('SELECT count(*) AS n FROM orders').get() as { n: number }).n);
  const ctx: BenchContext = {
    db,
    sqlite,
    ...(floorClient ? { postgres: { url: location, client: floorClient } } : {}),
    location,
    clock: new ManualClock(BENCH_NOW),
    quick,
    customers,
    sample: sampleStore(sqlite, quick ? 200 : 2_000),
  };
  log(`${customers.toLocaleString('en-US')} customers, ${orders.toLocaleString('en-US')} orders`);

  const rows: Row[] = [];
  let csvFloor = '—';
  const run = async (name: Scenario, work: () => Promise<Row[]>) => {
    if (!only.has(name)) return;
    log(`${name}…`);
    const produced = await work();
    rows.push(...produced);
    for (const r of produced) log(`  ${r.scenario}: ${r.met === null ? '' : r.met ? 'met' : 'MISSED'}`);
  };

  await run('exports', async () => {
    const useShell = ctx.postgres ? false : ensureSqliteShell(log);
    const measureFloor = () => (ctx.postgres ? measurePostgresCsvFloor(location) : measureCsvFloor(location, sqlite, useShell));
    const { rows: exportRows, floor } = await benchExports(location, measureFloor, quick);
    csvFloor = floor.description;
    return exportRows;
  });
  await run('lookups', () => benchLookups(ctx));
  await run('search', () => benchSearch(ctx));
  await run('lists', () => benchLists(ctx));
  await run('statistics', () => benchStatistics(ctx));
  await run('digest', () => benchDigest(ctx));
  await run('kysely', () => benchKyselyOverhead(ctx));
  await run('http', () => benchCustomerGet(ctx));
  await run('events', () => benchPurchaseEvents(ctx));
  await run('discord', () => benchDiscord(ctx));
  await db.destroy();
  await floorClient?.end();
  if (ctx.postgres) sqlite.close();

  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${renderConsole(rows)}\n`);
  const copied = postgresWork ? `, copied into PostgreSQL database ${postgresWork.source}; each run on a fresh copy` : '';
  writeResults(resultsPath, rows, {
    engine: postgresWork ? 'postgres' : 'sqlite',
    dataset: `${customers.toLocaleString('en-US')} customers and ${orders.toLocaleString('en-US')} orders (${source}${copied})`,
    seconds,
    database,
    csvFloor,
    quick,
  });
  const missed = rows.filter((r) => r.met === false);
  log(`wrote ${resultsPath}; ${missed.length === 0 ? 'every target met' : `${missed.length} target(s) missed`}`);
} finally {
  if (!values.keep) {
    rmSync(work, { recursive: true, force: true });
    await postgresWork?.drop();
  } else if (postgresWork) {
    log(`kept ${postgresWork.url}: drop it with dropdb ${postgresWork.name}`);
  }
}
