import type { Clock } from '../shared/clock.js';
import { UserError } from '../shared/errors.js';
import { isOrderNumber, isProductName, ORDER_NUMBER_MAX_LENGTH, PRODUCT_NAME_MAX_LENGTH } from '../shared/input-fields.js';
import { COMPLETED_STATUSES, isCompletedStatus, ORDER_STATUSES, type OrderStatus } from '../shared/vocabulary.js';
import type { Order, OrderItem, OrderWithItems, Page } from './records.js';
import { compiledQuery } from './compiled-query.js';
import { insertRowsCompiled } from './bulk-insert.js';
import {
  customerExists,
  firstUnknownCustomerId,
  normalizeTimestamp,
  orderNumberSpellings,
  storeAggregates,
  storeAggregatesOfMany,
  storedAggregatesOf,
  storedAggregatesOfCustomer,
  type CustomerAggregates,
  type StoredAggregates,
} from './customer.repository.js';
import { inTransaction, type Db } from './database.js';
import type { OrderRow } from './schema/index.js';
import { clampPage, newestFirstPage } from './paging.js';

/** An order as the store platform sends it (`id` is the platform's order id); the dates it lacks are null. */
export interface OrderInput extends Omit<Order, 'completedAt' | 'refundedAt'> {
  completedAt?: string | null;
  refundedAt?: string | null;
  items: Array<Omit<OrderItem, 'productId'> & { productId?: number | null }>;
}

export function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    orderNumber: row.order_number,
    customerId: row.customer_id,
    status: row.status,
    totalCents: row.total_cents,
    currency: row.currency,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    refundedAt: row.refunded_at,
  };
}

/**
 * Writes an order as the platform describes it now (insert or replace, items included) and brings
 * the aggregates of its customer up to date, and those of the previous customer when the order
 * moved. Runs in its own transaction unless given one.
 */
