import type { Actor, Customer } from '../../store/records.js';

export type { BanType, OrderStatus, SubscriptionStatus } from '../../shared/vocabulary.js';
export type { Actor, Ban, Customer, LinkedDiscord, LinkedSteam, Order, OrderItem, OrderWithItems, Page } from '../../store/records.js';

export type Segment = 'new' | 'repeat' | 'loyal';
export type Badge = 'Loyal' | 'Repeat';

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

export interface Note {
  id: number;
  customerId: number;
  authorId: string;
  authorName: string;
  body: string;
  createdAt: string;
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
