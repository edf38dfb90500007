import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import {
  countCustomersInRange,
  countGramMatches,
  countTrigramMatches,
  findWatchedTermCount,
  foldedColumn,
  foldForSearch,
  gramQuery,
  postgresSearchCondition,
  readStoreCounters,
  touchWatchedTerm,
  watchTerm,
} from '../../store/customer-counts.repository.js';
import { normalizeEmail, normalizeTimestamp, toCustomer } from '../../store/customer.repository.js';
import { inTransaction, isPostgres, selectRowsAsArrays, type Db } from '../../store/database.js';
import type { Database } from '../../store/schema/index.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { atRiskCutoff } from './profile.js';
import type { ExportableCustomer } from '../exports/customer-export.js';
import { UserError } from '../../shared/errors.js';
import type { Customer, CustomerFilter, CustomerListPage, CustomerListQuery, CustomerSort, SortOrder } from './types.js';

/*
 * Search plan (substring of name or email, case-insensitive); its costs at a million customers
 * are in bench/results.md.
 *
 * Matching. A term of 3+ characters (code points) is one quoted FTS5 phrase over `customer_search`,
 * the trigram index (`"` doubled, so `%`, `_`, `*`, `AND`… are plain characters); trigrams fold
 * case across Unicode. A term of 1–2 characters has no trigram: it is looked up in
 * `customer_grams`, which holds every 1–2 character substring of each customer's name and email,
 * folded by the same Unicode case folding, so "Ü" finds what "ü" finds at every length. For an
 * ASCII term, instr() over the columns folded by foldForSearch means exactly what either index
 * means, so an index and a scan of the table always agree on who matches.
 *
 * Totals. A search on its own is counted in its index: a single trigram or gram is one doclist,
 * cheap per match; a longer phrase costs more per match, as each of its trigrams is checked for
 * position. When a count is expensive (an estimated 10 ms or more) and the term is ASCII, the
 * term is registered in `search_term_counts`, whose count triggers keep from then on: the next
 * search reads one row. Without a search, totals come from `store_counters` and the per-day counts.
 *
 * Pages. Three ways to find the first rows in list order, chosen by the expected cost from the
 * exact total: `scan` walks the sort index and tests instr() on each row (cheap when matches are
 * dense: ~15·N/total rows for a first page); `index` takes every match from the index and sorts
 * them (cheap when matches are few); `walk` takes every match's id from the index once (a
 * list, no table rows read) and walks the sort index testing each row against it (the middle
 * ground, for terms with thousands of matches); `probe` walks the
 * sort index and asks the term's index about each row, for a non-ASCII term (where instr()
 * cannot fold case) matching a large part of the store.
 *
 * Pages are OFFSET pages (the API is page-numbered); exports use iterateCustomers, which walks
 * the sort index with keyset conditions instead, so each batch costs the same.
 */

export const DEFAULT_PER_PAGE = 15;
export const MAX_PER_PAGE = 100;
export const SEARCH_MAX_LENGTH = 200;
const MAX_BATCH = 10_000;

type SortColumn = 'created_at' | 'name' | 'email_lower' | 'orders_count' | 'total_spent_cents' | 'last_order_at';

/** Each sort key has an index ending in id, so a page walks an index; id breaks ties stably. */
const SORTS: Record<CustomerSort, { column: SortColumn; order: SortOrder }> = {
  newest: { column: 'created_at', order: 'desc' },
  oldest: { column: 'created_at', order: 'asc' },
  name: { column: 'name', order: 'asc' },
  email: { column: 'email_lower', order: 'asc' },
  most_orders: { column: 'orders_count', order: 'desc' },
  highest_spending: { column: 'total_spent_cents', order: 'desc' },
  last_order: { column: 'last_order_at', order: 'desc' },
};

const FILTERS: readonly CustomerFilter[] = ['all', 'has_orders', 'repeat', 'loyal', 'at_risk'];

interface ListPlan {
  search: SearchPlan | null;
  emailLower: string | null;
  registeredAfter: string | null;
  registeredBefore: string | null;
  filter: CustomerFilter;
  /** The at-risk cutoff, computed once per request so every page and batch agrees. */
  atRiskCutoff: string | null;
  column: SortColumn;
  order: SortOrder;
}

