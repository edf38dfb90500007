import { randomBytes, randomInt } from 'node:crypto';
import { UserError } from '../../shared/errors.js';
import { signHexWebhookRequest, signWebhookRequest } from '../webhooks/signing.js';
import { DISPUTE_EVENT_TYPES, ORDER_EVENT_TYPES, parseStoreEvent, SUBSCRIPTION_EVENT_TYPES, TICKET_EVENT_TYPES } from './parse.js';

// Builds the purchase events the store platform sends, so an owner or an integrator can try the
// listener without a checkout: the event is one the parser accepts (it is checked by the parser
// before it is returned) and it is signed by the same code that signs this bot's own webhooks.

export const STORE_EVENT_TYPES = [...ORDER_EVENT_TYPES, ...DISPUTE_EVENT_TYPES, ...SUBSCRIPTION_EVENT_TYPES, ...TICKET_EVENT_TYPES] as const;
export type StoreEventType = (typeof STORE_EVENT_TYPES)[number];

/** What a person says about the event; everything else is filled in. */
export interface StoreEventDraft {
  type: string;
  /** An email address, or the store platform's customer id. */
  customer?: string | undefined;
  customerName?: string | undefined;
  discordId?: string | undefined;
  /** A product name; digits alone are the product's id (what role rules name). */
  product?: string | undefined;
  productId?: number | undefined;
  amount?: string | undefined;
  currency?: string | undefined;
  /** The order number; digits alone are also the order's id. */
  order?: string | undefined;
  subscription?: string | undefined;
  /** For dispute.resolved: won or lost. */
  outcome?: string | undefined;
  subject?: string | undefined;
}

export interface ComposedStoreEvent {
  id: string;
  eventType: StoreEventType;
  /** The exact bytes to sign and send. */
  body: string;
  /** One line naming what the event is about (order, subscription or ticket). */
  summary: string;
}

export interface SignedStoreRequest {
  headers: Record<string, string>;
  body: string;
}

const SUBSCRIPTION_PERIOD_MS = 30 * 24 * 60 * 60 * 1000;
const SNOWFLAKE = /^\d{17,20}$/;
const DIGITS = /^\d{1,15}$/;

function refuse(message: string): never {
  throw new UserError('bad_option', message);
}

function isStoreEventType(type: string): type is StoreEventType {
  return (STORE_EVENT_TYPES as readonly string[]).includes(type);
}

/** Composes one complete event of `draft.type`; refuses, naming the option, what the store would refuse. */
export function composeStoreEvent(draft: StoreEventDraft, now: Date): ComposedStoreEvent {
  const type = draft.type.trim();
  if (!isStoreEventType(type)) refuse(`unknown event type "${type}"; the bot accepts ${STORE_EVENT_TYPES.join(', ')}`);
  if (draft.discordId !== undefined && !SNOWFLAKE.test(draft.discordId)) refuse(`--discord "${draft.discordId}" is not a Discord user id (17 to 20 digits)`);
  const at = now.toISOString();
  const [family = ''] = type.split('.');
  const needs = (value: string | undefined, option: string, why: string): string => value ?? refuse(`${type} needs ${option} (${why})`);

  let data: Record<string, unknown>;
  let summary: string;
  if (family === 'order') {
    const refund = type === 'order.refunded';
    const order = orderIdentity(refund ? needs(draft.order, '--order', 'the order number being refunded') : draft.order);
    if (!refund) needs(draft.customer, '--customer', 'an email address or the store\'s customer id');
    const amount = draft.amount ?? (refund ? undefined : '9.99');
    const products = refund && draft.product === undefined && draft.productId === undefined ? undefined : [itemOf(draft, amount)];
    data = {
      ...order.fields,
      status: ORDER_STATUS[type as keyof typeof ORDER_STATUS],
      // A refund that names no amount or items leaves the stored ones as they are.
      ...(amount === undefined ? {} : { total: amount }),
      ...(draft.currency !== undefined || !refund ? { currency: draft.currency ?? 'USD' } : {}),
      ...customerOf(draft),
      ...(products ? { items: products } : {}),
      created_at: at,
      ...(type === 'order.paid' || type === 'order.completed' || type === 'order.received' ? { completed_at: at } : {}),
      ...(refund ? { refunded_at: at } : {}),
    };
    summary = `order ${order.number}`;
  } else if (family === 'dispute') {
    const order = orderIdentity(needs(draft.order, '--order', 'the order number disputed'));
    const outcome = type === 'dispute.resolved' ? needs(draft.outcome, '--outcome', 'won or lost') : undefined;
    if (outcome !== undefined && outcome !== 'won' && outcome !== 'lost') refuse(`--outcome "${outcome}" is not won or lost`);
    data = { id: `dp_${randomBytes(6).toString('hex')}`, ...order.fields, ...(outcome ? { outcome } : {}) };
    summary = `chargeback on order ${order.number}${outcome ? ` (${outcome})` : ''}`;
  } else if (family === 'subscription') {
    needs(draft.customer, '--customer', "an email address or the store's customer id");
    const id = draft.subscription ?? (type === 'subscription.created' ? String(randomInt(100_000, 1_000_000_000)) : needs(undefined, '--subscription', 'the id of the subscription'));
    if (!DIGITS.test(id)) refuse(`--subscription "${id}" is not a subscription id (a whole number)`);
    const product = productOf(draft);
    data = {
      id: Number(id),
      status: SUBSCRIPTION_STATUS[type as keyof typeof SUBSCRIPTION_STATUS],
      ...customerOf(draft),
      ...product,
      // Only a new period moves the period end; the other events leave the stored one as it is
      // (an expiry dated before it would be read as late news and ignored).
      ...(type === 'subscription.created' || type === 'subscription.renewed'
        ? { current_period_end: new Date(now.getTime() + SUBSCRIPTION_PERIOD_MS).toISOString() }
        : {}),
      created_at: at,
    };
    summary = `subscription ${id}`;
  } else {
    needs(draft.customer, '--customer', "an email address or the store's customer id");
    const id = `tkt_${randomBytes(6).toString('hex')}`;
    data = { id, subject: draft.subject ?? 'Question about my order', status: 'open', ...customerOf(draft), created_at: at };
    summary = `ticket ${id}`;
  }

  const id = `evt_${randomBytes(8).toString('hex')}`;
  const body = JSON.stringify({ id, event_type: type, created_at: at, data }, null, 2);
  // The parser is the judge of a valid event: what it refuses (a bad email, amount, currency or
  // order number) is refused here with its words, before anything is sent.
  const parsed = parseStoreEvent(Buffer.from(body), {});
  if (!parsed.ok) refuse(parsed.message);
  return { id, eventType: type, body, summary: `${type} ${id}: ${summary}` };
}

