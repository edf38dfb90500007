import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { normalizeEmail, normalizeTimestamp, toCustomer } from '../store/customer.repository.js';
import type { Db } from '../store/database.js';
import type { Database } from '../store/tables.js';
import type { Clock } from './clock.js';
import { atRiskCutoff } from './customer-profile.js';
import { UserError } from './errors.js';
import type { Customer, CustomerFilter, CustomerListPage, CustomerListQuery, CustomerSort, SortOrder } from './types.js';

/*
 * Search plan (substring of name or email, case-insensitive)
 *
 * - A term of 3+ characters (Unicode code points, which is what the tokenizer counts) goes to
 *   `customer_search`, the FTS5 trigram index over customers(name, email) whose rowid is the
 *   customer id. The term is bound as one quoted FTS5 phrase (`"` doubled), so `%`, `_`, `*`,
 *   `AND`, `-`… are plain characters, and a trigram phrase matches any substring, case-folded.
 *   The matches then join customers by primary key and are sorted: a first page over a term that
 *   matches 200k of a million customers costs ~150 ms, a selective term well under 1 ms.
 * - A term of 1–2 characters has no trigram, so FTS5 cannot answer it. It is matched with
 *   `instr()` (no LIKE, hence no wildcards to escape) on lower(name) / the stored lower-cased
 *   email, plus the name as typed (SQLite's lower() folds ASCII only, so "É" still finds "Émile"
 *   exactly). Walking the sort index, a first page of a common short term is found after a few
 *   rows; the exact total is a full scan of customers (~200 ms per million rows), as is a rare
 *   short term. A later optimisation: report short-term totals as a capped estimate ("1000+"),
 *   or keep a small per-term count cache, or add a prefix index for 1–2 character prefixes.
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
  search: { kind: 'fts'; phrase: string } | { kind: 'short'; term: string; lower: string } | null;
  emailLower: string | null;
  registeredAfter: string | null;
  registeredBefore: string | null;
  filter: CustomerFilter;
  /** The at-risk cutoff, computed once per request so every page and batch agrees. */
  atRiskCutoff: string | null;
  column: SortColumn;
  order: SortOrder;
}

type CustomersEb = ExpressionBuilder<Database, 'customers'>;

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
  const total = await countMatching(db, plan);
  const lastPage = Math.max(1, Math.ceil(total / perPage));
  const offset = (page - 1) * perPage;
  const rows = offset >= total ? [] : await orderedSelect(db, plan, null).limit(perPage).offset(offset).execute();
  return { rows: rows.map(toCustomer), total, page, perPage, lastPage };
}

/**
 * Streams every matching customer in the requested order with flat memory: batches of
 * `batchSize` rows continue from the last row's (sort key, id) instead of an OFFSET, so the last
 * batch of a million rows costs what the first does. Rows written during the walk are seen if they
 * sort after the current position. A nullable sort key (last order) is walked in two legs, the
 * dated rows and the never-ordered ones, so each leg stays a plain index range. `batchSize` is
 * 1–10,000 (default 1000); a 3+ character search always uses 10,000-row batches.
 */
export async function* iterateCustomers(
  db: Db,
  clock: Clock,
  query: Omit<CustomerListQuery, 'page' | 'perPage'>,
  options: { atRiskDays: number; batchSize?: number },
): AsyncGenerator<Customer> {
  const plan = planList(query, clock, options.atRiskDays);
  const requested = clampInteger(options.batchSize, 1000, 1, MAX_BATCH);
  // Every batch of a 3+ character search re-runs the trigram match and sorts the remaining
  // matches, O(matches) each time: over 200k matches of a million, 1000-row batches took 33 s,
  // 10,000-row batches 9 s.
  const batchSize = plan.search?.kind === 'fts' ? Math.max(requested, MAX_BATCH) : requested;
  const legs: Leg[] =
    plan.column === 'last_order_at'
      ? plan.order === 'desc'
        ? ['dated', 'undated']
        : ['undated', 'dated']
      : ['all'];
  for (const leg of legs) {
    let cursor: Cursor | null = null;
    for (;;) {
      const rows = await orderedSelect(db, plan, { leg, cursor }).limit(batchSize).execute();
      for (const row of rows) yield toCustomer(row);
      const last = rows.at(-1);
      if (!last || rows.length < batchSize) break;
      cursor = { key: last[plan.column], id: last.id };
    }
  }
}

