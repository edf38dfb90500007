import type { Clock } from '../../src/shared/clock.js';
import type { Customer, OrderStatus } from '../../src/domain/customers/types.js';
import { insertCustomer } from '../../src/domain/customers/registration.js';
import type { Db } from '../../src/store/database.js';
import { upsertOrder } from '../../src/store/order.repository.js';

// A store of customers for the REST API tests, with what the figures should be worked out by hand
// in plain JavaScript (the "model"), so list answers can be compared with something that is not
// the code under test.

export interface FixtureOrder {
  at: string;
  cents: number;
  status?: OrderStatus;
}

export interface FixtureCustomerSpec {
  name: string;
  email: string;
  createdAt: string;
  country?: string;
  discord?: { id: string; username: string; avatar?: string };
  steam?: { id: string; username: string };
  gameUserId?: string;
  supportTicketsCount?: number;
  metadata?: Record<string, unknown>;
  /** Stored but never to be shown: the tests look for these in every response. */
  passwordHash?: string;
  lastIp?: string;
  orders?: FixtureOrder[];
}

export interface ModelCustomer {
  id: number;
  name: string;
  email: string;
  createdAt: string;
  ordersCount: number;
  totalSpentCents: number;
  lastOrderAt: string | null;
}

export interface FixtureStore {
  customers: Record<string, Customer>;
  model: ModelCustomer[];
  /** Every order written, with its id and number. */
  orders: Array<{ id: number; orderNumber: string; customerKey: string; at: string; cents: number; status: OrderStatus }>;
}

const COMPLETED: readonly OrderStatus[] = ['paid', 'completed'];

/** Writes the customers (in key order) and their orders; order ids start at `firstOrderId`. */
export async function buildFixtureStore(db: Db, clock: Clock, specs: Record<string, FixtureCustomerSpec>, firstOrderId = 100): Promise<FixtureStore> {
  const customers: Record<string, Customer> = {};
  const model: ModelCustomer[] = [];
  const orders: FixtureStore['orders'] = [];
  let orderId = firstOrderId;
  for (const [key, spec] of Object.entries(specs)) {
    const customer = await insertCustomer(db, clock, {
      name: spec.name,
      email: spec.email,
      createdAt: spec.createdAt,
      country: spec.country ?? null,
      discord: spec.discord ?? null,
      steam: spec.steam ?? null,
      gameUserId: spec.gameUserId ?? null,
      supportTicketsCount: spec.supportTicketsCount ?? 0,
      metadata: spec.metadata ?? {},
      passwordHash: spec.passwordHash ?? null,
      lastIp: spec.lastIp ?? null,
    });
    for (const order of spec.orders ?? []) {
      const id = orderId++;
      const status = order.status ?? 'completed';
      const orderNumber = `ORD-2025-${String(id).padStart(5, '0')}`;
      await upsertOrder(db, clock, {
        id,
        orderNumber,
        customerId: customer.id,
        status,
        totalCents: order.cents,
        currency: 'USD',
        createdAt: order.at,
        completedAt: COMPLETED.includes(status) ? order.at : null,
        items: [{ productId: 5, productName: 'VIP Rank', quantity: 1, priceCents: order.cents }],
      });
      orders.push({ id, orderNumber, customerKey: key, at: order.at, cents: order.cents, status });
    }
    const completed = (spec.orders ?? []).filter((o) => COMPLETED.includes(o.status ?? 'completed'));
    model.push({
      id: customer.id,
      name: spec.name,
      email: spec.email,
      createdAt: new Date(spec.createdAt).toISOString(),
      ordersCount: completed.length,
      totalSpentCents: completed.reduce((sum, o) => sum + o.cents, 0),
      lastOrderAt: completed.length === 0 ? null : completed.map((o) => new Date(o.at).toISOString()).sort().at(-1)!,
    });
    customers[key] = customer;
  }
  return { customers, model, orders };
}

/** n orders of `cents` each, a day apart, the last one at `last`. */
export function ordersEndingAt(last: string, n: number, cents: number): FixtureOrder[] {
  const end = Date.parse(last);
  return Array.from({ length: n }, (_, i) => ({ at: new Date(end - (n - 1 - i) * 86_400_000).toISOString(), cents }));
}
