/**
 * The records the repositories return, mapped from their rows: plain values the domain works
 * with and re-exports (src/domain/customers/types.ts), declared here so the store needs nothing above it.
 */
import type { BanType, OrderStatus } from '../shared/vocabulary.js';

/** Who did something: a staff member's Discord id and display name, or a system actor. */
export interface Actor {
  id: string;
  name: string;
}

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
