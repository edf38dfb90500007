import { PermissionFlagsBits } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { createDiscordRoleGateway } from '../../src/discord/role-gateway.js';
import { sendPendingStaffAlerts } from '../../src/jobs/staff-alerts.js';
import { addRoleRule } from '../../src/domain/roles/rules.js';
import { reconcileCustomerRoles } from '../../src/domain/roles/sync.js';
import type { Customer } from '../../src/domain/customers/types.js';
import { processRoleJobs, startRoleQueueWorker } from '../../src/jobs/role-queue.js';
import type { RoleGateway } from '../../src/domain/roles/ports.js';
import { missingPermissionsFault, rateLimitFault, serverErrorFault } from '../../src/sandbox/local-discord/index.js';
import { insertCustomer } from '../../src/domain/customers/registration.js';
import { upsertOrder } from '../../src/store/order.repository.js';
import { ADMIN_ID, CHANNEL_ID, GUILD_ID, LINKED_MEMBER_ID, STAFF_ID, type Harness } from '../support/bot-harness.js';
import { useTestContext } from '../support/context.js';

const VIP = '2200000000000000020';
const ROLE_ROUTE = '/guilds/:guildId/members/:userId/roles/:roleId';
const NEWCOMER_ID = '2200000000000000300';
const ADMIN = { id: ADMIN_ID, name: 'Ada Admin' };

let h: Harness;
let gateway: RoleGateway;
let nextOrder = 1;

useTestContext({ discord: { roles: [{ id: VIP, name: 'VIP', position: 1 }], env: { ALERT_CHANNEL_ID: CHANNEL_ID } } }, async (context) => {
  h = context;
  gateway = createDiscordRoleGateway(h.client);
  await addRoleRule(h.db, h.clock, { productId: 5, roleId: VIP, guildId: GUILD_ID, actor: ADMIN });
});

async function customerBuying(discordId: string, name = `Buyer ${discordId.slice(-3)}`): Promise<{ customer: Customer; orderNumber: string }> {
  const customer = await insertCustomer(h.db, h.clock, { name, email: `${discordId}@example.com`, discord: { id: discordId } });
  const id = nextOrder++;
  const order = await upsertOrder(h.db, h.clock, {
    id,
    orderNumber: `ORD-2026-${String(id).padStart(5, '0')}`,
    customerId: customer.id,
    status: 'completed',
    totalCents: 2999,
    currency: 'USD',
    createdAt: h.clock.now().toISOString(),
    items: [{ productId: 5, productName: 'VIP Rank', quantity: 1, priceCents: 2999 }],
  });
  await reconcileCustomerRoles(h.db, h.clock, customer.id, { eventType: 'order.completed', orderId: order.id });
  return { customer, orderNumber: order.orderNumber };
}

