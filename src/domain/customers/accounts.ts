import { findCustomerById, findCustomerIdByEmailLower, findCustomerIdByReferralCode, normalizeEmail, updateCustomer } from '../../store/customer.repository.js';
import { insertCustomer, serializeMetadata } from './registration.js';
import { GAME_USER_ID_MAX_LENGTH, isCustomerName, isEmailAddress, isGameUserId, NAME_MAX_LENGTH } from '../../shared/input-fields.js';
import { inTransaction, type Db } from '../../store/database.js';
import { recordActivity } from './activity-log.js';
import { formatIpHex, parseIp } from '../bans/targets.js';
import { checkIdentifiers, refusalFor } from '../bans/bans.js';
import type { Clock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import { countryForIp } from './geoip.js';
import { enqueueCustomerCreated } from '../webhooks/outbox.js';
import type { Actor, Customer } from './types.js';
import { findErasedAt } from '../privacy/erasure.js';

// Customers created and corrected from outside Discord (the store's website, through the REST API).

export interface RegisterCustomerInput {
  name: string;
  email: string;
  /** Already hashed (passwords.ts): the plaintext never reaches this module. */
  passwordHash?: string | null | undefined;
  /** ISO 3166-1 alpha-2; when absent it is looked up from `ip` in the offline GeoIP database. */
  country?: string | null | undefined;
  discordId?: string | null | undefined;
  steamId?: string | null | undefined;
  gameUserId?: string | null | undefined;
  /** The referral code the customer typed: whose code it is becomes `referred_by`. */
  referralCodeUsed?: string | null | undefined;
  referredBy?: number | null | undefined;
  metadata?: Record<string, unknown> | undefined;
  /** Where the customer registered from: checked against IP bans and kept as last IP (fraud checks only). */
  ip?: string | null | undefined;
  actor: Actor;
}

export type RegistrationResult =
  | { ok: true; customer: Customer; webhooksQueued: number }
  /** `message` is the generic refusal: never which identifier, never that it is a ban. */
  | { ok: false; message: string };

/** A customer's IP address in one canonical spelling, or UserError('ip_invalid'). */
export function canonicalIp(text: string): string {
  try {
    return formatIpHex(parseIp(text).hex);
  } catch {
    throw new UserError('ip_invalid', 'An IP address must be an IPv4 or IPv6 address.');
  }
}

async function findReferrerByCode(db: Db, code: string): Promise<number> {
  const trimmed = code.trim();
  // Generated codes are upper case; a customer may well type them in lower case.
  const id = await findCustomerIdByReferralCode(db, [...new Set([trimmed, trimmed.toUpperCase()])]);
  if (id === undefined) throw new UserError('referral_code_not_found', 'No customer has this referral code.');
  return id;
}

/**
 * Registers a customer for the store's website. The identifiers presented (email, IP, Discord,
 * Steam and game ids) are checked against active bans first, so a refusal reveals nothing about
 * which other values are taken; a refused registration writes nothing but a
 * `customer.create_refused` activity entry (ban ids only). Otherwise the customer, their
 * `customer.created` outbox deliveries and a `customer.create` activity entry commit together;
 * wake the delivery worker when `webhooksQueued > 0`. Malformed or taken values are UserErrors
 * from {@link insertCustomer}, plus `ip_invalid`, `referral_code_not_found` and `referral_conflict`.
 */
export async function registerCustomer(db: Db, clock: Clock, input: RegisterCustomerInput): Promise<RegistrationResult> {
  const ip = input.ip ? canonicalIp(input.ip) : null;
  return inTransaction(db, async (trx) => {
    const check = await checkIdentifiers(trx, clock, {
      email: input.email,
      ip: ip ?? undefined,
      discordId: input.discordId ?? undefined,
      steamId: input.steamId ?? undefined,
      gameId: input.gameUserId ?? undefined,
    });
    const refusal = refusalFor(check);
    if (refusal !== null) {
      await recordActivity(trx, clock, {
        actor: input.actor,
        action: 'customer.create_refused',
        targetType: 'ban',
        targetId: check.bans[0]?.id ?? null,
        details: { banIds: check.bans.map((b) => b.id) },
      });
      return { ok: false, message: refusal };
    }

    let referredBy = input.referredBy ?? null;
    if (input.referralCodeUsed) {
      const referrer = await findReferrerByCode(trx, input.referralCodeUsed);
      if (referredBy !== null && referredBy !== referrer) {
        throw new UserError('referral_conflict', 'The referral code belongs to a different customer than referred_by names.');
      }
      referredBy = referrer;
    }

    const customer = await insertCustomer(trx, clock, {
      name: input.name,
      email: input.email,
      passwordHash: input.passwordHash ?? null,
      country: input.country ?? (ip === null ? null : countryForIp(ip)),
      discord: input.discordId ? { id: input.discordId } : null,
      steam: input.steamId ? { id: input.steamId } : null,
      gameUserId: input.gameUserId ?? null,
      referredBy,
      metadata: input.metadata ?? {},
      lastIp: ip,
    });
    const webhooksQueued = await enqueueCustomerCreated(trx, clock, customer);
    await recordActivity(trx, clock, { actor: input.actor, action: 'customer.create', targetType: 'customer', targetId: customer.id });
    return { ok: true, customer, webhooksQueued };
  });
}

/** What staff or the store may correct about a customer (GDPR rectification). Linked accounts are not here. */
export interface CustomerCorrections {
  name?: string | undefined;
  email?: string | undefined;
  country?: string | null | undefined;
  gameUserId?: string | null | undefined;
  /**
   * Merged into the stored metadata key by key; a key set to null is removed (JSON Merge Patch,
   * RFC 7396, at the top level: nested objects are replaced whole).
   */
  metadata?: Record<string, unknown> | undefined;
}

const COUNTRY = /^[A-Z]{2}$/;

/**
 * Corrects a customer's name, email, country, game user id or metadata. Linked Discord and Steam
 * accounts cannot be set here: only the customer can link them, through the link page. Refuses
 * (UserError) an unknown customer (`customer_not_found`), malformed values (`name_length`,
 * `email_invalid`, `country_invalid`, `game_user_id_length`, `metadata_*`) and an email another
 * customer has (`email_taken`). Writes a `customer.update` activity entry naming the fields
 * (never their values: the log outlives erasure). A change to nothing changes nothing.
 */
export async function rectifyCustomer(db: Db, clock: Clock, customerId: number, changes: CustomerCorrections, actor: Actor): Promise<Customer> {
  return inTransaction(db, async (trx) => {
    const current = await findCustomerById(trx, customerId);
    if (!current) throw new UserError('customer_not_found', `No customer has id ${customerId}.`);
    // An erasure is final: nothing may write personal data back onto the anonymised record.
    if (await findErasedAt(trx, customerId)) throw new UserError('customer_erased', `Customer ${customerId} was erased and cannot be changed.`);
    const set: { name?: string; email?: string; email_lower?: string; country?: string | null; game_user_id?: string | null; metadata?: string } = {};

    if (changes.name !== undefined) {
      const name = changes.name.trim();
      if (!isCustomerName(name)) throw new UserError('name_length', `A customer name must be 1 to ${NAME_MAX_LENGTH} characters.`);
      if (name !== current.name) set.name = name;
    }
    if (changes.email !== undefined) {
      const email = changes.email.trim();
      if (!isEmailAddress(email)) throw new UserError('email_invalid', 'That is not an email address.');
      if (email !== current.email) {
        const lower = normalizeEmail(email);
        const owner = await findCustomerIdByEmailLower(trx, lower);
        if (owner !== undefined && owner !== customerId) throw new UserError('email_taken', 'That email is already registered to another customer.');
        set.email = email;
        set.email_lower = lower;
      }
    }
    if (changes.country !== undefined) {
      const country = changes.country?.trim().toUpperCase() || null;
      if (country !== null && !COUNTRY.test(country)) throw new UserError('country_invalid', 'A country must be an ISO 3166-1 alpha-2 code such as "US" or "DE".');
      if (country !== current.country) set.country = country;
    }
    if (changes.gameUserId !== undefined) {
      const gameUserId = changes.gameUserId?.trim() || null;
      if (gameUserId !== null && !isGameUserId(gameUserId)) {
        throw new UserError('game_user_id_length', `A game user id must be at most ${GAME_USER_ID_MAX_LENGTH} characters.`);
      }
      if (gameUserId !== current.gameUserId) set.game_user_id = gameUserId;
    }
    if (changes.metadata !== undefined) {
      const merged: Record<string, unknown> = { ...current.metadata };
      for (const [key, value] of Object.entries(changes.metadata)) {
        if (value === null) delete merged[key];
        else merged[key] = value;
      }
      const text = serializeMetadata(merged);
      if (text !== JSON.stringify(current.metadata)) set.metadata = text;
    }

    const fields = Object.keys(set).filter((f) => f !== 'email_lower');
    if (fields.length === 0) return current;
    try {
      await updateCustomer(trx, customerId, { ...set, updated_at: clock.now().toISOString() });
    } catch (error) {
      // A concurrent writer can take the email between the probe and the update.
      if (/UNIQUE constraint failed: customers\.email_lower|customers_email_lower/i.test(String(error))) {
        throw new UserError('email_taken', 'That email is already registered to another customer.');
      }
      throw error;
    }
    await recordActivity(trx, clock, { actor, action: 'customer.update', targetType: 'customer', targetId: customerId, details: { fields } });
    const updated = await findCustomerById(trx, customerId);
    if (!updated) throw new Error(`customer ${customerId} vanished inside its own update`);
    return updated;
  });
}
