import { inTransaction, truncateWriteAheadLog, type Db } from '../../store/database.js';
import type { BanRow } from '../../store/schema/index.js';
import { containsIgnoringCase } from '../../store/text-match.js';
import type { BanType } from '../../shared/vocabulary.js';
import { recordActivity } from '../customers/activity-log.js';
import type { Clock } from '../../shared/clock.js';
import { ERASED_VALUE_PREFIX, hashErasedIdentifier, loadBanHashKey } from './erased-identifiers.js';
import { UserError } from '../../shared/errors.js';
import {
  chunked,
  distinctiveStrings,
  findSubjectInboundEvents,
  loadDataSubject,
  mentionsSubject,
  PERSONAL_ACTIVITY_ACTIONS,
  redactText,
  scrubEventPayload,
  type DataSubject,
  type ErasedPlaceholders,
} from './subject.js';
import { OPEN_JOB_STATUSES, reconcileCustomerRoles } from '../roles/sync.js';
import { clipText } from '../../shared/text.js';
import type { Actor } from '../customers/types.js';

// GDPR erasure: personal data removed,
// order history anonymised and kept for accounting, subscriptions cancelled, support tickets
// anonymised, linked accounts removed, roles taken back.
//
// The customer row is kept, anonymised, rather than deleted: orders keep their customer id, and
// the per-customer aggregates that every revenue figure is read from stay exactly as they were.
// What remains is an id, a registration date, order counts and amounts: no longer about an
// identifiable person.

export interface EraseCustomerInput {
  customerId: number;
  actor: Actor;
  /** Why (a ticket number, "request by email"): kept in the log with the subject's identifiers taken out. */
  reason?: string | undefined;
}

export interface ErasureCounts {
  /** Orders kept, with their amounts, under the anonymised customer. */
  ordersKept: number;
  subscriptionsCancelled: number;
  supportTicketsAnonymized: number;
  notesDeleted: number;
  /** Discord, Steam and game accounts unlinked. */
  linkedAccountsRemoved: number;
  /** Bans whose value (an email or id) was replaced by its keyed hash, or whose reason was removed. */
  bansPseudonymized: number;
  /** Role removals queued for the Discord accounts the customer used. */
  roleRemovalsQueued: number;
  inboundEventsScrubbed: number;
  webhookDeliveriesScrubbed: number;
  webhookDeliveriesCancelled: number;
  staffAlertsScrubbed: number;
  activityEntriesRedacted: number;
  linkSessionsDeleted: number;
  platformIdsDeleted: number;
}

export interface ErasureResult {
  customerId: number;
  /** True when the customer had been erased before: nothing was changed this time. */
  alreadyErased: boolean;
  erasedAt: string;
  counts: ErasureCounts;
  /**
   * Customer exports made before the erasure that are still on disk (download links): they may
   * list this customer until they expire and are removed. The files are not rewritten.
   */
  exportFilesOnDisk: { count: number; lastExpiresAt: string | null };
  /** Whether the write-ahead log was emptied after the erasure (false inside a caller's transaction). */
  logTruncated: boolean;
}

const REASON_MAX_LENGTH = 300;
const REDACTED_DETAILS = '{"redacted":"erasure"}';
/** Stands in for a Discord user id in role rows once the role removal is over. */
export const ERASED_MEMBER_ID = 'erased';

export function erasedPlaceholders(customerId: number): ErasedPlaceholders {
  // `.invalid` is reserved (RFC 2606): no mailbox, and no real customer can register it.
  return { email: `erased-${customerId}@erased.invalid`, name: `Erased customer #${customerId}` };
}

function emptyCounts(): ErasureCounts {
  return {
    ordersKept: 0,
    subscriptionsCancelled: 0,
    supportTicketsAnonymized: 0,
    notesDeleted: 0,
    linkedAccountsRemoved: 0,
    bansPseudonymized: 0,
    roleRemovalsQueued: 0,
    inboundEventsScrubbed: 0,
    webhookDeliveriesScrubbed: 0,
    webhookDeliveriesCancelled: 0,
    staffAlertsScrubbed: 0,
    activityEntriesRedacted: 0,
    linkSessionsDeleted: 0,
    platformIdsDeleted: 0,
  };
}

