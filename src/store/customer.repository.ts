import { randomBytes } from 'node:crypto';
import { UserError, type UserErrorCode } from '../shared/errors.js';
import { truncateText } from '../shared/text.js';
import type { BanType } from '../shared/vocabulary.js';
import type { Customer } from './records.js';
import { compiledQuery } from './compiled-query.js';
import { insertRowsCompiled } from './bulk-insert.js';
import { isPostgres, type Db } from './database.js';
import { sql, type Expression, type SqlBool, type Updateable } from 'kysely';
import type { CustomerRow, CustomersTable, NewCustomerRow } from './schema/index.js';

export { EMAIL_MAX_LENGTH, EMAIL_SHAPE, GAME_USER_ID_MAX_LENGTH, METADATA_MAX_BYTES, METADATA_MAX_KEYS, NAME_MAX_LENGTH } from '../shared/input-fields.js';

/** A customer row as staff may see it: the password hash and last IP never leave the store. */
export function toCustomer(row: CustomerRow): Customer {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    country: row.country,
    discord: row.discord_id ? { id: row.discord_id, username: row.discord_username, avatar: row.discord_avatar } : null,
    steam: row.steam_id ? { id: row.steam_id, username: row.steam_username, avatar: row.steam_avatar } : null,
    gameUserId: row.game_user_id,
    twoFactorEnabled: row.two_factor_enabled === 1,
    lastSeenAt: row.last_seen_at,
    referralCode: row.referral_code,
    referredBy: row.referred_by,
    metadata: parseMetadata(row.metadata),
    supportTicketsCount: row.support_tickets_count,
    ordersCount: row.orders_count,
    totalSpentCents: row.total_spent_cents,
    firstOrderAt: row.first_order_at,
    lastOrderAt: row.last_order_at,
    lastOrderNumber: row.last_order_number,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function parseMetadata(text: string): Record<string, unknown> {
  // A hand-edited or legacy row must not make every read of that customer throw.
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? value : {};
  } catch {
    return {};
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// The lookups every command, API call and purchase event runs: compiled once, not built each time.
const selectCustomerById = compiledQuery<[number], CustomerRow>(1, (db, id) => db.selectFrom('customers').selectAll().where('id', '=', id));
const selectCustomerByDiscordId = compiledQuery<[string], CustomerRow>(1, (db, id) => db.selectFrom('customers').selectAll().where('discord_id', '=', id));
const selectCustomerBySteamId = compiledQuery<[string], CustomerRow>(1, (db, id) => db.selectFrom('customers').selectAll().where('steam_id', '=', id));
const selectCustomerByEmail = compiledQuery<[string], CustomerRow>(1, (db, email) => db.selectFrom('customers').selectAll().where('email_lower', '=', email));
const selectCustomerByOrderNumber = compiledQuery<[string, string, string], CustomerRow>(3, (db, asGiven, upper, lower) =>
  db
    .selectFrom('orders')
    .innerJoin('customers', 'customers.id', 'orders.customer_id')
    .selectAll('customers')
    .where('orders.order_number', 'in', [asGiven, upper, lower])
    .limit(1),
);
const selectCustomersByGameUserId = compiledQuery<[string, number], CustomerRow>(2, (db, id, limit) =>
  db.selectFrom('customers').selectAll().where('game_user_id', '=', id).orderBy('id').limit(limit),
);


export async function findCustomerById(db: Db, id: number): Promise<Customer | undefined> {
  if (!Number.isSafeInteger(id)) return undefined;
  const [row] = await selectCustomerById(db, id);
  return row && toCustomer(row);
}

/**
 * One customer row as each part of a staff view needs it: the customer staff see, the
 * identifiers bans are matched on, and when it was erased. A view reads the row once with this
 * and hands the parts down, instead of each part reading it again.
 */
export interface CustomerRecord {
  customer: Customer;
  banIdentity: CustomerBanIdentity;
  erasedAt: string | null;
}

export async function findCustomerRecordById(db: Db, id: number): Promise<CustomerRecord | undefined> {
  if (!Number.isSafeInteger(id)) return undefined;
  const [row] = await selectCustomerById(db, id);
  return row && { customer: toCustomer(row), banIdentity: toIdentity(row), erasedAt: row.erased_at };
}

/** Case-insensitive, surrounding whitespace ignored. */
export async function findCustomerByEmail(db: Db, email: string): Promise<Customer | undefined> {
  const [row] = await selectCustomerByEmail(db, normalizeEmail(email));
  return row && toCustomer(row);
}

export async function findCustomerByDiscordId(db: Db, discordId: string): Promise<Customer | undefined> {
  const [row] = await selectCustomerByDiscordId(db, discordId.trim());
  return row && toCustomer(row);
}

export async function findCustomerBySteamId(db: Db, steamId: string): Promise<Customer | undefined> {
  const [row] = await selectCustomerBySteamId(db, steamId.trim());
  return row && toCustomer(row);
}

/**
 * The customer who placed an order, by its number. Case-insensitive for the usual spellings (as
 * stored, upper or lower case) so the unique index still answers; a mixed-case number stored by
 * the platform is found only as stored.
 */
export async function findCustomerByOrderNumber(db: Db, orderNumber: string): Promise<Customer | undefined> {
  const trimmed = orderNumber.trim();
  const [row] = await selectCustomerByOrderNumber(db, trimmed, trimmed.toUpperCase(), trimmed.toLowerCase());
  return row && toCustomer(row);
}

export async function findCustomersByGameUserId(db: Db, gameUserId: string, limit = 25): Promise<Customer[]> {
  return (await selectCustomersByGameUserId(db, gameUserId.trim(), limit)).map(toCustomer);
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The spellings of an order number worth probing in the unique index: as given, upper, lower. */
export function orderNumberSpellings(orderNumber: string): string[] {
  const trimmed = orderNumber.trim();
  return [...new Set([trimmed, trimmed.toUpperCase(), trimmed.toLowerCase()])];
}

// Rows per INSERT: 27 columns × 400 stays well under SQLite's 32,766 and PostgreSQL's 65,535
// bound parameters.
const INSERT_CHUNK = 400;
// Values per `IN (…)` probe, for the same parameter limits.
const PROBE_CHUNK = 500;

/**
 * Stores customers whose fields the domain has validated ({@link ValidCustomerRow}), in input
 * order. Refuses (UserError) an email, Discord account, Steam account or referral code already in
 * use and an unknown referrer, and generates the referral codes not given. All-or-nothing only if
 * the caller passes a transaction.
 */
export async function insertCustomerRows(db: Db, rows: ValidCustomerRow[]): Promise<Customer[]> {
  if (rows.length === 0) return [];
  await refuseTakenValues(db, rows, 'email_lower', 'email_taken', (v) => `${v} is already registered to another customer.`);
  await refuseTakenValues(db, rows, 'discord_id', 'discord_taken', (v) => `Discord account ${v} is already linked to another customer.`);
  await refuseTakenValues(db, rows, 'steam_id', 'steam_taken', (v) => `Steam account ${v} is already linked to another customer.`);
  await refuseTakenValues(db, rows, 'referral_code', 'referral_code_taken', (v) => `Referral code ${v} is already in use.`);
  await refuseUnknownReferrers(db, rows);
  await assignReferralCodes(db, rows);

  const inserted: CustomerRow[] = [];
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    const chunk = rows.slice(start, start + INSERT_CHUNK);
    try {
      inserted.push(...(await insertRowsCompiled(db, 'customers', chunk, (d, rows) => d.insertInto('customers').values(rows as ValidCustomerRow[]).returningAll())));
    } catch (error) {
      // A concurrent writer can take an email between the probe and the insert.
      if (/UNIQUE constraint failed: customers\.email_lower|customers_email_lower/i.test(String(error))) {
        throw new UserError('email_taken', 'That email is already registered to another customer.');
      }
      throw error;
    }
  }
  // RETURNING order is not guaranteed by every engine: put rows back in input order by email.
  const byEmail = new Map(inserted.map((row) => [row.email_lower, row]));
  return rows.map((row) => {
    const stored = byEmail.get(row.email_lower);
    if (!stored) throw new Error(`inserted customer ${row.email_lower} was not returned`);
    return toCustomer(stored);
  });
}

/** A new customer's row as validation leaves it: every field checked and in its stored form. */
export type ValidCustomerRow = NewCustomerRow & { email_lower: string };

/**
 * Timestamps are compared as text everywhere, so every one is stored in the single form
 * `toISOString()` produces; `2025-01-20T14:30:00Z` and `…+02:00` would otherwise sort wrongly.
 */
/** Already in the stored form (toISOString()): kept as it is when it names a real moment. */
const CANONICAL_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$/;

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

export function normalizeTimestamp(value: string, field: string): string {
  // Most timestamps arrive as toISOString() wrote them (every one a bulk import or the store
  // itself writes): checking the fields is a fifth of the cost of parsing and printing again.
  // Anything else, a 30 February included (Date.parse rolls it over), takes the parse below.
  const canonical = CANONICAL_TIMESTAMP.exec(value);
  if (canonical) {
    const [, y, mo, d, h, mi, se] = canonical.map(Number) as [number, number, number, number, number, number, number];
    if (mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && h <= 23 && mi <= 59 && se <= 59) return value;
  }
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new UserError('bad_timestamp', `${field} "${truncateText(value, 40)}" is not a date and time.`);
  return new Date(time).toISOString();
}

type UniqueColumn = 'email_lower' | 'discord_id' | 'steam_id' | 'referral_code';

async function refuseTakenValues(
  db: Db,
  rows: readonly ValidCustomerRow[],
  column: UniqueColumn,
  code: UserErrorCode,
  message: (value: string) => string,
): Promise<void> {
  const seen = new Set<string>();
  for (const row of rows) {
    const value = row[column];
    if (value == null) continue;
    if (seen.has(value)) throw new UserError(code, message(value));
    seen.add(value);
  }
  const values = [...seen];
  for (let start = 0; start < values.length; start += PROBE_CHUNK) {
    const taken = await db
      .selectFrom('customers')
      .select(column)
      .where(column, 'in', values.slice(start, start + PROBE_CHUNK))
      .limit(1)
      .executeTakeFirst();
    const value = taken?.[column];
    if (value != null) throw new UserError(code, message(value));
  }
}

async function refuseUnknownReferrers(db: Db, rows: readonly ValidCustomerRow[]): Promise<void> {
  const ids = [...new Set(rows.flatMap((row) => (row.referred_by == null ? [] : [row.referred_by])))];
  const missing = await firstUnknownCustomerId(db, ids);
  if (missing !== undefined) {
    throw new UserError('referrer_not_found', `No customer with id ${missing} can be the referrer.`);
  }
}

export async function customerExists(db: Db, customerId: number): Promise<boolean> {
  return (await db.selectFrom('customers').select('id').where('id', '=', customerId).executeTakeFirst()) !== undefined;
}

/** The first of the ids (in their order) that names no customer, probed in chunks. */
export async function firstUnknownCustomerId(db: Db, ids: readonly number[]): Promise<number | undefined> {
  for (let start = 0; start < ids.length; start += PROBE_CHUNK) {
    const chunk = ids.slice(start, start + PROBE_CHUNK);
    const found = await db.selectFrom('customers').select('id').where('id', 'in', chunk).execute();
    const known = new Set(found.map((r) => r.id));
    const missing = chunk.find((id) => !known.has(id));
    if (missing !== undefined) return missing;
  }
  return undefined;
}

// Crockford base32: no I, L, O or U, so a code read aloud or typed from a screenshot survives.
const REFERRAL_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const REFERRAL_LENGTH = 8;

export function generateReferralCode(): string {
  const bytes = randomBytes(REFERRAL_LENGTH);
  let code = '';
  // 32 divides 256, so masking a byte to five bits is unbiased.
  for (const byte of bytes) code += REFERRAL_ALPHABET[byte & 31];
  return code;
}

async function assignReferralCodes(db: Db, rows: ValidCustomerRow[]): Promise<void> {
  const used = new Set(rows.flatMap((row) => (row.referral_code ? [row.referral_code] : [])));
  let pending = rows.filter((row) => !row.referral_code);
  // 32^8 ≈ 10^12 codes: a collision is rare even at a million customers, but a rare collision
  // must not fail an import, so regenerate until the probe finds none taken.
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= 10) throw new Error('could not generate unique referral codes');
    for (const row of pending) {
      let code = generateReferralCode();
      while (used.has(code)) code = generateReferralCode();
      used.add(code);
      row.referral_code = code;
    }
    const taken = new Set<string>();
    const codes = pending.map((row) => row.referral_code as string);
    for (let start = 0; start < codes.length; start += PROBE_CHUNK) {
      const found = await db
        .selectFrom('customers')
        .select('referral_code')
        .where('referral_code', 'in', codes.slice(start, start + PROBE_CHUNK))
        .execute();
      for (const r of found) if (r.referral_code) taken.add(r.referral_code);
    }
    pending = pending.filter((row) => taken.has(row.referral_code as string));
  }
}

