import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SCOPES } from '../../src/domain/api-access/tokens.js';
import { createWebhookEndpoint } from '../../src/domain/webhooks/endpoints.js';
import { enqueueTestDelivery } from '../../src/domain/webhooks/outbox.js';
import { ApiRouteRegistry, idParam, type OpenApiDocument } from '../../src/http/openapi.js';
import { API_BASE_PATH, apiRoutes } from '../../src/http/routes/api.js';
import { buildFixtureStore } from '../support/api-customer-fixture.js';
import { startApiTestApp, type ApiTestApp } from '../support/api-app.js';
import { documentOperations, validateOpenApiDocument, type DocumentOperation } from '../support/openapi-check.js';

const BASE = '/api/external/v1';
const staff = { id: '111111111111111111', name: 'Sam' };
type Schema = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------

let t: ApiTestApp;

/** The problems of `value` against `schema` by ajv, the validator every answer is held to (empty when valid). */
function schemaProblems(schema: Schema, value: unknown): string[] {
  return t.openApi.schemaProblems(schema, value);
}
let doc: OpenApiDocument;
let authorization: string;
const ids: Record<string, number | string> = {};

beforeAll(async () => {
  t = await startApiTestApp({ APP_SECRET: 'k'.repeat(40), PUBLIC_URL: 'https://shop.example.com' });
  const { customers } = await buildFixtureStore(t.db, t.clock, {
    alice: {
      name: 'Alice Johnson',
      email: 'alice@example.com',
      createdAt: '2026-01-01T00:00:00Z',
      discord: { id: '123456789012345678', username: 'alice_j' },
      orders: [{ at: '2026-10-01T00:00:00Z', cents: 2999 }],
    },
  });
  const { endpoint } = await createWebhookEndpoint(t.db, t.clock, { url: 'https://93.184.215.14/crm', actor: staff }, { allowPrivateGlobally: false });
  ids.id = customers.alice!.id;
  ids.webhook = endpoint.id;
  ids.delivery = (await enqueueTestDelivery(t.db, t.clock, endpoint.id, staff)).id;
  authorization = await t.bearer([...API_SCOPES], { rateLimitPerMinute: 10_000 });
  doc = (await t.app.inject({ method: 'GET', url: `${BASE}/openapi.json` })).json<OpenApiDocument>();
});
afterAll(async () => {
  await t.close();
});

function operations(): DocumentOperation[] {
  return documentOperations(doc);
}

/** The URL of an operation over the fixture's real ids, with a query string. */
function urlOf(path: string, query = ''): string {
  const filled = path.replace('{deliveryId}', String(ids.delivery)).replace('{id}', String(path.startsWith('/webhooks') ? ids.webhook : ids.id));
  return `${BASE}${filled}${query ? `?${query}` : ''}`;
}

function resolve(ref: unknown): Schema {
  const pointer = (ref as { $ref?: string }).$ref;
  if (!pointer) return ref as Schema;
  const target = pointer
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
  if (target === undefined) throw new Error(`unresolved ${pointer}`);
  return target as Schema;
}

function send(method: string, url: string, payload?: unknown) {
  return t.app.inject({ method: method as 'GET', url, headers: { authorization }, ...(payload === undefined ? {} : { payload: payload as object }) });
}

