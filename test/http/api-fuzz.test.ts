import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SCOPES } from '../../src/domain/api-access/tokens.js';
import { createWebhookEndpoint } from '../../src/domain/webhooks/endpoints.js';
import { enqueueTestDelivery } from '../../src/domain/webhooks/outbox.js';
import type { OpenApiDocument } from '../../src/http/openapi.js';
import { buildFixtureStore } from '../support/api-customer-fixture.js';
import { startApiTestApp, type ApiTestApp } from '../support/api-app.js';
import { documentOperations, type DocumentOperation } from '../support/openapi-check.js';

// Malformed, oversized and hostile input on every route of the API, taken from its own OpenAPI
// document: whatever arrives, the answer is never a 5xx, and every refusal is the envelope.

const BASE = '/api/external/v1';
const staff = { id: '111111111111111111', name: 'Sam' };

/** Hostile text: empty, huge, numeric edge cases, NUL and other control bytes, odd Unicode, injections. */
const FUZZ_STRINGS: string[] = [
  '',
  ' ',
  'x'.repeat(10_240),
  '-1',
  '0',
  '1e309',
  '99999999999999999999999',
  '1.5',
  'NaN',
  '\u0000',
  'a\u0000b',
  '\u0007\u001b[31m',
  '💩\u202e\u0301',
  '\ud800',
  'Ω≈ç√∫˜µ≤',
  '" OR 1=1 --',
  "' OR '1'='1",
  '*',
  'NEAR(',
  'NEAR(a b)',
  'a AND NOT b',
  '"',
  '%',
  '_',
  '\\',
  '${7*7}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'null',
  '[]',
];

// eslint-disable-next-line no-control-regex -- control characters are what is being looked for
const CONTROL_CHARACTER = /[\u0000-\u001f]/;

function deepArray(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** Hostile JSON values for one body field. */
const FUZZ_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 2,
  [],
  [1, 'a', null],
  {},
  { a: { b: { c: 1 } } },
  deepArray(2000),
  ...FUZZ_STRINGS,
];

/** Path parameters that cannot name anything (URL-encoded as a client would send them). */
const FUZZ_SEGMENTS = [
  'abc',
  '-1',
  '0',
  '1.5',
  '1e309',
  '9'.repeat(30),
  '%00',
  '%F0%9F%92%A9',
  '%E0%A4%A',
  "'%20OR%201%3D1--",
  '%2A',
  'NEAR(',
  'x'.repeat(90),
  'x'.repeat(200),
  '..%2F..%2Fetc',
];

let t: ApiTestApp;
let doc: OpenApiDocument;
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await startApiTestApp();
  const { customers } = await buildFixtureStore(t.db, t.clock, {
    alice: { name: 'Alice Johnson', email: 'alice@example.com', createdAt: '2026-01-01T00:00:00Z', orders: [{ at: '2026-10-01T00:00:00Z', cents: 2999 }] },
    bob: { name: 'Bob', email: 'bob@example.com', createdAt: '2026-02-01T00:00:00Z' },
  });
  const { endpoint } = await createWebhookEndpoint(t.db, t.clock, { url: 'https://93.184.215.14/crm', actor: staff }, { allowPrivateGlobally: false });
  const delivery = await enqueueTestDelivery(t.db, t.clock, endpoint.id, staff);
  ids.customer = String(customers.alice!.id);
  ids.webhook = String(endpoint.id);
  ids.delivery = delivery.id;
  doc = (await t.app.inject({ method: 'GET', url: `${BASE}/openapi.json` })).json<OpenApiDocument>();
});
afterAll(async () => {
  await t.close();
});

function operations(): DocumentOperation[] {
  return documentOperations(doc);
}

/** As a client would put it in a URL; a lone surrogate (which encodeURIComponent refuses) as the bytes it would be. */
function encodeQueryValue(value: string): string {
  return value === '\ud800' ? '%ED%A0%80' : encodeURIComponent(value);
}

/** The documented path with real ids, so input reaches validation. */
function realPath(path: string): string {
  return path.replace('{deliveryId}', ids.delivery!).replace('{id}', path.startsWith('/webhooks') ? ids.webhook! : ids.customer!);
}

async function tokenForEverything(): Promise<string> {
  return t.bearer([...API_SCOPES], { rateLimitPerMinute: 10_000 });
}

/** Records what is wrong with an answer: a 5xx, or a refusal that is not the envelope. */
function problemWith(response: LightMyRequestResponse, label: string, mustRefuse: boolean): string | null {
  if (response.statusCode >= 500) return `${label}: ${response.statusCode} ${response.body.slice(0, 200)}`;
  if (mustRefuse && response.statusCode < 400) return `${label}: accepted (${response.statusCode}) ${response.body.slice(0, 200)}`;
  let body: Record<string, unknown>;
  try {
    body = response.json();
  } catch {
    return `${label}: not JSON: ${response.body.slice(0, 200)}`;
  }
  if (response.statusCode >= 400) {
    const keys = Object.keys(body);
    const shaped =
      body.success === false &&
      typeof body.error === 'string' &&
      typeof body.message === 'string' &&
      keys.every((k) => ['success', 'error', 'message', 'errors'].includes(k));
    if (!shaped) return `${label}: ${response.statusCode} not the envelope: ${response.body.slice(0, 200)}`;
  } else if (body.success !== true && !('openapi' in body)) {
    return `${label}: ${response.statusCode} without success: ${response.body.slice(0, 200)}`;
  }
  return null;
}

