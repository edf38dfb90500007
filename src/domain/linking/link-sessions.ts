import { createHash, createHmac, randomBytes } from 'node:crypto';
import { findCustomerById } from '../../store/customer.repository.js';
import type { Db } from '../../store/database.js';
import {
  deleteLinkSessionsExpiredBefore,
  findLinkSessionByTokenHash,
  insertLinkSession,
  setLinkAttempt,
  takeLinkAttempt,
} from '../../store/link-session.repository.js';
import type { LinkProvider, LinkSessionRow } from '../../store/schema/index.js';
import type { Clock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import type { Customer } from '../customers/types.js';
import { findErasedAt } from '../privacy/erasure.js';

export type { LinkProvider };

/** How long a link URL works after the store asked for it. */
export const LINK_TTL_MS = 15 * 60_000;
/** Expired sessions are kept this long (for a clear "expired" page), then deleted. */
const EXPIRED_SESSION_RETENTION_MS = 24 * 60 * 60_000;

// 32 random bytes in base64url: 43 characters, 256 bits, nothing to escape in a URL.
const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface LinkSession {
  id: number;
  customerId: number;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

export type LinkSessionLookup =
  | { status: 'usable'; session: LinkSession; customer: Customer }
  | { status: 'unknown' | 'expired' | 'used' };

export type LinkAttemptLookup =
  | { status: 'usable'; session: LinkSession; codeVerifier: string | null }
  | { status: 'unknown' | 'expired' | 'used' };

function notConfigured(): UserError {
  return new UserError('linking_not_configured', 'Account linking needs APP_SECRET to be set (32+ characters, e.g. `openssl rand -hex 32`).');
}

/** A fresh 256-bit secret, base64url: link tokens, OAuth states, PKCE verifiers. */
export function newLinkSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether `value` has the shape of a secret from {@link newLinkSecret}; anything else is refused unread. */
export function isLinkSecretShaped(value: string): boolean {
  return SECRET_SHAPE.test(value);
}

/**
 * What the database keeps of a link token or an attempt's state: HMAC-SHA256 keyed with
 * APP_SECRET, with the purpose mixed in so a token can never stand in for a state. A copy of
 * the database alone (a backup, a leaked export) gives neither usable links nor a way to test one.
 */
export function hashLinkSecret(appSecret: string, purpose: 'token' | 'state', value: string): string {
  return createHmac('sha256', appSecret).update(`link-${purpose}:${value}`).digest('hex');
}

/** PKCE S256: base64url(SHA-256(verifier)). */
export function pkceChallenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier).digest('base64url');
}

function toLinkSession(row: LinkSessionRow): LinkSession {
  return { id: row.id, customerId: row.customer_id, createdAt: row.created_at, expiresAt: row.expires_at, usedAt: row.used_at };
}

function sessionStatus(row: LinkSessionRow, nowIso: string): 'usable' | 'expired' | 'used' {
  if (row.used_at !== null) return 'used';
  return row.expires_at > nowIso ? 'usable' : 'expired';
}

/**
 * Issues a one-time link URL `PUBLIC_URL/link/<token>` for a customer, valid for 15 minutes
 * and spent by the first account linked through it. The token is random and only its keyed hash
 * is stored. Unknown customer → UserError `customer_not_found`; no APP_SECRET → UserError
 * `linking_not_configured`.
 */
export async function createLinkUrl(
  db: Db,
  clock: Clock,
  input: { customerId: number; publicUrl: string; appSecret: string | undefined },
): Promise<{ url: string; expiresAt: string }> {
  if (!input.appSecret) throw notConfigured();
  const customer = await findCustomerById(db, input.customerId);
  if (!customer) throw new UserError('customer_not_found', `No customer with id ${input.customerId}.`);
  if (await findErasedAt(db, customer.id)) throw new UserError('customer_erased', `Customer ${customer.id} was erased; accounts cannot be linked to it.`);
  const now = clock.now();
  const token = newLinkSecret();
  const expiresAt = new Date(now.getTime() + LINK_TTL_MS).toISOString();
  await insertLinkSession(db, {
    tokenHash: hashLinkSecret(input.appSecret, 'token', token),
    customerId: customer.id,
    createdAt: now.toISOString(),
    expiresAt,
  });
  // Sessions are tiny and short-lived: sweeping on issue keeps the table small with no extra job.
  await deleteLinkSessionsExpiredBefore(db, new Date(now.getTime() - EXPIRED_SESSION_RETENTION_MS).toISOString());
  return { url: `${input.publicUrl.replace(/\/+$/, '')}/link/${token}`, expiresAt };
}

/** The session behind a link token as the customer opens it: usable, or why not. */
export async function openLinkSession(db: Db, clock: Clock, appSecret: string, token: string): Promise<LinkSessionLookup> {
  if (!isLinkSecretShaped(token)) return { status: 'unknown' };
  const row = await findLinkSessionByTokenHash(db, hashLinkSecret(appSecret, 'token', token));
  if (!row) return { status: 'unknown' };
  const status = sessionStatus(row, clock.now().toISOString());
  if (status !== 'usable') return { status };
  const customer = await findCustomerById(db, row.customer_id);
  // Erased between issue and use: the cascade removes the session, but a read can race it.
  if (!customer) return { status: 'unknown' };
  return { status: 'usable', session: toLinkSession(row), customer };
}

/**
 * Starts a provider attempt on a usable session: a new single-use state (and, for Discord, a
 * PKCE verifier kept server-side). Any earlier attempt of the session stops working.
 */
export async function startLinkAttempt(
  db: Db,
  clock: Clock,
  appSecret: string,
  sessionId: number,
  provider: LinkProvider,
): Promise<{ state: string; codeVerifier: string | null; codeChallenge: string | null }> {
  const state = newLinkSecret();
  const codeVerifier = provider === 'discord' ? newLinkSecret() : null;
  await setLinkAttempt(db, sessionId, {
    provider,
    stateHash: hashLinkSecret(appSecret, 'state', state),
    codeVerifier,
    startedAt: clock.now().toISOString(),
  });
  return { state, codeVerifier, codeChallenge: codeVerifier && pkceChallenge(codeVerifier) };
}

/**
 * Consumes the attempt a provider callback names by its state. A state works once: forged,
 * replayed or superseded states are `unknown`. The session must still be usable.
 */
export async function takeLinkAttemptByState(
  db: Db,
  clock: Clock,
  appSecret: string,
  provider: LinkProvider,
  state: string,
): Promise<LinkAttemptLookup> {
  if (!isLinkSecretShaped(state)) return { status: 'unknown' };
  const row = await takeLinkAttempt(db, provider, hashLinkSecret(appSecret, 'state', state));
  if (!row) return { status: 'unknown' };
  const status = sessionStatus(row, clock.now().toISOString());
  if (status !== 'usable') return { status };
  return { status: 'usable', session: toLinkSession(row), codeVerifier: row.code_verifier };
}
