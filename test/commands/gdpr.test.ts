import { describe, expect, it } from 'vitest';
import { listActivity } from '../../src/domain/customers/activity-log.js';
import { hashPassword } from '../../src/domain/customers/passwords.js';
import type { LocalMessage, LocalModal } from '../../src/sandbox/local-discord/index.js';
import { ADMIN_ID, STAFF_ID, buttonByLabel, controls, embedFields, type Harness } from '../support/bot-harness.js';
import { useTestContext } from '../support/context.js';
import { buildSubject, orderEvent, PERSON, receiveAndProcess, type SubjectFixture } from '../support/gdpr-fixture.js';

let h: Harness;
let subject: SubjectFixture;

useTestContext({ discord: true }, async (context) => {
  h = context;
  subject = await buildSubject(h.db, h.clock);
  await h.db.updateTable('customers').set({ password_hash: await hashPassword('correct horse battery') }).where('id', '=', subject.customerId).execute();
});

const erasedAt = async () => (await h.db.selectFrom('customers').select('erased_at').where('id', '=', subject.customerId).executeTakeFirstOrThrow()).erased_at;

describe('/customer gdpr-export', () => {
  it('attaches everything stored about the customer as JSON, without notes or the password hash', async () => {
    const { handle, message } = await h.customer('gdpr-export', { customer: `id:${subject.customerId}` }, ADMIN_ID);
    expect(handle.ephemeral).toBe(true);
    expect(message.content).toContain(`Data export for customer #${subject.customerId} (JSON): 2 orders, 1 subscriptions`);
    // The reply shows counts only; the address is in the file for the customer, not on screen.
    expect(message.content).not.toContain(PERSON.ip);
    expect(message.embeds).toEqual([]);
    const file = message.attachments[0]!;
    expect(file.filename).toBe(`customer-${subject.customerId}-data-2026-11-22.json`);
    const text = file.data.toString('utf8');
    const data = JSON.parse(text) as { customer: { email: string }; orders: unknown[]; security: { last_ip: string } };
    expect(data.customer.email).toBe(PERSON.email);
    expect(data.orders).toHaveLength(2);
    expect(data.security.last_ip).toBe(PERSON.ip);
    expect(text).not.toContain('asked for a refund');
    expect(text).not.toContain('scrypt');
    expect(text).not.toMatch(/password/i);
    expect((await listActivity(h.db, { action: 'customer.data_export' }))[0]).toMatchObject({ actor: { id: ADMIN_ID }, targetId: String(subject.customerId), details: { format: 'json', via: 'discord' } });
  });

  it('attaches a CSV when asked', async () => {
    const { message } = await h.customer('gdpr-export', { customer: `id:${subject.customerId}`, format: 'csv' }, ADMIN_ID);
    const file = message.attachments[0]!;
    expect(file.filename).toBe(`customer-${subject.customerId}-data-2026-11-22.csv`);
    const text = file.data.toString('utf8');
    expect(text).toContain('[orders]');
    expect(text).toContain('ORD-2026-09101');
    expect(text).not.toContain('asked for a refund');
    expect(text).not.toContain('scrypt');
  });

  it('is refused to staff who are not admins', async () => {
    const { message } = await h.customer('gdpr-export', { customer: `id:${subject.customerId}` }, STAFF_ID);
    expect(message.content).toContain('Only store admins');
    expect(message.attachments).toEqual([]);
  });
});

