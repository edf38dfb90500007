import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** One line of the results table. Times in milliseconds; the floor and the target are said in words. */
export interface Row {
  scenario: string;
  p50?: number;
  p99?: number;
  /** Already formatted, e.g. "3,412 req/s" or "38 s". */
  throughput?: string;
  peakRssMb?: number;
  /** The floor measured beside it, formatted, e.g. "p50 0.012 ms". */
  floor: string;
  /** Ours ÷ floor, formatted; "—" when not comparable. */
  vsFloor: string;
  target: string;
  met: boolean | null;
  note?: string;
}

export interface RunInfo {
  /** Which table the run writes: each database has its own, between its own markers. */
  engine: 'sqlite' | 'postgres';
  dataset: string;
  seconds: number;
  /** The database as the header names it: "SQLite 3.53.2", "PostgreSQL 15.20 at 127.0.0.1:5432 (…)". */
  database: string;
  csvFloor: string;
  quick: boolean;
}

const MARKERS = {
  sqlite: { begin: '<!-- bench:table:begin (written by npm run bench) -->', end: '<!-- bench:table:end -->' },
  postgres: { begin: '<!-- bench:table-postgres:begin (written by npm run bench -- --postgres <url>) -->', end: '<!-- bench:table-postgres:end -->' },
} as const;

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function fmtMs(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  if (value < 0.1) return `${value.toFixed(3)} ms`;
  if (value < 1) return `${value.toFixed(2)} ms`;
  if (value < 10) return `${value.toFixed(1)} ms`;
  return `${Math.round(value).toLocaleString('en-US')} ms`;
}

export function renderTable(rows: readonly Row[]): string {
  const header = '| Scenario | p50 | p99 | Throughput | Peak RSS | Floor (same run) | vs floor | Target | Met |';
  const rule = '|---|---:|---:|---:|---:|---|---:|---|:-:|';
  const lines = rows.map((r) =>
    [
      '',
      cell(r.note ? `${r.scenario} (${r.note})` : r.scenario),
      fmtMs(r.p50),
      fmtMs(r.p99),
      r.throughput ?? '—',
      r.peakRssMb === undefined ? '—' : `${Math.round(r.peakRssMb)} MB`,
      cell(r.floor),
      r.vsFloor,
      cell(r.target),
      r.met === null ? '—' : r.met ? 'yes' : '**no**',
      '',
    ].join(' | ').trim(),
  );
  return [header, rule, ...lines].join('\n');
}

export function renderConsole(rows: readonly Row[]): string {
  const columns = ['Scenario', 'p50', 'p99', 'Throughput', 'RSS', 'Floor', 'vs floor', 'Target', 'Met'];
  const data = rows.map((r) => [
    r.scenario,
    fmtMs(r.p50),
    fmtMs(r.p99),
    r.throughput ?? '—',
    r.peakRssMb === undefined ? '—' : `${Math.round(r.peakRssMb)} MB`,
    r.floor,
    r.vsFloor,
    r.target,
    r.met === null ? '—' : r.met ? 'yes' : 'NO',
  ]);
  const widths = columns.map((c, i) => Math.max(c.length, ...data.map((d) => (d[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...data.map(line)].join('\n');
}

export function machineLine(info: RunInfo): string {
  const cpu = cpus();
  return (
    `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 1024 ** 3)} GB RAM, Node ${process.version}, ` +
    `${info.database}; ${info.dataset}; the whole run took ${Math.round(info.seconds)} s`
  );
}

/**
 * Writes the table between the markers of `path` for the run's database, keeping everything else
 * (the other database's table, the hand-written "what each change bought"). A file without the
 * SQLite markers gets them at the top, followed by its old content; one without the PostgreSQL
 * markers gets them after the SQLite table, or at the end.
 */
export function writeResults(path: string, rows: readonly Row[], info: RunInfo): void {
  const { begin: beginMarker, end: endMarker } = MARKERS[info.engine];
  const block = [
    beginMarker,
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machineLine(info)}.`,
    `CSV floor: ${info.csvFloor}.${info.quick ? ' **Quick smoke run on a small store: the targets are for 1,000,000 customers.**' : ''}`,
    '',
    renderTable(rows),
    endMarker,
  ].join('\n');
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const begin = old.indexOf(beginMarker);
  const end = old.indexOf(endMarker);
  writeFileSync(path, begin >= 0 && end > begin ? old.slice(0, begin) + block + old.slice(end + endMarker.length) : withNewBlock(old, block, info.engine));
}

function withNewBlock(old: string, block: string, engine: RunInfo['engine']): string {
  if (engine === 'sqlite') return `# Benchmark results\n\n${block}\n${old ? `\n${old}` : ''}`;
  const section = `## PostgreSQL\n\n${block}\n`;
  if (!old) return `# Benchmark results\n\n${section}`;
  const sqliteEnd = old.indexOf(MARKERS.sqlite.end);
  if (sqliteEnd < 0) return `${old.trimEnd()}\n\n${section}`;
  const at = sqliteEnd + MARKERS.sqlite.end.length;
  return `${old.slice(0, at)}\n\n${section}${old.slice(at)}`;
}