/** `folded` is set for an ASCII term: instr() over folded text can then stand in for the index. */
type SearchPlan =
  /** 3+ characters. */
  | { kind: 'trigram'; phrase: string; folded: string | null; length: number }
  /** 1–2 characters, as typed (the index folds them). */
  | { kind: 'gram'; term: string; folded: string | null };

/** How a page finds its matches; see the search plan above. */
type SearchMode = 'index' | 'scan' | 'walk' | 'probe';

type CustomersEb = ExpressionBuilder<Database, 'customers'>;

/** Customers needed by a first page of 15 that a scan may walk before the index is cheaper. */
const MIN_MATCH_FRACTION_FOR_SCAN_EXPORT = 0.05;
// Relative costs per row, a scanned row being 1: an index match fetched and sorted, a trigram
// probe of one row, a walked row tested against the list of ids, each id put in that list. The
// timings they come from are in bench/results.md.
const SCAN_COST = 1;
const INDEX_COST = 1.5;
const PROBE_COST = 60;
const WALK_COST = 0.25;
const LIST_COST = 0.1;
/** A count estimated to take this long is worth maintaining instead (search_term_counts). */
const WATCH_COUNT_MS = 10;
const POSTGRES_COUNT_NS_PER_MATCH = 4_000;

/**
 * One page of customers. `perPage` is clamped to 1–100 (default 15) and `page` to 1 or more; a
 * page past the end is empty. `registeredAfter` is inclusive and `registeredBefore` exclusive,
 * so consecutive ranges never count a customer twice.
 */
export async function listCustomers(
  db: Db,
  clock: Clock,
  query: CustomerListQuery,
  options: { atRiskDays: number },
): Promise<CustomerListPage> {
  const plan = planList(query, clock, options.atRiskDays);
  const perPage = clampInteger(query.perPage, DEFAULT_PER_PAGE, 1, MAX_PER_PAGE);
  const page = clampInteger(query.page, 1, 1, Number.MAX_SAFE_INTEGER);
  const total = await countMatching(db, plan, clock);
  const lastPage = Math.max(1, Math.ceil(total / perPage));
  const offset = (page - 1) * perPage;
  if (offset >= total) return { rows: [], total, page, perPage, lastPage };
  const mode = plan.search ? chooseSearchMode(plan.search, total, (await readStoreCounters(db)).customers, offset + perPage) : 'index';
  const rows = await orderedQuery(db, plan, mode, null).selectAll('customers').limit(perPage).offset(offset).execute();
  return { rows: rows.map(toCustomer), total, page, perPage, lastPage };
}

/**
 * Streams every matching customer in the requested order with flat memory: batches of
 * `batchSize` rows continue from the last row's (sort key, id) instead of an OFFSET, so the last
 * batch of a million rows costs what the first does. Rows written during the walk are seen if they
 * sort after the current position. A nullable sort key (last order) is walked in two legs, the
 * dated rows and the never-ordered ones, so each leg stays a plain index range. `batchSize` is
 * 1–10,000 (default 1000); a search found through its index always uses 10,000-row batches.
 */
export async function* iterateCustomers(
  db: Db,
  clock: Clock,
  query: Omit<CustomerListQuery, 'page' | 'perPage'>,
  options: { atRiskDays: number; batchSize?: number },
): AsyncGenerator<Customer> {
  for await (const batch of walkCustomers(db, clock, query, options, (q) => q.selectAll('customers'))) {
    for (const row of batch) yield toCustomer(row);
  }
}

/**
 * {@link iterateCustomers} reading only what an export shows (10 of the 28 columns, plus the sort
 * key): building every column of every row would be most of a large CSV export's time. A
 * linked account without a username exports as a blank cell either way, so the account ids are
 * not read. Yields a batch at a time (what writeCustomerExport takes), sparing a promise per
 * customer.
 */
