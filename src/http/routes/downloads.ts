import type { FastifyPluginAsync } from 'fastify';
import type { HttpDeps } from '../deps.js';

/** Signed, expiring download links for exports too large for a Discord upload. */
export const downloadRoutes: FastifyPluginAsync<{ deps: HttpDeps }> = async () => {};