const rows = (result: { numUpdatedRows?: bigint; numDeletedRows?: bigint }) => Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0n);

/**
 * Erases one customer's personal data, in one transaction: the customer row is anonymised and
 * kept (orders and revenue figures stay as they were), subscriptions are cancelled, support
 * tickets lose their subject, notes, link sessions and platform ids are deleted, bans on their
 * identifiers keep working on a keyed hash, role removals are queued, and the copies of their data
 * elsewhere (raw purchase events, webhook payloads, staff alerts, older activity entries) are
 * scrubbed. One `customer.erase` activity entry records it with counts only.
 *
 * Erasing an erased customer changes nothing and says so (`alreadyErased`). An unknown id is a
 * UserError `customer_not_found`. When it runs its own transaction it also empties the SQLite
 * write-ahead log afterwards, so overwritten data does not linger in old log frames.
 *
 * The Discord ids stay on the queued role removals until they are done; then
 * {@link purgeErasedRoleTraces} (run by the role sweep worker) clears them.
 */
export async function eraseCustomer(db: Db, clock: Clock, input: EraseCustomerInput): Promise<ErasureResult> {
  const ownTransaction = !db.isTransaction;
  const result = await inTransaction(db, (trx) => eraseInTransaction(trx, clock, input));
  if (ownTransaction && !result.alreadyErased) result.logTruncated = await truncateWriteAheadLog(db);
  return result;
}

async function eraseInTransaction(trx: Db, clock: Clock, input: EraseCustomerInput): Promise<ErasureResult> {
  const subject = await loadDataSubject(trx, input.customerId);
  if (!subject) throw new UserError('customer_not_found', `No customer has id ${input.customerId}.`);
  const { row } = subject;
  const customerId = row.id;
  const exportFilesOnDisk = await countExportFilesOnDisk(trx);
  if (row.erased_at !== null) {
    return { customerId, alreadyErased: true, erasedAt: row.erased_at, counts: emptyCounts(), exportFilesOnDisk, logTruncated: false };
  }

  const now = clock.now().toISOString();
  const placeholders = erasedPlaceholders(customerId);
  const counts = emptyCounts();

  // Marked first: with erased_at set, the role plan wants no role for them, and the removals are
  // queued while their Discord id is still on the row.
  await trx.updateTable('customers').set({ erased_at: now }).where('id', '=', customerId).execute();
  counts.roleRemovalsQueued = (await reconcileCustomerRoles(trx, clock, customerId, { eventType: 'customer.erased' })).enqueued;

  // Identifiers first, while the old values are still readable: bans are matched on them.
  counts.bansPseudonymized = await pseudonymizeBans(trx, subject, now);
  counts.inboundEventsScrubbed = await scrubInboundEvents(trx, subject, placeholders);
  const deliveries = await scrubWebhookDeliveries(trx, subject, placeholders);
  counts.webhookDeliveriesScrubbed = deliveries.scrubbed;
  counts.webhookDeliveriesCancelled = deliveries.cancelled;
  counts.staffAlertsScrubbed = await scrubStaffAlerts(trx, subject);
  counts.activityEntriesRedacted = await redactActivity(trx, subject);
  await scrubRoleJobTexts(trx, subject);

  counts.linkedAccountsRemoved = [row.discord_id, row.steam_id, row.game_user_id].filter((v) => v !== null).length;
  await trx
    .updateTable('customers')
    .set({
      name: placeholders.name,
      email: placeholders.email,
      email_lower: placeholders.email,
      password_hash: null,
      country: null,
      discord_id: null,
      discord_username: null,
      discord_avatar: null,
      steam_id: null,
      steam_username: null,
      steam_avatar: null,
      game_user_id: null,
      two_factor_enabled: 0,
      last_seen_at: null,
      last_ip: null,
      referral_code: null,
      referred_by: null,
      metadata: '{}',
      updated_at: now,
    })
    .where('id', '=', customerId)
    .execute();

  counts.notesDeleted = rows(await trx.deleteFrom('notes').where('customer_id', '=', customerId).executeTakeFirst());
  counts.linkSessionsDeleted = rows(await trx.deleteFrom('link_sessions').where('customer_id', '=', customerId).executeTakeFirst());
  counts.platformIdsDeleted = rows(await trx.deleteFrom('platform_customers').where('customer_id', '=', customerId).executeTakeFirst());
  counts.subscriptionsCancelled = rows(
    await trx
      .updateTable('subscriptions')
      .set((eb) => ({ status: 'cancelled', cancelled_at: eb.fn.coalesce('cancelled_at', eb.val(now)), updated_at: now }))
      .where('customer_id', '=', customerId)
      .where('status', 'in', ['active', 'payment_failed'])
      .executeTakeFirst(),
  );
  counts.supportTicketsAnonymized = rows(
    await trx.updateTable('support_tickets').set({ subject: null, updated_at: now }).where('customer_id', '=', customerId).executeTakeFirst(),
  );
  counts.ordersKept = subject.orderIds.length;

  const reason = input.reason?.trim() ? clipText(redactText(input.reason.trim(), subject), REASON_MAX_LENGTH) : undefined;
  await recordActivity(trx, clock, {
    actor: input.actor,
    action: 'customer.erase',
    targetType: 'customer',
    targetId: customerId,
    details: { ...counts, ...(reason ? { reason } : {}) },
  });
  return { customerId, alreadyErased: false, erasedAt: now, counts, exportFilesOnDisk, logTruncated: false };
}

