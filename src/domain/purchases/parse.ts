import { isIP } from 'node:net';
import { z } from 'zod';
import { CONTROL_CHARACTERS, isEmailAddress, isOrderNumber, ORDER_NUMBER_MAX_LENGTH } from '../../shared/input-fields.js';
import { parseMoney } from '../../shared/money.js';
import type { StoreHeaders } from './signature.js';
import { clipText, codePointLength } from '../../shared/text.js';

// The store platform's purchase events (README, "Purchase events from the store"), normalised into one discriminated union.
// Liberal where it costs nothing (ids as numbers or numeric strings, `event`/`timestamp` aliases,
// the flat order variant, extra fields ignored, nulls for absent fields, free text clipped);
// strict where a wrong guess would move money or roles (an order needs an id or number; a
// resolved dispute needs its outcome; amounts must be exact decimals). Every field the store
// checks is checked here by the same rule (input-fields.ts), so an event acknowledged is an
// event the store accepts.

export const ORDER_EVENT_TYPES = ['order.created', 'order.paid', 'order.completed', 'order.received', 'order.refunded'] as const;
export const DISPUTE_EVENT_TYPES = ['dispute.created', 'dispute.resolved'] as const;
export const SUBSCRIPTION_EVENT_TYPES = [
  'subscription.created',
  'subscription.renewed',
  'subscription.cancelled',
  'subscription.payment_failed',
  'subscription.expired',
] as const;
export const TICKET_EVENT_TYPES = ['ticket.created'] as const;

export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];
export type DisputeEventType = (typeof DISPUTE_EVENT_TYPES)[number];
export type SubscriptionEventType = (typeof SUBSCRIPTION_EVENT_TYPES)[number];
export type TicketEventType = (typeof TICKET_EVENT_TYPES)[number];

/** The customer as an event describes them; every field may be absent. */
export interface EventCustomer {
  /** The platform's customer id, as text. */
  platformId: string | null;
  email: string | null;
  name: string | null;
  /** Only a syntactically valid IPv4/IPv6 address; anything else is dropped. */
  ip: string | null;
  /** Only a string snowflake: a JSON number this long has already lost digits. */
  discordId: string | null;
}

export interface EventOrderItem {
  productId: number | null;
  productName: string | null;
  quantity: number;
  priceCents: number | null;
}

export interface EventOrder {
  /** The platform's order id. */
  id: number | null;
  orderNumber: string | null;
  /** The status the platform states in the data; informative only, the event type decides. */
  status: string | null;
  totalCents: number | null;
  currency: string | null;
  customer: EventCustomer;
  /** Null when the event carries no items (keep what is stored); [] when it says there are none. */
  items: EventOrderItem[] | null;
  createdAt: string | null;
  completedAt: string | null;
  refundedAt: string | null;
}

export interface EventDispute {
  disputeId: string | null;
  orderId: number | null;
  orderNumber: string | null;
  /** Set for dispute.resolved; null for dispute.created. */
  outcome: 'won' | 'lost' | null;
}

export interface EventSubscription {
  id: number;
  customer: EventCustomer;
  productId: number | null;
  productName: string | null;
  status: string | null;
  currentPeriodEnd: string | null;
  createdAt: string | null;
}

export interface EventTicket {
  id: string;
  customer: EventCustomer;
  subject: string | null;
  status: string | null;
  createdAt: string | null;
}

interface EventBase {
  /** The platform's event id: the body's `id`, else the delivery id header. */
  id: string;
  /** The envelope's `created_at` / `timestamp`, normalised; null when absent or unreadable. */
  occurredAt: string | null;
}

export type PurchaseEvent =
  | (EventBase & { kind: 'order'; eventType: OrderEventType; order: EventOrder })
  | (EventBase & { kind: 'dispute'; eventType: DisputeEventType; dispute: EventDispute })
  | (EventBase & { kind: 'subscription'; eventType: SubscriptionEventType; subscription: EventSubscription })
  | (EventBase & { kind: 'ticket'; eventType: TicketEventType; ticket: EventTicket })
  | (EventBase & { kind: 'unknown'; eventType: string });

