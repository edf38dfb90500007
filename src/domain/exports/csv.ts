import Papa from 'papaparse';

/** One CSV record's cells: text, or numbers written as JavaScript prints them. */
export type CsvRecord = readonly (string | number)[];

/**
 * RFC 4180 text for `records`, each ending in CRLF. A cell is quoted, with its quotes doubled, when
 * it holds a quote, a comma, a CR or LF (alone too), or a byte-order mark, or starts or ends with a
 * space (so no reader trims it). papaparse's encoder: csv-stringify's synchronous one builds a few
 * objects per cell and is slower for it (bench/results.md).
 */
export function csvRecords(records: readonly CsvRecord[]): string {
  if (records.length === 0) return '';
  return `${Papa.unparse(records as (string | number)[][], { newline: '\r\n', header: false })}\r\n`;
}

/** What `csvRecords` writes for one cell, in UTF-8 bytes, without the comma after it. */
export function csvCellBytes(cell: string | number): number {
  const text = String(cell);
  const length = Buffer.byteLength(text);
  const quoted = /[",\r\n\uFEFF]/.test(text) || text.startsWith(' ') || text.endsWith(' ');
  return quoted ? length + 2 + (text.match(/"/g)?.length ?? 0) : length;
}