/** What one lookup text could be; absent kinds are not probed. */
export interface IdentifierProbe {
  id?: number;
  discordId?: string;
  steamId?: string;
  email?: string;
  /** Probed as an order number (its usual spellings) and as a game user id. */
  text: string;
}

/**
 * Every customer the text could name: by id, Discord id, SteamID64 and email (unique indexes),
 * by order number and by game user id (the earliest `limit` registered), in that order of kind,
 * a customer named twice listed once. Each probe is a query compiled once (above): a lookup by
 * email runs three, and building them anew cost more than running them. (One UNION ALL statement
 * is slower still: SQLite runs the three apart faster than their union.)
 */
export async function findCustomersByIdentifiers(db: Db, probe: IdentifierProbe, limit = 25): Promise<Customer[]> {
  const { id, discordId, steamId, email, text } = probe;
  const probes: Array<() => Promise<Customer | Customer[] | undefined>> = [];
  if (id !== undefined) probes.push(() => findCustomerById(db, id));
  if (discordId !== undefined) probes.push(() => findCustomerByDiscordId(db, discordId));
  if (steamId !== undefined) probes.push(() => findCustomerBySteamId(db, steamId));
  if (email !== undefined) probes.push(() => findCustomerByEmail(db, email));
  probes.push(() => findCustomerByOrderNumber(db, text));
  probes.push(() => findCustomersByGameUserId(db, text, limit));
  // On PostgreSQL each probe is a round trip to the server: started together, the pool answers
  // them side by side instead of one wait after another. SQLite's one connection would only
  // queue them.
  const found: Array<Customer | Customer[] | undefined> = [];
  if (isPostgres(db)) found.push(...(await Promise.all(probes.map((run) => run()))));
  else for (const run of probes) found.push(await run());
  const distinct = new Map<number, Customer>();
  for (const customer of found.flat()) if (customer && !distinct.has(customer.id)) distinct.set(customer.id, customer);
  return [...distinct.values()];
}

