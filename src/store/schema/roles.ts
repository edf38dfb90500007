import type { Generated, Selectable } from 'kysely';

export interface RoleRulesTable {
  id: Generated<number>;
  product_id: number;
  role_id: string;
  guild_id: string;
  revoke_on_refund: Generated<number>;
  revoke_on_chargeback: Generated<number>;
  revoke_on_subscription_end: Generated<number>;
  grace_period_hours: Generated<number>;
  created_by_id: string;
  created_by_name: string;
  created_at: string;
  removed_at: string | null;
  removed_by_id: string | null;
  removed_by_name: string | null;
  backfill_cursor: Generated<number>;
  backfilled_at: string | null;
}

export type RoleAssignmentState = 'granted' | 'revoked';

export interface RoleAssignmentsTable {
  id: Generated<number>;
  guild_id: string;
  discord_user_id: string;
  role_id: string;
  customer_id: number | null;
  state: RoleAssignmentState;
  updated_at: string;
}

export type RoleJobAction = 'add' | 'remove';

export type RoleJobStatus = 'pending' | 'waiting_member' | 'done' | 'needs_attention' | 'failed' | 'superseded';

export interface RoleJobsTable {
  id: Generated<number>;
  guild_id: string;
  discord_user_id: string;
  role_id: string;
  action: RoleJobAction;
  customer_id: number | null;
  reason: string;
  status: RoleJobStatus;
  attempts: Generated<number>;
  next_attempt_at: string;
  lease_until: string | null;
  /** The process that holds the lease (its heartbeat lease is `process:<holder>`). */
  lease_holder: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface RoleSweepsTable {
  name: string;
  swept_until: string;
}

export type RoleRuleRow = Selectable<RoleRulesTable>;

export type RoleJobRow = Selectable<RoleJobsTable>;

export interface RoleTables {
  role_rules: RoleRulesTable;
  role_assignments: RoleAssignmentsTable;
  role_jobs: RoleJobsTable;
  role_sweeps: RoleSweepsTable;
}
