// Counts kept by triggers so the store's figures and searches need not scan the customers.

/** Running totals over the customer aggregates, kept by triggers; one row, id 1. */
export interface StoreCountersTable {
  id: number;
  customers: number;
  with_orders: number;
  repeat_customers: number;
  loyal_customers: number;
  completed_orders: number;
  revenue_cents: number;
}

export type CustomerDayKind = 'registered' | 'last_order';

/** Customers per UTC day (`YYYY-MM-DD`) of registration or of last completed order, kept by triggers. */
export interface CustomerDayCountsTable {
  kind: CustomerDayKind;
  day: string;
  customers: number;
}

/**
 * The contentless FTS5 index of every 1- and 2-character substring of a customer's folded name
 * and email, one hex-encoded token each; rowid is the customer id.
 */
export interface CustomerGramsTable {
  rowid: number;
  grams: string;
}

/** Maintained match counts of common search terms (folded, ASCII, 3+ characters). */
export interface SearchTermCountsTable {
  term: string;
  customers: number;
  used_on: string;
}

export interface CounterTables {
  store_counters: StoreCountersTable;
  customer_day_counts: CustomerDayCountsTable;
  customer_grams: CustomerGramsTable;
  search_term_counts: SearchTermCountsTable;
}
