import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeTimestamp } from '../../src/store/customer.repository.js';

/** What normalizeTimestamp always meant: parse, then print as toISOString(). */
function parsedAndPrinted(value: string): string {
  const time = Date.parse(value);
  return Number.isNaN(time) ? 'refused' : new Date(time).toISOString();
}

function normalized(value: string): string {
  try {
    return normalizeTimestamp(value, 'at');
  } catch {
    return 'refused';
  }
}

describe('timestamps in the stored form', () => {
  it('are kept as they are when they name a real moment, leap days included', () => {
    for (const value of ['2026-11-22T12:00:00.000Z', '2024-02-29T23:59:59.999Z', '2000-02-29T00:00:00.000Z', '1999-12-31T23:59:59.000Z']) {
      expect(normalizeTimestamp(value, 'at')).toBe(value);
    }
  });

  it('that do not exist are read as Date.parse reads them (30 February rolls over), as before', () => {
    expect(normalizeTimestamp('2026-02-30T00:00:00.000Z', 'at')).toBe('2026-03-02T00:00:00.000Z');
    expect(normalizeTimestamp('2023-02-29T10:00:00.000Z', 'at')).toBe('2023-03-01T10:00:00.000Z');
    expect(normalizeTimestamp('1900-02-29T00:00:00.000Z', 'at')).toBe('1900-03-01T00:00:00.000Z');
    expect(() => normalizeTimestamp('2026-13-01T00:00:00.000Z', 'at')).toThrow(/not a date and time/);
  });

  it('give the same result as parsing and printing, for any digits in the stored shape', () => {
    const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));
    const shaped = fc
      .tuple(digits(4), digits(2), digits(2), digits(2), digits(2), digits(2), digits(3))
      .map(([y, mo, d, h, mi, s, ms]) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
    fc.assert(fc.property(shaped, (value) => normalized(value) === parsedAndPrinted(value)), { numRuns: 20_000 });
    fc.assert(
      fc.property(fc.date({ min: new Date(Date.UTC(1, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }), (date) => {
        const value = date.toISOString();
        return normalizeTimestamp(value, 'at') === value;
      }),
      { numRuns: 5_000 },
    );
  });

  it('in other forms are still parsed and printed in the stored form', () => {
    expect(normalizeTimestamp('2025-01-20T14:30:00Z', 'at')).toBe('2025-01-20T14:30:00.000Z');
    expect(normalizeTimestamp('2025-01-20T15:30:00+01:00', 'at')).toBe('2025-01-20T14:30:00.000Z');
  });
});
