import type { Clock } from '../shared/clock.js';
import { createBan } from '../domain/bans/bans.js';
import { listLatestDiscordLinkedCustomers } from '../store/customer.repository.js';
import type { Db } from '../store/database.js';
import { DEMO_STAFF } from './demo-data.js';

/** A few bans of every kind for the sandbox, made through the same code staff use. */
export async function seedDemoBans(db: Db, clock: Clock): Promise<number> {
  const someone = await listLatestDiscordLinkedCustomers(db, 2);
  const bans: Parameters<typeof createBan>[2][] = [
    { type: 'email', target: 'chargeback.king@example.net', duration: 'permanent', reason: 'Three chargebacks in a month', actor: DEMO_STAFF },
    { type: 'ip', target: '203.0.113.0/24', duration: '30d', reason: 'Card testing from this range', actor: DEMO_STAFF },
    { type: 'discord', target: '1234567890123456789', duration: '7d', reason: 'Harassing support staff', actor: DEMO_STAFF },
    { type: 'game_id', target: '76561198000000001', duration: '90d', reason: 'Cheating on the Rust server', actor: DEMO_STAFF },
  ];
  const first = someone[0];
  if (first) bans.push({ type: 'customer', target: String(first.id), duration: 'permanent', reason: 'Fraudulent purchases', actor: DEMO_STAFF });
  for (const ban of bans) await createBan(db, clock, ban);
  return bans.length;
}
