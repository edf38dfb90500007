import type { Generated, Selectable } from 'kysely';

export type StaffAlertStatus = 'pending' | 'sent' | 'failed';

export interface StaffAlertsTable {
  id: Generated<number>;
  kind: string;
  message: string;
  dedupe_key: string | null;
  status: StaffAlertStatus;
  attempts: Generated<number>;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export type StaffAlertRow = Selectable<StaffAlertsTable>;

export interface AlertTables {
  staff_alerts: StaffAlertsTable;
}
