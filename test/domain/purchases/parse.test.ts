import { describe, expect, it } from 'vitest';
import { parseStoreEvent, parseStoredEvent, type PurchaseEvent } from '../../../src/domain/purchases/parse.js';

function parse(body: unknown, headers: Record<string, string | string[] | undefined> = {}) {
  return parseStoreEvent(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), headers);
}

function parsed(body: unknown, headers: Record<string, string | string[] | undefined> = {}): PurchaseEvent {
  const result = parse(body, headers);
  if (!result.ok) throw new Error(`expected the event to parse, got: ${result.message}`);
  return result.event;
}

function refusal(body: unknown, headers: Record<string, string | string[] | undefined> = {}): string {
  const result = parse(body, headers);
  if (result.ok) throw new Error('expected the event to be refused');
  expect(result.status).toBe(400);
  return result.message;
}

const canonicalOrder = {
  id: 123,
  order_number: 'ORD-2025-00123',
  status: 'completed',
  total: '29.99',
  currency: 'usd',
  customer: { id: 45, email: 'Player@Example.com', name: 'PlayerOne', ip: '203.0.113.7', discord_id: '123456789012345678' },
  items: [{ product_id: 5, product_name: 'VIP Rank', quantity: 1, price: '29.99' }],
  created_at: '2025-01-20T14:30:00Z',
  completed_at: '2025-01-20T14:31:00+00:00',
};

const flatOrder = {
  order_id: '123',
  order_number: 'ORD-2025-00123',
  total: 29.99,
  customer_email: 'player@example.com',
  customer_name: 'PlayerOne',
  metadata: { discord_id: '123456789012345678' },
};

const ORDER_TYPES = ['order.created', 'order.paid', 'order.completed', 'order.received', 'order.refunded'] as const;

describe('the event envelope', () => {
  it('reads the canonical envelope', () => {
    const event = parsed({ id: 'evt_1', event_type: 'order.paid', created_at: '2025-01-20T14:30:00Z', data: canonicalOrder });
    expect(event).toMatchObject({ id: 'evt_1', eventType: 'order.paid', occurredAt: '2025-01-20T14:30:00.000Z', kind: 'order' });
  });

  it('accepts "event" for "event_type" and "timestamp" for "created_at"', () => {
    const event = parsed({ id: 'evt_2', event: 'order.paid', timestamp: '2025-01-20T14:30:00+02:00', data: flatOrder });
    expect(event).toMatchObject({ id: 'evt_2', eventType: 'order.paid', occurredAt: '2025-01-20T12:30:00.000Z' });
  });

  it('takes a numeric event id as text', () => {
    expect(parsed({ id: 77, event_type: 'order.paid', data: flatOrder }).id).toBe('77');
  });

  it('takes the id from X-Pixlpay-Delivery-Id, X-Webhook-ID or webhook-id when the body has none', () => {
    const body = { event_type: 'order.paid', data: flatOrder };
    expect(parsed(body, { 'X-Pixlpay-Delivery-Id': 'dlv_1' }).id).toBe('dlv_1');
    expect(parsed(body, { 'x-webhook-id': 'dlv_2' }).id).toBe('dlv_2');
    expect(parsed(body, { 'webhook-id': 'msg_3' }).id).toBe('msg_3');
  });

  it('prefers the body id over a header', () => {
    expect(parsed({ id: 'evt_body', event_type: 'order.paid', data: flatOrder }, { 'x-pixlpay-delivery-id': 'dlv_1' }).id).toBe('evt_body');
  });

  it('refuses an event with no id at all', () => {
    expect(refusal({ event_type: 'order.paid', data: flatOrder })).toMatch(/no id/);
  });

  it('refuses malformed JSON, a non-object body, invalid UTF-8, a missing event type', () => {
    refusal('{"id": "evt_1", ');
    refusal('[1, 2, 3]');
    refusal('"order.paid"');
    expect(parseStoreEvent(Buffer.from([0x7b, 0xff, 0x7d]), {})).toMatchObject({ ok: false, status: 400 });
    expect(refusal({ id: 'evt_1', data: flatOrder })).toMatch(/event_type/);
  });

  it('acknowledges unknown event types as unknown, whatever their data', () => {
    expect(parsed({ id: 'evt_9', event_type: 'coupon.created', data: 'anything' })).toEqual({
      id: 'evt_9',
      eventType: 'coupon.created',
      occurredAt: null,
      kind: 'unknown',
    });
  });

  it('drops an unreadable envelope timestamp instead of refusing the event', () => {
    expect(parsed({ id: 'evt_1', event_type: 'order.paid', created_at: 'yesterday-ish', data: flatOrder }).occurredAt).toBeNull();
  });

  it('re-reads a stored payload under its stored id', () => {
    const result = parseStoredEvent('dlv_7', JSON.stringify({ event_type: 'order.paid', data: flatOrder }));
    expect(result).toMatchObject({ ok: true, event: { id: 'dlv_7', kind: 'order' } });
  });
});

