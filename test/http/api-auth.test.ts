import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_SCOPES, createApiToken, revokeApiToken, type ApiScope } from '../../src/domain/api-access/tokens.js';
import { createWebhookEndpoint } from '../../src/domain/webhooks/endpoints.js';
import { enqueueTestDelivery } from '../../src/domain/webhooks/outbox.js';
import { createApiAuth } from '../../src/http/auth.js';
import { startApiTestApp, type ApiTestApp } from '../support/api-app.js';

const BASE = '/api/external/v1';
const staff = { id: '111111111111111111', name: 'Sam' };
const UNAUTHORIZED = { success: false, error: 'Unauthorized', message: 'Invalid or missing API token' };

interface Fixture {
  endpointId: number;
  deliveryId: string;
}

interface RouteCase {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: (f: Fixture) => string;
  scope: ApiScope;
  body?: Record<string, unknown>;
  success: number;
}

const ROUTES: RouteCase[] = [
  { method: 'GET', path: () => '/webhooks', scope: 'webhooks:read', success: 200 },
  { method: 'POST', path: () => '/webhooks', scope: 'webhooks:write', body: { url: 'https://93.184.215.14/hooks' }, success: 201 },
  { method: 'GET', path: (f) => `/webhooks/${f.endpointId}`, scope: 'webhooks:read', success: 200 },
  { method: 'PUT', path: (f) => `/webhooks/${f.endpointId}`, scope: 'webhooks:write', body: { description: 'CRM sync' }, success: 200 },
  { method: 'DELETE', path: (f) => `/webhooks/${f.endpointId}`, scope: 'webhooks:write', success: 200 },
  { method: 'POST', path: (f) => `/webhooks/${f.endpointId}/test`, scope: 'webhooks:write', success: 202 },
  { method: 'GET', path: (f) => `/webhooks/${f.endpointId}/deliveries`, scope: 'webhooks:read', success: 200 },
  { method: 'POST', path: (f) => `/webhooks/${f.endpointId}/deliveries/${f.deliveryId}/redeliver`, scope: 'webhooks:write', success: 202 },
];

let t: ApiTestApp;
let fixture: Fixture;

beforeEach(async () => {
  t = await startApiTestApp();
  const { endpoint } = await createWebhookEndpoint(t.db, t.clock, { url: 'https://93.184.215.14/crm', actor: staff }, { allowPrivateGlobally: false });
  const delivery = await enqueueTestDelivery(t.db, t.clock, endpoint.id, staff);
  fixture = { endpointId: endpoint.id, deliveryId: delivery.id };
});
afterEach(async () => {
  await t.close();
});

async function call(route: RouteCase, authorization?: string) {
  return t.app.inject({
    method: route.method,
    url: BASE + route.path(fixture),
    headers: authorization === undefined ? {} : { authorization },
    ...(route.body ? { payload: route.body } : {}),
  });
}

async function tokenWith(scopes: ApiScope[], extra: { expiresAt?: string } = {}) {
  return createApiToken(t.db, t.clock, { name: 'test', scopes, ...extra });
}

describe.each(ROUTES)('$method $scope route %#', (route) => {
  const name = `${route.method} ${route.path({ endpointId: 1, deliveryId: 'del_x' })}`;

  it(`${name} refuses a request without a token with the 401 envelope`, async () => {
    const response = await call(route);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHORIZED);
    expect(response.headers['www-authenticate']).toBe('Bearer');
  });

  it(`${name} refuses a malformed Authorization header with the 401 envelope`, async () => {
    const { token } = await tokenWith([route.scope]);
    const response = await call(route, `Token ${token}`);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHORIZED);
  });

  it(`${name} refuses a token nobody issued with the 401 envelope`, async () => {
    const response = await call(route, `Bearer cdk_${'x'.repeat(43)}`);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHORIZED);
  });

  it(`${name} refuses a revoked token with the 401 envelope`, async () => {
    const { token, record } = await tokenWith([route.scope]);
    await revokeApiToken(t.db, t.clock, record.id);
    const response = await call(route, `Bearer ${token}`);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHORIZED);
  });

  it(`${name} refuses an expired token with the 401 envelope`, async () => {
    const { token } = await tokenWith([route.scope], { expiresAt: '2026-11-22T12:30:00Z' });
    t.clock.advance(60 * 60_000);
    const response = await call(route, `Bearer ${token}`);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHORIZED);
  });

  it(`${name} refuses a token with every scope but ${route.scope} with the 403 envelope`, async () => {
    const { token } = await tokenWith(API_SCOPES.filter((s) => s !== route.scope));
    const response = await call(route, `Bearer ${token}`);
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ success: false, error: 'Forbidden', message: `Token does not have the required scope: ${route.scope}` });
  });

  it(`${name} serves a token with ${route.scope}`, async () => {
    const { token } = await tokenWith([route.scope]);
    const response = await call(route, `Bearer ${token}`);
    expect(response.statusCode).toBe(route.success);
    expect(response.json()).toMatchObject({ success: true });
  });
});

