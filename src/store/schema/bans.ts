import type { Generated, Insertable, Selectable } from 'kysely';
import type { BanType } from '../../shared/vocabulary.js';

export interface BansTable {
  id: Generated<number>;
  type: BanType;
  value: string;
  customer_id: number | null;
  ip_start: string | null;
  ip_end: string | null;
  reason: string;
  created_by_id: string;
  created_by_name: string;
  created_at: string;
  expires_at: string | null;
  lifted_at: string | null;
  lifted_by_id: string | null;
  lifted_by_name: string | null;
  lift_reason: string | null;
}

export type BanRow = Selectable<BansTable>;

export type NewBanRow = Insertable<BansTable>;

export interface BanTables {
  bans: BansTable;
}
