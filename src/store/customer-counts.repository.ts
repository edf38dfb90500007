import { sql, type Expression, type SqlBool } from 'kysely';
import { isPostgres, type Db } from './database.js';
import type { CustomerDayKind } from './schema/index.js';
import { escapeLike } from './text-match.js';

/**
 * Counts over customers that stay cheap at a million rows: the running totals and per-day counts
 * kept by the performance migration's triggers, and the match counts of search terms.
 */

export interface StoreCounters {
  customers: number;
  /** 1+ completed orders. */
  withOrders: number;
  /** 2+ completed orders. */
  repeatCustomers: number;
  /** 5+ completed orders. */
  loyalCustomers: number;
  completedOrders: number;
  revenueCents: number;
}

export async function readStoreCounters(db: Db): Promise<StoreCounters> {
  const row = await db.selectFrom('store_counters').selectAll().where('id', '=', 1).executeTakeFirst();
  if (!row) throw new Error('store_counters has no row: the performance migration did not run');
  return {
    customers: Number(row.customers),
    withOrders: Number(row.with_orders),
    repeatCustomers: Number(row.repeat_customers),
    loyalCustomers: Number(row.loyal_customers),
    completedOrders: Number(row.completed_orders),
    revenueCents: Number(row.revenue_cents),
  };
}

export interface TimeRange {
  /** Inclusive lower bound, an ISO instant. */
  from?: string | null | undefined;
  /** Upper bound, an ISO instant; exclusive unless `toInclusive`. */
  to?: string | null | undefined;
  toInclusive?: boolean;
}

const COLUMN: Record<CustomerDayKind, 'created_at' | 'last_order_at'> = { registered: 'created_at', last_order: 'last_order_at' };

/**
 * Customers whose registration (or last completed order) falls in `range`: the whole UTC days
 * inside the range from customer_day_counts, the two partial days at its edges from the column's
 * index. Never more than two days of index entries, whatever the range.
 */
export async function countCustomersInRange(db: Db, kind: CustomerDayKind, range: TimeRange): Promise<number> {
  const column = COLUMN[kind];
  const from = range.from ?? null;
  const to = range.to ?? null;
  const upper = range.toInclusive ? '<=' : '<';
  if (from !== null && to !== null && (to < from || (to === from && !range.toInclusive))) return 0;
  const fromDay = from?.slice(0, 10) ?? null;
  const toDay = to?.slice(0, 10) ?? null;

  const countColumn = async (lower: string | null, lowerOp: '>=' | '>', upperValue: string | null, upperOp: '<' | '<='): Promise<number> => {
    let query = db.selectFrom('customers').select((eb) => eb.fn.countAll<number | string>().as('n'));
    query = lower === null ? query.where(column, 'is not', null) : query.where(column, lowerOp, lower);
    if (upperValue !== null) query = query.where(column, upperOp, upperValue);
    return Number((await query.executeTakeFirstOrThrow()).n);
  };

  if (fromDay !== null && fromDay === toDay) return countColumn(from, '>=', to, upper);

  let days = db
    .selectFrom('customer_day_counts')
    .select((eb) => eb.fn.sum<number | string | null>('customers').as('n'))
    .where('kind', '=', kind);
  if (fromDay !== null) days = days.where('day', '>', fromDay);
  if (toDay !== null) days = days.where('day', '<', toDay);
  let total = Number((await days.executeTakeFirstOrThrow()).n ?? 0);
  // The partial day at each edge: from `from` to the end of its day, from the start of `to`'s day to `to`.
  if (from !== null && fromDay !== null) total += await countColumn(from, '>=', nextDay(fromDay), '<');
  if (to !== null && toDay !== null) total += await countColumn(`${toDay}T00:00:00.000Z`, '>=', to, upper);
  return total;
}

function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00.000Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString();
}

// ---------------------------------------------------------------------------------------------
// Search terms