/** Columns to change on one customer, as stored; the caller sets `updated_at` when it should move. */
export type CustomerPatch = Updateable<CustomersTable>;

export async function updateCustomer(db: Db, customerId: number, patch: CustomerPatch): Promise<void> {
  await db.updateTable('customers').set(patch).where('id', '=', customerId).execute();
}

/** The first customer (lowest id) whose referral code is one of the spellings given. */
export async function findCustomerIdByReferralCode(db: Db, spellings: readonly string[]): Promise<number | undefined> {
  const row = await db.selectFrom('customers').select('id').where('referral_code', 'in', spellings).orderBy('id').executeTakeFirst();
  return row?.id;
}

/** The customer registered with this email, given already normalised ({@link normalizeEmail}). */
export async function findCustomerIdByEmailLower(db: Db, emailLower: string): Promise<number | undefined> {
  const row = await db.selectFrom('customers').select('id').where('email_lower', '=', emailLower).executeTakeFirst();
  return row?.id;
}

/** Another customer than `customerId` who has this Discord or Steam account linked. */
export async function findOtherCustomerWithAccount(db: Db, column: 'discord_id' | 'steam_id', accountId: string, customerId: number): Promise<number | undefined> {
  const row = await db.selectFrom('customers').select('id').where(column, '=', accountId).where('id', '!=', customerId).executeTakeFirst();
  return row?.id;
}

