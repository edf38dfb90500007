import type { FastifyPluginAsync } from 'fastify';
import type { HttpDeps } from '../deps.js';

/** POST /webhooks/store: the store's signed purchase events. */
export const storeWebhookRoutes: FastifyPluginAsync<{ deps: HttpDeps }> = async () => {};
