import type { FastifyPluginAsync } from 'fastify';
import { parseStoreEvent } from '../../domain/purchases/parse.js';
import { verifyStoreSignature, type StoreHeaders } from '../../domain/purchases/signature.js';
import { InboundEventWriter } from '../../store/purchase-event.repository.js';
import type { HttpDeps } from '../deps.js';
import { sendJsonError } from '../http-errors.js';

export const STORE_WEBHOOK_BODY_LIMIT = 1024 * 1024;

/**
 * POST /webhooks/store: the store's signed purchase events. Verify, store durably under the
 * event id, answer 2xx, and let the inbound-events worker apply it; the platform gives up after
 * 30 s, so nothing slow happens before the answer.
 */
export const storeWebhookRoutes: FastifyPluginAsync<{ deps: HttpDeps }> = (app, { deps }) => {
  // The signature covers the exact bytes sent, so this scope keeps the body raw whatever the
  // content type says (or when it says nothing). Encapsulation keeps the JSON parser elsewhere.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: STORE_WEBHOOK_BODY_LIMIT }, (_request, body, done) => {
    done(null, body);
  });

  // Group commit: concurrent deliveries share one durable commit (see GroupCommit).
  const writer = deps.events ?? new InboundEventWriter(deps.db, deps.clock);

  app.post('/webhooks/store', { bodyLimit: STORE_WEBHOOK_BODY_LIMIT }, async (request, reply) => {
    const secret = deps.config.storeWebhookSecret;
    if (!secret) {
      return sendJsonError(reply, 503, 'The purchase event listener is not configured (STORE_WEBHOOK_SECRET is not set).');
    }
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const headers = headersWithDuplicates(request.raw.rawHeaders);

    const signature = verifyStoreSignature({ rawBody, headers, secret, now: deps.clock.now() });
    if (!signature.ok) {
      request.log.warn({ reason: signature.reason }, 'purchase event refused: bad signature');
      return sendJsonError(reply, 401, 'Invalid or missing signature.');
    }

    const parsed = parseStoreEvent(rawBody, headers);
    if (!parsed.ok) {
      request.log.warn({ reason: parsed.message }, 'purchase event refused: malformed');
      return sendJsonError(reply, 400, parsed.message);
    }

    const { event } = parsed;
    const stored = await writer.store({
      id: event.id,
      eventType: event.eventType,
      payload: rawBody.toString('utf8'),
      scheme: signature.scheme,
    });
    if (stored === 'duplicate') return reply.status(200).send({ received: true, duplicate: true });
    deps.wake.inboundEvents();
    return reply.status(200).send({ received: true });
  });
  return Promise.resolve();
};

/**
 * Node joins a repeated header into one comma-separated string; the raw header list keeps them
 * apart, so a doubled signature or id header reaches the checks as an array and is refused.
 */
function headersWithDuplicates(rawHeaders: readonly string[]): StoreHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...[previous].flat(), value];
  }
  return headers;
}