export type ParsedStoreEvent = { ok: true; event: PurchaseEvent } | { ok: false; status: 400; message: string };

export const EVENT_ID_MAX_LENGTH = 200;
const DELIVERY_ID_HEADERS = ['x-pixlpay-delivery-id', 'x-webhook-id', 'webhook-id'] as const;

/**
 * Reads a purchase event from the raw request body: UTF-8 JSON, the envelope, then the data of
 * the event type. Without a body `id` the delivery id header names the event. Unknown event types
 * parse as `{ kind: 'unknown' }` (acknowledged, then ignored).
 */
export function parseStoreEvent(rawBody: Buffer, headers: StoreHeaders): ParsedStoreEvent {
  let fallbackId: string | undefined;
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  for (const name of DELIVERY_ID_HEADERS) {
    const value = lower.get(name);
    if (Array.isArray(value)) return invalid(`header ${name} was sent more than once`);
    if (typeof value === 'string' && value.trim() !== '') {
      fallbackId = value.trim();
      break;
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(rawBody);
  } catch {
    return invalid('the body is not UTF-8 text');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return invalid('the body is not valid JSON');
  }
  return parseStoreEventJson(json, fallbackId);
}

/** Re-reads an event already stored under `id` (the worker's path: headers are gone by then). */
export function parseStoredEvent(id: string, payload: string): ParsedStoreEvent {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return invalid('the stored payload is not valid JSON');
  }
  const parsed = parseStoreEventJson(json, id);
  // The stored id is authoritative: it is the one duplicates were checked against.
  return parsed.ok ? { ok: true, event: { ...parsed.event, id } } : parsed;
}

function parseStoreEventJson(json: unknown, fallbackId: string | undefined): ParsedStoreEvent {
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) return invalid(describe(envelope.error));
  const { id: bodyId, event_type, event, created_at, timestamp, data } = envelope.data;
  const id = bodyId ?? fallbackId;
  if (id === undefined || id === null) return invalid('the event has no id (body "id" or X-Pixlpay-Delivery-Id header)');
  if (codePointLength(id) > EVENT_ID_MAX_LENGTH) return invalid(`the event id is longer than ${EVENT_ID_MAX_LENGTH} characters`);
  const eventType = event_type ?? event;
  if (!eventType) return invalid('the event has no "event_type"');
  const base: EventBase = { id, occurredAt: created_at ?? timestamp ?? null };

  if (isOneOf(ORDER_EVENT_TYPES, eventType)) {
    const order = orderSchema.safeParse(unwrap(data, 'order'));
    return order.success ? valid({ ...base, kind: 'order', eventType, order: order.data }) : invalid(describe(order.error, 'data'));
  }
  if (isOneOf(DISPUTE_EVENT_TYPES, eventType)) {
    const dispute = disputeSchema.safeParse(unwrap(data, 'dispute'));
    if (!dispute.success) return invalid(describe(dispute.error, 'data'));
    const { outcome, ...rest } = dispute.data;
    if (eventType === 'dispute.resolved' && outcome === null) {
      return invalid('data: a resolved dispute needs its outcome ("won" or "lost") in "outcome", "resolution" or "status"');
    }
    return valid({ ...base, kind: 'dispute', eventType, dispute: { ...rest, outcome: eventType === 'dispute.resolved' ? outcome : null } });
  }
  if (isOneOf(SUBSCRIPTION_EVENT_TYPES, eventType)) {
    const subscription = subscriptionSchema.safeParse(unwrap(data, 'subscription'));
    return subscription.success
      ? valid({ ...base, kind: 'subscription', eventType, subscription: subscription.data })
      : invalid(describe(subscription.error, 'data'));
  }
  if (isOneOf(TICKET_EVENT_TYPES, eventType)) {
    const ticket = ticketSchema.safeParse(unwrap(data, 'ticket'));
    return ticket.success ? valid({ ...base, kind: 'ticket', eventType, ticket: ticket.data }) : invalid(describe(ticket.error, 'data'));
  }
  return valid({ ...base, kind: 'unknown', eventType });
}

