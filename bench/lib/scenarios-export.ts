/**
 * Exports of every customer, each in its own process (its peak RSS is its own), beside the
 * `sqlite3 -csv` command-line shell (on PostgreSQL: psql's `\copy … TO … CSV`) writing the same
 * columns in the same order.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type SQLite from 'better-sqlite3';
import { runChild } from './children.js';
import type { ExportChildResult } from './export-child.js';
import type { Row } from './report.js';
import { ratio, seconds } from './stats.js';

const EXPORT_SQL = `SELECT id AS "Customer ID", name AS "Name", email AS "Email", country AS "Country", orders_count AS "Total Orders",
  printf('%.2f', total_spent_cents / 100.0) AS "Total Spent", created_at AS "Registration Date", last_order_at AS "Last Order Date",
  discord_username AS "Discord Username", steam_username AS "Steam Username"
  FROM customers ORDER BY created_at DESC, id DESC`;

const POSTGRES_EXPORT_SQL = `SELECT id AS "Customer ID", name AS "Name", email AS "Email", country AS "Country", orders_count AS "Total Orders",
  to_char(total_spent_cents / 100.0, 'FM999999999999990.00') AS "Total Spent", created_at AS "Registration Date", last_order_at AS "Last Order Date",
  discord_username AS "Discord Username", steam_username AS "Steam Username"
  FROM customers ORDER BY created_at DESC, id DESC`;

export interface CsvFloor {
  seconds: number;
  peakRssMb: number | null;
  bytes: number;
  /** What the floor is, for the results header. */
  description: string;
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * The CSV floor: the sqlite3 shell when it is installed (installed from Debian's package when
 * missing and running as root), else better-sqlite3's iterate() with a hand-written quoter.
 */
export function ensureSqliteShell(log: (line: string) => void): boolean {
  if (hasCommand('sqlite3')) return true;
  if (process.getuid?.() === 0 && hasCommand('apt-get')) {
    log('sqlite3 is not installed: installing Debian\'s sqlite3 package for the CSV floor');
    const update = spawnSync('apt-get', ['update'], { stdio: 'ignore' });
    const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'sqlite3'], { stdio: 'ignore' }) : update;
    if (install.status === 0 && hasCommand('sqlite3')) return true;
  }
  log('sqlite3 is not available: the CSV floor is better-sqlite3 iterate() with a hand-written quoter');
  return false;
}