/**
 * ASCII case folding as both SQLite search indexes fold an ASCII term: ASCII letters to lower
 * case, plus the only two letters Unicode folds into ASCII (Kelvin sign, long s). For an ASCII
 * term, instr() over text folded this way means exactly what a match in either index means, so a
 * scan of the table and an index always agree on who matches; it is also how watched terms are
 * counted. A term with other letters is only ever matched through an index.
 */
export function foldForSearch(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase()).replaceAll('\u212A', 'k').replaceAll('\u017F', 's');
}

/** The SQL twin of {@link foldForSearch}, for a column. */
export function foldedColumn(column: 'customers.name' | 'customers.email') {
  return sql<string>`replace(replace(lower(${sql.ref(column)}), ${'\u212A'}, 'k'), ${'\u017F'}, 's')`;
}

/**
 * The FTS5 query over customer_grams for a 1–2 character term, as typed: the index's tokenizer
 * folds it as it folded the names and emails. A pair is one token; a single character is the
 * first character of a token. Quoted, so every character is literal.
 */
export function gramQuery(term: string): string {
  const phrase = `"${term.replaceAll('"', '""')}"`;
  return [...term].length === 1 ? `${phrase}*` : phrase;
}

/** Customers whose name or email contains the 1–2 character `term`, case folded. */
export async function countGramMatches(db: Db, term: string): Promise<number> {
  if (isPostgres(db)) return countPostgresMatches(db, postgresGramMatch(term));
  const row = await db
    .selectFrom('customer_grams')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where(sql<string>`customer_grams`, 'match', gramQuery(term))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Customers matching an FTS5 trigram phrase over name and email. */
export async function countTrigramMatches(db: Db, phrase: string): Promise<number> {
  if (isPostgres(db)) return countPostgresMatches(db, postgresTextMatch(phraseText(phrase)));
  const row = await db
    .selectFrom('customer_search')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where(sql<string>`customer_search`, 'match', phrase)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL search: pg_trgm GIN indexes over the folded name and email (initial migration)

/**
 * What the PostgreSQL search indexes are built on. It must be spelled exactly as the migration
 * spells it (migrations/dialect.ts, postgresSearchFold), or the planner cannot use them.
 */
function postgresFolded(column: 'customers.name' | 'customers.email') {
  return sql<string>`lower(replace(replace(${sql.ref(column)}, '\u212A', 'k'), '\u017F', 's') COLLATE "und-x-icu")`;
}

/** The literal text an FTS5 phrase from ftsPhrase() stands for. */
function phraseText(phrase: string): string {
  return phrase.slice(1, -1).replaceAll('""', '"');
}

/**
 * A substring match over the folded name and email: case is folded across Unicode, as SQLite's
 * search indexes fold it. The planner chooses between the pg_trgm indexes
 * and a scan itself, so one condition serves every search mode.
 */
function postgresTextMatch(term: string): Expression<SqlBool> {
  // Folded here rather than in SQL: a pattern computed in the query (a COLLATE on it) keeps the
  // planner from using the indexes. JavaScript's lower-casing is Unicode's, as ICU's is.
  const patterns = sigmaSpellings(foldForSearch(term).toLowerCase()).map((text) => `%${escapeLike(text)}%`);
  return sql<SqlBool>`(${sql.join(
    patterns.flatMap((pattern) => [sql`${postgresFolded('customers.name')} LIKE ${pattern}`, sql`${postgresFolded('customers.email')} LIKE ${pattern}`]),
    sql` OR `,
  )})`;
}

/** Word-final sigmas in a term beyond this many are matched as written. */
const MAX_VARIED_SIGMAS = 3;

/**
 * The spellings of a lower-cased term that lower-cased text may hold. Lower-casing writes a
 * capital sigma at the end of a word as ς and elsewhere as σ (SQLite's indexes fold both to σ), so
 * a σ or ς that ends the term or comes before a non-letter may be either there; inside a word it
 * is σ.
 */
function sigmaSpellings(lowered: string): string[] {
  const chars = [...lowered.replaceAll('ς', 'σ')];
  const finals = chars.flatMap((c, i) => (c === 'σ' && !/\p{L}/u.test(chars[i + 1] ?? '') ? [i] : [])).slice(0, MAX_VARIED_SIGMAS);
  let spellings = [chars];
  for (const i of finals) spellings = spellings.flatMap((s) => [s, s.map((c, j) => (j === i ? 'ς' : c))]);
  return spellings.map((s) => s.join(''));
}

/**
 * PostgreSQL's condition for a search as the customer list plans it: a 1–2 character term or an
 * FTS5 phrase. For `customers` rows.
 */
export function postgresSearchCondition(search: { kind: 'gram'; term: string } | { kind: 'trigram'; phrase: string }): Expression<SqlBool> {
  return search.kind === 'gram' ? postgresGramMatch(search.term) : postgresTextMatch(phraseText(search.phrase));
}

/**
 * A 1–2 character term, which no index helps: the planner scans. An ASCII term is found by
 * strpos() over the ASCII-folded text, which means the same for it and costs half of lowering
 * every name and email with ICU; any other term is matched over the ICU-lowered text, so case
 * folds in every script.
 */
function postgresGramMatch(term: string): Expression<SqlBool> {
  // eslint-disable-next-line no-control-regex
  if (!/^[\u0000-\u007f]*$/.test(term)) return postgresTextMatch(term);
  const folded = foldForSearch(term);
  return sql<SqlBool>`(strpos(${foldedColumn('customers.name')}, ${folded}) > 0 OR strpos(${foldedColumn('customers.email')}, ${folded}) > 0)`;
}

/** PostgreSQL: ids of customers whose name or email contains `term`, highest id first. */
export async function findPostgresTextMatchIds(db: Db, term: string, limit: number): Promise<number[]> {
  const rows = await db.selectFrom('customers').select('id').where(postgresTextMatch(term)).orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => r.id);
}

async function countPostgresMatches(db: Db, condition: Expression<SqlBool>): Promise<number> {
  const row = await db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where(condition)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The maintained count of a watched term, if it is watched. */
export async function findWatchedTermCount(db: Db, folded: string): Promise<number | undefined> {
  const row = await db.selectFrom('search_term_counts').select('customers').where('term', '=', folded).executeTakeFirst();
  return row === undefined ? undefined : Number(row.customers);
}

/** Every write to customers pays a little for each watched term: the list stays short. */
export const MAX_WATCHED_TERMS = 128;

/**
 * Starts maintaining the count of `folded`, seeded with `count`, which the caller computed in the
 * same transaction (so no write slipped in between). Beyond {@link MAX_WATCHED_TERMS} the term
 * watched the longest is dropped. Call inside a transaction.
 */
export async function watchTerm(trx: Db, folded: string, count: number, today: string): Promise<void> {
  await trx
    .insertInto('search_term_counts')
    .values({ term: folded, customers: count, used_on: today })
    .onConflict((oc) => oc.column('term').doNothing())
    .execute();
  const excess = await trx
    .selectFrom('search_term_counts')
    .select('term')
    .orderBy('used_on', 'desc')
    .orderBy('term')
    .offset(MAX_WATCHED_TERMS)
    .limit(1_000)
    .execute();
  if (excess.length > 0) {
    await trx
      .deleteFrom('search_term_counts')
      .where(
        'term',
        'in',
        excess.map((r) => r.term),
      )
      .execute();
  }
}

/** Marks a watched term as used today (at most one write per term and day). */
export async function touchWatchedTerm(db: Db, folded: string, today: string): Promise<void> {
  await db.updateTable('search_term_counts').set({ used_on: today }).where('term', '=', folded).where('used_on', '<', today).execute();
}

/** Every watched term, for a recount after the customers were copied in without their triggers. */
export async function listWatchedTerms(db: Db): Promise<string[]> {
  return (await db.selectFrom('search_term_counts').select('term').execute()).map((r) => r.term);
}

export async function setWatchedTermCount(db: Db, term: string, customers: number): Promise<void> {
  await db.updateTable('search_term_counts').set({ customers }).where('term', '=', term).execute();
}