function valid(event: PurchaseEvent): ParsedStoreEvent {
  return { ok: true, event };
}

function invalid(message: string): ParsedStoreEvent {
  return { ok: false, status: 400, message };
}

function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

/** Some senders nest the object (`data.order`) instead of making it the data itself. */
function unwrap(data: unknown, key: string): unknown {
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    const inner = (data as Record<string, unknown>)[key];
    if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) return inner;
  }
  return data;
}

function describe(error: z.ZodError, prefix?: string): string {
  const issue = error.issues[0];
  if (!issue) return 'the event is malformed';
  const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)].join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

// ---------------------------------------------------------------------------------------------
// Field schemas

/** A positive platform id: a JSON integer or a string of digits. */
const platformId = z.union([
  z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  z
    .string()
    .trim()
    .regex(/^\d{1,15}$/, 'must be a whole number')
    .transform(Number)
    .refine((n) => n > 0, 'must be positive'),
]);

/** An id we only store as text (event, ticket, customer ids): a non-empty string or an integer. */
const textId = z.union([
  z
    .string()
    .trim()
    .min(1)
    .max(EVENT_ID_MAX_LENGTH)
    .refine((text) => !CONTROL_CHARACTERS.test(text), 'must not contain control characters'),
  z.number().int().nonnegative().transform(String),
]);

/** An order number as the store keeps it: 1 to 64 characters, or a whole number. */
const orderNumber = z.union([
  z
    .string()
    .trim()
    .refine(isOrderNumber, `must be 1 to ${ORDER_NUMBER_MAX_LENGTH} characters without control characters`),
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).transform(String),
]);

/**
 * Free text from the platform, trimmed and clipped to `max` code points on a grapheme boundary
 * (a name is worth keeping even when it is too long to keep whole). Control characters become
 * spaces: a line break in a name is noise, and a NUL cannot be stored in a PostgreSQL text column
 * (the event would fail on every attempt).
 */
const optionalText = (max: number) =>
  z
    .string()
    .nullish()
    .transform((v) => {
      // eslint-disable-next-line no-control-regex -- control characters are exactly what this replaces
      const t = v?.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
      return t ? clipText(t, max) : null;
    });

const money = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    const cents = parseMoney(value);
    if (cents >= 0) return cents;
    ctx.addIssue({ code: 'custom', message: 'must not be negative' });
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${String(value)}" is not an amount of money such as "29.99"` });
  }
  return z.NEVER;
});

/** Timestamps are informative: an unreadable one is dropped rather than losing the event. */
const lenientTimestamp = z
  .unknown()
  .optional()
  .transform((value): string | null => {
    if (typeof value === 'string' && value.trim() !== '') {
      const time = Date.parse(value);
      return Number.isNaN(time) ? null : new Date(time).toISOString();
    }
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
      // Unix seconds or milliseconds: seconds stay below 1e11 until the year 5138.
      const time = new Date(value < 1e11 ? value * 1000 : value).getTime();
      return Number.isNaN(time) ? null : new Date(time).toISOString();
    }
    return null;
  });

const lenientIp = z
  .unknown()
  .optional()
  .transform((value) => (typeof value === 'string' && isIP(value.trim()) !== 0 ? value.trim() : null));

const lenientSnowflake = z
  .unknown()
  .optional()
  .transform((value) => (typeof value === 'string' && /^\d{17,20}$/.test(value.trim()) ? value.trim() : null));

const email = z
  .string()
  .nullish()
  .transform((v, ctx) => {
    const t = v?.trim();
    if (!t) return null;
    if (!isEmailAddress(t)) {
      ctx.addIssue({ code: 'custom', message: 'is not an email address the store accepts (one @, a dotted domain, no spaces, quotes, commas or brackets)' });
      return z.NEVER;
    }
    return t;
  });