/**
 * Customers whose name or email contains `term`, newest first, with the exact number of matches:
 * the free-text half of the lookup box.
 */
export async function searchCustomersByText(db: Db, term: string, limit = 25): Promise<{ rows: Customer[]; total: number }> {
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
  const total = await countMatching(db, plan);
  const rows = total === 0 ? [] : await orderedSelect(db, plan, null).limit(clampInteger(limit, 25, 1, MAX_PER_PAGE)).execute();
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

function planSearch(raw: string): ListPlan['search'] {
  const term = raw.trim();
  if (term === '') return null;
  const length = [...term].length;
  if (length > SEARCH_MAX_LENGTH) {
    throw new UserError('search_too_long', `A search may be at most ${SEARCH_MAX_LENGTH} characters.`);
  }
  return length >= 3 ? { kind: 'fts', phrase: ftsPhrase(term) } : { kind: 'short', term, lower: term.toLowerCase() };
}

function conditionsFor(eb: CustomersEb, plan: ListPlan): Expression<SqlBool>[] {
  const conditions: Expression<SqlBool>[] = [];
  const { search } = plan;
  if (search?.kind === 'fts') {
    conditions.push(
      eb(
        'customers.id',
        'in',
        eb
          .selectFrom('customer_search')
          .select('customer_search.rowid')
          .where(sql<string>`customer_search`, 'match', search.phrase),
      ),
    );
  } else if (search?.kind === 'short') {
    const contains = (haystack: Expression<string>, needle: string) => eb(eb.fn<number>('instr', [haystack, eb.val(needle)]), '>', 0);
    conditions.push(
      eb.or([
        contains(eb.fn<string>('lower', ['customers.name']), search.lower),
        contains(eb.ref('customers.name'), search.term),
        contains(eb.ref('customers.email_lower'), search.lower),
      ]),
    );
  }
  if (plan.emailLower !== null) conditions.push(eb('customers.email_lower', '=', plan.emailLower));
  if (plan.registeredAfter !== null) conditions.push(eb('customers.created_at', '>=', plan.registeredAfter));
  if (plan.registeredBefore !== null) conditions.push(eb('customers.created_at', '<', plan.registeredBefore));
  switch (plan.filter) {
    case 'all':
      break;
    case 'has_orders':
      conditions.push(eb('customers.orders_count', '>=', 1));
      break;
    case 'repeat':
      conditions.push(eb('customers.orders_count', '>=', 2));
      break;
    case 'loyal':
      conditions.push(eb('customers.orders_count', '>=', 5));
      break;
    case 'at_risk':
      // last_order_at is set exactly when orders_count ≥ 1, and testing it alone lets the
      // planner use its index instead of scanning the orders_count range.
      conditions.push(eb('customers.last_order_at', '<=', plan.atRiskCutoff ?? ''));
      break;
  }
  return conditions;
}

async function countMatching(db: Db, plan: ListPlan): Promise<number> {
  const row = await db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .where((eb) => eb.and(conditionsFor(eb, plan)))
    .executeTakeFirstOrThrow();
  return Number(row.total);
}

type Leg = 'all' | 'dated' | 'undated';
interface Cursor {
  key: string | number | null;
  id: number;
}

function orderedSelect(db: Db, plan: ListPlan, keyset: { leg: Leg; cursor: Cursor | null } | null) {
  const { column, order } = plan;
  const after = order === 'asc' ? '>' : '<';
  return db
    .selectFrom('customers')
    .selectAll('customers')
    .where((eb) => {
      const conditions = conditionsFor(eb, plan);
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
