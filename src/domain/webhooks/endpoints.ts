import { inTransaction, type Db } from '../../store/database.js';
import type { WebhookEndpointRow } from '../../store/schema/index.js';
import { recordActivity, SYSTEM_ACTOR } from '../customers/activity-log.js';
import type { Clock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import { codePointLength } from '../../shared/text.js';
import type { Actor } from '../customers/types.js';
import { checkWebhookUrl, type HostLookup } from './address-policy.js';
import { generateWebhookSecret } from './signing.js';

// The endpoints outgoing webhooks are sent to: created, changed, disabled and deleted here.

export const WEBHOOK_EVENT_TYPES = ['customer.created'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
/** Sent by `POST /webhooks/:id/test`; no endpoint subscribes to it, every endpoint may receive it. */
export const PING_EVENT_TYPE = 'ping';

export const WEBHOOK_DESCRIPTION_MAX_LENGTH = 500;
/** Each enabled endpoint is one more request per event: bound the fan-out. */
export const MAX_WEBHOOK_ENDPOINTS = 20;

export interface WebhookEndpoint {
  id: number;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  enabled: boolean;
  /** Why it was disabled (a 410 from the receiver, or a person), when it is. */
  disabledReason: string | null;
  /** May reach private, loopback and link-local addresses (set from the CLI only). */
  allowPrivate: boolean;
  createdAt: string;
  updatedAt: string;
}

/** The events an endpoint row subscribes to (unknown names dropped). */
export function parseStoredEvents(text: string): WebhookEventType[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? WEBHOOK_EVENT_TYPES.filter((e) => value.includes(e)) : [];
  } catch {
    return [];
  }
}

function toWebhookEndpoint(row: WebhookEndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    events: parseStoredEvents(row.events),
    description: row.description,
    enabled: row.enabled === 1,
    disabledReason: row.disabled_reason,
    allowPrivate: row.allow_private === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function parseEvents(events: readonly string[] | undefined): WebhookEventType[] {
  if (events === undefined) return [...WEBHOOK_EVENT_TYPES];
  const unknown = events.filter((e) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e));
  if (unknown.length > 0) {
    throw new UserError('invalid_events', `Unknown event ${unknown.map((e) => `"${e}"`).join(', ')}; events are ${WEBHOOK_EVENT_TYPES.join(', ')}.`);
  }
  if (events.length === 0) throw new UserError('invalid_events', `Subscribe to at least one event: ${WEBHOOK_EVENT_TYPES.join(', ')}.`);
  return WEBHOOK_EVENT_TYPES.filter((e) => events.includes(e));
}

function parseDescription(description: string | null | undefined): string | null {
  const text = description?.trim() ?? '';
  if (codePointLength(text) > WEBHOOK_DESCRIPTION_MAX_LENGTH) {
    throw new UserError('invalid_description', `The description must be at most ${WEBHOOK_DESCRIPTION_MAX_LENGTH} characters.`);
  }
  return text === '' ? null : text;
}

/** `webhook_not_found`: no endpoint (or no live one) has this id. */
export function endpointNotFound(id: number | string): UserError {
  return new UserError('webhook_not_found', `No webhook endpoint has id ${id}.`);
}

/** The endpoint's row unless it was deleted (or the id cannot be one). */
export async function findLiveEndpointRow(db: Db, id: number): Promise<WebhookEndpointRow | undefined> {
  if (!Number.isSafeInteger(id)) return undefined;
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
}

async function cancelPendingDeliveries(db: Db, endpointId: number, why: string): Promise<number> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'cancelled', next_attempt_at: null, last_error: why })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export interface CreateWebhookEndpointInput {
  url: string;
  events?: readonly string[] | undefined;
  description?: string | null | undefined;
  /** Lets this endpoint reach private addresses (local development; the CLI's --allow-private). */
  allowPrivate?: boolean | undefined;
  actor: Actor;
}

export interface WebhookPolicyOptions {
  /** config.webhookAllowPrivateUrls */
  allowPrivateGlobally: boolean;
  lookup?: HostLookup | undefined;
}

/**
 * Creates an endpoint after checking its URL (see resolveWebhookTarget). The returned secret is
 * the only time it is shown.
 */
export async function createWebhookEndpoint(
  db: Db,
  clock: Clock,
  input: CreateWebhookEndpointInput,
  options: WebhookPolicyOptions,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const allowPrivate = input.allowPrivate === true;
  const events = parseEvents(input.events);
  const description = parseDescription(input.description);
  const url = await checkWebhookUrl(input.url, { allowPrivate: allowPrivate || options.allowPrivateGlobally, lookup: options.lookup });
  const secret = generateWebhookSecret();
  const nowIso = clock.now().toISOString();
  const row = await inTransaction(db, async (trx) => {
    const { count } = await trx
      .selectFrom('webhook_endpoints')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(count) >= MAX_WEBHOOK_ENDPOINTS) {
      throw new UserError('too_many_endpoints', `A store can have at most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints; delete one first.`);
    }
    const inserted = await trx
      .insertInto('webhook_endpoints')
      .values({
        url,
        secret,
        events: JSON.stringify(events),
        enabled: 1,
        disabled_reason: null,
        allow_private: allowPrivate ? 1 : 0,
        description,
        created_at: nowIso,
        updated_at: nowIso,
        deleted_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, clock, {
      actor: input.actor,
      action: 'webhook.create',
      targetType: 'webhook_endpoint',
      targetId: inserted.id,
      details: { url, events, allow_private: allowPrivate },
    });
    return inserted;
  });
  return { endpoint: toWebhookEndpoint(row), secret };
}

