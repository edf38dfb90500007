import {
  findActiveBanRowsByValue,
  findActiveBanRowsMatching,
  findBanRowById,
  insertBan,
  isBanRowActive,
  listBanRows,
  markBanLifted,
  toBan,
  type BanMatchTargets,
  type BanStatusFilter,
} from '../../store/ban.repository.js';
import {
  findBanIdentitiesByIdentifiers,
  findCustomerBanIdentity,
  listCustomerLastIps,
  type CustomerBanIdentity,
} from '../../store/customer.repository.js';
import { inTransaction, type Db } from '../../store/database.js';
import type { BanRow } from '../../store/schema/index.js';
import { recordActivity } from '../customers/activity-log.js';
import { formatAddressCount, formatDurationMs, measureIpRange, normaliseBanTarget, parseBanDuration, parseIp, parseIpOrCidr } from './targets.js';
import type { Clock } from '../../shared/clock.js';
import { withErasedForms } from '../privacy/erased-identifiers.js';
import { GENERIC_REFUSAL, UserError } from '../../shared/errors.js';
import { isBanType, type BanType } from '../../shared/vocabulary.js';
import type { Actor, Ban, Page } from '../customers/types.js';
import { BAN_REASON_MAX_LENGTH as REASON_MAX_LENGTH } from '../../shared/input-fields.js';
import { codePointLength } from '../../shared/text.js';

export type { BanStatusFilter };

const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;

/** What staff ask to ban, as typed: the target and duration are parsed here. */
export interface BanInput {
  type: BanType;
  target: string;
  /** `permanent`, `24h`, `7d`, `30d`, `90d` or a length like `12h`, `2w`, `1d12h`. */
  duration: string;
  /** Internal staff note, 1–500 characters; never shown to the customer. */
  reason: string;
}

export interface CreateBanInput extends BanInput {
  actor: Actor;
}

/** The customer a ban target belongs to, for the confirmation staff see before banning. */
export interface BanCustomer {
  id: number;
  name: string;
  email: string;
}

/** What {@link createBan} would write, computed without writing. */
export interface BanPreview {
  type: BanType;
  /** Canonical target: lower-cased email, canonical IP/CIDR, snowflake, SteamID64/name, customer id. */
  value: string;
  durationLabel: string;
  /** null for a permanent ban. */
  durationMs: number | null;
  /** When the ban would end if created now; null for a permanent ban. */
  expiresAt: string | null;
  /** The reason, trimmed. */
  reason: string;
  customer: BanCustomer | null;
  /** For an IP range (not a single address): how much it covers, in the preview only. */
  ipCoverage?: IpCoverage;
}

export interface IpCoverage {
  /** e.g. "16,777,216 addresses". */
  addresses: string;
  /** Wider than /16 (IPv4) or /32 (IPv6): staff are warned before they confirm. */
  wide: boolean;
  /** Customers last seen from an address in the range (a count only: no one is named). */
  knownCustomers: number;
}

export interface LiftBanInput {
  banId: number;
  actor: Actor;
  reason?: string | undefined;
}

export interface BanListQuery {
  /** Substring of the value or the reason, case-insensitive; `%` and `_` match themselves. */
  search?: string | undefined;
  type?: BanType | undefined;
  /** Defaults to `all`. */
  status?: BanStatusFilter | undefined;
  /** Bans linked to this customer (customer bans and bans on identifiers they owned when banned). */
  customerId?: number | undefined;
  offset?: number | undefined;
  /** 1–100, default 25. */
  limit?: number | undefined;
}

/** Identifiers presented at checkout or registration; any may be missing. */
export interface BanCheckIdentifiers {
  email?: string | undefined;
  ip?: string | undefined;
  discordId?: string | undefined;
  gameId?: string | undefined;
  steamId?: string | undefined;
  customerId?: number | undefined;
}

export interface BanCheckResult {
  allowed: boolean;
  /** The active bans that matched: for staff and logs, never for the customer. */
  bans: Ban[];
}

function assertBanType(type: string): asserts type is BanType {
  if (!isBanType(type)) {
    throw new UserError('bad_ban_type', 'Ban type must be one of email, ip, discord, game_id or customer.');
  }
}

function cleanReason(reason: string): string {
  const trimmed = reason.trim();
  const length = codePointLength(trimmed);
  if (length < 1 || length > REASON_MAX_LENGTH) {
    throw new UserError('reason_length', `The reason must be between 1 and ${REASON_MAX_LENGTH} characters.`);
  }
  return trimmed;
}

function cleanLiftReason(reason: string | undefined): string | null {
  const trimmed = reason?.trim() ?? '';
  if (codePointLength(trimmed) > REASON_MAX_LENGTH) {
    throw new UserError('reason_length', `The reason for lifting must be at most ${REASON_MAX_LENGTH} characters.`);
  }
  return trimmed === '' ? null : trimmed;
}

