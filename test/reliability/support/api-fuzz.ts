import type { LightMyRequestResponse } from 'fastify';
import { API_SCOPES, createApiToken, revokeApiToken, type ApiScope } from '../../../src/domain/api-access/tokens.js';
import type { OpenApiDocument, OpenApiOperation } from '../../../src/http/openapi.js';
import { startApiTestApp, type ApiTestApp } from '../../support/api-app.js';
import { validate, type Schema } from './json-schema.js';
import { pick, seededRandom } from './random.js';

// Requests generated from the API's own OpenAPI document: every path, query and body parameter
// gets valid values, wrong types, boundary and huge values, odd Unicode and injection strings.
// Every answer must be documented for its operation and conform to the documented schema, never
// be a 5xx, and never contain a password hash, a customer's IP address or an API token. Then
// every route × token kind (none, revoked, expired, wrong scope, right scope) behaves as documented.

const BASE = '/api/external/v1';
const CUSTOMER_IPS = ['198.51.100.23', '2001:db8::7', '203.0.113.7'];
export const HOSTILE_STRINGS = [
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
export const TOKEN_KINDS = ['none', 'revoked', 'expired', 'wrong scope', 'right scope'] as const;

interface Operation {
  method: string;
  path: string;
  op: OpenApiOperation;
}

export interface ApiFuzzResult {
  operations: number;
  /** Generated requests: the sweep of every parameter, then `randomRequests` combined ones. */
  sent: number;
  byStatus: Record<string, number>;
  serverErrors: number;
  undocumentedStatuses: number;
  schemaViolations: number;
  /** Answers holding a password hash, a customer's IP address or a token (or such a field). */
  leaks: number;
  matrix: {
    routes: number;
    checked: number;
    /** Answers other than 401 (none, revoked, expired), 403 (wrong scope) or an accepted answer (right scope). */
    wrongAnswers: number;
    /** Answers whose status or body the document does not describe, or that leak a secret. */
    undocumented: number;
    byKind: Record<string, Record<string, number>>;
  };
  problems: string[];
}

interface Context {
  t: ApiTestApp;
  doc: OpenApiDocument;
  everything: string;
  ids: Record<string, string>;
  secrets: string[];
}

type Problem = { kind: 'server' | 'undocumented' | 'schema' | 'leak'; text: string };

function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
}

function realPath(ctx: Context, path: string, overrides: Record<string, string> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => overrides[name] ?? (name === 'deliveryId' ? ctx.ids.delivery! : path.startsWith('/webhooks') ? ctx.ids.webhook! : ctx.ids.customer!));
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

function hasSecretKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasSecretKey);
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([key, inner]) => /^(password|password_hash|last_ip|ip|token_hash)$/.test(key) || hasSecretKey(inner));
}

/** What is wrong with an answer: undocumented status, schema violation, 5xx, or a leaked secret. */
function problemsWith(ctx: Context, response: LightMyRequestResponse, operation: Operation, label: string): Problem[] {
  const problems: Problem[] = [];
  const status = String(response.statusCode);
  if (response.statusCode >= 500) problems.push({ kind: 'server', text: `${label}: ${status} ${response.body.slice(0, 200)}` });
  let documented = operation.op.responses[status] as Schema | undefined;
  if (documented === undefined) {
    problems.push({ kind: 'undocumented', text: `${label}: status ${status} is not documented (${response.body.slice(0, 120)})` });
    return problems;
  }
  if (typeof documented.$ref === 'string') {
    const name = documented.$ref.split('/').pop() ?? '';
    documented = (ctx.doc.components.responses as Record<string, Schema>)[name] ?? {};
  }
  // The answer is judged by the schema of its own media type (the GDPR export as CSV is text/csv).
  const media = String(response.headers['content-type'] ?? '').split(';')[0]!.trim();
  const content = (documented.content ?? {}) as Record<string, { schema: Schema }>;
  if (response.statusCode !== 204 && operation.method !== 'HEAD' && Object.keys(content).length > 0 && !content[media]) {
    problems.push({ kind: 'schema', text: `${label}: ${status} answered ${media || 'no media type'}, documented ${Object.keys(content).join(', ')}` });
    return problems;
  }
  const schema = content[media]?.schema;
  if (schema && response.statusCode !== 204 && operation.method !== 'HEAD') {
    let body: unknown;
    const json = media === 'application/json';
    try {
      body = json ? response.json() : response.body;
    } catch {
      problems.push({ kind: 'schema', text: `${label}: ${status} is not JSON` });
      return problems;
    }
    for (const problem of validate(body, schema, ctx.doc).slice(0, 3)) problems.push({ kind: 'schema', text: `${label}: ${status} ${problem}` });
  }
  if (operation.path !== '/openapi.json') {
    const text = `${response.body}\n${JSON.stringify(response.headers)}`;
    // The one exception: the data subject's own GDPR access export (Art. 15) gives them the
    // address they were last seen from, labelled as such. Password hashes and tokens never appear.
    const subjectExport = operation.path === '/customers/{id}/export';
    for (const secret of ctx.secrets) {
      if (subjectExport && CUSTOMER_IPS.includes(secret)) continue;
      if (text.includes(secret)) problems.push({ kind: 'leak', text: `${label}: the answer contains a secret (${secret.slice(0, 12)}…)` });
    }
    if (response.statusCode < 300 && !subjectExport && String(response.headers['content-type'] ?? '').startsWith('application/json') && hasSecretKey(response.json<{ data?: unknown }>().data)) {
      problems.push({ kind: 'leak', text: `${label}: the answer has a password or ip field` });
    }
  }
  return problems;
}

