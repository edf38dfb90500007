import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SCOPES, createApiToken, revokeApiToken, type ApiScope } from '../../src/domain/api-tokens.js';
import type { OpenApiDocument, OpenApiOperation } from '../../src/http/openapi.js';
import { startApiTestApp, type ApiTestApp } from '../support/api-app.js';
import { validate, type Schema } from './support/json-schema.js';

// Requests generated from the API's own OpenAPI document: every path, query and body parameter
// gets valid values, wrong types, boundary and huge values, odd Unicode and injection strings.
// Every answer must be documented for its operation and conform to the documented schema, never
// be a 5xx, and never contain a password hash, a customer's IP address or an API token. Then
// every route × token kind (none, revoked, expired, wrong scope, right scope) behaves as documented.

const BASE = '/api/external/v1';
const CUSTOMER_IPS = ['198.51.100.23', '2001:db8::7', '203.0.113.7'];
const HOSTILE_STRINGS = [
  '',
  ' ',
  'abc',
  '-1',
  '0',
  '1.5',
  '1e309',
  '99999999999999999999',
  'true',
  'null',
  '[]',
  '{}',
  'x'.repeat(5_000),
  'Ωmega ünïcödé',
  '💩\u202e\u0301',
  '\ud800',
  '\u0000',
  "' OR 1=1 --",
  '"; DROP TABLE customers; --',
  '<script>alert(1)</script>',
  '${7*7}',
  '../../etc/passwd',
  'NEAR(a b)',
  '%',
  '_',
  'a\\',
];
const HOSTILE_VALUES: unknown[] = [null, true, 0, -1, 1.5, 2 ** 53 + 2, 1e308, [], [1, 'a'], {}, { nested: { deeper: [1] } }, 'x'.repeat(200_000), ...HOSTILE_STRINGS];

let t: ApiTestApp;
let doc: OpenApiDocument;
let everything: string;
const ids: Record<string, string> = {};
const secrets: string[] = [];

interface Operation {
  method: string;
  path: string;
  op: OpenApiOperation;
}

function operations(): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
}

function realPath(path: string, overrides: Record<string, string> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => overrides[name] ?? (name === 'deliveryId' ? ids.delivery! : path.startsWith('/webhooks') ? ids.webhook! : ids.customer!));
}

/** Boundary values a parameter's own schema suggests: at and just past each limit. */
function boundaryValues(schema: Schema): unknown[] {
  const out: unknown[] = [];
  if (typeof schema.maxLength === 'number') out.push('a'.repeat(schema.maxLength), 'a'.repeat(schema.maxLength + 1));
  if (typeof schema.minLength === 'number' && schema.minLength > 0) out.push('a'.repeat(schema.minLength - 1));
  if (typeof schema.maximum === 'number') out.push(schema.maximum, schema.maximum + 1);
  if (typeof schema.minimum === 'number') out.push(schema.minimum, schema.minimum - 1);
  if (Array.isArray(schema.enum)) out.push(...(schema.enum as unknown[]), `${String(schema.enum[0])}x`, String(schema.enum[0]).toUpperCase());
  if (Array.isArray(schema.examples)) out.push(...(schema.examples as unknown[]));
  return out;
}

function encode(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text === '\ud800' ? '%ED%A0%80' : encodeURIComponent(text);
}

