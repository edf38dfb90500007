import { describe, expect, it } from 'vitest';
import { findActiveBansForCustomer } from '../../src/domain/bans/bans.js';
import type { ManualClock } from '../../src/shared/clock.js';
import type { Db } from '../../src/store/database.js';
import { startSandboxSession } from '../support/sandbox-session.js';

const VIP_PRODUCT_ID = 1;
/** The sandbox seats this many linked customers in its guild. */
const GUILD_MEMBERS = 50;

/** A guild member who never bought VIP and is not banned (the bot withholds a banned buyer's roles). */
async function memberWithoutVip(db: Db, clock: ManualClock): Promise<{ email: string; discordId: string }> {
  const members = await db
    .selectFrom('customers')
    .select(['id', 'email', 'discord_id'])
    .where('discord_id', 'is not', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('orders')
              .innerJoin('order_items', 'order_items.order_id', 'orders.id')
              .select('orders.id')
              .whereRef('orders.customer_id', '=', 'customers.id')
              .where('order_items.product_id', '=', VIP_PRODUCT_ID),
        ),
      ),
    )
    .orderBy('id')
    .execute();
  const linked = await db.selectFrom('customers').select('id').where('discord_id', 'is not', null).orderBy('id').limit(GUILD_MEMBERS).execute();
  const seated = new Set(linked.map((r) => r.id));
  for (const member of members) {
    if (seated.has(member.id) && (await findActiveBansForCustomer(db, clock, member.id)).length === 0) {
      return { email: member.email, discordId: member.discord_id ?? '' };
    }
  }
  throw new Error('the demo data has no unbanned guild member without VIP');
}

describe("the sandbox's store side", () => {
  it('grants the demo VIP role for a purchase typed at the prompt and takes it back on a refund', async () => {
    const sandbox = await startSandboxSession();
    const { db, clock, waitFor } = sandbox;
    expect(sandbox.transcript()).toMatch(/STORE_WEBHOOK_SECRET is not set: purchase events are signed for this session only with whsec_\S+/);

    const buyer = await memberWithoutVip(db, clock);
    sandbox.type(`store purchase ${buyer.email} VIP Rank`);
    await waitFor(`Discord: <@${buyer.discordId}> was given VIP.`);
    expect(sandbox.transcript()).toContain('HTTP 200 {"received":true}');
    const order = /order\.completed evt_\w+: order (ORD-\d+)/.exec(sandbox.transcript())?.[1];
    expect(order).toBeDefined();

    sandbox.type(`store refund ${order}`);
    await waitFor(`Discord: VIP taken from <@${buyer.discordId}>.`);
    await sandbox.exit();
    await sandbox.close();
  }, 60_000);
});