export async function upsertOrder(db: Db, clock: Clock, input: OrderInput): Promise<Order> {
  const order = validateOrder(input);
  const now = clock.now().toISOString();
  return inTransaction(db, async (trx) => {
    const clash = await trx
      .selectFrom('orders')
      .select('id')
      .where('order_number', '=', order.orderNumber)
      .where('id', '!=', order.id)
      .executeTakeFirst();
    if (clash) {
      throw new UserError('order_number_taken', `Order number ${order.orderNumber} already belongs to order ${clash.id}.`);
    }
    if (order.customerId !== null) {
      if (!(await customerExists(trx, order.customerId))) throw new UserError('customer_not_found', `No customer with id ${order.customerId}.`);
    }
    const previous = await trx.selectFrom('orders').select('customer_id').where('id', '=', order.id).executeTakeFirst();

    const { id: _, ...values } = orderRow(order, now);
    const row = await trx
      .insertInto('orders')
      .values({ id: order.id, ...values })
      .onConflict((oc) => oc.column('id').doUpdateSet(values))
      .returningAll()
      .executeTakeFirstOrThrow();

    await trx.deleteFrom('order_items').where('order_id', '=', order.id).execute();
    const products = new Map<number, string>();
    for (const item of order.items) if (item.productId !== null) products.set(item.productId, item.productName);
    for (const [id, name] of products) {
      await trx
        .insertInto('products')
        .values({ id, name, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('id').doUpdateSet({ name, updated_at: now }))
        .execute();
    }
    if (order.items.length > 0) {
      await trx
        .insertInto('order_items')
        .values(orderItemRows(order))
        .execute();
    }

    const affected = new Set<number>();
    if (order.customerId !== null) affected.add(order.customerId);
    if (previous?.customer_id != null) affected.add(previous.customer_id);
    for (const customerId of affected) await recomputeCustomerAggregates(trx, customerId, now);
    return toOrder(row);
  });
}

/**
 * Moves an order to a new status at `at` (default now): a refund stamps `refunded_at`, the first
 * payment or completion stamps `completed_at`. Then the customer's aggregates follow.
 */
export async function setOrderStatus(db: Db, clock: Clock, orderId: number, status: OrderStatus, at?: string): Promise<Order> {
  if (!ORDER_STATUSES.includes(status)) throw new UserError('order_status_invalid', `"${String(status)}" is not an order status.`);
  const now = clock.now().toISOString();
  const when = at === undefined ? now : normalizeTimestamp(at, 'at');
  return inTransaction(db, async (trx) => {
    const current = await trx.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
    if (!current) throw new UserError('order_not_found', `No order with id ${orderId}.`);
    const row = await trx
      .updateTable('orders')
      .set({
        status,
        // A refunded order that is later completed again keeps its refund time: it is history.
        refunded_at: status === 'refunded' ? when : current.refunded_at,
        completed_at: isCompletedStatus(status) && current.completed_at === null ? when : current.completed_at,
        updated_at: now,
      })
      .where('id', '=', orderId)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (row.customer_id !== null) await recomputeCustomerAggregates(trx, row.customer_id, now);
    return toOrder(row);
  });
}

// Rows per INSERT: orders have 10 columns, items 5; 400 rows stay far below SQLite's 32,766 and
// PostgreSQL's 65,535 bound parameters.
const INSERT_CHUNK = 400;
// Values per `IN (…)` probe or customer batch, for the same limits.
const PROBE_CHUNK = 500;

/**
 * Stores many new orders at once (imports, seeding a large store), with the validation of
 * {@link upsertOrder}: refuses an order id or number that is already stored or repeated in the
 * input, and a customer that does not exist. Writes orders, items and products in multi-row
 * statements, then brings every affected customer's aggregates up to date with one read of their
 * completed orders per batch of customers. All-or-nothing only inside the caller's transaction;
 * call it in batches of a few thousand orders.
 */
export async function insertOrders(db: Db, clock: Clock, inputs: readonly OrderInput[]): Promise<number> {
  if (inputs.length === 0) return 0;
  const now = clock.now().toISOString();
  const orders = inputs.map((input, index) => {
    try {
      return validateOrder(input);
    } catch (error) {
      throw error instanceof UserError ? new UserError(error.code, `Order #${index + 1}: ${error.message}`) : error;
    }
  });
  await refuseStoredOrders(db, orders);

  const customerIds = [...new Set(orders.flatMap((o) => (o.customerId === null ? [] : [o.customerId])))];
  const missing = await firstUnknownCustomerId(db, customerIds);
  if (missing !== undefined) throw new UserError('customer_not_found', `No customer with id ${missing}.`);

  const products = new Map<number, string>();
  for (const order of orders) for (const item of order.items) if (item.productId !== null) products.set(item.productId, item.productName);
  const productRows = [...products].map(([id, name]) => ({ id, name, created_at: now, updated_at: now }));
  for (let start = 0; start < productRows.length; start += INSERT_CHUNK) {
    await db
      .insertInto('products')
      .values(productRows.slice(start, start + INSERT_CHUNK))
      .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ name: eb.ref('excluded.name'), updated_at: eb.ref('excluded.updated_at') })))
      .execute();
  }

  for (let start = 0; start < orders.length; start += INSERT_CHUNK) {
    const chunk = orders.slice(start, start + INSERT_CHUNK);
    await insertRowsCompiled(
      db,
      'orders',
      chunk.map((order) => orderRow(order, now)),
      (d, rows) => d.insertInto('orders').values(rows as ReturnType<typeof orderRow>[]),
    );
  }
  const items = orders.flatMap((order) => orderItemRows(order));
  for (let start = 0; start < items.length; start += INSERT_CHUNK) {
    await insertRowsCompiled(db, 'order_items', items.slice(start, start + INSERT_CHUNK), (d, rows) => d.insertInto('order_items').values(rows as typeof items));
  }

  await recomputeAggregatesOfCustomers(db, customerIds, now);
  return orders.length;
}

