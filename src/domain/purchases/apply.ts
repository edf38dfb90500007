import { ensureProduct, findOrderByNumber, findProductName, getOrderWithItems, lowestOrderIdFrom, setOrderStatus, upsertOrder } from '../../store/order.repository.js';
import { countSupportTicket, findCustomerByDiscordId, findCustomerByEmail, findCustomerById, findCustomerErasedAt, linkDiscordIfUnlinked, NAME_MAX_LENGTH, noteCustomerIp } from '../../store/customer.repository.js';
import { insertCustomer } from '../customers/registration.js';
import { inTransaction, type Db } from '../../store/database.js';
import { isCompletedStatus, type SubscriptionStatus } from '../../shared/vocabulary.js';
import { recordActivity, SYSTEM_ACTOR } from '../customers/activity-log.js';
import type { Clock } from '../../shared/clock.js';
import { countryForIp } from '../customers/geoip.js';
import type { EventCustomer, EventOrderItem, PurchaseEvent } from './parse.js';
import { clipText } from '../../shared/text.js';
import { nextOrderStatus, nextSubscriptionState, type OrderSignal, type SubscriptionSignal } from './state.js';
import type { Customer, OrderWithItems } from '../customers/types.js';

export interface CustomerChangeCause {
  eventId: string;
  eventType: string;
  orderId?: number;
  subscriptionId?: number;
}

export interface PurchaseEventHooks {
  /** Called inside the event's transaction after a customer's orders/subscriptions changed: the role sync plans role changes here. */
  customerChanged(trx: Db, customerId: number, cause: CustomerChangeCause): Promise<void>;
  /** Called inside the transaction when an order (or ticket) for an unknown email created the customer: the outbox enqueues customer.created here. */
  customerCreated(trx: Db, customer: Customer): Promise<void>;
}

export type ApplyResult =
  | {
      outcome: 'applied';
      /** The customer the event landed on; null for an order whose customer was erased. */
      customerId: number | null;
      /** False when the event told us nothing new (a late or repeated delivery). */
      changed: boolean;
    }
  | { outcome: 'ignored'; reason: string };

export interface ApplyOptions {
  /** For orders that name no currency (STORE_CURRENCY). */
  storeCurrency?: string;
}

/**
 * An event that cannot be applied yet because what it refers to has not arrived (a dispute for an
 * order we have not seen): the worker retries it with backoff, by which time it usually has.
 */
export class EventNotReadyError extends Error {
  override readonly name = 'EventNotReadyError';
}

/**
 * Applies one purchase event to the store's records, all inside one transaction (the caller's,
 * when given one): orders, subscriptions, disputes, tickets, customers created on first sight,
 * Discord ids the platform vouches for. Safe to run again for a redelivered event and in any
 * order: statuses are combined with what is stored by {@link nextOrderStatus} and
 * {@link nextSubscriptionState}, never just overwritten.
 *
 * An order, subscription or ticket already stored keeps the customer it has (even none, after an
 * erasure): a late event must not re-create a customer who asked to be forgotten.
 */
export async function applyPurchaseEvent(
  db: Db,
  clock: Clock,
  event: PurchaseEvent,
  hooks: PurchaseEventHooks,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  if (event.kind === 'unknown') return { outcome: 'ignored', reason: `unknown event type "${event.eventType}"` };
  return inTransaction(db, (trx) => {
    switch (event.kind) {
      case 'order':
        return applyOrderEvent(trx, clock, event, hooks, options);
      case 'dispute':
        return applyDisputeEvent(trx, clock, event, hooks);
      case 'subscription':
        return applySubscriptionEvent(trx, clock, event, hooks);
      case 'ticket':
        return applyTicketEvent(trx, clock, event, hooks);
    }
  });
}

type EventOf<K extends PurchaseEvent['kind']> = Extract<PurchaseEvent, { kind: K }>;

const ORDER_SIGNAL: Record<EventOf<'order'>['eventType'], OrderSignal> = {
  'order.created': 'created',
  'order.paid': 'paid',
  'order.completed': 'completed',
  'order.received': 'completed',
  'order.refunded': 'refunded',
};

