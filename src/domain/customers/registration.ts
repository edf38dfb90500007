import type { Clock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import {
  GAME_USER_ID_MAX_LENGTH,
  isCustomerName,
  isEmailAddress,
  isGameUserId,
  METADATA_MAX_BYTES,
  METADATA_MAX_KEYS,
  NAME_MAX_LENGTH,
} from '../../shared/input-fields.js';
import { truncateText } from '../../shared/text.js';
import { insertCustomerRows, normalizeEmail, normalizeTimestamp, type ValidCustomerRow } from '../../store/customer.repository.js';
import type { Db } from '../../store/database.js';
import type { Customer } from './types.js';

// What a new customer must be: the fields' rules here, the uniqueness the store's indexes hold
// in insertCustomerRows.

export interface NewCustomerInput {
  name: string;
  email: string;
  /** ISO 3166-1 alpha-2, any case. */
  country?: string | null;
  discord?: { id: string; username?: string | null; avatar?: string | null } | null;
  steam?: { id: string; username?: string | null; avatar?: string | null } | null;
  gameUserId?: string | null;
  passwordHash?: string | null;
  lastIp?: string | null;
  lastSeenAt?: string | null;
  twoFactorEnabled?: boolean;
  /** Generated (8 characters of Crockford base32) when absent. */
  referralCode?: string | null;
  referredBy?: number | null;
  metadata?: Record<string, unknown>;
  supportTicketsCount?: number;
  /** Registration time, for imports and seeding; defaults to now. */
  createdAt?: string;
}

/**
 * Registers one customer. Refuses (UserError) a malformed email or name, an email, Discord
 * account, Steam account or referral code already in use, an unknown referrer and oversized
 * metadata. Bans are not checked here: that is the caller's decision.
 */
export async function insertCustomer(db: Db, clock: Clock, input: NewCustomerInput): Promise<Customer> {
  const [customer] = await insertCustomers(db, clock, [input]);
  if (!customer) throw new Error('insertCustomers returned no row for one input');
  return customer;
}

/**
 * Registers many customers with the same validation as {@link insertCustomer}, in input order.
 * All-or-nothing only if the caller passes a transaction; for very large imports call it in
 * batches (every returned customer is held in memory).
 */
export async function insertCustomers(db: Db, clock: Clock, inputs: readonly NewCustomerInput[]): Promise<Customer[]> {
  if (inputs.length === 0) return [];
  const now = clock.now().toISOString();
  const rows = inputs.map((input, index) => {
    try {
      return validateNewCustomer(input, now);
    } catch (error) {
      throw inputs.length > 1 ? withRowNumber(error, index) : error;
    }
  });
  return insertCustomerRows(db, rows);
}

function withRowNumber(error: unknown, index: number): unknown {
  return error instanceof UserError ? new UserError(error.code, `Customer #${index + 1}: ${error.message}`) : error;
}

const DISCORD_ID = /^\d{17,20}$/;
const STEAM_ID64 = /^7656119\d{10}$/;
const COUNTRY = /^[A-Z]{2}$/;
const REFERRAL_CODE = /^[A-Za-z0-9_-]{4,32}$/;

function validateNewCustomer(input: NewCustomerInput, now: string): ValidCustomerRow {
  const name = input.name.trim();
  if (!isCustomerName(name)) {
    throw new UserError('name_length', `A customer name must be 1 to ${NAME_MAX_LENGTH} characters.`);
  }
  const email = input.email.trim();
  if (!isEmailAddress(email)) {
    throw new UserError('email_invalid', `"${truncateText(email, 60)}" is not an email address.`);
  }
  const country = input.country?.trim().toUpperCase() || null;
  if (country !== null && !COUNTRY.test(country)) {
    throw new UserError('country_invalid', 'A country must be an ISO 3166-1 alpha-2 code such as "US" or "DE".');
  }
  const discordId = input.discord?.id.trim() || null;
  if (discordId !== null && !DISCORD_ID.test(discordId)) {
    throw new UserError('discord_id_invalid', 'A Discord id is a snowflake of 17 to 20 digits.');
  }
  const steamId = input.steam?.id.trim() || null;
  if (steamId !== null && !STEAM_ID64.test(steamId)) {
    throw new UserError('steam_id_invalid', 'A Steam id must be a SteamID64 (17 digits starting 7656119).');
  }
  const gameUserId = input.gameUserId?.trim() || null;
  if (gameUserId !== null && !isGameUserId(gameUserId)) {
    throw new UserError('game_user_id_length', `A game user id must be at most ${GAME_USER_ID_MAX_LENGTH} characters.`);
  }
  const referralCode = input.referralCode?.trim() || null;
  if (referralCode !== null && !REFERRAL_CODE.test(referralCode)) {
    throw new UserError('referral_code_invalid', 'A referral code is 4 to 32 letters, digits, "-" or "_".');
  }
  const referredBy = input.referredBy ?? null;
  if (referredBy !== null && !(Number.isSafeInteger(referredBy) && referredBy > 0)) {
    throw new UserError('referrer_not_found', `No customer with id ${String(referredBy)} can be the referrer.`);
  }
  const supportTickets = input.supportTicketsCount ?? 0;
  if (!Number.isSafeInteger(supportTickets) || supportTickets < 0) {
    throw new UserError('support_tickets_invalid', 'The support tickets count must be a whole number, 0 or more.');
  }
  const createdAt = input.createdAt === undefined ? now : normalizeTimestamp(input.createdAt, 'createdAt');
  return {
    name,
    email,
    email_lower: normalizeEmail(email),
    password_hash: input.passwordHash ?? null,
    country,
    discord_id: discordId,
    discord_username: discordId ? (input.discord?.username ?? null) : null,
    discord_avatar: discordId ? (input.discord?.avatar ?? null) : null,
    steam_id: steamId,
    steam_username: steamId ? (input.steam?.username ?? null) : null,
    steam_avatar: steamId ? (input.steam?.avatar ?? null) : null,
    game_user_id: gameUserId,
    two_factor_enabled: input.twoFactorEnabled ? 1 : 0,
    last_seen_at: input.lastSeenAt == null ? null : normalizeTimestamp(input.lastSeenAt, 'lastSeenAt'),
    last_ip: input.lastIp ?? null,
    referral_code: referralCode,
    referred_by: referredBy,
    metadata: serializeMetadata(input.metadata ?? {}),
    support_tickets_count: supportTickets,
    created_at: createdAt,
    updated_at: createdAt,
  };
}

/** Serialises customer metadata, refusing anything that is not a small flat-ish JSON object. */
export function serializeMetadata(metadata: unknown): string {
  if (!isPlainObject(metadata)) {
    throw new UserError('metadata_invalid', 'Metadata must be a JSON object of key/value pairs.');
  }
  if (Object.keys(metadata).length > METADATA_MAX_KEYS) {
    throw new UserError('metadata_too_large', `Metadata may hold at most ${METADATA_MAX_KEYS} keys.`);
  }
  let text: string;
  try {
    text = JSON.stringify(metadata);
  } catch {
    throw new UserError('metadata_invalid', 'Metadata must be serialisable as JSON.');
  }
  if (Buffer.byteLength(text, 'utf8') > METADATA_MAX_BYTES) {
    throw new UserError('metadata_too_large', `Metadata may take at most ${METADATA_MAX_BYTES / 1024} KiB as JSON.`);
  }
  return text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
