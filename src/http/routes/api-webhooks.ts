import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { UserError } from '../../domain/errors.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  enqueueTestDelivery,
  getWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  redeliverWebhook,
  updateWebhookEndpoint,
  WEBHOOK_DESCRIPTION_MAX_LENGTH,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_URL_MAX_LENGTH,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '../../domain/outbound-webhooks.js';
import { ApiError, fieldError, notFound, parseInput } from '../api-envelope.js';
import { apiActor, tokenOf, type ApiAuth } from '../auth.js';
import type { HttpDeps } from '../deps.js';

const url = z.string().trim().min(1).max(WEBHOOK_URL_MAX_LENGTH);
const events = z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length * 2);
const description = z.string().max(WEBHOOK_DESCRIPTION_MAX_LENGTH).nullable();

const createBody = z.strictObject({ url, events: events.optional(), description: description.optional() });
const updateBody = z
  .strictObject({ url: url.optional(), events: events.optional(), description: description.optional(), enabled: z.boolean().optional() })
  .refine((b) => Object.keys(b).length > 0, { message: 'must change at least one of url, events, description, enabled' });
const pageNumber = z.string().regex(/^\d{1,6}$/, 'must be a whole number').transform(Number);
const deliveriesQuery = z.strictObject({
  page: pageNumber.refine((n) => n >= 1, 'must be at least 1').optional(),
  per_page: pageNumber.refine((n) => n >= 1 && n <= 100, 'must be between 1 and 100').optional(),
});

function endpointJson(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    enabled: endpoint.enabled,
    disabled_reason: endpoint.disabledReason,
    allow_private: endpoint.allowPrivate,
    created_at: endpoint.createdAt,
    updated_at: endpoint.updatedAt,
  };
}

function deliveryJson(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    webhook_id: delivery.endpointId,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    next_attempt_at: delivery.nextAttemptAt,
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    redelivery_of: delivery.redeliveryOf,
    created_at: delivery.createdAt,
    delivered_at: delivery.deliveredAt,
  };
}

/** `:id` as an endpoint id; anything that cannot be one is an unknown endpoint. */
function endpointId(params: unknown): number {
  const raw = (params as { id?: string }).id ?? '';
  const id = /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) throw notFound(`No webhook endpoint has id ${raw.slice(0, 40)}.`);
  return id;
}

const FIELD_OF_CODE: Record<string, string> = { invalid_url: 'url', invalid_events: 'events', invalid_description: 'description' };

/** Domain refusals about one field become a 422 naming it; "disabled" is a state conflict. */
async function translateRefusals<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof UserError) {
      const field = FIELD_OF_CODE[error.code];
      if (field) throw fieldError(field, error.message);
      if (error.code === 'endpoint_disabled') throw new ApiError(409, error.message);
    }
    throw error;
  }
}

/** Webhook endpoints and their delivery log: /webhooks… under the API prefix. */
export const apiWebhookRoutes: FastifyPluginAsync<{ deps: HttpDeps; auth: ApiAuth }> = (app, { deps, auth }) => {
  const { db, clock } = deps;
  const policy = { allowPrivateGlobally: deps.config.webhookAllowPrivateUrls };
  const read = { preHandler: auth.requireScope('webhooks:read') };
  const write = { preHandler: auth.requireScope('webhooks:write') };

  app.get('/webhooks', read, async () => {
    const endpoints = await listWebhookEndpoints(db);
    return { success: true, data: endpoints.map(endpointJson) };
  });

  app.post('/webhooks', write, async (request, reply) => {
    const body = parseInput(createBody, request.body, 'body');
    const { endpoint, secret } = await translateRefusals(
      createWebhookEndpoint(db, clock, { url: body.url, events: body.events, description: body.description, actor: apiActor(tokenOf(request)) }, policy),
    );
    // The only time the secret is shown.
    return reply.status(201).send({ success: true, data: { ...endpointJson(endpoint), secret } });
  });

  app.get('/webhooks/:id', read, async (request) => {
    const endpoint = await getWebhookEndpoint(db, endpointId(request.params));
    return { success: true, data: endpointJson(endpoint) };
  });

  app.put('/webhooks/:id', write, async (request) => {
    const id = endpointId(request.params);
    const body = parseInput(updateBody, request.body, 'body');
    const endpoint = await translateRefusals(updateWebhookEndpoint(db, clock, id, { ...body, actor: apiActor(tokenOf(request)) }, policy));
    return { success: true, data: endpointJson(endpoint) };
  });

  app.delete('/webhooks/:id', write, async (request) => {
    const id = endpointId(request.params);
    await deleteWebhookEndpoint(db, clock, id, apiActor(tokenOf(request)));
    return { success: true, data: { id, deleted: true } };
  });

  app.post('/webhooks/:id/test', write, async (request, reply) => {
    const delivery = await translateRefusals(enqueueTestDelivery(db, clock, endpointId(request.params), apiActor(tokenOf(request))));
    deps.wake.webhookDeliveries();
    return reply.status(202).send({ success: true, data: deliveryJson(delivery) });
  });

  app.get('/webhooks/:id/deliveries', read, async (request) => {
    const id = endpointId(request.params);
    const query = parseInput(deliveriesQuery, request.query, 'query');
    const page = await listWebhookDeliveries(db, id, { page: query.page, perPage: query.per_page });
    return {
      success: true,
      data: page.rows.map(deliveryJson),
      meta: { current_page: page.page, last_page: page.lastPage, per_page: page.perPage, total: page.total },
    };
  });

  app.post('/webhooks/:id/deliveries/:deliveryId/redeliver', write, async (request, reply) => {
    const id = endpointId(request.params);
    const deliveryId = (request.params as { deliveryId: string }).deliveryId;
    const delivery = await translateRefusals(redeliverWebhook(db, clock, { deliveryId, endpointId: id, actor: apiActor(tokenOf(request)) }));
    deps.wake.webhookDeliveries();
    return reply.status(202).send({ success: true, data: deliveryJson(delivery) });
  });
  return Promise.resolve();
};