async function applyOrderEvent(trx: Db, clock: Clock, event: EventOf<'order'>, hooks: PurchaseEventHooks, options: ApplyOptions): Promise<ApplyResult> {
  const now = clock.now().toISOString();
  const data = event.order;
  const existing = await findStoredOrder(trx, data.id, data.orderNumber);
  if (!existing && data.customer.email === null && data.customer.platformId === null) {
    // An event that names only the order (a refund, say) cannot create it; its order usually
    // arrives first, or shortly after.
    throw new EventNotReadyError(`order ${data.id ?? data.orderNumber ?? '?'} has not arrived yet and the event names no customer`);
  }
  const customerId = existing ? existing.customerId : (await resolveCustomer(trx, clock, data.customer, hooks)).id;

  const status = nextOrderStatus(existing?.status ?? null, ORDER_SIGNAL[event.eventType]);
  const id = existing?.id ?? data.id ?? (await syntheticOrderId(trx));
  const happenedAt = data.completedAt ?? event.occurredAt ?? now;
  const items = data.items === null ? (existing?.items ?? []) : await itemsFrom(trx, data.items, data.totalCents);
  await upsertOrder(trx, clock, {
    id,
    orderNumber: data.orderNumber ?? existing?.orderNumber ?? `ORD-${id}`,
    customerId,
    status,
    totalCents: data.totalCents ?? existing?.totalCents ?? items.reduce((sum, item) => sum + item.priceCents * item.quantity, 0),
    currency: data.currency ?? existing?.currency ?? options.storeCurrency ?? 'USD',
    createdAt: data.createdAt ?? existing?.createdAt ?? event.occurredAt ?? now,
    // The first completion is the order's time in every figure; later events do not move it.
    completedAt: existing?.completedAt ?? data.completedAt ?? (isCompletedStatus(status) ? happenedAt : null),
    refundedAt: existing?.refundedAt ?? (status === 'refunded' ? (data.refundedAt ?? event.occurredAt ?? now) : null),
    items,
  });

  let changed = existing === undefined || existing.status !== status;
  if (customerId !== null) {
    const linked = await noteCustomerDetails(trx, clock, customerId, data.customer, { eventId: event.id, orderId: id });
    changed ||= linked;
    if (changed) await hooks.customerChanged(trx, customerId, { eventId: event.id, eventType: event.eventType, orderId: id });
  }
  return { outcome: 'applied', customerId, changed };
}

const DISPUTE_OPEN = 'open';

async function applyDisputeEvent(trx: Db, clock: Clock, event: EventOf<'dispute'>, hooks: PurchaseEventHooks): Promise<ApplyResult> {
  const now = clock.now().toISOString();
  const data = event.dispute;
  const order = await findStoredOrder(trx, data.orderId, data.orderNumber);
  if (!order) {
    throw new EventNotReadyError(`dispute for order ${data.orderId ?? data.orderNumber ?? '?'} which has not arrived yet`);
  }
  const dispute = await trx.selectFrom('order_disputes').selectAll().where('order_id', '=', order.id).executeTakeFirst();
  const at = event.occurredAt ?? now;

  let signal: OrderSignal | undefined;
  if (event.eventType === 'dispute.created') {
    // A dispute.created delivered after its resolution must not reopen it.
    if (dispute === undefined || dispute.status === DISPUTE_OPEN) signal = 'dispute_opened';
    await trx
      .insertInto('order_disputes')
      .values({ order_id: order.id, dispute_id: data.disputeId, status: DISPUTE_OPEN, opened_at: at, resolved_at: null, updated_at: now })
      .onConflict((oc) =>
        oc.column('order_id').doUpdateSet((eb) => ({
          dispute_id: eb.fn.coalesce('order_disputes.dispute_id', eb.val(data.disputeId)),
          opened_at: eb.fn.coalesce('order_disputes.opened_at', eb.val(at)),
          updated_at: now,
        })),
      )
      .execute();
  } else {
    const outcome = data.outcome ?? 'lost';
    signal = outcome === 'won' ? 'dispute_won' : 'dispute_lost';
    await trx
      .insertInto('order_disputes')
      .values({ order_id: order.id, dispute_id: data.disputeId, status: outcome, opened_at: null, resolved_at: at, updated_at: now })
      .onConflict((oc) =>
        oc.column('order_id').doUpdateSet((eb) => ({
          dispute_id: eb.fn.coalesce('order_disputes.dispute_id', eb.val(data.disputeId)),
          status: outcome,
          resolved_at: at,
          updated_at: now,
        })),
      )
      .execute();
  }

  const status = signal === undefined ? order.status : nextOrderStatus(order.status, signal);
  const changed = status !== order.status;
  if (changed) await setOrderStatus(trx, clock, order.id, status, at);
  if (changed && order.customerId !== null) {
    await hooks.customerChanged(trx, order.customerId, { eventId: event.id, eventType: event.eventType, orderId: order.id });
  }
  return { outcome: 'applied', customerId: order.customerId, changed };
}

