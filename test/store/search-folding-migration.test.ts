import { Migrator, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { listCustomers } from '../../src/domain/customers/list.js';
import { insertCustomers } from '../../src/domain/customers/registration.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { migrations } from '../../src/store/migrations/index.js';
import { onPostgres } from '../support/database.js';

const FOLDING = '2026-12-04T00-00-search-case-folding';
const clock = new ManualClock('2026-11-22T12:00:00.000Z');
let db: Db;

function migrator(upTo?: string): Migrator {
  const names = Object.keys(migrations).sort();
  const chosen = upTo === undefined ? names : names.slice(0, names.indexOf(upTo));
  return new Migrator({ db, provider: { getMigrations: () => Promise.resolve(Object.fromEntries(chosen.map((n) => [n, migrations[n]!]))) } });
}

async function total(search: string): Promise<number> {
  return (await listCustomers(db, clock, { search }, { atRiskDays: 90 })).total;
}

beforeEach(() => {
  ({ db } = openDatabase(':memory:'));
});
afterEach(async () => {
  await db.destroy();
});

// SQLite's 1–2 character index; PostgreSQL has none to rebuild.
describe.skipIf(onPostgres)('upgrading a store to case folding in every script', () => {
  it('indexes the customers already stored, and keeps indexing the ones that come', async () => {
    expect((await migrator(FOLDING).migrateToLatest()).error).toBeUndefined();
    await insertCustomers(db, clock, [
      { name: 'Nora Müller', email: 'nora@example.de' },
      { name: 'Ümit Yılmaz', email: 'umit@example.tr' },
    ]);
    expect((await migrator().migrateToLatest()).error).toBeUndefined();
    expect(await total('ü')).toBe(2);
    expect(await total('Ü')).toBe(2);
    await insertCustomers(db, clock, [{ name: 'Jürgen', email: 'JUERGEN@example.de' }]);
    await db.updateTable('customers').set({ name: 'Nora Mueller' }).where('email_lower', '=', 'nora@example.de').execute();
    expect(await total('Ü')).toBe(2);
    expect(await total('ue')).toBe(2);
    await expect(sql`INSERT INTO customer_grams(customer_grams, rank) VALUES ('integrity-check', 1)`.execute(db)).resolves.toBeDefined();
  });

  it('folds no character into ASCII but the ASCII capitals, the Kelvin sign and long s', async () => {
    // What lets instr() over ASCII-folded text stand in for the index for an ASCII term.
    expect((await migrator().migrateToLatest()).error).toBeUndefined();
    await sql`WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < 1114111)
      INSERT INTO customer_grams (rowid, grams) SELECT n, char(n) FROM p WHERE n NOT BETWEEN 55296 AND 57343 AND n <> 32`.execute(db);
    const foldedInto: Record<string, string[]> = {};
    for (let code = 33; code < 127; code++) {
      const char = String.fromCharCode(code);
      // A capital asks what its small letter asks.
      if (char >= 'A' && char <= 'Z') continue;
      const query = `"${char.replaceAll('"', '""')}"`;
      const rows = await sql<{ rowid: number }>`SELECT rowid FROM customer_grams WHERE customer_grams MATCH ${query}`.execute(db);
      const others = rows.rows.map((r) => String.fromCodePoint(r.rowid)).filter((c) => c !== char && c !== char.toUpperCase());
      if (others.length > 0) foldedInto[char] = others;
    }
    expect(foldedInto).toEqual({ k: ['\u212A'], s: ['\u017F'] });
  }, 30_000);

  it('goes back to the ASCII-folded index on the way down, still complete', async () => {
    expect((await migrator().migrateToLatest()).error).toBeUndefined();
    await insertCustomers(db, clock, [
      { name: 'Nora Müller', email: 'nora@example.de' },
      { name: 'Ümit Yılmaz', email: 'umit@example.tr' },
    ]);
    expect((await migrator().migrateDown()).error).toBeUndefined();
    // The earlier index: hex tokens of the ASCII-folded text, as the earlier search asked it.
    const matching = async (query: string) =>
      Number((await sql<{ n: number }>`SELECT count(*) AS n FROM customer_grams WHERE customer_grams MATCH ${query}`.execute(db)).rows[0]?.n);
    expect(await matching(`"${Buffer.from('ü').toString('hex')}"*`)).toBe(1);
    expect(await matching(`"${Buffer.from('mü').toString('hex')}"`)).toBe(1);
    expect(await matching(`"${Buffer.from('u').toString('hex')}"*`)).toBe(1);
    await insertCustomers(db, clock, [{ name: 'Ulla', email: 'ulla@example.se' }]);
    expect(await matching(`"${Buffer.from('u').toString('hex')}"*`)).toBe(2);
    await expect(sql`INSERT INTO customer_grams(customer_grams, rank) VALUES ('integrity-check', 1)`.execute(db)).resolves.toBeDefined();
  });
});
