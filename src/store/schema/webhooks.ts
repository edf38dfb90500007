import type { Generated, Selectable } from 'kysely';

export interface WebhookEndpointsTable {
  id: Generated<number>;
  url: string;
  /** `whsec_…`: needed in clear to sign every delivery. */
  secret: string;
  /** JSON array of event types. */
  events: string;
  enabled: Generated<number>;
  disabled_reason: string | null;
  allow_private: Generated<number>;
  description: string | null;
  created_at: string;
  updated_at: string;
  /** Soft delete: the delivery log outlives the endpoint. */
  deleted_at: string | null;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

export interface WebhookDeliveriesTable {
  /** `del_…` */
  id: string;
  endpoint_id: number;
  /** `evt_…`: the payload's top-level id, shared by every delivery of one event. */
  event_id: string;
  event_type: string;
  /** The exact bytes that are signed and sent. */
  payload: string;
  status: WebhookDeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: string | null;
  lease_until: string | null;
  /** The process that holds the lease (its heartbeat lease is `process:<holder>`). */
  lease_holder: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  /** The delivery this one re-sends (manual redelivery), if any. */
  redelivery_of: string | null;
}

export interface WebhookDeliveryAttemptsTable {
  id: Generated<number>;
  delivery_id: string;
  attempted_at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;

export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;

export type WebhookDeliveryAttemptRow = Selectable<WebhookDeliveryAttemptsTable>;

export interface WebhookTables {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
}