describe('the Authorization header', () => {
  it('accepts the scheme in any case and refuses every other shape', async () => {
    const { token } = await tokenWith(['webhooks:read']);
    const get = (authorization: string) => t.app.inject({ method: 'GET', url: `${BASE}/webhooks`, headers: { authorization } });
    expect((await get(`bearer ${token}`)).statusCode).toBe(200);
    for (const bad of ['Bearer', 'Bearer ', `Bearer${token}`, `Bearer ${token} extra`, `Basic ${token}`, token, `Bearer "${token}"`]) {
      const response = await get(bad);
      expect(response.statusCode, bad).toBe(401);
      expect(response.json()).toEqual(UNAUTHORIZED);
    }
  });
});

describe('revocation', () => {
  it('refuses a token from the first request after it is revoked, though it was serving requests a moment before', async () => {
    const { token, record } = await tokenWith(['webhooks:read']);
    const get = () => t.app.inject({ method: 'GET', url: `${BASE}/webhooks`, headers: { authorization: `Bearer ${token}` } });
    expect((await get()).statusCode).toBe(200);
    expect((await get()).statusCode).toBe(200);
    // The CLI revokes from its own process: nothing in this one hears of it but the database.
    await revokeApiToken(t.db, t.clock, record.id);
    const response = await get();
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHORIZED);
  });
});

describe('the rate limit', () => {
  it("answers 429 with Retry-After once a token has used its requests for the minute, and serves it again in the next window", async () => {
    const authorization = await t.bearer(['webhooks:read'], { rateLimitPerMinute: 3 });
    const get = () => t.app.inject({ method: 'GET', url: `${BASE}/webhooks`, headers: { authorization } });
    const resetAt = String(Math.ceil((t.clock.now().getTime() + 60_000) / 1000));

    for (const remaining of ['2', '1', '0']) {
      const response = await get();
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-ratelimit-limit']).toBe('3');
      expect(response.headers['x-ratelimit-remaining']).toBe(remaining);
      expect(response.headers['x-ratelimit-reset']).toBe(resetAt);
    }

    t.clock.advance(20_000);
    const limited = await get();
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('40');
    expect(limited.headers['x-ratelimit-limit']).toBe('3');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.headers['x-ratelimit-reset']).toBe(resetAt);
    expect(limited.json()).toEqual({ success: false, error: 'Too Many Requests', message: 'Rate limit of 3 requests per minute exceeded; retry in 40 s.' });

    t.clock.advance(40_000);
    const next = await get();
    expect(next.statusCode).toBe(200);
    expect(next.headers['x-ratelimit-remaining']).toBe('2');
  });

  it('counts each token on its own and uses the default of 60 a minute', async () => {
    const busy = await t.bearer(['webhooks:read'], { rateLimitPerMinute: 1 });
    const other = await t.bearer(['webhooks:read']);
    const get = (authorization: string) => t.app.inject({ method: 'GET', url: `${BASE}/webhooks`, headers: { authorization } });
    expect((await get(busy)).statusCode).toBe(200);
    expect((await get(busy)).statusCode).toBe(429);
    const response = await get(other);
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-ratelimit-limit']).toBe('60');
    expect(response.headers['x-ratelimit-remaining']).toBe('59');
  });

  it('does not count requests that fail authentication against anyone', async () => {
    const authorization = await t.bearer(['webhooks:read'], { rateLimitPerMinute: 1 });
    for (let i = 0; i < 3; i++) await t.app.inject({ method: 'GET', url: `${BASE}/webhooks` });
    expect((await t.app.inject({ method: 'GET', url: `${BASE}/webhooks`, headers: { authorization } })).statusCode).toBe(200);
  });
});

describe('declaring scopes', () => {
  it('refuses, when the app is built, an API route that declares no scope', () => {
    const app = Fastify();
    const auth = createApiAuth(t.deps);
    app.addHook('onRoute', (route) => auth.assertRouteHasScope(route));
    app.get('/scoped', { preHandler: auth.requireScope('customers:read') }, () => 'ok');
    expect(() => app.get('/open', () => 'oops')).toThrow('API route GET /open declares no scope');
  });

  it('checks the scope on the HEAD twin of a GET route too', async () => {
    const response = await t.app.inject({ method: 'HEAD', url: `${BASE}/webhooks`, headers: { authorization: await t.bearer(['customers:read']) } });
    expect(response.statusCode).toBe(403);
  });
});
