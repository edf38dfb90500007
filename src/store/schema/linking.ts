import type { Generated, Selectable } from 'kysely';

export type LinkProvider = 'discord' | 'steam';

export interface LinkSessionsTable {
  id: Generated<number>;
  token_hash: string;
  customer_id: number;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** The provider of the attempt in flight (the latest one started). */
  provider: LinkProvider | null;
  /** Keyed hash of the attempt's single-use state; cleared when a callback consumes it. */
  state_hash: string | null;
  /** PKCE code_verifier of the Discord attempt; never leaves the server. */
  code_verifier: string | null;
  attempt_started_at: string | null;
  /** Which account the spent link linked. */
  linked_provider: LinkProvider | null;
}

export interface UsedOpenIdNoncesTable {
  response_nonce: string;
  seen_at: string;
}

export type LinkSessionRow = Selectable<LinkSessionsTable>;

export interface LinkingTables {
  link_sessions: LinkSessionsTable;
  used_openid_nonces: UsedOpenIdNoncesTable;
}