const currency = z
  .string()
  .nullish()
  .transform((v, ctx) => {
    const t = v?.trim().toUpperCase();
    if (!t) return null;
    if (!/^[A-Z]{3}$/.test(t)) {
      ctx.addIssue({ code: 'custom', message: 'must be a three-letter ISO 4217 code' });
      return z.NEVER;
    }
    return t;
  });

const quantity = z.union([z.number(), z.string().trim().regex(/^\d+$/).transform(Number)]).pipe(z.number().int().min(1).max(1_000_000));

const nestedCustomerSchema = z.object({
  id: textId.nullish(),
  email,
  name: optionalText(100),
  ip: lenientIp,
  discord_id: lenientSnowflake,
});

/** The customer fields an event may carry, nested (`customer: {…}`) or flat (`customer_email`, …). */
const customerFields = {
  customer: nestedCustomerSchema.nullish(),
  customer_id: textId.nullish(),
  customer_email: email,
  customer_name: optionalText(100),
  customer_ip: lenientIp,
  discord_id: lenientSnowflake,
  metadata: z.unknown().optional(),
};

function customerFrom(data: {
  customer?: z.infer<typeof nestedCustomerSchema> | null | undefined;
  customer_id?: string | null | undefined;
  customer_email: string | null;
  customer_name: string | null;
  customer_ip: string | null;
  discord_id: string | null;
  metadata?: unknown;
}): EventCustomer {
  const nested = data.customer;
  const metadataDiscord = lenientSnowflake.parse(
    typeof data.metadata === 'object' && data.metadata !== null ? (data.metadata as Record<string, unknown>).discord_id : undefined,
  );
  return {
    platformId: nested?.id ?? data.customer_id ?? null,
    email: nested?.email ?? data.customer_email,
    name: nested?.name ?? data.customer_name,
    ip: nested?.ip ?? data.customer_ip,
    discordId: nested?.discord_id ?? data.discord_id ?? metadataDiscord,
  };
}

const itemSchema = z
  .object({
    product_id: platformId.nullish(),
    product_name: optionalText(200),
    name: optionalText(200),
    quantity: quantity.nullish(),
    price: money.nullish(),
  })
  .transform(
    (item, ctx): EventOrderItem => {
      const productName = item.product_name ?? item.name;
      if (productName === null && item.product_id == null) {
        ctx.addIssue({ code: 'custom', message: 'an item needs a product_id or a product_name' });
        return z.NEVER;
      }
      return { productId: item.product_id ?? null, productName, quantity: item.quantity ?? 1, priceCents: item.price ?? null };
    },
  );

const orderSchema = z
  .object({
    id: platformId.nullish(),
    order_id: platformId.nullish(),
    order_number: orderNumber.nullish(),
    status: optionalText(50),
    total: money.nullish(),
    currency,
    items: z.array(itemSchema).max(500).nullish(),
    created_at: lenientTimestamp,
    completed_at: lenientTimestamp,
    paid_at: lenientTimestamp,
    refunded_at: lenientTimestamp,
    ...customerFields,
  })
  .transform((data, ctx): EventOrder => {
    // The flat variant names the order `order_id`; its `id`, if any, may be something else.
    const id = data.order_id ?? data.id ?? null;
    const orderNumber = data.order_number ?? null;
    if (id === null && orderNumber === null) {
      ctx.addIssue({ code: 'custom', message: 'an order needs an "id" (or "order_id") or an "order_number"' });
      return z.NEVER;
    }
    // No customer is fine for an order the store has (a refund naming only the order); the
    // worker waits for one it has not seen.
    const customer = customerFrom(data);
    const items = data.items ?? null;
    if (items !== null && !fitsInOrder(items)) {
      ctx.addIssue({ code: 'custom', path: ['items'], message: 'the items add up to more than an order can hold' });
      return z.NEVER;
    }
    return {
      id,
      orderNumber,
      status: data.status,
      totalCents: data.total ?? null,
      currency: data.currency,
      customer,
      items,
      createdAt: data.created_at,
      completedAt: data.completed_at ?? data.paid_at,
      refundedAt: data.refunded_at,
    };
  });

