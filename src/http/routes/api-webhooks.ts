import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { UserError, type UserErrorCode } from '../../shared/errors.js';
import { WEBHOOK_URL_MAX_LENGTH } from '../../domain/webhooks/address-policy.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookEndpoints,
  updateWebhookEndpoint,
  WEBHOOK_DESCRIPTION_MAX_LENGTH,
  WEBHOOK_EVENT_TYPES,
  type WebhookEndpoint,
} from '../../domain/webhooks/endpoints.js';
import { enqueueTestDelivery, listWebhookDeliveries, redeliverWebhook, type WebhookDelivery } from '../../domain/webhooks/outbox.js';
import { fieldError } from '../api-validation.js';
import { apiActor, tokenOf, type ApiAuth } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { defineApiRoute, idParam, pageEnvelope, plainText, successEnvelope, timestampSchema, wholeNumberParam, type ApiRouteRegistry } from '../openapi.js';

const url = z.string().trim().min(1).max(WEBHOOK_URL_MAX_LENGTH).meta({ description: 'A public https:// (or http://) URL', examples: ['https://crm.example.com/hooks/store'] });
const events = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length * 2)
  .meta({ description: 'The events to receive (default: every event)' });
const description = plainText().max(WEBHOOK_DESCRIPTION_MAX_LENGTH).nullable();

const createBody = z.strictObject({ url, events: events.optional(), description: description.optional() });
const updateBody = z
  .strictObject({ url: url.optional(), events: events.optional(), description: description.optional(), enabled: z.boolean().optional() })
  .refine((b) => Object.keys(b).length > 0, { message: 'must change at least one of url, events, description, enabled' })
  .meta({ minProperties: 1 });
const deliveriesQuery = z.strictObject({
  page: wholeNumberParam({ min: 1, max: 999_999, example: 1 }).optional().meta({ description: 'Page number, from 1' }),
  per_page: wholeNumberParam({ min: 1, max: 100, example: 15 }).optional().meta({ description: 'Deliveries per page, 1–100 (default 15)' }),
});
const endpointParams = z.object({ id: idParam });
const deliveryParams = z.object({ id: idParam, deliveryId: plainText().max(100).meta({ description: 'A delivery id (`del_…`)' }) });

const endpointSchema = z.object({
  id: z.number().int(),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  description: z.string().nullable(),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable().meta({ description: 'Why it was disabled (a 410 from the receiver, or a person), when it is' }),
  allow_private: z.boolean(),
  created_at: timestampSchema,
  updated_at: timestampSchema,
});
const deliverySchema = z.object({
  id: z.string(),
  webhook_id: z.number().int(),
  event_id: z.string().meta({ description: 'The payload\'s top-level id, shared by every delivery of one event' }),
  event_type: z.string(),
  status: z.enum(['pending', 'delivered', 'failed', 'cancelled']),
  attempts: z.number().int(),
  next_attempt_at: timestampSchema.nullable(),
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  redelivery_of: z.string().nullable(),
  created_at: timestampSchema,
  delivered_at: timestampSchema.nullable(),
});
const noEndpoint = (params: Record<string, string>) => `No webhook endpoint has id ${(params.id ?? '').slice(0, 40)}.`;

export const webhookRouteSpecs = {
  list: defineApiRoute({
    operationId: 'listWebhooks',
    method: 'GET',
    path: '/webhooks',
    scope: 'webhooks:read',
    tag: 'Webhooks',
    summary: 'List webhook endpoints',
    response: { status: 200, description: 'Every endpoint (never their secrets)', schema: successEnvelope(z.array(endpointSchema)) },
  }),
  create: defineApiRoute({
    operationId: 'createWebhook',
    method: 'POST',
    path: '/webhooks',
    scope: 'webhooks:write',
    tag: 'Webhooks',
    summary: 'Add a webhook endpoint',
    description: 'The answer carries the signing secret (`whsec_…`): the only time it is shown.',
    body: createBody,
    bodyExample: { url: 'https://crm.example.com/hooks/store', events: ['customer.created'], description: 'CRM sync' },
    response: {
      status: 201,
      description: 'The endpoint, with its secret',
      schema: successEnvelope(endpointSchema.extend({ secret: z.string().meta({ description: 'Shown once' }) })),
    },
    errors: [422],
  }),
  get: defineApiRoute({
    operationId: 'getWebhook',
    method: 'GET',
    path: '/webhooks/:id',
    scope: 'webhooks:read',
    tag: 'Webhooks',
    summary: 'Get one webhook endpoint',
    params: endpointParams,
    notFound: noEndpoint,
    response: { status: 200, description: 'The endpoint', schema: successEnvelope(endpointSchema) },
    errors: [404],
  }),
  update: defineApiRoute({
    operationId: 'updateWebhook',
    method: 'PUT',
    path: '/webhooks/:id',
    scope: 'webhooks:write',
    tag: 'Webhooks',
    summary: 'Change a webhook endpoint',
    params: endpointParams,
    notFound: noEndpoint,
    body: updateBody,
    bodyExample: { enabled: true, description: 'CRM sync (production)' },
    response: { status: 200, description: 'The endpoint as it is now', schema: successEnvelope(endpointSchema) },
    errors: [404, 422],
  }),
  delete: defineApiRoute({
    operationId: 'deleteWebhook',
    method: 'DELETE',
    path: '/webhooks/:id',
    scope: 'webhooks:write',
    tag: 'Webhooks',
    summary: 'Remove a webhook endpoint',
    description: 'Pending deliveries are cancelled; the delivery log is kept.',
    params: endpointParams,
    notFound: noEndpoint,
    response: { status: 200, description: 'Removed', schema: successEnvelope(z.object({ id: z.number().int(), deleted: z.literal(true) })) },
    errors: [404],
  }),
  test: defineApiRoute({
    operationId: 'testWebhook',
    method: 'POST',
    path: '/webhooks/:id/test',
    scope: 'webhooks:write',
    tag: 'Webhooks',
    summary: 'Send a signed ping to an endpoint',
    params: endpointParams,
    notFound: noEndpoint,
    response: { status: 202, description: 'The queued delivery', schema: successEnvelope(deliverySchema) },
    errors: [404, 409],
  }),
  deliveries: defineApiRoute({
    operationId: 'listWebhookDeliveries',
    method: 'GET',
    path: '/webhooks/:id/deliveries',
    scope: 'webhooks:read',
    tag: 'Webhooks',
    summary: "An endpoint's delivery log, newest first",
    params: endpointParams,
    notFound: noEndpoint,
    query: deliveriesQuery,
    response: { status: 200, description: 'One page of deliveries', schema: pageEnvelope(deliverySchema) },
    errors: [404, 422],
  }),
  redeliver: defineApiRoute({
    operationId: 'redeliverWebhook',
    method: 'POST',
    path: '/webhooks/:id/deliveries/:deliveryId/redeliver',
    scope: 'webhooks:write',
    tag: 'Webhooks',
    summary: 'Send a delivery again',
    description: 'A new delivery with the same payload bytes and event id, so the receiver can recognise a duplicate.',
    params: deliveryParams,
    notFound: noEndpoint,
    response: { status: 202, description: 'The new delivery', schema: successEnvelope(deliverySchema) },
    errors: [404, 409],
  }),
};

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

