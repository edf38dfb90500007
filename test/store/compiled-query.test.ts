import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { compiledQuery } from '../../src/store/compiled-query.js';
import { findCustomerById } from '../../src/store/customer.repository.js';
import { insertCustomers } from '../../src/domain/customers/registration.js';
import { openMigratedDatabase, type Db } from '../../src/store/database.js';

let db: Db;
const clock = new ManualClock('2026-11-22T12:00:00.000Z');

beforeEach(async () => {
  db = (await openMigratedDatabase()).db;
  await insertCustomers(db, clock, [
    { name: 'Ada', email: 'ada@example.com' },
    { name: 'Brian', email: 'brian@example.com' },
    { name: 'Chloe', email: 'chloe@example.com' },
  ]);
});
afterEach(async () => {
  await db.destroy();
});

describe('a query compiled once', () => {
  const byNameAndEmail = compiledQuery<[string, string], { id: number }>(2, (db, name, email) =>
    db.selectFrom('customers').select('id').where('name', '=', name).where('email_lower', '=', email),
  );

  it('returns the rows for each call’s own values, in the order the markers were given', async () => {
    expect(await byNameAndEmail(db, 'Brian', 'brian@example.com')).toEqual([{ id: 2 }]);
    expect(await byNameAndEmail(db, 'Chloe', 'chloe@example.com')).toEqual([{ id: 3 }]);
    expect(await byNameAndEmail(db, 'Chloe', 'brian@example.com')).toEqual([]);
  });

  it('runs inside a transaction and sees what the transaction wrote', async () => {
    await db.transaction().execute(async (trx) => {
      await insertCustomers(trx, clock, [{ name: 'Dara', email: 'dara@example.com' }]);
      expect(await byNameAndEmail(trx, 'Dara', 'dara@example.com')).toEqual([{ id: 4 }]);
      expect((await findCustomerById(trx, 4))?.name).toBe('Dara');
    });
  });

  it('refuses a query that does not use every marker as a parameter', async () => {
    const ignoresItsValue = compiledQuery<[number], { id: number }>(1, (db) => db.selectFrom('customers').select('id').where('id', '=', 1));
    await expect(ignoresItsValue(db, 2)).rejects.toThrow(/must be used exactly once/);
  });

  it('finds customers by id through it, and nobody for an id that is not stored or not an integer', async () => {
    expect((await findCustomerById(db, 1))?.email).toBe('ada@example.com');
    expect((await findCustomerById(db, 3))?.email).toBe('chloe@example.com');
    expect(await findCustomerById(db, 99)).toBeUndefined();
    expect(await findCustomerById(db, 1.5)).toBeUndefined();
  });
});