async function refuseStoredOrders(db: Db, orders: readonly ValidOrder[]): Promise<void> {
  const ids = new Set<number>();
  const numbers = new Set<string>();
  for (const order of orders) {
    if (ids.has(order.id)) throw new UserError('order_invalid', `Order id ${order.id} appears twice.`);
    if (numbers.has(order.orderNumber)) throw new UserError('order_number_taken', `Order number ${order.orderNumber} appears twice.`);
    ids.add(order.id);
    numbers.add(order.orderNumber);
  }
  const idList = [...ids];
  for (let start = 0; start < idList.length; start += PROBE_CHUNK) {
    const taken = await db.selectFrom('orders').select('id').where('id', 'in', idList.slice(start, start + PROBE_CHUNK)).limit(1).executeTakeFirst();
    if (taken) throw new UserError('order_invalid', `Order ${taken.id} is already stored.`);
  }
  const numberList = [...numbers];
  for (let start = 0; start < numberList.length; start += PROBE_CHUNK) {
    const taken = await db
      .selectFrom('orders')
      .select(['id', 'order_number'])
      .where('order_number', 'in', numberList.slice(start, start + PROBE_CHUNK))
      .limit(1)
      .executeTakeFirst();
    if (taken) throw new UserError('order_number_taken', `Order number ${taken.order_number} already belongs to order ${taken.id}.`);
  }
}

/**
 * {@link recomputeCustomerAggregates} for many customers: per batch of 500, one read of their
 * completed orders, one read of their stored figures and one UPDATE … FROM (VALUES …) for those
 * whose figures changed (a statement per customer cost more to prepare than to run).
 */
export async function recomputeAggregatesOfCustomers(db: Db, customerIds: readonly number[], touchedAt?: string): Promise<void> {
  for (let start = 0; start < customerIds.length; start += PROBE_CHUNK) {
    const chunk = customerIds.slice(start, start + PROBE_CHUNK);
    const completed = await db
      .selectFrom('orders')
      .select((eb) => ['customer_id', 'id', 'order_number', 'total_cents', eb.fn.coalesce('completed_at', 'created_at').as('at')])
      .where('customer_id', 'in', chunk)
      .where('status', 'in', COMPLETED_STATUSES)
      .execute();
    const byCustomer = new Map<number, CompletedOrderFacts[]>();
    for (const row of completed) {
      if (row.customer_id === null) continue;
      let list = byCustomer.get(row.customer_id);
      if (!list) byCustomer.set(row.customer_id, (list = []));
      list.push({ id: row.id, orderNumber: row.order_number, totalCents: row.total_cents, at: row.at });
    }
    const current = await storedAggregatesOf(db, chunk);
    const changed = current.flatMap((row) => {
      const aggregates = aggregatesOf(byCustomer.get(row.id) ?? []);
      return aggregatesChanged(row, aggregates) ? [{ row, aggregates }] : [];
    });
    if (changed.length > 0) await storeAggregatesOfMany(db, changed, touchedAt);
  }
}

interface CompletedOrderFacts {
  id: number;
  orderNumber: string;
  totalCents: number;
  /** completed_at, or created_at when the platform sent none. */
  at: string;
}

/** The figures of {@link CustomerAggregates} from a customer's completed orders. */
function aggregatesOf(orders: readonly CompletedOrderFacts[]): CustomerAggregates {
  let total = 0;
  let first: string | null = null;
  let last: CompletedOrderFacts | null = null;
  for (const order of orders) {
    total += order.totalCents;
    if (first === null || order.at < first) first = order.at;
    if (last === null || order.at > last.at || (order.at === last.at && order.id > last.id)) last = order;
  }
  return {
    ordersCount: orders.length,
    totalSpentCents: total,
    firstOrderAt: first,
    lastOrderAt: last?.at ?? null,
    lastOrderNumber: last?.orderNumber ?? null,
  };
}

function aggregatesChanged(current: StoredAggregates, aggregates: CustomerAggregates): boolean {
  return !(
    current.orders_count === aggregates.ordersCount &&
    current.total_spent_cents === aggregates.totalSpentCents &&
    current.first_order_at === aggregates.firstOrderAt &&
    current.last_order_at === aggregates.lastOrderAt &&
    current.last_order_number === aggregates.lastOrderNumber
  );
}

