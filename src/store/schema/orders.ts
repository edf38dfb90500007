import type { Generated, Selectable } from 'kysely';
import type { OrderStatus, SubscriptionStatus } from '../../shared/vocabulary.js';

// What customers bought: products, orders and their items, subscriptions, disputes.

export interface ProductsTable {
  id: number;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface OrdersTable {
  id: number;
  order_number: string;
  customer_id: number | null;
  status: OrderStatus;
  total_cents: number;
  currency: string;
  created_at: string;
  completed_at: string | null;
  refunded_at: string | null;
  updated_at: string;
}

export interface OrderItemsTable {
  id: Generated<number>;
  order_id: number;
  product_id: number | null;
  product_name: string;
  quantity: number;
  price_cents: number;
}

export interface SubscriptionsTable {
  id: number;
  customer_id: number | null;
  product_id: number | null;
  status: SubscriptionStatus;
  current_period_end: string | null;
  created_at: string;
  cancelled_at: string | null;
  /** When the last payment failed (added by the inbound-events migration); cleared on renewal. */
  failed_at: string | null;
  updated_at: string;
}

export type DisputeStatus = 'open' | 'won' | 'lost';

export interface OrderDisputesTable {
  order_id: number;
  dispute_id: string | null;
  status: DisputeStatus;
  opened_at: string | null;
  resolved_at: string | null;
  updated_at: string;
}

export type OrderRow = Selectable<OrdersTable>;

export interface OrderTables {
  products: ProductsTable;
  orders: OrdersTable;
  order_items: OrderItemsTable;
  subscriptions: SubscriptionsTable;
  order_disputes: OrderDisputesTable;
}
