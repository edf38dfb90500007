import { recordActivity } from '../../src/domain/customers/activity-log.js';
import { createBan } from '../../src/domain/bans/bans.js';
import type { ManualClock } from '../../src/shared/clock.js';
import { completeLink } from '../../src/domain/linking/link-account.js';
import { addNote } from '../../src/domain/customers/notes.js';
import { createWebhookEndpoint } from '../../src/domain/webhooks/endpoints.js';
import { addRoleRule } from '../../src/domain/roles/rules.js';
import { processDueEvents, storeEventHooks } from '../../src/jobs/purchase-events.js';
import { processRoleJobs } from '../../src/jobs/role-queue.js';
import type { RoleGateway } from '../../src/domain/roles/ports.js';
import { findCustomerByEmail } from '../../src/store/customer.repository.js';
import type { Db } from '../../src/store/database.js';
import { storeInboundEvent } from '../../src/store/purchase-event.repository.js';
import { insertLinkSession } from '../../src/store/link-session.repository.js';

export const GUILD = '4100000000000000001';
export const VIP_ROLE = '4100000000000000010';
export const STAFF = { id: '4100000000000000900', name: 'Sam Staff' };
export const ADMIN = { id: '4100000000000000901', name: 'Ada Admin' };

/** A person whose every identifier is rare enough to find in a database file's bytes. */
export const PERSON = {
  name: 'Zyanya Qwertzuiop',
  email: 'Zyanya.Qwertzuiop@Example.com',
  discordId: '4188776655443322110',
  steamId: '76561198087654321',
  steamUsername: 'ZyanyaPlays',
  ip: '203.0.113.77',
  linkIp: '198.51.100.23',
  platformId: '987654',
} as const;

/** The strings that must not survive an erasure anywhere in the file. */
export const PERSONAL_STRINGS = [PERSON.name, PERSON.email, 'Zyanya', 'Qwertzuiop', PERSON.discordId, PERSON.steamId, PERSON.ip];

/** Answers every role call with success and remembers it. */
export class RecordingGateway implements RoleGateway {
  readonly calls: Array<{ action: 'add' | 'remove'; userId: string; roleId: string; reason: string }> = [];
  addRole(_guildId: string, userId: string, roleId: string, reason: string) {
    this.calls.push({ action: 'add', userId, roleId, reason });
    return Promise.resolve({ ok: true as const });
  }
  removeRole(_guildId: string, userId: string, roleId: string, reason: string) {
    this.calls.push({ action: 'remove', userId, roleId, reason });
    return Promise.resolve({ ok: true as const });
  }
}

export function orderEvent(eventId: string, eventType: string, order: { id: number; number: string; total: string }) {
  return {
    id: eventId,
    event_type: eventType,
    created_at: '2026-11-20T10:00:00Z',
    data: {
      id: order.id,
      order_number: order.number,
      status: 'completed',
      total: order.total,
      currency: 'USD',
      customer: { id: Number(PERSON.platformId), email: PERSON.email, name: PERSON.name, ip: PERSON.ip, discord_id: PERSON.discordId },
      items: [{ product_id: 5, product_name: 'VIP Rank', quantity: 1, price: order.total }],
      created_at: '2026-11-20T09:59:00Z',
      completed_at: '2026-11-20T10:00:00Z',
    },
  };
}

export async function receiveAndProcess(db: Db, clock: ManualClock, payload: { id: string; event_type: string; data?: unknown }): Promise<void> {
  await storeInboundEvent(db, clock, { id: payload.id, eventType: payload.event_type, payload: JSON.stringify(payload), scheme: 'hmac-hex' });
  clock.advance(1000);
  await processDueEvents(db, clock, storeEventHooks(clock));
}

export interface SubjectFixture {
  customerId: number;
  otherCustomerId: number;
  gateway: RecordingGateway;
}