const SUBSCRIPTION_SIGNAL: Record<EventOf<'subscription'>['eventType'], SubscriptionSignal> = {
  'subscription.created': 'created',
  'subscription.renewed': 'renewed',
  'subscription.cancelled': 'cancelled',
  'subscription.payment_failed': 'payment_failed',
  'subscription.expired': 'expired',
};

async function applySubscriptionEvent(trx: Db, clock: Clock, event: EventOf<'subscription'>, hooks: PurchaseEventHooks): Promise<ApplyResult> {
  const now = clock.now().toISOString();
  const data = event.subscription;
  const existing = await trx.selectFrom('subscriptions').selectAll().where('id', '=', data.id).executeTakeFirst();
  const customerId = existing ? existing.customer_id : (await resolveCustomer(trx, clock, data.customer, hooks)).id;
  if (data.productId !== null) await ensureProduct(trx, now, data.productId, data.productName);

  const before = existing ? { status: existing.status, currentPeriodEnd: existing.current_period_end } : null;
  const next = nextSubscriptionState(before, SUBSCRIPTION_SIGNAL[event.eventType], data.currentPeriodEnd);
  const at = event.occurredAt ?? now;
  const became = (status: SubscriptionStatus) => next.status === status && before?.status !== status;
  const values = {
    customer_id: customerId,
    product_id: data.productId ?? existing?.product_id ?? null,
    status: next.status,
    current_period_end: next.currentPeriodEnd,
    created_at: existing?.created_at ?? data.createdAt ?? at,
    cancelled_at: next.status === 'active' ? null : became('cancelled') ? at : (existing?.cancelled_at ?? null),
    // The grace period counts from the first failure, not from each retry's notice.
    failed_at: next.status === 'active' ? null : became('payment_failed') ? at : (existing?.failed_at ?? null),
    updated_at: now,
  };
  await trx
    .insertInto('subscriptions')
    .values({ id: data.id, ...values })
    .onConflict((oc) => oc.column('id').doUpdateSet(values))
    .execute();

  let changed = before === null || before.status !== next.status || before.currentPeriodEnd !== next.currentPeriodEnd;
  if (customerId !== null) {
    changed = (await noteCustomerDetails(trx, clock, customerId, data.customer, { eventId: event.id })) || changed;
    if (changed) await hooks.customerChanged(trx, customerId, { eventId: event.id, eventType: event.eventType, subscriptionId: data.id });
  }
  return { outcome: 'applied', customerId, changed };
}

async function applyTicketEvent(trx: Db, clock: Clock, event: EventOf<'ticket'>, hooks: PurchaseEventHooks): Promise<ApplyResult> {
  const now = clock.now().toISOString();
  const data = event.ticket;
  const existing = await trx.selectFrom('support_tickets').select('customer_id').where('id', '=', data.id).executeTakeFirst();
  if (existing) return { outcome: 'applied', customerId: existing.customer_id, changed: false };
  const customer = await resolveCustomer(trx, clock, data.customer, hooks);
  await trx
    .insertInto('support_tickets')
    .values({
      id: data.id,
      customer_id: customer.id,
      subject: data.subject,
      status: data.status,
      created_at: data.createdAt ?? event.occurredAt ?? now,
      updated_at: now,
    })
    .execute();
  // Counted up on first sight rather than recounted from support_tickets: counts imported with
  // the customer predate this table and must not be lost. The ticket id makes this idempotent.
  await countSupportTicket(trx, customer.id, now);
  return { outcome: 'applied', customerId: customer.id, changed: true };
}

// ---------------------------------------------------------------------------------------------

/** By the platform's order id, else by order number (an order first seen without an id). */
async function findStoredOrder(trx: Db, id: number | null, orderNumber: string | null): Promise<OrderWithItems | undefined> {
  if (id !== null) {
    const byId = await getOrderWithItems(trx, id);
    if (byId) return byId;
  }
  if (orderNumber !== null) {
    const byNumber = await findOrderByNumber(trx, orderNumber);
    if (byNumber) return getOrderWithItems(trx, byNumber.id);
  }
  return undefined;
}

// Ids for orders the platform named only by number. They count down from the largest safe
// integer, far above any auto-increment id the platform will ever hand out.
const SYNTHETIC_ORDER_ID_FLOOR = 2 ** 52;

