/** A named lease: who holds it and until when (ISO-8601 UTC instants). */
export interface LeasesTable {
  name: string;
  holder: string;
  acquired_at: string;
  expires_at: string;
}

export interface LeaseTables {
  leases: LeasesTable;
}
