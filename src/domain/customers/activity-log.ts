import type { Db } from '../../store/database.js';
import type { Clock } from '../../shared/clock.js';
import type { ActivityEntry, Actor } from './types.js';

export interface ActivityInput {
  actor: Actor;
  /** Dotted verb, e.g. `ban.create`, `ban.lift`, `note.add`, `export.run`, `customer.erase`. */
  action: string;
  targetType: string;
  targetId?: string | number | null;
  /** Never personal data beyond ids: the log outlives erasure. */
  details?: Record<string, unknown>;
}

export const SYSTEM_ACTOR: Actor = { id: 'system', name: 'system' };

/** Appends one entry to the append-only activity log (inside the caller's transaction if given one). */
export async function recordActivity(db: Db, clock: Clock, input: ActivityInput): Promise<void> {
  await db
    .insertInto('activity_log')
    .values({
      actor_id: input.actor.id,
      actor_name: input.actor.name,
      action: input.action,
      target_type: input.targetType,
      target_id: input.targetId == null ? null : String(input.targetId),
      details: JSON.stringify(input.details ?? {}),
      created_at: clock.now().toISOString(),
    })
    .execute();
}

export async function listActivity(
  db: Db,
  filter: { targetType?: string; targetId?: string | number; action?: string; limit?: number } = {},
): Promise<ActivityEntry[]> {
  let query = db.selectFrom('activity_log').selectAll().orderBy('id', 'desc').limit(filter.limit ?? 50);
  if (filter.targetType) query = query.where('target_type', '=', filter.targetType);
  if (filter.targetId != null) query = query.where('target_id', '=', String(filter.targetId));
  if (filter.action) query = query.where('action', '=', filter.action);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    actor: { id: r.actor_id, name: r.actor_name },
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    details: JSON.parse(r.details) as Record<string, unknown>,
    createdAt: r.created_at,
  }));
}