async function countExportFilesOnDisk(trx: Db): Promise<ErasureResult['exportFilesOnDisk']> {
  const row = await trx
    .selectFrom('export_files')
    .select((eb) => [eb.fn.countAll<number | string>().as('count'), eb.fn.max('expires_at').as('last')])
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), lastExpiresAt: row.last ?? null };
}

/** The customer's identifiers as bans store them (canonical, lower-cased email), by ban type. */
function banTargetsOf(subject: DataSubject): Array<[BanType, string[]]> {
  const { row } = subject;
  return [
    ['email', [row.email_lower]],
    ['discord', subject.discordIds],
    ['game_id', [...subject.steamIds, ...(row.game_user_id ? [row.game_user_id] : [])]],
  ];
}

/**
 * Bans on the customer's identifiers keep working, on a keyed hash of the value; their reasons
 * (staff notes about the customer) are removed, as notes are. An active customer ban is carried
 * over to their identifiers the same way: it covered them through the account, which no longer
 * names them, and an erased customer must not be able to come back under the same email.
 */
async function pseudonymizeBans(trx: Db, subject: DataSubject, now: string): Promise<number> {
  const key = await loadBanHashKey(trx);
  if (key === undefined) throw new Error('privacy_keys has no ban_hash_key: run the migrations');
  const customerId = subject.row.id;
  const marker = `(reason removed when customer #${customerId} was erased)`;
  const targets = banTargetsOf(subject).filter(([, values]) => values.length > 0);

  const affected = await trx
    .selectFrom('bans')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb('customer_id', '=', customerId),
        eb.and([eb('type', '=', 'customer'), eb('value', '=', String(customerId))]),
        ...targets.map(([type, values]) => eb.and([eb('type', '=', type), eb('value', 'in', values)])),
      ]),
    )
    .execute();

  let changed = 0;
  for (const ban of affected) {
    // A ban linked to the customer was on an identifier of theirs when it was made, even one they
    // have changed since; an unlinked one is theirs when it names one of their identifiers.
    const hashable = ban.type !== 'customer' && ban.type !== 'ip' && !ban.value.startsWith(ERASED_VALUE_PREFIX);
    const ownsValue = hashable && (ban.customer_id === customerId || targets.some(([type, values]) => type === ban.type && values.includes(ban.value)));
    await trx
      .updateTable('bans')
      .set({
        ...(ownsValue ? { value: hashErasedIdentifier(key, ban.type, ban.value) } : {}),
        reason: marker,
        lift_reason: ban.lift_reason === null ? null : marker,
      })
      .where('id', '=', ban.id)
      .execute();
    changed++;
  }

  // Other bans whose free text names the customer (an IP ban "alice's second account").
  for (const chunk of chunked(distinctiveStrings(subject))) {
    const mentioned = await trx
      .selectFrom('bans')
      .select(['id', 'reason', 'lift_reason'])
      .where((eb) => eb.or([...containsIgnoringCase(trx, 'reason', chunk), ...containsIgnoringCase(trx, 'lift_reason', chunk)]))
      .execute();
    for (const ban of mentioned) {
      await trx
        .updateTable('bans')
        .set({ reason: redactText(ban.reason, subject), lift_reason: ban.lift_reason === null ? null : redactText(ban.lift_reason, subject) })
        .where('id', '=', ban.id)
        .execute();
      changed++;
    }
  }

  const activeCustomerBans = affected.filter((b) => b.type === 'customer' && isActive(b, now));
  for (const ban of activeCustomerBans) {
    for (const [type, values] of targets) {
      for (const value of values) {
        const hashed = hashErasedIdentifier(key, type, value);
        const existing = await trx
          .selectFrom('bans')
          .select('id')
          .where('type', '=', type)
          .where('value', '=', hashed)
          .where('lifted_at', 'is', null)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
          .executeTakeFirst();
        if (existing) continue;
        await trx
          .insertInto('bans')
          .values({
            type,
            value: hashed,
            customer_id: customerId,
            ip_start: null,
            ip_end: null,
            reason: `Carried over from customer ban #${ban.id} when customer #${customerId} was erased`,
            created_by_id: ban.created_by_id,
            created_by_name: ban.created_by_name,
            created_at: now,
            expires_at: ban.expires_at,
            lifted_at: null,
            lifted_by_id: null,
            lifted_by_name: null,
            lift_reason: null,
          })
          .execute();
        changed++;
      }
    }
  }
  return changed;
}

