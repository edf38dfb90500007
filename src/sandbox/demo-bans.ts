import type { Clock } from '../shared/clock.js';
import { createBan, liftBan } from '../domain/bans/bans.js';
import { listLatestDiscordLinkedCustomers } from '../store/customer.repository.js';
import type { Db } from '../store/database.js';
import { DEMO_STAFF } from './demo-data.js';

const DAY = 24 * 60 * 60 * 1000;

/**
 * A few bans of every kind and status (active, expired, lifted) for the sandbox, made through
 * the same code staff use; the past ones with a clock set back to when they were made.
 */
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

  const daysAgo = (days: number): Clock => ({ now: () => new Date(clock.now().getTime() - days * DAY) });
  // Ran its course: a week-long ban from three weeks ago.
  await createBan(db, daysAgo(21), { type: 'email', target: 'spam.bot@example.org', duration: '7d', reason: 'Spamming the support inbox', actor: DEMO_STAFF });
  // Lifted on appeal two days after it was made.
  const appealed = await createBan(db, daysAgo(12), { type: 'game_id', target: '76561198000000002', duration: '30d', reason: 'Suspected cheating (report from a player)', actor: DEMO_STAFF });
  await liftBan(db, daysAgo(10), { banId: appealed.id, actor: DEMO_STAFF, reason: 'Appeal accepted: the report was mistaken' });
  return bans.length + 2;
}
