import type { FastifyPluginAsync } from 'fastify';
import { recordActivity } from '../../domain/customers/activity-log.js';
import { UserError } from '../../shared/errors.js';
import { createLinkUrl } from '../../domain/linking/link-sessions.js';
import { notFound } from '../api-validation.js';
import { ApiError } from '../http-errors.js';
import { apiActor, tokenOf, type ApiAuth } from '../auth.js';
import type { HttpDeps } from '../deps.js';

/** `:id` as a customer id; anything that cannot be one is an unknown customer. */
function customerId(params: unknown): number {
  const raw = (params as { id?: string }).id ?? '';
  const id = /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) throw notFound(`No customer has id ${raw.slice(0, 40)}.`);
  return id;
}

/**
 * POST /customers/:id/link-url under the API prefix: the store's website asks for a one-time link
 * for its logged-in customer and sends them there. Scope `customers:write`.
 */
export const apiLinkRoutes: FastifyPluginAsync<{ deps: HttpDeps; auth: ApiAuth }> = (app, { deps, auth }) => {
  const { db, clock, config } = deps;

  app.post('/customers/:id/link-url', { preHandler: auth.requireScope('customers:write') }, async (request, reply) => {
    const id = customerId(request.params);
    let link: { url: string; expiresAt: string };
    try {
      link = await createLinkUrl(db, clock, { customerId: id, publicUrl: config.publicUrl, appSecret: config.appSecret });
    } catch (error) {
      if (error instanceof UserError && error.code === 'customer_not_found') throw notFound(`No customer has id ${id}.`);
      if (error instanceof UserError && error.code === 'linking_not_configured') throw new ApiError(422, 'Account linking is not set up on this store: APP_SECRET is not set.');
      throw error;
    }
    // Never the URL itself: it is a credential for the next 15 minutes.
    await recordActivity(db, clock, {
      actor: apiActor(tokenOf(request)),
      action: 'customer.link_url',
      targetType: 'customer',
      targetId: id,
      details: { expiresAt: link.expiresAt },
    });
    // The URL works as a credential until it expires or is used: no cache may keep it.
    return reply
      .status(201)
      .header('cache-control', 'no-store')
      .send({ success: true, data: { url: link.url, expires_at: link.expiresAt } });
  });
  return Promise.resolve();
};
