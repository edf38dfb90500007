import type { Db } from '../../store/database.js';
import type { CustomerRow, InboundEventRow } from '../../store/schema/index.js';
import { containsIgnoringCase, containsJsonEscaped, foldTerm } from '../../store/text-match.js';
import { parseStoredEvent, type EventCustomer } from '../purchases/parse.js';

// What the GDPR export and the erasure both need to know about one data subject: the customer row,
// every identifier that was ever theirs (current and previously linked accounts), the ids of what
// they bought, and where the raw copies of that (the purchase events as received) are.

/** Everything that identifies one customer, now or in the past. */
export interface DataSubject {
  row: CustomerRow;
  /** Current and previously linked Discord user ids. */
  discordIds: string[];
  /** Current and previously linked SteamID64s. */
  steamIds: string[];
  /** The store platform's ids for this customer. */
  platformIds: string[];
  orderIds: number[];
  orderNumbers: string[];
  subscriptionIds: number[];
  ticketIds: string[];
}

/** The activity entries that recorded a linked account id (the account may have been replaced since). */
const ACCOUNT_ID_ACTIONS: Record<string, { keys: string[]; provider: 'discord' | 'steam' }> = {
  'customer.link_discord': { keys: ['accountId', 'previousAccountId'], provider: 'discord' },
  'customer.link_steam': { keys: ['accountId', 'previousAccountId'], provider: 'steam' },
  'customer.discord_from_order': { keys: ['discordId'], provider: 'discord' },
};

export const PERSONAL_ACTIVITY_ACTIONS: readonly string[] = Object.keys(ACCOUNT_ID_ACTIONS);

function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function uniq<T>(values: Iterable<T | null | undefined>): T[] {
  return [...new Set([...values].filter((v): v is T => v !== null && v !== undefined && v !== ''))];
}

/** Loads the subject of a data request, or undefined when no customer has this id. */
export async function loadDataSubject(db: Db, customerId: number): Promise<DataSubject | undefined> {
  if (!Number.isSafeInteger(customerId)) return undefined;
  const row = await db.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirst();
  if (!row) return undefined;

  const discordIds: Array<string | null> = [row.discord_id];
  const steamIds: Array<string | null> = [row.steam_id];
  const entries = await db
    .selectFrom('activity_log')
    .select(['action', 'details'])
    .where('target_type', '=', 'customer')
    .where('target_id', '=', String(customerId))
    .where('action', 'in', PERSONAL_ACTIVITY_ACTIONS)
    .execute();
  for (const entry of entries) {
    const spec = ACCOUNT_ID_ACTIONS[entry.action];
    if (!spec) continue;
    const details = parseObject(entry.details);
    for (const key of spec.keys) {
      const value = details[key];
      if (typeof value === 'string') (spec.provider === 'discord' ? discordIds : steamIds).push(value);
    }
  }
  // Members the bot granted roles to on this customer's behalf: every Discord account they used.
  const members = await db.selectFrom('role_assignments').select('discord_user_id').where('customer_id', '=', customerId).execute();
  const jobMembers = await db.selectFrom('role_jobs').select('discord_user_id').where('customer_id', '=', customerId).execute();
  for (const m of [...members, ...jobMembers]) discordIds.push(m.discord_user_id);

  const platform = await db.selectFrom('platform_customers').select('platform_customer_id').where('customer_id', '=', customerId).execute();
  const orders = await db.selectFrom('orders').select(['id', 'order_number']).where('customer_id', '=', customerId).execute();
  const subscriptions = await db.selectFrom('subscriptions').select('id').where('customer_id', '=', customerId).execute();
  const tickets = await db.selectFrom('support_tickets').select('id').where('customer_id', '=', customerId).execute();

  return {
    row,
    // A placeholder left by an earlier erasure's follow-up is nobody's id.
    discordIds: uniq(discordIds).filter((id) => /^\d{5,25}$/.test(id)),
    steamIds: uniq(steamIds),
    platformIds: uniq(platform.map((p) => p.platform_customer_id)),
    orderIds: orders.map((o) => o.id),
    orderNumbers: orders.map((o) => o.order_number),
    subscriptionIds: subscriptions.map((s) => s.id),
    ticketIds: tickets.map((t) => t.id),
  };
}