/** What is wrong with an answer: undocumented status, schema violation, 5xx, or a leaked secret. */
function problemsWith(response: LightMyRequestResponse, operation: Operation, label: string): string[] {
  const problems: string[] = [];
  const status = String(response.statusCode);
  if (response.statusCode >= 500) problems.push(`${label}: ${status} ${response.body.slice(0, 200)}`);
  let documented = operation.op.responses[status] as Schema | undefined;
  if (documented === undefined) {
    problems.push(`${label}: status ${status} is not documented (${response.body.slice(0, 120)})`);
    return problems;
  }
  if (typeof documented.$ref === 'string') documented = validateRef(documented.$ref);
  const schema = ((documented.content as Record<string, { schema: Schema }> | undefined)?.['application/json'])?.schema;
  if (schema && response.statusCode !== 204 && operation.method !== 'HEAD') {
    let body: unknown;
    const json = String(response.headers['content-type'] ?? '').startsWith('application/json');
    try {
      // A file answer (the GDPR export as CSV) is documented as a string alternative.
      body = json ? response.json() : response.body;
    } catch {
      problems.push(`${label}: ${status} is not JSON`);
      return problems;
    }
    for (const problem of validate(body, schema, doc).slice(0, 3)) problems.push(`${label}: ${status} ${problem}`);
  }
  if (operation.path !== '/openapi.json') {
    const text = `${response.body}\n${JSON.stringify(response.headers)}`;
    // The one exception: the data subject's own GDPR access export (Art. 15) gives them the
    // address they were last seen from, labelled as such. Password hashes and tokens never appear.
    const subjectExport = operation.path === '/customers/{id}/export';
    for (const secret of secrets) {
      if (subjectExport && CUSTOMER_IPS.includes(secret)) continue;
      if (text.includes(secret)) problems.push(`${label}: the answer contains a secret (${secret.slice(0, 12)}…)`);
    }
    if (response.statusCode < 300 && !subjectExport && String(response.headers['content-type'] ?? '').startsWith('application/json') && hasSecretKey(response.json<{ data?: unknown }>().data)) problems.push(`${label}: the answer has a password or ip field`);
  }
  return problems;
}

function hasSecretKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasSecretKey);
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([key, inner]) => /^(password|password_hash|last_ip|ip|token_hash)$/.test(key) || hasSecretKey(inner));
}

function validateRef(ref: string): Schema {
  const name = ref.split('/').pop() ?? '';
  return (doc.components.responses as Record<string, Schema>)[name] ?? {};
}

beforeAll(async () => {
  t = await startApiTestApp();
  everything = await t.bearer([...API_SCOPES], { rateLimitPerMinute: 10_000 });
  secrets.push(everything.slice('Bearer '.length));
  doc = (await t.app.inject({ method: 'GET', url: `${BASE}/openapi.json` })).json<OpenApiDocument>();
  // Customers registered the way the store does it, with a password and the address they came from.
  for (const [i, ip] of CUSTOMER_IPS.entries()) {
    const response = await t.app.inject({
      method: 'POST',
      url: `${BASE}/customers`,
      headers: { authorization: everything },
      payload: { name: `Fuzz ${i}`, email: `fuzz${i}@example.com`, password: 'correct horse battery staple', ip, metadata: { tier: i } },
    });
    expect(response.statusCode).toBe(201);
    ids.customer ??= String(response.json().data.id);
  }
  const endpoint = await t.app.inject({ method: 'POST', url: `${BASE}/webhooks`, headers: { authorization: everything }, payload: { url: 'https://93.184.215.14/crm' } });
  ids.webhook = String(endpoint.json().data.id);
  const test = await t.app.inject({ method: 'POST', url: `${BASE}/webhooks/${ids.webhook}/test`, headers: { authorization: everything } });
  ids.delivery = String(test.json().data.id);
  const hashes = await t.db.selectFrom('customers').select('password_hash').where('password_hash', 'is not', null).execute();
  expect(hashes).toHaveLength(CUSTOMER_IPS.length);
  secrets.push(...hashes.map((h) => h.password_hash!), ...CUSTOMER_IPS);
});

afterAll(async () => {
  await t.close();
});