export async function* iterateCustomersForExport(
  db: Db,
  clock: Clock,
  query: Omit<CustomerListQuery, 'page' | 'perPage'>,
  options: { atRiskDays: number; batchSize?: number },
): AsyncGenerator<ExportableCustomer[]> {
  const columns = [
    'customers.id',
    'customers.name',
    'customers.email',
    'customers.country',
    'customers.orders_count',
    'customers.total_spent_cents',
    'customers.created_at',
    'customers.last_order_at',
    'customers.discord_username',
    'customers.steam_username',
  ] as const;
  const byEmail = query.sort === 'email';
  // Rows come as arrays (see selectRowsAsArrays), in the order of `columns`, and become the
  // exported shape directly: one object per row instead of two or three.
  const selected: readonly string[] = byEmail ? [...columns, 'customers.email_lower'] : columns;
  const positions = new Map(selected.map((column, i) => [column.slice('customers.'.length), i]));
  const cursorOf = (row: unknown[], column: SortColumn): Cursor => ({ key: row[positions.get(column) ?? 0] as Cursor['key'], id: row[0] as number });
  const rows = walkCustomers(
    db,
    clock,
    query,
    options,
    (q) => {
      const picked = byEmail ? q.select([...columns, 'customers.email_lower']) : q.select(columns);
      return { limit: (n: number) => ({ execute: () => selectRowsAsArrays(db, picked.limit(n)) }) };
    },
    cursorOf,
  );
  for await (const batch of rows) {
    yield batch.map((row) => {
      const discord = row[8] as string | null;
      const steam = row[9] as string | null;
      return {
        id: row[0] as number,
        name: row[1] as string,
        email: row[2] as string,
        country: row[3] as string | null,
        ordersCount: row[4] as number,
        totalSpentCents: row[5] as number,
        createdAt: row[6] as string,
        lastOrderAt: row[7] as string | null,
        discord: discord === null ? null : { username: discord },
        steam: steam === null ? null : { username: steam },
      };
    });
  }
}

type CustomerQuery = ReturnType<typeof orderedQuery>;
/** The row must carry the sort key and id, for the keyset cursor. */
type WalkRow = { id: number } & Partial<Record<SortColumn, string | number | null>>;

async function* walkCustomers<R>(
  db: Db,
  clock: Clock,
  query: Omit<CustomerListQuery, 'page' | 'perPage'>,
  options: { atRiskDays: number; batchSize?: number },
  select: (q: CustomerQuery) => { limit(n: number): { execute(): Promise<R[]> } },
  /** Where the next batch starts after `row`; rows carrying the sort key and id by name need none. */
  cursorOf: (row: R, column: SortColumn) => Cursor = (row, column) => ({ key: (row as WalkRow)[column] ?? null, id: (row as WalkRow).id }),
): AsyncGenerator<R[]> {
  const plan = planList(query, clock, options.atRiskDays);
  const requested = clampInteger(options.batchSize, 1000, 1, MAX_BATCH);
  let mode: SearchMode = 'index';
  if (plan.search && plan.search.folded !== null) {
    // A common term is found faster by walking the list than by re-reading its matches per batch.
    const matches = await countSearchTerm(db, plan.search, clock);
    const customers = (await readStoreCounters(db)).customers;
    if (matches >= customers * MIN_MATCH_FRACTION_FOR_SCAN_EXPORT) mode = 'scan';
  }
  // Every batch of an indexed search re-runs the match and sorts the remaining matches,
  // O(matches) each time, so fewer, larger batches cost far less (bench/results.md).
  const batchSize = plan.search && mode === 'index' ? Math.max(requested, MAX_BATCH) : requested;
  const legs: Leg[] =
    plan.column === 'last_order_at'
      ? filterImpliesOrders(plan.filter)
        ? ['dated']
        : plan.order === 'desc'
          ? ['dated', 'undated']
          : ['undated', 'dated']
      : ['all'];
  for (const leg of legs) {
    let cursor: Cursor | null = null;
    for (;;) {
      const rows = await select(orderedQuery(db, plan, mode, { leg, cursor })).limit(batchSize).execute();
      if (rows.length > 0) yield rows;
      const last = rows.at(-1);
      if (!last || rows.length < batchSize) break;
      cursor = cursorOf(last, plan.column);
    }
  }
}

/**
 * Customers whose name or email contains `term`, newest first, with the exact number of matches:
 * the free-text half of the lookup box. `clock` dates the use of a maintained term count.
 */
