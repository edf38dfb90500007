import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { completeLink } from '../../src/domain/linking/link-account.js';
import { createLinkUrl, openLinkSession } from '../../src/domain/linking/link-sessions.js';
import { rateLimitFault } from '../../src/sandbox/local-discord/index.js';
import { applyRolesOnLink } from '../../src/services.js';
import { ALERT_CHANNEL_ID, BUYER_IDS, SHOP_GUILD_ID, VIP_ROLE_ID, orderEvent, startShop, type ShopHarness } from '../support/services-harness.js';

let shop: ShopHarness | undefined;
afterEach(async () => {
  await shop?.stop();
  shop = undefined;
});

const [ana, ben, cy] = BUYER_IDS;

describe('a rules file that maps a product to a powerful role', () => {
  const MODS_ROLE_ID = '3300000000000000012';

  it('says so in one log line and one staff alert once connected, and the bot never gives the role', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-file-'));
    try {
      const file = join(dir, 'role-rules.json');
      writeFileSync(file, JSON.stringify({ rules: [{ product_id: 9, role_id: MODS_ROLE_ID }] }));
      shop = await startShop({
        env: { ROLE_RULES_FILE: file },
        roles: [{ id: MODS_ROLE_ID, name: 'Mods', position: 3, permissions: String((1n << 2n) | (1n << 3n)) }],
      });
      await expect.poll(() => shop!.logs.map((l) => String(l.msg)).filter((m) => m.startsWith('role rule #')), { timeout: 10_000 }).toEqual([
        expect.stringMatching(/^role rule #1 is not applied: @Mods carries Ban Members and Administrator/),
      ]);
      await expect
        .poll(() => shop!.discord.channelMessages(ALERT_CHANNEL_ID).map((m) => m.content).join('\n'), { timeout: 10_000 })
        .toContain('Role rule #1 (product #9) is not applied');

      await shop.send(orderEvent('order.paid', { id: 41, email: 'ana@example.com', discordId: ana, productId: 9 }));
      await expect
        .poll(async () => (await shop!.db.selectFrom('role_jobs').select(['status', 'last_error']).execute()), { timeout: 10_000 })
        .toEqual([{ status: 'needs_attention', last_error: expect.stringContaining('@Mods carries Ban Members and Administrator') }]);
      expect(shop.roleCalls(ana, MODS_ROLE_ID)).toEqual([]);
      expect(shop.discord.memberRoles(SHOP_GUILD_ID, ana)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('purchases reach Discord roles end to end', () => {
  it('grants the role once for a signed order.paid, with an audit-log reason', async () => {
    shop = await startShop();
    const paid = await shop.send(orderEvent('order.paid', { id: 1, email: 'ana@example.com', discordId: ana }));
    expect(paid).toEqual({ status: 200, body: JSON.stringify({ received: true }) });
    await expect.poll(() => shop!.discord.memberRoles(SHOP_GUILD_ID, ana), { timeout: 10_000 }).toContain(VIP_ROLE_ID);
    const calls = shop.roleCalls(ana);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'PUT', status: 204 });
    expect(calls[0]!.reason).toMatch(/order/i);
  });

  it('takes the role back on order.refunded and on dispute.created', async () => {
    shop = await startShop();
    await shop.send(orderEvent('order.paid', { id: 2, email: 'ana@example.com', discordId: ana }));
    await shop.send(orderEvent('order.paid', { id: 3, email: 'ben@example.com', discordId: ben }));
    await expect.poll(() => [shop!.discord.memberRoles(SHOP_GUILD_ID, ana), shop!.discord.memberRoles(SHOP_GUILD_ID, ben)], { timeout: 10_000 }).toEqual([[VIP_ROLE_ID], [VIP_ROLE_ID]]);

    await shop.send(orderEvent('order.refunded', { id: 2, email: 'ana@example.com', discordId: ana }));
    await shop.send({ id: 'evt_dispute_3', event_type: 'dispute.created', created_at: new Date().toISOString(), data: { id: 'dp_1', order_id: 3 } });
    await expect.poll(() => [shop!.discord.memberRoles(SHOP_GUILD_ID, ana), shop!.discord.memberRoles(SHOP_GUILD_ID, ben)], { timeout: 10_000 }).toEqual([[], []]);
    expect(shop.roleCalls(ana).map((c) => c.method)).toEqual(['PUT', 'DELETE']);
    expect(shop.roleCalls(ben).map((c) => c.method)).toEqual(['PUT', 'DELETE']);
  });

  it('ends with the right roles after replays, duplicates and a refund that arrives before the payment', async () => {
    shop = await startShop();
    const refundFirst = orderEvent('order.refunded', { id: 4, email: 'cy@example.com', discordId: cy });
    const paidLater = orderEvent('order.paid', { id: 4, email: 'cy@example.com', discordId: cy });
    const paidAna = orderEvent('order.paid', { id: 5, email: 'ana@example.com', discordId: ana });
    for (const event of [refundFirst, paidAna, paidLater, paidAna, refundFirst, paidLater, paidAna]) {
      expect((await shop.send(event)).status).toBe(200);
    }
    await expect.poll(() => shop!.discord.memberRoles(SHOP_GUILD_ID, ana), { timeout: 10_000 }).toEqual([VIP_ROLE_ID]);
    const processed = async () => (await shop!.db.selectFrom('inbound_events').select('status').execute()).map((r) => r.status);
    await expect.poll(processed, { timeout: 10_000 }).toEqual(['processed', 'processed', 'processed']);
    expect(shop.discord.memberRoles(SHOP_GUILD_ID, cy)).toEqual([]);
    expect(shop.roleCalls(cy)).toEqual([]);
    expect(shop.roleCalls(ana).map((c) => c.method)).toEqual(['PUT']);
    const order = await shop.db.selectFrom('orders').select('status').where('id', '=', 4).executeTakeFirstOrThrow();
    expect(order.status).toBe('refunded');
  });

  it('waits out a 429 from Discord and still grants the role once', async () => {
    shop = await startShop();
    shop.discord.injectFault(rateLimitFault('/guilds/:guildId/members/:userId/roles/:roleId', { retryAfterMs: 300, method: 'PUT' }));
    await shop.send(orderEvent('order.paid', { id: 6, email: 'ana@example.com', discordId: ana }));
    await expect.poll(() => shop!.discord.memberRoles(SHOP_GUILD_ID, ana), { timeout: 10_000 }).toContain(VIP_ROLE_ID);
    expect(shop.roleCalls(ana).map((c) => c.status)).toEqual([429, 204]);
  });

  it('grants a buyer who joins the guild after paying, when they join', async () => {
    const late = '3300000000000000150';
    shop = await startShop();
    await shop.send(orderEvent('order.paid', { id: 7, email: 'late@example.com', discordId: late }));
    await expect.poll(async () => (await shop!.db.selectFrom('role_jobs').select('status').execute()).map((r) => r.status), { timeout: 10_000 }).toEqual(['waiting_member']);
    shop.discord.addMember(SHOP_GUILD_ID, { user: { id: late, username: 'late' }, roles: [] });
    await expect.poll(() => shop!.discord.memberRoles(SHOP_GUILD_ID, late), { timeout: 10_000 }).toContain(VIP_ROLE_ID);
  });

  it('records a purchase by a banned customer but grants nothing, and tells staff', async () => {
    shop = await startShop();
    const { createBan } = await import('../../src/domain/bans/bans.js');
    await createBan(shop.db, shop.clock, { type: 'discord', target: ana, duration: 'permanent', reason: 'fraud', actor: { id: '1', name: 'mod' } });
    await shop.send(orderEvent('order.paid', { id: 8, email: 'ana@example.com', discordId: ana }));
    await expect.poll(() => shop!.discord.channelMessages('3300000000000000003').map((m) => m.content).join('\n'), { timeout: 10_000 }).toMatch(/banned/i);
    const order = await shop.db.selectFrom('orders').select(['status', 'total_cents']).where('id', '=', 8).executeTakeFirstOrThrow();
    expect(order).toEqual({ status: 'paid', total_cents: 2999 });
    expect(shop.roleCalls(ana)).toEqual([]);
  });
});

describe('linking Discord after buying', () => {
  it('applies past purchases to the newly linked account, and takes them from a replaced one', async () => {
    shop = await startShop();
    const secret = 'link-secret-0123456789abcdef-0123456789abcdef';
    // Bought before linking anything: no Discord id to give a role to yet.
    await shop.send(orderEvent('order.paid', { id: 21, email: 'dana@example.com' }));
    await expect.poll(async () => (await shop!.db.selectFrom('inbound_events').select('status').execute())[0]?.status, { timeout: 10_000 }).toBe('processed');
    const customer = await shop.db.selectFrom('customers').select('id').where('email_lower', '=', 'dana@example.com').executeTakeFirstOrThrow();
    expect(await shop.db.selectFrom('role_jobs').selectAll().execute()).toEqual([]);

    const link = async (discordId: string) => {
      const { url } = await createLinkUrl(shop!.db, shop!.clock, { customerId: customer.id, publicUrl: 'http://localhost', appSecret: secret });
      const opened = await openLinkSession(shop!.db, shop!.clock, secret, url.split('/').pop()!);
      if (opened.status !== 'usable') throw new Error(`link session ${opened.status}`);
      await completeLink(shop!.db, shop!.clock, {
        sessionId: opened.session.id,
        customerId: customer.id,
        provider: 'discord',
        account: { id: discordId, username: 'dana', avatar: null },
        ip: null,
        onCustomerLinked: applyRolesOnLink(shop!.clock, () => shop!.services.workers.roles.wake()),
      });
    };
    await link(ben);
    await expect.poll(() => shop!.discord.memberRoles(SHOP_GUILD_ID, ben), { timeout: 10_000 }).toEqual([VIP_ROLE_ID]);
    // She links another Discord account: the role follows her, and leaves the old account.
    await link(cy);
    await expect
      .poll(() => [shop!.discord.memberRoles(SHOP_GUILD_ID, ben), shop!.discord.memberRoles(SHOP_GUILD_ID, cy)], { timeout: 10_000 })
      .toEqual([[], [VIP_ROLE_ID]]);
  });
});