/**
 * The subject's identifiers that are distinctive enough to find and replace inside free text
 * (an email, account ids, an address). A name is not: "Al" occurs in "Alert". Lower-cased.
 */
export function distinctiveStrings(subject: DataSubject): string[] {
  const { row } = subject;
  // Not the in-game name or the usernames: "Steve" is no one in particular.
  const values = [row.email_lower, row.last_ip, ...subject.discordIds, ...subject.steamIds];
  return uniq(values.map((v) => (v === null || v === undefined ? v : foldTerm(v.trim()))))
    .filter((v) => v.length >= 4)
    .sort((a, b) => b.length - a.length);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replaces every occurrence of the subject's identifiers (and their name, as a whole word) in free text. */
export function redactText(text: string, subject: DataSubject, replacement = '[erased]'): string {
  // Composed first, as the identifiers are: a ü may be written as u and a combining diaeresis.
  const composed = text.normalize('NFC');
  let out = composed;
  // `u` folds case as Unicode does, so a Kelvin sign or a capital in another script still matches.
  for (const value of distinctiveStrings(subject)) out = out.replace(new RegExp(escapeRegExp(value), 'giu'), replacement);
  const name = subject.row.name.trim().normalize('NFC');
  if (name.length >= 2) out = out.replace(new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(name)}(?![\\p{L}\\p{N}])`, 'giu'), replacement);
  // Text that mentions no one comes back exactly as it was, so callers can tell nothing changed.
  return out === composed ? text : out;
}

/** Whether free text mentions one of the subject's distinctive identifiers (not just their name). */
export function mentionsSubject(text: string, subject: DataSubject): boolean {
  const folded = foldTerm(text);
  return distinctiveStrings(subject).some((value) => folded.includes(value));
}

const PATTERNS_PER_QUERY = 50;

/** Chunks of patterns small enough for one statement's parameter list. */
export function chunked<T>(values: readonly T[], size = PATTERNS_PER_QUERY): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

function customerIsSubject(customer: EventCustomer, subject: DataSubject): boolean {
  if (customer.email !== null && foldTerm(customer.email.trim()) === foldTerm(subject.row.email_lower)) return true;
  if (customer.platformId !== null && subject.platformIds.includes(customer.platformId)) return true;
  return customer.discordId !== null && subject.discordIds.includes(customer.discordId);
}

/**
 * The stored purchase events about this customer: the raw bodies as the store sent them, which
 * repeat their email, name, address and Discord id. Candidates are found by text (one scan of
 * the table; an erasure or an access request is rare), then kept only when the event, read by
 * the same parser the worker uses, is about one of the subject's orders, subscriptions or tickets
 * or names the subject as its customer.
 */
export async function findSubjectInboundEvents(db: Db, subject: DataSubject): Promise<InboundEventRow[]> {
  const name = subject.row.name.trim();
  const patterns = uniq([
    ...distinctiveStrings(subject),
    name.length >= 3 ? name.toLowerCase() : null,
    ...subject.orderNumbers.map((n) => n.toLowerCase()),
    ...subject.ticketIds.map((t) => t.toLowerCase()),
    ...subject.platformIds.filter((p) => p.length >= 3),
    ...subject.orderIds.map(String).filter((id) => id.length >= 3),
    ...subject.subscriptionIds.map(String).filter((id) => id.length >= 3),
  ]);
  // Short ids (a store's first orders) are not worth a text scan: their events come in through
  // another pattern (the email, the order number).
  const found = new Map<string, InboundEventRow>();
  for (const chunk of chunked(patterns)) {
    const rows = await db
      .selectFrom('inbound_events')
      .selectAll()
      .where((eb) => eb.or([...containsIgnoringCase(db, 'payload', chunk), ...containsJsonEscaped(db, 'payload', chunk)]))
      .execute();
    for (const row of rows) found.set(row.id, row);
  }
  return [...found.values()].filter((row) => isAboutSubject(row, subject)).sort((a, b) => (a.received_at < b.received_at ? -1 : a.received_at > b.received_at ? 1 : 0));
}

/** JSON text with its escapes decoded (`\u00fc` as ü), so it can be searched as written. */
function decodedJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

function isAboutSubject(row: InboundEventRow, subject: DataSubject): boolean {
  const parsed = parseStoredEvent(row.id, row.payload);
  if (!parsed.ok) return mentionsSubject(decodedJson(row.payload), subject);
  const event = parsed.event;
  switch (event.kind) {
    case 'order':
      return (
        (event.order.id !== null && subject.orderIds.includes(event.order.id)) ||
        (event.order.orderNumber !== null && subject.orderNumbers.includes(event.order.orderNumber)) ||
        customerIsSubject(event.order.customer, subject)
      );
    case 'dispute':
      return (event.dispute.orderId !== null && subject.orderIds.includes(event.dispute.orderId)) || (event.dispute.orderNumber !== null && subject.orderNumbers.includes(event.dispute.orderNumber));
    case 'subscription':
      return subject.subscriptionIds.includes(event.subscription.id) || customerIsSubject(event.subscription.customer, subject);
    case 'ticket':
      return subject.ticketIds.includes(event.ticket.id) || customerIsSubject(event.ticket.customer, subject);
    case 'unknown':
      return mentionsSubject(decodedJson(row.payload), subject);
  }
}

/** What stands in for the subject's email and name once erased. */
export interface ErasedPlaceholders {
  email: string;
  name: string;
}

const CUSTOMER_OBJECT_KEYS = new Set(['customer', 'user', 'buyer', 'billing', 'shipping', 'billing_address', 'shipping_address', 'address']);
const FREE_TEXT_KEYS = new Set(['subject', 'message', 'body', 'description', 'content', 'note', 'notes', 'comment']);
const PERSONAL_KEYS = new Set([
  'email',
  'ip',
  'ip_address',
  'phone',
  'discord_id',
  'discord_username',
  'steam_id',
  'steam_username',
  'game_user_id',
  'username',
  'first_name',
  'last_name',
  'full_name',
  'avatar',
]);

/**
 * A purchase event's payload with the subject's personal data taken out, still shaped so the
 * worker could read it again: the customer becomes the erased placeholder (the email maps a late
 * reprocessing onto the anonymised customer, never onto a new one), their address, Discord id,
 * free text and order metadata go, and any other mention of their identifiers is replaced.
 */
export function scrubEventPayload(payload: unknown, subject: DataSubject, placeholders: ErasedPlaceholders): unknown {
  const name = subject.row.name.trim().toLowerCase();
  const scrubString = (text: string): string => (name !== '' && text.trim().toLowerCase() === name ? placeholders.name : redactText(text, subject));
  const personalValue = (key: string): string | null => {
    if (key.endsWith('email')) return placeholders.email;
    if (key.endsWith('name') && !key.startsWith('product')) return placeholders.name;
    return null;
  };
  const walk = (value: unknown, key: string | null): unknown => {
    if (typeof value === 'string') return scrubString(value);
    if (Array.isArray(value)) return value.map((v) => walk(v, null));
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string, unknown> = {};
    const customerLike = key !== null && CUSTOMER_OBJECT_KEYS.has(key);
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'metadata') out[k] = {};
      // Inside the customer object everything is about them: only the placeholders stay.
      else if (customerLike) out[k] = k === 'email' || k === 'name' ? personalValue(k) : null;
      else if (k.startsWith('customer_') || PERSONAL_KEYS.has(k)) out[k] = personalValue(k);
      else if (FREE_TEXT_KEYS.has(k) && typeof v === 'string') out[k] = null;
      else out[k] = walk(v, k);
    }
    return out;
  };
  return walk(payload, null);
}
