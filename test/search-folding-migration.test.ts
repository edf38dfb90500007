import { Migrator, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/domain/clock.js';
import { listCustomers } from '../src/domain/customer-list.js';
import { insertCustomers } from '../src/store/customer.repository.js';
import { openDatabase, type Db } from '../src/store/database.js';
import { migrations } from '../src/store/migrations/index.js';
import { onPostgres } from './support/database.js';

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
