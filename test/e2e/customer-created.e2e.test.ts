import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWebhookEndpoint } from '../../src/domain/webhooks/endpoints.js';
import { orderEvent, startShop, type ShopHarness } from '../support/services-harness.js';

interface Received {
  body: string;
  headers: Record<string, string>;
}

let shop: ShopHarness | undefined;
let receiver: Server | undefined;
afterEach(async () => {
  await shop?.stop();
  shop = undefined;
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  receiver = undefined;
});

describe('customer.created webhooks out, end to end', () => {
  it('reaches a receiver that fails and then recovers exactly once per event, with valid signatures', async () => {
    shop = await startShop();
    const received: Received[] = [];
    let failuresLeft = 2;
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ body, headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])) });
        res.statusCode = failuresLeft-- > 0 ? 500 : 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const { secret } = await createWebhookEndpoint(shop.db, shop.clock, { url, actor: { id: 'test', name: 'test' } }, { allowPrivateGlobally: true });

    // Two new customers through purchases, and a duplicate of the first event.
    const first = orderEvent('order.paid', { id: 11, email: 'new.one@example.com' });
    const firstCustomer = (first.data as { customer: Record<string, unknown> }).customer;
    firstCustomer.ip = '81.2.69.160';
    await shop.send(first);
    await shop.send(orderEvent('order.paid', { id: 12, email: 'new.two@example.com' }));
    await shop.send(first);

    await expect.poll(() => received.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    // The platform retries after 1 and 5 minutes; the bot's schedule is at least as patient.
    for (let i = 0; i < 6 && new Set(received.filter((_, n) => n >= 2).map((r) => r.headers['webhook-id'])).size < 2; i++) {
      shop.clock.advance(31 * 60_000);
      shop.services.workers.webhooks.wake();
      await new Promise((r) => setTimeout(r, 200));
    }
    const delivered = received.slice(2);
    const ids = delivered.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(2);
    expect(ids).toHaveLength(2);

    const verifier = new Webhook(secret);
    const countries = new Map<string, unknown>();
    for (const r of received) {
      // The library checks the timestamp against the wall clock; the retries were sent at the
      // test clock's later times, so verify each one as of its own send time.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Number(r.headers['webhook-timestamp']) * 1000);
      expect(() => verifier.verify(r.body, r.headers)).not.toThrow();
      vi.useRealTimers();
      expect(r.headers['x-pixlpay-signature']).toBe(createHmac('sha256', secret).update(r.body).digest('hex'));
      expect(r.headers['x-pixlpay-event']).toBe('customer.created');
      const payload = JSON.parse(r.body) as { id: string; event_type: string; data: { customer: { email: string; id: number; name: string; country: unknown; created_at: string } } };
      expect(payload.id).toBe(r.headers['webhook-id']);
      expect(Object.keys(payload.data.customer).sort()).toEqual(['country', 'created_at', 'email', 'id', 'name']);
      countries.set(payload.data.customer.email, payload.data.customer.country);
    }
    // The country comes from the address the purchase was made from; the second carried none.
    expect(countries).toEqual(new Map([['new.one@example.com', 'GB'], ['new.two@example.com', null]]));
  });
});
