import type { LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import type { Clock } from '../shared/clock.js';
import { UserError } from '../shared/errors.js';
import { clipText } from '../shared/text.js';
import { hostOf, parseWebhookUrl, resolveWebhookTarget, type HostLookup, type ResolvedAddress } from '../domain/webhooks/address-policy.js';
import { disableGoneEndpoint } from '../domain/webhooks/endpoints.js';
import { decideRetry } from '../domain/webhooks/outbox.js';
import { signWebhookRequest } from '../domain/webhooks/signing.js';
import type { Logger } from '../logger.js';
import { inTransaction, type Db } from '../store/database.js';
import { claimDue, releaseLeasesOf, settleClaim, type LeaseQueue } from '../store/lease-queue.js';
import type { WebhookDeliveryRow } from '../store/schema/index.js';
import { startWorker, type Worker } from './worker.js';

export const WEBHOOK_TIMEOUT_MS = 10_000;
const DEFAULT_BATCH = 10;
const DEFAULT_INTERVAL_MS = 15_000;
// Kept in the attempt log: enough to see "maintenance mode" or a stack trace, not a whole page.
// Read up to so many bytes, kept up to so many code points.
const RESPONSE_SNIPPET_BYTES = 512;
const RESPONSE_SNIPPET_LENGTH = 512;
const ERROR_MAX_LENGTH = 1000;

export interface WebhookRequest {
  url: URL;
  /** The checked address the connection must go to (not whatever DNS says a moment later). */
  address: ResolvedAddress;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface WebhookResponse {
  statusCode: number;
  /** The start of the response body, for the attempt log. */
  bodySnippet: string;
}

/** Sends one request and resolves with the receiver's answer; rejects on network errors and timeouts. */
export type WebhookTransport = (request: WebhookRequest) => Promise<WebhookResponse>;

export interface DeliverWebhooksOptions {
  /** How many due deliveries one pass claims (and sends concurrently). */
  limit: number;
  /** config.webhookAllowPrivateUrls */
  allowPrivateGlobally: boolean;
  logger: Logger;
  /** Defaults to node:http(s) pinned to the checked address. */
  transport?: WebhookTransport | undefined;
  /** Defaults to node:dns/promises lookup. */
  lookup?: HostLookup | undefined;
  /** Whole-request timeout; 10 s by default. */
  timeoutMs?: number | undefined;
  /** In [0, 1), for the retry jitter; Math.random by default. */
  random?: (() => number) | undefined;
  /** This process's id, recorded on each claim. */
  holder?: string | undefined;
}

/**
 * The default transport: node:http(s) with a `lookup` that answers with the address already
 * checked, so the socket connects exactly there (no second DNS answer can swap in 127.0.0.1),
 * while the Host header and TLS certificate check still use the URL's host name. No agent
 * (a pooled socket could outlive the check), no redirects (node:http never follows them; a 3xx is
 * a failed attempt), one deadline for the whole exchange.
 */
export const nodeHttpTransport: WebhookTransport = (req) =>
  new Promise<WebhookResponse>((resolve, reject) => {
    const pinned: LookupFunction = (_hostname, options, callback) => {
      const found: LookupAddress = { address: req.address.address, family: req.address.family };
      if (options.all) (callback as (err: null, addresses: LookupAddress[]) => void)(null, [found]);
      else callback(null, found.address, found.family);
    };
    const send = req.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing = send({
      protocol: req.url.protocol,
      hostname: hostOf(req.url),
      port: req.url.port === '' ? undefined : Number(req.url.port),
      path: `${req.url.pathname}${req.url.search}`,
      method: 'POST',
      headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
      lookup: pinned,
      agent: false,
    });
    const timer = setTimeout(() => outgoing.destroy(new Error(`timed out after ${req.timeoutMs / 1000} s`)), req.timeoutMs);
    const finish = (outcome: () => void) => {
      clearTimeout(timer);
      outcome();
    };
    outgoing.on('error', (error) => finish(() => reject(error)));
    outgoing.on('response', (response: IncomingMessage) => {
      // Decoded as it arrives, so a character split between two packets (or by the cut below)
      // is held back rather than read as two replacement characters.
      const decoder = new StringDecoder('utf8');
      let text = '';
      let size = 0;
      const done = (snippet: string) => finish(() => resolve({ statusCode: response.statusCode ?? 0, bodySnippet: clipText(snippet, RESPONSE_SNIPPET_LENGTH) }));
      response.on('data', (chunk: Buffer) => {
        if (size < RESPONSE_SNIPPET_BYTES) text += decoder.write(chunk);
        size += chunk.length;
        // The status is all that decides; a receiver streaming a large body must not hold us.
        if (size >= RESPONSE_SNIPPET_BYTES) {
          response.destroy();
          const whole = size >= Number(response.headers['content-length'] ?? Infinity);
          done(whole ? text + decoder.end() : `${text}…`);
        }
      });
      response.on('end', () => done(text + decoder.end()));
      response.on('error', (error) => finish(() => reject(error)));
    });
    outgoing.end(req.body);
  });

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? `${error.code}: ` : '';
    return clipText(code + error.message, ERROR_MAX_LENGTH);
  }
  return clipText(String(error), ERROR_MAX_LENGTH);
}

