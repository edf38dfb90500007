import { loadConfig } from '../../src/config.js';
import { createApiToken, type ApiScope } from '../../src/domain/api-tokens.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createHttpApp, type HttpApp } from '../../src/http/app.js';
import type { HttpDeps } from '../../src/http/deps.js';
import { createLogger } from '../../src/logger.js';
import type { Db } from '../../src/store/database.js';
import { openTestDatabase } from './database.js';

export interface ApiTestApp {
  app: HttpApp;
  db: Db;
  clock: ManualClock;
  deps: HttpDeps;
  wakes: { inboundEvents: number; webhookDeliveries: number };
  /** Issues a token with these scopes and returns its Authorization header value. */
  bearer(scopes: ApiScope[], options?: { rateLimitPerMinute?: number; expiresAt?: string }): Promise<string>;
  close(): Promise<void>;
}

/** The real HTTP app over a migrated in-memory database, with counted worker wake-ups. */
export async function startApiTestApp(env: Record<string, string> = {}): Promise<ApiTestApp> {
  const { db } = await openTestDatabase();
  const clock = new ManualClock('2026-11-22T12:00:00.000Z');
  const wakes = { inboundEvents: 0, webhookDeliveries: 0 };
  const deps: HttpDeps = {
    db,
    clock,
    config: loadConfig(env),
    logger: createLogger('silent'),
    wake: {
      inboundEvents: () => void wakes.inboundEvents++,
      webhookDeliveries: () => void wakes.webhookDeliveries++,
    },
  };
  const app = await createHttpApp(deps);
  return {
    app,
    db,
    clock,
    deps,
    wakes,
    async bearer(scopes, options = {}) {
      const { token } = await createApiToken(db, clock, { name: `test ${scopes.join(' ')}`, scopes, ...options });
      return `Bearer ${token}`;
    },
    async close() {
      await app.close();
      await db.destroy();
    },
  };
}
