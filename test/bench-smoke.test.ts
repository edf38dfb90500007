import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The benchmark is not timed here (machines are noisy): this only keeps the generator and the
// runner working, by running both on a small store and checking the table has every row.

const work = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

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

describe('the benchmark', () => {
  it('builds a small store and runs every scenario in quick mode, writing a table with a row for each', () => {
    const db = join(work, 'store.db');
    const results = join(work, 'results.md');
    expect(tsx(['bench/generate.ts', '--customers', '2000', '--orders', '10000', '--out', db])).toMatch(/2,000 customers, 10,000 orders/);
    tsx(['bench/run.ts', '--quick', '--db', db, '--results', results]);
    const table = readFileSync(results, 'utf8');
    expect(table).toContain('| Scenario | p50 | p99 | Throughput | Peak RSS | Floor (same run) | vs floor | Target | Met |');
    for (const row of ROWS) expect(table, row).toContain(`| ${row}`);
  }, 300_000);
});
