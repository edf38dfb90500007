import { loadConfig } from '../../src/config.js';
import { createApiToken, type ApiScope } from '../../src/domain/api-access/tokens.js';
import type { ManualClock } from '../../src/shared/clock.js';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createHttpApp, type HttpApp } from '../../src/http/app.js';
import { API_BASE_PATH } from '../../src/http/routes/api.js';
import type { HttpDeps } from '../../src/http/deps.js';
import type { Db } from '../../src/store/database.js';
import { openTestContext } from './context.js';
import { OpenApiResponseChecker } from './openapi-check.js';

export interface ApiTestApp {
  app: HttpApp;
  db: Db;
  clock: ManualClock;
  deps: HttpDeps;
  wakes: { inboundEvents: number; webhookDeliveries: number };
  /** The served OpenAPI document's checker; `app.inject` already runs every API answer through it. */
  openApi: OpenApiResponseChecker;
  /** Issues a token with these scopes and returns its Authorization header value. */
  bearer(scopes: ApiScope[], options?: { rateLimitPerMinute?: number; expiresAt?: string }): Promise<string>;
  close(): Promise<void>;
}

/**
 * The real HTTP app over a migrated in-memory database, with counted worker wake-ups. Every
 * answer `app.inject` gets under the API's base path is checked against the OpenAPI document the
 * app serves: one the document does not describe fails the call, and with it the test.
 */
export async function startApiTestApp(env: Record<string, string> = {}): Promise<ApiTestApp> {
  const context = await openTestContext();
  const { db, clock, logger } = context;
  const wakes = { inboundEvents: 0, webhookDeliveries: 0 };
  const deps: HttpDeps = {
    db,
    clock,
    config: loadConfig(env),
    logger,
    wake: {
      inboundEvents: () => void wakes.inboundEvents++,
      webhookDeliveries: () => void wakes.webhookDeliveries++,
    },
  };
  const app = await createHttpApp(deps);
  const openApi = await openApiCheckerOf(app);
  checkEveryInjectedAnswer(app, openApi);
  return {
    app,
    db,
    clock,
    deps,
    wakes,
    openApi,
    async bearer(scopes, options = {}) {
      const { token } = await createApiToken(db, clock, { name: `test ${scopes.join(' ')}`, scopes, ...options });
      return `Bearer ${token}`;
    },
    async close() {
      await app.close();
      await context.close();
    },
  };
}

/** Any Fastify instance, whatever its logger type. */
type Injectable = Pick<FastifyInstance, 'inject'>;

/** A checker over the OpenAPI document `app` serves. */
export async function openApiCheckerOf(app: Injectable): Promise<OpenApiResponseChecker> {
  return OpenApiResponseChecker.create((await app.inject({ method: 'GET', url: `${API_BASE_PATH}/openapi.json` })).json());
}

/**
 * From now on `app.inject` fails the call when an answer under the API's base path is not what
 * the document describes (status, media type, body).
 */
export function checkEveryInjectedAnswer(app: Injectable, checker: OpenApiResponseChecker): void {
  const inject = app.inject.bind(app);
  const checked = async (options: InjectOptions | string) => {
    const response = await inject(options);
    const request = typeof options === 'string' ? { url: options } : options;
    const target = request.url ?? request.path ?? '/';
    const contentType = response.headers['content-type'];
    checker.assertDocumented({
      method: request.method ?? 'GET',
      url: typeof target === 'string' ? target : target.pathname,
      status: response.statusCode,
      contentType: contentType === undefined ? undefined : String(contentType),
      body: response.body,
      headers: response.headers,
    });
    return response;
  };
  Object.defineProperty(app, 'inject', {
    value: (options?: InjectOptions | string, callback?: unknown) => {
      // The chained and callback forms would bypass the check; no test needs them.
      if (options === undefined || callback !== undefined) throw new Error('call app.inject with request options and await it');
      return checked(options);
    },
  });
}
