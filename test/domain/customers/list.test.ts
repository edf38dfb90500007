import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/shared/clock.js';
import { iterateCustomers, listCustomers, searchCustomersByText } from '../../../src/domain/customers/list.js';
import type { Customer, CustomerFilter, CustomerListQuery, CustomerSort, SortOrder } from '../../../src/domain/customers/types.js';
import { insertCustomer, insertCustomers } from '../../../src/domain/customers/registration.js';
import type { Db } from '../../../src/store/database.js';
import { onPostgres } from '../../support/database.js';
import type { ModelCustomer } from '../../support/api-customer-fixture.js';
import { useTestContext } from '../../support/context.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date('2026-11-22T12:00:00.000Z');
const AT_RISK = { atRiskDays: 90 };

type Model = ModelCustomer;

// Ties on purpose (same name, same registration time, same counts and last order) so the id
// tie-breaker is exercised, plus characters that mean something to LIKE, FTS5 or SQL quoting.
const FIXTURE: Array<Omit<Model, 'id'>> = [
  ['Alice Smith', 'alice.smith@example.com', 400, 0, 0, null],
  ['alice lowercase', 'ALICE.LOWER@Example.org', 380, 1, 999, 10],
  ['Alicia Keys', 'keys@music.example', 360, 2, 2000, 89.99],
  ['Bob Stone', 'bob@example.com', 340, 5, 5000, 90],
  ['Sam Lee', 'sam1@example.com', 320, 3, 3000, 120],
  ['Sam Lee', 'sam2@example.com', 320, 3, 3000, 120],
  ['Sam Lee', 'sam3@example.com', 320, 0, 0, null],
  ['100% Real', 'percent@example.com', 300, 1, 500, 200],
  ['under_score', 'under_score@example.com', 280, 2, 1500, 5],
  ['Quote "Q" Person', 'quote@example.com', 260, 6, 9000, 95],
  ["Kai O'Brien", 'kai.obrien@example.net', 240, 7, 12000, 1],
  ['Zed Zero', 'zed@zero.example', 220, 0, 0, null],
  ['Émile Zola', 'emile@example.fr', 200, 4, 4000, 300],
  ['Nora Müller', 'nora@example.de', 180, 1, 1000, 91],
  ['Grace Hopper', 'grace@navy.example', 160, 5, 7000, 2],
  ['grace hopper', 'grace2@navy.example', 140, 2, 1000, 30],
  ['Xavier Alvarez', 'xa@example.com', 120, 8, 16000, 400],
  ['Yuki Tanaka', 'yuki@example.jp', 100, 1, 1500, 90],
  ['Li', 'li@example.cn', 80, 0, 0, null],
  ['Al', 'al@example.com', 60, 3, 3000, 100],
  ['Percy 50%off', 'p_50@example.com', 40, 1, 100, 20],
  ['Hannah Ali', 'hannah@example.com', 20, 5, 5000, 89],
  ['New Person', 'new@example.com', 1, 0, 0, null],
  ['Tie Last', 'tie1@example.com', 50, 2, 2000, 120],
].map(([name, email, registeredDaysAgo, orders, spent, lastOrderDaysAgo]) => ({
  name: name as string,
  email: email as string,
  createdAt: new Date(NOW.getTime() - (registeredDaysAgo as number) * DAY).toISOString(),
  ordersCount: orders as number,
  totalSpentCents: spent as number,
  lastOrderAt: lastOrderDaysAgo === null ? null : new Date(NOW.getTime() - (lastOrderDaysAgo as number) * DAY).toISOString(),
}));

let db: Db;
let clock: ManualClock;
let models: Model[];

useTestContext({ now: NOW }, async (context) => {
  ({ db, clock } = context);
  models = [];
  for (const m of FIXTURE) {
    const c = await insertCustomer(db, clock, { name: m.name, email: m.email, createdAt: m.createdAt });
    // The list reads only the stored aggregates (orders.test.ts covers how they are kept).
    await db
      .updateTable('customers')
      .set({ orders_count: m.ordersCount, total_spent_cents: m.totalSpentCents, last_order_at: m.lastOrderAt, first_order_at: m.lastOrderAt })
      .where('id', '=', c.id)
      .execute();
    models.push({ ...m, id: c.id });
  }
});

// A plain model of the same rules, to compare the SQL against.
const SORT_KEYS: Record<CustomerSort, [(m: Model) => string | number | null, SortOrder]> = {
  newest: [(m) => m.createdAt, 'desc'],
  oldest: [(m) => m.createdAt, 'asc'],
  name: [(m) => m.name, 'asc'],
  email: [(m) => m.email.toLowerCase(), 'asc'],
  most_orders: [(m) => m.ordersCount, 'desc'],
  highest_spending: [(m) => m.totalSpentCents, 'desc'],
  last_order: [(m) => m.lastOrderAt, 'desc'],
};

