import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { unzipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/shared/errors.js';
import { csvCellBytes, csvRecords } from '../../../src/domain/exports/csv.js';
import {
  DEFAULT_MAX_EXPORT_BYTES,
  EXPORT_COLUMNS,
  exportFileName,
  neutralizeFormula,
  toExportRow,
  writeCustomerExport,
} from '../../../src/domain/exports/customer-export.js';
import type { Customer } from '../../../src/domain/customers/types.js';

function customer(overrides: Partial<Customer> = {}): Customer {
  return {
    id: 1,
    name: 'Alice Johnson',
    email: 'alice@example.com',
    country: 'GB',
    discord: { id: '111', username: 'alice_j', avatar: null },
    steam: { id: '76561198000000001', username: 'AliceJ', avatar: null },
    gameUserId: 'AliceInGame',
    twoFactorEnabled: true,
    lastSeenAt: '2026-11-20T08:00:00.000Z',
    referralCode: 'ALICE1',
    referredBy: null,
    metadata: { vip: true },
    supportTicketsCount: 2,
    ordersCount: 3,
    totalSpentCents: 2999,
    firstOrderAt: '2026-01-02T03:04:05.000Z',
    lastOrderAt: '2026-10-11T12:13:14.000Z',
    lastOrderNumber: 'ORD-1003',
    createdAt: '2025-12-31T23:59:00.000Z',
    updatedAt: '2026-10-11T12:13:14.000Z',
    ...overrides,
  };
}

// Like a database cursor: rows arrive asynchronously.
async function* customersFrom(list: Customer[]): AsyncGenerator<Customer> {
  for (const c of list) {
    await Promise.resolve();
    yield c;
  }
}

async function* syntheticCustomers(count: number): AsyncGenerator<Customer> {
  for (let i = 1; i <= count; i++) {
    // A page of rows comes back from the database now and then.
    if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    yield customer({
      id: i,
      name: `Customer ${i}`,
      email: `customer${i}@example.com`,
      ordersCount: i % 7,
      totalSpentCents: (i % 7) * 1499,
      discord: i % 2 === 0 ? { id: String(i), username: `user${i}`, avatar: null } : null,
      steam: null,
    });
  }
}

/**
 * A strict RFC 4180 reader: CRLF between records, fields quoted only with '"', quotes doubled
 * inside quoted fields, and no bare quote, CR or LF in an unquoted field. Throws on anything else.
 */
function parseRfc4180(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  const atEnd = (): boolean => i >= text.length;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i += 1;
      for (;;) {
        if (atEnd()) throw new Error('unterminated quoted field');
        const ch = text[i]!;
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i += 1;
            break;
          }
        } else {
          field += ch;
          i += 1;
        }
      }
    } else {
      while (!atEnd() && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`bare quote at ${i}`);
        field += text[i];
        i += 1;
      }
    }
    record.push(field);
    if (atEnd()) throw new Error('the last record must end with CRLF');
    if (text[i] === ',') {
      i += 1;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') {
      i += 2;
      records.push(record);
      record = [];
      if (atEnd()) return records;
      continue;
    }
    throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
}

const BOM = '\uFEFF';

async function readCsv(path: string): Promise<string[][]> {
  const text = await readFile(path, 'utf8');
  expect(text.startsWith(BOM)).toBe(true);
  return parseRfc4180(text.slice(BOM.length));
}

async function readWorkbook(path: string): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(path);
  return workbook;
}

function rowValues(sheet: ExcelJS.Worksheet, row: number): unknown[] {
  return EXPORT_COLUMNS.map((_, index) => sheet.getRow(row).getCell(index + 1).value);
}

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'customer-export-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('csvRecords', () => {
  // Text built from the characters that need care, mixed with plain ones.
  const cellText = fc.string({ unit: fc.constantFrom('a', 'é', ' ', ',', '"', '\r', '\n', '\uFEFF', '=', '𝄞') });
  const records = fc.array(fc.array(fc.oneof(cellText, fc.integer()), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 });

  it('writes text a strict RFC 4180 reader reads back cell for cell', () => {
    fc.assert(
      fc.property(records, (input) => {
        expect(parseRfc4180(csvRecords(input))).toEqual(input.map((record) => record.map(String)));
      }),
    );
  });

  it('counts the bytes of every cell as it writes them', () => {
    fc.assert(
      fc.property(records, (input) => {
        const expected = input.reduce((sum, record) => sum + record.reduce<number>((cells, cell) => cells + csvCellBytes(cell) + 1, 1), 0);
        expect(Buffer.byteLength(csvRecords(input))).toBe(expected);
      }),
    );
  });

  it('quotes a cell that starts or ends with a space, so no reader trims it', () => {
    expect(csvRecords([[' padded', 'tail ', 'in side']])).toBe('" padded","tail ",in side\r\n');
  });
});

