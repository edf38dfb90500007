import { createHmac } from 'node:crypto';
import type { BanMatchTargets } from '../../store/ban.repository.js';
import type { Db } from '../../store/database.js';
import type { BanType } from '../customers/types.js';

// An erased customer's email, Discord id or game id may still be banned: fraud prevention is a
// legitimate interest that outlives the account (GDPR art. 17(3), 21(1)). The ban then keeps a
// keyed hash of the value instead of the value, and checks hash what they are given to compare.
// The key lives in the database (privacy_keys), random per store: it stops anyone from looking
// up precomputed hashes, while the one thing the ban must still do (match the same identifier
// presented again) keeps working.

/** Every hashed ban value starts with this, so staff and code can tell it from a plain one. */
export const ERASED_VALUE_PREFIX = 'erased:';

const KEY_NAME = 'ban_hash_key';

export async function loadBanHashKey(db: Db): Promise<string | undefined> {
  const row = await db.selectFrom('privacy_keys').select('value').where('name', '=', KEY_NAME).executeTakeFirst();
  return row?.value;
}

/** The stored form of a canonical ban value (as `normaliseBanTarget` gives it) once its owner was erased. */
export function hashErasedIdentifier(key: string, type: BanType, canonicalValue: string): string {
  return ERASED_VALUE_PREFIX + createHmac('sha256', key).update(`${type}\n${canonicalValue}`).digest('hex');
}

/** Adds the hashed form of each email, Discord id and game id, so bans of erased customers match too. */
export async function withErasedForms(db: Db, targets: BanMatchTargets): Promise<BanMatchTargets> {
  const key = await loadBanHashKey(db);
  if (key === undefined) return targets;
  const both = (type: BanType, values: readonly string[] | undefined) => (values?.length ? [...values, ...values.map((v) => hashErasedIdentifier(key, type, v))] : values);
  return {
    ...targets,
    ...(targets.emails ? { emails: both('email', targets.emails) } : {}),
    ...(targets.discordIds ? { discordIds: both('discord', targets.discordIds) } : {}),
    ...(targets.gameIds ? { gameIds: both('game_id', targets.gameIds) } : {}),
  };
}
