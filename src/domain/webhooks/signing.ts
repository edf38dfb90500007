import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

// How each delivery is signed, so receivers can tell it came from this store.

const SECRET_PREFIX = 'whsec_';

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
    ...signHexWebhookRequest(secret, delivery),
    'webhook-id': delivery.eventId,
    'webhook-timestamp': String(Math.floor(delivery.sentAt.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(delivery.eventId, delivery.sentAt, delivery.payload),
  };
}

/**
 * The Pixlpay headers alone (`X-Pixlpay-Signature` and its companions): what a secret that is
 * not a `whsec_` secret can sign, since Standard Webhooks keys are base64 by definition.
 */
export function signHexWebhookRequest(secret: string, delivery: SignedDelivery): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': WEBHOOK_USER_AGENT,
    'x-pixlpay-signature': createHmac('sha256', secret).update(delivery.payload, 'utf8').digest('hex'),
    'x-pixlpay-event': delivery.eventType,
    'x-pixlpay-delivery-id': delivery.deliveryId,
  };
}
