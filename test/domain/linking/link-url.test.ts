import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { listActivity } from '../../../src/domain/customers/activity-log.js';
import { createApiToken } from '../../../src/domain/api-access/tokens.js';
import type { ManualClock } from '../../../src/shared/clock.js';
import { UserError } from '../../../src/shared/errors.js';
import { createLinkUrl, hashLinkSecret, LINK_TTL_MS } from '../../../src/domain/linking/link-sessions.js';
import type { Customer } from '../../../src/domain/customers/types.js';
import { handleJsonError } from '../../../src/http/http-errors.js';
import { createHttpApp } from '../../../src/http/app.js';
import { createApiAuth } from '../../../src/http/auth.js';
import type { HttpDeps } from '../../../src/http/deps.js';
import { apiLinkRoutes } from '../../../src/http/routes/api-link.js';
import { createLogger } from '../../../src/logger.js';
import { insertCustomer } from '../../../src/domain/customers/registration.js';
import type { Db } from '../../../src/store/database.js';
import { checkEveryInjectedAnswer, openApiCheckerOf } from '../../support/api-app.js';
import { APP_SECRET, pageText, startLinkHarness } from '../../support/link-harness.js';
import { useTestContext } from '../../support/context.js';

const PUBLIC_URL = 'https://shop.example.com';

let db: Db;
let clock: ManualClock;
let alice: Customer;
useTestContext(async (context) => {
  ({ db, clock } = context);
  alice = await insertCustomer(db, clock, { name: 'Alice', email: 'alice@example.com' });
});

describe('createLinkUrl', () => {
  it('issues a one-time URL under PUBLIC_URL that expires in 15 minutes', async () => {
    const link = await createLinkUrl(db, clock, { customerId: alice.id, publicUrl: PUBLIC_URL, appSecret: APP_SECRET });
    expect(link.url).toMatch(/^https:\/\/shop\.example\.com\/link\/[A-Za-z0-9_-]{43}$/);
    expect(link.expiresAt).toBe(new Date(clock.now().getTime() + LINK_TTL_MS).toISOString());
    expect(LINK_TTL_MS).toBe(15 * 60_000);
  });

  it('gives a different token every time', async () => {
    const first = await createLinkUrl(db, clock, { customerId: alice.id, publicUrl: PUBLIC_URL, appSecret: APP_SECRET });
    const second = await createLinkUrl(db, clock, { customerId: alice.id, publicUrl: PUBLIC_URL, appSecret: APP_SECRET });
    expect(first.url).not.toBe(second.url);
  });

  it('stores only a keyed hash of the token, never the token', async () => {
    const { url } = await createLinkUrl(db, clock, { customerId: alice.id, publicUrl: PUBLIC_URL, appSecret: APP_SECRET });
    const token = url.split('/').pop() ?? '';
    const row = await db.selectFrom('link_sessions').selectAll().executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row.token_hash).toBe(hashLinkSecret(APP_SECRET, 'token', token));
    expect(row.token_hash).not.toBe(hashLinkSecret('another-app-secret-0123456789abcdef', 'token', token));
    expect(row.customer_id).toBe(alice.id);
  });

  it('refuses an unknown customer', async () => {
    await expect(createLinkUrl(db, clock, { customerId: 9999, publicUrl: PUBLIC_URL, appSecret: APP_SECRET })).rejects.toMatchObject({
      code: 'customer_not_found',
    });
    await expect(createLinkUrl(db, clock, { customerId: 9999, publicUrl: PUBLIC_URL, appSecret: APP_SECRET })).rejects.toBeInstanceOf(UserError);
  });

  it('refuses to issue links when APP_SECRET is not set', async () => {
    await expect(createLinkUrl(db, clock, { customerId: alice.id, publicUrl: PUBLIC_URL, appSecret: undefined })).rejects.toMatchObject({
      code: 'linking_not_configured',
    });
  });

  it('deletes sessions that expired more than a day ago when issuing a new one', async () => {
    await createLinkUrl(db, clock, { customerId: alice.id, publicUrl: PUBLIC_URL, appSecret: APP_SECRET });
    clock.advance(LINK_TTL_MS + 24 * 60 * 60_000 + 1);
    await createLinkUrl(db, clock, { customerId: alice.id, publicUrl: PUBLIC_URL, appSecret: APP_SECRET });
    expect(await db.selectFrom('link_sessions').select('id').execute()).toHaveLength(1);
  });
});