describe('order events', () => {
  it.each(ORDER_TYPES)('normalise the canonical order shape of %s', (type) => {
    const event = parsed({ id: 'evt_1', event_type: type, data: canonicalOrder });
    expect(event).toEqual({
      id: 'evt_1',
      eventType: type,
      occurredAt: null,
      kind: 'order',
      order: {
        id: 123,
        orderNumber: 'ORD-2025-00123',
        status: 'completed',
        totalCents: 2999,
        currency: 'USD',
        customer: { platformId: '45', email: 'Player@Example.com', name: 'PlayerOne', ip: '203.0.113.7', discordId: '123456789012345678' },
        items: [{ productId: 5, productName: 'VIP Rank', quantity: 1, priceCents: 2999 }],
        createdAt: '2025-01-20T14:30:00.000Z',
        completedAt: '2025-01-20T14:31:00.000Z',
        refundedAt: null,
      },
    });
  });

  it.each(ORDER_TYPES)('normalise the flat variant of %s (order_id, customer_email, customer_name, metadata.discord_id)', (type) => {
    const event = parsed({ id: 'evt_1', event_type: type, data: flatOrder });
    expect(event).toMatchObject({
      kind: 'order',
      eventType: type,
      order: {
        id: 123,
        orderNumber: 'ORD-2025-00123',
        totalCents: 2999,
        currency: null,
        customer: { platformId: null, email: 'player@example.com', name: 'PlayerOne', ip: null, discordId: '123456789012345678' },
        items: null,
      },
    });
  });

  it('turn control characters in names into spaces and refuse them in an event id', () => {
    const event = parsed({
      id: 'evt_1',
      event_type: 'order.completed',
      data: { ...canonicalOrder, customer: { ...canonicalOrder.customer, name: 'Player\u0000One\r\n' }, items: [{ product_id: 5, product_name: 'VIP\tRank', quantity: 1, price: '29.99' }] },
    });
    expect(event).toMatchObject({ order: { customer: { name: 'Player One' }, items: [{ productName: 'VIP Rank' }] } });
    expect(refusal({ id: 'evt\u00001', event_type: 'order.completed', data: canonicalOrder })).toMatch(/control characters/);
  });

  it('accept an order nested under data.order', () => {
    expect(parsed({ id: 'e', event_type: 'order.paid', data: { order: canonicalOrder } })).toMatchObject({ order: { id: 123 } });
  });

  it('accept an order number without an id, and a customer id without an email', () => {
    expect(parsed({ id: 'e', event_type: 'order.paid', data: { order_number: 'ORD-1', customer_id: 45 } })).toMatchObject({
      order: { id: null, orderNumber: 'ORD-1', customer: { platformId: '45', email: null } },
    });
  });

  it('refuse an order with neither id nor number', () => {
    expect(refusal({ id: 'e', event_type: 'order.paid', data: { total: '1.00', customer_email: 'a@b.co' } })).toMatch(/order needs an "id"/);
    refusal({ id: 'e', event_type: 'order.paid' });
  });

  it('accept an order that names no customer: it applies to the order the store has by that id', () => {
    expect(parsed({ id: 'e', event_type: 'order.refunded', data: { id: 1, customer_name: 'Nobody' } })).toMatchObject({
      order: { id: 1, customer: { platformId: null, email: null } },
    });
  });

  it('refuse amounts that are not exact decimals, negative amounts and ids that are not whole numbers', () => {
    expect(refusal({ id: 'e', event_type: 'order.paid', data: { ...flatOrder, total: '29.999' } })).toMatch(/^data\.total/);
    refusal({ id: 'e', event_type: 'order.paid', data: { ...flatOrder, total: '-5.00' } });
    refusal({ id: 'e', event_type: 'order.paid', data: { ...flatOrder, total: 'free' } });
    refusal({ id: 'e', event_type: 'order.paid', data: { ...flatOrder, order_id: 'abc' } });
    refusal({ id: 'e', event_type: 'order.paid', data: { ...flatOrder, order_id: 1.5 } });
    refusal({ id: 'e', event_type: 'order.paid', data: { ...flatOrder, customer_email: 'not-an-email' } });
  });

  it('ignore a Discord id sent as a JSON number (its digits are already lost) or that is not a snowflake', () => {
    const numeric = parsed('{"id":"e","event_type":"order.paid","data":{"order_id":1,"customer_email":"a@b.co","metadata":{"discord_id":123456789012345678}}}');
    expect(numeric).toMatchObject({ order: { customer: { discordId: null } } });
    const junk = parsed({ id: 'e', event_type: 'order.paid', data: { ...canonicalOrder, customer: { ...canonicalOrder.customer, discord_id: 'abc' } } });
    expect(junk).toMatchObject({ order: { customer: { discordId: null } } });
  });

  it('drop an IP address that is not one', () => {
    const event = parsed({ id: 'e', event_type: 'order.paid', data: { ...canonicalOrder, customer: { ...canonicalOrder.customer, ip: 'localhost' } } });
    expect(event).toMatchObject({ order: { customer: { ip: null } } });
  });

  it('read items liberally: numeric strings, "name", a default quantity of 1, a missing price', () => {
    const event = parsed({
      id: 'e',
      event_type: 'order.paid',
      data: { ...flatOrder, items: [{ product_id: '5', name: 'VIP', quantity: '2', price: 10 }, { product_name: 'Key' }] },
    });
    expect(event).toMatchObject({
      order: {
        items: [
          { productId: 5, productName: 'VIP', quantity: 2, priceCents: 1000 },
          { productId: null, productName: 'Key', quantity: 1, priceCents: null },
        ],
      },
    });
  });

  it('ignore extra fields', () => {
    expect(parsed({ id: 'e', event_type: 'order.paid', extra: true, data: { ...canonicalOrder, coupon: 'X' } }).kind).toBe('order');
  });
});

