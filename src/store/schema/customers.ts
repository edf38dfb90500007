import type { Generated, Insertable, Selectable } from 'kysely';

// The customers and what staff write about them: notes, the activity log, the search index.

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

export interface NotesTable {
  id: Generated<number>;
  customer_id: number;
  author_id: string;
  author_name: string;
  body: string;
  created_at: string;
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

/** The FTS5 trigram index over customers(name, email); rowid is the customer id. */
export interface CustomerSearchTable {
  rowid: number;
  name: string;
  email: string;
}

export type CustomerRow = Selectable<CustomersTable>;

export type NewCustomerRow = Insertable<CustomersTable>;

export type NoteRow = Selectable<NotesTable>;

export interface CustomerTables {
  customers: CustomersTable;
  notes: NotesTable;
  activity_log: ActivityLogTable;
  customer_search: CustomerSearchTable;
}
