import type { FastifyPluginAsync } from 'fastify';
import type { HttpDeps } from '../deps.js';

/** The customer-facing account-linking pages under /link. */
export const linkRoutes: FastifyPluginAsync<{ deps: HttpDeps }> = async () => {};
