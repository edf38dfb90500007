import type { BanType, OrderStatus, SubscriptionStatus } from '../store/tables.js';

export type { BanType, OrderStatus, SubscriptionStatus };

/** Who did something: a staff member's Discord id and display name, or a system actor. */
export interface Actor {
  id: string;
  name: string;
}

export type Segment = 'new' | 'repeat' | 'loyal';
export type Badge = 'Loyal' | 'Repeat';

export interface LinkedDiscord {
  id: string;
  username: string | null;
  avatar: string | null;
}

export interface LinkedSteam {
  id: string;
  username: string | null;
  avatar: string | null;
}

/** A customer as staff may see it: never the password hash, never the last IP. */
export interface Customer {
  id: number;
  name: string;
  email: string;
  country: string | null;
  discord: LinkedDiscord | null;
  steam: LinkedSteam | null;
  gameUserId: string | null;
  twoFactorEnabled: boolean;
  lastSeenAt: string | null;
  referralCode: string | null;
  referredBy: number | null;
  metadata: Record<string, unknown>;
  supportTicketsCount: number;
  ordersCount: number;
  totalSpentCents: number;
  firstOrderAt: string | null;
  lastOrderAt: string | null;
  lastOrderNumber: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CustomerStatistics {
  totalOrders: number;
  totalSpentCents: number;
  /** total spent / total orders, rounded to the cent; 0 with no orders. */
  averageOrderValueCents: number;
  /** total orders × average order value. */
  ltvCents: number;
  /** Average days between completed orders; null with fewer than two. */
  purchaseFrequencyDays: number | null;
  firstOrderAt: string | null;
  lastOrderAt: string | null;
  lastOrderNumber: string | null;
}

export interface CustomerProfile {
  customer: Customer;
  statistics: CustomerStatistics;
  segment: Segment;
  atRisk: boolean;
  badges: Badge[];
  referralsCount: number;
}

export type CustomerFilter = 'all' | 'has_orders' | 'repeat' | 'loyal' | 'at_risk';
export type CustomerSort = 'newest' | 'oldest' | 'name' | 'email' | 'most_orders' | 'highest_spending' | 'last_order';
export type SortOrder = 'asc' | 'desc';

export interface CustomerListQuery {
  /** Substring of name or email, case-insensitive. */
  search?: string | undefined;
  /** Exact email, case-insensitive. */
  email?: string | undefined;
  registeredAfter?: string | undefined;
  registeredBefore?: string | undefined;
  filter?: CustomerFilter | undefined;
  sort?: CustomerSort | undefined;
  /** Overrides the sort's natural direction (newest = desc, name = asc, …). */
  sortOrder?: SortOrder | undefined;
  page?: number | undefined;
  perPage?: number | undefined;
}

export interface CustomerListPage {
  rows: Customer[];
  total: number;
  page: number;
  perPage: number;
  lastPage: number;
}

export interface StoreStatistics {
  totalCustomers: number;
  newThisMonth: number;
  withOrders: number;
  repeatCustomers: number;
  loyalCustomers: number;
  atRisk: number;
  totalOrders: number;
  revenueCents: number;
  averageOrderValueCents: number;
}

export interface OrderItem {
  productId: number | null;
  productName: string;
  quantity: number;
  priceCents: number;
}

export interface Order {
  id: number;
  orderNumber: string;
  customerId: number | null;
  status: OrderStatus;
  totalCents: number;
  currency: string;
  createdAt: string;
  completedAt: string | null;
  refundedAt: string | null;
}

export interface OrderWithItems extends Order {
  items: OrderItem[];
}

export interface Note {
  id: number;
  customerId: number;
  authorId: string;
  authorName: string;
  body: string;
  createdAt: string;
}

export interface Ban {
  id: number;
  type: BanType;
  value: string;
  customerId: number | null;
  reason: string;
  createdBy: Actor;
  createdAt: string;
  expiresAt: string | null;
  liftedAt: string | null;
  liftedBy: Actor | null;
  liftReason: string | null;
  /** Not lifted and not expired at the time it was read. */
  active: boolean;
}

export interface Page<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
}

export interface ActivityEntry {
  id: number;
  actor: Actor;
  action: string;
  targetType: string;
  targetId: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}
