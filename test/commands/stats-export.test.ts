import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { listActivity } from '../../src/domain/customers/activity-log.js';
import type { LocalMessage } from '../../src/sandbox/local-discord/index.js';
import { ADMIN_ID, CHANNEL_ID, GUILD_ID, LINKED_MEMBER_ID, MODERATOR_ID, OUTSIDER_ID, STAFF_ID, embedFields, type Harness } from '../support/bot-harness.js';
import { useTestContext } from '../support/context.js';
import { seedSmallStore, type SmallStore } from '../support/fixtures.js';

let h: Harness;
let store: SmallStore;

useTestContext({ discord: true }, async (context) => {
  h = context;
  store = await seedSmallStore(h.db, h.clock);
});

describe('/customer stats', () => {
  it("shows the store's figures as the dashboard defines them", async () => {
    const { message } = await h.customer('stats');
    const f = embedFields(message);
    expect(message.embeds[0]!.title).toBe('Store statistics');
    expect(f['Total customers']).toBe('4');
    expect(f['New this month (registered)']).toBe('0');
    expect(f['With orders (1+ orders)']).toBe('3');
    expect(f['Repeat customers (2+ orders)']).toBe('2');
    expect(f['Loyal customers (5+ orders)']).toBe('1');
    // Bob's last order (2026-05-15) and Dora's (2026-05-06) are over 90 days before 2026-11-22.
    expect(f['At risk (no order in 90 days)']).toBe('2');
    expect(f['Completed orders']).toBe('8');
    expect(f['Revenue']).toBe('$99.98');
    expect(f['Average order value']).toBe('$12.50');
  });

  it("labels its figures so they reconcile with the digest's segments: 2+ orders is Repeat (2–4) and Loyal (5+) together", async () => {
    const stats = embedFields((await h.customer('stats')).message);
    const digest = embedFields((await h.customer('digest')).message);
    const figure = (fields: Record<string, string>, label: string) => {
      expect(Object.keys(fields)).toContain(label);
      return Number.parseInt(fields[label]!.replaceAll(',', ''), 10);
    };
    const newSegment = figure(digest, 'New (0–1 orders)');
    const repeatSegment = figure(digest, 'Repeat (2–4 orders)');
    const loyalSegment = figure(digest, 'Loyal (5+ orders)');
    // Alice Johnson has two completed orders (her third was refunded), Bob five.
    expect([newSegment, repeatSegment, loyalSegment]).toEqual([2, 1, 1]);
    expect(figure(stats, 'Repeat customers (2+ orders)')).toBe(repeatSegment + loyalSegment);
    expect(figure(stats, 'Loyal customers (5+ orders)')).toBe(loyalSegment);
    expect(figure(stats, 'Total customers')).toBe(newSegment + repeatSegment + loyalSegment);
    expect(figure(stats, 'At risk (no order in 90 days)')).toBe(figure(digest, 'At risk (no order in 90 days)'));
  });

  it("shows one customer's figures when a customer is named", async () => {
    const { message } = await h.customer('stats', { customer: `id:${store.bob.id}` });
    const f = embedFields(message);
    expect(message.embeds[0]!.title).toBe('Statistics · Bob Builder');
    expect(f['Total orders (paid or completed)']).toBe('5');
    expect(f['Total spent']).toBe('$50.00');
    expect(f['Lifetime value']).toBe('$50.00');
    expect(f['Segment']).toBe('loyal · at risk');
  });
});

describe('/customer note', () => {
  it('adds a note that shows in the next lookup', async () => {
    const { message } = await h.customer('note', { customer: `id:${store.bob.id}`, text: 'VIP: refund approved by owner' });
    expect(message.content).toContain('Note added');
    const lookup = await h.customer('lookup', { query: 'bob@example.com' });
    expect(embedFields(lookup.message)['Latest notes (1)']).toContain('VIP: refund approved by owner');
  });

  it('refuses a note for a name that matches several customers, naming them', async () => {
    const { message } = await h.customer('note', { customer: 'alice', text: 'hello' });
    expect(message.content).toContain('2 customers match');
    expect(await h.db.selectFrom('notes').selectAll().execute()).toEqual([]);
  });
});

