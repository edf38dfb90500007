import type { Selectable, SelectQueryBuilder } from 'kysely';
import type { Database } from './schema/index.js';

/** Normalises an offset/limit pair from any caller: whole numbers, offset ≥ 0, 1 ≤ limit ≤ max. */
export function clampPage(page: { offset: number; limit: number }, max: number): { offset: number; limit: number } {
  return {
    offset: Math.max(0, Math.trunc(page.offset) || 0),
    limit: Math.min(max, Math.max(1, Math.trunc(page.limit) || 1)),
  };
}

type NewestFirstTable = { [T in keyof Database]: Database[T] extends { id: unknown; created_at: unknown } ? T : never }[keyof Database];

/**
 * One page of `base`'s rows, newest first (ties broken by id so pages never overlap), and how many
 * rows `base` matches in all. The two queries run one after the other: inside a transaction both
 * use the same connection anyway.
 */
export async function newestFirstPage<T extends NewestFirstTable>(
  base: SelectQueryBuilder<Database, T, object>,
  range: { offset: number; limit: number },
): Promise<{ rows: Selectable<Database[T]>[]; total: number }> {
  const rows = await base
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(range.limit)
    .offset(range.offset)
    .execute();
  // COUNT comes back as a number from SQLite but as a string (bigint) from PostgreSQL.
  const count = await base.select((eb) => eb.fn.countAll<number | string | bigint>().as('total')).executeTakeFirstOrThrow();
  return { rows: rows as unknown as Selectable<Database[T]>[], total: Number(count.total) };
}