/** How a target is named in messages to staff: "That email address is already banned". */
function targetNoun(type: BanType, value: string): string {
  switch (type) {
    case 'email':
      return 'email address';
    case 'ip':
      return value.includes('/') ? 'IP range' : 'IP address';
    case 'discord':
      return 'Discord user';
    case 'game_id':
      return 'game ID';
    case 'customer':
      return 'customer';
  }
}

function toBanCustomer(identity: CustomerBanIdentity): BanCustomer {
  return { id: identity.id, name: identity.name, email: identity.email };
}

/**
 * The customer a target belongs to. IP bans are never tied to a customer: last_ip is kept for
 * fraud checks only, and showing "this IP is customer X's" would put it in front of staff.
 */
async function findTargetOwner(db: Db, type: BanType, value: string): Promise<CustomerBanIdentity | undefined> {
  switch (type) {
    case 'customer': {
      const customer = await findCustomerBanIdentity(db, Number(value));
      if (!customer) throw new UserError('customer_not_found', `No customer with id ${value}.`);
      return customer;
    }
    case 'email': {
      const [owner] = await findBanIdentitiesByIdentifiers(db, { emailsLower: [value] });
      return owner;
    }
    case 'discord': {
      const [owner] = await findBanIdentitiesByIdentifiers(db, { discordIds: [value] });
      return owner;
    }
    case 'game_id': {
      // A Steam ID is unique to one account; an in-game name may not be, so a Steam match wins.
      const owners = await findBanIdentitiesByIdentifiers(db, { gameIds: [value] });
      return owners.find((c) => c.steamId === value) ?? owners[0];
    }
    case 'ip':
      return undefined;
  }
}

interface PreparedBan {
  preview: BanPreview;
  ipRange: { start: string; end: string } | null;
}

async function prepareBan(db: Db, now: Date, input: BanInput): Promise<PreparedBan> {
  assertBanType(input.type);
  const value = normaliseBanTarget(input.type, input.target);
  const duration = parseBanDuration(input.duration);
  const reason = cleanReason(input.reason);
  const owner = await findTargetOwner(db, input.type, value);

  const nowIso = now.toISOString();
  const [existing] = await findActiveBanRowsByValue(db, nowIso, input.type, value);
  if (existing) {
    throw new UserError('already_banned', `That ${targetNoun(input.type, value)} is already banned (ban #${existing.id}).`);
  }

  const ipRange = input.type === 'ip' ? parseIpOrCidr(value) : null;
  return {
    preview: {
      type: input.type,
      value,
      durationLabel: duration.label,
      durationMs: duration.ms,
      expiresAt: duration.ms === null ? null : new Date(now.getTime() + duration.ms).toISOString(),
      reason,
      customer: owner ? toBanCustomer(owner) : null,
    },
    ipRange: ipRange && { start: ipRange.start, end: ipRange.end },
  };
}

/**
 * Runs every check {@link createBan} runs (target, duration, reason, customer exists, not already
 * banned) and returns what would be banned, without writing, so staff can confirm first.
 * Accepts the same input as createBan; the actor is not needed to preview.
 */
export async function previewBan(db: Db, clock: Clock, input: BanInput & { actor?: Actor | undefined }): Promise<BanPreview> {
  const { preview, ipRange } = await prepareBan(db, clock.now(), input);
  if (!ipRange || ipRange.start === ipRange.end) return preview;
  const size = measureIpRange(ipRange);
  return { ...preview, ipCoverage: { addresses: formatAddressCount(size), wide: size.wide, knownCustomers: await countCustomersSeenInRange(db, ipRange) } };
}

const IP_SCAN_BATCH = 5_000;

/**
 * Customers whose last address falls in the range. last_ip is stored as the text it arrived in,
 * so each is parsed here, a batch at a time; an address that does not parse is no one's.
 */
async function countCustomersSeenInRange(db: Db, range: { start: string; end: string }): Promise<number> {
  let count = 0;
  let after = 0;
  for (;;) {
    const rows = await listCustomerLastIps(db, after, IP_SCAN_BATCH);
    for (const row of rows) {
      if (row.last_ip === null) continue;
      let hex: string;
      try {
        hex = parseIp(row.last_ip).hex;
      } catch {
        continue;
      }
      if (hex >= range.start && hex <= range.end) count++;
    }
    const last = rows.at(-1);
    if (!last || rows.length < IP_SCAN_BATCH) return count;
    after = last.id;
  }
}

/**
 * Bans a target. The ban is linked to the customer who owns the target (or who is the target),
 * so it shows on their lookup; an active ban on the same type and value is refused. Writes the
 * ban and a `ban.create` activity entry in one transaction.
 */
