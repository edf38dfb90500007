import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { UserError } from '../../shared/errors.js';
import { eraseCustomer, type ErasureCounts } from '../../domain/privacy/erasure.js';
import { buildCustomerDataFile } from '../../domain/privacy/export.js';
import { notFound } from '../api-validation.js';
import { apiActor, tokenOf, type ApiAuth } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { defineApiRoute, idParam, plainText, successEnvelope, timestampSchema, type ApiRouteRegistry } from '../openapi.js';

// GDPR access/portability and erasure over the API: the store's website or
// back office handles the customer's request and calls these.

const customerParams = z.object({ id: idParam });
const noCustomer = (params: Record<string, string>) => `No customer has id ${(params.id ?? '').slice(0, 40)}.`;

export const exportQuery = z.strictObject({
  format: z.enum(['json', 'csv']).optional().meta({ description: '`json` (default): the envelope below. `csv`: one `text/csv` file, a section per table.' }),
});

export const eraseQuery = z.strictObject({
  reason: plainText().trim().max(300).optional().meta({ description: "Why (a ticket number); logged with the customer's identifiers taken out" }),
});

const dataExportSchema = z.record(z.string(), z.unknown()).meta({
  description:
    'Sections: export (kind, format_version, generated_at, explanations), customer, security (incl. last_ip, for the customer only), linked_accounts, ' +
    'statistics, orders (with items and dispute), subscriptions, support_tickets, referrals (ids only), metadata, bans (type, value, dates; no reasons), ' +
    'discord_roles, purchase_events (as received). Never the password hash or staff notes.',
});

const erasureCountsSchema = z.object({
  orders_kept: z.number().int(),
  subscriptions_cancelled: z.number().int(),
  support_tickets_anonymized: z.number().int(),
  notes_deleted: z.number().int(),
  linked_accounts_removed: z.number().int(),
  bans_pseudonymized: z.number().int(),
  role_removals_queued: z.number().int(),
  inbound_events_scrubbed: z.number().int(),
  webhook_deliveries_scrubbed: z.number().int(),
  webhook_deliveries_cancelled: z.number().int(),
  staff_alerts_scrubbed: z.number().int(),
  activity_entries_redacted: z.number().int(),
  link_sessions_deleted: z.number().int(),
  platform_ids_deleted: z.number().int(),
});

export const erasureResultSchema = z.object({
  id: z.number().int(),
  erased: z.literal(true),
  already_erased: z.boolean().meta({ description: 'True when the customer had been erased before: nothing changed this time' }),
  erased_at: timestampSchema,
  counts: erasureCountsSchema.meta({ description: 'What this call did; all zero when already erased' }),
});

function countsJson(c: ErasureCounts): z.output<typeof erasureCountsSchema> {
  return {
    orders_kept: c.ordersKept,
    subscriptions_cancelled: c.subscriptionsCancelled,
    support_tickets_anonymized: c.supportTicketsAnonymized,
    notes_deleted: c.notesDeleted,
    linked_accounts_removed: c.linkedAccountsRemoved,
    bans_pseudonymized: c.bansPseudonymized,
    role_removals_queued: c.roleRemovalsQueued,
    inbound_events_scrubbed: c.inboundEventsScrubbed,
    webhook_deliveries_scrubbed: c.webhookDeliveriesScrubbed,
    webhook_deliveries_cancelled: c.webhookDeliveriesCancelled,
    staff_alerts_scrubbed: c.staffAlertsScrubbed,
    activity_entries_redacted: c.activityEntriesRedacted,
    link_sessions_deleted: c.linkSessionsDeleted,
    platform_ids_deleted: c.platformIdsDeleted,
  };
}

export const gdprRouteSpecs = {
  export: defineApiRoute({
    operationId: 'exportCustomerData',
    method: 'GET',
    path: '/customers/:id/export',
    scope: 'customers:read',
    tag: 'Customers',
    summary: "Everything stored about one customer (GDPR access and portability)",
    description:
      'For a data-access or portability request: the whole record, for handing to the customer. It includes their last IP address, which no other ' +
      'route shows. With `format=csv` the answer is a `text/csv` attachment instead of JSON. Answers carry `Cache-Control: no-store`.',
    params: customerParams,
    notFound: noCustomer,
    query: exportQuery,
    response: {
      status: 200,
      description: 'The data (JSON), or with format=csv a CSV file (text/csv, one section per table)',
      schema: successEnvelope(dataExportSchema),
      alternatives: { 'text/csv': z.string().meta({ description: 'format=csv: the CSV file (UTF-8)' }) },
      headers: { 'Content-Disposition': 'format=csv: attachment with the file name', 'Cache-Control': 'no-store' },
    },
    errors: [404],
  }),
  erase: defineApiRoute({
    operationId: 'eraseCustomer',
    method: 'DELETE',
    path: '/customers/:id',
    scope: 'customers:delete',
    tag: 'Customers',
    summary: "Erase a customer's personal data (GDPR erasure)",
    description:
      'Removes the personal data for good: name, email, linked accounts, address, metadata, notes; subscriptions are cancelled, support tickets ' +
      "anonymised, Discord roles taken back. Orders are kept, anonymised, with their amounts, so the store's figures do not change; bans on the " +
      'customer\'s identifiers keep working on a keyed hash. Calling it again for an erased customer is harmless: 200 with `already_erased: true`.',
    params: customerParams,
    notFound: noCustomer,
    query: eraseQuery,
    response: { status: 200, description: 'What was done', schema: successEnvelope(erasureResultSchema) },
    errors: [404],
  }),
};

/** GET /customers/:id/export and DELETE /customers/:id under the API prefix. */
export const apiGdprRoutes: FastifyPluginAsync<{ deps: HttpDeps; auth: ApiAuth; registry: ApiRouteRegistry }> = (app, { deps, auth, registry }) => {
  const { db, clock } = deps;
  const routes = gdprRouteSpecs;

  function unknownCustomer(error: unknown, id: number): unknown {
    return error instanceof UserError && error.code === 'customer_not_found' ? notFound(`No customer has id ${id}.`) : error;
  }

  registry.mount(app, auth, routes.export, async ({ params, query, request, reply }) => {
    const format = query.format ?? 'json';
    const file = await buildCustomerDataFile(db, clock, { customerId: params.id, actor: apiActor(tokenOf(request)), format, via: 'api' }).catch((error: unknown) => {
      throw unknownCustomer(error, params.id);
    });
    // Personal data: no cache on the way may keep a copy.
    void reply.header('cache-control', 'no-store');
    if (format === 'csv') {
      void reply.header('content-type', file.contentType).header('content-disposition', `attachment; filename="${file.fileName}"`);
      return file.body.toString('utf8');
    }
    return { success: true as const, data: file.data };
  });

  registry.mount(app, auth, routes.erase, async ({ params, query, request }) => {
    const result = await eraseCustomer(db, clock, { customerId: params.id, actor: apiActor(tokenOf(request)), reason: query.reason }).catch((error: unknown) => {
      throw unknownCustomer(error, params.id);
    });
    return {
      success: true as const,
      data: { id: result.customerId, erased: true as const, already_erased: result.alreadyErased, erased_at: result.erasedAt, counts: countsJson(result.counts) },
    };
  });
  return Promise.resolve();
};
