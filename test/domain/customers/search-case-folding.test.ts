import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/shared/clock.js';
import { lookupCustomer } from '../../../src/domain/customers/lookup.js';
import { listCustomers } from '../../../src/domain/customers/list.js';
import { insertCustomer } from '../../../src/domain/customers/registration.js';
import type { Db } from '../../../src/store/database.js';
import { useTestContext } from '../../support/context.js';

let db: Db;
const clock = new ManualClock('2026-11-22T12:00:00.000Z');

useTestContext((context) => ({ db } = context));

/**
 * Letters of Latin, Greek and Cyrillic whose capital and small forms map one to one (so the test
 * can change a term's case without changing what it says), plus caseless characters.
 */
const LETTERS = [
  ...'abcdefghijklmnopqrstuvwxyz',
  ...'àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿāăąćčďđēęěğłńňőœřśşšťůűźżž',
  ...'αβγδεζηθικλμνξοπρστυφχψωάέήίόύώ',
  ...'абвгдежзийклмнопрстуфхцчшщъыьэюяёђєії',
].filter((c) => {
  const upper = c.toUpperCase();
  return upper !== c && [...upper].length === 1 && upper.toLowerCase() === c;
});
const CASELESS = [...'0123456789.-_@%\'"* ', '😀', '中', '文'];

const nameArbitrary = fc
  .array(fc.constantFrom(...LETTERS, ...LETTERS, ...CASELESS), { minLength: 1, maxLength: 24 })
  .map((chars) => chars.join('').trim())
  .filter((name) => name.length > 0);

const withCases = (text: string, upper: boolean[]): string => [...text].map((c, i) => (upper[i % upper.length] ? c.toUpperCase() : c.toLowerCase())).join('');

describe('search, whatever the case a term is typed in', () => {
  it('finds a customer by any substring of their name in any mix of capitals and small letters, at every length', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(nameArbitrary, fc.nat(), fc.integer({ min: 1, max: 6 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }), async (name, at, length, upper) => {
        const chars = [...withCases(name, [false])];
        const start = at % chars.length;
        const term = withCases(chars.slice(start, start + length).join(''), upper).trim();
        fc.pre(term.length > 0);
        const customer = await insertCustomer(db, clock, { name: withCases(name, upper.map((u) => !u)), email: `p${n++}@example.com` });
        try {
          const page = await listCustomers(db, clock, { search: term }, { atRiskDays: 90 });
          expect(page.rows.map((c) => c.id), `${JSON.stringify(term)} in ${JSON.stringify(customer.name)}`).toContain(customer.id);
          // A bare number is looked up as an id or order number first.
          if (!/^\d+$/.test(term)) {
            const found = await lookupCustomer(db, term);
            const ids = found.kind === 'customer' ? [found.customer.id] : found.matches.map((c) => c.id);
            expect(ids, `lookup ${JSON.stringify(term)} in ${JSON.stringify(customer.name)}`).toContain(customer.id);
          }
        } finally {
          await db.deleteFrom('customers').where('id', '=', customer.id).execute();
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});