export type { CustomerAggregates };

/**
 * Recomputes a customer's order figures from their completed (paid or completed) orders and
 * stores them on the customer row, so that lists and statistics never scan orders. A completed
 * order's time is `completed_at`, or `created_at` when the platform sent none. When `touchedAt`
 * is given and a figure changed, the customer's `updated_at` moves forward to it.
 */
export async function recomputeCustomerAggregates(db: Db, customerId: number, touchedAt?: string): Promise<CustomerAggregates> {
  const completed = db
    .selectFrom('orders')
    .where('customer_id', '=', customerId)
    .where('status', 'in', COMPLETED_STATUSES);
  const totals = await completed
    .select((eb) => [
      eb.fn.countAll<number>().as('orders_count'),
      eb.fn.coalesce(eb.fn.sum<number>('total_cents'), eb.lit(0)).as('total_spent_cents'),
      eb.fn.min<string | null>(eb.fn.coalesce('completed_at', 'created_at')).as('first_order_at'),
    ])
    .executeTakeFirstOrThrow();
  const last = await completed
    .select((eb) => [eb.fn.coalesce('completed_at', 'created_at').as('at'), 'order_number'])
    .orderBy((eb) => eb.fn.coalesce('completed_at', 'created_at'), 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const aggregates: CustomerAggregates = {
    ordersCount: Number(totals.orders_count),
    totalSpentCents: Number(totals.total_spent_cents),
    firstOrderAt: totals.first_order_at ?? null,
    lastOrderAt: last?.at ?? null,
    lastOrderNumber: last?.order_number ?? null,
  };

  const current = await storedAggregatesOfCustomer(db, customerId);
  if (current && aggregatesChanged(current, aggregates)) await storeAggregates(db, current, aggregates, touchedAt);
  return aggregates;
}

const MAX_PAGE_LIMIT = 100;

/** A customer's orders, newest first (every status; the figures count only completed ones). */
export async function listOrdersForCustomer(
  db: Db,
  customerId: number,
  page: { offset: number; limit: number },
): Promise<Page<Order>> {
  const { offset, limit } = clampPage(page, MAX_PAGE_LIMIT);
  const { rows, total } = await newestFirstPage(db.selectFrom('orders').where('customer_id', '=', customerId), { offset, limit });
  return { items: rows.map(toOrder), total, offset, limit };
}

/** How many of a customer's orders are in each status; statuses they have none in are left out. */
export async function countOrdersByStatus(db: Db, customerId: number): Promise<Partial<Record<OrderStatus, number>>> {
  const rows = await db
    .selectFrom('orders')
    .select((eb) => ['status', eb.fn.countAll<number | string>().as('count')])
    .where('customer_id', '=', customerId)
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
}

/** An order as a list of recent orders shows it. */
export type OrderSummary = Pick<Order, 'id' | 'orderNumber' | 'status' | 'totalCents' | 'createdAt'>;

const selectRecentOrdersOfCustomer = compiledQuery<[number, number], Pick<OrderRow, 'id' | 'order_number' | 'status' | 'total_cents' | 'created_at'>>(
  2,
  (db, customerId, limit) =>
    db
      .selectFrom('orders')
      .select(['id', 'order_number', 'status', 'total_cents', 'created_at'])
      .where('customer_id', '=', customerId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit),
);

/**
 * A customer's `limit` most recent orders, newest first, without the count of all of them. The
 * API's customer detail asks for this on every request: only the columns it shows, from a query
 * compiled once.
 */
export async function listRecentOrdersOfCustomer(db: Db, customerId: number, limit: number): Promise<OrderSummary[]> {
  const rows = await selectRecentOrdersOfCustomer(db, customerId, clampPage({ offset: 0, limit }, MAX_PAGE_LIMIT).limit);
  return rows.map((row) => ({ id: row.id, orderNumber: row.order_number, status: row.status, totalCents: row.total_cents, createdAt: row.created_at }));
}

export async function getOrderWithItems(db: Db, orderId: number): Promise<OrderWithItems | undefined> {
  const row = await db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
  if (!row) return undefined;
  const items = await db
    .selectFrom('order_items')
    .select(['product_id', 'product_name', 'quantity', 'price_cents'])
    .where('order_id', '=', orderId)
    .orderBy('id')
    .execute();
  return {
    ...toOrder(row),
    items: items.map(
      (item): OrderItem => ({
        productId: item.product_id,
        productName: item.product_name,
        quantity: item.quantity,
        priceCents: item.price_cents,
      }),
    ),
  };
}

/** By order number, case-insensitive for the usual spellings (see findCustomerByOrderNumber). */
export async function findOrderByNumber(db: Db, orderNumber: string): Promise<Order | undefined> {
  const row = await db
    .selectFrom('orders')
    .selectAll()
    .where('order_number', 'in', orderNumberSpellings(orderNumber))
    .executeTakeFirst();
  return row && toOrder(row);
}


/** The orders row of a validated order, written at `now`. */
function orderRow(order: ValidOrder, now: string) {
  return {
    id: order.id,
    order_number: order.orderNumber,
    customer_id: order.customerId,
    status: order.status,
    total_cents: order.totalCents,
    currency: order.currency,
    created_at: order.createdAt,
    completed_at: order.completedAt,
    refunded_at: order.refundedAt,
    updated_at: now,
  };
}

/** The order_items rows of a validated order. */
function orderItemRows(order: ValidOrder) {
  return order.items.map((item) => ({
    order_id: order.id,
    product_id: item.productId,
    product_name: item.productName,
    quantity: item.quantity,
    price_cents: item.priceCents,
  }));
}

/** An order input that passed validation, in the shape the store keeps: every field present. */
type ValidOrder = OrderWithItems;

function validateOrder(input: OrderInput): ValidOrder {
  if (!Number.isSafeInteger(input.id) || input.id <= 0) throw new UserError('order_invalid', 'An order id must be a positive whole number.');
  const orderNumber = input.orderNumber.trim();
  if (!isOrderNumber(orderNumber)) {
    throw new UserError('order_invalid', `An order number must be 1 to ${ORDER_NUMBER_MAX_LENGTH} characters, without control characters.`);
  }
  if (!ORDER_STATUSES.includes(input.status)) throw new UserError('order_status_invalid', `"${String(input.status)}" is not an order status.`);
  if (!Number.isSafeInteger(input.totalCents) || input.totalCents < 0) {
    throw new UserError('order_invalid', 'An order total must be a whole number of cents, 0 or more.');
  }
  const currency = input.currency.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) throw new UserError('order_invalid', 'A currency must be a three-letter ISO 4217 code.');
  if (input.customerId !== null && !Number.isSafeInteger(input.customerId)) {
    throw new UserError('customer_not_found', `No customer with id ${String(input.customerId)}.`);
  }
  const items = input.items.map((item): OrderItem => {
    const productName = item.productName.trim();
    if (!isProductName(productName)) {
      throw new UserError('order_invalid', `A product name must be 1 to ${PRODUCT_NAME_MAX_LENGTH} characters.`);
    }
    if (!Number.isSafeInteger(item.quantity) || item.quantity < 1) throw new UserError('order_invalid', 'An item quantity must be 1 or more.');
    if (!Number.isSafeInteger(item.priceCents) || item.priceCents < 0) {
      throw new UserError('order_invalid', 'An item price must be a whole number of cents, 0 or more.');
    }
    const productId = item.productId ?? null;
    if (productId !== null && (!Number.isSafeInteger(productId) || productId <= 0)) {
      throw new UserError('order_invalid', 'A product id must be a positive whole number.');
    }
    return { productId, productName, quantity: item.quantity, priceCents: item.priceCents };
  });
  const completedAt = input.completedAt == null ? null : normalizeTimestamp(input.completedAt, 'completedAt');
  const refundedAt = input.refundedAt == null ? null : normalizeTimestamp(input.refundedAt, 'refundedAt');
  return {
    id: input.id,
    orderNumber,
    customerId: input.customerId,
    status: input.status,
    totalCents: input.totalCents,
    currency,
    createdAt: normalizeTimestamp(input.createdAt, 'createdAt'),
    completedAt,
    refundedAt,
    items,
  };
}

