import type { Selectable } from 'kysely';

// What the store platform sends: the inbound events and the records only they fill.

export type InboundEventStatus = 'pending' | 'processed' | 'ignored' | 'failed';

export type SignatureScheme = 'hmac-hex' | 'standard-webhooks';

export interface InboundEventsTable {
  /** The platform's event id (body `id`, else the delivery id header). */
  id: string;
  event_type: string;
  payload: string;
  signature_scheme: SignatureScheme;
  received_at: string;
  status: InboundEventStatus;
  attempts: number;
  next_attempt_at: string;
  lease_until: string | null;
  /** The process that holds the lease (its heartbeat lease is `process:<holder>`). */
  lease_holder: string | null;
  processed_at: string | null;
  last_error: string | null;
}

export interface SupportTicketsTable {
  /** The platform's ticket id. */
  id: string;
  customer_id: number | null;
  subject: string | null;
  status: string | null;
  created_at: string;
  updated_at: string;
}

export interface PlatformCustomersTable {
  platform_customer_id: string;
  customer_id: number;
  created_at: string;
}

export type InboundEventRow = Selectable<InboundEventsTable>;

export interface PurchaseEventTables {
  inbound_events: InboundEventsTable;
  support_tickets: SupportTicketsTable;
  platform_customers: PlatformCustomersTable;
}
