import { describe, expect, it } from 'vitest';
import { insertRowsCompiled } from '../../src/store/bulk-insert.js';
import type { Db } from '../../src/store/database.js';
import { useTestContext } from '../support/context.js';

let db: Db;

useTestContext((context) => ({ db } = context));

const product = (id: number, name: string) => ({ id, name, created_at: '2026-11-22T12:00:00.000Z', updated_at: '2026-11-22T12:00:00.000Z' });
const insertProducts = (target: Db, rows: ReturnType<typeof product>[]) =>
  insertRowsCompiled(target, 'products', rows, (d, markers) => d.insertInto('products').values(markers as typeof rows).returning(['id', 'name']));

describe('inserts compiled once per shape', () => {
  it('stores each call its own values when the same shape runs again, in a transaction too', async () => {
    expect(await insertProducts(db, [product(1, 'VIP'), product(2, 'Crate')])).toEqual([
      { id: 1, name: 'VIP' },
      { id: 2, name: 'Crate' },
    ]);
    await db.transaction().execute((trx) => insertProducts(trx, [product(3, 'Kit'), product(4, 'Pass')]));
    // Another row count is another shape.
    await insertProducts(db, [product(5, 'Tag')]);
    const stored = await db.selectFrom('products').select(['id', 'name']).orderBy('id').execute();
    expect(stored).toEqual([
      { id: 1, name: 'VIP' },
      { id: 2, name: 'Crate' },
      { id: 3, name: 'Kit' },
      { id: 4, name: 'Pass' },
      { id: 5, name: 'Tag' },
    ]);
  });

  it('refuses a row that lacks a column of the first row, and stores nothing of it', async () => {
    const rows = [product(1, 'VIP'), { id: 2, name: undefined, created_at: 'x', updated_at: 'x' }] as unknown as ReturnType<typeof product>[];
    await expect(insertProducts(db, rows)).rejects.toThrow(/lacks name/);
    expect(await db.selectFrom('products').select('id').execute()).toEqual([]);
  });

  it('does nothing for no rows', async () => {
    expect(await insertProducts(db, [])).toEqual([]);
  });
});