export async function searchCustomersByText(
  db: Db,
  term: string,
  limit = 25,
  clock: Clock = systemClock,
): Promise<{ rows: Customer[]; total: number }> {
  const plan: ListPlan = {
    search: planSearch(term),
    emailLower: null,
    registeredAfter: null,
    registeredBefore: null,
    filter: 'all',
    atRiskCutoff: null,
    ...SORTS.newest,
  };
  if (!plan.search) return { rows: [], total: 0 };
  const total = await countSearchTerm(db, plan.search, clock);
  if (total === 0) return { rows: [], total };
  const perPage = clampInteger(limit, 25, 1, MAX_PER_PAGE);
  const mode = chooseSearchMode(plan.search, total, (await readStoreCounters(db)).customers, perPage);
  const rows = await orderedQuery(db, plan, mode, null).selectAll('customers').limit(perPage).execute();
  return { rows: rows.map(toCustomer), total };
}

/** The FTS5 query for a literal substring: one phrase, quotes doubled, nothing else special. */
export function ftsPhrase(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
}

function planList(query: Omit<CustomerListQuery, 'page' | 'perPage'>, clock: Clock, atRiskDays: number): ListPlan {
  const filter = query.filter ?? 'all';
  if (!FILTERS.includes(filter)) throw new UserError('filter_invalid', `"${String(filter)}" is not a customer filter.`);
  const sortName = query.sort ?? 'newest';
  // The sort arrives from outside as a string: an own-property check keeps "toString" out.
  const sort = Object.hasOwn(SORTS, sortName) ? SORTS[sortName] : undefined;
  if (!sort) throw new UserError('sort_invalid', `"${String(query.sort)}" is not a customer sort.`);
  const order = query.sortOrder ?? sort.order;
  if (order !== 'asc' && order !== 'desc') throw new UserError('sort_order_invalid', 'The sort order must be "asc" or "desc".');
  const email = query.email?.trim();
  return {
    search: query.search === undefined ? null : planSearch(query.search),
    emailLower: email ? normalizeEmail(email) : null,
    registeredAfter: query.registeredAfter ? normalizeTimestamp(query.registeredAfter, 'registeredAfter') : null,
    registeredBefore: query.registeredBefore ? normalizeTimestamp(query.registeredBefore, 'registeredBefore') : null,
    filter,
    atRiskCutoff: filter === 'at_risk' ? atRiskCutoff(clock.now(), atRiskDays) : null,
    column: sort.column,
    order,
  };
}

function planSearch(raw: string): SearchPlan | null {
  const term = raw.trim();
  if (term === '') return null;
  const length = [...term].length;
  if (length > SEARCH_MAX_LENGTH) {
    throw new UserError('search_too_long', `A search may be at most ${SEARCH_MAX_LENGTH} characters.`);
  }
  // FTS5 reads its query as a C string: a NUL would end it mid-quote.
  if (term.includes('\u0000')) throw new UserError('search_invalid', 'A search cannot contain a NUL character.');
  // eslint-disable-next-line no-control-regex
  const folded = /^[\u0000-\u007f]*$/.test(term) ? foldForSearch(term) : null;
  if (length <= 2) return { kind: 'gram', term, folded };
  return { kind: 'trigram', phrase: ftsPhrase(term), folded, length };
}

/**
 * The cheapest way to the first `needed` matches in list order, from the exact number of
 * matches: walking the list costs about needed·customers/total rows, taking the matches from the
 * index costs about total.
 */
function chooseSearchMode(search: SearchPlan, total: number, customers: number, needed: number): SearchMode {
  const walked = total > 0 ? (needed * Math.max(customers, total)) / total : Infinity;
  const costs: Array<[SearchMode, number]> = [
    ['index', total * INDEX_COST],
    ['walk', walked * WALK_COST + total * LIST_COST],
    search.folded !== null ? ['scan', walked * SCAN_COST] : ['probe', walked * PROBE_COST],
  ];
  return costs.reduce((best, next) => (next[1] < best[1] ? next : best))[0];
}

/**
 * The exact number of customers matching a search on its own. A maintained count when the term
 * is watched; otherwise counted in its index, and watched from now on when that was expensive.
 */