export async function createBan(db: Db, clock: Clock, input: CreateBanInput): Promise<Ban> {
  return inTransaction(db, async (trx) => {
    const now = clock.now();
    const { preview, ipRange } = await prepareBan(trx, now, input);
    const row = await insertBan(trx, {
      type: preview.type,
      value: preview.value,
      customer_id: preview.customer?.id ?? null,
      ip_start: ipRange?.start ?? null,
      ip_end: ipRange?.end ?? null,
      reason: preview.reason,
      created_by_id: input.actor.id,
      created_by_name: input.actor.name,
      created_at: now.toISOString(),
      expires_at: preview.expiresAt,
      lifted_at: null,
      lifted_by_id: null,
      lifted_by_name: null,
      lift_reason: null,
    });
    // The reason and the target stay on the ban row: the log outlives erasure, so it keeps ids only.
    await recordActivity(trx, clock, {
      actor: input.actor,
      action: 'ban.create',
      targetType: 'ban',
      targetId: row.id,
      details: { type: row.type, duration: preview.durationLabel, expiresAt: row.expires_at, customerId: row.customer_id },
    });
    return toBan(row, now);
  });
}

function formatUtc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function notActiveError(row: BanRow): UserError {
  if (row.lifted_at !== null) {
    return new UserError(
      'ban_not_active',
      `Ban #${row.id} was already lifted on ${formatUtc(row.lifted_at)} by ${row.lifted_by_name ?? row.lifted_by_id ?? 'someone'}.`,
    );
  }
  return new UserError('ban_not_active', `Ban #${row.id} already expired on ${formatUtc(row.expires_at ?? '')}.`);
}

async function liftRow(db: Db, clock: Clock, row: BanRow, actor: Actor, reason: string | null): Promise<Ban> {
  const now = clock.now();
  const lifted = await markBanLifted(db, row.id, {
    liftedAt: now.toISOString(),
    liftedById: actor.id,
    liftedByName: actor.name,
    reason,
  });
  // Lifted by someone else between our read and our write.
  if (!lifted) throw notActiveError((await findBanRowById(db, row.id)) ?? row);
  await recordActivity(db, clock, {
    actor,
    action: 'ban.lift',
    targetType: 'ban',
    targetId: lifted.id,
    details: { type: lifted.type, customerId: lifted.customer_id },
  });
  return toBan(lifted, now);
}

/** Lifts one active ban by id, recording who lifted it, when and (optionally) why. */
export async function liftBan(db: Db, clock: Clock, input: LiftBanInput): Promise<Ban> {
  const reason = cleanLiftReason(input.reason);
  return inTransaction(db, async (trx) => {
    const row = await findBanRowById(trx, input.banId);
    if (!row) throw new UserError('ban_not_found', `No ban with id ${input.banId}.`);
    if (!isBanRowActive(row, clock.now().toISOString())) throw notActiveError(row);
    return liftRow(trx, clock, row, input.actor, reason);
  });
}

/** One ban by id, active or not; unknown → UserError `ban_not_found`. */
export async function getBan(db: Db, clock: Clock, id: number): Promise<Ban> {
  const row = await findBanRowById(db, id);
  if (!row) throw new UserError('ban_not_found', `No ban with id ${id}.`);
  return toBan(row, clock.now());
}

/** A page of bans, newest first. */
export async function listBans(db: Db, clock: Clock, query: BanListQuery = {}): Promise<Page<Ban>> {
  const now = clock.now();
  const offset = Math.max(0, Math.floor(query.offset ?? 0));
  const limit = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(query.limit ?? DEFAULT_PAGE_SIZE)));
  const { rows, total } = await listBanRows(db, now.toISOString(), {
    search: query.search,
    type: query.type,
    status: query.status,
    customerId: query.customerId,
    offset,
    limit,
  });
  return { items: rows.map((row) => toBan(row, now)), total, offset, limit };
}

function ipHexOf(text: string | null | undefined): string[] {
  if (!text) return [];
  try {
    return [parseIp(text).hex];
  } catch {
    // A stored or reported address that does not parse cannot be inside any banned range.
    return [];
  }
}

function identityTargets(customers: readonly CustomerBanIdentity[]): Required<Omit<BanMatchTargets, 'ipHexes'>> {
  return {
    emails: customers.map((c) => c.emailLower),
    discordIds: customers.flatMap((c) => (c.discordId ? [c.discordId] : [])),
    gameIds: customers.flatMap((c) => [c.steamId, c.gameUserId].filter((id): id is string => !!id)),
    customerIds: customers.map((c) => String(c.id)),
  };
}

