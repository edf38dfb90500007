import { createHash, randomBytes } from 'node:crypto';
import { compiledQuery } from '../../store/compiled-query.js';
import { inTransaction, type Db } from '../../store/database.js';
import type { ApiTokenRow } from '../../store/schema/index.js';
import { recordActivity, SYSTEM_ACTOR } from '../customers/activity-log.js';
import type { Clock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import type { Actor } from '../customers/types.js';

export const API_SCOPES = ['customers:read', 'customers:write', 'customers:delete', 'webhooks:read', 'webhooks:write'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** Recognisable in logs, config files and secret scanners ("customer desk key"). */
export const API_TOKEN_PREFIX = 'cdk_';
const TOKEN_RANDOM_BYTES = 32;
const DISPLAY_PREFIX_LENGTH = API_TOKEN_PREFIX.length + 8;
const TOKEN_PATTERN = /^cdk_[A-Za-z0-9_-]{43}$/;

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 60;
export const MAX_RATE_LIMIT_PER_MINUTE = 10_000;
export const TOKEN_NAME_MAX_LENGTH = 100;
// Writing last_used_at on every request would make every API read a database write.
const LAST_USED_RESOLUTION_MS = 60_000;

export type ApiTokenStatus = 'active' | 'revoked' | 'expired';

/** A token as it may be shown: never the plaintext, never the hash. */
export interface ApiTokenInfo {
  id: number;
  name: string;
  /** The token's first characters, e.g. `cdk_Ab12Cd34`. */
  prefix: string;
  scopes: ApiScope[];
  rateLimitPerMinute: number;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  status: ApiTokenStatus;
}

export interface CreateApiTokenInput {
  name: string;
  scopes: readonly string[];
  /** ISO-8601; absent for a token that never expires. */
  expiresAt?: string | null | undefined;
  rateLimitPerMinute?: number | undefined;
  actor?: Actor | undefined;
}

export type TokenAuthentication = { ok: true; token: ApiTokenInfo } | { ok: false; reason: 'unknown' | 'revoked' | 'expired' };

export function isApiScope(value: string): value is ApiScope {
  return (API_SCOPES as readonly string[]).includes(value);
}

/**
 * SHA-256, not scrypt/argon2: a slow hash protects low-entropy secrets (passwords) against
 * guessing. These tokens are 256 random bits, so guessing is hopeless whatever the hash, and a
 * fast hash lets every request find its token by an indexed equality lookup. That lookup is not
 * constant-time, but what leaks through timing is the hash of a guess, which says nothing useful
 * about any real token.
 */
export function hashApiToken(plaintext: string): string {
  return createHash('sha256').update(plaintext, 'utf8').digest('hex');
}

/** Validates and normalises a scope list: known scopes only, at least one, duplicates removed. */
export function parseScopes(scopes: readonly string[]): ApiScope[] {
  const unique = [...new Set(scopes.map((s) => s.trim()).filter(Boolean))];
  if (unique.length === 0) {
    throw new UserError('invalid_scopes', `A token needs at least one scope: ${API_SCOPES.join(', ')}.`);
  }
  const unknown = unique.filter((s) => !isApiScope(s));
  if (unknown.length > 0) {
    throw new UserError('invalid_scopes', `Unknown scope ${unknown.map((s) => `"${s}"`).join(', ')}; scopes are ${API_SCOPES.join(', ')}.`);
  }
  return API_SCOPES.filter((s) => unique.includes(s));
}

function statusOf(row: Pick<ApiTokenRow, 'revoked_at' | 'expires_at'>, nowIso: string): ApiTokenStatus {
  if (row.revoked_at !== null) return 'revoked';
  if (row.expires_at !== null && row.expires_at <= nowIso) return 'expired';
  return 'active';
}

function parseStoredScopes(text: string): ApiScope[] {
  // A hand-edited row must fail closed (no scopes), not throw on every request.
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? API_SCOPES.filter((s) => value.includes(s)) : [];
  } catch {
    return [];
  }
}

function toApiTokenInfo(row: ApiTokenRow, nowIso: string): ApiTokenInfo {
  return {
    id: row.id,
    name: row.name,
    prefix: row.token_prefix,
    scopes: parseStoredScopes(row.scopes),
    rateLimitPerMinute: row.rate_limit_per_minute,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    status: statusOf(row, nowIso),
  };
}

/**
 * Creates a token: 32 random bytes as base64url behind the `cdk_` prefix. The plaintext is
 * returned once and only its SHA-256 is stored, so it can never be shown again.
 */
export async function createApiToken(db: Db, clock: Clock, input: CreateApiTokenInput): Promise<{ token: string; record: ApiTokenInfo }> {
  const name = input.name.trim();
  if (name === '' || name.length > TOKEN_NAME_MAX_LENGTH) {
    throw new UserError('invalid_name', `A token needs a name of 1–${TOKEN_NAME_MAX_LENGTH} characters.`);
  }
  const scopes = parseScopes(input.scopes);
  const rateLimit = input.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE;
  if (!Number.isInteger(rateLimit) || rateLimit < 1 || rateLimit > MAX_RATE_LIMIT_PER_MINUTE) {
    throw new UserError('invalid_rate_limit', `The rate limit must be a whole number of requests per minute between 1 and ${MAX_RATE_LIMIT_PER_MINUTE}.`);
  }
  const now = clock.now();
  let expiresAt: string | null = null;
  if (input.expiresAt != null) {
    const at = new Date(input.expiresAt);
    if (Number.isNaN(at.getTime())) throw new UserError('invalid_expiry', 'The expiry must be a date and time, e.g. 2027-01-31T00:00:00Z.');
    if (at.getTime() <= now.getTime()) throw new UserError('invalid_expiry', 'The expiry must be in the future.');
    expiresAt = at.toISOString();
  }

  const token = API_TOKEN_PREFIX + randomBytes(TOKEN_RANDOM_BYTES).toString('base64url');
  const nowIso = now.toISOString();
  const row = await inTransaction(db, async (trx) => {
    const inserted = await trx
      .insertInto('api_tokens')
      .values({
        name,
        token_hash: hashApiToken(token),
        token_prefix: token.slice(0, DISPLAY_PREFIX_LENGTH),
        scopes: JSON.stringify(scopes),
        rate_limit_per_minute: rateLimit,
        expires_at: expiresAt,
        revoked_at: null,
        created_at: nowIso,
        last_used_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, clock, {
      actor: input.actor ?? SYSTEM_ACTOR,
      action: 'token.create',
      targetType: 'api_token',
      targetId: inserted.id,
      details: { name, prefix: inserted.token_prefix, scopes, expires_at: expiresAt, rate_limit_per_minute: rateLimit },
    });
    return inserted;
  });
  return { token, record: toApiTokenInfo(row, nowIso) };
}

// Every API request runs this lookup: compiled once, it skips building and compiling the query
// each time. No cache in front of it: a token revoked from the CLI (another process) must stop
// working at once.
const selectTokenByHash = compiledQuery<[string], ApiTokenRow>(1, (db, hash) => db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash));

/**
 * Finds the token a request presented. Anything not shaped like one of our tokens is `unknown`
 * without touching the database. A successful check refreshes `last_used_at` (at most once a minute).
 */
export async function authenticateToken(db: Db, clock: Clock, plaintext: string): Promise<TokenAuthentication> {
  if (!TOKEN_PATTERN.test(plaintext)) return { ok: false, reason: 'unknown' };
  const [row] = await selectTokenByHash(db, hashApiToken(plaintext));
  if (!row) return { ok: false, reason: 'unknown' };
  const now = clock.now();
  const nowIso = now.toISOString();
  const status = statusOf(row, nowIso);
  if (status !== 'active') return { ok: false, reason: status };

  if (row.last_used_at === null || now.getTime() - new Date(row.last_used_at).getTime() >= LAST_USED_RESOLUTION_MS) {
    await db.updateTable('api_tokens').set({ last_used_at: nowIso }).where('id', '=', row.id).execute();
    row.last_used_at = nowIso;
  }
  return { ok: true, token: toApiTokenInfo(row, nowIso) };
}

/** Revokes a token at once; revoking it again changes nothing. */
export async function revokeApiToken(db: Db, clock: Clock, id: number, actor: Actor = SYSTEM_ACTOR): Promise<ApiTokenInfo> {
  const nowIso = clock.now().toISOString();
  return inTransaction(db, async (trx) => {
    const row = Number.isSafeInteger(id) ? await trx.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
    if (!row) throw new UserError('token_not_found', `No API token has id ${id}.`);
    if (row.revoked_at !== null) return toApiTokenInfo(row, nowIso);
    const updated = await trx.updateTable('api_tokens').set({ revoked_at: nowIso }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    await recordActivity(trx, clock, {
      actor,
      action: 'token.revoke',
      targetType: 'api_token',
      targetId: id,
      details: { name: row.name, prefix: row.token_prefix },
    });
    return toApiTokenInfo(updated, nowIso);
  });
}

/** Every token, newest first, revoked and expired ones included (with their status). */
export async function listApiTokens(db: Db, clock: Clock): Promise<ApiTokenInfo[]> {
  const nowIso = clock.now().toISOString();
  const rows = await db.selectFrom('api_tokens').selectAll().orderBy('id', 'desc').execute();
  return rows.map((r) => toApiTokenInfo(r, nowIso));
}
