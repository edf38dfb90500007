import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyStoreSignature } from '../../../src/domain/purchases/signature.js';

const SECRET = 'store-secret-for-tests';
const NOW = new Date('2026-11-22T12:00:00.000Z');
const body = Buffer.from('{"id":"evt_1","event_type":"order.paid","data":{"id":1}}');

function hex(payload: Buffer, secret = SECRET): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

function verify(headers: Record<string, string | string[] | undefined>, rawBody = body, secret = SECRET, now = NOW) {
  return verifyStoreSignature({ rawBody, headers, secret, now });
}

function standardHeaders(options: { secret?: string; sentAt?: Date; id?: string; payload?: Buffer } = {}) {
  const secret = options.secret ?? SECRET;
  const webhook = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(Buffer.from(secret), { format: 'raw' });
  const id = options.id ?? 'msg_1';
  const sentAt = options.sentAt ?? NOW;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    'webhook-signature': webhook.sign(id, sentAt, options.payload ?? body),
  };
}

describe('the hex HMAC signature', () => {
  it('accepts the lowercase hex HMAC-SHA256 of the raw body in X-Pixlpay-Signature', () => {
    expect(verify({ 'x-pixlpay-signature': hex(body) })).toEqual({ ok: true, scheme: 'hmac-hex' });
  });

  it('accepts X-Webhook-Signature as well, and header names in any case', () => {
    expect(verify({ 'X-Webhook-Signature': hex(body) })).toMatchObject({ ok: true, scheme: 'hmac-hex' });
  });

  it('accepts upper-case hex, which is the same digest', () => {
    expect(verify({ 'x-pixlpay-signature': hex(body).toUpperCase() })).toMatchObject({ ok: true });
  });

  it('reports the delivery id header when there is one', () => {
    expect(verify({ 'x-pixlpay-signature': hex(body), 'x-pixlpay-delivery-id': 'dlv_9' })).toEqual({ ok: true, scheme: 'hmac-hex', deliveryId: 'dlv_9' });
  });

  it('refuses a missing signature', () => {
    expect(verify({})).toMatchObject({ ok: false });
  });

  it('refuses a signature made with another secret', () => {
    expect(verify({ 'x-pixlpay-signature': hex(body, 'another secret') })).toMatchObject({ ok: false, reason: 'the signature does not match' });
  });

  it('refuses a body with one bit flipped', () => {
    const flipped = Buffer.from(body);
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    expect(verify({ 'x-pixlpay-signature': hex(body) }, flipped)).toMatchObject({ ok: false });
  });

  it('refuses non-hex, short, long and prefixed signatures', () => {
    const good = hex(body);
    for (const bad of [good.slice(0, 63), `${good}00`, `sha256=${good}`, `${good.slice(0, 63)}g`, 'not a signature', '']) {
      expect(verify({ 'x-pixlpay-signature': bad })).toMatchObject({ ok: false });
    }
  });

  it('refuses a signature header sent twice, even when one copy is right', () => {
    expect(verify({ 'x-pixlpay-signature': [hex(body), hex(body)] })).toMatchObject({ ok: false, reason: expect.stringContaining('more than once') });
    expect(verify({ 'x-pixlpay-signature': [hex(body, 'wrong'), hex(body)] })).toMatchObject({ ok: false });
  });

  it('refuses a doubled delivery id header', () => {
    expect(verify({ 'x-pixlpay-signature': hex(body), 'x-pixlpay-delivery-id': ['a', 'b'] })).toMatchObject({ ok: false });
  });

  it('refuses the two hex headers when they disagree', () => {
    expect(verify({ 'x-pixlpay-signature': hex(body), 'x-webhook-signature': hex(body, 'wrong') })).toMatchObject({ ok: false });
    expect(verify({ 'x-pixlpay-signature': hex(body), 'x-webhook-signature': hex(body) })).toMatchObject({ ok: true });
  });

  it('refuses everything when no secret is configured', () => {
    expect(verify({ 'x-pixlpay-signature': hex(body, '') }, body, '')).toMatchObject({ ok: false });
  });
});

describe('Standard Webhooks signatures', () => {
  it('are verified with the raw secret bytes, and the webhook-id becomes the delivery id', () => {
    expect(verify(standardHeaders())).toEqual({ ok: true, scheme: 'standard-webhooks', deliveryId: 'msg_1' });
  });

  it('are verified with a whsec_ secret decoded from base64', () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    expect(verify(standardHeaders({ secret }), body, secret)).toMatchObject({ ok: true, scheme: 'standard-webhooks' });
  });

  it('take precedence over a hex header: a valid hex signature does not rescue a bad Standard Webhooks one', () => {
    const headers = { ...standardHeaders({ secret: 'wrong secret' }), 'x-pixlpay-signature': hex(body) };
    expect(verify(headers)).toMatchObject({ ok: false });
  });

  it('accept a timestamp up to five minutes either side of our clock, measured by the injected clock', () => {
    expect(verify(standardHeaders({ sentAt: new Date(NOW.getTime() - 299_000) }))).toMatchObject({ ok: true });
    expect(verify(standardHeaders({ sentAt: new Date(NOW.getTime() + 299_000) }))).toMatchObject({ ok: true });
  });

  it('refuse an expired timestamp', () => {
    expect(verify(standardHeaders({ sentAt: new Date(NOW.getTime() - 301_000) }))).toMatchObject({ ok: false, reason: expect.stringContaining('tolerance') });
  });

  it('refuse a timestamp from the future', () => {
    expect(verify(standardHeaders({ sentAt: new Date(NOW.getTime() + 301_000) }))).toMatchObject({ ok: false, reason: expect.stringContaining('tolerance') });
  });

  it('accept several space-separated signatures of which one is valid', () => {
    const headers = standardHeaders();
    const wrong = standardHeaders({ secret: 'rotated-out secret' })['webhook-signature'];
    expect(verify({ ...headers, 'webhook-signature': `${wrong} v2,abc ${headers['webhook-signature']}` })).toMatchObject({ ok: true });
  });

  it('refuse when no signature in the list is valid', () => {
    const wrong = standardHeaders({ secret: 'rotated-out secret' })['webhook-signature'];
    expect(verify({ ...standardHeaders(), 'webhook-signature': `${wrong} ${wrong}` })).toMatchObject({ ok: false });
  });

  it('refuse a tampered body, another message id, or a missing header', () => {
    const headers = standardHeaders();
    expect(verify(headers, Buffer.from(`${body.toString()} `))).toMatchObject({ ok: false });
    expect(verify({ ...headers, 'webhook-id': 'msg_2' })).toMatchObject({ ok: false });
    expect(verify({ 'webhook-timestamp': headers['webhook-timestamp'], 'webhook-signature': headers['webhook-signature'] })).toMatchObject({ ok: false });
  });

  it('refuse a malformed timestamp and doubled headers', () => {
    const headers = standardHeaders();
    expect(verify({ ...headers, 'webhook-timestamp': `${headers['webhook-timestamp']}abc` })).toMatchObject({ ok: false });
    expect(verify({ ...headers, 'webhook-signature': [headers['webhook-signature'], headers['webhook-signature']] })).toMatchObject({ ok: false });
    expect(verify({ ...headers, 'webhook-id': [headers['webhook-id'], 'x'] })).toMatchObject({ ok: false });
  });

  it('refuse a signature token with trailing garbage, as a header joined by a proxy would have', () => {
    const headers = standardHeaders();
    expect(verify({ ...headers, 'webhook-signature': `${headers['webhook-signature']}, v1,AAAA` })).toMatchObject({ ok: false });
  });
});
