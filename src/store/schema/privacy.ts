/** Per-database secrets for privacy features, e.g. `ban_hash_key` (added by the erasure migration). */
export interface PrivacyKeysTable {
  name: string;
  value: string;
  created_at: string;
}

export interface PrivacyTables {
  privacy_keys: PrivacyKeysTable;
}