/** Runs `command` (under /usr/bin/time when installed, for its peak RSS); resolves to that peak in MB. */
function runMeasured(command: string, args: string[]): Promise<number | null> {
  const timed = hasCommand('/usr/bin/time');
  return new Promise<number | null>((resolve, reject) => {
    const child = timed ? spawn('/usr/bin/time', ['-f', '%M', command, ...args]) : spawn(command, args);
    child.stdout.resume();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${command} failed: ${stderr}`));
      const kib = Number(/(\d+)\s*$/.exec(stderr.trim())?.[1]);
      resolve(timed && Number.isFinite(kib) ? kib / 1024 : null);
    });
  });
}

/**
 * The CSV floor on PostgreSQL: psql's `\copy (SELECT …) TO 'file' CSV HEADER`, the server's COPY
 * streamed to a file by the client. Its RSS is psql's; the server's work is not in it.
 */
export async function measurePostgresCsvFloor(url: string): Promise<CsvFloor> {
  if (!hasCommand('psql')) throw new Error('psql is not installed: it is the CSV floor of a PostgreSQL run');
  const dir = mkdtempSync(join(tmpdir(), 'bench-floor-'));
  const out = join(dir, 'floor.csv');
  try {
    const version = /\d+(\.\d+)*/.exec(execFileSync('psql', ['--version'], { encoding: 'utf8' }))?.[0] ?? '';
    // \copy takes the rest of its line, so the query goes on one line.
    const copy = `\\copy (${POSTGRES_EXPORT_SQL.replace(/\s+/g, ' ')}) TO '${out}' WITH (FORMAT csv, HEADER)`;
    const start = performance.now();
    const peak = await runMeasured('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', copy]);
    return {
      seconds: (performance.now() - start) / 1000,
      peakRssMb: peak,
      bytes: statSync(out).size,
      description: `psql's \`\\copy (SELECT …) TO file CSV\` (psql ${version}) writing the same ten columns in the same order; its RSS is psql's alone`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureCsvFloor(dbPath: string, sqlite: SQLite.Database, useShell: boolean): Promise<CsvFloor> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-floor-'));
  const out = join(dir, 'floor.csv');
  try {
    if (useShell) {
      const version = execFileSync('sqlite3', ['--version'], { encoding: 'utf8' }).split(' ')[0] ?? '';
      const timed = hasCommand('/usr/bin/time');
      const start = performance.now();
      const peak = await new Promise<number | null>((resolve, reject) => {
        const args = ['-csv', '-header', '-readonly', dbPath, EXPORT_SQL];
        const child = timed ? spawn('/usr/bin/time', ['-f', '%M', 'sqlite3', ...args]) : spawn('sqlite3', args);
        const file = createWriteStream(out);
        child.stdout.pipe(file);
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => {
          if (code !== 0) reject(new Error(`sqlite3 failed: ${stderr}`));
          const kib = Number(/(\d+)\s*$/.exec(stderr.trim())?.[1]);
          resolve(timed && Number.isFinite(kib) ? kib / 1024 : null);
        });
      });
      return {
        seconds: (performance.now() - start) / 1000,
        peakRssMb: peak,
        bytes: statSync(out).size,
        description: `\`sqlite3 -csv\` (the SQLite ${version} shell) writing the same ten columns in the same order to a file`,
      };
    }
    const start = performance.now();
    const file = createWriteStream(out);
    const quote = (v: unknown) => {
      if (v === null || v === undefined) return '';
      const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
      return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
    };
    let buffer = '';
    for (const row of sqlite.prepare(EXPORT_SQL).raw().iterate() as IterableIterator<unknown[]>) {
      buffer += `${row.map(quote).join(',')}\r\n`;
      if (buffer.length > 1 << 20) {
        if (!file.write(buffer)) await new Promise<void>((r) => file.once('drain', () => r()));
        buffer = '';
      }
    }
    await new Promise<void>((resolve) => file.end(buffer, () => resolve()));
    return {
      seconds: (performance.now() - start) / 1000,
      peakRssMb: null,
      bytes: statSync(out).size,
      description: 'better-sqlite3 iterate() with a hand-written CSV quoter (the sqlite3 shell was not available)',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CSV exports timed between floors, back to back; the median is reported. */
const CSV_PAIRS = 5;

/**
 * `location` is the store as DATABASE_URL names it: a SQLite file or a postgres:// URL. The CSV
 * export runs between two runs of its floor (floor, export, floor, export, …, floor) and each
 * export is compared with the mean of the floors either side of it, so a machine whose speed
 * drifts during the run moves both sides of a ratio alike; the median ratio is reported, with
 * the spread of the ratios.
 */
export async function benchExports(location: string, measureFloor: () => Promise<CsvFloor>, quick: boolean): Promise<{ rows: Row[]; floor: CsvFloor }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-export-'));
  try {
    const pairs: Array<{ floor: CsvFloor; csv: ExportChildResult }> = [];
    let before = await measureFloor();
    for (let i = 0; i < (quick ? 1 : CSV_PAIRS); i++) {
      const csv = await runChild<ExportChildResult>('./export-child', ['--export', location, 'csv', dir]);
      const after = await measureFloor();
      const floor = { ...after, seconds: (before.seconds + after.seconds) / 2, peakRssMb: maxOrNull(before.peakRssMb, after.peakRssMb) };
      pairs.push({ floor, csv });
      before = after;
    }
    const byRatio = pairs.map((p) => ({ ...p, ratio: p.csv.rowsSeconds / p.floor.seconds })).sort((a, b) => a.ratio - b.ratio);
    const median = byRatio[Math.floor(byRatio.length / 2)] ?? byRatio[0];
    if (!median) throw new Error('no CSV export was measured');
    const { floor, csv } = median;
    const peakRssMb = Math.max(...pairs.map((p) => p.csv.peakRssMb));
    const spread = byRatio.length > 1 ? `; ratios of ${byRatio.length} exports to the floors either side ${byRatio.map((p) => `${p.ratio.toFixed(2)}×`).join(', ')}` : '';
    const xlsx = await runChild<ExportChildResult>('./export-child', ['--export', location, 'xlsx', dir]);
    const rows: Row[] = [
      {
        scenario: `CSV export of all ${csv.rows.toLocaleString('en-US')} customers (/customer export path)`,
        note: `${(csv.bytes / 1024 / 1024).toFixed(0)} MB${csv.compressed ? ' zipped' : ''}; ${seconds(csv.totalSeconds)} with the zip for Discord${spread}; peak RSS the highest of the runs`,
        throughput: `${seconds(csv.rowsSeconds)}`,
        peakRssMb,
        floor: `${seconds(floor.seconds)}${floor.peakRssMb === null ? '' : `, ${Math.round(floor.peakRssMb)} MB`}`,
        vsFloor: ratio(csv.rowsSeconds, floor.seconds),
        target: '≤ 3× floor, peak RSS ≤ 200 MB',
        met: quick ? null : median.ratio <= 3 && peakRssMb <= 200,
      },
      {
        scenario: `Excel export of all ${xlsx.rows.toLocaleString('en-US')} customers`,
        note: `${(xlsx.bytes / 1024 / 1024).toFixed(0)} MB`,
        throughput: `${seconds(xlsx.totalSeconds)}`,
        peakRssMb: xlsx.peakRssMb,
        floor: `CSV floor ${seconds(floor.seconds)}`,
        vsFloor: ratio(xlsx.totalSeconds, floor.seconds),
        target: '≤ 60 s, peak RSS ≤ 400 MB',
        met: xlsx.totalSeconds <= 60 && xlsx.peakRssMb <= 400,
      },
    ];
    return { rows, floor };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function maxOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}
