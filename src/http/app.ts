import Fastify, { LogController } from 'fastify';
import { handleJsonError, refusalOf, sendJsonError } from './http-errors.js';
import { newReference } from '../logger.js';
import type { HttpDeps } from './deps.js';
import { apiRoutes } from './routes/api.js';
import { downloadRoutes } from './routes/downloads.js';
import { linkRoutes } from './routes/link-pages.js';
import { storeWebhookRoutes } from './routes/store-webhook.js';

export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Builds the HTTP app with every route; it never listens (the composition root does), so tests
 * call `app.inject()` without a socket.
 */
export async function createHttpApp(deps: HttpDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT_BYTES,
    // A slow or stuck client must not hold a connection (and its memory) for long.
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 10_000,
    return503OnClosing: true,
    // Behind a reverse proxy the customer's address (country, IP bans) is in X-Forwarded-For,
    // trusted only from the proxies the store names.
    trustProxy: typeof deps.config.trustProxy === 'number' ? hopsTrusted(deps.config.trustProxy) : deps.config.trustProxy,
    // One log line per request is noise at a thousand purchase events a second; debug shows them.
    logController: new LogController({ disableRequestLogging: deps.config.logLevel !== 'debug' && deps.config.logLevel !== 'trace' }),
    genReqId: () => newReference(),
    // The router refuses a malformed URL (bad percent-encoding, an over-long path parameter)
    // before any plugin runs: answer it in the same envelope as every other refusal.
    frameworkErrors: (error, _request, reply) => {
      void sendJsonError(reply, refusalOf(error)?.status ?? 400, error.message);
    },
  });

  app.setErrorHandler(handleJsonError);
  app.setNotFoundHandler((request, reply) =>
    sendJsonError(reply, 404, `No route for ${request.method} ${request.url.split('?')[0] ?? ''}`),
  );

  app.get('/healthz', () => ({ ok: true }));
  await app.register(storeWebhookRoutes, { deps });
  await app.register(linkRoutes, { deps });
  await app.register(downloadRoutes, { deps });
  await app.register(apiRoutes, { prefix: '/api/external/v1', deps });
  return app;
}

/** Trust the nearest `hops` proxies, as proxy-addr counts them. */
function hopsTrusted(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

export type HttpApp = Awaited<ReturnType<typeof createHttpApp>>;