async function syntheticOrderId(trx: Db): Promise<number> {
  return ((await lowestOrderIdFrom(trx, SYNTHETIC_ORDER_ID_FLOOR)) ?? Number.MAX_SAFE_INTEGER + 1) - 1;
}

async function itemsFrom(trx: Db, items: readonly EventOrderItem[], totalCents: number | null) {
  const out = [];
  for (const item of items) {
    let productName = item.productName;
    if (productName === null && item.productId !== null) {
      productName = (await findProductName(trx, item.productId)) ?? `Product ${item.productId}`;
    }
    // A lone item without a price is the whole order.
    const priceCents = item.priceCents ?? (items.length === 1 && totalCents !== null ? Math.floor(totalCents / item.quantity) : 0);
    out.push({ productId: item.productId, productName: productName ?? 'Product', quantity: item.quantity, priceCents });
  }
  return out;
}

/**
 * The customer an event is about: by the platform's customer id (mapped on first sight), else by
 * email (case-insensitive), else a new customer named as the event names them (or after the
 * email's local part), announced through `customerCreated`.
 */
async function resolveCustomer(trx: Db, clock: Clock, who: EventCustomer, hooks: PurchaseEventHooks): Promise<Customer> {
  if (who.platformId !== null) {
    const mapped = await trx
      .selectFrom('platform_customers')
      .select('customer_id')
      .where('platform_customer_id', '=', who.platformId)
      .executeTakeFirst();
    const customer = mapped && (await findCustomerById(trx, mapped.customer_id));
    if (customer) return customer;
  }
  if (who.email === null) {
    throw new EventNotReadyError(`no customer is known for the store's customer id ${who.platformId ?? '?'} and the event has no email`);
  }
  const known = await findCustomerByEmail(trx, who.email);
  if (known) {
    await mapPlatformCustomer(trx, clock, who.platformId, known.id);
    return known;
  }
  const localPart = who.email.slice(0, who.email.lastIndexOf('@')) || who.email;
  const customer = await insertCustomer(trx, clock, {
    name: who.name ?? clipText(localPart, NAME_MAX_LENGTH, ''),
    email: who.email,
    country: who.ip === null ? null : countryForIp(who.ip),
  });
  await mapPlatformCustomer(trx, clock, who.platformId, customer.id);
  await hooks.customerCreated(trx, customer);
  return customer;
}

async function mapPlatformCustomer(trx: Db, clock: Clock, platformId: string | null, customerId: number): Promise<void> {
  if (platformId === null) return;
  await trx
    .insertInto('platform_customers')
    .values({ platform_customer_id: platformId, customer_id: customerId, created_at: clock.now().toISOString() })
    .onConflict((oc) => oc.column('platform_customer_id').doNothing())
    .execute();
}

/**
 * Keeps what the event says about the customer: the IP they bought from (fraud checks and bans
 * only) and the country it places them in, and their Discord id when they have none linked and
 * nobody else holds it. Returns whether Discord was linked (roles may now apply retroactively).
 */
async function noteCustomerDetails(
  trx: Db,
  clock: Clock,
  customerId: number,
  who: EventCustomer,
  context: { eventId: string; orderId?: number },
): Promise<boolean> {
  // A late event about an erased customer's order must not write their details back.
  if ((await findCustomerErasedAt(trx, customerId)) != null) return false;
  if (who.ip !== null) {
    // The country follows the address the customer is seen from, as when they link an account;
    // an address that places nobody (private, unknown) leaves the country as it was.
    await noteCustomerIp(trx, customerId, who.ip, countryForIp(who.ip));
  }
  if (who.discordId === null) return false;
  const holder = await findCustomerByDiscordId(trx, who.discordId);
  if (holder) return false;
  if (!(await linkDiscordIfUnlinked(trx, customerId, who.discordId, clock.now().toISOString()))) return false;
  await recordActivity(trx, clock, {
    actor: SYSTEM_ACTOR,
    action: 'customer.discord_from_order',
    targetType: 'customer',
    targetId: customerId,
    details: { discordId: who.discordId, eventId: context.eventId, ...(context.orderId === undefined ? {} : { orderId: context.orderId }) },
  });
  return true;
}

/** A stored subscription's customer and product, for replaying events about it. */
export async function findSubscription(db: Db, id: number): Promise<{ customerId: number | null; productId: number | null } | undefined> {
  const row = await db.selectFrom('subscriptions').select(['customer_id', 'product_id']).where('id', '=', id).executeTakeFirst();
  return row ? { customerId: row.customer_id, productId: row.product_id } : undefined;
}
