import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { SignatureScheme } from '../../store/schema/index.js';

export type { SignatureScheme };

export type StoreHeaders = Record<string, string | string[] | undefined>;

export type SignatureCheck = { ok: true; scheme: SignatureScheme; deliveryId?: string } | { ok: false; reason: string };

/** Standard Webhooks' replay window, either side of our clock. */
export const STANDARD_WEBHOOKS_TOLERANCE_MS = 5 * 60 * 1000;

const HEX_SIGNATURE_HEADERS = ['x-pixlpay-signature', 'x-webhook-signature'] as const;
const STANDARD_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;
const DELIVERY_ID_HEADERS = ['x-pixlpay-delivery-id', 'x-webhook-id', 'webhook-id'] as const;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const UNIX_SECONDS = /^\d{1,12}$/;

/**
 * Checks that a purchase event came from the store: Standard Webhooks (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature`) when the sender uses them, else the platform's
 * `X-Pixlpay-Signature` / `X-Webhook-Signature`, a hex HMAC-SHA256 of the raw body.
 *
 * Decisions: a header sent twice is refused (a proxy or attacker appending a second value must
 * not get a second chance); the hex digest is compared as bytes, so upper-case hex is accepted
 * (it is the same digest); a `sha256=` prefix is not. When the two hex headers are both present
 * they must agree. Standard Webhooks is chosen as soon as `webhook-signature` or
 * `webhook-timestamp` is present, and then all three headers are required: a lone `webhook-id`
 * is only a delivery id.
 */
export function verifyStoreSignature(input: { rawBody: Buffer; headers: StoreHeaders; secret: string; now: Date }): SignatureCheck {
  if (input.secret.length === 0) return { ok: false, reason: 'no signing secret is configured' };
  const headers = lowerCaseKeys(input.headers);
  for (const name of [...HEX_SIGNATURE_HEADERS, ...STANDARD_HEADERS, ...DELIVERY_ID_HEADERS]) {
    if (Array.isArray(headers[name])) return { ok: false, reason: `header ${name} was sent more than once` };
  }
  const single = (name: string): string | undefined => {
    const value = headers[name];
    return typeof value === 'string' ? value : undefined;
  };

  if (single('webhook-signature') !== undefined || single('webhook-timestamp') !== undefined) {
    return verifyStandardWebhook(input.rawBody, single, input.secret, input.now);
  }

  const [pixlpay, generic] = HEX_SIGNATURE_HEADERS.map(single);
  if (pixlpay !== undefined && generic !== undefined && pixlpay.trim().toLowerCase() !== generic.trim().toLowerCase()) {
    return { ok: false, reason: 'the two signature headers disagree' };
  }
  const given = (pixlpay ?? generic)?.trim();
  if (given === undefined || given === '') return { ok: false, reason: 'no signature header' };
  if (!SHA256_HEX.test(given)) return { ok: false, reason: 'the signature is not 64 hex characters' };
  const expected = createHmac('sha256', input.secret).update(input.rawBody).digest();
  if (!timingSafeEqual(Buffer.from(given, 'hex'), expected)) return { ok: false, reason: 'the signature does not match' };
  const deliveryId = DELIVERY_ID_HEADERS.map(single).find((v) => v !== undefined && v.trim() !== '')?.trim();
  return deliveryId === undefined ? { ok: true, scheme: 'hmac-hex' } : { ok: true, scheme: 'hmac-hex', deliveryId };
}

function verifyStandardWebhook(rawBody: Buffer, header: (name: string) => string | undefined, secret: string, now: Date): SignatureCheck {
  const id = header('webhook-id')?.trim();
  const timestamp = header('webhook-timestamp')?.trim();
  const signatures = header('webhook-signature')?.trim();
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'a Standard Webhooks header is missing' };
  if (!UNIX_SECONDS.test(timestamp)) return { ok: false, reason: 'webhook-timestamp is not a Unix time in seconds' };
  const sentAt = Number(timestamp) * 1000;
  // The package checks the window against the machine's clock; we check it against the injected
  // clock ourselves and use the package only to compute the signature.
  if (Math.abs(now.getTime() - sentAt) > STANDARD_WEBHOOKS_TOLERANCE_MS) {
    return { ok: false, reason: 'webhook-timestamp is outside the 5 minute tolerance' };
  }

  let webhook: Webhook;
  try {
    // `whsec_` secrets carry base64 key bytes (the Standard Webhooks convention); any other
    // secret is used as its UTF-8 bytes, the same key the hex scheme's HMAC uses.
    webhook = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
  } catch {
    return { ok: false, reason: 'the configured whsec_ secret is not valid base64' };
  }
  const expected = Buffer.from(signatureOf(webhook.sign(id, new Date(sentAt), rawBody)));
  for (const candidate of signatures.split(/\s+/)) {
    const comma = candidate.indexOf(',');
    if (comma < 0 || candidate.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(candidate.slice(comma + 1));
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      return { ok: true, scheme: 'standard-webhooks', deliveryId: id };
    }
  }
  return { ok: false, reason: 'no webhook-signature matches' };
}

function signatureOf(versioned: string): string {
  return versioned.slice(versioned.indexOf(',') + 1);
}

function lowerCaseKeys(headers: StoreHeaders): StoreHeaders {
  const out: StoreHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    const previous = out[key];
    // Two spellings of one header name in a plain object are a doubled header too.
    out[key] = previous === undefined ? value : [...[previous].flat(), ...(value === undefined ? [] : [value].flat())];
  }
  return out;
}
