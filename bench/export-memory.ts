/**
 * Memory of a large customer export: seeds a temporary SQLite file with N customers (real
 * migrations, then one prepared-statement transaction), then runs the export path the bot runs
 * (iterateCustomers → writeCustomerExport) once per format, each in its own process so one
 * format's heap never inflates the other's figures. Prints rows, bytes, seconds and peak RSS.
 *
 *   npx tsx bench/export-memory.ts --customers 1000000 [--format csv|xlsx|both] [--batch 1000] [--db file]
 *
 * `--db file` keeps the seeded database there (seeding a million rows takes about a minute) and
 * reuses it when it already exists.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/shared/clock.js';
import { iterateCustomers } from '../src/domain/customers/list.js';
import { writeCustomerExport, type ExportFormat } from '../src/domain/exports/customer-export.js';
import { openDatabase, openMigratedDatabase } from '../src/store/database.js';

interface Measurement {
  format: ExportFormat;
  rows: number;
  /** What came out: the file kind and whether it is over Discord's upload cap. */
  file: string;
  bytes: number;
  /** Until the last row was written, and in all (a CSV over the cap is zipped after). */
  rowsSeconds: number;
  totalSeconds: number;
  baselineRssMb: number;
  peakRssMb: number;
  /** The kernel's own high-water mark for the child process (catches spikes between samples). */
  maxRssMb: number;
  peakHeapMb: number;
}

const MB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '100000' },
    format: { type: 'string', default: 'both' },
    batch: { type: 'string', default: '1000' },
    child: { type: 'boolean', default: false },
    db: { type: 'string' },
    out: { type: 'string' },
  },
});

if (values.child) {
  await runChild();
} else {
  await runParent();
}

async function runParent(): Promise<void> {
  const customers = Number(values.customers);
  if (!Number.isInteger(customers) || customers < 1) throw new Error('--customers must be a positive integer');
  const formats: ExportFormat[] = values.format === 'both' ? ['csv', 'xlsx'] : [parseFormat(values.format)];
  const work = mkdtempSync(join(tmpdir(), 'export-bench-'));
  try {
    const dbPath = values.db ?? join(work, 'customers.db');
    if (existsSync(dbPath)) {
      console.log(`reusing ${dbPath}`);
    } else {
      const seedStart = performance.now();
      await seed(dbPath, customers);
      console.log(`seeded ${customers.toLocaleString('en-US')} customers in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
    }
    const results: Measurement[] = [];
    for (const format of formats) results.push(await measureInChild(dbPath, format, work));
    console.table(
      results.map((r) => ({
        format: r.format,
        rows: r.rows,
        file: r.file,
        'MB written': +(r.bytes / MB).toFixed(1),
        's (rows)': +r.rowsSeconds.toFixed(1),
        's (total)': +r.totalSeconds.toFixed(1),
        'RSS before MB': +r.baselineRssMb.toFixed(0),
        'peak RSS MB (100 ms samples)': +r.peakRssMb.toFixed(0),
        'maxRSS MB (kernel)': +r.maxRssMb.toFixed(0),
        'peak heap MB': +r.peakHeapMb.toFixed(0),
      })),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function measureInChild(dbPath: string, format: ExportFormat, work: string): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', '--db', dbPath, '--format', format, '--batch', values.batch, '--out', work], {
      // tsx's loader flags, so the child runs TypeScript the same way.
      execArgv: process.execArgv,
    });
    let result: Measurement | undefined;
    child.on('message', (message) => {
      result = message as Measurement;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && result) resolve(result);
      else reject(new Error(`the ${format} export child exited with ${code}`));
    });
  });
}

async function runChild(): Promise<void> {
  const format = parseFormat(values.format);
  if (!values.db || !values.out) throw new Error('--db and --out are required with --child');
  const { db } = openDatabase(values.db);
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const baselineRss = peakRss;
  const sample = () => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  };
  const sampler = setInterval(sample, 100);
  const start = performance.now();
  let rowsDoneAt = start;
  const file = await writeCustomerExport(iterateCustomers(db, systemClock, { filter: 'all', sort: 'newest' }, { atRiskDays: 90, batchSize: Number(values.batch) }), {
    format,
    directory: values.out,
    baseName: `bench-${format}`,
    // As the bot does when it can answer with a download link: keep what is over Discord's cap.
    whenTooLarge: 'keep',
    progressEvery: 10_000,
    onProgress: () => {
      sample();
      rowsDoneAt = performance.now();
    },
  });
  const end = performance.now();
  clearInterval(sampler);
  sample();
  rmSync(file.path, { force: true });
  await db.destroy();
  const measurement: Measurement = {
    format,
    rows: file.rows,
    file: `${file.fileName.split('.').pop() ?? ''}${file.overLimit ? ' (over the upload cap)' : ''}`,
    bytes: file.bytes,
    rowsSeconds: (rowsDoneAt - start) / 1000,
    totalSeconds: (end - start) / 1000,
    baselineRssMb: baselineRss / MB,
    peakRssMb: peakRss / MB,
    // resourceUsage().maxRSS is in kibibytes.
    maxRssMb: (process.resourceUsage().maxRSS * 1024) / MB,
    peakHeapMb: peakHeap / MB,
  };
  process.send?.(measurement);
}

async function seed(path: string, count: number): Promise<void> {
  const { db } = await openMigratedDatabase(path);
  await db.destroy();
  const { sqlite } = openDatabase(path);
  const insert = sqlite.prepare(
    `INSERT INTO customers (name, email, email_lower, country, discord_id, discord_username, steam_id, steam_username,
       orders_count, total_spent_cents, first_order_at, last_order_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const countries = ['US', 'GB', 'DE', 'FR', 'BR', 'PL', null];
  const start = Date.UTC(2020, 0, 1);
  const insertAll = sqlite.transaction((n: number) => {
    for (let i = 1; i <= n; i++) {
      const created = new Date(start + i * 97_000).toISOString();
      const orders = i % 7;
      const lastOrder = orders > 0 ? new Date(start + i * 97_000 + 86_400_000).toISOString() : null;
      const email = `customer.${i}@example-${i % 100}.com`;
      insert.run(
        `Customer Number ${i} ${i % 3 === 0 ? 'Müller' : 'Smith'}`,
        email,
        email,
        countries[i % countries.length] ?? null,
        i % 2 === 0 ? String(300_000_000_000_000_000n + BigInt(i)) : null,
        i % 2 === 0 ? `player_${i}` : null,
        i % 3 === 0 ? String(76_561_198_000_000_000n + BigInt(i)) : null,
        i % 3 === 0 ? `Steamer${i}` : null,
        orders,
        orders * 1499,
        lastOrder,
        lastOrder,
        created,
        created,
      );
    }
  });
  insertAll(count);
  sqlite.close();
}

function parseFormat(value: string | undefined): ExportFormat {
  if (value === 'csv' || value === 'xlsx') return value;
  throw new Error('--format must be csv, xlsx or both');
}