/** When the customer was erased: null while they are not, undefined when there is no such customer. */
export async function findCustomerErasedAt(db: Db, customerId: number): Promise<string | null | undefined> {
  const row = await db.selectFrom('customers').select('erased_at').where('id', '=', customerId).executeTakeFirst();
  return row?.erased_at;
}

export async function countSupportTicket(db: Db, customerId: number, now: string): Promise<void> {
  await db
    .updateTable('customers')
    .set((eb) => ({ support_tickets_count: eb('support_tickets_count', '+', 1), updated_at: now }))
    .where('id', '=', customerId)
    .execute();
}

/** Stores the IP a customer was seen from, and the country when one is given; writes only what changed. */
export async function noteCustomerIp(db: Db, customerId: number, ip: string, country: string | null): Promise<void> {
  await db
    .updateTable('customers')
    .set(country === null ? { last_ip: ip } : { last_ip: ip, country })
    .where('id', '=', customerId)
    .where((eb) =>
      eb.or([
        eb('last_ip', 'is', null),
        eb('last_ip', '!=', ip),
        ...(country === null ? [] : [eb('country', 'is', null), eb('country', '!=', country)]),
      ]),
    )
    .execute();
}

/** Links a Discord id to a customer who has none linked; false when they already had one. */
export async function linkDiscordIfUnlinked(db: Db, customerId: number, discordId: string, now: string): Promise<boolean> {
  const linked = await db
    .updateTable('customers')
    .set({ discord_id: discordId, discord_username: null, discord_avatar: null, updated_at: now })
    .where('id', '=', customerId)
    .where('discord_id', 'is', null)
    .executeTakeFirst();
  return Number(linked.numUpdatedRows) > 0;
}