export async function getWebhookEndpoint(db: Db, id: number): Promise<WebhookEndpoint> {
  const row = await findLiveEndpointRow(db, id);
  if (!row) throw endpointNotFound(id);
  return toWebhookEndpoint(row);
}

/** Every endpoint not deleted, oldest first. */
export async function listWebhookEndpoints(db: Db): Promise<WebhookEndpoint[]> {
  const rows = await db.selectFrom('webhook_endpoints').selectAll().where('deleted_at', 'is', null).orderBy('id', 'asc').execute();
  return rows.map(toWebhookEndpoint);
}

export interface UpdateWebhookEndpointInput {
  url?: string | undefined;
  events?: readonly string[] | undefined;
  description?: string | null | undefined;
  /** true re-enables an endpoint (also one disabled by a 410); false disables it and cancels what is pending. */
  enabled?: boolean | undefined;
  actor: Actor;
}

export async function updateWebhookEndpoint(
  db: Db,
  clock: Clock,
  id: number,
  input: UpdateWebhookEndpointInput,
  options: WebhookPolicyOptions,
): Promise<WebhookEndpoint> {
  const existing = await findLiveEndpointRow(db, id);
  if (!existing) throw endpointNotFound(id);
  const changes: { url?: string; events?: string; description?: string | null; enabled?: number; disabled_reason?: string | null } = {};
  if (input.url !== undefined) {
    changes.url = await checkWebhookUrl(input.url, { allowPrivate: existing.allow_private === 1 || options.allowPrivateGlobally, lookup: options.lookup });
  }
  if (input.events !== undefined) changes.events = JSON.stringify(parseEvents(input.events));
  if (input.description !== undefined) changes.description = parseDescription(input.description);
  if (input.enabled === true) {
    changes.enabled = 1;
    changes.disabled_reason = null;
  } else if (input.enabled === false && existing.enabled === 1) {
    changes.enabled = 0;
    changes.disabled_reason = `Disabled by ${input.actor.name}`;
  }
  const nowIso = clock.now().toISOString();
  const row = await inTransaction(db, async (trx) => {
    const updated = await trx
      .updateTable('webhook_endpoints')
      .set({ ...changes, updated_at: nowIso })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (!updated) throw endpointNotFound(id);
    if (changes.enabled === 0) await cancelPendingDeliveries(trx, id, 'endpoint disabled');
    await recordActivity(trx, clock, {
      actor: input.actor,
      action: 'webhook.update',
      targetType: 'webhook_endpoint',
      targetId: id,
      details: { changed: Object.keys(changes).filter((k) => k !== 'disabled_reason'), ...(changes.url ? { url: changes.url } : {}) },
    });
    return updated;
  });
  return toWebhookEndpoint(row);
}

/**
 * Deletes an endpoint: it receives nothing more and its pending deliveries are cancelled. The
 * row stays (without its secret) so the delivery log still says where events went.
 */
export async function deleteWebhookEndpoint(db: Db, clock: Clock, id: number, actor: Actor): Promise<void> {
  const nowIso = clock.now().toISOString();
  await inTransaction(db, async (trx) => {
    const deleted = await trx
      .updateTable('webhook_endpoints')
      .set({ deleted_at: nowIso, updated_at: nowIso, enabled: 0, secret: '' })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .returning(['id', 'url'])
      .executeTakeFirst();
    if (!deleted) throw endpointNotFound(id);
    const cancelled = await cancelPendingDeliveries(trx, id, 'endpoint deleted');
    await recordActivity(trx, clock, {
      actor,
      action: 'webhook.delete',
      targetType: 'webhook_endpoint',
      targetId: id,
      details: { url: deleted.url, cancelled_deliveries: cancelled },
    });
  });
}

/**
 * Disables an endpoint whose receiver answered 410 Gone ("this endpoint no longer exists") and
 * cancels its pending deliveries. It can be re-enabled with PUT once the receiver is back.
 */
export async function disableGoneEndpoint(db: Db, clock: Clock, id: number): Promise<void> {
  const nowIso = clock.now().toISOString();
  await inTransaction(db, async (trx) => {
    const updated = await trx
      .updateTable('webhook_endpoints')
      .set({ enabled: 0, disabled_reason: `The receiver answered 410 Gone at ${nowIso}`, updated_at: nowIso })
      .where('id', '=', id)
      .where('enabled', '=', 1)
      .executeTakeFirst();
    const cancelled = await cancelPendingDeliveries(trx, id, 'endpoint disabled after 410 Gone');
    if (Number(updated.numUpdatedRows) > 0) {
      await recordActivity(trx, clock, {
        actor: SYSTEM_ACTOR,
        action: 'webhook.disable',
        targetType: 'webhook_endpoint',
        targetId: id,
        details: { reason: '410 Gone', cancelled_deliveries: cancelled },
      });
    }
  });
}

