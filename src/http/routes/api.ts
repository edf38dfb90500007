import type { FastifyPluginAsync } from 'fastify';
import { handleJsonError } from '../http-errors.js';
import { createApiAuth } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { ApiRouteRegistry, openApiDocumentRoute } from '../openapi.js';
import { apiCustomerRoutes, customerLinkUrlDoc } from './api-customers.js';
import { apiGdprRoutes } from './api-gdpr.js';
import { apiLinkRoutes } from './api-link.js';
import { apiWebhookRoutes } from './api-webhooks.js';

export const API_BASE_PATH = '/api/external/v1';

/**
 * The external REST API under /api/external/v1. Every route in the inner scope gets the
 * bearer-token check and the rate limit (onRequest, before the body is read), must declare its
 * scope with `auth.requireScope(…)` (enforced when the route is added), and answers errors in the
 * envelope of docs/product.md#rest-api. Routes are declared in the registry (src/http/openapi.ts), which validates
 * their input and writes the OpenAPI document served, without a token, at /openapi.json.
 * A new group of routes is one more `scope.register(…, { deps, auth, registry })` below.
 */
export const apiRoutes: FastifyPluginAsync<{ deps: HttpDeps; registry?: ApiRouteRegistry }> = async (app, { deps, registry: given }) => {
  const registry = given ?? new ApiRouteRegistry({ basePath: API_BASE_PATH });
  app.decorateRequest('apiToken', null);
  app.setErrorHandler(handleJsonError);

  registry.mount(app, null, openApiDocumentRoute, () => Promise.resolve(registry.document()));

  await app.register(async (scope) => {
    const auth = createApiAuth(deps);
    scope.addHook('onRoute', (route) => {
      auth.assertRouteHasScope(route);
      registry.noteServedRoute(route);
    });
    scope.addHook('onRequest', auth.authenticate);

    await scope.register(apiWebhookRoutes, { deps, auth, registry });
    await scope.register(apiCustomerRoutes, { deps, auth, registry });
    await scope.register(apiGdprRoutes, { deps, auth, registry });
    await scope.register(apiLinkRoutes, { deps, auth });
    registry.describe(customerLinkUrlDoc);
  });
};