/** The app with customers registered the way the store does it: with a password and the address they came from. */
async function setUp(): Promise<Context> {
  const t = await startApiTestApp();
  const everything = await t.bearer([...API_SCOPES], { rateLimitPerMinute: 10_000 });
  const ctx: Context = { t, doc: undefined as unknown as OpenApiDocument, everything, ids: {}, secrets: [everything.slice('Bearer '.length)] };
  ctx.doc = (await t.app.inject({ method: 'GET', url: `${BASE}/openapi.json` })).json<OpenApiDocument>();
  for (const [i, ip] of CUSTOMER_IPS.entries()) {
    const response = await t.app.inject({
      method: 'POST',
      url: `${BASE}/customers`,
      headers: { authorization: everything },
      payload: { name: `Fuzz ${i}`, email: `fuzz${i}@example.com`, password: 'correct horse battery staple', ip, metadata: { tier: i } },
    });
    if (response.statusCode !== 201) throw new Error(`could not register a customer: ${response.statusCode} ${response.body}`);
    ctx.ids.customer ??= String(response.json().data.id);
  }
  const endpoint = await t.app.inject({ method: 'POST', url: `${BASE}/webhooks`, headers: { authorization: everything }, payload: { url: 'https://93.184.215.14/crm' } });
  ctx.ids.webhook = String(endpoint.json().data.id);
  const test = await t.app.inject({ method: 'POST', url: `${BASE}/webhooks/${ctx.ids.webhook}/test`, headers: { authorization: everything } });
  ctx.ids.delivery = String(test.json().data.id);
  const hashes = await t.db.selectFrom('customers').select('password_hash').where('password_hash', 'is not', null).execute();
  if (hashes.length !== CUSTOMER_IPS.length) throw new Error(`expected ${CUSTOMER_IPS.length} password hashes, found ${hashes.length}`);
  ctx.secrets.push(...hashes.map((h) => h.password_hash!), ...CUSTOMER_IPS);
  return ctx;
}

/** The documented example body, without the password so that accepted requests skip scrypt. */
function exampleBody(operation: Operation): Record<string, unknown> | undefined {
  const content = operation.op.requestBody?.content['application/json'];
  if (!content) return undefined;
  const { password: _password, ...example } = (content.example ?? {}) as Record<string, unknown>;
  return example;
}

/**
 * Sends every parameter of every operation each boundary and hostile value (one at a time), then
 * `randomRequests` requests that give several parameters and body fields such values at once,
 * then the route × token matrix. Figures count every problem; `problems` keeps the first 30.
 */
