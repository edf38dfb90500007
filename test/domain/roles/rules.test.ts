import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listActivity } from '../../../src/domain/customers/activity-log.js';
import type { ManualClock } from '../../../src/shared/clock.js';
import { UserError } from '../../../src/shared/errors.js';
import { addRoleRule, listRoleRules, loadRoleRulesFile, removeRoleRule, RoleRulesFileError } from '../../../src/domain/roles/rules.js';
import { deliverStaffAlerts, listStaffAlerts, raiseStaffAlert, STAFF_ALERT_MAX_ATTEMPTS } from '../../../src/domain/alerts/staff-alerts.js';
import type { Db } from '../../../src/store/database.js';
import { useTestContext } from '../../support/context.js';

const GUILD = '3000000000000000001';
const VIP = '3000000000000000010';
const SUPPORTER = '3000000000000000011';
const STAFF = { id: '3000000000000000900', name: 'Sam Staff' };

let db: Db;
let clock: ManualClock;
let dir: string;

useTestContext((context) => {
  ({ db, clock } = context);
  dir = mkdtempSync(join(tmpdir(), 'role-rules-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeRules(json: unknown): string {
  const path = join(dir, 'role-rules.json');
  writeFileSync(path, typeof json === 'string' ? json : JSON.stringify(json));
  return path;
}

describe('role rules', () => {
  it('adds a rule with the documented defaults and logs who added it', async () => {
    const rule = await addRoleRule(db, clock, { productId: 5, roleId: VIP, guildId: GUILD, actor: STAFF });
    expect(rule).toMatchObject({ productId: 5, roleId: VIP, guildId: GUILD, revokeOnRefund: true, revokeOnChargeback: true, revokeOnSubscriptionEnd: true, gracePeriodHours: 72, createdBy: STAFF });
    expect(await listRoleRules(db)).toEqual([rule]);
    const [entry] = await listActivity(db, { action: 'role_rule.add' });
    expect(entry).toMatchObject({ actor: STAFF, targetType: 'role_rule', targetId: String(rule.id) });
  });

  it('refuses the same product and role twice, naming the existing rule', async () => {
    const rule = await addRoleRule(db, clock, { productId: 5, roleId: VIP, guildId: GUILD, actor: STAFF });
    await expect(addRoleRule(db, clock, { productId: 5, roleId: VIP, guildId: GUILD, actor: STAFF })).rejects.toThrow(`rule #${rule.id}`);
  });

  it('refuses a malformed role, product or grace period', async () => {
    await expect(addRoleRule(db, clock, { productId: 0, roleId: VIP, guildId: GUILD, actor: STAFF })).rejects.toBeInstanceOf(UserError);
    await expect(addRoleRule(db, clock, { productId: 5, roleId: 'vip', guildId: GUILD, actor: STAFF })).rejects.toThrow('role id');
    await expect(addRoleRule(db, clock, { productId: 5, roleId: GUILD, guildId: GUILD, actor: STAFF })).rejects.toThrow('@everyone');
    await expect(addRoleRule(db, clock, { productId: 5, roleId: VIP, guildId: GUILD, gracePeriodHours: -1, actor: STAFF })).rejects.toThrow('grace period');
  });

  it('removes a rule, logs it, and revives it with new settings when added again', async () => {
    const rule = await addRoleRule(db, clock, { productId: 5, roleId: VIP, guildId: GUILD, actor: STAFF });
    await removeRoleRule(db, clock, { id: rule.id, actor: STAFF });
    expect(await listRoleRules(db)).toEqual([]);
    expect(await listActivity(db, { action: 'role_rule.remove' })).toHaveLength(1);
    await expect(removeRoleRule(db, clock, { id: rule.id, actor: STAFF })).rejects.toThrow(`no rule #${rule.id}`);
    const again = await addRoleRule(db, clock, { productId: 5, roleId: VIP, guildId: GUILD, revokeOnRefund: false, actor: STAFF });
    expect(again).toMatchObject({ id: rule.id, revokeOnRefund: false });
  });
});

describe('the role rules file', () => {
  it('sets up the first rules at start-up', async () => {
    const path = writeRules({
      rules: [
        { product_id: 5, role_id: VIP, revoke_on_refund: false },
        { product_id: 7, role_id: SUPPORTER, grace_period_hours: 24, note: 'monthly' },
      ],
    });
    expect(await loadRoleRulesFile(db, clock, path, GUILD)).toEqual({ missing: false, inserted: 2, skipped: 0 });
    expect((await listRoleRules(db)).map((r) => [r.productId, r.roleId, r.revokeOnRefund, r.gracePeriodHours, r.createdBy.name])).toEqual([
      [5, VIP, false, 72, 'role rules file'],
      [7, SUPPORTER, true, 24, 'role rules file'],
    ]);
  });

  it('never overrides what staff changed in Discord afterwards, removals included', async () => {
    const path = writeRules({ rules: [{ product_id: 5, role_id: VIP }, { product_id: 7, role_id: SUPPORTER }] });
    await loadRoleRulesFile(db, clock, path, GUILD);
    const [vip] = await listRoleRules(db);
    await removeRoleRule(db, clock, { id: vip!.id, actor: STAFF });
    expect(await loadRoleRulesFile(db, clock, path, GUILD)).toEqual({ missing: false, inserted: 0, skipped: 2 });
    expect((await listRoleRules(db)).map((r) => r.roleId)).toEqual([SUPPORTER]);
  });

  it('is optional', async () => {
    expect(await loadRoleRulesFile(db, clock, join(dir, 'absent.json'), GUILD)).toEqual({ missing: true, inserted: 0, skipped: 0 });
  });

  it.each([
    // A role id written as a bare number (JSON would round a real 19-digit one).
    [{ rules: [{ product_id: 5, role_id: 1210000000000000 }] }, 'rules[0].role_id must be a Discord role id (17–20 digits) in quotes'],
    [{ rules: [{ product_id: 5, role_id: VIP }, { product_id: 'five', role_id: VIP }] }, 'rules[1].product_id'],
    [{ rules: [{ product_id: 5, role_id: VIP, grace_period_hours: 1.5 }] }, 'rules[0].grace_period_hours must be a whole number of hours'],
    [{ rules: [{ product_id: 5, role_id: VIP, revoke_on_refunds: true }] }, 'rules[0]'],
    [{ rule: [] }, 'rules'],
    ['{ "rules": [', 'is not valid JSON'],
    [{ rules: [{ product_id: 5, role_id: GUILD }] }, 'rules[0]: @everyone cannot be granted'],
  ])('refuses a bad file with a message naming the file and the field (%#)', async (json, expected) => {
    const path = writeRules(json);
    const error = await loadRoleRulesFile(db, clock, path, GUILD).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoleRulesFileError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain(expected);
    expect(await listRoleRules(db)).toEqual([]);
  });

  it('parses the shipped example', async () => {
    const result = await loadRoleRulesFile(db, clock, join(import.meta.dirname, '..', '..', '..', 'config', 'role-rules.example.json'), GUILD);
    expect(result).toMatchObject({ missing: false, inserted: 2 });
  });
});

describe('staff alerts', () => {
  it('stores an alert once per dedupe key, and every alert without one', async () => {
    expect(await raiseStaffAlert(db, clock, { kind: 'role_problem', message: 'first', dedupeKey: 'k' })).toBe(true);
    expect(await raiseStaffAlert(db, clock, { kind: 'role_problem', message: 'second', dedupeKey: 'k' })).toBe(false);
    await raiseStaffAlert(db, clock, { kind: 'note', message: 'a' });
    await raiseStaffAlert(db, clock, { kind: 'note', message: 'b' });
    expect((await listStaffAlerts(db)).map((a) => a.message)).toEqual(['first', 'a', 'b']);
  });

  it('posts due alerts oldest first and marks them sent', async () => {
    await raiseStaffAlert(db, clock, { kind: 'a', message: 'one' });
    await raiseStaffAlert(db, clock, { kind: 'a', message: 'two' });
    const posted: string[] = [];
    const result = await deliverStaffAlerts(db, clock, (alert) => {
      posted.push(alert.message);
      return Promise.resolve({ ok: true });
    });
    expect(result).toEqual({ handled: 2, failed: [] });
    expect(posted).toEqual(['one', 'two']);
    expect((await listStaffAlerts(db)).map((a) => [a.status, a.sentAt])).toEqual([
      ['sent', clock.now().toISOString()],
      ['sent', clock.now().toISOString()],
    ]);
  });

  it('keeps a long posting error up to the last emoji that fits whole, never half of one', async () => {
    await raiseStaffAlert(db, clock, { kind: 'a', message: 'unpostable' });
    await deliverStaffAlerts(db, clock, () => Promise.resolve({ ok: false as const, error: `${'e'.repeat(499)}🚫 and more` }));
    expect((await listStaffAlerts(db))[0]!.lastError).toBe(`${'e'.repeat(499)}…`);
  });

  it(`retries a post that fails with backoff and gives up after ${STAFF_ALERT_MAX_ATTEMPTS} attempts`, async () => {
    await raiseStaffAlert(db, clock, { kind: 'a', message: 'unpostable' });
    const failing = () => Promise.resolve({ ok: false as const, error: 'Missing Access' });
    for (let i = 1; i < STAFF_ALERT_MAX_ATTEMPTS; i++) {
      expect((await deliverStaffAlerts(db, clock, failing)).failed).toEqual([]);
      expect((await deliverStaffAlerts(db, clock, failing)).handled).toBe(0);
      clock.advance(15 * 60_000);
    }
    const last = await deliverStaffAlerts(db, clock, failing);
    expect(last.failed).toMatchObject([{ status: 'failed', attempts: STAFF_ALERT_MAX_ATTEMPTS, lastError: 'Missing Access' }]);
    expect((await listStaffAlerts(db))[0]!.status).toBe('failed');
  });
});