/**
 * The request the store would send for `event`: with a `whsec_` secret both Standard Webhooks and
 * `X-Pixlpay-Signature`, with any other secret `X-Pixlpay-Signature` alone.
 */
export function signStoreEventRequest(event: ComposedStoreEvent, secret: string, sentAt: Date): SignedStoreRequest {
  if (secret === '') refuse('the signing secret is empty');
  const delivery = { deliveryId: `dlv_${randomBytes(8).toString('hex')}`, eventId: event.id, eventType: event.eventType, payload: event.body, sentAt };
  if (!secret.startsWith('whsec_')) return { headers: signHexWebhookRequest(secret, delivery), body: event.body };
  try {
    return { headers: signWebhookRequest(secret, delivery), body: event.body };
  } catch {
    return refuse('the secret starts with whsec_ but the rest is not base64');
  }
}

const ORDER_STATUS = {
  'order.created': 'pending',
  'order.paid': 'paid',
  'order.completed': 'completed',
  'order.received': 'completed',
  'order.refunded': 'refunded',
} as const;

const SUBSCRIPTION_STATUS = {
  'subscription.created': 'active',
  'subscription.renewed': 'active',
  'subscription.cancelled': 'cancelled',
  'subscription.payment_failed': 'past_due',
  'subscription.expired': 'expired',
} as const;

/** An order number as given (digits alone are also its id), or a new order when none is. */
function orderIdentity(given: string | undefined): { number: string; fields: Record<string, unknown> } {
  if (given === undefined) {
    const id = randomInt(100_000, 1_000_000_000);
    return { number: `ORD-${id}`, fields: { id, order_number: `ORD-${id}` } };
  }
  const number = given.trim();
  return { number, fields: DIGITS.test(number) ? { id: Number(number), order_number: number } : { order_number: number } };
}

/** Digits alone name the product by id, and the bot takes its stored name; no product is an example one. */
function productOf(draft: StoreEventDraft): { product_id?: number; product_name?: string } {
  const named = draft.product?.trim();
  const byId = named !== undefined && DIGITS.test(named);
  const id = draft.productId ?? (byId ? Number(named) : undefined);
  const name = named !== undefined && !byId ? named : id === undefined ? 'Example product' : undefined;
  return { ...(id === undefined ? {} : { product_id: id }), ...(name === undefined ? {} : { product_name: name }) };
}

function itemOf(draft: StoreEventDraft, amount: string | undefined): Record<string, unknown> {
  return { ...productOf(draft), quantity: 1, ...(amount === undefined ? {} : { price: amount }) };
}

function customerOf(draft: StoreEventDraft): { customer?: Record<string, unknown> } {
  const who = draft.customer?.trim();
  if (who === undefined || who === '') return {};
  const email = who.includes('@');
  const name = draft.customerName ?? (email ? who.slice(0, who.indexOf('@')) : undefined);
  return {
    customer: {
      ...(email ? { email: who } : { id: who }),
      ...(name ? { name } : {}),
      ...(draft.discordId ? { discord_id: draft.discordId } : {}),
    },
  };
}
