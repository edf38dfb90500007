import { describe, expect, it } from 'vitest';
import { PendingActions } from '../../src/commands/pending-actions.js';
import { listActivity } from '../../src/domain/customers/activity-log.js';
import type { LocalMessage, LocalModal } from '../../src/sandbox/local-discord/index.js';
import { STAFF_ID, buttonByLabel, controls, embedFields, type Harness } from '../support/bot-harness.js';
import { useTestContext } from '../support/context.js';
import { seedSmallStore, type SmallStore } from '../support/fixtures.js';

let h: Harness;
let store: SmallStore;

useTestContext({ discord: true }, async (context) => {
  h = context;
  store = await seedSmallStore(h.db, h.clock);
});

const banCount = async () => (await h.db.selectFrom('bans').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;

describe('/customer ban', () => {
  it("asks for confirmation, then bans, and the ban shows on the customer's lookup", async () => {
    const { handle, message } = await h.customer('ban', { type: 'email', target: 'Alice@Example.com', duration: '7d', reason: 'Chargeback abuse' });
    expect(handle.ephemeral).toBe(true);
    expect(message.embeds[0]!.title).toBe('Confirm ban');
    expect(embedFields(message)['Target']).toContain('alice@example.com');
    expect(embedFields(message)['Customer']).toContain('Alice Johnson');
    expect(await banCount()).toBe(0);

    const confirm = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Confirm ban').customId, userId: STAFF_ID });
    const done = (await confirm.settled()) as LocalMessage;
    expect(done.embeds[0]!.title).toMatch(/^Ban #\d+ created$/);
    expect(done.components).toEqual([]);
    expect(await banCount()).toBe(1);

    const lookup = await h.customer('lookup', { query: 'alice@example.com' });
    expect(embedFields(lookup.message)['Active bans (1)']).toContain('Chargeback abuse');
    const log = await listActivity(h.db, { action: 'ban.create' });
    expect(log[0]?.actor).toEqual({ id: STAFF_ID, name: 'Sam Staff' });
  });

  it('says how many addresses a wide IP range covers and how many known customers fall in it before it can be confirmed', async () => {
    const ips: [number, string][] = [
      [store.alice.id, '10.1.2.3'],
      [store.bob.id, '10.200.0.9'],
      [store.dormant.id, '11.0.0.1'],
    ];
    for (const [id, ip] of ips) await h.db.updateTable('customers').set({ last_ip: ip }).where('id', '=', id).execute();
    const { handle, message } = await h.customer('ban', { type: 'ip', target: '10.0.0.0/8', duration: 'permanent', reason: 'Card testing' });
    const f = embedFields(message);
    expect(f['⚠️ Very wide range']).toContain('16,777,216 addresses');
    expect(f['⚠️ Very wide range']).toContain('2 known customers');
    expect(controls(message).map((c) => c.label)).toEqual(['Ban all 16,777,216 addresses', 'Cancel']);
    expect(await banCount()).toBe(0);
    const confirm = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Ban all 16,777,216 addresses').customId, userId: STAFF_ID });
    expect(((await confirm.settled()) as LocalMessage).embeds[0]!.title).toMatch(/^Ban #\d+ created$/);
    expect(await banCount()).toBe(1);
  });

  it('counts an IPv6 range wider than /32 in powers of two, with the customers seen in it', async () => {
    await h.db.updateTable('customers').set({ last_ip: '2001:db8:ffff::1' }).where('id', '=', store.alice.id).execute();
    const { message } = await h.customer('ban', { type: 'ip', target: '2001:db8::/16', duration: '7d', reason: 'Abuse' });
    const wide = embedFields(message)['⚠️ Very wide range'];
    expect(wide).toContain('2^112 addresses');
    expect(wide).toContain('1 known customer');
  });

  it('shows a narrow range plainly, with the usual Confirm button', async () => {
    const { message } = await h.customer('ban', { type: 'ip', target: '198.51.100.0/24', duration: 'permanent', reason: 'Card testing' });
    expect(embedFields(message)['Covers']).toBe('256 addresses · 0 known customers');
    expect(embedFields(message)['⚠️ Very wide range']).toBeUndefined();
    expect(controls(message).map((c) => c.label)).toEqual(['Confirm ban', 'Cancel']);
  });

  it('writes nothing when the ban is cancelled', async () => {
    const { handle, message } = await h.customer('ban', { type: 'ip', target: '198.51.100.0/24', duration: 'permanent', reason: 'Card testing' });
    const cancel = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Cancel').customId, userId: STAFF_ID });
    expect(((await cancel.settled()) as LocalMessage).content).toContain('nothing was changed');
    expect(await banCount()).toBe(0);
  });

  it('refuses a malformed IP or duration with a clear message and writes nothing', async () => {
    const ip = await h.customer('ban', { type: 'ip', target: '300.1.2.3', duration: '7d', reason: 'x' });
    expect(ip.message.content).toMatch(/IP/i);
    expect(ip.message.content).not.toMatch(/\bat \w+ \(|Error:/);
    const duration = await h.customer('ban', { type: 'email', target: 'x@example.com', duration: 'forever-ish', reason: 'x' });
    expect(duration.message.content).toContain('Duration must be');
    expect(await banCount()).toBe(0);
  });

  it("bans a customer account from the profile's Ban button, covering its linked IDs", async () => {
    const { handle } = await h.customer('lookup', { query: 'alice@example.com' });
    const click = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(handle.original()!, 'Ban').customId, userId: STAFF_ID });
    const modal = (await click.settled()) as LocalModal;
    const submit = await h.discord.submitModal({ customId: modal.customId, fields: { duration: '30d', reason: 'Fraudulent purchases' }, userId: STAFF_ID, message: handle.original()! });
    const preview = (await submit.settled()) as LocalMessage;
    expect(preview.embeds[0]!.title).toBe('Confirm ban');
    expect(preview.embeds[0]!.footer?.text).toContain('linked ID');
    const confirm = await h.discord.clickButton({ message: submit.original()!, customId: buttonByLabel(preview, 'Confirm ban').customId, userId: STAFF_ID });
    await confirm.settled();
    const rows = await h.db.selectFrom('bans').selectAll().execute();
    expect(rows).toMatchObject([{ type: 'customer', customer_id: store.alice.id, reason: 'Fraudulent purchases' }]);
    expect(rows[0]!.expires_at).toBe('2026-12-22T12:00:00.000Z');
  });
});

describe('/customer bans and /customer unban', () => {
  it('lists and searches bans, lifts one, and records both in the activity log', async () => {
    for (const [type, target] of [['email', 'a@spam.test'], ['email', 'b@spam.test'], ['game_id', '76561198000000099']] as const) {
      const { handle, message } = await h.customer('ban', { type, target, duration: 'permanent', reason: `ban of ${target}` });
      await (await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Confirm ban').customId, userId: STAFF_ID })).settled();
    }
    const all = await h.customer('bans');
    expect(all.message.embeds[0]!.title).toContain('Bans (3)');
    const searched = await h.customer('bans', { search: 'spam.test', type: 'email' });
    expect(searched.message.embeds[0]!.title).toContain('Bans (2)');
    expect(searched.message.embeds[0]!.description).toContain('a@spam.test');
    expect(searched.message.embeds[0]!.description).not.toContain('76561198000000099');

    const lifted = await h.customer('unban', { ban: 'b@spam.test', reason: 'Appeal accepted' });
    expect(lifted.message.embeds[0]!.title).toMatch(/^Ban #\d+ lifted$/);
    const active = await h.customer('bans', { status: 'active' });
    expect(active.message.embeds[0]!.title).toContain('Bans (2)');
    const liftedList = await h.customer('bans', { status: 'lifted' });
    expect(liftedList.message.embeds[0]!.description).toContain('b@spam.test');
    expect((await listActivity(h.db, { action: 'ban.lift' }))[0]?.actor.id).toBe(STAFF_ID);
  });

  it('says clearly when there is no such ban to lift', async () => {
    const { message } = await h.customer('unban', { ban: '#999' });
    expect(message.content).toMatch(/ban/i);
    expect(message.content).toMatch(/no|not/i);
  });

  it('offers active bans as suggestions while typing', async () => {
    const { handle, message } = await h.customer('ban', { type: 'email', target: 'c@spam.test', duration: '7d', reason: 'Spam orders' });
    await (await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Confirm ban').customId, userId: STAFF_ID })).settled();
    const choices = await h.discord.autocomplete({ userId: STAFF_ID, name: 'customer', subcommand: 'unban', options: { ban: 'spam' }, focused: 'ban' });
    expect(choices).toHaveLength(1);
    expect(choices[0]!.name).toContain('c@spam.test');
  });
});

describe('pending confirmations', () => {
  it('belong to the staff member who asked, and expire', () => {
    let now = 0;
    const pending = new PendingActions(() => now, 1_000);
    const token = pending.put('staff-a', { type: 'email' });
    expect(pending.get(token, 'staff-b')).toBeUndefined();
    expect(pending.get(token, 'staff-a')).toEqual({ type: 'email' });
    now = 1_000;
    expect(pending.take(token, 'staff-a')).toBeUndefined();
  });
});
