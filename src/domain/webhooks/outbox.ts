import { randomBytes } from 'node:crypto';
import { inTransaction, type Db } from '../../store/database.js';
import { clampPage, newestFirstPage } from '../../store/paging.js';
import type { WebhookDeliveryAttemptRow, WebhookDeliveryRow, WebhookDeliveryStatus } from '../../store/schema/index.js';
import { recordActivity } from '../customers/activity-log.js';
import { withJitter } from '../../shared/backoff.js';
import type { Clock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import type { Actor, Customer } from '../customers/types.js';
import { endpointNotFound, findLiveEndpointRow, parseStoredEvents, PING_EVENT_TYPE } from './endpoints.js';

// The outbox of deliveries: what is queued for which endpoint, redeliveries, the delivery log,
// and when the delivery worker (src/jobs/webhook-deliveries.ts) tries a failed one again.

const MAX_DELIVERIES_PAGE = 100;

/**
 * When a failed delivery is tried again, counted from the failed attempt: longer than the store
 * platform's own (1 min, 5 min, 30 min) so a receiver that is down for a day still gets every
 * event. 8 attempts over about 45 hours, then the delivery is `failed` (and can be redelivered).
 */
export const WEBHOOK_RETRY_SCHEDULE_MS: readonly number[] = [
  60_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  6 * 3_600_000,
  12 * 3_600_000,
  24 * 3_600_000,
];
/** Retries are spread by up to this fraction (always later, never earlier than the schedule). */
export const WEBHOOK_RETRY_JITTER = 0.1;

export interface WebhookDelivery {
  id: string;
  endpointId: number;
  eventId: string;
  eventType: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  /** The delivery this one re-sends, for a manual redelivery. */
  redeliveryOf: string | null;
}

export interface WebhookDeliveryAttempt {
  attemptedAt: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface WebhookDeliveryPage {
  rows: WebhookDelivery[];
  total: number;
  page: number;
  perPage: number;
  lastPage: number;
}

export type RetryDecision = { status: 'pending'; nextAttemptAt: string } | { status: 'failed' };

/**
 * After the `attempts`-th attempt failed: when to try again, or give up. `random` in [0, 1)
 * spreads retries of many deliveries that failed together (a receiver coming back up).
 */
export function decideRetry(attempts: number, now: Date, random: number = Math.random()): RetryDecision {
  const wait = WEBHOOK_RETRY_SCHEDULE_MS[attempts - 1];
  if (wait === undefined) return { status: 'failed' };
  const jittered = withJitter(wait, { floor: 1, spread: WEBHOOK_RETRY_JITTER }, random);
  return { status: 'pending', nextAttemptAt: new Date(now.getTime() + jittered).toISOString() };
}

function toWebhookDelivery(row: WebhookDeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    redeliveryOf: row.redelivery_of,
  };
}

function newEventId(): string {
  return `evt_${randomBytes(12).toString('hex')}`;
}

function newDeliveryId(): string {
  return `del_${randomBytes(12).toString('hex')}`;
}

async function insertDelivery(
  db: Db,
  nowIso: string,
  delivery: { endpointId: number; eventId: string; eventType: string; payload: string; redeliveryOf?: string },
): Promise<string> {
  const id = newDeliveryId();
  await db
    .insertInto('webhook_deliveries')
    .values({
      id,
      endpoint_id: delivery.endpointId,
      event_id: delivery.eventId,
      event_type: delivery.eventType,
      payload: delivery.payload,
      status: 'pending',
      attempts: 0,
      next_attempt_at: nowIso,
      lease_until: null,
      last_status_code: null,
      last_error: null,
      created_at: nowIso,
      delivered_at: null,
      redelivery_of: delivery.redeliveryOf ?? null,
    })
    .execute();
  return id;
}

/** The `customer.created` body, exactly as the customer guide shows it, plus a top-level id. */
export function buildCustomerCreatedPayload(eventId: string, timestamp: string, customer: Customer): string {
  return JSON.stringify({
    id: eventId,
    event_type: 'customer.created',
    timestamp,
    data: {
      customer: {
        id: customer.id,
        name: customer.name,
        email: customer.email,
        country: customer.country,
        created_at: customer.createdAt,
      },
    },
  });
}

/**
 * Queues `customer.created` for every enabled endpoint subscribed to it, with one event id and
 * one payload shared by all of them. Call it inside the transaction that creates the customer
 * (the outbox pattern): the deliveries commit with the customer or not at all, and the worker
 * sends them after the commit. Returns how many deliveries were queued; wake the worker when > 0.
 */
export async function enqueueCustomerCreated(db: Db, clock: Clock, customer: Customer): Promise<number> {
  const endpoints = await db.selectFrom('webhook_endpoints').select(['id', 'events']).where('enabled', '=', 1).where('deleted_at', 'is', null).execute();
  const subscribed = endpoints.filter((e) => parseStoredEvents(e.events).includes('customer.created'));
  if (subscribed.length === 0) return 0;
  const nowIso = clock.now().toISOString();
  const eventId = newEventId();
  const payload = buildCustomerCreatedPayload(eventId, nowIso, customer);
  await inTransaction(db, async (trx) => {
    for (const endpoint of subscribed) {
      await insertDelivery(trx, nowIso, { endpointId: endpoint.id, eventId, eventType: 'customer.created', payload });
    }
  });
  return subscribed.length;
}

/** Queues a signed `ping` to one endpoint, so its owner can check the receiver and the signature. */
export async function enqueueTestDelivery(db: Db, clock: Clock, endpointId: number, actor: Actor): Promise<WebhookDelivery> {
  return inTransaction(db, async (trx) => {
    const endpoint = await findLiveEndpointRow(trx, endpointId);
    if (!endpoint) throw endpointNotFound(endpointId);
    if (endpoint.enabled !== 1) throw new UserError('endpoint_disabled', `Webhook endpoint ${endpointId} is disabled; enable it before sending a test.`);
    const nowIso = clock.now().toISOString();
    const eventId = newEventId();
    const payload = JSON.stringify({
      id: eventId,
      event_type: PING_EVENT_TYPE,
      timestamp: nowIso,
      data: { webhook: { id: endpoint.id, url: endpoint.url } },
    });
    const id = await insertDelivery(trx, nowIso, { endpointId, eventId, eventType: PING_EVENT_TYPE, payload });
    await recordActivity(trx, clock, { actor, action: 'webhook.test', targetType: 'webhook_endpoint', targetId: endpointId, details: { delivery_id: id } });
    return getDeliveryOrThrow(trx, id);
  });
}

async function getDeliveryOrThrow(db: Db, id: string): Promise<WebhookDelivery> {
  const row = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new UserError('delivery_not_found', `No webhook delivery has id ${id}.`);
  return toWebhookDelivery(row);
}

/**
 * Sends a delivery again as a new delivery (its own id and attempt log) with the same payload
 * bytes and the same event id, so a receiver that already has the event recognises it. When
 * `endpointId` is given the delivery must belong to that endpoint.
 */
export async function redeliverWebhook(
  db: Db,
  clock: Clock,
  input: { deliveryId: string; endpointId?: number | undefined; actor: Actor },
): Promise<WebhookDelivery> {
  return inTransaction(db, async (trx) => {
    const original = await trx.selectFrom('webhook_deliveries').selectAll().where('id', '=', input.deliveryId).executeTakeFirst();
    if (!original || (input.endpointId !== undefined && original.endpoint_id !== input.endpointId)) {
      throw new UserError('delivery_not_found', `No webhook delivery has id ${input.deliveryId}${input.endpointId !== undefined ? ` for endpoint ${input.endpointId}` : ''}.`);
    }
    const endpoint = await findLiveEndpointRow(trx, original.endpoint_id);
    if (!endpoint) throw endpointNotFound(original.endpoint_id);
    if (endpoint.enabled !== 1) {
      throw new UserError('endpoint_disabled', `Webhook endpoint ${endpoint.id} is disabled${endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ''}; enable it before redelivering.`);
    }
    const nowIso = clock.now().toISOString();
    const id = await insertDelivery(trx, nowIso, {
      endpointId: original.endpoint_id,
      eventId: original.event_id,
      eventType: original.event_type,
      payload: original.payload,
      redeliveryOf: original.id,
    });
    await recordActivity(trx, clock, {
      actor: input.actor,
      action: 'webhook.redeliver',
      targetType: 'webhook_endpoint',
      targetId: original.endpoint_id,
      details: { delivery_id: id, redelivery_of: original.id, event_id: original.event_id },
    });
    return getDeliveryOrThrow(trx, id);
  });
}

/** An endpoint's deliveries, newest first (deleted endpoints keep their log). */
export async function listWebhookDeliveries(db: Db, endpointId: number, paging: { page?: number; perPage?: number } = {}): Promise<WebhookDeliveryPage> {
  const exists = Number.isSafeInteger(endpointId)
    ? await db.selectFrom('webhook_endpoints').select('id').where('id', '=', endpointId).executeTakeFirst()
    : undefined;
  if (!exists) throw endpointNotFound(endpointId);
  const perPage = clampPage({ offset: 0, limit: paging.perPage ?? 15 }, MAX_DELIVERIES_PAGE).limit;
  const page = Math.max(1, Math.trunc(paging.page ?? 1) || 1);
  const { rows, total: count } = await newestFirstPage(db.selectFrom('webhook_deliveries').where('endpoint_id', '=', endpointId), {
    offset: (page - 1) * perPage,
    limit: perPage,
  });
  return { rows: rows.map(toWebhookDelivery), total: count, page, perPage, lastPage: Math.max(1, Math.ceil(count / perPage)) };
}

/** Every attempt of one delivery, oldest first. */
export async function listDeliveryAttempts(db: Db, deliveryId: string): Promise<WebhookDeliveryAttempt[]> {
  const rows: WebhookDeliveryAttemptRow[] = await db
    .selectFrom('webhook_delivery_attempts')
    .selectAll()
    .where('delivery_id', '=', deliveryId)
    .orderBy('id', 'asc')
    .execute();
  return rows.map((r) => ({ attemptedAt: r.attempted_at, statusCode: r.status_code, error: r.error, durationMs: r.duration_ms }));
}