/**
 * A customer with everything the store keeps about someone: orders from purchase events (so the
 * raw payloads exist), a customer.created delivery, Discord from the order and a linked Steam
 * account, a Discord role granted, a note, an email ban and a customer ban whose reasons name
 * them, a staff alert about their purchase while banned, a support ticket, a subscription, an
 * open link session, metadata and an activity entry of a search for their email. Plus a second,
 * unrelated customer who must come through untouched.
 */
export async function buildSubject(db: Db, clock: ManualClock): Promise<SubjectFixture> {
  await addRoleRule(db, clock, { productId: 5, roleId: VIP_ROLE, guildId: GUILD, actor: ADMIN });
  await createWebhookEndpoint(db, clock, { url: 'https://93.184.215.14/crm', actor: ADMIN }, { allowPrivateGlobally: false });

  await receiveAndProcess(db, clock, orderEvent('evt_zq_1', 'order.paid', { id: 9101, number: 'ORD-2026-09101', total: '29.99' }));
  const customer = await findCustomerByEmail(db, PERSON.email);
  if (!customer) throw new Error('the order event did not create the customer');

  const gateway = new RecordingGateway();
  await processRoleJobs(db, clock, gateway);

  const session = await insertLinkSession(db, { tokenHash: 'a'.repeat(64), customerId: customer.id, createdAt: clock.now().toISOString(), expiresAt: new Date(clock.now().getTime() + 900_000).toISOString() });
  await completeLink(db, clock, { sessionId: session.id, customerId: customer.id, provider: 'steam', account: { id: PERSON.steamId, username: PERSON.steamUsername, avatar: null }, ip: PERSON.linkIp });
  await insertLinkSession(db, { tokenHash: 'b'.repeat(64), customerId: customer.id, createdAt: clock.now().toISOString(), expiresAt: new Date(clock.now().getTime() + 900_000).toISOString() });

  await db.updateTable('customers').set({ metadata: JSON.stringify({ favourite_server: 'eu-1', nickname: 'Zyanya' }), referral_code: 'ZQREF001' }).where('id', '=', customer.id).execute();
  await addNote(db, clock, { customerId: customer.id, author: STAFF, body: `Zyanya Qwertzuiop asked for a refund, call ${PERSON.email}` });
  await createBan(db, clock, { type: 'email', target: PERSON.email, duration: 'permanent', reason: `chargeback by ${PERSON.name}`, actor: STAFF });
  await createBan(db, clock, { type: 'customer', target: String(customer.id), duration: '30d', reason: 'fraud ring, see Zyanya Qwertzuiop notes', actor: STAFF });
  await recordActivity(db, clock, { actor: STAFF, action: 'export.run', targetType: 'customers', details: { format: 'csv', search: PERSON.email.toLowerCase() } });

  // Bought again while banned: the order is recorded and staff are alerted, naming the customer.
  await receiveAndProcess(db, clock, orderEvent('evt_zq_2', 'order.completed', { id: 9102, number: 'ORD-2026-09102', total: '10.00' }));
  await receiveAndProcess(db, clock, {
    id: 'evt_zq_sub',
    event_type: 'subscription.created',
    data: { id: 7701, product_id: 6, product_name: 'Monthly Crate', status: 'active', current_period_end: '2026-12-20T00:00:00Z', customer_email: PERSON.email, customer_name: PERSON.name },
  });
  await receiveAndProcess(db, clock, {
    id: 'evt_zq_ticket',
    event_type: 'ticket.created',
    data: { id: 'T-5501', subject: `Zyanya Qwertzuiop here, my rank is missing`, status: 'open', customer: { email: PERSON.email, name: PERSON.name } },
  });

  // Someone else, who must not be touched.
  await receiveAndProcess(db, clock, {
    id: 'evt_other',
    event_type: 'order.paid',
    data: { id: 9201, order_number: 'ORD-2026-09201', total: '5.00', customer: { email: 'other@example.com', name: 'Other Person' }, items: [{ product_id: 5, product_name: 'VIP Rank', quantity: 1, price: '5.00' }] },
  });
  const other = await findCustomerByEmail(db, 'other@example.com');
  if (!other) throw new Error('the other customer was not created');
  return { customerId: customer.id, otherCustomerId: other.id, gateway };
}