describe('opening a link URL', () => {
  it('works until 15 minutes have passed, then says it has expired', async () => {
    const h = await startLinkHarness();
    try {
      const path = await h.linkPath();
      h.clock.advance(LINK_TTL_MS - 1);
      expect((await h.app.inject({ method: 'GET', url: path })).statusCode).toBe(200);
      h.clock.advance(1);
      const expired = await h.app.inject({ method: 'GET', url: path });
      expect(expired.statusCode).toBe(410);
      expect(pageText(expired.body)).toContain('This link has expired. Ask the store for a new link.');
    } finally {
      await h.close();
    }
  });

  it('does not accept a token signed with another APP_SECRET', async () => {
    const h = await startLinkHarness();
    try {
      const { url } = await createLinkUrl(h.db, h.clock, { customerId: h.alice.id, publicUrl: PUBLIC_URL, appSecret: 'another-app-secret-0123456789abcdef' });
      const res = await h.app.inject({ method: 'GET', url: new URL(url).pathname });
      expect(res.statusCode).toBe(404);
    } finally {
      await h.close();
    }
  });
});

describe('POST /customers/:id/link-url', () => {
  let app: FastifyInstance;

  /** The API plugin's own set-up (bearer token, scopes, envelope) around just this route, as api.ts would register it. */
  async function buildApi(env: Record<string, string> = { APP_SECRET, PUBLIC_URL }): Promise<FastifyInstance> {
    const deps: HttpDeps = {
      db,
      clock,
      config: loadConfig({ LOG_LEVEL: 'silent', ...env }),
      logger: createLogger('silent'),
      wake: { inboundEvents: () => {}, webhookDeliveries: () => {} },
    };
    const api = Fastify();
    await api.register(
      async (scope) => {
        const auth = createApiAuth(deps);
        scope.decorateRequest('apiToken', null);
        scope.addHook('onRoute', (route) => auth.assertRouteHasScope(route));
        scope.addHook('onRequest', auth.authenticate);
        scope.setErrorHandler(handleJsonError);
        await scope.register(apiLinkRoutes, { deps, auth });
      },
      { prefix: '/api/external/v1' },
    );
    await api.ready();
    // The route's answers are held to the whole app's API document, as those of the full app are.
    const full = await createHttpApp(deps);
    checkEveryInjectedAnswer(api, await openApiCheckerOf(full));
    await full.close();
    return api;
  }

  async function bearer(scopes: string[]): Promise<string> {
    const { token } = await createApiToken(db, clock, { name: 'store website', scopes });
    return `Bearer ${token}`;
  }

  beforeEach(async () => {
    app = await buildApi();
  });
  afterEach(async () => {
    await app.close();
  });

  it('issues a link URL for a customer, uncached, and logs who asked', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/api/external/v1/customers/${alice.id}/link-url`,
      headers: { authorization: await bearer(['customers:write']) },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<{ success: boolean; data: { url: string; expires_at: string } }>();
    expect(body.success).toBe(true);
    expect(body.data.url).toMatch(/^https:\/\/shop\.example\.com\/link\/[A-Za-z0-9_-]{43}$/);
    expect(body.data.expires_at).toBe('2026-11-22T12:15:00.000Z');
    const [entry] = await listActivity(db, { action: 'customer.link_url' });
    expect(entry?.targetId).toBe(String(alice.id));
    expect(entry?.actor.id).toMatch(/^api_token:\d+$/);
    expect(JSON.stringify(entry)).not.toContain(body.data.url.split('/').pop());
  });

  it('answers 404 for an unknown customer and for an id that cannot be one', async () => {
    const authorization = await bearer(['customers:write']);
    for (const id of ['9999', 'abc', '0', '-1']) {
      const res = await app.inject({ method: 'POST', url: `/api/external/v1/customers/${id}/link-url`, headers: { authorization } });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ success: false, error: 'Not Found' });
    }
  });

  it('requires a token with the customers:write scope', async () => {
    const anonymous = await app.inject({ method: 'POST', url: `/api/external/v1/customers/${alice.id}/link-url` });
    expect(anonymous.statusCode).toBe(401);
    const readOnly = await app.inject({
      method: 'POST',
      url: `/api/external/v1/customers/${alice.id}/link-url`,
      headers: { authorization: await bearer(['customers:read']) },
    });
    expect(readOnly.statusCode).toBe(403);
    expect(readOnly.json()).toMatchObject({ message: 'Token does not have the required scope: customers:write' });
    expect(await db.selectFrom('link_sessions').select('id').execute()).toEqual([]);
  });

  it('says linking is not set up when APP_SECRET is missing', async () => {
    await app.close();
    app = await buildApi({ PUBLIC_URL });
    const res = await app.inject({
      method: 'POST',
      url: `/api/external/v1/customers/${alice.id}/link-url`,
      headers: { authorization: await bearer(['customers:write']) },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ success: false, message: expect.stringContaining('APP_SECRET') });
  });
});
