import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { listActivity } from '../../../src/domain/customers/activity-log.js';
import type { ManualClock } from '../../../src/shared/clock.js';
import { eraseCustomer } from '../../../src/domain/privacy/erasure.js';
import { buildCustomerDataFile, exportCustomerData, toCsvDocument, toCsvFiles } from '../../../src/domain/privacy/export.js';
import { hashPassword } from '../../../src/domain/customers/passwords.js';
import { insertCustomer } from '../../../src/domain/customers/registration.js';
import type { Db } from '../../../src/store/database.js';
import { storeInboundEvent } from '../../../src/store/purchase-event.repository.js';
import { ADMIN, buildSubject, PERSON, STAFF, VIP_ROLE, type SubjectFixture } from '../../support/gdpr-fixture.js';
import { useTestContext } from '../../support/context.js';

let db: Db;
let clock: ManualClock;
let subject: SubjectFixture;

useTestContext({ now: '2026-11-21T12:00:00.000Z' }, async (context) => {
  ({ db, clock } = context);
  subject = await buildSubject(db, clock);
  await db.updateTable('customers').set({ password_hash: await hashPassword('correct horse battery') }).where('id', '=', subject.customerId).execute();
});

describe('exporting one customer’s data', () => {
  it('holds their profile, linked accounts, orders with items, subscriptions, tickets, referrals, metadata and roles', async () => {
    const data = await exportCustomerData(db, clock, subject.customerId);
    expect(data.export).toMatchObject({ kind: 'customer_data', format_version: 1, generated_at: clock.now().toISOString() });
    expect(data.customer).toMatchObject({ id: subject.customerId, name: PERSON.name, email: PERSON.email, erased_at: null });
    expect(data.linked_accounts.discord?.id).toBe(PERSON.discordId);
    expect(data.linked_accounts.steam).toMatchObject({ id: PERSON.steamId, username: PERSON.steamUsername });
    expect(data.orders).toEqual([
      expect.objectContaining({ id: 9101, order_number: 'ORD-2026-09101', status: 'paid', total: '29.99', items: [{ product_id: 5, product_name: 'VIP Rank', quantity: 1, price: '29.99' }] }),
      expect.objectContaining({ id: 9102, order_number: 'ORD-2026-09102', status: 'completed', total: '10.00' }),
    ]);
    expect(data.statistics).toMatchObject({ total_orders: 2, total_spent: '39.99' });
    expect(data.subscriptions).toEqual([expect.objectContaining({ id: 7701, product_name: 'Monthly Crate', status: 'active' })]);
    expect(data.support_tickets).toEqual([expect.objectContaining({ id: 'T-5501', subject: 'Zyanya Qwertzuiop here, my rank is missing' })]);
    expect(data.referrals).toEqual({ referral_code: 'ZQREF001', referred_by: null, referred_customer_ids: [] });
    expect(data.metadata).toEqual({ favourite_server: 'eu-1', nickname: 'Zyanya' });
    expect(data.discord_roles).toEqual([expect.objectContaining({ role_id: VIP_ROLE, discord_user_id: PERSON.discordId, state: 'granted' })]);
    expect(data.purchase_events.map((e) => e.id).sort()).toEqual(['evt_zq_1', 'evt_zq_2', 'evt_zq_sub', 'evt_zq_ticket']);
  });

  it('gives the data subject their last IP address, labelled, and never the password hash or notes', async () => {
    const data = await exportCustomerData(db, clock, subject.customerId);
    expect(data.security.last_ip).toBe(PERSON.ip);
    expect(data.export.explanations.security).toContain('last_ip');
    const text = JSON.stringify(data);
    expect(text).not.toContain('scrypt');
    expect(text).not.toMatch(/password/i);
    expect(text).not.toContain('asked for a refund');
    expect(text).not.toContain(STAFF.name);
  });

  it('lists bans on their account and identifiers with dates, but not the internal reasons', async () => {
    const data = await exportCustomerData(db, clock, subject.customerId);
    expect(data.bans.map((b) => [b.type, b.value, b.active])).toEqual([
      ['email', PERSON.email.toLowerCase(), true],
      ['customer', 'customer account', true],
    ]);
    expect(JSON.stringify(data.bans)).not.toMatch(/chargeback|fraud ring/);
  });

  it('renders every section as CSV, without the password hash or notes', async () => {
    const data = await exportCustomerData(db, clock, subject.customerId);
    const tables = toCsvFiles(data);
    expect(tables.map((t) => t.name)).toEqual(['profile', 'orders', 'order_items', 'subscriptions', 'support_tickets', 'metadata', 'bans', 'discord_roles', 'purchase_events']);
    const csv = toCsvDocument(data);
    expect(csv.startsWith('\uFEFF[profile]\r\nfield,value\r\ncustomer_id,')).toBe(true);
    expect(csv).toContain(`email,${PERSON.email}\r\n`);
    expect(csv).toContain(`last_ip (fraud prevention only),${PERSON.ip}\r\n`);
    expect(csv).toContain('[order_items]\r\norder_id,product_id,product_name,quantity,price\r\n9101,5,VIP Rank,1,29.99\r\n');
    expect(csv).not.toContain('scrypt');
    expect(csv).not.toContain('asked for a refund');
  });

  it('defuses spreadsheet formulas in text the customer chose', async () => {
    await db.updateTable('customers').set({ name: '=HYPERLINK("http://evil")' }).where('id', '=', subject.customerId).execute();
    const csv = toCsvDocument(await exportCustomerData(db, clock, subject.customerId));
    expect(csv).toContain(`name,"'=HYPERLINK(""http://evil"")"`);
  });

  it('shows an erased customer as the anonymous record that is left', async () => {
    await eraseCustomer(db, clock, { customerId: subject.customerId, actor: ADMIN });
    const data = await exportCustomerData(db, clock, subject.customerId);
    expect(data.customer.name).toBe(`Erased customer #${subject.customerId}`);
    expect(data.customer.erased_at).not.toBeNull();
    expect(data.security.last_ip).toBeNull();
    expect(JSON.stringify(data)).not.toMatch(/zyanya/i);
    expect(data.orders).toHaveLength(2);
    expect(data.bans.every((b) => b.type === 'customer' || b.value === '(pseudonymised)')).toBe(true);
  });

  it('refuses an unknown customer', async () => {
    await expect(exportCustomerData(db, clock, 424242)).rejects.toMatchObject({ code: 'customer_not_found' });
  });
});

