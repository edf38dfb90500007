import { describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/shared/clock.js';
import { addRoleRule } from '../../src/domain/roles/rules.js';
import { reconcileCustomerRoles, reconcileDiscordMember } from '../../src/domain/roles/sync.js';
import { listStaffAlerts } from '../../src/domain/alerts/staff-alerts.js';
import type { Customer } from '../../src/domain/customers/types.js';
import {
  processRoleJobs,
  recoverInterruptedRoleJobs,
  ROLE_JOB_LEASE_MS,
  ROLE_JOB_MAX_ATTEMPTS,
  roleRetryDelayMs,
  startRoleQueueWorker,
} from '../../src/jobs/role-queue.js';
import type { RoleCallResult, RoleGateway } from '../../src/domain/roles/ports.js';
import { createLogger } from '../../src/logger.js';
import { insertCustomer } from '../../src/domain/customers/registration.js';
import type { Db } from '../../src/store/database.js';
import { setOrderStatus, upsertOrder } from '../../src/store/order.repository.js';
import { useTestContext } from '../support/context.js';

const GUILD = '3000000000000000001';
const VIP = '3000000000000000010';
const STAFF = { id: '3000000000000000900', name: 'Sam Staff' };
const MINUTE = 60_000;

interface Call {
  method: 'add' | 'remove';
  guildId: string;
  userId: string;
  roleId: string;
  reason: string;
}

/** Records every call and answers from a script (then `{ ok: true }`). */
class FakeGateway implements RoleGateway {
  readonly calls: Call[] = [];
  script: RoleCallResult[] = [];
  delayMs = 0;
  throwNext: Error | undefined;
  private held: { started: () => void; released: Promise<void> } | undefined;

  /** Holds the next call open until `release()`; `started` settles once it is in flight. */
  holdNextCall(): { started: Promise<void>; release: () => void } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    this.held = { started, released };
    return { started: inFlight, release };
  }

  private async answer(call: Call): Promise<RoleCallResult> {
    this.calls.push(call);
    const held = this.held;
    this.held = undefined;
    if (held) {
      held.started();
      await held.released;
    }
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.throwNext) {
      const error = this.throwNext;
      this.throwNext = undefined;
      throw error;
    }
    return this.script.shift() ?? { ok: true };
  }
  addRole(guildId: string, userId: string, roleId: string, reason: string) {
    return this.answer({ method: 'add', guildId, userId, roleId, reason });
  }
  removeRole(guildId: string, userId: string, roleId: string, reason: string) {
    return this.answer({ method: 'remove', guildId, userId, roleId, reason });
  }
}

let db: Db;
let clock: ManualClock;
let gateway: FakeGateway;
let nextId = 1;

useTestContext(async (context) => {
  ({ db, clock } = context);
  gateway = new FakeGateway();
  await addRoleRule(db, clock, { productId: 5, roleId: VIP, guildId: GUILD, actor: STAFF });
});

async function buyer(discordId = `30000000000000001${String(nextId).padStart(2, '0')}`): Promise<{ customer: Customer; orderId: number }> {
  const id = nextId++;
  const customer = await insertCustomer(db, clock, { name: `Buyer ${id}`, email: `buyer${id}@example.com`, discord: { id: discordId } });
  const order = await upsertOrder(db, clock, {
    id,
    orderNumber: `ORD-2026-${String(id).padStart(5, '0')}`,
    customerId: customer.id,
    status: 'completed',
    totalCents: 999,
    currency: 'USD',
    createdAt: clock.now().toISOString(),
    items: [{ productId: 5, productName: 'VIP Rank', quantity: 1, priceCents: 999 }],
  });
  await reconcileCustomerRoles(db, clock, customer.id, { eventType: 'order.completed', orderId: order.id });
  return { customer, orderId: order.id };
}

const jobRows = () => db.selectFrom('role_jobs').selectAll().orderBy('id').execute();
const assignments = () => db.selectFrom('role_assignments').select(['discord_user_id', 'role_id', 'state']).orderBy('id').execute();
const run = (limit = 10) => processRoleJobs(db, clock, gateway, { limit, random: () => 1 });