describe('dispute events', () => {
  it('read dispute.created with its order id (canonical) or a nested order (flat)', () => {
    expect(parsed({ id: 'e', event_type: 'dispute.created', data: { id: 'dp_1', order_id: 123, reason: 'fraudulent' } })).toMatchObject({
      kind: 'dispute',
      dispute: { disputeId: 'dp_1', orderId: 123, orderNumber: null, outcome: null },
    });
    expect(parsed({ id: 'e', event_type: 'dispute.created', data: { dispute_id: 7, order: { id: '123', order_number: 'ORD-1' } } })).toMatchObject({
      dispute: { disputeId: '7', orderId: 123, orderNumber: 'ORD-1', outcome: null },
    });
  });

  it('read the outcome of dispute.resolved from outcome, resolution or status', () => {
    expect(parsed({ id: 'e', event_type: 'dispute.resolved', data: { order_id: 1, outcome: 'won' } })).toMatchObject({ dispute: { outcome: 'won' } });
    expect(parsed({ id: 'e', event_type: 'dispute.resolved', data: { order_id: 1, resolution: 'LOST' } })).toMatchObject({ dispute: { outcome: 'lost' } });
    expect(parsed({ id: 'e', event_type: 'dispute.resolved', data: { order_id: 1, status: 'won' } })).toMatchObject({ dispute: { outcome: 'won' } });
  });

  it('refuse a resolved dispute without an outcome, and a dispute without its order', () => {
    expect(refusal({ id: 'e', event_type: 'dispute.resolved', data: { order_id: 1, status: 'closed' } })).toMatch(/outcome/);
    expect(refusal({ id: 'e', event_type: 'dispute.created', data: { id: 'dp_1' } })).toMatch(/order/);
  });
});

describe('subscription events', () => {
  const TYPES = ['subscription.created', 'subscription.renewed', 'subscription.cancelled', 'subscription.payment_failed', 'subscription.expired'] as const;

  it.each(TYPES)('read %s in the canonical shape', (type) => {
    const event = parsed({
      id: 'e',
      event_type: type,
      data: {
        id: 900,
        status: 'active',
        customer: { id: 45, email: 'player@example.com', name: 'PlayerOne' },
        product: { id: 5, name: 'VIP Monthly' },
        current_period_end: '2025-02-20T14:30:00Z',
      },
    });
    expect(event).toEqual({
      id: 'e',
      eventType: type,
      occurredAt: null,
      kind: 'subscription',
      subscription: {
        id: 900,
        customer: { platformId: '45', email: 'player@example.com', name: 'PlayerOne', ip: null, discordId: null },
        productId: 5,
        productName: 'VIP Monthly',
        status: 'active',
        currentPeriodEnd: '2025-02-20T14:30:00.000Z',
        createdAt: null,
      },
    });
  });

  it.each(TYPES)('read %s in the flat shape', (type) => {
    const event = parsed({
      id: 'e',
      event_type: type,
      data: { subscription_id: '900', customer_email: 'player@example.com', product_id: 5, product_name: 'VIP Monthly', metadata: { discord_id: '123456789012345678' } },
    });
    expect(event).toMatchObject({
      subscription: { id: 900, productId: 5, productName: 'VIP Monthly', currentPeriodEnd: null, customer: { email: 'player@example.com', discordId: '123456789012345678' } },
    });
  });

  it('refuse a subscription without an id or without a customer', () => {
    refusal({ id: 'e', event_type: 'subscription.created', data: { customer_email: 'a@b.co' } });
    refusal({ id: 'e', event_type: 'subscription.created', data: { id: 1 } });
  });
});

describe('ticket events', () => {
  it('read ticket.created canonical and flat', () => {
    expect(
      parsed({ id: 'e', event_type: 'ticket.created', data: { id: 'T-1', subject: 'Rank missing', status: 'open', customer: { email: 'player@example.com' } } }),
    ).toMatchObject({ kind: 'ticket', ticket: { id: 'T-1', subject: 'Rank missing', status: 'open', customer: { email: 'player@example.com' } } });
    expect(parsed({ id: 'e', event_type: 'ticket.created', data: { ticket_id: 88, customer_id: 45 } })).toMatchObject({
      ticket: { id: '88', subject: null, customer: { platformId: '45' } },
    });
  });

  it('refuse a ticket without an id or a customer', () => {
    refusal({ id: 'e', event_type: 'ticket.created', data: { customer_email: 'a@b.co' } });
    refusal({ id: 'e', event_type: 'ticket.created', data: { id: 'T-1' } });
  });
});
