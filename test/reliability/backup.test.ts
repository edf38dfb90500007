import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPurchaseEvent, type PurchaseEventHooks } from '../../src/domain/purchases/apply.js';
import { parseStoreEvent } from '../../src/domain/purchases/parse.js';
import { backupDatabaseFile } from '../../src/store/backup.js';
import type { Db } from '../../src/store/database.js';
import { useTestContext } from '../support/context.js';
import { runOnlineBackup } from './support/online-backup.js';

const hooks: PurchaseEventHooks = { customerChanged: () => Promise.resolve(), customerCreated: () => Promise.resolve() };

function paid(i: number) {
  const parsed = parseStoreEvent(
    Buffer.from(JSON.stringify({ id: `evt_${i}`, event_type: 'order.paid', data: { id: i, total: '12.50', customer: { email: `backup${i}@example.com` } } })),
    {},
  );
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.event;
}

let dir: string;
let path: string;
let db: Db;

useTestContext({ onDisk: true }, async (context) => {
  ({ db, path } = context);
  dir = dirname(path);
  for (let i = 1; i <= 20; i++) await applyPurchaseEvent(db, context.clock, paid(i), hooks);
});

describe('npm run backup', () => {
  it('takes a complete, consistent copy while purchases keep being written, which restores, and a copy taken at rest equals the database', async () => {
    // Big enough (a few MiB) that the backup takes many steps; `npm run test:long` uses the CLI on a larger one.
    const result = await runOnlineBackup({ baseEvents: 6_000, via: 'function', pagesPerStep: 64 });
    expect(result.problems).toEqual([]);
    expect(result.writtenDuring).toBeGreaterThan(0);
    expect(result.steps).toBeGreaterThan(1);
    expect(result).toMatchObject({ copyIntegrity: 'ok', copyCustomersOff: 0, restoredIntegrity: 'ok', restoredWritable: true, standalone: true, atRestEqualsLive: true });
    // One snapshot: the copy equals the database as it was after one of the writes, never a mix.
    expect(result.matchingSnapshot).toBeGreaterThanOrEqual(0);
    expect(result.restoredFigures).toEqual(result.copyFigures);
    expect(result.copyFigures.aggregateOrders).toBe(result.copyFigures.completedOrders);
    expect(result.copyFigures.aggregateCents).toBe(result.copyFigures.completedCents);
  }, 60_000);

  it('never overwrites an existing file', async () => {
    await backupDatabaseFile(path, join(dir, 'copy.db'));
    await expect(backupDatabaseFile(path, join(dir, 'copy.db'))).rejects.toThrow('already exists');
  });

  it.runIf(process.platform === 'linux')('refuses a --to folder that cannot be created in one line, without spinning', () => {
    const refused = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/backup.ts', '--to', '/proc/customer-desk-backups/'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: path, DOTENV_CONFIG_PATH: '/nonexistent/.env', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      // Ends a run that spins instead of refusing; the status then says so.
      timeout: 30_000,
    });
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^Error: --to \/proc\/customer-desk-backups cannot be created/);
  }, 60_000);

  it('writes a timestamped file under backups/ beside the database by default, or into the folder given with --to', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/backup.ts', ...args], {
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: path, DOTENV_CONFIG_PATH: '/nonexistent/.env', LOG_LEVEL: 'silent' },
        encoding: 'utf8',
      });
    const byDefault = run([]);
    expect(byDefault.stderr).toBe('');
    expect(byDefault.status).toBe(0);
    const [file] = readdirSync(join(dir, 'backups'));
    expect(file).toMatch(/^customers-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z\.db$/);
    expect(byDefault.stdout).toContain(`to ${join(dir, 'backups', file!)}`);
    expect(byDefault.stdout).toContain('integrity ok');

    const elsewhere = mkdtempSync(join(tmpdir(), 'backup-target-'));
    try {
      expect(run(['--to', elsewhere]).status).toBe(0);
      expect(readdirSync(elsewhere)).toHaveLength(1);
      const refused = run(['--frobnicate']);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('unknown option --frobnicate');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  }, 30_000);
});