describe('/customer delete', () => {
  it('asks for confirmation naming the customer, then erases on confirm and says roles are being removed', async () => {
    const { handle, message } = await h.customer('delete', { customer: `id:${subject.customerId}` }, ADMIN_ID);
    expect(handle.ephemeral).toBe(true);
    expect(message.embeds[0]!.title).toBe('Erase customer');
    expect(message.embeds[0]!.description).toBe(`Erase **${PERSON.name}** (${PERSON.email}, #${subject.customerId})? This cannot be undone.`);
    expect(await erasedAt()).toBeNull();

    const confirm = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Erase customer').customId, userId: ADMIN_ID });
    const done = (await confirm.settled()) as LocalMessage;
    expect(done.embeds[0]!.title).toBe(`Customer #${subject.customerId} erased`);
    expect(embedFields(done)['Discord roles']).toContain('1 role removal(s) queued');
    expect(embedFields(done)['Done']).toContain('Orders kept (anonymised): 2');
    expect(done.components).toEqual([]);
    expect(await erasedAt()).not.toBeNull();
    expect(JSON.stringify(done)).not.toMatch(/zyanya/i);
    expect((await listActivity(h.db, { action: 'customer.erase' }))[0]?.actor.id).toBe(ADMIN_ID);
  });

  it('names in the confirmation the same number of orders it reports kept, refunded ones included', async () => {
    await receiveAndProcess(h.db, h.clock, orderEvent('evt_zq_refund', 'order.refunded', { id: 9102, number: 'ORD-2026-09102', total: '10.00' }));
    const { handle, message } = await h.customer('delete', { customer: `id:${subject.customerId}` }, ADMIN_ID);
    expect(embedFields(message)['Kept, anonymised']).toBe('2 orders of any status (1 paid or completed) and their amounts, for accounting; the store figures do not change');

    const confirm = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Erase customer').customId, userId: ADMIN_ID });
    const done = (await confirm.settled()) as LocalMessage;
    expect(embedFields(done)['Done']!.split('\n')[0]).toBe('Orders kept (anonymised): 2');
  });

  it('is refused to staff who are not admins, both the command and the confirm button', async () => {
    const refused = await h.customer('delete', { customer: `id:${subject.customerId}` }, STAFF_ID);
    expect(refused.message.content).toContain('Only store admins');

    const { handle, message } = await h.customer('delete', { customer: `id:${subject.customerId}` }, ADMIN_ID);
    const click = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Erase customer').customId, userId: STAFF_ID });
    expect(((await click.settled()) as LocalMessage).content).toContain('Only store admins');
    expect(await erasedAt()).toBeNull();
  });

  it('changes nothing when cancelled', async () => {
    const { handle, message } = await h.customer('delete', { customer: `id:${subject.customerId}` }, ADMIN_ID);
    const cancel = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Cancel').customId, userId: ADMIN_ID });
    expect(((await cancel.settled()) as LocalMessage).content).toContain('nothing was changed');
    expect(await erasedAt()).toBeNull();
  });

  it('says so when the customer was already erased', async () => {
    const first = await h.customer('delete', { customer: `id:${subject.customerId}` }, ADMIN_ID);
    await (await h.discord.clickButton({ message: first.handle.original()!, customId: buttonByLabel(first.message, 'Erase customer').customId, userId: ADMIN_ID })).settled();
    const again = await h.customer('delete', { customer: `id:${subject.customerId}` }, ADMIN_ID);
    expect(again.message.content).toContain(`Customer #${subject.customerId} was already erased`);
    expect(again.message.components).toEqual([]);
  });
});

describe('notes on an erased customer', () => {
  async function erase(): Promise<void> {
    const { handle, message } = await h.customer('delete', { customer: `id:${subject.customerId}` }, ADMIN_ID);
    await (await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Erase customer').customId, userId: ADMIN_ID })).settled();
  }

  it('refuses /customer note for an erased customer, storing nothing', async () => {
    await erase();
    const loggedBefore = await listActivity(h.db, { action: 'note.add' });
    const { handle, message } = await h.customer('note', { customer: `id:${subject.customerId}`, text: 'Called back about the refund' }, STAFF_ID);
    expect(handle.ephemeral).toBe(true);
    expect(message.content).toBe(`❌ Customer #${subject.customerId} was erased; notes cannot be added to an erased customer.`);
    expect(await h.db.selectFrom('notes').selectAll().execute()).toEqual([]);
    expect(await listActivity(h.db, { action: 'note.add' })).toEqual(loggedBefore);
  });

  it("offers no Add note button on an erased customer's profile", async () => {
    await erase();
    const { message } = await h.customer('lookup', { query: `id:${subject.customerId}` }, STAFF_ID);
    expect(message.embeds[0]!.title).toBe(`Erased customer #${subject.customerId}`);
    expect(controls(message).map((c) => c.label)).not.toContain('Add note');
  });

  it('refuses a note submitted from a profile opened before the customer was erased', async () => {
    const { handle } = await h.customer('lookup', { query: `id:${subject.customerId}` }, STAFF_ID);
    const profile = handle.original()!;
    const click = await h.discord.clickButton({ message: profile, customId: buttonByLabel(profile, 'Add note').customId, userId: STAFF_ID });
    const modal = (await click.settled()) as LocalModal;
    await erase();
    const submit = await h.discord.submitModal({ customId: modal.customId, fields: { note: 'Prefers contact by Discord DM' }, userId: STAFF_ID, message: profile });
    const answer = (await submit.settled()) as LocalMessage;
    expect(answer.content).toContain(`Customer #${subject.customerId} was erased; notes cannot be added to an erased customer.`);
    expect(await h.db.selectFrom('notes').selectAll().execute()).toEqual([]);
  });
});