const roleRequests = () => h.discord.requests.filter((r) => r.route === `PUT ${ROLE_ROUTE}` || r.route === `DELETE ${ROLE_ROUTE}` || /\/roles\//.test(r.path));
const jobStatuses = async () => (await h.db.selectFrom('role_jobs').select('status').orderBy('id').execute()).map((j) => j.status);
const runJobs = () => processRoleJobs(h.db, h.clock, gateway, { limit: 10 });
const postAlerts = () => sendPendingStaffAlerts(h.db, h.clock, h.client, h.config.alertChannelId, h.deps.logger);
const alertMessages = () => h.discord.channelMessages(CHANNEL_ID).map((m) => m.content);

describe('the Discord role gateway', () => {
  it('grants a role with a PUT carrying the audit-log reason', async () => {
    const { orderNumber } = await customerBuying(LINKED_MEMBER_ID);
    expect(await runJobs()).toBe(1);
    const [put] = roleRequests();
    expect(put).toMatchObject({ method: 'PUT', path: `/guilds/${GUILD_ID}/members/${LINKED_MEMBER_ID}/roles/${VIP}`, status: 204 });
    expect(put!.auditLogReason).toContain(orderNumber);
    expect(h.discord.memberRoles(GUILD_ID, LINKED_MEMBER_ID)).toEqual([VIP]);
    expect(h.discord.auditLog).toMatchObject([{ action: 'member_role_add', targetId: LINKED_MEMBER_ID, roleId: VIP, reason: put!.auditLogReason }]);
    expect(await jobStatuses()).toEqual(['done']);
  });

  it('counts removing a role the member does not have as done', async () => {
    expect(await gateway.removeRole(GUILD_ID, LINKED_MEMBER_ID, VIP, 'refund')).toEqual({ ok: true });
    expect(roleRequests().map((r) => [r.method, r.status])).toEqual([['DELETE', 204]]);
  });

  it('waits for a buyer who is not in the server and grants the role when they join', async () => {
    await customerBuying(NEWCOMER_ID);
    await runJobs();
    expect(await jobStatuses()).toEqual(['waiting_member']);
    expect(roleRequests().map((r) => r.status)).toEqual([404]);

    const worker = startRoleQueueWorker({ db: h.db, clock: h.clock, gateway, logger: h.deps.logger, intervalMs: 60_000 });
    h.deps.wakeRoleWorker = () => worker.wake();
    try {
      h.discord.addMember(GUILD_ID, { user: { id: NEWCOMER_ID, username: 'newcomer' }, roles: [] });
      await expect.poll(() => h.discord.memberRoles(GUILD_ID, NEWCOMER_ID)).toEqual([VIP]);
      await expect.poll(jobStatuses).toEqual(['done']);
    } finally {
      await worker.stop();
    }
  });

  it('asks no request of Discord for a role above the bot, and tells staff once, clearly', async () => {
    h.discord.updateRole(GUILD_ID, VIP, { position: 10 });
    await expect.poll(() => h.client.guilds.cache.get(GUILD_ID)?.roles.cache.get(VIP)?.rawPosition).toBe(10);
    await customerBuying(LINKED_MEMBER_ID);
    await customerBuying(STAFF_ID);
    await runJobs();
    expect(await jobStatuses()).toEqual(['needs_attention', 'needs_attention']);
    expect(roleRequests()).toEqual([]);

    expect(await postAlerts()).toBe(1);
    const alerts = alertMessages();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toContain("The bot's role must be above @VIP in Server Settings → Roles");
    expect(await postAlerts()).toBe(0);
  });

  it('turns a 50013 from Discord into one actionable alert', async () => {
    h.discord.injectFault(missingPermissionsFault(ROLE_ROUTE, { method: 'PUT', times: 2 }));
    await customerBuying(LINKED_MEMBER_ID);
    await customerBuying(STAFF_ID);
    await runJobs();
    expect(await jobStatuses()).toEqual(['needs_attention', 'needs_attention']);
    await postAlerts();
    const alerts = alertMessages();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toContain('Missing Permissions');
    expect(alerts[0]).toContain('give the bot Manage Roles');
    expect(alerts[0]).toContain('above @VIP');
  });

  it('tells staff to give the bot Manage Roles when its role lacks it, without asking Discord', async () => {
    const withoutManageRoles = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages;
    h.discord.setBotPermissions(GUILD_ID, withoutManageRoles);
    await expect.poll(() => h.client.guilds.cache.get(GUILD_ID)?.members.me?.permissions.has(PermissionFlagsBits.ManageRoles)).toBe(false);
    await customerBuying(LINKED_MEMBER_ID);
    await runJobs();
    expect(roleRequests()).toEqual([]);
    await postAlerts();
    expect(alertMessages()).toEqual([expect.stringContaining('Give the bot Manage Roles')]);
  });

  it('waits out a 429 and succeeds, with no extra invalid requests', async () => {
    h.discord.injectFault(rateLimitFault(ROLE_ROUTE, { method: 'PUT', retryAfterMs: 300 }));
    await customerBuying(LINKED_MEMBER_ID);
    expect(await runJobs()).toBe(1);
    expect(roleRequests().map((r) => r.status)).toEqual([429, 204]);
    expect(h.discord.requests.filter((r) => [401, 403, 429].includes(r.status))).toHaveLength(1);
    expect(await jobStatuses()).toEqual(['done']);
  });

  it('retries later after Discord keeps failing with 5xx', async () => {
    h.discord.injectFault(serverErrorFault(ROLE_ROUTE, { method: 'PUT', status: 502, times: 10 }));
    await customerBuying(LINKED_MEMBER_ID);
    await runJobs();
    const [job] = await h.db.selectFrom('role_jobs').selectAll().execute();
    expect(job).toMatchObject({ status: 'pending', attempts: 1 });
    expect(job!.last_error).toContain('502');
    h.discord.clearFaults();
    h.clock.advance(60_000);
    await runJobs();
    expect(h.discord.memberRoles(GUILD_ID, LINKED_MEMBER_ID)).toEqual([VIP]);
  });

  it('does not grant twice after a crash between the Discord call and the database write', async () => {
    await customerBuying(LINKED_MEMBER_ID);
    const [job] = await h.db.selectFrom('role_jobs').selectAll().execute();
    // The crashed worker's call went through; its write never happened, so the job is still due.
    expect(await gateway.addRole(GUILD_ID, LINKED_MEMBER_ID, VIP, job!.reason)).toEqual({ ok: true });
    await runJobs();
    expect(roleRequests().map((r) => [r.method, r.status])).toEqual([
      ['PUT', 204],
      ['PUT', 204],
    ]);
    expect(h.discord.auditLog.filter((e) => e.action === 'member_role_add')).toHaveLength(1);
    expect(h.discord.memberRoles(GUILD_ID, LINKED_MEMBER_ID)).toEqual([VIP]);
    // And from now on the worker knows: duplicates complete without a call.
    await reconcileCustomerRoles(h.db, h.clock, (await h.db.selectFrom('customers').select('id').executeTakeFirstOrThrow()).id);
    await runJobs();
    expect(roleRequests()).toHaveLength(2);
  });
});