function isActive(ban: BanRow, nowIso: string): boolean {
  return ban.lifted_at === null && (ban.expires_at === null || ban.expires_at > nowIso);
}

async function scrubInboundEvents(trx: Db, subject: DataSubject, placeholders: ErasedPlaceholders): Promise<number> {
  const events = await findSubjectInboundEvents(trx, subject);
  for (const event of events) {
    let payload: string;
    try {
      payload = JSON.stringify(scrubEventPayload(JSON.parse(event.payload), subject, placeholders));
    } catch {
      // Not JSON (it was when stored; only a hand edit gets here): keep the event, not its text.
      payload = JSON.stringify({ id: event.id, event_type: event.event_type, erased: true });
    }
    await trx
      .updateTable('inbound_events')
      .set({ payload, last_error: event.last_error === null ? null : redactText(event.last_error, subject) })
      .where('id', '=', event.id)
      .execute();
  }
  return events.length;
}

/**
 * `customer.created` deliveries (and any other payload) naming the customer: the payload keeps its
 * shape with the placeholders in; one not yet delivered is cancelled rather than sent anonymised.
 */
async function scrubWebhookDeliveries(trx: Db, subject: DataSubject, placeholders: ErasedPlaceholders): Promise<{ scrubbed: number; cancelled: number }> {
  const patterns = distinctiveStrings(subject);
  const candidates = new Map<string, { id: string; payload: string; status: string }>();
  for (const chunk of chunked(patterns)) {
    const found = await trx
      .selectFrom('webhook_deliveries')
      .select(['id', 'payload', 'status'])
      .where((eb) => eb.or(containsIgnoringCase(trx, 'payload', chunk)))
      .execute();
    for (const d of found) candidates.set(d.id, d);
  }
  let scrubbed = 0;
  let cancelled = 0;
  for (const delivery of candidates.values()) {
    let json: unknown;
    try {
      json = JSON.parse(delivery.payload);
    } catch {
      json = null;
    }
    const about = aboutCustomer(json, subject.row.id);
    if (!about && !mentionsSubject(delivery.payload, subject)) continue;
    const payload = about ? JSON.stringify(anonymizeWebhookCustomer(json, placeholders)) : redactText(delivery.payload, subject);
    const cancel = delivery.status === 'pending';
    await trx
      .updateTable('webhook_deliveries')
      .set({ payload, ...(cancel ? { status: 'cancelled', next_attempt_at: null, lease_until: null, last_error: 'cancelled: the customer was erased' } : {}) })
      .where('id', '=', delivery.id)
      .execute();
    scrubbed++;
    if (cancel) cancelled++;
  }
  return { scrubbed, cancelled };
}

function aboutCustomer(json: unknown, customerId: number): boolean {
  const customer = (json as { data?: { customer?: { id?: unknown } } } | null)?.data?.customer;
  return typeof customer === 'object' && customer !== null && customer.id === customerId;
}