/** Whether every line, and their sum, is a whole number of cents the store can add up exactly. */
function fitsInOrder(items: readonly EventOrderItem[]): boolean {
  let sum = 0;
  for (const item of items) {
    sum += (item.priceCents ?? 0) * item.quantity;
    if (!Number.isSafeInteger(sum)) return false;
  }
  return true;
}

const OUTCOMES: Record<string, 'won' | 'lost'> = { won: 'won', lost: 'lost', win: 'won', lose: 'lost' };

const disputeSchema = z
  .object({
    id: textId.nullish(),
    dispute_id: textId.nullish(),
    order_id: platformId.nullish(),
    order_number: orderNumber.nullish(),
    order: z.object({ id: platformId.nullish(), order_number: orderNumber.nullish() }).nullish(),
    outcome: optionalText(50),
    resolution: optionalText(50),
    status: optionalText(50),
  })
  .transform((data, ctx) => {
    const orderId = data.order_id ?? data.order?.id ?? null;
    const orderNumber = data.order_number ?? data.order?.order_number ?? null;
    if (orderId === null && orderNumber === null) {
      ctx.addIssue({ code: 'custom', message: 'a dispute needs its order ("order_id" or "order_number")' });
      return z.NEVER;
    }
    const outcome = [data.outcome, data.resolution, data.status].map((v) => (v === null ? undefined : OUTCOMES[v.toLowerCase()])).find(Boolean);
    return { disputeId: data.dispute_id ?? data.id ?? null, orderId, orderNumber, outcome: outcome ?? null };
  });

const subscriptionSchema = z
  .object({
    id: platformId.nullish(),
    subscription_id: platformId.nullish(),
    product_id: platformId.nullish(),
    product_name: optionalText(200),
    product: z.object({ id: platformId.nullish(), name: optionalText(200) }).nullish(),
    status: optionalText(50),
    current_period_end: lenientTimestamp,
    created_at: lenientTimestamp,
    ...customerFields,
  })
  .transform((data, ctx): EventSubscription => {
    const id = data.subscription_id ?? data.id ?? null;
    if (id === null) {
      ctx.addIssue({ code: 'custom', message: 'a subscription needs an "id" (or "subscription_id")' });
      return z.NEVER;
    }
    const customer = customerFrom(data);
    if (customer.email === null && customer.platformId === null) {
      ctx.addIssue({ code: 'custom', message: 'a subscription needs a customer email or customer id' });
      return z.NEVER;
    }
    return {
      id,
      customer,
      productId: data.product_id ?? data.product?.id ?? null,
      productName: data.product_name ?? data.product?.name ?? null,
      status: data.status,
      currentPeriodEnd: data.current_period_end,
      createdAt: data.created_at,
    };
  });

const ticketSchema = z
  .object({
    id: textId.nullish(),
    ticket_id: textId.nullish(),
    subject: optionalText(300),
    status: optionalText(50),
    created_at: lenientTimestamp,
    ...customerFields,
  })
  .transform((data, ctx): EventTicket => {
    const id = data.ticket_id ?? data.id ?? null;
    if (id === null) {
      ctx.addIssue({ code: 'custom', message: 'a ticket needs an "id" (or "ticket_id")' });
      return z.NEVER;
    }
    const customer = customerFrom(data);
    if (customer.email === null && customer.platformId === null) {
      ctx.addIssue({ code: 'custom', message: 'a ticket needs a customer email or customer id' });
      return z.NEVER;
    }
    return { id, customer, subject: data.subject, status: data.status, createdAt: data.created_at };
  });

const eventTypeText = z.string().trim().min(1).max(100);

const envelopeSchema = z.object(
  {
    id: textId.nullish(),
    event_type: eventTypeText.nullish(),
    event: eventTypeText.nullish(),
    created_at: lenientTimestamp,
    timestamp: lenientTimestamp,
    data: z.unknown().optional(),
  },
  { error: 'the body must be a JSON object (the event envelope)' },
);
