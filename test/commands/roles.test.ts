import { afterEach, describe, expect, it } from 'vitest';
import { createDiscordRoleGateway } from '../../src/discord/role-gateway.js';
import { reportRefusedRoleRules } from '../../src/discord/role-rule-check.js';
import { listActivity } from '../../src/domain/customers/activity-log.js';
import { addRoleRule, listRoleRules } from '../../src/domain/roles/rules.js';
import { reconcileCustomerRoles } from '../../src/domain/roles/sync.js';
import { processRoleJobs, startRoleQueueWorker } from '../../src/jobs/role-queue.js';
import type { Worker } from '../../src/jobs/worker.js';
import type { LocalMessage } from '../../src/sandbox/local-discord/index.js';
import { insertCustomer } from '../../src/domain/customers/registration.js';
import { upsertOrder } from '../../src/store/order.repository.js';
import { ADMIN_ID, CHANNEL_ID, GUILD_ID, LINKED_MEMBER_ID, MODERATOR_ID, OUTSIDER_ID, STAFF_ID, buttonByLabel, embedFields, type Harness } from '../support/bot-harness.js';
import { useTestContext } from '../support/context.js';
import { seedSmallStore, type SmallStore } from '../support/fixtures.js';

const VIP = '2200000000000000020';
const LEGEND = '2200000000000000021';
const MODS = '2200000000000000022';
const ADMINISTRATOR = String(1n << 3n);
const MANAGE_GUILD_AND_BAN = String((1n << 5n) | (1n << 2n));
const ADMIN = { id: ADMIN_ID, name: 'Ada Admin' };

let h: Harness;
let store: SmallStore;
let worker: Worker | undefined;

const roles = [
  { id: VIP, name: 'VIP', position: 1 },
  { id: LEGEND, name: 'Legend', position: 9 },
  { id: MODS, name: 'Moderators', position: 4, permissions: MANAGE_GUILD_AND_BAN },
];

