import type { Generated, Selectable } from 'kysely';

// Tables added by this area's migration (2026-11-22T03-00-api-tokens-webhooks); merged into
// `Database` in tables.ts.

export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  /** SHA-256 (hex) of the whole plaintext token; the plaintext is never stored. */
  token_hash: string;
  /** The first characters of the token, so staff can tell tokens apart in a list. */
  token_prefix: string;
  /** JSON array of scopes. */
  scopes: string;
  rate_limit_per_minute: Generated<number>;
  expires_at: string | null;
  revoked_at: string | null;
  created_at: string;
  last_used_at: string | null;
}

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

export interface ApiTables {
  api_tokens: ApiTokensTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
}

export type ApiTokenRow = Selectable<ApiTokensTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookDeliveryAttemptRow = Selectable<WebhookDeliveryAttemptsTable>;