function anonymizeWebhookCustomer(json: unknown, placeholders: ErasedPlaceholders): unknown {
  const envelope = json as { data: { customer: Record<string, unknown> } & Record<string, unknown> } & Record<string, unknown>;
  const customer = envelope.data.customer;
  return {
    ...envelope,
    data: { ...envelope.data, customer: { id: customer.id, name: placeholders.name, email: placeholders.email, country: null, created_at: customer.created_at ?? null } },
  };
}

async function scrubStaffAlerts(trx: Db, subject: DataSubject): Promise<number> {
  const customerId = subject.row.id;
  const patterns = [...distinctiveStrings(subject), `#${customerId} (`];
  const candidates = new Map<number, { id: number; message: string; last_error: string | null }>();
  for (const chunk of chunked(patterns)) {
    const found = await trx
      .selectFrom('staff_alerts')
      .select(['id', 'message', 'last_error'])
      .where((eb) => eb.or(containsIgnoringCase(trx, 'message', chunk)))
      .execute();
    for (const a of found) candidates.set(a.id, a);
  }
  let changed = 0;
  for (const alert of candidates.values()) {
    const message = redactText(alert.message, subject);
    if (message === alert.message) continue;
    await trx.updateTable('staff_alerts').set({ message }).where('id', '=', alert.id).execute();
    changed++;
  }
  return changed;
}

/**
 * Older activity entries that recorded personal data in their details (linked account ids, a
 * Discord id taken from an order, a search for the customer's email) get the redaction marker:
 * the migration lets exactly that through the append-only trigger. Who did what and when stays.
 */
async function redactActivity(trx: Db, subject: DataSubject): Promise<number> {
  const ids = new Set<number>();
  const own = await trx
    .selectFrom('activity_log')
    .select(['id', 'action', 'details'])
    .where('target_type', '=', 'customer')
    .where('target_id', '=', String(subject.row.id))
    .where('details', '!=', '{}')
    .where('details', '!=', REDACTED_DETAILS)
    .execute();
  for (const entry of own) {
    if (PERSONAL_ACTIVITY_ACTIONS.includes(entry.action) || mentionsSubject(entry.details, subject) || redactText(entry.details, subject) !== entry.details) ids.add(entry.id);
  }
  for (const chunk of chunked(distinctiveStrings(subject))) {
    const mentioned = await trx
      .selectFrom('activity_log')
      .select('id')
      .where('details', '!=', REDACTED_DETAILS)
      .where((eb) => eb.or(containsIgnoringCase(trx, 'details', chunk)))
      .execute();
    for (const entry of mentioned) ids.add(entry.id);
  }
  for (const chunk of chunked([...ids], 500)) {
    await trx.updateTable('activity_log').set({ details: REDACTED_DETAILS }).where('id', 'in', chunk).execute();
  }
  return ids.size;
}

/** Role job reasons and errors are sent to Discord's audit log and shown to staff: no names in them. */
async function scrubRoleJobTexts(trx: Db, subject: DataSubject): Promise<void> {
  const jobs = await trx.selectFrom('role_jobs').select(['id', 'reason', 'last_error']).where('customer_id', '=', subject.row.id).execute();
  for (const job of jobs) {
    const reason = redactText(job.reason, subject);
    const lastError = job.last_error === null ? null : redactText(job.last_error, subject);
    if (reason !== job.reason || lastError !== job.last_error) {
      await trx.updateTable('role_jobs').set({ reason, last_error: lastError }).where('id', '=', job.id).execute();
    }
  }
}

/**
 * The follow-up of an erasure: once an erased customer's role removals are over (done, failed or
 * superseded; none still open), the Discord ids they needed are taken out of the role queue's
 * rows, the bot's record of what those members held is deleted, and staff alerts that named those
 * members are scrubbed. Customers with a removal still open (waiting for the member, blocked on
 * permissions) keep their ids until it closes. Returns how many customers were purged; when it
 * ran its own transaction and purged anything, the write-ahead log is emptied as well.
 */