const FIELD_OF_CODE: Partial<Record<UserErrorCode, string>> = { invalid_url: 'url', invalid_events: 'events', invalid_description: 'description' };

/** Domain refusals about one field become a 422 naming it; the rest keep their mapped status. */
async function translateRefusals<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof UserError) {
      const field = FIELD_OF_CODE[error.code];
      if (field) throw fieldError(field, error.message);
    }
    throw error;
  }
}

/** Webhook endpoints and their delivery log: /webhooks… under the API prefix. */
export const apiWebhookRoutes: FastifyPluginAsync<{ deps: HttpDeps; auth: ApiAuth; registry: ApiRouteRegistry }> = (app, { deps, auth, registry }) => {
  const { db, clock } = deps;
  const policy = { allowPrivateGlobally: deps.config.webhookAllowPrivateUrls };
  const routes = webhookRouteSpecs;

  registry.mount(app, auth, routes.list, async () => {
    const endpoints = await listWebhookEndpoints(db);
    return { success: true, data: endpoints.map(endpointJson) };
  });

  registry.mount(app, auth, routes.create, async ({ body, request }) => {
    const { endpoint, secret } = await translateRefusals(
      createWebhookEndpoint(db, clock, { url: body.url, events: body.events, description: body.description, actor: apiActor(tokenOf(request)) }, policy),
    );
    // The only time the secret is shown.
    return { success: true, data: { ...endpointJson(endpoint), secret } };
  });

  registry.mount(app, auth, routes.get, async ({ params }) => {
    const endpoint = await getWebhookEndpoint(db, params.id);
    return { success: true, data: endpointJson(endpoint) };
  });

  registry.mount(app, auth, routes.update, async ({ params, body, request }) => {
    const endpoint = await translateRefusals(updateWebhookEndpoint(db, clock, params.id, { ...body, actor: apiActor(tokenOf(request)) }, policy));
    return { success: true, data: endpointJson(endpoint) };
  });

  registry.mount(app, auth, routes.delete, async ({ params, request }) => {
    await deleteWebhookEndpoint(db, clock, params.id, apiActor(tokenOf(request)));
    return { success: true, data: { id: params.id, deleted: true } };
  });

  registry.mount(app, auth, routes.test, async ({ params, request }) => {
    const delivery = await translateRefusals(enqueueTestDelivery(db, clock, params.id, apiActor(tokenOf(request))));
    deps.wake.webhookDeliveries();
    return { success: true, data: deliveryJson(delivery) };
  });

  registry.mount(app, auth, routes.deliveries, async ({ params, query }) => {
    const page = await listWebhookDeliveries(db, params.id, { page: query.page, perPage: query.per_page });
    return {
      success: true,
      data: page.rows.map(deliveryJson),
      meta: { current_page: page.page, last_page: page.lastPage, per_page: page.perPage, total: page.total },
    };
  });

  registry.mount(app, auth, routes.redeliver, async ({ params, request }) => {
    const delivery = await translateRefusals(
      redeliverWebhook(db, clock, { deliveryId: params.deliveryId, endpointId: params.id, actor: apiActor(tokenOf(request)) }),
    );
    deps.wake.webhookDeliveries();
    return { success: true, data: deliveryJson(delivery) };
  });
  return Promise.resolve();
};