/** A customer's order figures, kept on the customer row so that lists and statistics never scan orders. */
export interface CustomerAggregates {
  ordersCount: number;
  totalSpentCents: number;
  firstOrderAt: string | null;
  lastOrderAt: string | null;
  lastOrderNumber: string | null;
}

/** The figures as stored, with what {@link storeAggregates} needs to write them. */
export interface StoredAggregates {
  id: number;
  orders_count: number;
  total_spent_cents: number;
  first_order_at: string | null;
  last_order_at: string | null;
  last_order_number: string | null;
  updated_at: string;
}

const STORED_AGGREGATE_COLUMNS = ['id', 'orders_count', 'total_spent_cents', 'first_order_at', 'last_order_at', 'last_order_number', 'updated_at'] as const;

export async function storedAggregatesOfCustomer(db: Db, customerId: number): Promise<StoredAggregates | undefined> {
  return db.selectFrom('customers').select(STORED_AGGREGATE_COLUMNS).where('id', '=', customerId).executeTakeFirst();
}

/** Of up to a probe's worth of customers; the caller chunks. */
export async function storedAggregatesOf(db: Db, customerIds: readonly number[]): Promise<StoredAggregates[]> {
  return db.selectFrom('customers').select(STORED_AGGREGATE_COLUMNS).where('id', 'in', customerIds).execute();
}

/** Writes new figures over stored ones; `updated_at` moves forward to `touchedAt` when that is later. */
export async function storeAggregates(db: Db, current: StoredAggregates, aggregates: CustomerAggregates, touchedAt: string | undefined): Promise<void> {
  await db
    .updateTable('customers')
    .set({
      orders_count: aggregates.ordersCount,
      total_spent_cents: aggregates.totalSpentCents,
      first_order_at: aggregates.firstOrderAt,
      last_order_at: aggregates.lastOrderAt,
      last_order_number: aggregates.lastOrderNumber,
      ...(touchedAt !== undefined && touchedAt > current.updated_at ? { updated_at: touchedAt } : {}),
    })
    .where('id', '=', current.id)
    .execute();
}

/**
 * {@link storeAggregates} for many customers in one UPDATE … FROM (VALUES …): a statement per
 * customer cost more to prepare than to run.
 */
export async function storeAggregatesOfMany(
  db: Db,
  changed: ReadonlyArray<{ row: StoredAggregates; aggregates: CustomerAggregates }>,
  touchedAt: string | undefined,
): Promise<void> {
  // VALUES columns are named column1… on SQLite and PostgreSQL alike.
  const values = sql.join(
    changed.map(
      ({ row, aggregates }) =>
        sql`(${row.id}, ${aggregates.ordersCount}, ${aggregates.totalSpentCents}, ${aggregates.firstOrderAt}, ${aggregates.lastOrderAt}, ${aggregates.lastOrderNumber}, ${
          touchedAt !== undefined && touchedAt > row.updated_at ? touchedAt : row.updated_at
        })`,
    ),
  );
  // PostgreSQL types bound VALUES as text; the integer columns say what they hold.
  const postgres = isPostgres(db);
  const v = (column: number) => sql.ref<number>(`v.column${column}`);
  const vInt = (column: number) => (postgres ? sql<number>`${v(column)}::bigint` : v(column));
  await db
    .updateTable('customers')
    .from(sql`(VALUES ${values})`.as('v'))
    .set({
      orders_count: sql<number>`${vInt(2)}`,
      total_spent_cents: sql<number>`${vInt(3)}`,
      first_order_at: sql<string | null>`${v(4)}`,
      last_order_at: sql<string | null>`${v(5)}`,
      last_order_number: sql<string | null>`${v(6)}`,
      updated_at: sql<string>`${v(7)}`,
    })
    .where('customers.id', '=', vInt(1))
    .execute();
}