export async function purgeErasedRoleTraces(db: Db, clock: Clock): Promise<number> {
  const ownTransaction = !db.isTransaction;
  const purged = await inTransaction(db, async (trx) => {
    const candidates = await trx
      .selectFrom('customers')
      .select('id')
      .where('erased_at', 'is not', null)
      .where((eb) =>
        eb.or([
          eb.exists(eb.selectFrom('role_jobs').select('role_jobs.id').whereRef('role_jobs.customer_id', '=', 'customers.id').where('role_jobs.discord_user_id', '!=', ERASED_MEMBER_ID)),
          eb.exists(eb.selectFrom('role_assignments').select('role_assignments.id').whereRef('role_assignments.customer_id', '=', 'customers.id')),
        ]),
      )
      .execute();
    let count = 0;
    for (const { id } of candidates) {
      const open = await trx.selectFrom('role_jobs').select('id').where('customer_id', '=', id).where('status', 'in', OPEN_JOB_STATUSES).executeTakeFirst();
      if (open) continue;
      const jobMembers = await trx.selectFrom('role_jobs').select('discord_user_id').where('customer_id', '=', id).execute();
      const assignedMembers = await trx.selectFrom('role_assignments').select('discord_user_id').where('customer_id', '=', id).execute();
      const memberIds = [...new Set([...jobMembers, ...assignedMembers].map((m) => m.discord_user_id))].filter((m) => m !== ERASED_MEMBER_ID);
      await trx.deleteFrom('role_assignments').where('customer_id', '=', id).execute();
      await trx
        .updateTable('role_jobs')
        .set({ discord_user_id: ERASED_MEMBER_ID, last_error: null, updated_at: clock.now().toISOString() })
        .where('customer_id', '=', id)
        .execute();
      for (const chunk of chunked(memberIds)) {
        const alerts = await trx
          .selectFrom('staff_alerts')
          .select(['id', 'message'])
          .where((eb) => eb.or(containsIgnoringCase(trx, 'message', chunk)))
          .execute();
        for (const alert of alerts) {
          let message = alert.message;
          for (const member of chunk) message = message.split(member).join('[erased]');
          await trx.updateTable('staff_alerts').set({ message }).where('id', '=', alert.id).execute();
        }
      }
      count++;
    }
    return count;
  });
  if (ownTransaction && purged > 0) await truncateWriteAheadLog(db);
  return purged;
}

/**
 * What an erasure of the customer would keep, for the confirmation: every order of any status
 * (the same orders `ErasureCounts.ordersKept` reports afterwards) and how many of them are
 * paid or completed (the profile's Total orders).
 */
export async function previewErasure(db: Db, customerId: number): Promise<{ ordersKept: number; completedOrders: number }> {
  const row = await db
    .selectFrom('customers')
    .select((eb) => ['orders_count', eb.selectFrom('orders').select((o) => o.fn.countAll<number | string>().as('n')).where('orders.customer_id', '=', customerId).as('orders_kept')])
    .where('id', '=', customerId)
    .executeTakeFirst();
  if (!row) throw new UserError('customer_not_found', `No customer with id ${customerId}.`);
  return { ordersKept: Number(row.orders_kept ?? 0), completedOrders: row.orders_count };
}

/** When the customer was erased; null when they were not (or do not exist). */
export async function findErasedAt(db: Db, customerId: number): Promise<string | null> {
  const row = await db.selectFrom('customers').select('erased_at').where('id', '=', customerId).executeTakeFirst();
  return row?.erased_at ?? null;
}

/**
 * For the purchase event worker: an event that landed on an erased customer (a late refund, a
 * renewal notice) arrived with their details in it; it is scrubbed like the ones stored before.
 */
export async function scrubEventIfCustomerErased(db: Db, eventId: string, customerId: number): Promise<boolean> {
  // One primary-key read on the hot path of every event; the rest only for an erased customer.
  if ((await findErasedAt(db, customerId)) === null) return false;
  const subject = await loadDataSubject(db, customerId);
  if (!subject || subject.row.erased_at === null) return false;
  const event = await db.selectFrom('inbound_events').select(['payload']).where('id', '=', eventId).executeTakeFirst();
  if (!event) return false;
  let payload: string;
  try {
    payload = JSON.stringify(scrubEventPayload(JSON.parse(event.payload), subject, erasedPlaceholders(customerId)));
  } catch {
    return false;
  }
  if (payload === event.payload) return false;
  await db.updateTable('inbound_events').set({ payload }).where('id', '=', eventId).execute();
  return true;
}
