import type { FastifyPluginAsync } from 'fastify';
import { handleApiError } from '../api-envelope.js';
import { createApiAuth } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { apiWebhookRoutes } from './api-webhooks.js';

/**
 * The external REST API under /api/external/v1. Every route here gets the bearer-token check and
 * the rate limit (onRequest, before the body is read), must declare its scope with
 * `auth.requireScope(…)` (enforced when the route is added), and answers errors in the seed's
 * envelope. A new group of routes is one more `app.register(…, { deps, auth })` below.
 */
export const apiRoutes: FastifyPluginAsync<{ deps: HttpDeps }> = async (app, { deps }) => {
  const auth = createApiAuth(deps);
  app.decorateRequest('apiToken', null);
  app.addHook('onRoute', (route) => auth.assertRouteHasScope(route));
  app.addHook('onRequest', auth.authenticate);
  app.setErrorHandler(handleApiError);

  await app.register(apiWebhookRoutes, { deps, auth });
};
