import { createHmac } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { createHttpApp, type HttpApp } from '../../src/http/app.js';
import { processDueEvents, storeEventHooks } from '../../src/jobs/purchase-events.js';
import type { TestContext } from './context.js';

/** The headers the store's checkout sends with an event body: JSON, signed with the shared secret. */
export function signedEventHeaders(secret: string, body: string | Buffer): Record<string, string> {
  return { 'content-type': 'application/json', 'x-pixlpay-signature': createHmac('sha256', secret).update(body).digest('hex') };
}

export interface BuyerOrderEvent {
  id: string;
  type: 'order.paid' | 'order.refunded';
  orderId: number;
  orderNumber: string;
  /** The price of the order's one item, as the store writes it ("9.99"). */
  total: string;
  productId: number;
  buyer: { email: string; name: string; discordId: string };
}

/** The body the store sends for one buyer's order of one product, paid (completed) or refunded, dated now. */
export function buyerOrderEventBody(event: BuyerOrderEvent): string {
  const at = new Date().toISOString();
  return JSON.stringify({
    id: event.id,
    event_type: event.type,
    created_at: at,
    data: {
      id: event.orderId,
      order_number: event.orderNumber,
      status: event.type === 'order.paid' ? 'completed' : 'refunded',
      total: event.total,
      currency: 'USD',
      customer: { email: event.buyer.email, name: event.buyer.name, discord_id: event.buyer.discordId },
      items: [{ product_id: event.productId, product_name: 'VIP Rank', quantity: 1, price: event.total }],
      created_at: at,
      completed_at: at,
    },
  });
}

export interface StoreDoor {
  app: HttpApp;
  /** Posts a signed event body to the listener, as the store's checkout does, then moves the clock on 1 ms. */
  post(body: string): Promise<LightMyRequestResponse>;
  /** The events worker's pass over what is due, with the store's own hooks. */
  work(): Promise<void>;
  close(): Promise<void>;
}

/** Where purchase events come in (the real HTTP app), over a test context's database and clock. */
export async function openStoreDoor(context: TestContext, secret: string): Promise<StoreDoor> {
  const { db, clock, logger } = context;
  const app = await createHttpApp({
    db,
    clock,
    config: loadConfig({ LOG_LEVEL: 'silent', STORE_WEBHOOK_SECRET: secret }),
    logger,
    wake: { inboundEvents: () => undefined, webhookDeliveries: () => undefined },
  });
  return {
    app,
    async post(body) {
      const response = await app.inject({ method: 'POST', url: '/webhooks/store', payload: body, headers: signedEventHeaders(secret, body) });
      clock.advance(1);
      return response;
    },
    async work() {
      await processDueEvents(db, clock, storeEventHooks(clock), { logger, yieldBetweenEvents: false });
    },
    close: () => app.close(),
  };
}