async function countSearchTerm(db: Db, search: SearchPlan, clock: Clock): Promise<number> {
  const folded = search.folded;
  const countInIndex = (trx: Db) => (search.kind === 'gram' ? countGramMatches(trx, search.term) : countTrigramMatches(trx, search.phrase));
  const postgres = isPostgres(db);
  // Only ASCII terms are watched: SQLite's count triggers test instr() over ASCII-folded text,
  // which means what the indexes mean for those alone.
  if (folded === null) return countInIndex(db);
  const today = clock.now().toISOString().slice(0, 10);
  const watched = await findWatchedTermCount(db, folded);
  if (watched !== undefined) {
    await touchWatchedTerm(db, folded, today);
    return watched;
  }
  // Counted and registered in one transaction, so no write lands between the count and the row
  // that triggers keep from then on.
  return inTransaction(db, async (trx) => {
    const count = await countInIndex(trx);
    if (estimatedCountMs(search, count, postgres) >= WATCH_COUNT_MS) await watchTerm(trx, folded, count, today);
    return count;
  });
}

/** One token is read from one doclist; a phrase checks positions in each of its trigrams. */
function estimatedCountMs(search: SearchPlan, matches: number, postgres: boolean): number {
  // PostgreSQL has no index of 1–2 character substrings, so it counts those by reading every
  // customer; a longer term by fetching and rechecking each match the pg_trgm index yields.
  // Both far dearer than an FTS5 doclist (bench/results.md).
  if (postgres) return search.kind === 'gram' ? Infinity : (matches * POSTGRES_COUNT_NS_PER_MATCH) / 1e6;
  const perMatchNs = search.kind === 'gram' || search.length === 3 ? 25 : 30 * (search.length - 2);
  return (matches * perMatchNs) / 1e6;
}

function filterImpliesOrders(filter: CustomerFilter): boolean {
  return filter !== 'all';
}

function searchCondition(db: Db, eb: CustomersEb, search: SearchPlan, mode: SearchMode): Expression<SqlBool> {
  if (isPostgres(db)) return postgresSearchCondition(search);
  if (mode === 'scan') {
    const folded = search.folded;
    if (folded === null) throw new Error('a scan needs an ASCII term');
    return eb.or([
      eb(eb.fn<number>('instr', [foldedColumn('customers.name'), eb.val(folded)]), '>', 0),
      eb(eb.fn<number>('instr', [foldedColumn('customers.email'), eb.val(folded)]), '>', 0),
    ]);
  }
  const matchingIds =
    search.kind === 'gram'
      ? eb.selectFrom('customer_grams').select('customer_grams.rowid').where(sql<string>`customer_grams`, 'match', gramQuery(search.term))
      : eb.selectFrom('customer_search').select('customer_search.rowid').where(sql<string>`customer_search`, 'match', search.phrase);
  if (mode === 'probe') {
    return search.kind === 'gram'
      ? eb.exists(
          eb
            .selectFrom('customer_grams')
            .select(eb.lit(1).as('one'))
            .where(sql<string>`customer_grams`, 'match', gramQuery(search.term))
            .whereRef('customer_grams.rowid', '=', 'customers.id'),
        )
      : eb.exists(
          eb
            .selectFrom('customer_search')
            .select(eb.lit(1).as('one'))
            .where(sql<string>`customer_search`, 'match', search.phrase)
            .whereRef('customer_search.rowid', '=', 'customers.id'),
        );
  }
  // In a walk the unary plus keeps SQLite from reading the matches by rowid and sorting them: it
  // builds the list of ids once and walks the sort's index, testing each row against the list.
  return eb(mode === 'walk' ? sql<number>`+${sql.ref('customers.id')}` : eb.ref('customers.id'), 'in', matchingIds);
}