/**
 * Every active ban that covers this customer: a customer ban on them, and email / Discord /
 * game ID (Steam ID or in-game id) bans on their identifiers as they are now, and IP bans whose
 * range contains the address they were last seen from. For the staff lookup; given the identity
 * already read with the rest of the row (findCustomerRecordById), the row is not read again.
 */
export async function findActiveBansForCustomer(db: Db, clock: Clock, customerOrId: number | CustomerBanIdentity): Promise<Ban[]> {
  const customer = typeof customerOrId === 'number' ? await findCustomerBanIdentity(db, customerOrId) : customerOrId;
  if (!customer) throw new UserError('customer_not_found', `No customer with id ${customerOrId as number}.`);
  const now = clock.now();
  const rows = await findActiveBanRowsMatching(
    db,
    now.toISOString(),
    await withErasedForms(db, { ...identityTargets([customer]), ipHexes: ipHexOf(customer.lastIp) }),
  );
  return rows.map((row) => toBan(row, now));
}

function lenientTarget(type: BanType, raw: string | undefined): string | null {
  const text = raw?.trim();
  if (!text) return null;
  try {
    return normaliseBanTarget(type, text);
  } catch {
    // Checkout data is not staff input: a malformed identifier is simply compared as given.
    return type === 'email' ? text.toLowerCase() : text;
  }
}

function unique(values: Iterable<string | null | undefined>): string[] {
  return [...new Set([...values].filter((v): v is string => !!v))];
}

/**
 * The checkout / registration check. Refused when any presented identifier has an active ban of
 * its type (an IP by range, IPv4 and IPv6 alike), or when an identifier belongs to a customer
 * account that is banned or whose linked identifiers are. Account ownership is read now, not at
 * ban time, so an ID linked after a customer ban is covered and lifting that one ban frees all.
 * The customer is only ever told {@link refusalFor}'s generic text.
 */
export async function checkIdentifiers(db: Db, clock: Clock, ids: BanCheckIdentifiers): Promise<BanCheckResult> {
  const email = lenientTarget('email', ids.email);
  const discordId = lenientTarget('discord', ids.discordId);
  const gameIds = unique([lenientTarget('game_id', ids.gameId), lenientTarget('game_id', ids.steamId)]);
  const customerId = ids.customerId !== undefined && Number.isSafeInteger(ids.customerId) && ids.customerId > 0 ? ids.customerId : null;

  const owners = await findBanIdentitiesByIdentifiers(db, {
    customerIds: customerId === null ? [] : [customerId],
    emailsLower: email ? [email] : [],
    discordIds: discordId ? [discordId] : [],
    gameIds,
  });
  // IP is deliberately not matched through owners: an account's last_ip is where it was, not who
  // is asking now, and shared addresses (CGNAT, campus networks) would spread one ban to strangers.
  const linked = identityTargets(owners);
  const now = clock.now();
  // A ban on an erased customer's identifier holds a keyed hash of it: match that form too.
  const rows = await findActiveBanRowsMatching(
    db,
    now.toISOString(),
    await withErasedForms(db, {
      emails: unique([email, ...linked.emails]),
      discordIds: unique([discordId, ...linked.discordIds]),
      gameIds: unique([...gameIds, ...linked.gameIds]),
      customerIds: unique([customerId === null ? null : String(customerId), ...linked.customerIds]),
      ipHexes: ipHexOf(ids.ip),
    }),
  );
  return { allowed: rows.length === 0, bans: rows.map((row) => toBan(row, now)) };
}

/** What to tell the customer: the generic refusal when refused (never "banned"), else null. */
export function refusalFor(result: BanCheckResult): string | null {
  return result.allowed ? null : GENERIC_REFUSAL;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * One line for staff, e.g.
 * `#12 email alice@example.com · 7 days (until 2026-11-29 12:00 UTC) · by Mod · "chargeback abuse"`,
 * with `(expired …)` or a trailing `· lifted … by …` when no longer active.
 */
export function describeBan(ban: Ban): string {
  let length = 'permanent';
  if (ban.expiresAt !== null) {
    const span = formatDurationMs(Date.parse(ban.expiresAt) - Date.parse(ban.createdAt));
    const ended = !ban.active && ban.liftedAt === null;
    length = `${span} (${ended ? 'expired' : 'until'} ${formatUtc(ban.expiresAt)})`;
  }
  const parts = [`#${ban.id} ${ban.type} ${ban.value}`, length, `by ${ban.createdBy.name}`, `"${oneLine(ban.reason)}"`];
  if (ban.liftedAt !== null) {
    const by = ban.liftedBy ? ` by ${ban.liftedBy.name}` : '';
    const why = ban.liftReason ? ` ("${oneLine(ban.liftReason)}")` : '';
    parts.push(`lifted ${formatUtc(ban.liftedAt)}${by}${why}`);
  }
  return parts.join(' · ');
}
