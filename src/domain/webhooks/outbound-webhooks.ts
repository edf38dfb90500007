import { createHmac, randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { inTransaction, type Db } from '../../store/database.js';
import { clampPage } from '../../store/paging.js';
import type { WebhookDeliveryAttemptRow, WebhookDeliveryRow, WebhookDeliveryStatus, WebhookEndpointRow } from '../../store/schema/index.js';
import { recordActivity, SYSTEM_ACTOR } from '../customers/activity-log.js';
import { parseIp, parseIpOrCidr } from '../bans/targets.js';
import type { Clock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import { codePointLength } from '../../shared/text.js';
import type { Actor, Customer } from '../customers/types.js';

// Outgoing webhooks: endpoints, the outbox of deliveries, and the rules the delivery worker
// follows (who may be called, how requests are signed, when to retry). The worker in
// src/jobs/webhook-deliveries.ts does the sending.

export const WEBHOOK_EVENT_TYPES = ['customer.created'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
/** Sent by `POST /webhooks/:id/test`; no endpoint subscribes to it, every endpoint may receive it. */
export const PING_EVENT_TYPE = 'ping';

export const WEBHOOK_URL_MAX_LENGTH = 2048;
export const WEBHOOK_DESCRIPTION_MAX_LENGTH = 500;
/** Each enabled endpoint is one more request per event: bound the fan-out. */
export const MAX_WEBHOOK_ENDPOINTS = 20;
const SECRET_PREFIX = 'whsec_';
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

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (node:dns/promises `lookup(host, {all: true})`). */
export type HostLookup = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemHostLookup: HostLookup = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export interface UrlPolicy {
  /** The endpoint's own allowPrivate or the global WEBHOOK_ALLOW_PRIVATE_URLS. */
  allowPrivate: boolean;
  lookup?: HostLookup | undefined;
}

// ---------------------------------------------------------------------------------------------
// Where webhooks may go (SSRF)
//
// An endpoint URL is chosen by whoever holds a webhooks:write token, and the bot sends requests
// to it from inside the store's network. Without a check, `http://169.254.169.254/` (cloud
// metadata), `http://localhost:6379/` or `http://10.0.0.5/admin` would be reachable through us.
// Addresses are checked after resolution (a public-looking name can resolve to 127.0.0.1), again
// at every send (DNS can change after the check), and the connection is pinned to the address
// that was checked.

interface BlockedRange {
  start: string;
  end: string;
  reason: string;
}

function range(cidr: string, reason: string): BlockedRange {
  const { start, end } = parseIpOrCidr(cidr);
  return { start, end, reason };
}

// Addresses live in one 128-bit space where IPv4 a.b.c.d is ::ffff:a.b.c.d (see ban-targets),
// so each IPv4 range below also covers its IPv4-mapped IPv6 form. More specific ranges come first.
const BLOCKED_RANGES: readonly BlockedRange[] = [
  range('0.0.0.0/8', 'an unspecified ("this network") address'),
  range('10.0.0.0/8', 'a private address'),
  range('100.64.0.0/10', 'a carrier-grade NAT (shared) address'),
  range('127.0.0.0/8', 'a loopback address'),
  range('169.254.0.0/16', 'a link-local address'),
  range('172.16.0.0/12', 'a private address'),
  range('192.0.0.0/24', 'a reserved address'),
  range('192.0.2.0/24', 'a documentation address'),
  range('192.168.0.0/16', 'a private address'),
  range('198.18.0.0/15', 'a reserved (benchmarking) address'),
  range('198.51.100.0/24', 'a documentation address'),
  range('203.0.113.0/24', 'a documentation address'),
  range('224.0.0.0/4', 'a multicast address'),
  range('240.0.0.0/4', 'a reserved address'),
  range('::/128', 'an unspecified address'),
  range('::1/128', 'a loopback address'),
  // IPv4-compatible IPv6 (deprecated): nothing legitimate lives there.
  range('::/96', 'a reserved address'),
  range('64:ff9b:1::/48', 'a private (local NAT64) address'),
  range('100::/64', 'a reserved (discard) address'),
  range('2001::/32', 'a Teredo tunnel address'),
  range('2001:db8::/32', 'a documentation address'),
  range('fc00::/7', 'a private (unique local) address'),
  range('fe80::/10', 'a link-local address'),
  range('fec0::/10', 'a private (site-local) address'),
  range('ff00::/8', 'a multicast address'),
];

const NAT64 = parseIpOrCidr('64:ff9b::/96');
const SIX_TO_FOUR = parseIpOrCidr('2002::/16');
const IPV4_MAPPED_HEX_PREFIX = '00000000000000000000ffff';

/**
 * Why `address` may not receive webhooks ("a loopback address"), or null for a public address.
 * NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses are judged by the IPv4 address they carry.
 */
export function classifyAddress(address: string): string | null {
  let hex: string;
  try {
    hex = parseIp(address.replace(/^\[|\]$/g, '')).hex;
  } catch {
    return 'not a valid IP address';
  }
  if (hex >= NAT64.start && hex <= NAT64.end) hex = IPV4_MAPPED_HEX_PREFIX + hex.slice(24);
  else if (hex >= SIX_TO_FOUR.start && hex <= SIX_TO_FOUR.end) hex = IPV4_MAPPED_HEX_PREFIX + hex.slice(4, 12);
  for (const blocked of BLOCKED_RANGES) {
    if (hex >= blocked.start && hex <= blocked.end) return blocked.reason;
  }
  return null;
}

function badUrl(message: string): UserError {
  return new UserError('invalid_url', message);
}

/**
 * Parses an endpoint URL with the WHATWG parser (which also normalises `http://2130706433/` and
 * `http://0x7f.1/` to `http://127.0.0.1/`, so the address checks see what will be dialled):
 * http(s) only, no credentials, at most 2048 characters. Returns the normalised URL.
 */
export function parseWebhookUrl(raw: string): URL {
  const text = raw.trim();
  if (text === '') throw badUrl('The URL is required.');
  if (codePointLength(text) > WEBHOOK_URL_MAX_LENGTH) throw badUrl(`The URL must be at most ${WEBHOOK_URL_MAX_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badUrl('The URL is not a valid absolute URL, e.g. https://example.com/webhooks.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badUrl(`The URL must start with https:// or http:// (not ${url.protocol}//).`);
  if (url.username !== '' || url.password !== '') throw badUrl('The URL must not contain a user name or password; the signing secret authenticates each delivery.');
  if (url.hostname === '') throw badUrl('The URL has no host.');
  url.hash = '';
  return url;
}

/** The host as the resolver and the socket want it: IPv6 literals without their brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * Resolves the URL's host to every address it has and, unless private targets are allowed,
 * refuses (UserError `invalid_url`, naming the address and why) when any of them is not public:
 * a name that resolves to a mix could be steered to the private one.
 */
export async function resolveWebhookTarget(url: URL, policy: UrlPolicy): Promise<ResolvedAddress[]> {
  const host = hostOf(url);
  let addresses: ResolvedAddress[];
  const literal = isIP(host);
  if (literal !== 0) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await (policy.lookup ?? systemHostLookup)(host);
    } catch (error) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'no answer';
      throw new UserError('unresolvable_host', `The host ${host} could not be resolved (${code}).`);
    }
    if (addresses.length === 0) throw new UserError('unresolvable_host', `The host ${host} has no addresses.`);
  }
  if (!policy.allowPrivate) {
    for (const { address } of addresses) {
      const reason = classifyAddress(address);
      if (reason !== null) {
        const where = literal !== 0 ? `The URL points at ${address}` : `The URL's host ${host} resolves to ${address}`;
        throw badUrl(`${where}, ${reason}; webhooks may only be sent to public internet addresses.`);
      }
    }
  }
  return addresses;
}

/** Parses and checks an endpoint URL as it is saved; returns the normalised URL text. */
export async function checkWebhookUrl(raw: string, policy: UrlPolicy): Promise<string> {
  const url = parseWebhookUrl(raw);
  // With private targets allowed there is nothing to refuse, and a host that does not resolve
  // yet (a container that starts later) is no reason to refuse the endpoint.
  if (!policy.allowPrivate) {
    try {
      await resolveWebhookTarget(url, policy);
    } catch (error) {
      if (error instanceof UserError && error.code === 'unresolvable_host') throw badUrl(error.message);
      throw error;
    }
  }
  return url.href;
}

// ---------------------------------------------------------------------------------------------
// Signing

/** `whsec_` + base64 of 32 random bytes: the Standard Webhooks secret format. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

export interface SignedDelivery {
  deliveryId: string;
  eventId: string;
  eventType: string;
  payload: string;
  /** When the request is sent (not when the event happened): receivers check it against their clock. */
  sentAt: Date;
}