describe('/customer export', () => {
  it('sends the filtered customers as a CSV file with the documented columns', async () => {
    const { handle, message } = await h.customer('export', { format: 'csv', filter: 'repeat', sort: 'most_orders' }, ADMIN_ID);
    expect(handle.ephemeral).toBe(true);
    expect(message.content).toContain('Exported 2 customers as CSV');
    const file = message.attachments[0]!;
    expect(file.filename).toBe('customers-2026-11-22.csv');
    const lines = file.data.toString('utf8').replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]).toBe('Customer ID,Name,Email,Country,Total Orders,Total Spent,Registration Date,Last Order Date,Discord Username,Steam Username');
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual(['Bob Builder', 'Alice Johnson']);
    expect(lines[2]).toContain(',alice_j,AliceJ');
    expect((await listActivity(h.db, { action: 'export.run' }))[0]?.actor.id).toBe(ADMIN_ID);
  });

  it('sends an Excel workbook that opens with the right rows', async () => {
    const { message } = await h.customer('export', { format: 'xlsx', filter: 'loyal' }, ADMIN_ID);
    const file = message.attachments[0]!;
    expect(file.filename).toBe('customers-2026-11-22.xlsx');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(file.data as unknown as ExcelJS.Buffer);
    const sheet = workbook.worksheets[0]!;
    expect(sheet.getRow(1).getCell(2).value).toBe('Name');
    expect(sheet.getRow(2).getCell(2).value).toBe('Bob Builder');
    expect(sheet.rowCount).toBe(2);
  });

  it('is refused to staff who are not admins', async () => {
    const { message } = await h.customer('export', {}, STAFF_ID);
    expect(message.content).toContain('Only store admins');
    expect(message.attachments).toEqual([]);
  });

  it('refuses a malformed date with the expected shape', async () => {
    const { message } = await h.customer('export', { registered_after: '2025-13-40' }, ADMIN_ID);
    expect(message.content).toContain('registered_after must be a date like 2025-01-31');
  });
});

describe('the Customer profile menu', () => {
  it("opens the linked customer's profile from a member", async () => {
    const handle = await h.discord.invokeUserCommand({ guildId: GUILD_ID, channelId: CHANNEL_ID, userId: STAFF_ID, name: 'Customer profile', targetUserId: LINKED_MEMBER_ID });
    const message = (await handle.settled()) as LocalMessage;
    expect(handle.ephemeral).toBe(true);
    expect(message.embeds[0]!.title).toBe('Alice Johnson');
  });

  it('says so when the member has no linked store account', async () => {
    const handle = await h.discord.invokeUserCommand({ guildId: GUILD_ID, channelId: CHANNEL_ID, userId: STAFF_ID, name: 'Customer profile', targetUserId: MODERATOR_ID });
    const message = (await handle.settled()) as LocalMessage;
    expect(message.content).toContain('has no store account linked');
  });
});

describe('who may use the commands', () => {
  it('registers the commands hidden from members without the staff permission', () => {
    const registered = h.discord.registeredCommands(GUILD_ID);
    expect(registered.map((c) => [c.name, c.default_member_permissions])).toEqual([
      ['customer', String(1n << 40n)],
      ['Customer profile', String(1n << 40n)],
    ]);
  });

  it('refuses members who are not staff even when a server admin made the commands visible to everyone', async () => {
    const { handle, message } = await h.customer('lookup', { query: 'alice@example.com' }, OUTSIDER_ID);
    expect(handle.ephemeral).toBe(true);
    expect(message.content).toContain('for store staff only');
    expect(JSON.stringify(message)).not.toContain('alice@example.com');
  });

  it('refuses a member who can see the commands but has no staff role, showing no customer data', async () => {
    const { handle, message } = await h.customer('lookup', { query: 'alice@example.com' }, MODERATOR_ID);
    expect(handle.ephemeral).toBe(true);
    expect(message.content).toContain('for store staff only');
    expect(JSON.stringify(message)).not.toContain('alice@example.com');
  });

  it('refuses a moderator without a staff role when staff roles are configured', async () => {
    const { message } = await h.customer('stats', {}, MODERATOR_ID);
    expect(message.content).toContain('for store staff only');
  });

  it('gives non-staff no autocomplete suggestions', async () => {
    const choices = await h.discord.autocomplete({ userId: MODERATOR_ID, name: 'customer', subcommand: 'lookup', options: { query: 'ali' }, focused: 'query' });
    expect(choices).toEqual([]);
  });
});
