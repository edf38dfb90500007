import type { Page } from '../domain/customers/types.js';

/**
 * Fetches page `requested` (0-based), or the last page when the list shrank since the button
 * was drawn (a note deleted, a ban lifted), so a stale "Next" never shows an empty page.
 */
export async function fetchPage<T>(
  requested: number,
  perPage: number,
  fetch: (offset: number, limit: number) => Promise<Page<T>>,
): Promise<{ page: number; pages: number; result: Page<T> }> {
  const wanted = Math.max(0, requested);
  const first = await fetch(wanted * perPage, perPage);
  const pages = Math.max(1, Math.ceil(first.total / perPage));
  const page = Math.min(wanted, pages - 1);
  const result = page === wanted ? first : await fetch(page * perPage, perPage);
  return { page, pages, result };
}
