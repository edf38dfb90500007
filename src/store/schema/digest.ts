import type { Generated, Insertable, Selectable } from 'kysely';

export type DigestRunStatus = 'sending' | 'sent' | 'failed' | 'skipped';

export interface DigestRunsTable {
  id: Generated<number>;
  /** The scheduled occurrence, an ISO-8601 UTC instant; unique: inserting it claims the period. */
  period_key: string;
  status: DigestRunStatus;
  claimed_at: string;
  lease_expires_at: string | null;
  sent_at: string | null;
  message_id: string | null;
  attempts: Generated<number>;
  last_error: string | null;
  at_risk_cutoff: string;
  at_risk_days: number;
  cron: string;
  time_zone: string;
  at_risk_count: number | null;
  newly_at_risk_count: number | null;
}

export interface SegmentSnapshotsTable {
  period_key: string;
  taken_at: string;
  new_count: number;
  repeat_count: number;
  loyal_count: number;
  at_risk_count: number;
  customers_total: number;
}

export type DigestRunRow = Selectable<DigestRunsTable>;

export type NewDigestRunRow = Insertable<DigestRunsTable>;

export type SegmentSnapshotRow = Selectable<SegmentSnapshotsTable>;

export interface DigestTables {
  digest_runs: DigestRunsTable;
  segment_snapshots: SegmentSnapshotsTable;
}