export async function runApiFuzz(options: { randomRequests: number; seed: number }): Promise<ApiFuzzResult> {
  const ctx = await setUp();
  const { t } = ctx;
  const operations = operationsOf(ctx.doc);
  const result: ApiFuzzResult = {
    operations: operations.length,
    sent: 0,
    byStatus: {},
    serverErrors: 0,
    undocumentedStatuses: 0,
    schemaViolations: 0,
    leaks: 0,
    matrix: { routes: 0, checked: 0, wrongAnswers: 0, undocumented: 0, byKind: {} },
    problems: [],
  };
  const note = (text: string) => {
    if (result.problems.length < 30) result.problems.push(text);
  };
  const count = (problems: Problem[]) => {
    for (const problem of problems) {
      if (problem.kind === 'server') result.serverErrors++;
      else if (problem.kind === 'undocumented') result.undocumentedStatuses++;
      else if (problem.kind === 'schema') result.schemaViolations++;
      else result.leaks++;
      note(problem.text);
    }
  };
  const send = async (operation: Operation, url: string, payload: unknown, label: string) => {
    const response = await t.app.inject({
      method: operation.method as 'GET',
      url,
      headers: { authorization: ctx.everything },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    result.sent++;
    result.byStatus[response.statusCode] = (result.byStatus[response.statusCode] ?? 0) + 1;
    count(problemsWith(ctx, response, operation, label));
  };

  try {
    for (const operation of operations) {
      const { method, path, op } = operation;
      const body = exampleBody(operation);
      for (const parameter of op.parameters ?? []) {
        for (const value of [...boundaryValues(parameter.schema), ...HOSTILE_STRINGS]) {
          const url =
            parameter.in === 'path'
              ? BASE + realPath(ctx, path, { [parameter.name]: encode(value) })
              : `${BASE}${realPath(ctx, path)}?${parameter.name}=${encode(value)}`;
          await send(operation, url, body, `${method} ${path} ${parameter.in} ${parameter.name}=${JSON.stringify(value).slice(0, 40)}`);
        }
      }
      const properties = (op.requestBody?.content['application/json']?.schema.properties ?? {}) as Record<string, Schema>;
      for (const [field, schema] of Object.entries(properties)) {
        for (const value of [...boundaryValues(schema), ...HOSTILE_VALUES]) {
          await send(operation, BASE + realPath(ctx, path), { ...body, [field]: value }, `${method} ${path} body ${field}=${JSON.stringify(value).slice(0, 40)}`);
        }
      }
      await send(operation, BASE + realPath(ctx, path), body, `${method} ${path} as documented`);
    }

    // Combinations: each parameter and body field kept valid, left out, or given a generated value.
    const random = seededRandom(options.seed);
    for (let i = 0; i < options.randomRequests; i++) {
      const operation = pick(random, operations);
      const { method, path, op } = operation;
      const overrides: Record<string, string> = {};
      const query: string[] = [];
      for (const parameter of op.parameters ?? []) {
        const roll = random();
        if (roll < 0.3) continue;
        const pool = roll < 0.6 ? boundaryValues(parameter.schema) : HOSTILE_STRINGS;
        const value = pool.length > 0 ? pick(random, pool) : pick(random, HOSTILE_STRINGS);
        if (parameter.in === 'path') overrides[parameter.name] = encode(value);
        else query.push(`${parameter.name}=${encode(value)}`);
      }
      let body = exampleBody(operation);
      const properties = (op.requestBody?.content['application/json']?.schema.properties ?? {}) as Record<string, Schema>;
      if (body !== undefined) {
        body = { ...body };
        for (const [field, schema] of Object.entries(properties)) {
          const roll = random();
          if (roll < 0.4) continue;
          if (roll < 0.5) delete body[field];
          else body[field] = roll < 0.75 && boundaryValues(schema).length > 0 ? pick(random, boundaryValues(schema)) : pick(random, HOSTILE_VALUES);
        }
      }
      const url = `${BASE}${realPath(ctx, path, overrides)}${query.length ? `?${query.join('&')}` : ''}`;
      await send(operation, url, body, `${method} ${path} combined #${i} ${url.slice(0, 80)} ${JSON.stringify(body ?? null).slice(0, 80)}`);
    }

    for (const operation of operations) {
      const scope = operation.op['x-required-scope'];
      if (scope === undefined) continue;
      result.matrix.routes++;
      for (const kind of TOKEN_KINDS) {
        let authorization: string | undefined;
        if (kind !== 'none') {
          const scopes: ApiScope[] = kind === 'wrong scope' ? API_SCOPES.filter((s) => s !== scope) : [scope];
          const { token, record } = await createApiToken(t.db, t.clock, {
            name: kind,
            scopes,
            ...(kind === 'expired' ? { expiresAt: new Date(t.clock.now().getTime() + 1_000).toISOString() } : {}),
          });
          ctx.secrets.push(token);
          if (kind === 'revoked') await revokeApiToken(t.db, t.clock, record.id);
          authorization = `Bearer ${token}`;
        }
        if (kind === 'expired') t.clock.advance(2_000);
        const body = exampleBody(operation);
        const response = await t.app.inject({
          method: operation.method as 'GET',
          url: BASE + realPath(ctx, operation.path),
          headers: authorization === undefined ? {} : { authorization },
          ...(body ? { payload: body } : {}),
        });
        result.matrix.checked++;
        const byKind = (result.matrix.byKind[kind] ??= {});
        byKind[response.statusCode] = (byKind[response.statusCode] ?? 0) + 1;
        const label = `${operation.method} ${operation.path} with ${kind}`;
        const expected = kind === 'right scope' ? null : kind === 'wrong scope' ? 403 : 401;
        let wrong: string | undefined;
        if (expected !== null && response.statusCode !== expected) wrong = `${label}: ${response.statusCode}, documented ${expected}`;
        if (expected === null && (response.statusCode === 401 || response.statusCode === 403)) wrong = `${label}: refused with ${response.statusCode}`;
        if (expected === 403) {
          const message = response.json<{ message?: string }>().message;
          if (message !== `Token does not have the required scope: ${scope}`) wrong = `${label}: message ${message}`;
        }
        if (wrong !== undefined) {
          result.matrix.wrongAnswers++;
          note(wrong);
        }
        const problems = problemsWith(ctx, response, operation, label);
        result.matrix.undocumented += problems.length;
        count(problems);
      }
    }
  } finally {
    await t.close();
  }
  return result;
}