function conditionsFor(db: Db, eb: CustomersEb, plan: ListPlan, mode: SearchMode): Expression<SqlBool>[] {
  const conditions: Expression<SqlBool>[] = [];
  if (plan.search) conditions.push(searchCondition(db, eb, plan.search, mode));
  if (plan.emailLower !== null) conditions.push(eb('customers.email_lower', '=', plan.emailLower));
  if (plan.registeredAfter !== null) conditions.push(eb('customers.created_at', '>=', plan.registeredAfter));
  if (plan.registeredBefore !== null) conditions.push(eb('customers.created_at', '<', plan.registeredBefore));
  // The thresholds are literals, not parameters: the planner can then use the partial indexes
  // (WHERE orders_count >= 1 / 2 / 5) whose condition they match.
  switch (plan.filter) {
    case 'all':
      break;
    case 'has_orders':
      conditions.push(eb('customers.orders_count', '>=', eb.lit(1)));
      break;
    case 'repeat':
      conditions.push(eb('customers.orders_count', '>=', eb.lit(2)));
      break;
    case 'loyal':
      conditions.push(eb('customers.orders_count', '>=', eb.lit(5)));
      break;
    case 'at_risk':
      // last_order_at is set exactly when orders_count ≥ 1; saying both lets the planner pick
      // either the last-order index or the buyers' partial indexes.
      conditions.push(eb('customers.last_order_at', '<=', plan.atRiskCutoff ?? ''));
      conditions.push(eb('customers.orders_count', '>=', eb.lit(1)));
      break;
  }
  // Never-ordered customers have no last order: a filter that needs an order skips them in the
  // last-order index instead of walking past them.
  if (plan.column === 'last_order_at' && filterImpliesOrders(plan.filter)) conditions.push(eb('customers.last_order_at', 'is not', null));
  return conditions;
}

/**
 * The exact number of matches. Without a search, email or date range the totals are maintained
 * counters; a registration range alone is a count by day; a search alone is counted in its index
 * (or read from its maintained count); anything else is counted by its conditions.
 */
async function countMatching(db: Db, plan: ListPlan, clock: Clock): Promise<number> {
  const dated = plan.registeredAfter !== null || plan.registeredBefore !== null;
  if (plan.search === null && plan.emailLower === null) {
    if (!dated) {
      if (plan.filter === 'at_risk') return countCustomersInRange(db, 'last_order', { to: plan.atRiskCutoff, toInclusive: true });
      const counters = await readStoreCounters(db);
      switch (plan.filter) {
        case 'all':
          return counters.customers;
        case 'has_orders':
          return counters.withOrders;
        case 'repeat':
          return counters.repeatCustomers;
        case 'loyal':
          return counters.loyalCustomers;
      }
    }
    if (plan.filter === 'all') return countCustomersInRange(db, 'registered', { from: plan.registeredAfter, to: plan.registeredBefore });
  }
  if (plan.search !== null && plan.emailLower === null && !dated && plan.filter === 'all') return countSearchTerm(db, plan.search, clock);
  const row = await db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .where((eb) => eb.and(conditionsFor(db, eb, plan, 'index')))
    .executeTakeFirstOrThrow();
  return Number(row.total);
}

type Leg = 'all' | 'dated' | 'undated';
interface Cursor {
  key: string | number | null;
  id: number;
}

function orderedQuery(db: Db, plan: ListPlan, mode: SearchMode, keyset: { leg: Leg; cursor: Cursor | null } | null) {
  const { column, order } = plan;
  const after = order === 'asc' ? '>' : '<';
  return db
    .selectFrom('customers')
    .where((eb) => {
      const conditions = conditionsFor(db, eb, plan, mode);
      if (keyset?.leg === 'dated') conditions.push(eb(`customers.${column}`, 'is not', null));
      if (keyset?.leg === 'undated') conditions.push(eb(`customers.${column}`, 'is', null));
      const cursor = keyset?.cursor;
      if (cursor) {
        conditions.push(
          keyset.leg === 'undated'
            ? eb('customers.id', after, cursor.id)
            : eb(eb.refTuple(`customers.${column}`, 'customers.id'), after, eb.tuple(cursor.key, cursor.id)),
        );
      }
      return eb.and(conditions);
    })
    .orderBy(`customers.${column}`, (ob) => {
      const directed = order === 'asc' ? ob.asc() : ob.desc();
      // SQLite's natural order puts NULL lowest; PostgreSQL's puts it highest. Saying it keeps
      // "never ordered" customers last in a newest-last-order list on both.
      if (column !== 'last_order_at') return directed;
      return order === 'asc' ? directed.nullsFirst() : directed.nullsLast();
    })
    .orderBy('customers.id', order);
}

function clampInteger(value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.trunc(value)));
}
