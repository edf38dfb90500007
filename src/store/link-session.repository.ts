import type { Db } from './database.js';
import type { LinkProvider, LinkSessionRow } from './schema/index.js';

export async function insertLinkSession(
  db: Db,
  row: { tokenHash: string; customerId: number; createdAt: string; expiresAt: string },
): Promise<LinkSessionRow> {
  return db
    .insertInto('link_sessions')
    .values({ token_hash: row.tokenHash, customer_id: row.customerId, created_at: row.createdAt, expires_at: row.expiresAt })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findLinkSessionByTokenHash(db: Db, tokenHash: string): Promise<LinkSessionRow | undefined> {
  return db.selectFrom('link_sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Replaces the session's attempt in flight (if any): the earlier attempt's state stops working. */
export async function setLinkAttempt(
  db: Db,
  sessionId: number,
  attempt: { provider: LinkProvider; stateHash: string; codeVerifier: string | null; startedAt: string },
): Promise<void> {
  await db
    .updateTable('link_sessions')
    .set({ provider: attempt.provider, state_hash: attempt.stateHash, code_verifier: attempt.codeVerifier, attempt_started_at: attempt.startedAt })
    .where('id', '=', sessionId)
    .execute();
}

/**
 * Takes the attempt with this state, clearing it in the same statement: of two callbacks racing
 * with one state, exactly one gets the row. The row is returned as it was before the clearing.
 */
export async function takeLinkAttempt(db: Db, provider: LinkProvider, stateHash: string): Promise<LinkSessionRow | undefined> {
  const row = await db
    .selectFrom('link_sessions')
    .selectAll()
    .where('state_hash', '=', stateHash)
    .where('provider', '=', provider)
    .executeTakeFirst();
  if (!row) return undefined;
  const taken = await db
    .updateTable('link_sessions')
    .set({ state_hash: null, code_verifier: null })
    .where('id', '=', row.id)
    .where('state_hash', '=', stateHash)
    .executeTakeFirst();
  return taken.numUpdatedRows === 1n ? row : undefined;
}

/** Spends the link; false when it was already spent or has expired meanwhile. */
export async function markLinkSessionUsed(db: Db, sessionId: number, provider: LinkProvider, nowIso: string): Promise<boolean> {
  const result = await db
    .updateTable('link_sessions')
    .set({ used_at: nowIso, linked_provider: provider, state_hash: null, code_verifier: null })
    .where('id', '=', sessionId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', nowIso)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Deletes sessions that expired before `beforeIso`; returns how many. */
export async function deleteLinkSessionsExpiredBefore(db: Db, beforeIso: string): Promise<number> {
  const result = await db.deleteFrom('link_sessions').where('expires_at', '<', beforeIso).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function isOpenIdNonceUsed(db: Db, nonce: string): Promise<boolean> {
  const row = await db.selectFrom('used_openid_nonces').select('response_nonce').where('response_nonce', '=', nonce).executeTakeFirst();
  return row !== undefined;
}

/** Records a nonce as used; false when it already was (a replay), decided by the primary key. */
export async function recordOpenIdNonce(db: Db, nonce: string, seenAtIso: string): Promise<boolean> {
  const result = await db
    .insertInto('used_openid_nonces')
    .values({ response_nonce: nonce, seen_at: seenAtIso })
    .onConflict((oc) => oc.column('response_nonce').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function deleteOpenIdNoncesSeenBefore(db: Db, beforeIso: string): Promise<number> {
  const result = await db.deleteFrom('used_openid_nonces').where('seen_at', '<', beforeIso).executeTakeFirst();
  return Number(result.numDeletedRows);
}