describe('export columns', () => {
  it('are exactly the columns the product and the seed list, in order', () => {
    expect([...EXPORT_COLUMNS]).toEqual([
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
    ]);
  });

  it('never include a password, an IP address or other security data', () => {
    for (const column of EXPORT_COLUMNS) expect(column).not.toMatch(/password|\bip\b|two.?factor|2fa|secret|token/i);
  });
});

describe('neutralizeFormula', () => {
  it('prefixes an apostrophe to text a spreadsheet would read as a formula', () => {
    for (const starter of ['=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '－', '＠']) {
      expect(neutralizeFormula(`${starter}HYPERLINK("http://evil","x")`)).toBe(`'${starter}HYPERLINK("http://evil","x")`);
    }
  });

  it('leaves ordinary text, empty text and formula characters that are not first alone', () => {
    expect(neutralizeFormula('Alice Johnson')).toBe('Alice Johnson');
    expect(neutralizeFormula('')).toBe('');
    expect(neutralizeFormula('a=b+c-d@e')).toBe('a=b+c-d@e');
    expect(neutralizeFormula(" '=already quoted")).toBe(" '=already quoted");
  });
});

describe('toExportRow', () => {
  it('gives numbers as numbers, money as the decimal string, dates as ISO UTC and blanks for missing values', () => {
    expect(toExportRow(customer())).toEqual([
      1,
      'Alice Johnson',
      'alice@example.com',
      'GB',
      3,
      '29.99',
      '2025-12-31T23:59:00.000Z',
      '2026-10-11T12:13:14.000Z',
      'alice_j',
      'AliceJ',
    ]);
    expect(toExportRow(customer({ country: null, discord: null, steam: null, lastOrderAt: null, ordersCount: 0, totalSpentCents: 0 }))).toEqual([
      1,
      'Alice Johnson',
      'alice@example.com',
      '',
      0,
      '0.00',
      '2025-12-31T23:59:00.000Z',
      '',
      '',
      '',
    ]);
  });

  it('reads a SQLite timestamp without a zone as UTC, not as the server local time', () => {
    const row = toExportRow(customer({ createdAt: '2026-03-01 10:20:30', lastOrderAt: '2026-03-02' }));
    expect(row[6]).toBe('2026-03-01T10:20:30.000Z');
    expect(row[7]).toBe('2026-03-02T00:00:00.000Z');
  });

  it('neutralizes text a customer chose, including an email that starts with a minus', () => {
    const row = toExportRow(
      customer({
        name: '=cmd|"/C calc"!A0',
        email: '-x@y.example',
        discord: { id: '1', username: '@everyone', avatar: null },
        steam: { id: '2', username: '＝1+1', avatar: null },
      }),
    );
    expect(row[1]).toBe(`'=cmd|"/C calc"!A0`);
    expect(row[2]).toBe("'-x@y.example");
    expect(row[8]).toBe("'@everyone");
    expect(row[9]).toBe("'＝1+1");
  });
});

describe('exportFileName', () => {
  it('names the file after the export day', () => {
    const now = new Date('2026-11-22T23:30:00Z');
    expect(exportFileName('csv', now)).toBe('customers-2026-11-22.csv');
    expect(exportFileName('xlsx', now)).toBe('customers-2026-11-22.xlsx');
  });

  it('uses the store time zone when given one', () => {
    expect(exportFileName('csv', new Date('2026-11-22T23:30:00Z'), 'Europe/Berlin')).toBe('customers-2026-11-23.csv');
  });
});

describe('writeCustomerExport as CSV', () => {
  it('writes a UTF-8 BOM, the exact header and one CRLF-terminated record per customer', async () => {
    const file = await writeCustomerExport(customersFrom([customer()]), { format: 'csv', directory, baseName: 'customers-2026-11-22' });

    expect(file).toMatchObject({ fileName: 'customers-2026-11-22.csv', contentType: 'text/csv; charset=utf-8', rows: 1, compressed: false });
    expect(file.path.startsWith(directory)).toBe(true);
    const bytes = await readFile(file.path);
    expect(file.bytes).toBe(bytes.length);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8')).toBe(
      'Customer ID,Name,Email,Country,Total Orders,Total Spent,Registration Date,Last Order Date,Discord Username,Steam Username\r\n' +
        '1,Alice Johnson,alice@example.com,GB,3,29.99,2025-12-31T23:59:00.000Z,2026-10-11T12:13:14.000Z,alice_j,AliceJ\r\n',
    );
  });

  it('quotes commas, quotes and line breaks exactly as RFC 4180 says', async () => {
    const file = await writeCustomerExport(
      customersFrom([
        customer({ id: 7, name: 'Smith, John', email: 'say "hi"@example.com', steam: null, discord: { id: '1', username: 'two\nlines', avatar: null } }),
        customer({ id: 8, name: 'carriage\rreturn', email: 'crlf\r\ninside@example.com', country: null, steam: null, discord: null }),
      ]),
      { format: 'csv', directory, baseName: 'tricky' },
    );
    const text = (await readFile(file.path, 'utf8')).slice(BOM.length);
    const lines = text.split('\r\n');
    expect(text).toContain('7,"Smith, John","say ""hi""@example.com",GB,3,29.99,2025-12-31T23:59:00.000Z,2026-10-11T12:13:14.000Z,"two\nlines",\r\n');
    expect(text).toContain('8,"carriage\rreturn","crlf\r\ninside@example.com",,3,29.99,');
    expect(lines.at(-1)).toBe('');
  });

  it('round-trips unicode, punctuation and formula starters through a strict RFC 4180 reader', async () => {
    const names = [
      'José Müller-Łukasiewicz',
      '李小龙',
      'Zoë 🎮 "The Gamer"',
      '=SUM(A1:A2)',
      '+441234',
      '-1',
      '@admin',
      '\tTabbed',
      '＝HYPERLINK("x")',
      '＋1',
      '－1',
      '＠x',
      'a, b, c',
      'new\nline',
    ];
    const file = await writeCustomerExport(
      customersFrom(names.map((name, index) => customer({ id: index + 1, name }))),
      { format: 'csv', directory, baseName: 'unicode' },
    );

    const records = await readCsv(file.path);
    expect(records[0]).toEqual([...EXPORT_COLUMNS]);
    expect(records.slice(1).map((record) => record[1])).toEqual(names.map((name) => neutralizeFormula(name)));
    expect(records.slice(1).map((record) => record[1])).toContain("'\tTabbed");
    for (const record of records) expect(record).toHaveLength(EXPORT_COLUMNS.length);
  });

  it('never writes security data even when the customer object carries some', async () => {
    const leaky = { ...customer(), passwordHash: 'scrypt$SECRET-HASH', lastIp: '203.0.113.9', twoFactorSecret: 'JBSWY3DP' } as Customer;
    const csv = await writeCustomerExport(customersFrom([leaky]), { format: 'csv', directory, baseName: 'leaky' });
    const xlsx = await writeCustomerExport(customersFrom([leaky]), { format: 'xlsx', directory, baseName: 'leaky' });

    const text = await readFile(csv.path, 'utf8');
    for (const secret of ['SECRET-HASH', '203.0.113.9', 'JBSWY3DP']) expect(text).not.toContain(secret);
    expect(text.toLowerCase()).not.toContain('password');
    const sheet = (await readWorkbook(xlsx.path)).worksheets[0]!;
    const cells: string[] = [];
    sheet.eachRow((row) => row.eachCell((cell) => cells.push(JSON.stringify(cell.value))));
    expect(cells.join('|')).not.toMatch(/SECRET-HASH|203\.0\.113\.9|JBSWY3DP|password/i);
  });

  it('reports progress every progressEvery rows and once at the end', async () => {
    const seen: number[] = [];
    await writeCustomerExport(syntheticCustomers(5), {
      format: 'csv',
      directory,
      baseName: 'progress',
      progressEvery: 2,
      onProgress: async (rows) => {
        await Promise.resolve();
        seen.push(rows);
      },
    });
    expect(seen).toEqual([2, 4, 5]);
  });

  it('writes the same file from customers in batches as from customers one at a time', async () => {
    async function* inBatches(size: number): AsyncGenerator<Customer[]> {
      const batch: Customer[] = [];
      for await (const one of syntheticCustomers(1_234)) {
        batch.push(one);
        if (batch.length === size) yield batch.splice(0);
      }
      if (batch.length > 0) yield batch;
    }
    const single = await writeCustomerExport(syntheticCustomers(1_234), { format: 'csv', directory, baseName: 'single' });
    const batched = await writeCustomerExport(inBatches(500), { format: 'csv', directory, baseName: 'batched' });
    const workbook = await writeCustomerExport(inBatches(100), { format: 'xlsx', directory, baseName: 'batched' });

    expect(batched.rows).toBe(1_234);
    expect((await readFile(batched.path)).equals(await readFile(single.path))).toBe(true);
    expect(workbook.rows).toBe(1_234);
  });

  it('zips a CSV that is over maxBytes and the zip holds the same CSV', async () => {
    const plain = await writeCustomerExport(syntheticCustomers(2_000), { format: 'csv', directory, baseName: 'plain' });
    const expected = await readFile(plain.path);
    await rm(plain.path);

    const file = await writeCustomerExport(syntheticCustomers(2_000), {
      format: 'csv',
      directory,
      baseName: 'customers-2026-11-22',
      maxBytes: expected.length - 1,
    });

    expect(file).toMatchObject({ fileName: 'customers-2026-11-22.zip', contentType: 'application/zip', rows: 2_000, compressed: true });
    const zipped = await readFile(file.path);
    expect(file.bytes).toBe(zipped.length);
    expect(file.bytes).toBeLessThan(expected.length - 1);
    expect(zipped.readUInt32LE(0)).toBe(0x04034b50);
    const entries = unzipSync(zipped);
    expect(Object.keys(entries)).toEqual(['customers-2026-11-22.csv']);
    expect(Buffer.from(entries['customers-2026-11-22.csv']!).equals(expected)).toBe(true);
    // The central directory (what unzip tools check the data against): deflated, with the CRC and
    // size of the whole CSV, read in several chunks.
    expect(expected.length).toBeGreaterThan(2 * 64 * 1024);
    const directoryEntry = zipped.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    expect(zipped.readUInt16LE(directoryEntry + 10)).toBe(8);
    expect(zipped.readUInt32LE(directoryEntry + 16)).toBe(crc32(expected));
    expect(zipped.readUInt32LE(directoryEntry + 24)).toBe(expected.length);
    expect(await readdir(directory)).toEqual([file.path.slice(directory.length + 1)]);
  });

  it('refuses with export_too_large and leaves no file when even the zip is over maxBytes', async () => {
    const attempt = writeCustomerExport(syntheticCustomers(2_000), { format: 'csv', directory, baseName: 'huge', maxBytes: 1_000 });

    const error = await attempt.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ code: 'export_too_large' });
    expect((error as UserError).message).toMatch(
      /^The export is \d+\.\d MB, over Discord's 10 MB upload limit even compressed\. Narrow it with a filter\.$/,
    );
    expect(await readdir(directory)).toEqual([]);
  });

  it('keeps the zip and marks it over the limit when asked to keep what is too large', async () => {
    const file = await writeCustomerExport(syntheticCustomers(2_000), { format: 'csv', directory, baseName: 'huge', maxBytes: 1_000, whenTooLarge: 'keep' });
    expect(file).toMatchObject({ fileName: 'huge.zip', contentType: 'application/zip', rows: 2_000, compressed: true, overLimit: true });
    expect(file.bytes).toBe((await readFile(file.path)).length);
    expect(file.bytes).toBeGreaterThan(1_000);
    expect(await readdir(directory)).toEqual([file.path.slice(directory.length + 1)]);
  });

  it('says a file within the limit is not over it, whatever it was told to do with large ones', async () => {
    const file = await writeCustomerExport(syntheticCustomers(10), { format: 'csv', directory, baseName: 'small', whenTooLarge: 'keep' });
    expect(file).toMatchObject({ fileName: 'small.csv', compressed: false, overLimit: false });
  });

  it('deletes the partial file when the customers stop with an error mid-stream', async () => {
    async function* failing(): AsyncGenerator<Customer> {
      yield* syntheticCustomers(500);
      throw new Error('database went away');
    }
    await expect(writeCustomerExport(failing(), { format: 'csv', directory, baseName: 'broken' })).rejects.toThrow('database went away');
    expect(await readdir(directory)).toEqual([]);
  });

  it('keeps two exports with the same name apart on disk', async () => {
    const first = await writeCustomerExport(customersFrom([customer({ id: 1 })]), { format: 'csv', directory, baseName: 'same' });
    const second = await writeCustomerExport(customersFrom([customer({ id: 2 })]), { format: 'csv', directory, baseName: 'same' });
    expect(first.fileName).toBe(second.fileName);
    expect(first.path).not.toBe(second.path);
    expect(existsSync(first.path) && existsSync(second.path)).toBe(true);
  });

  it('refuses a base name that would write outside the directory', async () => {
    await expect(writeCustomerExport(customersFrom([]), { format: 'csv', directory, baseName: '../escape' })).rejects.toThrow(RangeError);
  });

  it('defaults to Discord upload cap minus 64 KiB', () => {
    expect(DEFAULT_MAX_EXPORT_BYTES).toBe(10 * 1024 * 1024 - 64 * 1024);
  });

  it('streams 200,000 customers into a file with 200,001 lines', async () => {
    const file = await writeCustomerExport(syntheticCustomers(200_000), {
      format: 'csv',
      directory,
      baseName: 'big',
      maxBytes: Number.MAX_SAFE_INTEGER,
    });

    let lines = 0;
    for await (const chunk of createReadStream(file.path)) {
      for (const byte of chunk as Buffer) if (byte === 0x0a) lines += 1;
    }
    expect(lines).toBe(200_001);
    expect(file.rows).toBe(200_000);
  });
});