describe('the OpenAPI document', () => {
  it('is served without a token, as JSON, and is OpenAPI 3.1 with a bearer scheme', async () => {
    const response = await t.app.inject({ method: 'GET', url: `${BASE}/openapi.json` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['x-ratelimit-limit']).toBeUndefined();
    expect(doc).toMatchObject({
      openapi: '3.1.0',
      info: { title: expect.any(String), version: expect.any(String) },
      servers: [{ url: API_BASE_PATH }],
      security: [{ bearerAuth: [] }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    });
    expect((doc.components.securitySchemes!.bearerAuth as { description: string }).description).toContain(API_SCOPES.join(', '));
  });

  it('passes an independent OpenAPI validator', async () => {
    await expect(validateOpenApiDocument(doc)).resolves.toBeUndefined();
    // The same validator refuses a fault, so the pass above means something.
    const broken = { ...doc, paths: { ...doc.paths, '/broken': { get: { responses: { 200: { content: {} } } } } } };
    await expect(validateOpenApiDocument(broken)).rejects.toThrow();
  });

  it('is what every API answer in the tests is held to: an undocumented status, media type or field is reported', () => {
    const url = `${BASE}/customers/${ids.id}`;
    const envelope = JSON.stringify({ success: false, error: 'Not Found', message: 'No customer has id 45.' });
    expect(t.openApi.problems({ method: 'GET', url, status: 404, contentType: 'application/json; charset=utf-8', body: envelope })).toEqual([]);
    expect(t.openApi.problems({ method: 'GET', url, status: 418, contentType: 'application/json', body: envelope }).join()).toContain('status 418 is not documented');
    expect(t.openApi.problems({ method: 'GET', url, status: 404, contentType: 'text/html', body: '<p>gone</p>' }).join()).toContain('media type text/html is not documented');
    const extra = JSON.stringify({ success: false, error: 'Not Found', message: 'x', stack: 'at …' });
    expect(t.openApi.problems({ method: 'GET', url, status: 404, contentType: 'application/json', body: extra }).join()).toContain('must NOT have additional properties');
    expect(t.openApi.problems({ method: 'GET', url: `${BASE}/customers/${ids.id}/export?format=csv`, status: 200, contentType: 'text/csv; charset=utf-8', body: 'a,b\r\n' })).toEqual([]);
    expect(t.openApi.problems({ method: 'GET', url: `${BASE}/no-such-route`, status: 200, contentType: 'application/json', body: '{}' }).join()).toContain('no operation');
    expect(t.openApi.problems({ method: 'GET', url: '/downloads/abc', status: 200, contentType: 'text/csv', body: 'a' })).toEqual([]);
    const limited = { 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': 'many', 'x-ratelimit-reset': '1795435200' };
    expect(t.openApi.problems({ method: 'GET', url, status: 404, contentType: 'application/json', body: envelope, headers: limited }).join()).toContain('header X-RateLimit-Remaining');
  });

  it('describes every route, and nothing the app does not serve', () => {
    expect(operations().map((o) => `${o.method} ${o.path}`).sort()).toEqual(
      [
        'GET /customers',
        'POST /customers',
        'GET /customers/{id}',
        'PATCH /customers/{id}',
        'DELETE /customers/{id}',
        'GET /customers/{id}/export',
        'POST /customers/{id}/link-url',
        'POST /checkout/check',
        'GET /webhooks',
        'POST /webhooks',
        'GET /webhooks/{id}',
        'PUT /webhooks/{id}',
        'DELETE /webhooks/{id}',
        'POST /webhooks/{id}/test',
        'GET /webhooks/{id}/deliveries',
        'POST /webhooks/{id}/deliveries/{deliveryId}/redeliver',
        'GET /openapi.json',
      ].sort(),
    );
    for (const { method, path } of operations()) {
      expect(t.app.hasRoute({ method: method, url: BASE + path.replace(/\{(\w+)\}/g, ':$1') }), `${method} ${path}`).toBe(true);
    }
  });

  it('leaves no route of the API undocumented', async () => {
    const registry = new ApiRouteRegistry({ basePath: API_BASE_PATH });
    const app = Fastify();
    await app.register(apiRoutes, { prefix: API_BASE_PATH, deps: t.deps, registry });
    await app.ready();
    expect(registry.undocumentedRoutes()).toEqual([]);
    expect(registry.routes().length).toBe(operations().length);
    await app.close();
  });

  it('gives every operation an id, a summary, a tag, its security and its responses', () => {
    const operationIds = new Set<string>();
    for (const { method, path, op } of operations()) {
      const where = `${method} ${path}`;
      expect(op.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
      expect(operationIds.has(op.operationId), where).toBe(false);
      operationIds.add(op.operationId);
      expect(op.summary, where).toBeTruthy();
      expect(op.tags, where).toHaveLength(1);
      expect(Array.isArray(op.security), where).toBe(true);
      const statuses = Object.keys(op.responses);
      expect(statuses.some((s) => /^2\d\d$/.test(s)), where).toBe(true);
      expect(statuses, where).toContain('500');
      for (const response of Object.values(op.responses)) {
        const resolved = resolve(response) as { description: string; content: { 'application/json': { schema: Schema } } };
        expect(resolved.description, where).toBeTruthy();
        expect(resolved.content['application/json'].schema, where).toBeTruthy();
      }
      if (path === '/openapi.json') {
        expect(op.security, where).toEqual([]);
        continue;
      }
      expect(op.security, where).toEqual([{ bearerAuth: [op['x-required-scope']] }]);
      expect(API_SCOPES, where).toContain(op['x-required-scope']);
      expect(statuses, where).toEqual(expect.arrayContaining(['401', '403', '429']));
      const success = Object.entries(op.responses).find(([s]) => s.startsWith('2'))![1] as { headers: Record<string, unknown> };
      expect(Object.keys(success.headers), where).toEqual(expect.arrayContaining(['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']));
      if (op.requestBody) expect(statuses, where).toEqual(expect.arrayContaining(['400', '413', '415', '422']));
    }
  });

  it('marks every timestamp an answer carries as format date-time', () => {
    const timestamps: string[] = [];
    const unmarked: string[] = [];
    const walk = (schema: Schema, where: string) => {
      for (const [key, property] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
        if (/(_at|_date)$/.test(key)) {
          timestamps.push(`${where}.${key}`);
          const options = [property, ...((property.anyOf ?? []) as Schema[])];
          if (!options.some((o) => o.format === 'date-time')) unmarked.push(`${where}.${key}`);
        }
        walk(property, `${where}.${key}`);
        if (property.items) walk(property.items as Schema, `${where}.${key}[]`);
        for (const option of (property.anyOf ?? []) as Schema[]) walk(option, `${where}.${key}`);
      }
      for (const option of (schema.anyOf ?? []) as Schema[]) walk(option, where);
    };
    for (const { method, path, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        const schema = (resolve(response) as { content: { 'application/json': { schema: Schema } } }).content['application/json'].schema;
        walk(resolve(schema), `${method} ${path} ${status}`);
      }
    }
    expect(timestamps.length).toBeGreaterThan(20);
    expect(unmarked).toEqual([]);
  });

  it('documents every error envelope, the seed messages and the rate-limit headers', () => {
    const responses = doc.components.responses as Record<string, { content: { 'application/json': { schema: Schema; example: unknown } }; headers?: Record<string, unknown> }>;
    const error = doc.components.schemas!.Error as Schema;
    for (const [name, response] of Object.entries(responses)) {
      expect(response.content['application/json'].schema, name).toEqual({ $ref: '#/components/schemas/Error' });
      expect(schemaProblems(error, response.content['application/json'].example), name).toEqual([]);
    }
    expect(responses.Unauthorized!.content['application/json'].example).toEqual({ success: false, error: 'Unauthorized', message: 'Invalid or missing API token' });
    expect(responses.Forbidden!.content['application/json'].example).toEqual({ success: false, error: 'Forbidden', message: 'Token does not have the required scope: customers:read' });
    expect(Object.keys(responses.TooManyRequests!.headers!)).toEqual(['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After']);
    for (const header of Object.values(responses.TooManyRequests!.headers!)) expect(() => resolve(header)).not.toThrow();
  });
});

describe('the document matches what the routes accept', () => {
  it('documents every refusal each operation really gives, with the error envelope', async () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    const bodyMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
    const limited = await t.bearer([...API_SCOPES], { rateLimitPerMinute: 1 });
    // Spend the one request now, so every probe with this token is over the limit and does nothing.
    await send('GET', `${BASE}/customers`).then(() => t.app.inject({ method: 'GET', url: `${BASE}/customers`, headers: { authorization: limited } }));
    const otherScope = (scope: string) => t.bearer([API_SCOPES.find((s) => s !== scope)!]);
    for (const { method, path, op } of operations()) {
      const scope = op['x-required-scope'];
      const probes: Array<[label: string, url: string, headers: Record<string, string>, payload?: string]> = [];
      if (scope) {
        probes.push(['no token', urlOf(path), {}]);
        probes.push(['another scope', urlOf(path), { authorization: await otherScope(scope) }]);
        probes.push(['over the rate limit', urlOf(path), { authorization: limited }]);
      }
      if (bodyMethods.has(method)) {
        probes.push(['malformed JSON', urlOf(path), { authorization, 'content-type': 'application/json' }, '{"name":']);
        probes.push(['an XML body', urlOf(path), { authorization, 'content-type': 'application/xml' }, '<a/>']);
        probes.push(['a body over 1 MiB', urlOf(path), { authorization, 'content-type': 'application/json' }, JSON.stringify({ name: 'x'.repeat(1024 * 1024) })]);
      }
      if (op.parameters?.some((p) => p.in === 'query')) probes.push(['an unknown query parameter', urlOf(path, 'surprise=1'), { authorization }]);
      if (path.includes('{id}')) {
        for (const id of ['abc', '0', 'x'.repeat(200), '%E0%A4%A']) probes.push([`id ${id.slice(0, 10)}`, `${BASE}${path.replace('{id}', id).replace('{deliveryId}', String(ids.delivery))}`, { authorization }]);
      }
      for (const [label, url, headers, payload] of probes) {
        try {
          const response = await t.app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) });
          seen.add(`${method} ${path} ${label}: ${response.statusCode}`);
        } catch (error) {
          problems.push(`${label}: ${(error as Error).message.split('\n').slice(1).join(' ')}`);
        }
      }
    }
    expect(problems).toEqual([]);
    // The probes did reach each kind of refusal.
    for (const status of [400, 401, 403, 404, 413, 414, 415, 422, 429]) expect([...seen].join('\n'), String(status)).toContain(`: ${status}`);
  });

  it('documents request bodies whose examples fit their schema and that the route accepts', async () => {
    let checked = 0;
    for (const { method, path, op } of operations()) {
      const content = op.requestBody?.content['application/json'];
      if (!content) continue;
      expect(content.example, `${method} ${path} has an example`).toBeDefined();
      expect(schemaProblems(content.schema, content.example), `${method} ${path}`).toEqual([]);
      // Tests have no DNS: a webhook URL's host is resolved before it is accepted, so use an address.
      const example: unknown = JSON.parse(JSON.stringify(content.example).replaceAll('crm.example.com', '93.184.215.14'));
      const response = await send(method, urlOf(path), example);
      expect(response.statusCode, `${method} ${path}: ${response.body}`).toBeLessThan(300);
      checked++;
    }
    expect(checked).toBe(5);
  });

  it('documents whole-number parameters as integers with the bounds the route accepts', async () => {
    const checked: string[] = [];
    for (const { method, path, op } of operations()) {
      for (const parameter of op.parameters ?? []) {
        if (!['id', 'page', 'per_page'].includes(parameter.name)) continue;
        const where = `${method} ${path} ${parameter.name}`;
        expect(parameter.schema, where).toMatchObject({ type: 'integer', minimum: expect.any(Number), maximum: expect.any(Number) });
        const { minimum, maximum } = parameter.schema as { minimum: number; maximum: number };
        if (parameter.in === 'path') {
          // Any id outside the bounds is answered like an unknown one (404), so ask the parser.
          expect(idParam.safeParse(String(minimum)).success && idParam.safeParse(String(maximum)).success, where).toBe(true);
          expect(idParam.safeParse(String(minimum - 1)).success || idParam.safeParse(String(BigInt(maximum) + 1n)).success, where).toBe(false);
        } else if (method === 'GET') {
          for (const value of [minimum, maximum]) expect((await send(method, urlOf(path, `${parameter.name}=${value}`))).statusCode, `${where}=${value}`).toBe(200);
          for (const value of [BigInt(minimum) - 1n, BigInt(maximum) + 1n]) {
            const response = await send(method, urlOf(path, `${parameter.name}=${value}`));
            expect([response.statusCode, Object.keys(response.json<{ errors?: object }>().errors ?? {})], `${where}=${value}`).toEqual([422, [parameter.name]]);
          }
        }
        checked.push(where);
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(14);
  });

  it('calls valid the international email addresses the routes accept', async () => {
    const address = 'zoë.müller@bücher.example';
    const response = await send('POST', `${BASE}/customers`, { name: 'Zoë Müller', email: address });
    expect(response.statusCode, response.body).toBe(201);
    for (const [method, path] of [['POST', '/customers'], ['PATCH', '/customers/{id}']] as const) {
      const schema = doc.paths[path]![method.toLowerCase()]!.requestBody!.content['application/json'].schema as { properties: Record<string, Schema> };
      expect(schemaProblems(schema.properties.email!, address), `${method} ${path}`).toEqual([]);
      expect(schemaProblems(schema.properties.email!, 'not an address'), `${method} ${path}`).not.toEqual([]);
    }
  });

  it('documents query parameters whose examples the route accepts', async () => {
    const checked: string[] = [];
    for (const { method, path, op } of operations()) {
      const query = new URLSearchParams();
      for (const parameter of op.parameters ?? []) {
        if (parameter.in !== 'query') continue;
        const example = (parameter.schema.examples as Array<string | number> | undefined)?.[0] ?? (parameter.schema.enum as string[] | undefined)?.[0];
        if (example === undefined) continue;
        expect(schemaProblems(parameter.schema, example), `${path} ${parameter.name}`).toEqual([]);
        query.set(parameter.name, String(example));
      }
      if ([...query.keys()].length === 0) continue;
      const response = await send(method, urlOf(path, query.toString()));
      expect(response.statusCode, `${method} ${path}?${query.toString()}: ${response.body}`).toBe(200);
      checked.push(`${path}?${query.toString()}`);
    }
    expect(checked).toHaveLength(3);
    expect(checked.join(' ')).toContain('/customers?search=player&email=player%40example.com&registered_after=2025-01-10');
  });

  /** Inputs the document calls invalid, made by breaking one rule of the schema at a time. */
  function invalidVariants(schema: Schema, example: Record<string, unknown>): Array<[label: string, body: unknown, field: string]> {
    const variants: Array<[string, unknown, string]> = [];
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) {
      const { [key]: _dropped, ...rest } = example;
      variants.push([`without ${key}`, rest, key]);
    }
    if (schema.additionalProperties === false) variants.push(['with an unknown property', { ...example, surprise: 1 }, 'surprise']);
    for (const [key, property] of Object.entries(properties)) {
      const candidates: unknown[] = [12345, 'not-a-valid-value-ä', true, [], { nested: 1 }, null, '', 'x'.repeat(300), -5, 1.5];
      for (const candidate of candidates) variants.push([`${key}=${JSON.stringify(candidate).slice(0, 20)}`, { ...example, [key]: candidate }, key]);
      if (property.enum) variants.push([`${key} outside the enum`, { ...example, [key]: 'zzz' }, key]);
    }
    return variants.filter(([, value]) => schemaProblems(schema, value).length > 0);
  }

  it('refuses with 422 every body the document calls invalid', async () => {
    const problems: string[] = [];
    let checked = 0;
    for (const { method, path, op } of operations()) {
      const content = op.requestBody?.content['application/json'];
      if (!content) continue;
      for (const [label, body, field] of invalidVariants(content.schema, content.example as Record<string, unknown>)) {
        const response = await send(method, urlOf(path), body);
        checked++;
        // Refused for the rule that was broken, not for something else (an email already taken).
        const named = Object.keys(response.json<{ errors?: object }>().errors ?? {});
        if (response.statusCode !== 422 || !(named.includes(field) || named.includes('body'))) {
          problems.push(`${method} ${path} ${label}: ${response.statusCode} ${response.body.slice(0, 150)}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(150);
  });

  /** A query string's value as OpenAPI reads it for the parameter's type (form style: digits are an integer). */
  function queryValue(schema: Schema, text: string): unknown {
    return schema.type === 'integer' && /^-?\d+$/.test(text) ? Number(text) : text;
  }

  it('refuses with 422 every query value the document calls invalid, and unknown parameters', async () => {
    const problems: string[] = [];
    let checked = 0;
    const candidates = ['', 'zzz', '-1', '0', '101', '1.5', 'x'.repeat(300), 'a\u0000b', '2025-02-30', '2025-01-10T08:00:00Z'];
    for (const { method, path, op } of operations()) {
      const parameters = (op.parameters ?? []).filter((p) => p.in === 'query');
      if (parameters.length === 0) continue;
      const unknown = await send(method, urlOf(path, 'surprise=1'));
      if (unknown.statusCode !== 422) problems.push(`${path}?surprise=1: ${unknown.statusCode}`);
      for (const parameter of parameters) {
        for (const value of candidates) {
          if (schemaProblems(parameter.schema, queryValue(parameter.schema, value)).length === 0) continue;
          const response = await send(method, urlOf(path, `${parameter.name}=${encodeURIComponent(value)}`));
          checked++;
          const named = Object.keys(response.json<{ errors?: object }>().errors ?? {});
          if (response.statusCode !== 422 || !named.includes(parameter.name)) problems.push(`${path}?${parameter.name}=${value.slice(0, 20)}: ${response.statusCode}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  });

  it('describes exactly the fields the routes answer with', async () => {
    const customerId = ids.id as number;
    const calls: Array<[string, string, unknown?]> = [
      ['GET', '/customers'],
      ['GET', `/customers/${customerId}`],
      ['POST', '/customers', { name: 'Schema Check', email: 'schema@example.com', discord_id: '223456789012345678', metadata: { a: [1, { b: null }] } }],
      ['PATCH', `/customers/${customerId}`, { game_user_id: 'AliceG' }],
      ['POST', '/checkout/check', { email: 'alice@example.com' }],
      ['POST', `/customers/${customerId}/link-url`],
      ['GET', '/webhooks'],
      ['GET', `/webhooks/${ids.webhook}`],
      ['GET', `/webhooks/${ids.webhook}/deliveries`],
      ['POST', `/webhooks/${ids.webhook}/test`],
      ['POST', '/webhooks', { url: 'https://93.184.215.20/hooks' }],
      ['GET', '/openapi.json'],
      ['GET', '/customers?per_page=500'],
      ['GET', '/customers/999999'],
    ];
    for (const [method, path, payload] of calls) {
      const response = await send(method, BASE + path, payload);
      const template = Object.keys(doc.paths).find((p) => new RegExp(`^${p.replace(/\{\w+\}/g, '[^/]+')}$`).test(path.split('?')[0]!))!;
      const op = doc.paths[template]![method.toLowerCase()]!;
      const documented = op.responses[String(response.statusCode)];
      expect(documented, `${method} ${path} answered ${response.statusCode}, which is not documented`).toBeDefined();
      const resolved = resolve(documented) as { content: { 'application/json': { schema: Schema } } };
      expect(schemaProblems(resolve(resolved.content['application/json'].schema), response.json()), `${method} ${path}`).toEqual([]);
    }
  });
});
