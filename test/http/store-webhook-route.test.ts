import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { ManualClock } from '../../src/shared/clock.js';
import { createHttpApp, type HttpApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import type { Db } from '../../src/store/database.js';
import { countInboundEvents, findInboundEvent } from '../../src/store/purchase-event.repository.js';
import { useTestContext } from '../support/context.js';

const SECRET = 'route-test-secret';
let db: Db;
let clock: ManualClock;
let app: HttpApp;
let wakes: number;

async function buildApp(env: Record<string, string> = { STORE_WEBHOOK_SECRET: SECRET }): Promise<HttpApp> {
  return createHttpApp({
    db,
    clock,
    config: loadConfig({ LOG_LEVEL: 'silent', ...env }),
    logger: createLogger('silent'),
    wake: {
      inboundEvents: () => {
        wakes++;
      },
      webhookDeliveries: () => undefined,
    },
  });
}

useTestContext(async (context) => {
  ({ db, clock } = context);
  wakes = 0;
  app = await buildApp();
});
afterEach(async () => {
  await app.close();
});

const ORDER_PAID = JSON.stringify({
  id: 'evt_1',
  event_type: 'order.paid',
  created_at: '2026-11-22T11:59:00Z',
  data: { order_id: 123, order_number: 'ORD-1', customer_email: 'player@example.com', total: '29.99' },
});

function sign(body: string | Buffer, secret = SECRET): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

function post(body: string | Buffer, headers: Record<string, string | string[]>) {
  return app.inject({ method: 'POST', url: '/webhooks/store', payload: body, headers });
}

describe('POST /webhooks/store', () => {
  it('stores a signed event, answers 200 {received: true} after the insert, and wakes the worker', async () => {
    const response = await post(ORDER_PAID, { 'content-type': 'application/json', 'x-pixlpay-signature': sign(ORDER_PAID) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: true });
    expect(await findInboundEvent(db, 'evt_1')).toMatchObject({
      eventType: 'order.paid',
      payload: ORDER_PAID,
      scheme: 'hmac-hex',
      status: 'pending',
      attempts: 0,
      receivedAt: '2026-11-22T12:00:00.000Z',
    });
    expect(wakes).toBe(1);
  });

  it('keeps the exact bytes it verified, whitespace and key order included', async () => {
    const body = '{ "event_type":"order.paid",  "id":"evt_ws",\n "data":{"order_id":1,"customer_email":"a@example.com"} }';
    const response = await post(body, { 'content-type': 'application/json; charset=utf-8', 'x-pixlpay-signature': sign(body) });
    expect(response.statusCode).toBe(200);
    expect((await findInboundEvent(db, 'evt_ws'))?.payload).toBe(body);
  });

  it('acknowledges a duplicate id with no second row and no second wake', async () => {
    const headers = { 'content-type': 'application/json', 'x-pixlpay-signature': sign(ORDER_PAID) };
    await post(ORDER_PAID, headers);
    const again = await post(ORDER_PAID, headers);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ received: true, duplicate: true });
    expect(await countInboundEvents(db)).toEqual({ pending: 1, processed: 0, ignored: 0, failed: 0 });
    expect(wakes).toBe(1);
  });

  it('accepts any content type, or none, as the raw body', async () => {
    const plain = ORDER_PAID.replace('evt_1', 'evt_plain');
    expect((await post(plain, { 'content-type': 'text/plain', 'x-pixlpay-signature': sign(plain) })).statusCode).toBe(200);
    const none = ORDER_PAID.replace('evt_1', 'evt_none');
    expect((await post(Buffer.from(none), { 'x-pixlpay-signature': sign(none) })).statusCode).toBe(200);
    expect((await countInboundEvents(db)).pending).toBe(2);
  });

  it('takes the event id from X-Pixlpay-Delivery-Id when the body has none', async () => {
    const body = JSON.stringify({ event: 'ticket.created', data: { id: 'T-1', customer_email: 'a@example.com' } });
    const response = await post(body, { 'content-type': 'application/json', 'x-pixlpay-signature': sign(body), 'x-pixlpay-delivery-id': 'dlv_42' });
    expect(response.statusCode).toBe(200);
    expect((await findInboundEvent(db, 'dlv_42'))?.eventType).toBe('ticket.created');
  });

  it('verifies Standard Webhooks headers with a ±5 minute window on the injected clock', async () => {
    const webhook = new Webhook(Buffer.from(SECRET), { format: 'raw' });
    const body = JSON.stringify({ event_type: 'order.refunded', data: { order_id: 1, customer_email: 'a@example.com' } });
    const headers = (sentAt: Date, id: string) => ({
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': webhook.sign(id, sentAt, body),
    });
    const fresh = await post(body, headers(new Date(clock.now().getTime() - 60_000), 'msg_ok'));
    expect(fresh.statusCode).toBe(200);
    expect(await findInboundEvent(db, 'msg_ok')).toMatchObject({ scheme: 'standard-webhooks' });
    const stale = await post(body, headers(new Date(clock.now().getTime() - 10 * 60_000), 'msg_old'));
    expect(stale.statusCode).toBe(401);
    expect(await findInboundEvent(db, 'msg_old')).toBeUndefined();
  });

  it('refuses a bad, missing or doubled signature with 401 and stores nothing', async () => {
    const cases: Array<Record<string, string | string[]>> = [
      {},
      { 'x-pixlpay-signature': sign(ORDER_PAID, 'wrong secret') },
      { 'x-pixlpay-signature': sign(`${ORDER_PAID} `) },
      { 'x-pixlpay-signature': [sign(ORDER_PAID), sign(ORDER_PAID)] },
      { 'x-pixlpay-signature': sign(ORDER_PAID), 'x-pixlpay-delivery-id': ['a', 'b'] },
    ];
    for (const headers of cases) {
      const response = await post(ORDER_PAID, { 'content-type': 'application/json', ...headers });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ error: 'Unauthorized' });
    }
    expect(await countInboundEvents(db)).toEqual({ pending: 0, processed: 0, ignored: 0, failed: 0 });
    expect(wakes).toBe(0);
  });

  it('refuses malformed JSON or an invalid envelope with 400 and stores nothing', async () => {
    for (const body of ['{"id": "evt_1",', '[]', JSON.stringify({ event_type: 'order.paid', data: {} }), JSON.stringify({ id: 'e', event_type: 'order.paid', data: { total: '1' } })]) {
      const response = await post(body, { 'content-type': 'application/json', 'x-pixlpay-signature': sign(body) });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: 'Bad Request', message: expect.any(String) });
    }
    expect((await countInboundEvents(db)).pending).toBe(0);
  });

  it('stores an unknown event type for the worker to acknowledge and ignore', async () => {
    const body = JSON.stringify({ id: 'evt_u', event_type: 'coupon.created', data: {} });
    expect((await post(body, { 'content-type': 'application/json', 'x-pixlpay-signature': sign(body) })).json()).toEqual({ received: true });
    expect((await findInboundEvent(db, 'evt_u'))?.status).toBe('pending');
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const body = JSON.stringify({ id: 'big', event_type: 'x', data: 'a'.repeat(1024 * 1024) });
    const response = await post(body, { 'content-type': 'application/json', 'x-pixlpay-signature': sign(body) });
    expect(response.statusCode).toBe(413);
    expect(await findInboundEvent(db, 'big')).toBeUndefined();
  });

  it('answers 503 when STORE_WEBHOOK_SECRET is not set', async () => {
    await app.close();
    app = await buildApp({});
    const response = await post(ORDER_PAID, { 'content-type': 'application/json', 'x-pixlpay-signature': sign(ORDER_PAID, '') });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ message: expect.stringContaining('not configured') });
    expect((await countInboundEvents(db)).pending).toBe(0);
  });

  it('keeps its raw-body parser to itself: other routes still get parsed JSON', async () => {
    app.post('/echo', (request) => ({ body: request.body }));
    const response = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
    expect(response.json()).toEqual({ body: { a: 1 } });
  });
});
