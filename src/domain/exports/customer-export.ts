import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { crc32, createDeflateRaw } from 'node:zlib';
import type ExcelJS from 'exceljs';
import { Zip, type ZipInputFile } from 'fflate';
import { UserError } from '../../shared/errors.js';
import { formatMoney } from '../../shared/money.js';
import type { Customer } from '../customers/types.js';
import { csvRecords, type CsvRecord } from './csv.js';

/**
 * The columns of a customer export, in order. Deliberately nothing else: an export leaves the
 * store's hands, so it holds no password hash, no IP address, no 2FA or other security data.
 */
export const EXPORT_COLUMNS = [
  'Customer ID',
  'Name',
  'Email',
  'Country',
  'Total Orders',
  'Total Spent',
  'Registration Date',
  'Last Order Date',
  'Discord Username',
  'Steam Username',
] as const;

export type ExportFormat = 'csv' | 'xlsx';

/** What an export reads of a customer: a whole Customer will do, and so will just these fields. */
export type ExportableCustomer = Pick<Customer, 'id' | 'name' | 'email' | 'country' | 'ordersCount' | 'totalSpentCents' | 'createdAt' | 'lastOrderAt'> & {
  discord: { username: string | null } | null;
  steam: { username: string | null } | null;
};

export interface ExportFile {
  /** Where the file is on disk; the caller uploads it and then deletes it. */
  path: string;
  /** The name to show people (the attachment name), e.g. `customers-2026-11-22.csv`. */
  fileName: string;
  contentType: string;
  bytes: number;
  /** Customer rows written, not counting header rows. */
  rows: number;
  /** True when a CSV was too big for Discord and was zipped. */
  compressed: boolean;
  /** True when the file is still over `maxBytes` (only with `whenTooLarge: 'keep'`). */
  overLimit: boolean;
}

export interface CustomerExportOptions {
  format: ExportFormat;
  directory: string;
  /** File name without extension, e.g. `customers-2026-11-22`; no path separators. */
  baseName: string;
  /** Largest file we may hand back; defaults to Discord's upload cap minus room for the envelope. */
  maxBytes?: number;
  /** Awaited every `progressEvery` rows and once after the last row, with the rows written so far. */
  onProgress?: (rows: number) => void | Promise<void>;
  progressEvery?: number;
  /** Data rows per worksheet before continuing on the next; Excel's own limit by default. */
  maxRowsPerSheet?: number;
  /**
   * What to do with a file still over `maxBytes` (after zipping, for a CSV): `refuse` (default)
   * deletes it and throws `export_too_large`; `keep` returns it with `overLimit: true`, for a
   * caller that can hand it out another way (a download link).
   */
  whenTooLarge?: 'refuse' | 'keep';
}

/** Discord caps bot uploads at 10 MiB including the multipart envelope, so keep 64 KiB spare. */
export const DEFAULT_MAX_EXPORT_BYTES = 10 * 1024 * 1024 - 64 * 1024;

/** Excel allows 1,048,576 rows per worksheet; one of them is our header. */
export const EXCEL_MAX_DATA_ROWS_PER_SHEET = 1_048_575;

// Excel refuses (and "repairs" away) a cell holding more text than this.
const EXCEL_MAX_CELL_CHARS = 32_767;

const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  zip: 'application/zip',
} as const;

