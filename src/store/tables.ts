import type { Generated, Insertable, Selectable } from 'kysely';
import type { ApiTables } from './tables-api.js';
import type { DigestTables } from './tables-digest.js';
import type { DownloadTables } from './tables-downloads.js';
import type { EventTables } from './tables-events.js';
import type { LeaseTables } from './tables-leases.js';
import type { LinkingTables } from './tables-linking.js';
import type { PerformanceTables } from './tables-performance.js';
import type { RoleTables } from './tables-roles.js';
import type { BanType, OrderStatus, SubscriptionStatus } from '../shared/vocabulary.js';

export interface CustomersTable {
  id: Generated<number>;
  name: string;
  email: string;
  email_lower: string;
  password_hash: string | null;
  country: string | null;
  discord_id: string | null;
  discord_username: string | null;
  discord_avatar: string | null;
  steam_id: string | null;
  steam_username: string | null;
  steam_avatar: string | null;
  game_user_id: string | null;
  two_factor_enabled: Generated<number>;
  last_seen_at: string | null;
  last_ip: string | null;
  referral_code: string | null;
  referred_by: number | null;
  metadata: Generated<string>;
  support_tickets_count: Generated<number>;
  orders_count: Generated<number>;
  total_spent_cents: Generated<number>;
  first_order_at: string | null;
  last_order_at: string | null;
  last_order_number: string | null;
  created_at: string;
  updated_at: string;
  /** When the customer was erased (GDPR); the row then holds no personal data. Added by the erasure migration. */
  erased_at: string | null;
}

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

export interface NotesTable {
  id: Generated<number>;
  customer_id: number;
  author_id: string;
  author_name: string;
  body: string;
  created_at: string;
}

export interface BansTable {
  id: Generated<number>;
  type: BanType;
  value: string;
  customer_id: number | null;
  ip_start: string | null;
  ip_end: string | null;
  reason: string;
  created_by_id: string;
  created_by_name: string;
  created_at: string;
  expires_at: string | null;
  lifted_at: string | null;
  lifted_by_id: string | null;
  lifted_by_name: string | null;
  lift_reason: string | null;
}

export interface ActivityLogTable {
  id: Generated<number>;
  actor_id: string;
  actor_name: string;
  action: string;
  target_type: string;
  target_id: string | null;
  details: Generated<string>;
  created_at: string;
}

/** Per-database secrets for privacy features, e.g. `ban_hash_key` (added by the erasure migration). */
export interface PrivacyKeysTable {
  name: string;
  value: string;
  created_at: string;
}

/** The FTS5 trigram index over customers(name, email); rowid is the customer id. */
export interface CustomerSearchTable {
  rowid: number;
  name: string;
  email: string;
}

export interface Database extends EventTables, RoleTables, ApiTables, LinkingTables, DigestTables, DownloadTables, PerformanceTables, LeaseTables {
  customers: CustomersTable;
  products: ProductsTable;
  orders: OrdersTable;
  order_items: OrderItemsTable;
  subscriptions: SubscriptionsTable;
  notes: NotesTable;
  bans: BansTable;
  activity_log: ActivityLogTable;
  customer_search: CustomerSearchTable;
  privacy_keys: PrivacyKeysTable;
}

export type CustomerRow = Selectable<CustomersTable>;
export type NewCustomerRow = Insertable<CustomersTable>;
export type OrderRow = Selectable<OrdersTable>;
export type NoteRow = Selectable<NotesTable>;
export type BanRow = Selectable<BansTable>;
export type NewBanRow = Insertable<BansTable>;
