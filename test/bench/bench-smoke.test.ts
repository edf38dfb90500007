import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { writeResults, type Row, type RunInfo } from '../../bench/lib/report.js';
import { testDatabaseUrl } from '../support/database.js';

// The benchmark is not timed here (machines are noisy): this only keeps the generator and the
// runner working, by running both on a small store and checking the table has every row. Without
// TEST_DATABASE_URL it runs on SQLite; with it (scripts/test-postgres.sh), on PostgreSQL, in a
// source database of its own on the same server, dropped afterwards.

const work = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
const postgresSource = testDatabaseUrl === undefined ? undefined : withDatabase(testDatabaseUrl, `bench_smoke_${process.pid}_${Date.now().toString(36)}`);

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (postgresSource === undefined) return;
  const admin = new pg.Client({ connectionString: withDatabase(postgresSource, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(new URL(postgresSource).pathname.slice(1))} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
});

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

function tsx(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', ...args], { encoding: 'utf8', cwd: process.cwd(), timeout: 280_000 });
  if (result.status !== 0) throw new Error(`tsx ${args.join(' ')} failed (${String(result.status)}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

const ROWS = [
  'CSV export of all',
  'Excel export of all',
  'lookup by email',
  'lookup by Discord ID',
  'lookup by Steam ID',
  'lookup by order number',
  'lookup by id',
  'search "smith"',
  'search "a": 1 character',
  'search "an": 2 characters',
  'list page 1 of 15 + exact total',
  'list page 100',
  'export batches of 1,000 rows',
  'store statistics',
  'weekly digest computation',
  'Kysely query path vs prepared statement',
  'GET /api/external/v1/customers/:id over HTTP',
  'signed purchase events acknowledged durably',
  'signed purchase events at a steady 200/s',
  'bot process idle',
  'every slash command acknowledged',
];

const HEADER = '| Scenario | p50 | p99 | Throughput | Peak RSS | Floor (same run) | vs floor | Target | Met |';
const SQLITE_BEGIN = '<!-- bench:table:begin (written by npm run bench) -->';
const SQLITE_END = '<!-- bench:table:end -->';
const POSTGRES_BEGIN = '<!-- bench:table-postgres:begin (written by npm run bench -- --postgres <url>) -->';
const POSTGRES_END = '<!-- bench:table-postgres:end -->';

function between(text: string, begin: string, end: string): string {
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`no ${begin} … ${end} section`);
  return text.slice(from, to + end.length);
}

describe('the benchmark', () => {
  it.skipIf(postgresSource !== undefined)('builds a small store and runs every scenario in quick mode, writing a table with a row for each', () => {
    const db = join(work, 'store.db');
    const results = join(work, 'results.md');
    expect(tsx(['bench/generate.ts', '--customers', '2000', '--orders', '10000', '--out', db])).toMatch(/2,000 customers, 10,000 orders/);
    tsx(['bench/run.ts', '--quick', '--db', db, '--results', results]);
    const table = readFileSync(results, 'utf8');
    expect(table).toContain(HEADER);
    for (const row of ROWS) expect(table, row).toContain(`| ${row}`);
  }, 300_000);

  it.skipIf(postgresSource === undefined)('runs every scenario in quick mode on PostgreSQL into its own table, leaving the SQLite table as it was', () => {
    const db = join(work, 'store.db');
    const results = join(work, 'results-postgres.md');
    expect(tsx(['bench/generate.ts', '--customers', '2000', '--orders', '10000', '--out', db])).toMatch(/2,000 customers, 10,000 orders/);
    const sqliteSection = `${SQLITE_BEGIN}\nan earlier SQLite run\n${SQLITE_END}`;
    writeFileSync(results, `# Benchmark results\n\n${sqliteSection}\n\nNotes kept by hand.\n`);
    tsx(['bench/run.ts', '--quick', '--db', db, '--results', results, '--postgres', postgresSource as string]);
    const text = readFileSync(results, 'utf8');
    expect(between(text, SQLITE_BEGIN, SQLITE_END)).toBe(sqliteSection);
    expect(text).toContain('Notes kept by hand.');
    const table = between(text, POSTGRES_BEGIN, POSTGRES_END);
    expect(table).toMatch(/PostgreSQL \d+(\.\d+)? at /);
    expect(table).toContain('2,000 customers and 10,000 orders');
    expect(table).toContain(HEADER);
    for (const row of ROWS) expect(table, row).toContain(`| ${row}`);
  }, 300_000);
});

describe('the results file', () => {
  const rows: Row[] = [{ scenario: 'lookup by id', p50: 0.5, p99: 1, floor: 'p50 0.1 ms', vsFloor: '5×', target: 'p99 ≤ 2 ms', met: true }];
  const info = (engine: RunInfo['engine'], database: string): RunInfo => ({ engine, dataset: 'a small store', seconds: 1, database, csvFloor: 'a floor', quick: true });

  it('keeps each database’s table between its own markers, rewriting only the one the run measured', () => {
    const path = join(work, 'markers.md');
    writeResults(path, rows, info('sqlite', 'SQLite 3.0'));
    const afterSqlite = readFileSync(path, 'utf8');
    writeFileSync(path, `${afterSqlite}\n## Notes\n\nBy hand.\n`);
    writeResults(path, rows, info('postgres', 'PostgreSQL 15.0 at localhost'));
    const afterPostgres = readFileSync(path, 'utf8');
    expect(between(afterPostgres, SQLITE_BEGIN, SQLITE_END)).toBe(between(afterSqlite, SQLITE_BEGIN, SQLITE_END));
    expect(afterPostgres.indexOf(POSTGRES_BEGIN)).toBeGreaterThan(afterPostgres.indexOf(SQLITE_END));
    expect(afterPostgres).toContain('By hand.');
    const postgresTable = between(afterPostgres, POSTGRES_BEGIN, POSTGRES_END);
    expect(postgresTable).toContain('PostgreSQL 15.0 at localhost');

    writeResults(path, rows, info('sqlite', 'SQLite 3.1'));
    const again = readFileSync(path, 'utf8');
    expect(between(again, POSTGRES_BEGIN, POSTGRES_END)).toBe(postgresTable);
    expect(between(again, SQLITE_BEGIN, SQLITE_END)).toContain('SQLite 3.1');
    expect(again).toContain('By hand.');
  });
});
