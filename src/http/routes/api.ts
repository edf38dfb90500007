import type { FastifyPluginAsync } from 'fastify';
import type { HttpDeps } from '../deps.js';

/** The external REST API under /api/external/v1. */
export const apiRoutes: FastifyPluginAsync<{ deps: HttpDeps }> = async () => {};