export async function hasAnyCustomer(db: Db): Promise<boolean> {
  return (await db.selectFrom('customers').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Every customer row, erased ones included, counted now (not the trigger-kept figure). */
/** Every customer's id and registration time, for history counted after the fact (the sandbox's digest history). */
export async function listRegistrationTimes(db: Db): Promise<{ id: number; created_at: string }[]> {
  return db.selectFrom('customers').select(['id', 'created_at']).execute();
}

export async function countAllCustomers(db: Db): Promise<number> {
  const row = await db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return row.n;
}

/** The first `limit` customers with Discord linked, by id: their Discord id and username. */
export async function listDiscordLinkedCustomers(db: Db, limit: number): Promise<Array<{ discord_id: string | null; discord_username: string | null }>> {
  return db.selectFrom('customers').select(['discord_id', 'discord_username']).where('discord_id', 'is not', null).orderBy('id').limit(limit).execute();
}

/** The last `limit` customers registered with Discord linked, newest first: id and email. */
export async function listLatestDiscordLinkedCustomers(db: Db, limit: number): Promise<Array<{ id: number; email: string }>> {
  return db.selectFrom('customers').select(['id', 'email']).where('discord_id', 'is not', null).orderBy('id', 'desc').limit(limit).execute();
}

// Customer look-ups that only bans need, in the shape ban matching wants; last_ip never leaves
// the store and the domain except as input to ban matching.

/** What a customer's bans are matched on. */
export interface CustomerBanIdentity {
  id: number;
  name: string;
  email: string;
  emailLower: string;
  discordId: string | null;
  steamId: string | null;
  gameUserId: string | null;
  lastIp: string | null;
}

function toIdentity(row: {
  id: number;
  name: string;
  email: string;
  email_lower: string;
  discord_id: string | null;
  steam_id: string | null;
  game_user_id: string | null;
  last_ip: string | null;
}): CustomerBanIdentity {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    emailLower: row.email_lower,
    discordId: row.discord_id,
    steamId: row.steam_id,
    gameUserId: row.game_user_id,
    lastIp: row.last_ip,
  };
}

const IDENTITY_COLUMNS = ['id', 'name', 'email', 'email_lower', 'discord_id', 'steam_id', 'game_user_id', 'last_ip'] as const;

export async function findCustomerBanIdentity(db: Db, customerId: number): Promise<CustomerBanIdentity | undefined> {
  const row = await db.selectFrom('customers').select(IDENTITY_COLUMNS).where('id', '=', customerId).executeTakeFirst();
  return row && toIdentity(row);
}

export interface CustomerIdentifierQuery {
  customerIds?: readonly number[];
  emailsLower?: readonly string[];
  discordIds?: readonly string[];
  /** Matched against both steam_id and game_user_id. */
  gameIds?: readonly string[];
}

// In-game names are not unique, so one name can belong to many accounts; the cap keeps a common
// name from turning a check into a scan while still catching any realistic set of owners.
const MAX_OWNERS = 100;

/** Customers owning any of the identifiers, lowest id first (at most 100). */
export async function findBanIdentitiesByIdentifiers(db: Db, query: CustomerIdentifierQuery): Promise<CustomerBanIdentity[]> {
  const customerIds = query.customerIds ?? [];
  const emails = query.emailsLower ?? [];
  const discordIds = query.discordIds ?? [];
  const gameIds = query.gameIds ?? [];
  if (customerIds.length + emails.length + discordIds.length + gameIds.length === 0) return [];

  const rows = await db
    .selectFrom('customers')
    .select(IDENTITY_COLUMNS)
    .where((eb) => {
      const matches: Array<Expression<SqlBool>> = [];
      if (customerIds.length) matches.push(eb('id', 'in', [...customerIds]));
      if (emails.length) matches.push(eb('email_lower', 'in', [...emails]));
      if (discordIds.length) matches.push(eb('discord_id', 'in', [...discordIds]));
      if (gameIds.length) {
        matches.push(eb('steam_id', 'in', [...gameIds]));
        matches.push(eb('game_user_id', 'in', [...gameIds]));
      }
      return eb.or(matches);
    })
    .orderBy('id')
    .limit(MAX_OWNERS)
    .execute();
  return rows.map(toIdentity);
}

/** Up to `limit` customers with a last IP, by id after `afterId`: for scanning them in batches. */
export async function listCustomerLastIps(db: Db, afterId: number, limit: number): Promise<Array<{ id: number; last_ip: string | null }>> {
  return db
    .selectFrom('customers')
    .select(['id', 'last_ip'])
    .where('last_ip', 'is not', null)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** The customer's erased mark, read under a row lock on PostgreSQL so an erasure in progress orders before or after the caller. */
export async function lockCustomerErasedAt(db: Db, customerId: number): Promise<{ id: number; erased_at: string | null } | undefined> {
  return db
    .selectFrom('customers')
    .select(['id', 'erased_at'])
    .where('id', '=', customerId)
    .$if(isPostgres(db), (query) => query.forUpdate())
    .executeTakeFirst();
}

/** How many customers name this one as their referrer. */
export async function countReferrals(db: Db, customerId: number): Promise<number> {
  const referrals = await db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('referred_by', '=', customerId)
    .executeTakeFirstOrThrow();
  return Number(referrals.count);
}

/** The `limit` customers registered last, newest first. */
export async function listNewestCustomers(db: Db, limit: number): Promise<Customer[]> {
  const rows = await db.selectFrom('customers').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map(toCustomer);
}

/** The customers with these ids, in no particular order; ids that name no one are skipped. */
export async function findCustomersByIds(db: Db, ids: readonly number[]): Promise<Customer[]> {
  const rows = await db.selectFrom('customers').selectAll().where('id', 'in', ids).execute();
  return rows.map(toCustomer);
}

/** Up to `limit` customers whose name sorts in [from, to), by name then id. */
export async function listCustomersByNameRange(db: Db, from: string, to: string, limit: number): Promise<Customer[]> {
  const rows = await db.selectFrom('customers').selectAll().where('name', '>=', from).where('name', '<', to).orderBy('name').orderBy('id').limit(limit).execute();
  return rows.map(toCustomer);
}

/** Up to `limit` customers whose lower-cased email sorts in [from, to), by that email. */
export async function listCustomersByEmailRange(db: Db, from: string, to: string, limit: number): Promise<Customer[]> {
  const rows = await db.selectFrom('customers').selectAll().where('email_lower', '>=', from).where('email_lower', '<', to).orderBy('email_lower').limit(limit).execute();
  return rows.map(toCustomer);
}

/** The customer's name, linked Discord id and erased mark: what role planning needs of them. */
export async function findCustomerRoleIdentity(
  db: Db,
  customerId: number,
): Promise<{ id: number; name: string; discord_id: string | null; erased_at: string | null } | undefined> {
  return db.selectFrom('customers').select(['id', 'name', 'discord_id', 'erased_at']).where('id', '=', customerId).executeTakeFirst();
}

/** The id of the customer who has this Discord account linked. */
export async function findCustomerIdByDiscordId(db: Db, discordId: string): Promise<number | undefined> {
  const row = await db.selectFrom('customers').select('id').where('discord_id', '=', discordId).executeTakeFirst();
  return row?.id;
}

/** Customers an email, Discord or game-id ban names by their current identifiers (IP bans name nobody). */
export async function findCustomerIdsHoldingBanValue(db: Db, type: BanType, value: string): Promise<number[]> {
  const query = db.selectFrom('customers').select('id');
  let rows: { id: number }[];
  switch (type) {
    case 'email':
      rows = await query.where('email_lower', '=', value).execute();
      break;
    case 'discord':
      rows = await query.where('discord_id', '=', value).execute();
      break;
    case 'game_id':
      rows = await query.where((eb) => eb.or([eb('steam_id', '=', value), eb('game_user_id', '=', value)])).execute();
      break;
    case 'customer':
    case 'ip':
      return [];
  }
  return rows.map((r) => r.id);
}