/** A product's stored name, if the product is known. */
/** Every product the store has sold, by id. */
export async function listProducts(db: Db): Promise<{ id: number; name: string }[]> {
  return db.selectFrom('products').select(['id', 'name']).orderBy('id').execute();
}

/** What the product last sold for, in cents, if it has sold. */
export async function lastPriceOfProduct(db: Db, productId: number): Promise<number | undefined> {
  const last = await db.selectFrom('order_items').select('price_cents').where('product_id', '=', productId).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return last?.price_cents;
}

export async function findProductName(db: Db, productId: number): Promise<string | undefined> {
  const product = await db.selectFrom('products').select('name').where('id', '=', productId).executeTakeFirst();
  return product?.name;
}

/** Stores a product first seen in an event; a name given replaces the stored one, none keeps it. */
export async function ensureProduct(db: Db, now: string, id: number, name: string | null): Promise<void> {
  await db
    .insertInto('products')
    .values({ id, name: name ?? `Product ${id}`, created_at: now, updated_at: now })
    .onConflict((oc) => (name === null ? oc.column('id').doNothing() : oc.column('id').doUpdateSet({ name, updated_at: now })))
    .execute();
}

/** The lowest order id at or above `floor`, or null when there is none. */
export async function lowestOrderIdFrom(db: Db, floor: number): Promise<number | null> {
  const row = await db
    .selectFrom('orders')
    .select((eb) => eb.fn.min<number | null>('id').as('lowest'))
    .where('id', '>=', floor)
    .executeTakeFirst();
  return row?.lowest ?? null;
}