function modelList(query: CustomerListQuery): number[] {
  const cutoff = new Date(NOW.getTime() - 90 * DAY).toISOString();
  const term = query.search?.trim().toLowerCase();
  const matches = (m: Model): boolean => {
    if (term && !m.name.toLowerCase().includes(term) && !m.email.toLowerCase().includes(term)) return false;
    if (query.email && m.email.toLowerCase() !== query.email.trim().toLowerCase()) return false;
    if (query.registeredAfter && m.createdAt < query.registeredAfter) return false;
    if (query.registeredBefore && m.createdAt >= query.registeredBefore) return false;
    switch (query.filter ?? 'all') {
      case 'all':
        return true;
      case 'has_orders':
        return m.ordersCount >= 1;
      case 'repeat':
        return m.ordersCount >= 2;
      case 'loyal':
        return m.ordersCount >= 5;
      case 'at_risk':
        return m.ordersCount >= 1 && m.lastOrderAt !== null && m.lastOrderAt <= cutoff;
    }
  };
  const [key, natural] = SORT_KEYS[query.sort ?? 'newest'];
  const direction = (query.sortOrder ?? natural) === 'asc' ? 1 : -1;
  // NULL sorts lowest: last in a descending list, first in an ascending one.
  const compare = (a: Model, b: Model): number => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== kb) {
      if (ka === null) return -direction;
      if (kb === null) return direction;
      return (ka < kb ? -1 : 1) * direction;
    }
    return (a.id - b.id) * direction;
  };
  return models.filter(matches).sort(compare).map((m) => m.id);
}

async function collect(iterable: AsyncIterable<Customer>): Promise<number[]> {
  const ids: number[] = [];
  for await (const c of iterable) ids.push(c.id);
  return ids;
}

const FILTERS: CustomerFilter[] = ['all', 'has_orders', 'repeat', 'loyal', 'at_risk'];
const SORTS: CustomerSort[] = ['newest', 'oldest', 'name', 'email', 'most_orders', 'highest_spending', 'last_order'];
const ORDERS: Array<SortOrder | undefined> = [undefined, 'asc', 'desc'];
const SEARCHES: Array<string | undefined> = [undefined, 'ali', 'ALICE', 'a', 'al', 'example.org', 'sam lee', 'zz', '%', '_', '"', "'", '50%', 'o_b', 'Ü', 'ü', 'ÉM'];