describe('every route of the document', () => {
  it('lists the routes this file attacks', () => {
    const names = operations().map((o) => `${o.method} ${o.path}`);
    expect(names).toEqual(
      expect.arrayContaining(['GET /customers', 'GET /customers/{id}', 'POST /customers', 'PATCH /customers/{id}', 'POST /checkout/check', 'GET /webhooks', 'PUT /webhooks/{id}']),
    );
  });

  it('refuses path parameters that cannot name anything with a 4xx envelope', async () => {
    const authorization = await tokenForEverything();
    const problems: string[] = [];
    for (const { method, path, op } of operations()) {
      if (!path.includes('{')) continue;
      const hasBody = op.requestBody !== undefined;
      for (const segment of FUZZ_SEGMENTS) {
        for (const name of ['{id}', '{deliveryId}']) {
          if (!path.includes(name)) continue;
          const url = BASE + realPath(path.replace(name, '__FUZZ__')).replace('__FUZZ__', segment);
          const response = await t.app.inject({ method: method as 'GET', url, headers: { authorization }, ...(hasBody ? { payload: { name: 'X' } } : {}) });
          const problem = problemWith(response, `${method} ${url.slice(0, 120)}`, true);
          if (problem) problems.push(problem);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('answers hostile query values without a 5xx, refusing with the envelope', async () => {
    const authorization = await tokenForEverything();
    const problems: string[] = [];
    let sent = 0;
    for (const { method, path, op } of operations()) {
      if (method !== 'GET') continue;
      const names = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      const tries: Array<[string, boolean]> = [
        ['unknown_parameter=1', true],
        ['__proto__=1', true],
        ['constructor=1', true],
        ['%00=1', true],
      ];
      for (const name of names) {
        for (const value of FUZZ_STRINGS) {
          // NUL and other control characters, and 10 kB, are never a valid query value.
          const mustRefuse = CONTROL_CHARACTER.test(value) || value.length > 1000;
          tries.push([`${name}=${encodeQueryValue(value)}`, mustRefuse]);
        }
        tries.push([`${name}=1&${name}=2`, true]);
        tries.push([`${name}[]=1`, true]);
      }
      for (const [query, mustRefuse] of tries) {
        const url = `${BASE}${realPath(path)}?${query}`;
        const response = await t.app.inject({ method: 'GET', url, headers: { authorization } });
        sent++;
        const problem = problemWith(response, `GET ${url.slice(0, 160)}`, mustRefuse && names.length > 0);
        if (problem) problems.push(problem);
      }
    }
    expect(problems).toEqual([]);
    expect(sent).toBeGreaterThan(300);
  });

  it('refuses bodies that are not a JSON object with a 4xx envelope', async () => {
    const authorization = await tokenForEverything();
    const problems: string[] = [];
    for (const { method, path, op } of operations()) {
      if (!op.requestBody) continue;
      const url = BASE + realPath(path);
      const raw: Array<[string, string, string]> = [
        ['not JSON', 'application/json', 'not json'],
        ['truncated JSON', 'application/json', '{"name": "a'],
        ['an empty body', 'application/json', ''],
        ['a prototype-polluting body', 'application/json', '{"__proto__": {"admin": true}}'],
        ['a constructor.prototype body', 'application/json', '{"constructor": {"prototype": {"admin": true}}}'],
        ['XML', 'application/xml', '<customer/>'],
        ['a form', 'application/x-www-form-urlencoded', 'name=a&email=b'],
        ['text', 'text/plain', 'hello'],
        ['1.5 MiB of JSON', 'application/json', JSON.stringify({ name: 'x'.repeat(1_500_000) })],
        ['deeply nested arrays', 'application/json', '['.repeat(100_000) + ']'.repeat(100_000)],
        ['a NUL byte outside a string', 'application/json', '{"name": "a"\u0000}'],
      ];
      for (const value of FUZZ_VALUES) raw.push([`the whole body ${JSON.stringify(value).slice(0, 30)}`, 'application/json', JSON.stringify(value)]);
      for (const [label, contentType, payload] of raw) {
        const response = await t.app.inject({ method: method as 'POST', url, headers: { authorization, 'content-type': contentType }, payload });
        const problem = problemWith(response, `${method} ${path} with ${label}`, true);
        if (problem) problems.push(problem);
      }
    }
    expect(problems).toEqual([]);
  });

  it('answers hostile values in every body field without a 5xx, refusing with the envelope', async () => {
    const problems: string[] = [];
    let sent = 0;
    for (const { method, path, op } of operations()) {
      const content = op.requestBody?.content['application/json'];
      if (!content) continue;
      const authorization = await tokenForEverything();
      const url = BASE + realPath(path);
      const properties = Object.keys(content.schema.properties ?? {});
      // The documented example, without the password so that accepted requests skip scrypt.
      const { password: _password, ...base } = (content.example ?? {}) as Record<string, unknown>;
      for (const field of properties) {
        for (const value of FUZZ_VALUES) {
          const payload = { ...base, [field]: value };
          const response = await t.app.inject({ method: method as 'POST', url, headers: { authorization }, payload });
          sent++;
          // Customer text fields refuse control characters and anything huge; metadata holds any JSON.
          const customerRoute = path.startsWith('/customers') || path.startsWith('/checkout');
          const mustRefuse = customerRoute && field !== 'metadata' && typeof value === 'string' && (CONTROL_CHARACTER.test(value) || value.length > 1000);
          const problem = problemWith(response, `${method} ${path} ${field}=${JSON.stringify(value).slice(0, 40)}`, mustRefuse);
          if (problem) problems.push(problem);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(sent).toBeGreaterThan(1000);
  });

  it('still answers normally afterwards', async () => {
    const response = await t.app.inject({ method: 'GET', url: `${BASE}/customers/${ids.customer}`, headers: { authorization: await t.bearer(['customers:read']) } });
    expect(response.statusCode).toBe(200);
    expect(response.json().data.statistics).toMatchObject({ total_orders: 1, total_spent: '29.99' });
  });
});
