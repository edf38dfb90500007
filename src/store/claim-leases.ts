import type { Clock } from '../shared/clock.js';
import type { Db } from './database.js';

/** Queue tables whose pending rows are claimed under a lease recorded with its holder. */
export type LeasedQueue = 'inbound_events' | 'webhook_deliveries';

/**
 * Makes the pending rows of `table` leased by dead processes due at once instead of when their
 * lease runs out. `holders` names the dead processes (null: claims recorded without a holder);
 * without it every lease is released, which is right only when no other bot process can be running.
 */
export async function releaseLeasesOf(db: Db, clock: Clock, table: LeasedQueue, holders?: readonly (string | null)[]): Promise<number> {
  if (holders?.length === 0) return 0;
  const nowIso = clock.now().toISOString();
  const named = holders?.filter((h): h is string => h !== null) ?? [];
  const result = await db
    .updateTable(table as 'inbound_events')
    .set({ lease_until: nowIso, lease_holder: null })
    .where('status', '=', 'pending')
    .where('lease_until', '>', nowIso)
    .$if(holders !== undefined, (qb) =>
      qb.where((eb) => eb.or([...(named.length > 0 ? [eb('lease_holder', 'in', named)] : []), ...(holders?.includes(null) ? [eb('lease_holder', 'is', null)] : [])])),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