/**
 * The outbox of outgoing webhooks, claimed soonest due first. A claim does not count an attempt:
 * the attempt is counted when its outcome is recorded. A lease left by a crash expires and the
 * delivery is sent again (at least once; receivers dedupe on the event id).
 */
export const WEBHOOK_DELIVERY_QUEUE: LeaseQueue<'webhook_deliveries'> = {
  table: 'webhook_deliveries',
  open: ['pending'],
  order: ['next_attempt_at'],
  claimCountsAttempt: false,
  release: 'expire',
};

interface AttemptOutcome {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

async function recordAttempt(db: Db, clock: Clock, delivery: WebhookDeliveryRow, outcome: AttemptOutcome, random: () => number): Promise<'delivered' | 'gone' | 'retry' | 'failed'> {
  const now = clock.now();
  const nowIso = now.toISOString();
  const attempts = delivery.attempts + 1;
  const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
  const gone = outcome.statusCode === 410;
  const retry = ok || gone ? null : decideRetry(attempts, now, random());

  await inTransaction(db, async (trx) => {
    await trx
      .insertInto('webhook_delivery_attempts')
      .values({ delivery_id: delivery.id, attempted_at: nowIso, status_code: outcome.statusCode, error: outcome.error, duration_ms: outcome.durationMs })
      .execute();
    const common = { attempts, last_status_code: outcome.statusCode, last_error: outcome.error };
    const claim = { id: delivery.id };
    if (ok) {
      // Delivered even if the endpoint was deleted meanwhile: the receiver has it.
      await settleClaim(trx, WEBHOOK_DELIVERY_QUEUE, claim, { ...common, status: 'delivered', next_attempt_at: null, delivered_at: nowIso }, { evenIfClosed: true });
      return;
    }
    const update = gone || retry?.status === 'failed' ? { ...common, status: 'failed' as const, next_attempt_at: null } : { ...common, next_attempt_at: retry?.status === 'pending' ? retry.nextAttemptAt : null };
    // Cancelled while we were sending (endpoint deleted or disabled): keep it cancelled.
    await settleClaim(trx, WEBHOOK_DELIVERY_QUEUE, claim, update);
    if (gone) await disableGoneEndpoint(trx, clock, delivery.endpoint_id);
  });
  if (ok) return 'delivered';
  if (gone) return 'gone';
  return retry?.status === 'pending' ? 'retry' : 'failed';
}

async function cancelDelivery(db: Db, id: string, why: string): Promise<void> {
  await db.updateTable('webhook_deliveries').set({ status: 'cancelled', next_attempt_at: null, lease_until: null, last_error: why }).where('id', '=', id).where('status', '=', 'pending').execute();
}

async function deliverOne(db: Db, clock: Clock, delivery: WebhookDeliveryRow, options: DeliverWebhooksOptions): Promise<void> {
  const endpoint = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', delivery.endpoint_id).executeTakeFirst();
  if (!endpoint || endpoint.deleted_at !== null) return cancelDelivery(db, delivery.id, 'endpoint deleted');
  if (endpoint.enabled !== 1) return cancelDelivery(db, delivery.id, 'endpoint disabled');

  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const started = performance.now();
  let outcome: AttemptOutcome;
  try {
    const url = parseWebhookUrl(endpoint.url);
    // Checked again at every send: DNS may now answer differently than when the URL was saved.
    const addresses = await resolveWebhookTarget(url, { allowPrivate: endpoint.allow_private === 1 || options.allowPrivateGlobally, lookup: options.lookup });
    const address = addresses[0];
    if (!address) throw new UserError('unresolvable_host', `The host ${hostOf(url)} has no addresses.`);
    const headers = signWebhookRequest(endpoint.secret, {
      deliveryId: delivery.id,
      eventId: delivery.event_id,
      eventType: delivery.event_type,
      payload: delivery.payload,
      sentAt: clock.now(),
    });
    const response = await (options.transport ?? nodeHttpTransport)({ url, address, headers, body: delivery.payload, timeoutMs });
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    const redirect = response.statusCode >= 300 && response.statusCode < 400 ? ' (redirects are not followed)' : '';
    outcome = {
      statusCode: response.statusCode,
      error: ok ? null : clipText(`HTTP ${response.statusCode}${redirect}${response.bodySnippet ? `: ${response.bodySnippet}` : ''}`, ERROR_MAX_LENGTH),
      durationMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    outcome = { statusCode: null, error: describeError(error), durationMs: Math.round(performance.now() - started) };
  }

  const result = await recordAttempt(db, clock, delivery, outcome, options.random ?? Math.random);
  const log = { delivery: delivery.id, event: delivery.event_id, endpoint: endpoint.id, attempt: delivery.attempts + 1, status: outcome.statusCode, error: outcome.error };
  if (result === 'delivered') options.logger.debug(log, 'webhook delivered');
  else if (result === 'gone') options.logger.warn(log, 'webhook endpoint answered 410 Gone; endpoint disabled');
  else if (result === 'failed') options.logger.warn(log, 'webhook delivery failed for good');
  else options.logger.info(log, 'webhook delivery failed; will retry');
}

/**
 * One pass of the delivery worker: claims up to `limit` due deliveries and sends them
 * concurrently. Returns how many were claimed (the worker loops while that is > 0).
 */
export async function deliverDueWebhooks(db: Db, clock: Clock, options: DeliverWebhooksOptions): Promise<number> {
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  // The lease outlasts the longest send, so a live attempt is never claimed twice.
  const { rows: claimed } = await claimDue(db, clock, WEBHOOK_DELIVERY_QUEUE, { limit: options.limit, leaseMs: timeoutMs + 60_000, holder: options.holder ?? null });
  await Promise.all(
    claimed.map((delivery) =>
      deliverOne(db, clock, delivery, options).catch((error: unknown) => {
        // A database error while recording: the lease expires and the delivery is tried again.
        options.logger.error({ err: error, delivery: delivery.id }, 'webhook delivery pass failed');
      }),
    ),
  );
  return claimed.length;
}

export interface WebhookDeliveryWorkerOptions extends Omit<DeliverWebhooksOptions, 'limit'> {
  limit?: number | undefined;
  /** Idle poll interval: how soon a retry that became due is noticed. */
  intervalMs?: number | undefined;
}

/** Starts the background delivery loop; `wake()` it after queueing deliveries. */
export function startWebhookDeliveryWorker(db: Db, clock: Clock, options: WebhookDeliveryWorkerOptions): Worker {
  const passOptions: DeliverWebhooksOptions = { ...options, limit: options.limit ?? DEFAULT_BATCH };
  return startWorker({
    name: 'webhook-deliveries',
    logger: options.logger,
    intervalMs: options.intervalMs ?? DEFAULT_INTERVAL_MS,
    runOnce: () => deliverDueWebhooks(db, clock, passOptions),
  });
}

/**
 * Deliveries leased by a dead process are due at once. One of them may already have reached its
 * receiver: that is at-least-once delivery, and receivers dedupe on `webhook-id`. `holders`: as
 * in {@link releaseLeasesOf}.
 */
export async function releaseWebhookDeliveryLeases(db: Db, clock: Clock, holders?: readonly (string | null)[]): Promise<number> {
  return releaseLeasesOf(db, clock, WEBHOOK_DELIVERY_QUEUE, holders);
}
