import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listActivity } from '../../src/domain/customers/activity-log.js';
import { API_SCOPES, type ApiScope } from '../../src/domain/api-access/tokens.js';
import { createBan } from '../../src/domain/bans/bans.js';
import { GENERIC_REFUSAL } from '../../src/shared/errors.js';
import { createWebhookEndpoint } from '../../src/domain/webhooks/endpoints.js';
import { hashPassword, verifyPassword } from '../../src/domain/customers/passwords.js';
import type { BanType } from '../../src/domain/customers/types.js';
import { customerDetailSchema, customerSummarySchema } from '../../src/http/routes/api-customers.js';
import { buildFixtureStore, ordersEndingAt, type FixtureCustomerSpec, type FixtureStore, type ModelCustomer } from '../support/api-customer-fixture.js';
import { startApiTestApp, type ApiTestApp } from '../support/api-app.js';

const BASE = '/api/external/v1';
const NOW = '2026-11-22T12:00:00.000Z';
const DAY = 86_400_000;
const staff = { id: '111111111111111111', name: 'Sam' };
const PASSWORD = 'correct horse battery staple';
const STORED_IPS = ['81.2.69.160', '2a00:1450:4001:82b::200e', '5.9.0.1'];

// The seed's examples, copied from the API guide, for key-by-key comparison.
const SEED_LIST_ITEM = {
  id: 45,
  name: 'PlayerOne',
  email: 'player@example.com',
  orders_count: 12,
  support_tickets_count: 2,
  created_at: '2025-01-10T08:00:00Z',
  updated_at: '2025-01-20T14:30:00Z',
};
const SEED_DETAIL = {
  id: 45,
  name: 'PlayerOne',
  email: 'player@example.com',
  orders_count: 12,
  support_tickets_count: 2,
  orders: [{ id: 123, order_number: 'ORD-2025-00123', total: '29.99', status: 'completed', created_at: '2025-01-20T14:30:00Z' }],
  statistics: { total_spent: '359.88', total_orders: 12, average_order_value: '29.99', last_order_date: '2025-01-20T14:30:00Z' },
  created_at: '2025-01-10T08:00:00Z',
  updated_at: '2025-01-20T14:30:00Z',
};
const LIST_EXTRAS = ['country', 'total_spent', 'last_order_at', 'discord_username', 'steam_username'];
const DETAIL_EXTRAS = ['country', 'game_user_id', 'discord', 'steam', 'referral_code', 'referred_by', 'metadata'];

let passwordHash: string;
beforeAll(async () => {
  passwordHash = await hashPassword('hunter2hunter2');
});

function storeSpecs(): Record<string, FixtureCustomerSpec> {
  return {
    playerOne: {
      name: 'PlayerOne',
      email: 'player@example.com',
      createdAt: '2025-01-10T08:00:00Z',
      supportTicketsCount: 2,
      discord: { id: '123456789012345678', username: 'player_one', avatar: 'a_1234' },
      passwordHash,
      lastIp: '81.2.69.160',
      orders: ordersEndingAt('2025-01-20T14:30:00Z', 12, 2999),
    },
    alice: {
      name: 'Alice Johnson',
      email: 'alice@example.com',
      createdAt: '2026-03-01T10:00:00Z',
      country: 'GB',
      steam: { id: '76561198000000042', username: 'AliceJ' },
      gameUserId: 'AliceInGame',
      metadata: { tier: 'gold' },
      lastIp: '2a00:1450:4001:82b::200e',
      orders: [
        { at: '2026-10-01T12:00:00Z', cents: 2999 },
        { at: '2026-11-01T12:00:00Z', cents: 1499 },
        { at: '2026-11-10T12:00:00Z', cents: 999, status: 'refunded' },
      ],
    },
    bob: { name: 'Bob Builder', email: 'bob@builder.example', createdAt: '2024-01-01T10:00:00Z', country: 'US', orders: ordersEndingAt('2026-05-15T12:00:00Z', 5, 1000) },
    aliceMoreau: { name: 'alice moreau', email: 'AMoreau@Example.fr', createdAt: '2026-06-01T10:00:00Z', country: 'FR', lastIp: '5.9.0.1' },
    dora: { name: 'Dora Mant', email: 'dora@example.com', createdAt: '2024-02-01T10:00:00Z', orders: [{ at: '2026-05-06T12:00:00Z', cents: 500 }] },
    zed: { name: 'Zed Zero', email: 'zed@zero.example', createdAt: '2026-11-20T23:30:00Z' },
    quote: { name: `Quote "Q" O'Brien`, email: 'quote@example.com', createdAt: '2026-11-21T00:00:00Z', orders: [{ at: '2026-11-21T09:00:00Z', cents: 700, status: 'pending' }] },
    sam1: { name: 'Sam Lee', email: 'sam1@example.com', createdAt: '2025-06-15T12:00:00Z', orders: ordersEndingAt('2026-11-01T12:00:00Z', 3, 1000) },
    sam2: { name: 'Sam Lee', email: 'sam2@example.com', createdAt: '2025-06-15T12:00:00Z', orders: ordersEndingAt('2026-11-01T12:00:00Z', 3, 1000) },
    percent: {
      name: '100% Real',
      email: 'percent@example.com',
      createdAt: '2025-09-09T09:09:09Z',
      orders: [
        { at: '2026-09-29T12:00:00Z', cents: 4999, status: 'paid' },
        { at: '2026-09-30T12:00:00Z', cents: 4999, status: 'paid' },
      ],
    },
    grace: { name: 'Grace Hopper', email: 'grace@navy.example', createdAt: '2025-12-31T23:59:59.999Z', orders: ordersEndingAt('2026-11-20T12:00:00Z', 6, 2500) },
    li: { name: 'Li', email: 'li@example.cn', createdAt: '2026-01-01T00:00:00Z', orders: [{ at: '2026-11-21T12:00:00Z', cents: 100_000 }] },
  };
}

let t: ApiTestApp;
let store: FixtureStore;
/** Every response body this file received: none may hold a password hash, an IP or a token. */
const bodies: string[] = [];
let readAll: string;