export const WEBHOOK_USER_AGENT = 'StoreCustomerDesk-Webhooks/1.0';

/**
 * The headers of one delivery attempt.
 *
 * - `X-Pixlpay-Signature`: lowercase hex HMAC-SHA256 of the raw body, keyed with the secret
 *   string exactly as shown to the user (`whsec_…`, UTF-8), not its decoded bytes: that is how
 *   Pixlpay receivers verify (`createHmac('sha256', secret).update(body).digest('hex')`).
 * - `webhook-id` / `webhook-timestamp` / `webhook-signature`: Standard Webhooks, where the key is
 *   the base64-decoded part after `whsec_` (the `standardwebhooks` package does that).
 *   `webhook-id` is the event id, stable across retries and redeliveries, so receivers dedupe.
 */
export function signWebhookRequest(secret: string, delivery: SignedDelivery): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': WEBHOOK_USER_AGENT,
    'x-pixlpay-signature': createHmac('sha256', secret).update(delivery.payload, 'utf8').digest('hex'),
    'x-pixlpay-event': delivery.eventType,
    'x-pixlpay-delivery-id': delivery.deliveryId,
    'webhook-id': delivery.eventId,
    'webhook-timestamp': String(Math.floor(delivery.sentAt.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(delivery.eventId, delivery.sentAt, delivery.payload),
  };
}