/** The customer and time of every order in one of `statuses`, for history counted after the fact. */
export async function listOrderTimes(db: Db, statuses: readonly OrderStatus[]): Promise<{ customer_id: number | null; completed_at: string | null; created_at: string }[]> {
  return db.selectFrom('orders').select(['customer_id', 'completed_at', 'created_at']).where('status', 'in', statuses).where('customer_id', 'is not', null).execute();
}

export async function hasAnyOrder(db: Db): Promise<boolean> {
  return (await db.selectFrom('orders').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** A customer's orders holding any of the products, one row per matching item. */
export async function listCustomerOrderLinesOfProducts(
  db: Db,
  customerId: number,
  productIds: readonly number[],
): Promise<Array<{ id: number; order_number: string; status: OrderStatus; product_id: number | null }>> {
  return db
    .selectFrom('orders')
    .innerJoin('order_items', 'order_items.order_id', 'orders.id')
    .select(['orders.id', 'orders.order_number', 'orders.status', 'order_items.product_id'])
    .where('orders.customer_id', '=', customerId)
    .where('order_items.product_id', 'in', productIds)
    .execute();
}

export async function findOrderHeader(
  db: Db,
  orderId: number,
): Promise<{ id: number; order_number: string; status: OrderStatus; customer_id: number | null } | undefined> {
  return db.selectFrom('orders').select(['id', 'order_number', 'status', 'customer_id']).where('id', '=', orderId).executeTakeFirst();
}

/** Customers with an order holding the product, by id after `afterCustomerId`, at most `limit`. */
export async function listBuyersOfProductAfter(db: Db, productId: number, afterCustomerId: number, limit: number): Promise<Array<{ customer_id: number | null }>> {
  return db
    .selectFrom('orders')
    .innerJoin('order_items', 'order_items.order_id', 'orders.id')
    .select('orders.customer_id')
    .distinct()
    .where('order_items.product_id', '=', productId)
    .where('orders.customer_id', '>', afterCustomerId)
    .orderBy('orders.customer_id')
    .limit(limit)
    .execute();
}
