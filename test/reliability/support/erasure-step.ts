import type { ManualClock } from '../../../src/shared/clock.js';
import type { Db } from '../../../src/store/database.js';

/**
 * The product's erasure, when src/domain/privacy/erasure.ts exists (it is loaded lazily so that
 * the model-based test runs without it), as a model step.
 */
export async function erasureStep(): Promise<((db: Db, clock: ManualClock, customerId: number) => Promise<void>) | undefined> {
  let module: { eraseCustomer?: (db: Db, clock: ManualClock, input: { customerId: number; actor: { id: string; name: string } }) => Promise<unknown> };
  try {
    module = await import('../../../src/domain/privacy/erasure.js');
  } catch {
    return undefined;
  }
  const erase = module.eraseCustomer;
  if (!erase) return undefined;
  return async (db, clock, customerId) => {
    await erase(db, clock, { customerId, actor: { id: '5500000000000000900', name: 'staff' } });
  };
}