describe('exporting the data of a customer whose details are written in another letter case', () => {
  it('includes the purchase events that name their email in any letter case, in Latin, Cyrillic and Greek', async () => {
    const people = [
      { name: 'Jürgen Ürün', email: 'Jürgen.Ürün@Beispiel.de' },
      { name: 'Ольга Петрова', email: 'Ольга.Петрова@example.com' },
      { name: 'Οδυσσέας Παππάς', email: 'Οδυσσέας@example.gr' },
    ];
    for (const [index, person] of people.entries()) {
      const customer = await insertCustomer(db, clock, person);
      const id = `evt_case_${index}`;
      // Not processed yet: only its text says whose it is.
      await storeInboundEvent(db, clock, {
        id,
        eventType: 'ticket.created',
        payload: JSON.stringify({ id, event_type: 'ticket.created', data: { id: `T-80${index}`, subject: 'rank missing', status: 'open', customer: { email: person.email.toUpperCase(), name: person.name.toUpperCase() } } }),
        scheme: 'hmac-hex',
      });
      const data = await exportCustomerData(db, clock, customer.id);
      expect(data.purchase_events.map((e) => e.id)).toEqual([id]);
    }
  });

  it('includes a purchase event that writes their email with combining marks (ü as u and a diaeresis)', async () => {
    const customer = await insertCustomer(db, clock, { name: 'Jürgen Ürün', email: 'Jürgen.Ürün@Beispiel.de' });
    const payload = JSON.stringify({ id: 'evt_nfd', event_type: 'customer.updated', data: { email: 'JÜRGEN.ÜRÜN@BEISPIEL.DE'.normalize('NFD') } });
    await storeInboundEvent(db, clock, { id: 'evt_nfd', eventType: 'customer.updated', payload, scheme: 'hmac-hex' });
    const data = await exportCustomerData(db, clock, customer.id);
    expect(data.purchase_events.map((e) => e.id)).toEqual(['evt_nfd']);
  });

  it('includes a purchase event whose body spells their email with JSON escapes, as many stores send it', async () => {
    const customer = await insertCustomer(db, clock, { name: 'Jürgen Ürün', email: 'Jürgen.Ürün@Beispiel.de' });
    const body = JSON.stringify({ id: 'evt_escaped', event_type: 'ticket.created', data: { id: 'T-900', subject: 'rank missing', status: 'open', customer: { email: 'JÜRGEN.ÜRÜN@BEISPIEL.DE' } } });
    const escaped = body.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
    await storeInboundEvent(db, clock, { id: 'evt_escaped', eventType: 'ticket.created', payload: escaped, scheme: 'hmac-hex' });
    const data = await exportCustomerData(db, clock, customer.id);
    expect(escaped).toContain('J\\u00DCRGEN');
    expect(data.purchase_events.map((e) => e.id)).toEqual(['evt_escaped']);
  });
});

describe('the export file', () => {
  it('records who exported whose data, without the data', async () => {
    const file = await buildCustomerDataFile(db, clock, { customerId: subject.customerId, actor: STAFF, format: 'json', via: 'api' });
    expect(file.fileName).toBe(`customer-${subject.customerId}-data-2026-11-21.json`);
    expect(JSON.parse(file.body.toString('utf8'))).toEqual(JSON.parse(JSON.stringify(file.data)));
    const [entry] = await listActivity(db, { action: 'customer.data_export' });
    expect(entry).toMatchObject({ actor: STAFF, targetId: String(subject.customerId), details: { format: 'json', via: 'api', bytes: file.body.length } });
  });

  it('zips a file over the size limit', async () => {
    const file = await buildCustomerDataFile(db, clock, { customerId: subject.customerId, actor: STAFF, format: 'csv', via: 'discord', maxBytes: 2000 });
    expect(file.fileName).toBe(`customer-${subject.customerId}-data-2026-11-21.zip`);
    const entries = unzipSync(new Uint8Array(file.body));
    expect(Object.keys(entries)).toEqual([`customer-${subject.customerId}-data-2026-11-21.csv`]);
  });

  it('refuses a file too large even zipped', async () => {
    await expect(buildCustomerDataFile(db, clock, { customerId: subject.customerId, actor: STAFF, format: 'json', via: 'discord', maxBytes: 100 })).rejects.toMatchObject({ code: 'export_too_large' });
  });
});
