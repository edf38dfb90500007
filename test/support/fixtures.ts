import type { ManualClock } from '../../src/shared/clock.js';
import type { Customer } from '../../src/domain/customers/types.js';
import { insertCustomer } from '../../src/domain/customers/registration.js';
import type { Db } from '../../src/store/database.js';
import { upsertOrder } from '../../src/store/order.repository.js';
import { LINKED_MEMBER_ID } from './bot-harness.js';

export interface SmallStore {
  alice: Customer;
  aliceMoreau: Customer;
  bob: Customer;
  dormant: Customer;
}

let nextOrderId = 1000;

export async function placeOrder(db: Db, clock: ManualClock, customer: Customer, at: string, totalCents: number, product = 'VIP Rank', status: 'completed' | 'refunded' | 'pending' = 'completed') {
  const id = nextOrderId++;
  return upsertOrder(db, clock, {
    id,
    orderNumber: `ORD-2026-${String(id).padStart(5, '0')}`,
    customerId: customer.id,
    status,
    totalCents,
    currency: 'USD',
    createdAt: at,
    completedAt: status === 'completed' ? at : null,
    items: [{ productId: 5, productName: product, quantity: 1, priceCents: totalCents }],
  });
}

/**
 * A store small enough to reason about: Alice Johnson (linked to Discord and Steam, 3 orders,
 * one refunded), Alice Moreau (no orders), Bob (loyal, 5 orders), and a dormant customer whose
 * only order is 200 days old (at risk).
 */
export async function seedSmallStore(db: Db, clock: ManualClock): Promise<SmallStore> {
  const alice = await insertCustomer(db, clock, {
    name: 'Alice Johnson',
    email: 'alice@example.com',
    country: 'GB',
    discord: { id: LINKED_MEMBER_ID, username: 'alice_j', avatar: null },
    steam: { id: '76561198000000042', username: 'AliceJ' },
    createdAt: '2025-03-01T10:00:00.000Z',
  });
  const aliceMoreau = await insertCustomer(db, clock, { name: 'Alice Moreau', email: 'amoreau@example.fr', country: 'FR', createdAt: '2025-06-01T10:00:00.000Z' });
  const bob = await insertCustomer(db, clock, { name: 'Bob Builder', email: 'bob@example.com', country: 'US', createdAt: '2024-01-01T10:00:00.000Z' });
  const dormant = await insertCustomer(db, clock, { name: 'Dora Mant', email: 'dora@example.com', createdAt: '2024-02-01T10:00:00.000Z' });

  await placeOrder(db, clock, alice, '2026-10-01T12:00:00.000Z', 2999);
  await placeOrder(db, clock, alice, '2026-11-01T12:00:00.000Z', 1499, 'Crate Key');
  await placeOrder(db, clock, alice, '2026-11-10T12:00:00.000Z', 999, 'Crate Key', 'refunded');
  for (let i = 0; i < 5; i++) await placeOrder(db, clock, bob, `2026-0${i + 1}-15T12:00:00.000Z`, 1000);
  await placeOrder(db, clock, dormant, '2026-05-06T12:00:00.000Z', 500);

  return { alice, aliceMoreau, bob, dormant };
}