useTestContext({ discord: { roles } }, async (context) => {
  h = context;
  // Seeded roles sit below the bot's own; Legend is then dragged above it, out of the bot's reach.
  h.discord.updateRole(GUILD_ID, LEGEND, { position: 20 });
  await expect.poll(() => h.client.guilds.cache.get(GUILD_ID)?.roles.cache.get(LEGEND)?.rawPosition).toBe(20);
  // The fixtures' completed orders are for product 5 ("VIP Rank"): Alice (linked) bought it.
  store = await seedSmallStore(h.db, h.clock);
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

function startRoleWorker(): void {
  const running = startRoleQueueWorker({ db: h.db, clock: h.clock, gateway: createDiscordRoleGateway(h.client), logger: h.deps.logger, intervalMs: 60_000 });
  worker = running;
  h.deps.wakeRoleWorker = () => running.wake();
}

async function roleRule(subcommand: 'add' | 'remove' | 'list', options: Record<string, string | number | boolean> = {}, userId = ADMIN_ID) {
  const handle = await h.discord.invokeSlash({ guildId: GUILD_ID, channelId: CHANNEL_ID, userId, name: 'customer', subcommandGroup: 'role-rule', subcommand, options });
  return { handle, message: (await handle.settled()) as LocalMessage };
}

async function grantAliceVip(): Promise<void> {
  await addRoleRule(h.db, h.clock, { productId: 5, roleId: VIP, guildId: GUILD_ID, actor: ADMIN });
  await reconcileCustomerRoles(h.db, h.clock, store.alice.id, { eventType: 'order.completed' });
  await processRoleJobs(h.db, h.clock, createDiscordRoleGateway(h.client));
  expect(h.discord.memberRoles(GUILD_ID, LINKED_MEMBER_ID)).toEqual([VIP]);
}

describe('/customer roles', () => {
  it('shows the expected roles, what the member holds in Discord, and the queue', async () => {
    await addRoleRule(h.db, h.clock, { productId: 5, roleId: VIP, guildId: GUILD_ID, actor: ADMIN });
    await reconcileCustomerRoles(h.db, h.clock, store.alice.id, { eventType: 'order.completed' });
    const { handle, message } = await h.customer('roles', { customer: `id:${store.alice.id}` });
    expect(handle.ephemeral).toBe(true);
    expect(message.embeds[0]!.title).toBe('Roles · Alice Johnson');
    const f = embedFields(message);
    expect(f['Expected roles (1)']).toContain('@VIP');
    expect(f['Expected roles (1)']).toContain('ORD-2026-');
    expect(f['In Discord now']).toBe('No roles');
    expect(f['Differences']).toBe('Missing: @VIP');
    expect(f['Queued changes (1)']).toContain('➕ @VIP · queued');
    expect(buttonByLabel(message, 'Re-sync').customId).toBe(`r:sync:${store.alice.id}`);
  });

  it('says when the linked member is not in the server', async () => {
    const bob = await insertCustomer(h.db, h.clock, { name: 'Away Buyer', email: 'away@example.com', discord: { id: '2200000000000000999' } });
    const { message } = await h.customer('roles', { customer: `id:${bob.id}` });
    expect(message.embeds[0]!.description).toContain('not in the server');
    expect(embedFields(message)['In Discord now']).toBe('Not in the server');
  });

  it('shows why a queued change is stuck', async () => {
    await addRoleRule(h.db, h.clock, { productId: 5, roleId: LEGEND, guildId: GUILD_ID, actor: ADMIN });
    await reconcileCustomerRoles(h.db, h.clock, store.alice.id);
    await processRoleJobs(h.db, h.clock, createDiscordRoleGateway(h.client));
    const { message } = await h.customer('roles', { customer: `id:${store.alice.id}` });
    const f = embedFields(message);
    expect(f['Queued changes (1)']).toContain('needs attention');
    expect(f['Queued changes (1)']).toContain("The bot's role must be above @Legend");
    expect(f['⚠️ The bot cannot manage these roles']).toContain('above @Legend');
  });

  it('re-syncs a role removed by hand: the button queues it, wakes the worker and the member has it again', async () => {
    await grantAliceVip();
    h.discord.setMemberRoles(GUILD_ID, LINKED_MEMBER_ID, []);
    startRoleWorker();

    const { handle, message } = await h.customer('roles', { customer: `id:${store.alice.id}` });
    expect(embedFields(message)['Differences']).toBe('Missing: @VIP');
    const click = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Re-sync').customId, userId: STAFF_ID });
    const refreshed = (await click.settled()) as LocalMessage;
    expect(refreshed.content).toContain('Re-synced: 1 change queued');
    await expect.poll(() => h.discord.memberRoles(GUILD_ID, LINKED_MEMBER_ID)).toEqual([VIP]);

    const again = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Refresh').customId, userId: STAFF_ID });
    const view = (await again.settled()) as LocalMessage;
    expect(embedFields(view)['In Discord now']).toBe('@VIP');
    expect(embedFields(view)['Differences']).toBeUndefined();
    expect(h.discord.auditLog.filter((e) => e.action === 'member_role_add')).toHaveLength(2);
    expect((await listActivity(h.db, { action: 'role.resync' }))[0]).toMatchObject({ actor: { id: STAFF_ID }, targetId: String(store.alice.id) });
  });

  it('grants nothing twice when Re-sync is pressed on a member who has every role', async () => {
    await grantAliceVip();
    const { handle, message } = await h.customer('roles', { customer: `id:${store.alice.id}` });
    for (let i = 0; i < 2; i++) {
      const click = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Re-sync').customId, userId: STAFF_ID });
      expect(((await click.settled()) as LocalMessage).content).toContain('nothing to change');
    }
    await processRoleJobs(h.db, h.clock, createDiscordRoleGateway(h.client));
    expect(h.discord.requests.filter((r) => r.method === 'PUT' && r.path.includes('/roles/'))).toHaveLength(1);
  });

  it('suggests customers as the other commands do', async () => {
    const choices = await h.discord.autocomplete({ userId: STAFF_ID, name: 'customer', subcommand: 'roles', options: { customer: 'alice' }, focused: 'customer' });
    expect(choices.map((c) => c.name).join(' ')).toContain('Alice Johnson');
  });
});

describe('the role queue', () => {
  it('never gives a role that gained dangerous permissions after its rule was made, and tells staff why', async () => {
    await addRoleRule(h.db, h.clock, { productId: 5, roleId: VIP, guildId: GUILD_ID, actor: ADMIN });
    h.discord.updateRole(GUILD_ID, VIP, { permissions: ADMINISTRATOR });
    await expect.poll(() => h.client.guilds.cache.get(GUILD_ID)?.roles.cache.get(VIP)?.permissions.bitfield).toBe(1n << 3n);
    await reconcileCustomerRoles(h.db, h.clock, store.alice.id, { eventType: 'order.completed' });
    await processRoleJobs(h.db, h.clock, createDiscordRoleGateway(h.client));

    expect(h.discord.memberRoles(GUILD_ID, LINKED_MEMBER_ID)).toEqual([]);
    expect(h.discord.requests.filter((r) => r.method === 'PUT' && r.path.includes('/roles/'))).toEqual([]);
    const { message } = await h.customer('roles', { customer: `id:${store.alice.id}` });
    expect(embedFields(message)['Queued changes (1)']).toContain('needs attention');
    expect(embedFields(message)['Queued changes (1)']).toContain('@VIP carries Administrator');
    const alerts = await h.db.selectFrom('staff_alerts').select('message').execute();
    expect(alerts.map((a) => a.message).join('\n')).toContain('@VIP carries Administrator');
  });

  it('still takes such a role back', async () => {
    await grantAliceVip();
    h.discord.updateRole(GUILD_ID, VIP, { permissions: ADMINISTRATOR });
    await expect.poll(() => h.client.guilds.cache.get(GUILD_ID)?.roles.cache.get(VIP)?.permissions.bitfield).toBe(1n << 3n);
    await h.db.updateTable('orders').set({ status: 'refunded' }).where('customer_id', '=', store.alice.id).execute();
    await reconcileCustomerRoles(h.db, h.clock, store.alice.id, { eventType: 'order.refunded' });
    await processRoleJobs(h.db, h.clock, createDiscordRoleGateway(h.client));
    expect(h.discord.memberRoles(GUILD_ID, LINKED_MEMBER_ID)).toEqual([]);
  });
});

describe('/customer role-rule', () => {
  it('lets an admin add, list and remove a rule, each written to the activity log', async () => {
    const added = await roleRule('add', { product_id: 5, role: VIP, revoke_on_refund: false, grace_hours: 24 });
    expect(added.message.embeds[0]!.title).toMatch(/^Rule #\d+ added$/);
    expect(added.message.embeds[0]!.description).toContain('product #5 (VIP Rank) gives @VIP');
    expect(added.message.embeds[0]!.description).toContain('taken back on chargeback, subscription end (failed payments keep it 24 h)');
    const [rule] = await listRoleRules(h.db);
    expect(rule).toMatchObject({ productId: 5, roleId: VIP, guildId: GUILD_ID, revokeOnRefund: false, gracePeriodHours: 24, createdBy: { id: ADMIN_ID } });

    const list = await roleRule('list');
    expect(list.message.embeds[0]!.title).toBe('Role rules (1)');
    expect(list.message.embeds[0]!.description).toContain(`#${rule!.id}`);
    expect(list.message.embeds[0]!.description).toContain('@VIP');

    const removed = await roleRule('remove', { id: rule!.id });
    expect(removed.message.content).toContain(`Rule #${rule!.id} removed`);
    expect(removed.message.content).toContain('No member holds @VIP because of it');
    expect(removed.message.components).toEqual([]);
    expect(await listRoleRules(h.db)).toEqual([]);
    expect((await listActivity(h.db, { targetType: 'role_rule' })).map((e) => e.action)).toEqual(['role_rule.remove', 'role_rule.add']);
  });

  it('refuses a role at or above the bot’s own highest role, saying how to fix it', async () => {
    const { message } = await roleRule('add', { product_id: 6, role: LEGEND });
    expect(message.content).toContain('@Legend is at or above the bot’s own highest role');
    expect(message.embeds).toEqual([]);
    expect(await listRoleRules(h.db)).toEqual([]);
  });

  it('refuses a role that carries dangerous permissions, naming each one', async () => {
    const { message } = await roleRule('add', { product_id: 5, role: MODS });
    expect(message.content).toContain('@Moderators carries Ban Members and Manage Server');
    expect(message.content).not.toContain('ref ');
    expect(await listRoleRules(h.db)).toEqual([]);
    expect(await listActivity(h.db, { targetType: 'role_rule' })).toEqual([]);
  });

  it('refuses a role with Administrator even when nothing else is set', async () => {
    h.discord.updateRole(GUILD_ID, VIP, { permissions: ADMINISTRATOR });
    await expect.poll(() => h.client.guilds.cache.get(GUILD_ID)?.roles.cache.get(VIP)?.permissions.bitfield).toBe(1n << 3n);
    const { message } = await roleRule('add', { product_id: 5, role: VIP });
    expect(message.content).toContain('@VIP carries Administrator');
    expect(await listRoleRules(h.db)).toEqual([]);
  });

  it('marks, in the list, a rule from the rules file whose role the bot refuses to give, and why', async () => {
    // The rules file is read before the bot connects, so such a rule can only be stored unchecked.
    await addRoleRule(h.db, h.clock, { productId: 5, roleId: MODS, guildId: GUILD_ID, actor: ADMIN });
    await addRoleRule(h.db, h.clock, { productId: 6, roleId: LEGEND, guildId: GUILD_ID, actor: ADMIN });
    await addRoleRule(h.db, h.clock, { productId: 7, roleId: VIP, guildId: GUILD_ID, actor: ADMIN });
    const lines = (await roleRule('list')).message.embeds[0]!.description!.split('\n');
    expect(lines[0]).toContain('@Moderators · ⚠️ **never given**: it carries Ban Members and Manage Server');
    expect(lines[1]).toContain('@Legend · ⚠️ **not given yet**: it is at or above the bot’s own highest role');
    expect(lines[2]).not.toContain('⚠️');
  });

  it('once connected, logs one line and tells staff once about each stored rule whose role it refuses', async () => {
    await addRoleRule(h.db, h.clock, { productId: 5, roleId: MODS, guildId: GUILD_ID, actor: ADMIN });
    await addRoleRule(h.db, h.clock, { productId: 7, roleId: VIP, guildId: GUILD_ID, actor: ADMIN });
    const before = h.logs.length;
    expect(await reportRefusedRoleRules(h.deps, h.client)).toBe(1);
    expect(await reportRefusedRoleRules(h.deps, h.client)).toBe(1);
    const lines = h.logs.slice(before).map((l) => String(l.msg));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^role rule #1 is not applied: @Moderators carries Ban Members and Manage Server/);
    const alerts = await h.db.selectFrom('staff_alerts').select('message').execute();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain('Role rule #1 (product #5) is not applied');
  });

  it('refuses a duplicate rule and an unknown rule id with a clear message', async () => {
    await roleRule('add', { product_id: 5, role: VIP });
    expect((await roleRule('add', { product_id: 5, role: VIP })).message.content).toContain('already grants that role');
    expect((await roleRule('remove', { id: 999 })).message.content).toContain('There is no rule #999');
  });

  it('is for admins only', async () => {
    const { message } = await roleRule('add', { product_id: 5, role: VIP }, STAFF_ID);
    expect(message.content).toContain('Only store admins');
    expect(await listRoleRules(h.db)).toEqual([]);
    expect((await roleRule('list', {}, STAFF_ID)).message.content).toContain('Only store admins');
  });
});

describe('removing a role rule', () => {
  /**
   * Alice holds VIP through product 5 only; Bob through product 5 and, when `secondRule`, product 7
   * too; a visitor got VIP by hand.
   */
  async function twoBuyersWithVip(secondRule = true): Promise<{ ruleFor5: number }> {
    await h.db.updateTable('customers').set({ discord_id: MODERATOR_ID }).where('id', '=', store.bob.id).execute();
    await upsertOrder(h.db, h.clock, {
      id: 7001,
      orderNumber: 'ORD-2026-07001',
      customerId: store.bob.id,
      status: 'completed',
      totalCents: 500,
      currency: 'USD',
      createdAt: '2026-11-01T12:00:00.000Z',
      completedAt: '2026-11-01T12:00:00.000Z',
      items: [{ productId: 7, productName: 'Legacy VIP', quantity: 1, priceCents: 500 }],
    });
    const rule = await addRoleRule(h.db, h.clock, { productId: 5, roleId: VIP, guildId: GUILD_ID, actor: ADMIN });
    if (secondRule) await addRoleRule(h.db, h.clock, { productId: 7, roleId: VIP, guildId: GUILD_ID, actor: ADMIN });
    for (const customer of [store.alice, store.bob]) await reconcileCustomerRoles(h.db, h.clock, customer.id, { eventType: 'order.completed' });
    await processRoleJobs(h.db, h.clock, createDiscordRoleGateway(h.client));
    h.discord.setMemberRoles(GUILD_ID, OUTSIDER_ID, [VIP]);
    expect([LINKED_MEMBER_ID, MODERATOR_ID, OUTSIDER_ID].map((id) => h.discord.memberRoles(GUILD_ID, id))).toEqual([[VIP], [VIP], [VIP]]);
    return { ruleFor5: rule.id };
  }

  it('offers to take the role back from the members who hold it because of that rule alone, and confirming does it through the queue', async () => {
    const { ruleFor5 } = await twoBuyersWithVip();
    startRoleWorker();
    const { handle, message } = await roleRule('remove', { id: ruleFor5 });
    expect(message.content).toContain(`Rule #${ruleFor5} removed`);
    expect(message.content).toContain('1 member holds @VIP because of this rule alone');
    expect(message.content).toContain(`Rule #${ruleFor5 + 1} also gives @VIP, so they lose it at their next role sync either way`);
    const take = buttonByLabel(message, 'Take @VIP back from 1 member');

    const click = await h.discord.clickButton({ message: handle.original()!, customId: take.customId, userId: ADMIN_ID });
    const done = (await click.settled()) as LocalMessage;
    expect(done.content).toContain('1 removal queued');
    expect(done.components).toEqual([]);
    await expect.poll(() => h.discord.memberRoles(GUILD_ID, LINKED_MEMBER_ID)).toEqual([]);
    expect(h.discord.memberRoles(GUILD_ID, MODERATOR_ID)).toEqual([VIP]);
    expect(h.discord.memberRoles(GUILD_ID, OUTSIDER_ID)).toEqual([VIP]);
    const removal = h.discord.auditLog.find((e) => e.action === 'member_role_remove');
    expect(removal?.reason).toContain('rule that gave this role was removed');
    expect((await listActivity(h.db, { targetType: 'role_rule' }))[0]).toMatchObject({ action: 'role_rule.take_back', actor: { id: ADMIN_ID } });
  });

  it('leaves the role with its holders when staff choose so, and later syncs leave it alone too', async () => {
    const { ruleFor5 } = await twoBuyersWithVip(false);
    const { handle, message } = await roleRule('remove', { id: ruleFor5 });
    expect(message.content).toContain('2 members hold @VIP because of this rule alone');
    expect(message.content).toContain('They keep it unless you do');
    const keep = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Let them keep it').customId, userId: ADMIN_ID });
    expect(((await keep.settled()) as LocalMessage).content).toContain('keep @VIP');
    for (const customer of [store.alice, store.bob]) await reconcileCustomerRoles(h.db, h.clock, customer.id, { eventType: 'staff.resync' });
    await processRoleJobs(h.db, h.clock, createDiscordRoleGateway(h.client));
    expect([LINKED_MEMBER_ID, MODERATOR_ID].map((id) => h.discord.memberRoles(GUILD_ID, id))).toEqual([[VIP], [VIP]]);
  });

  it('offers again when the rule is removed a second time, after the first offer expired', async () => {
    const { ruleFor5 } = await twoBuyersWithVip(false);
    await roleRule('remove', { id: ruleFor5 });
    const { handle, message } = await roleRule('remove', { id: ruleFor5 });
    expect(message.content).toContain(`Rule #${ruleFor5} was removed already. 2 members hold @VIP`);
    const click = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Take @VIP back from 2 members').customId, userId: ADMIN_ID });
    expect(((await click.settled()) as LocalMessage).content).toContain('2 removals queued');
    await processRoleJobs(h.db, h.clock, createDiscordRoleGateway(h.client));
    expect([LINKED_MEMBER_ID, MODERATOR_ID, OUTSIDER_ID].map((id) => h.discord.memberRoles(GUILD_ID, id))).toEqual([[], [], [VIP]]);
    const again = await roleRule('remove', { id: ruleFor5 });
    expect(again.message.content).toContain('No member holds @VIP because of it');
  });

  it('keeps the offer’s button within Discord’s 80-character label for a role with a long name', async () => {
    const { ruleFor5 } = await twoBuyersWithVip(false);
    const name = `Founders ${'★'.repeat(91)}`;
    h.discord.updateRole(GUILD_ID, VIP, { name });
    await expect.poll(() => h.client.guilds.cache.get(GUILD_ID)?.roles.cache.get(VIP)?.name).toBe(name);
    const { handle, message } = await roleRule('remove', { id: ruleFor5 });
    const take = buttonByLabel(message, /^Take @Founders/);
    expect([...take.label].length).toBeLessThanOrEqual(80);
    expect(take.label).toMatch(/back from 2 members$/);
    const click = await h.discord.clickButton({ message: handle.original()!, customId: take.customId, userId: ADMIN_ID });
    expect(((await click.settled()) as LocalMessage).content).toContain('2 removals queued');
  });

  it('takes nothing back when the rule was added again before the offer was confirmed', async () => {
    const { ruleFor5 } = await twoBuyersWithVip(false);
    const { handle, message } = await roleRule('remove', { id: ruleFor5 });
    await addRoleRule(h.db, h.clock, { productId: 5, roleId: VIP, guildId: GUILD_ID, actor: ADMIN });
    const click = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, /^Take @VIP back/).customId, userId: ADMIN_ID });
    expect(((await click.settled()) as LocalMessage).content).toContain(`Rule #${ruleFor5} was added again, so nothing was taken back`);
    await processRoleJobs(h.db, h.clock, createDiscordRoleGateway(h.client));
    expect([LINKED_MEMBER_ID, MODERATOR_ID].map((id) => h.discord.memberRoles(GUILD_ID, id))).toEqual([[VIP], [VIP]]);
  });

  it('takes nothing back when the offer is confirmed by someone else', async () => {
    const { ruleFor5 } = await twoBuyersWithVip();
    const { handle, message } = await roleRule('remove', { id: ruleFor5 });
    const click = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, /^Take @VIP back/).customId, userId: STAFF_ID });
    expect(((await click.settled()) as LocalMessage).content).toContain('Only store admins');
    await processRoleJobs(h.db, h.clock, createDiscordRoleGateway(h.client));
    expect(h.discord.memberRoles(GUILD_ID, LINKED_MEMBER_ID)).toEqual([VIP]);
  });
});
