/**
 * One customer export (the path `/customer export` runs: iterateCustomersForExport → writeCustomerExport)
 * in its own process, so its peak memory is its own. Reports rows, bytes, seconds and peak RSS.
 */
import { rmSync } from 'node:fs';
import { ManualClock } from '../../src/shared/clock.js';
import { iterateCustomersForExport } from '../../src/domain/customers/list.js';
import { writeCustomerExport, type ExportFormat } from '../../src/domain/exports/customer-export.js';
import { openStoreDatabase } from '../../src/store/database.js';
import { BENCH_NOW } from './fixture.js';

export interface ExportChildResult {
  rows: number;
  bytes: number;
  /** Until the last row was written. */
  rowsSeconds: number;
  /** Including the zip of a CSV over Discord's upload cap. */
  totalSeconds: number;
  compressed: boolean;
  peakRssMb: number;
}

if (process.send && process.argv[2] === '--export') {
  // The store as DATABASE_URL names it: a SQLite file or a postgres:// URL.
  const [location, format, directory] = process.argv.slice(3) as [string, ExportFormat, string];
  const db = openStoreDatabase(location);
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const start = performance.now();
  let rowsDoneAt = start;
  const file = await writeCustomerExport(iterateCustomersForExport(db, new ManualClock(BENCH_NOW), { filter: 'all', sort: 'newest' }, { atRiskDays: 90 }), {
    format,
    directory,
    baseName: `bench-${format}`,
    whenTooLarge: 'keep',
    progressEvery: 10_000,
    onProgress: () => {
      rowsDoneAt = performance.now();
    },
  });
  const end = performance.now();
  clearInterval(sampler);
  rmSync(file.path, { force: true });
  await db.destroy();
  // resourceUsage().maxRSS (KiB) is the kernel's high-water mark: it catches what sampling misses.
  const peakRssMb = Math.max(peak / 1024 / 1024, process.resourceUsage().maxRSS / 1024);
  const result: ExportChildResult = {
    rows: file.rows,
    bytes: file.bytes,
    rowsSeconds: (rowsDoneAt - start) / 1000,
    totalSeconds: (end - start) / 1000,
    compressed: file.compressed,
    peakRssMb,
  };
  process.send(result, () => process.exit(0));
}