beforeEach(async () => {
  t = await startApiTestApp();
  store = await buildFixtureStore(t.db, t.clock, storeSpecs());
  readAll = await t.bearer(['customers:read'], { rateLimitPerMinute: 10_000 });
});
afterEach(async () => {
  await t.close();
});

type Method = 'GET' | 'POST' | 'PATCH';

async function api(method: Method, path: string, authorization?: string, payload?: unknown) {
  const response = await t.app.inject({
    method,
    url: BASE + path,
    headers: authorization === undefined ? {} : { authorization },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  bodies.push(response.body);
  return response;
}

async function writer() {
  return t.bearer(['customers:write'], { rateLimitPerMinute: 10_000 });
}

function id(key: string): number {
  const customer = store.customers[key];
  if (!customer) throw new Error(`no fixture customer ${key}`);
  return customer.id;
}

async function customerCount(): Promise<number> {
  const row = await t.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

// ---------------------------------------------------------------------------------------------

describe('authentication and scopes on every customer route', () => {
  interface RouteCase {
    method: Method;
    path: () => string;
    scope: ApiScope;
    body?: () => Record<string, unknown>;
    success: number;
  }
  const routes: RouteCase[] = [
    { method: 'GET', path: () => '/customers', scope: 'customers:read', success: 200 },
    { method: 'GET', path: () => `/customers/${id('alice')}`, scope: 'customers:read', success: 200 },
    { method: 'POST', path: () => '/customers', scope: 'customers:write', body: () => ({ name: 'New', email: 'new@example.com' }), success: 201 },
    { method: 'PATCH', path: () => `/customers/${id('alice')}`, scope: 'customers:write', body: () => ({ name: 'Alice J.' }), success: 200 },
    { method: 'POST', path: () => '/checkout/check', scope: 'customers:read', body: () => ({ email: 'x@example.com' }), success: 200 },
  ];
  const unauthorized = { success: false, error: 'Unauthorized', message: 'Invalid or missing API token' };

  describe.each(routes)('$method $scope', (route) => {
    it('refuses a request without a token with the 401 envelope', async () => {
      const response = await api(route.method, route.path(), undefined, route.body?.());
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual(unauthorized);
    });

    it('refuses a token nobody issued with the 401 envelope', async () => {
      const response = await api(route.method, route.path(), `Bearer cdk_${'x'.repeat(43)}`, route.body?.());
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual(unauthorized);
    });

    it('refuses a token with every other scope with the 403 envelope, changing nothing', async () => {
      const before = await customerCount();
      const other = await t.bearer(API_SCOPES.filter((s) => s !== route.scope));
      const response = await api(route.method, route.path(), other, route.body?.());
      expect(response.statusCode).toBe(403);
      expect(response.json()).toEqual({ success: false, error: 'Forbidden', message: `Token does not have the required scope: ${route.scope}` });
      expect(await customerCount()).toBe(before);
    });

    it('serves a token with the scope, with the rate-limit headers', async () => {
      const response = await api(route.method, route.path(), await t.bearer([route.scope]), route.body?.());
      expect(response.statusCode).toBe(route.success);
      expect(response.json()).toMatchObject({ success: true });
      expect(response.headers['x-ratelimit-limit']).toBe('60');
      expect(response.headers['x-ratelimit-remaining']).toBe('59');
    });
  });
});

// ---------------------------------------------------------------------------------------------

interface ListModelQuery {
  search?: string;
  email?: string;
  after?: string;
  before?: string;
  filter?: 'all' | 'has_orders' | 'repeat' | 'loyal' | 'at_risk';
  sortBy?: 'created_at' | 'name' | 'email' | 'orders_count' | 'total_spent' | 'last_order_at';
  sortOrder?: 'asc' | 'desc';
}

/** What GET /customers should answer, worked out over the fixture in plain JavaScript. */
function modelIds(model: readonly ModelCustomer[], q: ListModelQuery): number[] {
  const cutoff = new Date(Date.parse(NOW) - 90 * DAY).toISOString();
  const term = q.search?.trim().toLowerCase();
  const rows = model.filter((c) => {
    if (term && !c.name.toLowerCase().includes(term) && !c.email.toLowerCase().includes(term)) return false;
    if (q.email !== undefined && c.email.toLowerCase() !== q.email.trim().toLowerCase()) return false;
    if (q.after !== undefined && c.createdAt < q.after) return false;
    if (q.before !== undefined && c.createdAt >= q.before) return false;
    switch (q.filter ?? 'all') {
      case 'all':
        return true;
      case 'has_orders':
        return c.ordersCount >= 1;
      case 'repeat':
        return c.ordersCount >= 2;
      case 'loyal':
        return c.ordersCount >= 5;
      case 'at_risk':
        return c.ordersCount >= 1 && c.lastOrderAt !== null && c.lastOrderAt <= cutoff;
    }
  });
  const sortBy = q.sortBy ?? 'created_at';
  const natural = sortBy === 'name' || sortBy === 'email' ? 'asc' : 'desc';
  const direction = (q.sortOrder ?? natural) === 'asc' ? 1 : -1;
  const key = (c: ModelCustomer): string | number => {
    switch (sortBy) {
      case 'created_at':
        return c.createdAt;
      case 'name':
        return c.name;
      case 'email':
        return c.email.toLowerCase();
      case 'orders_count':
        return c.ordersCount;
      case 'total_spent':
        return c.totalSpentCents;
      case 'last_order_at':
        // Never ordered sorts below every date: last when descending, first when ascending.
        return c.lastOrderAt ?? '';
    }
  };
  return rows
    .sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      if (ka !== kb) return (ka < kb ? -1 : 1) * direction;
      return (a.id - b.id) * direction;
    })
    .map((c) => c.id);
}

function listQuery(q: ListModelQuery & { page?: number; perPage?: number }): string {
  const params = new URLSearchParams();
  if (q.search !== undefined) params.set('search', q.search);
  if (q.email !== undefined) params.set('email', q.email);
  if (q.filter !== undefined) params.set('filter', q.filter);
  if (q.sortBy !== undefined) params.set('sort_by', q.sortBy);
  if (q.sortOrder !== undefined) params.set('sort_order', q.sortOrder);
  if (q.page !== undefined) params.set('page', String(q.page));
  if (q.perPage !== undefined) params.set('per_page', String(q.perPage));
  const text = params.toString();
  return `/customers${text ? `?${text}` : ''}`;
}

interface ListBody {
  success: true;
  data: Array<Record<string, unknown> & { id: number }>;
  meta: { current_page: number; last_page: number; per_page: number; total: number };
}

/** Pages through a list query, checking each page's meta, and returns every id in order. */
async function pageThrough(path: string, perPage: number): Promise<{ ids: number[]; total: number }> {
  const ids: number[] = [];
  let total = -1;
  for (let page = 1; ; page++) {
    const response = await api('GET', `${path}${path.includes('?') ? '&' : '?'}page=${page}&per_page=${perPage}`, readAll);
    expect(response.statusCode).toBe(200);
    const body = response.json<ListBody>();
    if (total === -1) total = body.meta.total;
    expect(body.meta).toEqual({ current_page: page, last_page: Math.max(1, Math.ceil(total / perPage)), per_page: perPage, total });
    expect(body.data.length).toBe(Math.max(0, Math.min(perPage, total - (page - 1) * perPage)));
    ids.push(...body.data.map((c) => c.id));
    if (page >= body.meta.last_page) return { ids, total };
  }
}

describe('GET /customers', () => {
  it('answers the seed shape: the seed fields first, then country, total_spent, last_order_at and usernames', async () => {
    const response = await api('GET', '/customers?email=player@example.com', readAll);
    expect(response.statusCode).toBe(200);
    const body = response.json<ListBody>();
    expect(Object.keys(body)).toEqual(['success', 'data', 'meta']);
    expect(body.meta).toEqual({ current_page: 1, last_page: 1, per_page: 15, total: 1 });
    const [row] = body.data;
    expect(Object.keys(row!)).toEqual([...Object.keys(SEED_LIST_ITEM), ...LIST_EXTRAS]);
    expect(row).toEqual({
      id: id('playerOne'),
      name: 'PlayerOne',
      email: 'player@example.com',
      orders_count: 12,
      support_tickets_count: 2,
      created_at: '2025-01-10T08:00:00.000Z',
      updated_at: NOW,
      country: null,
      total_spent: '359.88',
      last_order_at: '2025-01-20T14:30:00.000Z',
      discord_username: 'player_one',
      steam_username: null,
    });
    for (const [key, value] of Object.entries(SEED_LIST_ITEM)) expect(typeof row![key], key).toBe(typeof value);
    customerSummarySchema.parse(row);
  });

  it('lists everyone newest first, 15 a page, by default', async () => {
    const body = (await api('GET', '/customers', readAll)).json<ListBody>();
    expect(body.meta).toEqual({ current_page: 1, last_page: 1, per_page: 15, total: store.model.length });
    expect(body.data.map((c) => c.id)).toEqual(modelIds(store.model, {}));
  });

  describe.each(['created_at', 'name', 'email', 'orders_count', 'total_spent', 'last_order_at'] as const)('sorted by %s', (sortBy) => {
    it.each([
      ['its natural order', undefined],
      ['ascending order', 'asc'],
      ['descending order', 'desc'],
    ] as const)('pages through every filter in %s exactly as the model says', async (_label, sortOrder) => {
      for (const filter of ['all', 'has_orders', 'repeat', 'loyal', 'at_risk'] as const) {
        const { ids, total } = await pageThrough(listQuery({ sortBy, sortOrder, filter }), 5);
        const expected = modelIds(store.model, { sortBy, sortOrder, filter });
        expect(ids, `${sortBy} ${sortOrder ?? '(default)'} ${filter}`).toEqual(expected);
        expect(total).toBe(expected.length);
      }
    });
  });

  it.each([
    ['a 3+ character term through the index', 'alice'],
    ['upper case', 'ALI'],
    ['a 2-character term', 'li'],
    ['a 1-character term', 'q'],
    ['part of a mixed-case email', 'example.fr'],
    ['a domain', '@example.com'],
    ['a quote', '"'],
    ['an apostrophe', "O'Brien"],
    ['a percent sign', '100%'],
    ['an underscore', '_'],
    ['SQL', '" OR 1=1 --'],
    ['an FTS wildcard', '*'],
    ['an FTS operator', 'NEAR('],
    ['FTS syntax', 'alice OR bob'],
    ['surrounding spaces', '  sam  '],
    ['nothing that matches', 'zzqqzz'],
  ])('searches by %s as a plain substring of name or email', async (_label, search) => {
    const { ids } = await pageThrough(listQuery({ search }), 4);
    expect(ids).toEqual(modelIds(store.model, { search }));
  });

  it('combines search, filter and sort', async () => {
    const q = { search: 'example.com', filter: 'has_orders', sortBy: 'total_spent', sortOrder: 'asc' } as const;
    const { ids } = await pageThrough(listQuery(q), 2);
    expect(ids).toEqual(modelIds(store.model, q));
    expect(ids.length).toBeGreaterThan(2);
  });

  it('filters by exact email, any case, and finds nobody for an unknown one', async () => {
    for (const email of ['PLAYER@example.com', 'amoreau@example.fr', ' bob@builder.example ', 'nobody@example.com', 'player']) {
      const body = (await api('GET', `/customers?email=${encodeURIComponent(email)}`, readAll)).json<ListBody>();
      expect(body.data.map((c) => c.id), email).toEqual(modelIds(store.model, { email }));
    }
  });

  it('refuses an empty email filter instead of listing everyone', async () => {
    const response = await api('GET', '/customers?email=', readAll);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({ success: false, error: 'Unprocessable Entity', message: 'email: must not be empty', errors: { email: ['must not be empty'] } });
  });

  it.each([
    ['a bare date after: from the start of that day (UTC)', 'registered_after=2026-11-20', { after: '2026-11-20T00:00:00.000Z' }],
    ['a bare date before: through the end of that day (UTC)', 'registered_before=2026-11-20', { before: '2026-11-21T00:00:00.000Z' }],
    ['a date-time after: inclusive', 'registered_after=2026-11-20T23:30:00Z', { after: '2026-11-20T23:30:00.000Z' }],
    ['a date-time before: exclusive', 'registered_before=2026-11-20T23:30:00Z', { before: '2026-11-20T23:30:00.000Z' }],
    ['a date-time with an offset', `registered_after=${encodeURIComponent('2026-11-21T01:00:00+01:00')}`, { after: '2026-11-21T00:00:00.000Z' }],
    ['a date-time with milliseconds', 'registered_before=2025-12-31T23:59:59.999Z', { before: '2025-12-31T23:59:59.999Z' }],
    ['a date-time without a zone, read as UTC', 'registered_after=2026-11-20T23:30:00', { after: '2026-11-20T23:30:00.000Z' }],
    ['a range of one day', 'registered_after=2025-06-15&registered_before=2025-06-15', { after: '2025-06-15T00:00:00.000Z', before: '2025-06-16T00:00:00.000Z' }],
  ])('filters by registration with %s', async (_label, query, bounds) => {
    const body = (await api('GET', `/customers?${query}&per_page=100`, readAll)).json<ListBody>();
    const expected = modelIds(store.model, bounds);
    expect(body.data.map((c) => c.id)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(store.model.length);
  });

  it.each([
    ['registered_after', '2025-13-01', 'is not a real date and time'],
    ['registered_after', '2025-02-30', 'is not a real date and time'],
    ['registered_before', '2025-01-10T25:00:00Z', 'is not a real date and time'],
    ['registered_after', 'yesterday', 'must be a date (YYYY-MM-DD) or an ISO-8601 date-time such as 2025-01-10T08:00:00Z'],
    ['registered_before', '1736496000', 'must be a date (YYYY-MM-DD) or an ISO-8601 date-time such as 2025-01-10T08:00:00Z'],
  ])('refuses %s=%s with a 422 naming it', async (field, value, problem) => {
    const response = await api('GET', `/customers?${field}=${encodeURIComponent(value)}`, readAll);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({ success: false, error: 'Unprocessable Entity', message: `${field}: ${problem}`, errors: { [field]: [problem] } });
  });

  it('refuses a registration range that ends before it starts', async () => {
    const response = await api('GET', '/customers?registered_after=2026-01-02&registered_before=2026-01-01', readAll);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ message: 'registered_before: must be later than registered_after' });
  });

  it('keeps last_page at 1 for an empty result and answers a page past the end with no rows', async () => {
    expect((await api('GET', '/customers?search=zzqqzz', readAll)).json()).toEqual({
      success: true,
      data: [],
      meta: { current_page: 1, last_page: 1, per_page: 15, total: 0 },
    });
    expect((await api('GET', '/customers?page=99&per_page=5', readAll)).json()).toEqual({
      success: true,
      data: [],
      meta: { current_page: 99, last_page: Math.ceil(store.model.length / 5), per_page: 5, total: store.model.length },
    });
  });

  it('accepts per_page up to 100 and refuses more with a 422 naming per_page', async () => {
    expect((await api('GET', '/customers?per_page=100', readAll)).json().meta).toMatchObject({ per_page: 100, last_page: 1 });
    expect((await api('GET', '/customers?per_page=1', readAll)).json().meta).toMatchObject({ per_page: 1, last_page: store.model.length });
    for (const [value, problem] of [
      ['101', 'must be at most 100'],
      ['0', 'must be at least 1'],
      ['-1', 'must be a whole number'],
      ['1.5', 'must be a whole number'],
      ['ten', 'must be a whole number'],
      ['', 'must be a whole number'],
    ]) {
      const response = await api('GET', `/customers?per_page=${value}`, readAll);
      expect(response.statusCode, value).toBe(422);
      expect(response.json(), value).toMatchObject({ message: `per_page: ${problem}` });
    }
    expect((await api('GET', '/customers?page=0', readAll)).json()).toMatchObject({ message: 'page: must be at least 1' });
  });

  it('refuses unknown query parameters, suggesting the one probably meant', async () => {
    const cases: Array<[string, string]> = [
      ['sortby=name', 'sortby: is not allowed (did you mean sort_by?)'],
      ['perPage=5', 'perPage: is not allowed (did you mean per_page?)'],
      ['sort-order=asc', 'sort-order: is not allowed (did you mean sort_order?)'],
      ['serch=alice', 'serch: is not allowed (did you mean search?)'],
      ['limit=5', 'limit: is not allowed'],
    ];
    for (const [query, message] of cases) {
      const response = await api('GET', `/customers?${query}`, readAll);
      expect(response.statusCode, query).toBe(422);
      expect(response.json(), query).toMatchObject({ success: false, error: 'Unprocessable Entity', message });
    }
  });

  it.each([
    ['sort_by', 'created'],
    ['sort_order', 'up'],
    ['filter', 'vip'],
  ])('refuses %s=%s, listing the accepted values', async (field, value) => {
    const response = await api('GET', `/customers?${field}=${value}`, readAll);
    expect(response.statusCode).toBe(422);
    expect(response.json().message).toMatch(new RegExp(`^${field}: must be one of: `));
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * The seed's keys, in the seed's order, then exactly `extras`; values of the seed's JSON types
 * (`null` allowed where `nullable` says so, e.g. no last order yet), recursively.
 */
function expectSeedKeys(actual: Record<string, unknown>, seed: Record<string, unknown>, extras: readonly string[], where: string, nullable: readonly string[] = []) {
  expect(Object.keys(actual), where).toEqual([...Object.keys(seed).filter((k) => k in actual), ...extras]);
  expect(Object.keys(seed).every((k) => k in actual), where).toBe(true);
  for (const [key, value] of Object.entries(seed)) {
    const got = actual[key];
    expect(Array.isArray(got), `${where}.${key}`).toBe(Array.isArray(value));
    if (!(got === null && nullable.includes(key))) expect(typeof got, `${where}.${key}`).toBe(typeof value);
    if (Array.isArray(value) && Array.isArray(got) && value[0] !== null && typeof value[0] === 'object') {
      for (const [i, item] of got.entries()) expectSeedKeys(item as Record<string, unknown>, value[0] as Record<string, unknown>, [], `${where}.${key}[${i}]`, nullable);
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      expectSeedKeys(got as Record<string, unknown>, value as Record<string, unknown>, [], `${where}.${key}`, nullable);
    }
  }
}

describe('GET /customers/:id', () => {
  it("answers the seed's detail shape key for key, then linked accounts, referral and metadata", async () => {
    const response = await api('GET', `/customers/${id('playerOne')}`, readAll);
    expect(response.statusCode).toBe(200);
    const body = response.json<{ success: true; data: Record<string, unknown> }>();
    expect(Object.keys(body)).toEqual(['success', 'data']);
    expectSeedKeys(body.data, SEED_DETAIL, DETAIL_EXTRAS, 'data');
    customerDetailSchema.parse(body.data);

    const playerOrders = store.orders.filter((o) => o.customerKey === 'playerOne').reverse();
    expect(body.data).toEqual({
      id: id('playerOne'),
      name: 'PlayerOne',
      email: 'player@example.com',
      orders_count: 12,
      support_tickets_count: 2,
      orders: playerOrders.map((o) => ({ id: o.id, order_number: o.orderNumber, total: '29.99', status: 'completed', created_at: new Date(o.at).toISOString() })),
      statistics: { total_spent: '359.88', total_orders: 12, average_order_value: '29.99', last_order_date: '2025-01-20T14:30:00.000Z' },
      created_at: '2025-01-10T08:00:00.000Z',
      updated_at: NOW,
      country: null,
      game_user_id: null,
      discord: { id: '123456789012345678', username: 'player_one', avatar: 'a_1234' },
      steam: null,
      referral_code: store.customers.playerOne!.referralCode,
      referred_by: null,
      metadata: {},
    });
    expect((body.data.orders as Array<{ order_number: string }>)[0]!.order_number).toBe(playerOrders[0]!.orderNumber);
  });

  it('lists refunded and pending orders but counts only completed ones in the statistics', async () => {
    const data = (await api('GET', `/customers/${id('alice')}`, readAll)).json<{ data: { orders: Array<{ status: string; total: string }>; statistics: object } }>().data;
    expect(data.orders.map((o) => [o.status, o.total])).toEqual([
      ['refunded', '9.99'],
      ['completed', '14.99'],
      ['completed', '29.99'],
    ]);
    expect(data.statistics).toEqual({ total_spent: '44.98', total_orders: 2, average_order_value: '22.49', last_order_date: '2026-11-01T12:00:00.000Z' });
    expect(data).toMatchObject({ country: 'GB', game_user_id: 'AliceInGame', steam: { id: '76561198000000042', username: 'AliceJ', avatar: null }, discord: null, metadata: { tier: 'gold' } });
    const paid = (await api('GET', `/customers/${id('percent')}`, readAll)).json().data;
    expect(paid.statistics).toEqual({ total_spent: '99.98', total_orders: 2, average_order_value: '49.99', last_order_date: '2026-09-30T12:00:00.000Z' });
  });

  it('shows zero figures as money strings for a customer with no orders', async () => {
    const data = (await api('GET', `/customers/${id('zed')}`, readAll)).json().data;
    expect(data.orders).toEqual([]);
    expect(data.statistics).toEqual({ total_spent: '0.00', total_orders: 0, average_order_value: '0.00', last_order_date: null });
  });

  it('shows the 50 most recent orders, newest first, while the statistics count them all', async () => {
    const { customers, orders } = await buildFixtureStore(t.db, t.clock, { busy: { name: 'Busy', email: 'busy@example.com', createdAt: '2024-01-01T00:00:00Z', orders: ordersEndingAt('2026-11-01T00:00:00Z', 55, 100) } }, 5000);
    const data = (await api('GET', `/customers/${customers.busy!.id}`, readAll)).json<{ data: { orders: Array<{ id: number }>; statistics: object } }>().data;
    expect(data.orders).toHaveLength(50);
    expect(data.orders.map((o) => o.id)).toEqual(orders.map((o) => o.id).reverse().slice(0, 50));
    expect(data.statistics).toMatchObject({ total_orders: 55, total_spent: '55.00', average_order_value: '1.00' });
  });

  it.each(['999999', 'abc', '0', '-1', '1.5', '012', '1e3', '99999999999999999999'])('answers 404 in the envelope for id %s', async (raw) => {
    const response = await api('GET', `/customers/${raw}`, readAll);
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ success: false, error: 'Not Found', message: `No customer has id ${raw}.` });
  });
});

// ---------------------------------------------------------------------------------------------

describe('POST /customers', () => {
  it('registers a customer with a hashed password it never shows, and answers 201 with the detail', async () => {
    const authorization = await writer();
    const response = await api('POST', '/customers', authorization, {
      name: '  New Player ',
      email: 'New.Player@Example.com',
      password: PASSWORD,
      game_user_id: 'NewPlayer',
      metadata: { source: 'website' },
      ip: '8.8.8.8',
    });
    expect(response.statusCode).toBe(201);
    const data = response.json<{ data: Record<string, unknown> & { id: number } }>().data;
    expect(response.headers.location).toBe(`${BASE}/customers/${data.id}`);
    expect(data).toMatchObject({
      name: 'New Player',
      email: 'New.Player@Example.com',
      orders_count: 0,
      orders: [],
      statistics: { total_spent: '0.00', total_orders: 0, average_order_value: '0.00', last_order_date: null },
      country: 'US',
      game_user_id: 'NewPlayer',
      discord: null,
      steam: null,
      referral_code: expect.stringMatching(/^[0-9A-Z]{8}$/),
      metadata: { source: 'website' },
      created_at: NOW,
    });
    expectSeedKeys(data, SEED_DETAIL, DETAIL_EXTRAS, 'data', ['last_order_date']);
    expect(response.body).not.toContain(PASSWORD);
    expect(response.body).not.toContain('password');

    const row = await t.db.selectFrom('customers').select(['password_hash', 'last_ip']).where('id', '=', data.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(await verifyPassword(PASSWORD, row.password_hash!)).toBe(true);
    expect(await verifyPassword('wrong password', row.password_hash!)).toBe(false);
    expect(row.last_ip).toBe('8.8.8.8');
    expect((await api('GET', `/customers/${data.id}`, readAll)).json().data).toEqual(data);

    const [entry] = await listActivity(t.db, { action: 'customer.create' });
    expect(entry).toMatchObject({ targetType: 'customer', targetId: String(data.id), actor: { id: expect.stringMatching(/^api_token:\d+$/) } });
  });

  it('keeps a given country over the one the IP suggests, and stores the IP in one canonical spelling', async () => {
    const response = await api('POST', '/customers', await writer(), { name: 'V6', email: 'v6@example.com', country: 'fr', ip: '2A00:1450:4001:082B:0000:0000:0000:200E' });
    expect(response.statusCode).toBe(201);
    expect(response.json().data.country).toBe('FR');
    const row = await t.db.selectFrom('customers').select('last_ip').where('id', '=', response.json().data.id).executeTakeFirstOrThrow();
    expect(row.last_ip).toBe('2a00:1450:4001:82b::200e');
  });

  it('links the referrer named by their referral code, in any case', async () => {
    const code = store.customers.alice!.referralCode!;
    const response = await api('POST', '/customers', await writer(), { name: 'Friend', email: 'friend@example.com', referral_code_used: code.toLowerCase() });
    expect(response.statusCode).toBe(201);
    expect(response.json().data.referred_by).toBe(id('alice'));
    const conflict = await api('POST', '/customers', await writer(), { name: 'F2', email: 'f2@example.com', referral_code_used: code, referred_by: id('bob') });
    expect(conflict.json()).toMatchObject({ message: 'referred_by: names a different customer than referral_code_used' });
    const unknown = await api('POST', '/customers', await writer(), { name: 'F3', email: 'f3@example.com', referral_code_used: 'NOPE1234' });
    expect(unknown.json()).toMatchObject({ message: 'referral_code_used: is not the referral code of any customer' });
    const noReferrer = await api('POST', '/customers', await writer(), { name: 'F4', email: 'f4@example.com', referred_by: 999_999 });
    expect(noReferrer.json()).toMatchObject({ message: 'referred_by: is not a customer' });
  });

  it('queues customer.created for subscribed endpoints in the same transaction and wakes the delivery worker', async () => {
    const { endpoint } = await createWebhookEndpoint(t.db, t.clock, { url: 'https://93.184.215.14/crm', actor: staff }, { allowPrivateGlobally: false });
    const response = await api('POST', '/customers', await writer(), { name: 'Hooked', email: 'hooked@example.com', country: 'DE' });
    const data = response.json().data;
    const deliveries = await t.db.selectFrom('webhook_deliveries').selectAll().execute();
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ endpoint_id: endpoint.id, event_type: 'customer.created', status: 'pending' });
    expect(JSON.parse(deliveries[0]!.payload)).toEqual({
      id: deliveries[0]!.event_id,
      event_type: 'customer.created',
      timestamp: NOW,
      data: { customer: { id: data.id, name: 'Hooked', email: 'hooked@example.com', country: 'DE', created_at: NOW } },
    });
    expect(t.wakes.webhookDeliveries).toBe(1);
  });

  it('does not wake the delivery worker when nobody subscribes', async () => {
    expect((await api('POST', '/customers', await writer(), { name: 'Quiet', email: 'quiet@example.com' })).statusCode).toBe(201);
    expect(t.wakes.webhookDeliveries).toBe(0);
  });

  describe('refuses banned identifiers with the generic 422, creating nothing', () => {
    const cases: Array<[string, BanType, string, Record<string, unknown>]> = [
      ['a banned email, in another case', 'email', 'banned@example.com', { email: 'BANNED@example.com' }],
      ['an IP inside a banned CIDR range', 'ip', '203.0.113.0/24', { ip: '203.0.113.77' }],
      ['an IPv6 address inside a banned range', 'ip', '2001:db8:abcd::/48', { ip: '2001:db8:abcd:1::5' }],
      ['a banned Discord account', 'discord', '223456789012345678', { discord_id: '223456789012345678' }],
      ['a banned Steam ID', 'game_id', '76561198000000099', { steam_id: '76561198000000099' }],
      ['a banned in-game id', 'game_id', 'Griefer42', { game_user_id: 'Griefer42' }],
    ];
    it.each(cases)('%s', async (_label, type, target, identifiers) => {
      const { endpoint } = await createWebhookEndpoint(t.db, t.clock, { url: 'https://93.184.215.14/crm', actor: staff }, { allowPrivateGlobally: false });
      const ban = await createBan(t.db, t.clock, { type, target, duration: 'permanent', reason: 'chargeback abuse', actor: staff });
      const before = await customerCount();
      const response = await api('POST', '/customers', await writer(), { name: 'Someone', email: 'someone@example.com', ...identifiers });
      expect(response.statusCode).toBe(422);
      expect(response.json()).toEqual({ success: false, error: 'Unprocessable Entity', message: GENERIC_REFUSAL });
      expect(response.body).not.toMatch(/ban|chargeback/i);
      expect(await customerCount()).toBe(before);
      expect(await t.db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', endpoint.id).execute()).toEqual([]);
      expect(t.wakes.webhookDeliveries).toBe(0);
      const [refused] = await listActivity(t.db, { action: 'customer.create_refused' });
      expect(refused?.details).toEqual({ banIds: [ban.id] });
    });

    it("an email belonging to a customer-banned account's identity (its Discord id)", async () => {
      await createBan(t.db, t.clock, { type: 'customer', target: String(id('playerOne')), duration: '7d', reason: 'fraud', actor: staff });
      const response = await api('POST', '/customers', await writer(), { name: 'Alt', email: 'alt@example.com', discord_id: '123456789012345678' });
      expect(response.json()).toEqual({ success: false, error: 'Unprocessable Entity', message: GENERIC_REFUSAL });
    });

    it('but not once a temporary ban has expired', async () => {
      await createBan(t.db, t.clock, { type: 'email', target: 'late@example.com', duration: '24h', reason: 'cool-off', actor: staff });
      expect((await api('POST', '/customers', await writer(), { name: 'Late', email: 'late@example.com' })).statusCode).toBe(422);
      t.clock.advance(DAY + 1000);
      expect((await api('POST', '/customers', await writer(), { name: 'Late', email: 'late@example.com' })).statusCode).toBe(201);
    });
  });

  it.each([
    ['a taken email, in another case', { email: 'PLAYER@example.com' }, 'email: is already registered to another customer'],
    ['a malformed email', { email: 'not-an-email' }, 'email: is not an email address'],
    ['a Discord account linked to someone else', { discord_id: '123456789012345678' }, 'discord_id: is already linked to another customer'],
    ['a Steam account linked to someone else', { steam_id: '76561198000000042' }, 'steam_id: is already linked to another customer'],
    ['a short password', { password: 'short' }, 'password: must be at least 8 characters'],
    ['a malformed IP', { ip: '999.1.1.1' }, 'ip: is not an IPv4 or IPv6 address'],
    ['a country that is no code', { country: 'USA' }, 'country: must be an ISO 3166-1 alpha-2 code such as "US"'],
    ['a name of spaces', { name: '   ' }, 'name: must not be empty'],
    ['a field it does not know', { role: 'admin' }, 'role: is not allowed'],
    ['metadata with too many keys', { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }, 'metadata: must have at most 50 keys'],
    ['metadata over 16 KiB', { metadata: { blob: 'x'.repeat(17_000) } }, 'metadata: must have at most 50 keys and 16 KiB as JSON'],
  ])('refuses %s with a 422 naming the field', async (_label, change, message) => {
    const before = await customerCount();
    const response = await api('POST', '/customers', await writer(), { name: 'Someone', email: 'someone@example.com', ...change });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ success: false, error: 'Unprocessable Entity', message });
    expect(await customerCount()).toBe(before);
  });

  it('refuses a body without name and email, naming both', async () => {
    const response = await api('POST', '/customers', await writer(), {});
    expect(response.json()).toEqual({
      success: false,
      error: 'Unprocessable Entity',
      message: 'name: is required',
      errors: { name: ['is required'], email: ['is required'] },
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('PATCH /customers/:id', () => {
  it('corrects name, email, country and game user id, moves updated_at and logs the fields changed', async () => {
    t.clock.advance(60_000);
    const response = await api('PATCH', `/customers/${id('alice')}`, await writer(), {
      name: 'Alice Smith',
      email: 'alice.smith@example.com',
      country: 'ie',
      game_user_id: 'AliceNew',
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().data).toMatchObject({
      name: 'Alice Smith',
      email: 'alice.smith@example.com',
      country: 'IE',
      game_user_id: 'AliceNew',
      updated_at: '2026-11-22T12:01:00.000Z',
      steam: { id: '76561198000000042', username: 'AliceJ', avatar: null },
      statistics: { total_orders: 2 },
    });
    const [entry] = await listActivity(t.db, { action: 'customer.update' });
    expect(entry).toMatchObject({ targetId: String(id('alice')), details: { fields: ['name', 'email', 'country', 'game_user_id'] } });
    expect(JSON.stringify(entry)).not.toContain('alice.smith');
    const found = (await api('GET', '/customers?search=smith', readAll)).json<ListBody>().data;
    expect(found.map((c) => c.id)).toEqual([id('alice')]);
    expect((await api('GET', '/customers?email=alice@example.com', readAll)).json<ListBody>().data).toEqual([]);
  });

  it('merges metadata key by key and removes keys set to null', async () => {
    const authorization = await writer();
    await api('PATCH', `/customers/${id('alice')}`, authorization, { metadata: { vip: true, note: 'x' } });
    const response = await api('PATCH', `/customers/${id('alice')}`, authorization, { metadata: { note: null, level: 3 } });
    expect(response.json().data.metadata).toEqual({ tier: 'gold', vip: true, level: 3 });
  });

  it('refuses metadata that would grow past the bound once merged', async () => {
    const authorization = await writer();
    const half = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`a${i}`, i]));
    expect((await api('PATCH', `/customers/${id('alice')}`, authorization, { metadata: half })).statusCode).toBe(200);
    const more = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`b${i}`, i]));
    const response = await api('PATCH', `/customers/${id('alice')}`, authorization, { metadata: more });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ message: 'metadata: must have at most 50 keys and 16 KiB as JSON' });
  });

  it('clears the country and game user id with null', async () => {
    const response = await api('PATCH', `/customers/${id('alice')}`, await writer(), { country: null, game_user_id: null });
    expect(response.json().data).toMatchObject({ country: null, game_user_id: null });
  });

  it.each(['discord_id', 'discord_username', 'discord_avatar', 'discord', 'steam_id', 'steam_username', 'steam_avatar', 'steam'])(
    'refuses to set the linked account field %s, naming it, and changes nothing',
    async (field) => {
      const response = await api('PATCH', `/customers/${id('alice')}`, await writer(), { name: 'Changed', [field]: '323456789012345678' });
      expect(response.statusCode).toBe(422);
      expect(response.json()).toMatchObject({
        success: false,
        error: 'Unprocessable Entity',
        message: `${field}: linked Discord and Steam accounts are changed only by the customer, through the account-link page (POST /customers/{id}/link-url)`,
      });
      const data = (await api('GET', `/customers/${id('alice')}`, readAll)).json().data;
      expect(data).toMatchObject({ name: 'Alice Johnson', discord: null, steam: { id: '76561198000000042' } });
    },
  );

  it.each([
    ['an email another customer has', { email: 'Player@Example.com' }, 'email: is already registered to another customer'],
    ['a password', { password: 'new password 123' }, 'password: is not allowed'],
    ['an IP', { ip: '1.1.1.1' }, 'ip: is not allowed'],
    ['nothing to change', {}, 'body: must change at least one of name, email, country, game_user_id, metadata'],
    ['a name too long', { name: 'n'.repeat(101) }, 'name: must be at most 100 characters'],
  ])('refuses %s', async (_label, body, message) => {
    const response = await api('PATCH', `/customers/${id('alice')}`, await writer(), body);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ message });
  });

  it('accepts the email a customer already has, in another case', async () => {
    const response = await api('PATCH', `/customers/${id('alice')}`, await writer(), { email: 'ALICE@example.com' });
    expect(response.statusCode).toBe(200);
    expect(response.json().data.email).toBe('ALICE@example.com');
  });

  it('answers 404 for an unknown or impossible id', async () => {
    for (const raw of ['424242', 'abc']) {
      const response = await api('PATCH', `/customers/${raw}`, await writer(), { name: 'X' });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ success: false, error: 'Not Found' });
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('POST /checkout/check', () => {
  const allowed = { success: true, data: { allowed: true } };
  const refused = { success: true, data: { allowed: false, message: GENERIC_REFUSAL } };

  async function check(body: Record<string, unknown>): Promise<unknown> {
    const response = await api('POST', '/checkout/check', readAll, body);
    expect(response.statusCode).toBe(200);
    return response.json<unknown>();
  }

  it.each([
    ['email', 'email', 'Banned@Example.com', { email: 'banned@example.com' }, { email: 'fine@example.com' }],
    ['ip inside a banned CIDR', 'ip', '198.51.100.0/24', { ip: '198.51.100.200' }, { ip: '198.51.101.1' }],
    ['ip, IPv4-mapped IPv6 form', 'ip', '198.51.100.0/24', { ip: '::ffff:198.51.100.9' }, { ip: '::ffff:198.51.99.9' }],
    ['discord_id', 'discord', '323456789012345678', { discord_id: '323456789012345678' }, { discord_id: '323456789012345679' }],
    ['game_id', 'game_id', 'Griefer42', { game_id: 'Griefer42' }, { game_id: 'Griefer43' }],
    ['steam_id', 'game_id', '76561198000000099', { steam_id: '76561198000000099' }, { steam_id: '76561198000000098' }],
  ] as const)('refuses a banned %s with the generic message only, and allows its neighbour', async (_label, type, target, banned, fine) => {
    await createBan(t.db, t.clock, { type, target, duration: '30d', reason: 'refund abuse', actor: staff });
    const answer = await check({ ...banned });
    expect(answer).toEqual(refused);
    expect(JSON.stringify(answer)).not.toMatch(/abuse|ban/i);
    expect(await check({ ...fine })).toEqual(allowed);
  });

  it('refuses every identifier of a customer-banned account, including an ID linked to it, and its customer_id', async () => {
    await createBan(t.db, t.clock, { type: 'customer', target: String(id('alice')), duration: 'permanent', reason: 'fraud', actor: staff });
    expect(await check({ customer_id: id('alice') })).toEqual(refused);
    expect(await check({ email: 'alice@example.com' })).toEqual(refused);
    expect(await check({ steam_id: '76561198000000042' })).toEqual(refused);
    expect(await check({ game_id: 'AliceInGame' })).toEqual(refused);
    expect(await check({ customer_id: id('bob') })).toEqual(allowed);
  });

  it('allows a clean set of identifiers and any identifiers once the ban expires', async () => {
    await createBan(t.db, t.clock, { type: 'email', target: 'short@example.com', duration: '24h', reason: 'cool-off', actor: staff });
    const everything = { email: 'short@example.com', ip: '192.0.2.1', discord_id: '423456789012345678', game_id: 'x', steam_id: '76561198000000001', customer_id: id('bob') };
    expect(await check(everything)).toEqual(refused);
    t.clock.advance(DAY);
    expect(await check(everything)).toEqual(allowed);
  });

  it.each([
    ['nothing to check', {}, 'body: must include at least one of email, ip, discord_id, game_id, steam_id, customer_id'],
    ['a malformed IP', { ip: '10.0.0.0/8' }, 'ip: is not an IPv4 or IPv6 address'],
    ['a customer id that is not a number', { customer_id: '12' }, 'customer_id: must be a number'],
    ['a Discord id that is no snowflake', { discord_id: 'abc' }, 'discord_id: must be a Discord user id (17 to 20 digits)'],
    ['an unknown field', { phone: '123' }, 'phone: is not allowed'],
  ])('refuses %s with a 422', async (_label, body, message) => {
    const response = await api('POST', '/checkout/check', readAll, body);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ success: false, error: 'Unprocessable Entity', message });
  });
});

// ---------------------------------------------------------------------------------------------

describe('what responses never contain', () => {
  it('no response in this file held a password hash, an IP address or a token', () => {
    expect(bodies.length).toBeGreaterThan(0);
    const forbidden: Array<[string, RegExp]> = [
      ['a password hash', /scrypt\$/],
      ['a password field with a value', /"password(_hash)?":"/],
      ['an IPv4 address', /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/],
      ['an IPv6 address', /[0-9a-f]{1,4}::[0-9a-f]{1,4}|::ffff:/i],
      ['last_ip', /last_ip/],
      ['an API token', /cdk_[A-Za-z0-9_-]{8,}/],
      ['a webhook secret', /whsec_/],
      ['two-factor data', /two_factor|totp/i],
    ];
    for (const body of bodies) {
      for (const [what, pattern] of forbidden) expect(pattern.test(body), `${what} in ${body.slice(0, 300)}`).toBe(false);
      for (const ip of STORED_IPS) expect(body.includes(ip), `${ip} in ${body.slice(0, 300)}`).toBe(false);
      expect(body.includes(PASSWORD)).toBe(false);
    }
  });
});