// Spreadsheets evaluate text starting with these as a formula (or, for TAB/CR/LF, strip the
// whitespace and then evaluate). Full-width forms count because some locales' Excel and LibreOffice
// normalise them to their ASCII forms before deciding what a cell is.
const FORMULA_STARTERS = new Set(['=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '－', '＠']);

/**
 * Defuses spreadsheet formula injection (CWE-1236): text a customer chose (a name like
 * `=HYPERLINK(…)`) must stay text when staff open the export. A leading apostrophe is the
 * OWASP-recommended marker that makes Excel and LibreOffice treat the cell as a literal. For CSV
 * only: a workbook's string cells are never evaluated, and there the mark would alter the value.
 */
export function neutralizeFormula(value: string): string {
  const first = value.charAt(0);
  return FORMULA_STARTERS.has(first) ? `'${value}` : value;
}

/**
 * One customer as CSV cells, in `EXPORT_COLUMNS` order: ids and counts as numbers, money as the
 * API's decimal string, dates as ISO-8601 UTC, and '' where there is nothing to show.
 */
export function toExportRow(customer: ExportableCustomer): (string | number)[] {
  return [
    customer.id,
    neutralizeFormula(customer.name),
    neutralizeFormula(customer.email),
    neutralizeFormula(customer.country ?? ''),
    customer.ordersCount,
    // A formatted amount (/^-?\d+\.\d\d$/) is a number to a spreadsheet, never a formula.
    formatMoney(customer.totalSpentCents),
    formatTimestamp(customer.createdAt),
    formatTimestamp(customer.lastOrderAt),
    neutralizeFormula(customer.discord?.username ?? ''),
    neutralizeFormula(customer.steam?.username ?? ''),
  ];
}

/**
 * One customer as worksheet cells, in `EXPORT_COLUMNS` order: money as a number (the column is
 * formatted to two decimals), dates as real dates, and null (an empty cell) where there is nothing.
 */
export function toWorkbookRow(customer: ExportableCustomer): (string | number | Date | null)[] {
  return [
    customer.id,
    workbookText(customer.name),
    workbookText(customer.email),
    workbookText(customer.country),
    customer.ordersCount,
    customer.totalSpentCents / 100,
    parseTimestamp(customer.createdAt) ?? workbookText(customer.createdAt),
    parseTimestamp(customer.lastOrderAt) ?? workbookText(customer.lastOrderAt),
    workbookText(customer.discord?.username),
    workbookText(customer.steam?.username),
  ];
}

/** `customers-2026-11-22.csv`: the date is the export's day in `timeZone` (UTC unless told). */
export function exportFileName(format: ExportFormat, now: Date, timeZone = 'UTC'): string {
  // en-CA formats dates as YYYY-MM-DD.
  const day = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  return `customers-${day}.${format}`;
}

/**
 * Streams customers into a CSV or XLSX file in `directory`, row by row, so a million customers
 * never sit in memory. A CSV over `maxBytes` is zipped; if the result is still over (or an XLSX
 * is, which is already compressed) the files are deleted and a UserError `export_too_large` is
 * thrown, unless `whenTooLarge` is `keep`: then the smallest file made is returned with
 * `overLimit: true`. Any failure deletes whatever was partly written.
 */
export async function writeCustomerExport(
  customers: CustomerSource,
  options: CustomerExportOptions,
): Promise<ExportFile> {
  const baseName = checkBaseName(options.baseName);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_EXPORT_BYTES;
  const keep = options.whenTooLarge === 'keep';
  const progress = progressReporter(options.onProgress, options.progressEvery ?? 10_000);
  // A random suffix keeps two staff exporting on the same day from writing into one file;
  // people only ever see `fileName`.
  const unique = randomBytes(6).toString('hex');
  const pathFor = (extension: string): string => join(options.directory, `${baseName}.${unique}.${extension}`);

  if (options.format === 'xlsx') {
    const path = pathFor('xlsx');
    const rows = await deletingOnFailure([path], () =>
      writeXlsx(customers, path, options.maxRowsPerSheet ?? EXCEL_MAX_DATA_ROWS_PER_SHEET, progress),
    );
    const bytes = (await stat(path)).size;
    if (bytes > maxBytes && !keep) {
      await rm(path, { force: true });
      throw tooLarge(bytes);
    }
    return { path, fileName: `${baseName}.xlsx`, contentType: CONTENT_TYPES.xlsx, bytes, rows, compressed: false, overLimit: bytes > maxBytes };
  }

  const csvPath = pathFor('csv');
  const rows = await deletingOnFailure([csvPath], () => writeCsv(customers, csvPath, progress));
  const csvBytes = (await stat(csvPath)).size;
  const plainCsv = (overLimit: boolean): ExportFile => ({
    path: csvPath,
    fileName: `${baseName}.csv`,
    contentType: CONTENT_TYPES.csv,
    bytes: csvBytes,
    rows,
    compressed: false,
    overLimit,
  });
  if (csvBytes <= maxBytes) return plainCsv(false);

  // fflate writes classic (not ZIP64) archives, whose size fields stop at 4 GiB.
  if (csvBytes >= 0xffff_ffff) {
    if (keep) return plainCsv(true);
    await rm(csvPath, { force: true });
    throw tooLarge(csvBytes);
  }
  const zipPath = pathFor('zip');
  await deletingOnFailure([csvPath, zipPath], () => zipOneFile(csvPath, `${baseName}.csv`, zipPath));
  await rm(csvPath, { force: true });
  const zipBytes = (await stat(zipPath)).size;
  if (zipBytes > maxBytes && !keep) {
    await rm(zipPath, { force: true });
    throw tooLarge(zipBytes);
  }
  // Kept over the limit, the zip is still the smaller download.
  return { path: zipPath, fileName: `${baseName}.zip`, contentType: CONTENT_TYPES.zip, bytes: zipBytes, rows, compressed: true, overLimit: zipBytes > maxBytes };
}

/**
 * Customers to export, one at a time or in batches: a source that reads a batch per query hands
 * it over whole, which spares a million-customer export a promise per customer.
 */
export type CustomerSource = AsyncIterable<ExportableCustomer | readonly ExportableCustomer[]>;

/**
 * Calls `each` for every customer of `source` in order, awaiting it only when it returns a
 * promise (it does every few hundred customers, to write or to report progress).
 */
async function forEachCustomer(source: CustomerSource, each: (customer: ExportableCustomer) => Promise<void> | undefined): Promise<void> {
  for await (const item of source) {
    for (const customer of isBatch(item) ? item : [item]) {
      const pending = each(customer);
      if (pending !== undefined) await pending;
    }
  }
}

function isBatch(item: ExportableCustomer | readonly ExportableCustomer[]): item is readonly ExportableCustomer[] {
  return Array.isArray(item);
}

interface ProgressReporter {
  /**
   * Called after every row: a promise to await when it reported, else undefined. Awaiting on
   * every row of a million cost a pass through the microtask queue each.
   */
  row(rows: number): Promise<void> | undefined;
  done(rows: number): Promise<void>;
}

function progressReporter(onProgress: CustomerExportOptions['onProgress'], every: number): ProgressReporter {
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`progressEvery must be a positive integer, got ${every}`);
  let lastReported = 0;
  return {
    row(rows) {
      if (!onProgress || rows % every !== 0) return undefined;
      lastReported = rows;
      return Promise.resolve(onProgress(rows));
    },
    async done(rows) {
      if (onProgress && rows !== lastReported) {
        lastReported = rows;
        await onProgress(rows);
      }
    },
  };
}

/** Rows encoded per call: a few hundred rows per write to the file. */
const CSV_BATCH_ROWS = 500;

/**
 * Encodes batches of rows (one call per few hundred rows costs a third of a call per row) and
 * writes them with back-pressure.
 */
async function writeCsv(customers: CustomerSource, path: string, progress: ProgressReporter): Promise<number> {
  const output = createWriteStream(path, { flags: 'wx' });
  const closed = finished(output);
  closed.catch(() => undefined);
  let rows = 0;
  try {
    let batch: CsvRecord[] = [EXPORT_COLUMNS];
    // Without a byte-order mark Excel reads a CSV in the machine's legacy code page and mangles "José".
    let before = '\uFEFF';
    const flush = async (end: boolean) => {
      const text = before + csvRecords(batch);
      before = '';
      batch = [];
      if (end) output.end(text);
      else if (!output.write(text)) await Promise.race([once(output, 'drain'), closed]);
    };
    await forEachCustomer(customers, (customer) => {
      batch.push(toExportRow(customer));
      rows += 1;
      if (batch.length >= CSV_BATCH_ROWS) return flush(false).then(() => progress.row(rows));
      return progress.row(rows);
    });
    await flush(true);
    await closed;
  } catch (error) {
    output.destroy();
    await closed.catch(() => undefined);
    throw error;
  }
  await progress.done(rows);
  return rows;
}

const XLSX_COLUMN_LAYOUT: { width: number; numFmt?: string }[] = [
  { width: 12 },
  { width: 28 },
  { width: 34 },
  { width: 9 },
  { width: 13 },
  { width: 13, numFmt: '#,##0.00' },
  { width: 18, numFmt: 'yyyy-mm-dd hh:mm' },
  { width: 18, numFmt: 'yyyy-mm-dd hh:mm' },
  { width: 22 },
  { width: 22 },
];

async function writeXlsx(
  customers: CustomerSource,
  path: string,
  maxRowsPerSheet: number,
  progress: ProgressReporter,
): Promise<number> {
  if (!Number.isInteger(maxRowsPerSheet) || maxRowsPerSheet < 1 || maxRowsPerSheet > EXCEL_MAX_DATA_ROWS_PER_SHEET) {
    throw new RangeError(`maxRowsPerSheet must be an integer from 1 to ${EXCEL_MAX_DATA_ROWS_PER_SHEET}, got ${maxRowsPerSheet}`);
  }
  // Loaded on the first workbook: exceljs adds megabytes to every process that imports it, and most
  // exports (and every idle bot) never write one.
  const { default: excel } = await import('exceljs');
  const output = createWriteStream(path, { flags: 'wx' });
  // exceljs pipes into the stream without listening for its errors; an unheard 'error' would
  // crash the process, so remember it and fail the export instead.
  let outputError: Error | undefined;
  output.on('error', (error) => {
    outputError ??= error;
  });
  const failIfOutputFailed = (): void => {
    if (outputError !== undefined) throw outputError;
  };
  // exceljs's commit waits for 'finish' and would wait forever on a file that already failed.
  const outputFailed = new Promise<never>((_, reject) => {
    output.once('close', () => {
      if (outputError !== undefined) reject(outputError);
    });
  });
  outputFailed.catch(() => undefined);
  // Shared strings would keep every distinct name in memory until the end; styles are needed for
  // the bold header and the number and date formats.
  const workbook = new excel.stream.xlsx.WorkbookWriter({ stream: output, useStyles: true, useSharedStrings: false });

  try {
    let sheetCount = 1;
    let sheet = addCustomerSheet(workbook, 'Customers');
    let rowsInSheet = 0;
    let rows = 0;
    await forEachCustomer(customers, (customer) => {
      failIfOutputFailed();
      if (rowsInSheet === maxRowsPerSheet) {
        sheet.commit();
        sheetCount += 1;
        sheet = addCustomerSheet(workbook, `Customers (${sheetCount})`);
        rowsInSheet = 0;
      }
      sheet.addRow(toWorkbookRow(customer)).commit();
      rowsInSheet += 1;
      rows += 1;
      if (rows % 100 === 0) return waitForZipToCatchUp(sheet, output).then(() => progress.row(rows));
      return progress.row(rows);
    });
    failIfOutputFailed();
    await Promise.race([workbook.commit(), outputFailed]);
    failIfOutputFailed();
    await progress.done(rows);
    return rows;
  } catch (error) {
    await destroyAndWait(output);
    throw error;
  }
}

// Sheet XML waiting to be deflated; beyond this the export pauses until the zip catches up.
const ZIP_BACKLOG_LIMIT = 4 * 1024 * 1024;

interface BufferedWritable {
  _writableState?: { length?: unknown };
  once(event: string, listener: () => void): unknown;
  removeListener(event: string, listener: () => void): unknown;
}

/**
 * exceljs ignores backpressure (exceljs/exceljs#734): a committed row is pushed into the
 * PassThrough that feeds its zip whether or not deflate (on the thread pool) keeps up, so a fast
 * source would pile the whole sheet's XML up in memory. exceljs offers no signal, so this looks
 * at that PassThrough's buffer and waits for it to drain. If exceljs internals ever change shape,
 * it degrades to yielding to the event loop now and then, which lets deflate run but bounds nothing.
 */
async function waitForZipToCatchUp(sheet: ExcelJS.Worksheet, output: WriteStream): Promise<void> {
  const feed = zipFeedOf(sheet);
  if (feed === null) {
    await new Promise((resolve) => setImmediate(resolve));
    return;
  }
  const pending = feed._writableState?.length;
  if (typeof pending !== 'number' || pending <= ZIP_BACKLOG_LIMIT) return;
  await new Promise<void>((resolve) => {
    // The file closing (on an error) means no drain will ever come; the caller checks why.
    const done = (): void => {
      feed.removeListener('drain', done);
      output.removeListener('close', done);
      resolve();
    };
    feed.once('drain', done);
    output.once('close', done);
  });
}

function zipFeedOf(sheet: ExcelJS.Worksheet): BufferedWritable | null {
  const pipes = (sheet as unknown as { stream?: { pipes?: unknown } }).stream?.pipes;
  const feed: unknown = Array.isArray(pipes) ? pipes[0] : undefined;
  if (typeof feed !== 'object' || feed === null) return null;
  const candidate = feed as Partial<BufferedWritable>;
  return typeof candidate.once === 'function' && typeof candidate.removeListener === 'function' && typeof candidate._writableState === 'object'
    ? (candidate as BufferedWritable)
    : null;
}

function addCustomerSheet(workbook: ExcelJS.stream.xlsx.WorkbookWriter, name: string): ExcelJS.Worksheet {
  const sheet = workbook.addWorksheet(name, { views: [{ state: 'frozen', xSplit: 0, ySplit: 1, topLeftCell: 'A2' }] });
  sheet.columns = XLSX_COLUMN_LAYOUT.map(({ width, numFmt }) => (numFmt ? { width, style: { numFmt } } : { width }));
  const header = sheet.addRow([...EXPORT_COLUMNS]);
  header.font = { bold: true };
  header.commit();
  return sheet;
}

/**
 * Deflates one file into a new zip at `zipPath`, chunk by chunk. Node's zlib does the deflating
 * and fflate only writes the archive around it: fflate's own deflate allocates a new output
 * buffer per chunk of input, and on a large export those dead buffers lift the peak RSS until the
 * collector frees them; zlib also compresses smaller at level 9 (bench/results.md).
 * The file is read into one reused buffer for the same reason.
 */
async function zipOneFile(sourcePath: string, entryName: string, zipPath: string): Promise<void> {
  const output = createWriteStream(zipPath, { flags: 'wx' });
  let failure: Error | undefined;
  output.on('error', (error) => {
    failure ??= error;
  });
  const zip = new Zip((error, chunk, final) => {
    if (error) {
      failure ??= error;
      return;
    }
    output.write(chunk);
    if (final) output.end();
  });
  // An entry fflate passes through as it is: deflated data, with the CRC and size of the
  // original set before the last chunk (fflate writes them in the entry's data descriptor).
  const entry: ZipInputFile = { filename: entryName, size: 0, crc: 0, compression: 8, mtime: new Date() };
  zip.add(entry);
  const deflate = createDeflateRaw({ level: 9 });
  // zlib's chunks are plain Buffers, never over shared memory.
  deflate.on('data', (chunk: Buffer) => entry.ondata?.(null, chunk as Uint8Array<ArrayBuffer>, false));
  const deflated = finished(deflate);
  deflated.catch(() => undefined);
  try {
    const input = await open(sourcePath, 'r');
    try {
      const buffer = Buffer.allocUnsafe(64 * 1024);
      for (;;) {
        const { bytesRead } = await input.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        entry.crc = crc32(chunk, entry.crc);
        entry.size += bytesRead;
        // The write's callback comes once zlib has taken the whole chunk: the buffer is free again.
        await new Promise<void>((resolve, reject) => deflate.write(chunk, (error) => (error ? reject(error) : resolve())));
        if (failure !== undefined) throw failure;
        if (output.writableNeedDrain) await waitForDrain(output);
      }
    } finally {
      await input.close();
    }
    deflate.end();
    await deflated;
    entry.ondata?.(null, new Uint8Array(0), true);
    zip.end();
    if (failure !== undefined) throw failure;
    await finished(output);
  } catch (error) {
    deflate.destroy();
    await destroyAndWait(output);
    throw error;
  }
}

async function waitForDrain(output: WriteStream): Promise<void> {
  // events.once rejects if 'error' fires first, so a full disk does not leave us waiting forever.
  await once(output, 'drain');
}

/** Stops writing and waits until the file is closed, so deleting it really frees the space. */
async function destroyAndWait(output: WriteStream): Promise<void> {
  if (output.closed) return;
  // Not events.once: whoever was still writing (exceljs's zip pipe) makes the destroyed stream
  // emit an error, which is expected here and must not replace the error that stopped the export.
  const closed = new Promise<void>((resolve) => output.once('close', () => resolve()));
  output.destroy();
  await closed;
}

async function deletingOnFailure<T>(paths: string[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    await Promise.all(paths.map((path) => rm(path, { force: true })));
    throw error;
  }
}

function tooLarge(bytes: number): UserError {
  const megabytes = (bytes / (1024 * 1024)).toFixed(1);
  return new UserError(
    'export_too_large',
    `The export is ${megabytes} MB, over Discord's 10 MB upload limit even compressed. Narrow it with a filter.`,
  );
}

function checkBaseName(baseName: string): string {
  const name = baseName.replace(/\.(csv|xlsx|zip)$/i, '');
  if (name === '' || name === '.' || name === '..' || basename(name) !== name || name.includes('\\')) {
    throw new RangeError(`baseName must be a plain file name, got "${baseName}"`);
  }
  return name;
}

/**
 * Reads a stored timestamp. ISO strings carry their zone; SQLite's `YYYY-MM-DD HH:MM:SS` does not
 * and means UTC, which `new Date()` would otherwise read as local time.
 */
function parseTimestamp(value: string | null): Date | null {
  if (value === null || value === '') return null;
  const text = value.trim();
  const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text) || /^\d{4}-\d{2}-\d{2}$/.test(text);
  const date = new Date(hasZone ? text : `${text.replace(' ', 'T')}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** What the store writes (toISOString()): shown as it is, without parsing it again. */
const STORED_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function formatTimestamp(value: string | null): string {
  if (value === null) return '';
  if (STORED_TIMESTAMP.test(value)) return value;
  // An unreadable timestamp is still shown rather than silently dropped.
  return parseTimestamp(value)?.toISOString() ?? neutralizeFormula(value);
}

/**
 * Text for a worksheet cell, as it is: a string cell is never evaluated (only an <f> element is),
 * so the apostrophe that defuses a formula in CSV would here be nothing but a changed value.
 */
function workbookText(value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (value.length <= EXCEL_MAX_CELL_CHARS) return value;
  const cut = value.slice(0, EXCEL_MAX_CELL_CHARS);
  // Never end on half a surrogate pair: the XML would carry an invalid character.
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}