describe('requests generated from the OpenAPI document', () => {
  it('answer every generated value with a documented status and a body that conforms to the documented schema, never a 5xx or a secret', async () => {
    const problems: string[] = [];
    let sent = 0;
    const send = async (operation: Operation, url: string, payload: unknown, label: string) => {
      const response = await t.app.inject({
        method: operation.method as 'GET',
        url,
        headers: { authorization: everything },
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
      sent++;
      problems.push(...problemsWith(response, operation, label));
    };
    for (const operation of operations()) {
      const { method, path, op } = operation;
      const content = op.requestBody?.content['application/json'];
      // The documented example, without the password so that accepted requests skip scrypt.
      const { password: _password, ...example } = (content?.example ?? {}) as Record<string, unknown>;
      const body = content ? example : undefined;
      for (const parameter of op.parameters ?? []) {
        for (const value of [...boundaryValues(parameter.schema), ...HOSTILE_STRINGS]) {
          const url =
            parameter.in === 'path'
              ? BASE + realPath(path, { [parameter.name]: encode(value) })
              : `${BASE}${realPath(path)}?${parameter.name}=${encode(value)}`;
          await send(operation, url, body, `${method} ${path} ${parameter.in} ${parameter.name}=${JSON.stringify(value).slice(0, 40)}`);
        }
      }
      const properties = (content?.schema.properties ?? {}) as Record<string, Schema>;
      for (const [field, schema] of Object.entries(properties)) {
        for (const value of [...boundaryValues(schema), ...HOSTILE_VALUES]) {
          await send(operation, BASE + realPath(path), { ...example, [field]: value }, `${method} ${path} body ${field}=${JSON.stringify(value).slice(0, 40)}`);
        }
      }
      await send(operation, BASE + realPath(path), body, `${method} ${path} as documented`);
    }
    expect(problems.slice(0, 30)).toEqual([]);
    expect(sent).toBeGreaterThan(1_500);
  }, 120_000);
});

describe('every route × token', () => {
  const tokenKinds = ['none', 'revoked', 'expired', 'wrong scope', 'right scope'] as const;

  it('answers 401 without a valid token, 403 without the scope, and the documented answer with it', async () => {
    const problems: string[] = [];
    let checked = 0;
    for (const operation of operations()) {
      const scope = operation.op['x-required-scope'];
      if (scope === undefined) continue;
      for (const kind of tokenKinds) {
        let authorization: string | undefined;
        if (kind !== 'none') {
          const scopes: ApiScope[] = kind === 'wrong scope' ? API_SCOPES.filter((s) => s !== scope) : [scope];
          const { token, record } = await createApiToken(t.db, t.clock, {
            name: kind,
            scopes,
            ...(kind === 'expired' ? { expiresAt: new Date(t.clock.now().getTime() + 1_000).toISOString() } : {}),
          });
          secrets.push(token);
          if (kind === 'revoked') await revokeApiToken(t.db, t.clock, record.id);
          authorization = `Bearer ${token}`;
        }
        if (kind === 'expired') t.clock.advance(2_000);
        const content = operation.op.requestBody?.content['application/json'];
        const { password: _password, ...example } = (content?.example ?? {}) as Record<string, unknown>;
        const response = await t.app.inject({
          method: operation.method as 'GET',
          url: BASE + realPath(operation.path),
          headers: authorization === undefined ? {} : { authorization },
          ...(content ? { payload: example } : {}),
        });
        checked++;
        const label = `${operation.method} ${operation.path} with ${kind}`;
        const expected = kind === 'right scope' ? null : kind === 'wrong scope' ? 403 : 401;
        if (expected !== null && response.statusCode !== expected) problems.push(`${label}: ${response.statusCode}, documented ${expected}`);
        if (expected === null && (response.statusCode === 401 || response.statusCode === 403)) problems.push(`${label}: refused with ${response.statusCode}`);
        if (expected === 403) {
          const message = response.json<{ message?: string }>().message;
          if (message !== `Token does not have the required scope: ${scope}`) problems.push(`${label}: message ${message}`);
        }
        problems.push(...problemsWith(response, operation, label));
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(12 * tokenKinds.length);
  }, 60_000);
});