// ---------------------------------------------------------------------------------------------
// Retries

export type RetryDecision = { status: 'pending'; nextAttemptAt: string } | { status: 'failed' };

/**
 * After the `attempts`-th attempt failed: when to try again, or give up. `random` in [0, 1)
 * spreads retries of many deliveries that failed together (a receiver coming back up).
 */
export function decideRetry(attempts: number, now: Date, random: number = Math.random()): RetryDecision {
  const wait = WEBHOOK_RETRY_SCHEDULE_MS[attempts - 1];
  if (wait === undefined) return { status: 'failed' };
  const jittered = Math.round(wait * (1 + WEBHOOK_RETRY_JITTER * Math.min(Math.max(random, 0), 1)));
  return { status: 'pending', nextAttemptAt: new Date(now.getTime() + jittered).toISOString() };
}

// ---------------------------------------------------------------------------------------------
// Endpoints

function parseStoredEvents(text: string): WebhookEventType[] {
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

function notFound(id: number | string): UserError {
  return new UserError('webhook_not_found', `No webhook endpoint has id ${id}.`);
}

async function findLiveEndpointRow(db: Db, id: number): Promise<WebhookEndpointRow | undefined> {
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
  if (!row) throw notFound(id);
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
  if (!existing) throw notFound(id);
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
    if (!updated) throw notFound(id);
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
    if (!deleted) throw notFound(id);
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

// ---------------------------------------------------------------------------------------------
// The outbox

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
    if (!endpoint) throw notFound(endpointId);
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
    if (!endpoint) throw notFound(original.endpoint_id);
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
  if (!exists) throw notFound(endpointId);
  const perPage = clampPage({ offset: 0, limit: paging.perPage ?? 15 }, MAX_DELIVERIES_PAGE).limit;
  const page = Math.max(1, Math.trunc(paging.page ?? 1) || 1);
  const { total } = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .where('endpoint_id', '=', endpointId)
    .executeTakeFirstOrThrow();
  const rows = await db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(perPage)
    .offset((page - 1) * perPage)
    .execute();
  const count = Number(total);
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
