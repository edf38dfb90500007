import type { Generated, Selectable } from 'kysely';

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

export type ApiTokenRow = Selectable<ApiTokensTable>;

export interface ApiTokenTables {
  api_tokens: ApiTokensTable;
}