describe('writeCustomerExport as XLSX', () => {
  it('opens in a spreadsheet reader with a bold frozen header, real numbers and dates, and text as it is', async () => {
    const file = await writeCustomerExport(
      customersFrom([
        customer(),
        customer({ id: 2, name: '=1+1', email: '-x@y.example', country: null, discord: null, steam: null, lastOrderAt: null, ordersCount: 0, totalSpentCents: 0 }),
      ]),
      { format: 'xlsx', directory, baseName: 'customers-2026-11-22' },
    );

    expect(file).toMatchObject({
      fileName: 'customers-2026-11-22.xlsx',
      contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      rows: 2,
      compressed: false,
    });
    const workbook = await readWorkbook(file.path);
    expect(workbook.worksheets.map((sheet) => sheet.name)).toEqual(['Customers']);
    const sheet = workbook.worksheets[0]!;
    expect(rowValues(sheet, 1)).toEqual([...EXPORT_COLUMNS]);
    expect(sheet.getRow(1).getCell(1).font?.bold).toBe(true);
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(rowValues(sheet, 2)).toEqual([
      1,
      'Alice Johnson',
      'alice@example.com',
      'GB',
      3,
      29.99,
      new Date('2025-12-31T23:59:00.000Z'),
      new Date('2026-10-11T12:13:14.000Z'),
      'alice_j',
      'AliceJ',
    ]);
    expect(sheet.getRow(2).getCell(6).numFmt).toBe('#,##0.00');
    expect(sheet.getRow(2).getCell(7).numFmt).toBe('yyyy-mm-dd hh:mm');
    expect(rowValues(sheet, 3)).toEqual([2, '=1+1', '-x@y.example', null, 0, 0, new Date('2025-12-31T23:59:00.000Z'), null, null, null]);
    expect(sheet.getColumn(3).width).toBeGreaterThan(20);
    expect(sheet.rowCount).toBe(3);
  });

  it('holds text that a CSV reader would run as a formula in a plain string cell, unchanged and without a formula', async () => {
    const risky = ['=HYPERLINK("http://evil.example","x")', '+1', '-x@y.example', '@SUM(A1)', '\tTabbed', '＝1', "'quoted"];
    const file = await writeCustomerExport(
      customersFrom(
        risky.map((text, i) =>
          customer({ id: i + 1, name: text, email: `${text}@example.com`, discord: { id: String(i), username: text, avatar: null } }),
        ),
      ),
      { format: 'xlsx', directory, baseName: 'risky' },
    );

    const sheet = (await readWorkbook(file.path)).worksheets[0]!;
    risky.forEach((text, i) => {
      const row = sheet.getRow(i + 2);
      for (const [column, expected] of [
        [2, text],
        [3, `${text}@example.com`],
        [9, text],
      ] as const) {
        expect(row.getCell(column).type).toBe(ExcelJS.ValueType.String);
        expect(row.getCell(column).value).toBe(expected);
      }
    });
    // A cell is only ever evaluated through an <f> element; string cells carry their text in <v>.
    const xml = new TextDecoder().decode(unzipSync(await readFile(file.path))['xl/worksheets/sheet1.xml']);
    expect(xml).not.toMatch(/<f[ >]/);
    expect(xml).toContain('<c r="B2" t="str"><v>=HYPERLINK(&quot;http://evil.example&quot;,&quot;x&quot;)</v></c>');
  });

  it('leaves out of a cell only the control characters XML cannot carry, keeping tabs and line breaks', async () => {
    const file = await writeCustomerExport(customersFrom([customer({ name: 'Bell\u0007 Ringer\u0001', email: 'tab\there@example.com', steam: { id: '1', username: 'two\nlines', avatar: null } })]), {
      format: 'xlsx',
      directory,
      baseName: 'controls',
    });
    const row = (await readWorkbook(file.path)).worksheets[0]!.getRow(2);
    expect(row.getCell(2).value).toBe('Bell Ringer');
    expect(row.getCell(3).value).toBe('tab\there@example.com');
    expect(row.getCell(10).value).toBe('two\nlines');
  });

  it('continues on another worksheet with its own header when a sheet is full', async () => {
    const file = await writeCustomerExport(syntheticCustomers(5), { format: 'xlsx', directory, baseName: 'split', maxRowsPerSheet: 2 });

    const workbook = await readWorkbook(file.path);
    expect(workbook.worksheets.map((sheet) => sheet.name)).toEqual(['Customers', 'Customers (2)', 'Customers (3)']);
    const ids = workbook.worksheets.map((sheet) => {
      expect(rowValues(sheet, 1)).toEqual([...EXPORT_COLUMNS]);
      const values: unknown[] = [];
      sheet.eachRow((row, number) => {
        if (number > 1) values.push(row.getCell(1).value);
      });
      return values;
    });
    expect(ids).toEqual([[1, 2], [3, 4], [5]]);
    expect(file.rows).toBe(5);
  });

  it('writes every row of a large multi-sheet workbook while pausing for the zip to catch up', async () => {
    const file = await writeCustomerExport(syntheticCustomers(40_000), {
      format: 'xlsx',
      directory,
      baseName: 'large',
      maxBytes: Number.MAX_SAFE_INTEGER,
      maxRowsPerSheet: 15_000,
    });

    const workbook = await readWorkbook(file.path);
    expect(workbook.worksheets.map((sheet) => [sheet.name, sheet.rowCount])).toEqual([
      ['Customers', 15_001],
      ['Customers (2)', 15_001],
      ['Customers (3)', 10_001],
    ]);
    expect(workbook.worksheets[2]!.getRow(10_001).getCell(1).value).toBe(40_000);
  });

  it('refuses with export_too_large and leaves no file when the workbook is over maxBytes', async () => {
    await expect(writeCustomerExport(syntheticCustomers(100), { format: 'xlsx', directory, baseName: 'big', maxBytes: 1_000 })).rejects.toMatchObject({
      code: 'export_too_large',
    });
    expect(await readdir(directory)).toEqual([]);
  });

  it('keeps a workbook over maxBytes when asked to, still a valid workbook', async () => {
    const file = await writeCustomerExport(syntheticCustomers(100), { format: 'xlsx', directory, baseName: 'big', maxBytes: 1_000, whenTooLarge: 'keep' });
    expect(file).toMatchObject({ fileName: 'big.xlsx', rows: 100, compressed: false, overLimit: true });
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(file.path);
    expect(workbook.worksheets[0]!.rowCount).toBe(101);
  });

  it('rejects instead of hanging when the file cannot be written', async () => {
    const missing = join(directory, 'does-not-exist');
    for (const format of ['xlsx', 'csv'] as const) {
      await expect(writeCustomerExport(syntheticCustomers(10), { format, directory: missing, baseName: 'x' })).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(writeCustomerExport(customersFrom([]), { format, directory: missing, baseName: 'x' })).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('deletes the partial workbook when the customers stop with an error mid-stream', async () => {
    async function* failing(): AsyncGenerator<Customer> {
      yield* syntheticCustomers(3_000);
      throw new Error('database went away');
    }
    await expect(writeCustomerExport(failing(), { format: 'xlsx', directory, baseName: 'broken' })).rejects.toThrow('database went away');
    expect(await readdir(directory)).toEqual([]);
  });
});
