import { describe, expect, it } from 'vitest';
import { addNote } from '../../src/domain/customers/notes.js';
import type { LocalMessage, LocalModal } from '../../src/sandbox/local-discord/index.js';
import { CHANNEL_ID, GUILD_ID, LINKED_MEMBER_ID, STAFF_ID, buttonByLabel, controls, embedFields, type Harness } from '../support/bot-harness.js';
import { useTestContext } from '../support/context.js';
import { placeOrder, seedSmallStore, type SmallStore } from '../support/fixtures.js';

let h: Harness;
let store: SmallStore;

useTestContext({ discord: true }, async (context) => {
  h = context;
  store = await seedSmallStore(h.db, h.clock);
});

describe('/customer lookup', () => {
  it("shows a customer's profile, segment, statistics, linked accounts and recent orders, privately", async () => {
    const { handle, message } = await h.customer('lookup', { query: 'alice@example.com' });
    expect(handle.ephemeral).toBe(true);
    const embed = message.embeds[0]!;
    expect(embed.title).toBe('Alice Johnson');
    expect(embed.description).toContain('alice@example.com');
    const fields = embedFields(message);
    expect(fields['Segment']).toContain('Repeat');
    expect(fields['Segment']).toContain('**Repeat**');
    expect(fields['Statistics']).toContain('Total orders (paid or completed): **2**');
    expect(fields['Statistics']).toContain('Total spent: **$44.98**');
    expect(fields['Statistics']).toContain('Avg order: $22.49');
    expect(fields['Linked accounts']).toContain(`<@${LINKED_MEMBER_ID}>`);
    expect(fields['Linked accounts']).toContain('76561198000000042');
    expect(fields['Active bans (0)']).toBe('None');
    expect(fields['Recent orders (3 in all: 2 completed, 1 refunded)']).toContain('refunded');
    // No Discord avatar linked: the picture is generated from the initials and attached.
    expect(embed.thumbnail?.url).toBe('attachment://avatar.png');
    expect(message.attachments.map((a) => a.filename)).toEqual(['avatar.png']);
    expect(message.attachments[0]!.data.subarray(1, 4).toString()).toBe('PNG');
    const labels = controls(message).map((c) => c.label);
    expect(labels).toEqual(['Orders (3)', 'Notes (0)', 'Add note', 'Ban', 'Open an order…']);
    expect(buttonByLabel(message, 'Notes (0)').disabled).toBe(true);
  });

  it("labels the profile's order figures so they reconcile: Total orders counts paid or completed, Recent orders every status", async () => {
    await placeOrder(h.db, h.clock, store.alice, '2026-11-21T10:00:00.000Z', 1_500, 'VIP Rank', 'pending');
    const { message } = await h.customer('lookup', { query: 'alice@example.com' });
    const fields = embedFields(message);
    const totalOrders = /Total orders \(paid or completed\): \*\*(\d+)\*\*/.exec(fields['Statistics']!);
    expect(totalOrders?.[1]).toBe('2');
    const recent = Object.keys(fields).find((name) => name.startsWith('Recent orders'));
    expect(recent).toBe('Recent orders (4 in all: 1 pending, 2 completed, 1 refunded)');
    const byStatus = Object.fromEntries([...recent!.matchAll(/(\d+) (\w+)/g)].map((m) => [m[2], Number(m[1])]));
    expect((byStatus.paid ?? 0) + (byStatus.completed ?? 0)).toBe(Number(totalOrders![1]));
    expect(buttonByLabel(message, 'Orders (4)').disabled).toBe(false);
  });

  it('finds the same customer by id, order number, Discord mention, Discord ID and Steam ID', async () => {
    const orderNumber = (await h.db.selectFrom('orders').select('order_number').where('customer_id', '=', store.alice.id).executeTakeFirstOrThrow()).order_number;
    for (const query of [`id:${store.alice.id}`, `#${store.alice.id}`, orderNumber, `<@${LINKED_MEMBER_ID}>`, LINKED_MEMBER_ID, '76561198000000042', 'ALICE@EXAMPLE.COM']) {
      const { message } = await h.customer('lookup', { query });
      expect(message.embeds[0]?.title, query).toBe('Alice Johnson');
    }
  });

  it('offers a choice when a name matches several customers, and opens the one picked', async () => {
    const { handle, message } = await h.customer('lookup', { query: 'alice' });
    expect(message.embeds[0]!.title).toBe('2 customers match "alice"');
    const menu = controls(message).find((c) => c.type === 3)!;
    expect(menu.options.map((o) => o.label).sort()).toEqual(['Alice Johnson', 'Alice Moreau']);
    const picked = await h.discord.selectMenu({ message: handle.original()!, customId: menu.customId, values: [String(store.aliceMoreau.id)], userId: STAFF_ID });
    const profile = (await picked.settled()) as LocalMessage;
    expect(profile.embeds[0]!.title).toBe('Alice Moreau');
    expect(embedFields(profile)['Recent orders (0)']).toBe('No orders yet');
  });

  it('answers an unknown customer with a clear private message', async () => {
    const { handle, message } = await h.customer('lookup', { query: 'nobody@nowhere.test' });
    expect(handle.ephemeral).toBe(true);
    expect(message.content).toContain('No customer matches');
    expect(message.content).toContain('nobody@nowhere.test');
    expect(message.embeds).toEqual([]);
  });

  it("pages through a customer's orders and opens one order's items and quantities", async () => {
    const { handle } = await h.customer('lookup', { query: 'bob@example.com' });
    const orders = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(handle.original()!, 'Orders (5)').customId, userId: STAFF_ID });
    const page = (await orders.settled()) as LocalMessage;
    expect(page.embeds[0]!.title).toBe('Orders of Bob Builder');
    expect(page.embeds[0]!.footer?.text).toContain('Page 1 of 1 · 5 orders');
    const current = handle.original()!;
    expect(current.embeds[0]!.title).toBe('Orders of Bob Builder');
    const menu = controls(current).find((c) => c.type === 3)!;
    expect(menu.options).toHaveLength(5);
    const opened = await h.discord.selectMenu({ message: current, customId: menu.customId, values: [menu.options[0]!.value], userId: STAFF_ID });
    const order = (await opened.settled()) as LocalMessage;
    expect(order.embeds[0]!.title).toMatch(/^Order ORD-2026-/);
    expect(embedFields(order)['Items']).toContain('1 × VIP Rank — $10.00');
    const back = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(handle.original()!, 'Back to profile').customId, userId: STAFF_ID });
    expect(((await back.settled()) as LocalMessage).embeds[0]!.title).toBe('Bob Builder');
  });

  it('pages forward and back through orders and notes beyond the first page', async () => {
    for (let i = 0; i < 12; i++) await placeOrder(h.db, h.clock, store.aliceMoreau, `2026-09-${String(i + 10)}T12:00:00.000Z`, 500 + i);
    for (let i = 0; i < 7; i++) await addNote(h.db, h.clock, { customerId: store.aliceMoreau.id, author: { id: STAFF_ID, name: 'Sam Staff' }, body: `note ${i}` });
    const { handle } = await h.customer('lookup', { query: 'amoreau@example.fr' });
    const click = async (label: string) => {
      const next = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(handle.original()!, label).customId, userId: STAFF_ID });
      return (await next.settled()) as LocalMessage;
    };
    expect((await click('Orders (12)')).embeds[0]!.footer?.text).toContain('Page 1 of 2 · 12 orders');
    expect(buttonByLabel(handle.original()!, '◀ Previous').disabled).toBe(true);
    const second = await click('Next ▶');
    expect(second.embeds[0]!.footer?.text).toContain('Page 2 of 2');
    expect(second.embeds[0]!.description!.split('\n')).toHaveLength(2);
    expect(buttonByLabel(handle.original()!, 'Next ▶').disabled).toBe(true);
    expect((await click('◀ Previous')).embeds[0]!.footer?.text).toContain('Page 1 of 2');
    await click('Back to profile');
    const notes = await click('Notes (7)');
    expect(notes.embeds[0]!.fields!.map((f) => f.value)).toEqual(['note 6', 'note 5', 'note 4', 'note 3', 'note 2']);
    expect((await click('Next ▶')).embeds[0]!.fields!.map((f) => f.value)).toEqual(['note 1', 'note 0']);
  });

  it("adds a note from the profile's button through a form, and the profile shows it", async () => {
    const { handle } = await h.customer('lookup', { query: 'alice@example.com' });
    const click = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(handle.original()!, 'Add note').customId, userId: STAFF_ID });
    const modal = (await click.settled()) as LocalModal;
    expect(modal.title).toContain(`#${store.alice.id}`);
    const submit = await h.discord.submitModal({ customId: modal.customId, fields: { note: 'Prefers contact by Discord DM' }, userId: STAFF_ID, message: handle.original()! });
    const updated = (await submit.settled()) as LocalMessage;
    expect(updated.content).toContain('Note added');
    expect(embedFields(updated)['Latest notes (1)']).toContain('Prefers contact by Discord DM');
    expect(embedFields(updated)['Latest notes (1)']).toContain('Sam Staff');
    const notes = await h.db.selectFrom('notes').selectAll().execute();
    expect(notes).toMatchObject([{ customer_id: store.alice.id, author_id: STAFF_ID, body: 'Prefers contact by Discord DM' }]);
  });

  it('autocompletes customers from part of a name or email', async () => {
    const choices = await h.discord.autocomplete({ guildId: GUILD_ID, channelId: CHANNEL_ID, userId: STAFF_ID, name: 'customer', subcommand: 'lookup', options: { query: 'moreau' }, focused: 'query' });
    expect(choices).toEqual([{ name: expect.stringContaining('Alice Moreau') as string, value: `id:${store.aliceMoreau.id}` }]);
  });

  it("shows the linked Discord avatar instead of initials when the customer has one", async () => {
    await h.db.updateTable('customers').set({ discord_avatar: 'a1b2c3' }).where('id', '=', store.alice.id).execute();
    const { message } = await h.customer('lookup', { query: 'alice@example.com' });
    expect(message.embeds[0]!.thumbnail?.url).toBe(`https://cdn.discordapp.com/avatars/${LINKED_MEMBER_ID}/a1b2c3.png?size=128`);
    expect(message.attachments).toEqual([]);
  });
});