describe('processing role jobs', () => {
  it('grants the role with the job reason and records what the member now holds', async () => {
    const { customer } = await buyer();
    expect(await run()).toBe(1);
    expect(gateway.calls).toEqual([{ method: 'add', guildId: GUILD, userId: customer.discord!.id, roleId: VIP, reason: expect.stringContaining('ORD-2026-') as string }]);
    expect(await jobRows()).toMatchObject([{ status: 'done', attempts: 1, lease_until: null }]);
    expect(await assignments()).toEqual([{ discord_user_id: customer.discord!.id, role_id: VIP, state: 'granted' }]);
    expect(await run()).toBe(0);
  });

  it('takes the role back after a refund', async () => {
    const { customer, orderId } = await buyer();
    await run();
    await setOrderStatus(db, clock, orderId, 'refunded');
    await reconcileCustomerRoles(db, clock, customer.id, { eventType: 'order.refunded', orderId });
    await run();
    expect(gateway.calls.map((c) => c.method)).toEqual(['add', 'remove']);
    expect(await assignments()).toMatchObject([{ state: 'revoked' }]);
  });

  it('completes a grant without calling Discord when the member is already known to hold the role', async () => {
    const { customer } = await buyer();
    await db
      .insertInto('role_assignments')
      .values({ guild_id: GUILD, discord_user_id: customer.discord!.id, role_id: VIP, customer_id: customer.id, state: 'granted', updated_at: clock.now().toISOString() })
      .execute();
    expect(await run()).toBe(1);
    expect(gateway.calls).toEqual([]);
    expect(await jobRows()).toMatchObject([{ status: 'done' }]);
  });

  it('never grants twice across duplicate reconciles of the same purchase', async () => {
    const { customer, orderId } = await buyer();
    for (let i = 0; i < 3; i++) await reconcileCustomerRoles(db, clock, customer.id, { eventType: 'order.paid', orderId });
    await run();
    for (let i = 0; i < 3; i++) await reconcileCustomerRoles(db, clock, customer.id, { eventType: 'order.completed', orderId });
    await run();
    expect(gateway.calls).toHaveLength(1);
  });

  it('never makes two calls for the same job, even with two workers at once', async () => {
    for (let i = 0; i < 4; i++) await buyer();
    gateway.delayMs = 20;
    const counts = await Promise.all([run(), run(), run()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(4);
    expect(gateway.calls).toHaveLength(4);
    expect(new Set(gateway.calls.map((c) => c.userId)).size).toBe(4);
  });

  it('picks up a job again after the lease of a worker that crashed mid-call runs out', async () => {
    await buyer();
    // A crashed worker: it leased the job and never came back.
    await db.updateTable('role_jobs').set({ lease_until: new Date(clock.now().getTime() + ROLE_JOB_LEASE_MS).toISOString() }).execute();
    expect(await run()).toBe(0);
    clock.advance(ROLE_JOB_LEASE_MS);
    expect(await run()).toBe(1);
    expect(gateway.calls).toHaveLength(1);
  });

  it('records what Discord holds even when the job was superseded during the call', async () => {
    const { customer, orderId } = await buyer();
    const call = gateway.holdNextCall();
    const processing = run();
    await call.started;
    await setOrderStatus(db, clock, orderId, 'refunded');
    await reconcileCustomerRoles(db, clock, customer.id, { eventType: 'order.refunded', orderId });
    call.release();
    await processing;
    expect((await jobRows()).map((j) => [j.action, j.status])).toEqual([
      ['add', 'superseded'],
      ['remove', 'pending'],
    ]);
    expect(await assignments()).toMatchObject([{ state: 'granted' }]);
    await run();
    expect(gateway.calls.map((c) => c.method)).toEqual(['add', 'remove']);
    expect(await assignments()).toMatchObject([{ state: 'revoked' }]);
  });
});

describe('members who are not in the server', () => {
  it('waits for the member, then grants when they join', async () => {
    const { customer } = await buyer();
    gateway.script = [{ ok: false, kind: 'unknown_member', message: 'not in the server' }];
    await run();
    expect(await jobRows()).toMatchObject([{ status: 'waiting_member', last_error: 'not in the server' }]);
    clock.advance(60 * MINUTE);
    expect(await run()).toBe(0);
    await reconcileDiscordMember(db, clock, GUILD, customer.discord!.id, []);
    expect(await run()).toBe(1);
    expect(await jobRows()).toMatchObject([{ status: 'done', attempts: 2 }]);
  });

  it('counts a removal from someone who left the server as done', async () => {
    const { customer, orderId } = await buyer();
    await run();
    await setOrderStatus(db, clock, orderId, 'refunded');
    await reconcileCustomerRoles(db, clock, customer.id);
    gateway.script = [{ ok: false, kind: 'unknown_member', message: 'left' }];
    await run();
    expect((await jobRows()).at(-1)).toMatchObject({ action: 'remove', status: 'done' });
    expect(await assignments()).toMatchObject([{ state: 'revoked' }]);
  });
});

describe('problems staff must fix', () => {
  it('raises one alert per problem and role however many members it blocks, and retries hourly', async () => {
    for (let i = 0; i < 3; i++) await buyer();
    const message = "The bot's role must be above @VIP in Server Settings → Roles.";
    gateway.script = [0, 1, 2].map(() => ({ ok: false as const, kind: 'role_above_bot' as const, message }));
    await run();
    expect((await jobRows()).map((j) => j.status)).toEqual(['needs_attention', 'needs_attention', 'needs_attention']);
    const alerts = await listStaffAlerts(db);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain(message);
    expect(alerts[0]!.message).toContain('Re-sync');

    clock.advance(59 * MINUTE);
    expect(await run()).toBe(0);
    clock.advance(2 * MINUTE);
    expect(await run()).toBe(3);
    expect((await jobRows()).map((j) => j.status)).toEqual(['done', 'done', 'done']);
  });

  it('reports a problem again after it was solved once and came back', async () => {
    await buyer();
    gateway.script = [{ ok: false, kind: 'missing_permissions', message: 'Give the bot Manage Roles.' }];
    await run();
    clock.advance(61 * MINUTE);
    await run();
    await buyer();
    gateway.script = [{ ok: false, kind: 'missing_permissions', message: 'Give the bot Manage Roles.' }];
    await run();
    expect((await listStaffAlerts(db)).map((a) => a.kind)).toEqual(['role_problem', 'role_problem']);
  });

  it('alerts separately for different problems with the same role', async () => {
    await buyer();
    await buyer();
    gateway.script = [
      { ok: false, kind: 'missing_permissions', message: 'Give the bot Manage Roles.' },
      { ok: false, kind: 'role_above_bot', message: 'Move the bot role up.' },
    ];
    await run();
    expect(await listStaffAlerts(db)).toHaveLength(2);
  });
});

describe('retries', () => {
  it('backs off exponentially with jitter, capped at 15 minutes', () => {
    expect(roleRetryDelayMs(1, () => 1)).toBe(5_000);
    expect(roleRetryDelayMs(2, () => 1)).toBe(10_000);
    expect(roleRetryDelayMs(4, () => 1)).toBe(40_000);
    expect(roleRetryDelayMs(4, () => 0)).toBe(20_000);
    expect(roleRetryDelayMs(20, () => 1)).toBe(15 * MINUTE);
    for (let attempts = 1; attempts <= 12; attempts++) {
      const d = roleRetryDelayMs(attempts);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(15 * MINUTE);
    }
  });

  it('retries a transient failure after the backoff, and treats a thrown error the same way', async () => {
    await buyer();
    gateway.script = [{ ok: false, kind: 'retry', message: '503 Service Unavailable' }];
    await run();
    expect(await jobRows()).toMatchObject([{ status: 'pending', attempts: 1, last_error: '503 Service Unavailable' }]);
    expect(await run()).toBe(0);
    clock.advance(5_000);
    gateway.throwNext = new Error('socket hang up');
    expect(await run()).toBe(1);
    expect(await jobRows()).toMatchObject([{ status: 'pending', attempts: 2, last_error: 'socket hang up' }]);
    clock.advance(10_000);
    await run();
    expect(await jobRows()).toMatchObject([{ status: 'done', attempts: 3 }]);
  });

  it(`gives up after ${ROLE_JOB_MAX_ATTEMPTS} attempts and tells staff`, async () => {
    await buyer();
    gateway.script = Array.from({ length: ROLE_JOB_MAX_ATTEMPTS }, () => ({ ok: false as const, kind: 'retry' as const, message: '502 Bad Gateway' }));
    for (let i = 0; i < ROLE_JOB_MAX_ATTEMPTS; i++) {
      expect(await run()).toBe(1);
      clock.advance(15 * MINUTE);
    }
    expect(await jobRows()).toMatchObject([{ status: 'failed', attempts: ROLE_JOB_MAX_ATTEMPTS }]);
    expect(await run()).toBe(0);
    const [alert] = await listStaffAlerts(db);
    expect(alert!.message).toContain(`after ${ROLE_JOB_MAX_ATTEMPTS} attempts`);
    expect(alert!.message).toContain('502 Bad Gateway');
  });
});

describe('the worker loop', () => {
  it('drains the queue when woken', async () => {
    for (let i = 0; i < 3; i++) await buyer();
    const worker = startRoleQueueWorker({ db, clock, gateway, logger: createLogger('silent'), intervalMs: 60_000, limit: 2 });
    worker.wake();
    await expect.poll(() => gateway.calls.length).toBe(3);
    await worker.stop();
    expect((await jobRows()).every((j) => j.status === 'done')).toBe(true);
  });
});

describe('after a crash with a role call in flight', () => {
  it('looks at the member first and does not grant again when the role is already there', async () => {
    await buyer();
    // The previous process claimed the job and died before recording the outcome.
    await db.updateTable('role_jobs').set({ lease_until: new Date(clock.now().getTime() + 10 * MINUTE).toISOString() }).execute();
    expect(await recoverInterruptedRoleJobs(db, clock)).toBe(1);
    const looked: string[] = [];
    const checking = Object.assign(gateway, {
      memberHasRole: (_g: string, userId: string) => {
        looked.push(userId);
        return Promise.resolve(true);
      },
    });
    expect(await processRoleJobs(db, clock, checking, { random: () => 1 })).toBe(1);
    expect(looked).toHaveLength(1);
    expect(gateway.calls).toEqual([]);
    expect((await jobRows()).map((j) => j.status)).toEqual(['done']);
    expect((await assignments()).map((a) => a.state)).toEqual(['granted']);
  });

  it('grants when the interrupted call never reached Discord', async () => {
    await buyer();
    await db.updateTable('role_jobs').set({ lease_until: new Date(clock.now().getTime() + 10 * MINUTE).toISOString() }).execute();
    await recoverInterruptedRoleJobs(db, clock);
    const checking = Object.assign(gateway, { memberHasRole: () => Promise.resolve(false) });
    await processRoleJobs(db, clock, checking, { random: () => 1 });
    expect(gateway.calls.map((c) => c.method)).toEqual(['add']);
    expect((await jobRows()).map((j) => j.status)).toEqual(['done']);
  });
});