describe('listing customers', () => {
  it('matches a plain model for every filter, sort, direction and search', async () => {
    let compared = 0;
    for (const filter of FILTERS) {
      for (const sort of SORTS) {
        for (const sortOrder of ORDERS) {
          for (const search of SEARCHES) {
            const query: CustomerListQuery = { filter, sort, sortOrder, search, perPage: 100 };
            const expected = modelList(query);
            const page = await listCustomers(db, clock, query, AT_RISK);
            const label = JSON.stringify(query);
            expect(page.rows.map((c) => c.id), label).toEqual(expected);
            expect(page.total, label).toBe(expected.length);
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(FILTERS.length * SORTS.length * ORDERS.length * SEARCHES.length);
  });

  it('finds each kind of customer the filters describe', async () => {
    const ids = async (filter: CustomerFilter) => (await listCustomers(db, clock, { filter, perPage: 100 }, AT_RISK)).rows.map((c) => c.name);
    expect(await ids('loyal')).toEqual(['Hannah Ali', 'Xavier Alvarez', 'Grace Hopper', "Kai O'Brien", 'Quote "Q" Person', 'Bob Stone']);
    // Exactly 90 days since the last order is at risk; 89.99 days is not.
    expect(await ids('at_risk')).toContain('Bob Stone');
    expect(await ids('at_risk')).not.toContain('Alicia Keys');
  });

  it('treats LIKE and FTS5 syntax in a search as plain characters', async () => {
    const names = async (search: string) => (await listCustomers(db, clock, { search, sort: 'name', perPage: 100 }, AT_RISK)).rows.map((c) => c.name);
    expect(await names('%')).toEqual(['100% Real', 'Percy 50%off']);
    expect(await names('_')).toEqual(['under_score', 'Percy 50%off'].sort());
    expect(await names('"Q"')).toEqual(['Quote "Q" Person']);
    expect(await names("O'B")).toEqual(["Kai O'Brien"]);
    expect(await names('a OR b')).toEqual([]);
    expect(await names('NEAR(')).toEqual([]);
    expect(await names('*')).toEqual([]);
  });

  it('searches names case-insensitively beyond ASCII with three or more characters', async () => {
    const names = async (search: string) => (await listCustomers(db, clock, { search, perPage: 100 }, AT_RISK)).rows.map((c) => c.name);
    expect(await names('émile')).toEqual(['Émile Zola']);
    expect(await names('ÉMILE')).toEqual(['Émile Zola']);
    expect(await names('MÜLLER')).toEqual(['Nora Müller']);
    expect(await names('É')).toEqual(['Émile Zola']);
    // Two code points, three UTF-16 units: still a short term, not an empty trigram query.
    await insertCustomer(db, clock, { name: 'Emoji 😀x Fan', email: 'emoji@example.com' });
    expect(await names('😀x')).toEqual(['Emoji 😀x Fan']);
  });

  it('folds case in every script whatever the length of the term', async () => {
    await insertCustomer(db, clock, { name: 'Δήμητρα Παππά', email: 'dimitra@example.gr' });
    await insertCustomer(db, clock, { name: 'Анна Иванова', email: 'anna@example.ru' });
    await insertCustomer(db, clock, { name: 'Jürgen Weiß', email: 'JÜRGEN@Example.de' });
    await insertCustomer(db, clock, { name: 'ΓΙΏΡΓΟΣ ΜΠΟΥΡΛΟΥΛΟΣ', email: 'giorgos@example.gr' });
    const names = async (search: string) =>
      (await listCustomers(db, clock, { search, sort: 'name', perPage: 100 }, AT_RISK)).rows.map((c) => c.name);
    const cases: Array<[lower: string, upper: string, names: string[]]> = [
      ['ü', 'Ü', ['Jürgen Weiß', 'Nora Müller']],
      ['ül', 'ÜL', ['Nora Müller']],
      ['jü', 'JÜ', ['Jürgen Weiß']],
      ['é', 'É', ['Émile Zola']],
      ['δ', 'Δ', ['Δήμητρα Παππά']],
      ['πά', 'ΠΆ', ['Δήμητρα Παππά']],
      ['а', 'А', ['Анна Иванова']],
      ['ив', 'ИВ', ['Анна Иванова']],
      ['иванова', 'ИВАНОВА', ['Анна Иванова']],
      // A capital sigma lower-cases to ς at the end of a word and to σ elsewhere: both are σ here.
      ['σ', 'Σ', ['ΓΙΏΡΓΟΣ ΜΠΟΥΡΛΟΥΛΟΣ']],
      ['ος', 'ΟΣ', ['ΓΙΏΡΓΟΣ ΜΠΟΥΡΛΟΥΛΟΣ']],
      ['ουλοσ', 'ΟΥΛΟΣ', ['ΓΙΏΡΓΟΣ ΜΠΟΥΡΛΟΥΛΟΣ']],
      ['ος μπ', 'ΟΣ ΜΠ', ['ΓΙΏΡΓΟΣ ΜΠΟΥΡΛΟΥΛΟΣ']],
      ['ουλος', 'ΟΥΛΟς', ['ΓΙΏΡΓΟΣ ΜΠΟΥΡΛΟΥΛΟΣ']],
    ];
    for (const [lower, upper, expected] of cases) {
      expect(await names(lower), lower).toEqual(expected);
      expect(await names(upper), upper).toEqual(expected);
      expect((await searchCustomersByText(db, upper)).total, upper).toBe(expected.length);
    }
  });

  it('filters by exact email in any case and by registration range', async () => {
    const byEmail = await listCustomers(db, clock, { email: ' Alice.Lower@EXAMPLE.org ' }, AT_RISK);
    expect(byEmail.rows.map((c) => c.name)).toEqual(['alice lowercase']);
    expect((await listCustomers(db, clock, { email: 'alice.lower@example' }, AT_RISK)).total).toBe(0);

    const boundary = new Date(NOW.getTime() - 320 * DAY).toISOString();
    const after = await listCustomers(db, clock, { registeredAfter: boundary, perPage: 100 }, AT_RISK);
    const before = await listCustomers(db, clock, { registeredBefore: boundary, perPage: 100 }, AT_RISK);
    expect(after.rows.filter((c) => c.name === 'Sam Lee')).toHaveLength(3);
    expect(before.rows.filter((c) => c.name === 'Sam Lee')).toHaveLength(0);
    expect(after.total + before.total).toBe(models.length);
    expect(after.rows.map((c) => c.id)).toEqual(modelList({ registeredAfter: boundary }));
  });

  it('pages with an exact total and a last page of at least one', async () => {
    const all = modelList({});
    const page2 = await listCustomers(db, clock, { page: 2, perPage: 7 }, AT_RISK);
    expect(page2).toMatchObject({ page: 2, perPage: 7, total: all.length, lastPage: Math.ceil(all.length / 7) });
    expect(page2.rows.map((c) => c.id)).toEqual(all.slice(7, 14));

    const defaults = await listCustomers(db, clock, {}, AT_RISK);
    expect(defaults).toMatchObject({ page: 1, perPage: 15 });
    expect(defaults.rows).toHaveLength(15);

    expect(await listCustomers(db, clock, { perPage: 1000 }, AT_RISK)).toMatchObject({ perPage: 100 });
    expect(await listCustomers(db, clock, { perPage: 0, page: -3 }, AT_RISK)).toMatchObject({ perPage: 1, page: 1 });
    expect(await listCustomers(db, clock, { page: 99 }, AT_RISK)).toMatchObject({ rows: [], page: 99, total: all.length });
    expect(await listCustomers(db, clock, { search: 'nobody-at-all' }, AT_RISK)).toMatchObject({ rows: [], total: 0, lastPage: 1 });
  });

  it('refuses an unknown filter or sort and an overlong search', async () => {
    await expect(listCustomers(db, clock, { sort: 'random' as CustomerSort }, AT_RISK)).rejects.toMatchObject({ code: 'sort_invalid' });
    await expect(listCustomers(db, clock, { filter: 'vip' as CustomerFilter }, AT_RISK)).rejects.toMatchObject({ code: 'filter_invalid' });
    await expect(listCustomers(db, clock, { sort: 'toString' as CustomerSort }, AT_RISK)).rejects.toMatchObject({ code: 'sort_invalid' });
    await expect(listCustomers(db, clock, { search: 'x'.repeat(201) }, AT_RISK)).rejects.toMatchObject({ code: 'search_too_long' });
    for (const search of ['\u0000', 'a\u0000', 'abc\u0000def']) {
      await expect(listCustomers(db, clock, { search }, AT_RISK), JSON.stringify(search)).rejects.toMatchObject({ code: 'search_invalid' });
      await expect(searchCustomersByText(db, search), JSON.stringify(search)).rejects.toMatchObject({ code: 'search_invalid' });
    }
  });
});

describe('the search index', () => {
  it('follows a change of name or email and forgets a deleted customer', async () => {
    const zed = models.find((m) => m.name === 'Zed Zero');
    if (!zed) throw new Error('fixture changed');
    const search = async (term: string) => (await searchCustomersByText(db, term)).rows.map((c) => c.id);

    expect(await search('Zed Z')).toEqual([zed.id]);
    await db.updateTable('customers').set({ name: 'Zachary Quill' }).where('id', '=', zed.id).execute();
    expect(await search('Zed Z')).toEqual([]);
    expect(await search('quill')).toEqual([zed.id]);

    await db.updateTable('customers').set({ email: 'zq@fresh.example', email_lower: 'zq@fresh.example' }).where('id', '=', zed.id).execute();
    expect(await search('zero.example')).toEqual([]);
    expect(await search('fresh.exa')).toEqual([zed.id]);

    await db.deleteFrom('customers').where('id', '=', zed.id).execute();
    expect(await search('quill')).toEqual([]);
    expect(await search('fresh.exa')).toEqual([]);
    // The index must still agree with its content table (FTS5's own consistency check; PostgreSQL
    // indexes have no separate content to drift).
    if (!onPostgres) {
      await expect(sql`INSERT INTO customer_search(customer_search, rank) VALUES ('integrity-check', 1)`.execute(db)).resolves.toBeDefined();
    }
  });
});

describe('iterating customers', () => {
  it('yields every match exactly once, in order, across batch boundaries', async () => {
    for (const filter of FILTERS) {
      for (const sort of SORTS) {
        for (const sortOrder of ORDERS) {
          for (const search of [undefined, 'a', 'example', 'Ü']) {
            const query = { filter, sort, sortOrder, search };
            const ids = await collect(iterateCustomers(db, clock, query, { ...AT_RISK, batchSize: 3 }));
            expect(ids, JSON.stringify(query)).toEqual(modelList(query));
          }
        }
      }
    }
  });

  it('streams thousands of rows in batches without skipping or repeating', async () => {
    const inputs = Array.from({ length: 2500 }, (_, i) => ({
      name: `Bulk ${i % 50}`,
      email: `bulk${i}@example.com`,
      createdAt: new Date(NOW.getTime() - (i % 97) * DAY).toISOString(),
    }));
    await insertCustomers(db, clock, inputs);
    for (const sort of ['newest', 'name', 'last_order'] as const) {
      const ids = await collect(iterateCustomers(db, clock, { sort }, { ...AT_RISK, batchSize: 1000 }));
      expect(ids).toHaveLength(2500 + models.length);
      expect(new Set(ids).size).toBe(ids.length);
      const listed = await listCustomers(db, clock, { sort, perPage: 100, page: 13 }, AT_RISK);
      expect(ids.slice(1200, 1300)).toEqual(listed.rows.map((c) => c.id));
    }
  });
});
