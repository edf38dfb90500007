import { type ExpressionBuilder, type Expression, type SqlBool } from 'kysely';
import type { BanType } from '../shared/vocabulary.js';
import type { Ban } from './records.js';
import type { Db } from './database.js';
import type { BanRow, Database, NewBanRow } from './schema/index.js';
import { newestFirstPage } from './paging.js';
import { containsIgnoringCase } from './text-match.js';

/** Whether a ban row is in force at `nowIso`: not lifted, and permanent or not yet expired. */
export function isBanRowActive(row: Pick<BanRow, 'lifted_at' | 'expires_at'>, nowIso: string): boolean {
  return row.lifted_at === null && (row.expires_at === null || row.expires_at > nowIso);
}

/** Maps a row to the domain shape; `active` is evaluated at `now`, so expiry needs no job. */
export function toBan(row: BanRow, now: Date): Ban {
  return {
    id: row.id,
    type: row.type,
    value: row.value,
    customerId: row.customer_id,
    reason: row.reason,
    createdBy: { id: row.created_by_id, name: row.created_by_name },
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    liftedAt: row.lifted_at,
    liftedBy: row.lifted_by_id === null ? null : { id: row.lifted_by_id, name: row.lifted_by_name ?? row.lifted_by_id },
    liftReason: row.lift_reason,
    active: isBanRowActive(row, now.toISOString()),
  };
}

type BansExpression = ExpressionBuilder<Database, 'bans'>;

// ISO-8601 UTC strings of one fixed width compare as text in time order, so expiry is a plain
// string comparison in SQL as well as in toBan.
function activeAt(eb: BansExpression, nowIso: string): Expression<SqlBool> {
  return eb.and([eb('lifted_at', 'is', null), eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', nowIso)])]);
}

export async function insertBan(db: Db, row: NewBanRow): Promise<BanRow> {
  return db.insertInto('bans').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findBanRowById(db: Db, id: number): Promise<BanRow | undefined> {
  return db.selectFrom('bans').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Active bans of one type on exactly this canonical value, oldest first. */
export async function findActiveBanRowsByValue(db: Db, nowIso: string, type: BanType, value: string): Promise<BanRow[]> {
  return db
    .selectFrom('bans')
    .selectAll()
    .where('type', '=', type)
    .where('value', '=', value)
    .where((eb) => activeAt(eb, nowIso))
    .orderBy('id')
    .execute();
}

/** Identifiers to test against active bans; each list is matched against bans of its own type. */
export interface BanMatchTargets {
  emails?: readonly string[];
  discordIds?: readonly string[];
  /** SteamID64s and in-game names: both are `game_id` bans. */
  gameIds?: readonly string[];
  /** Customer ids as text, the way `customer` bans store them. */
  customerIds?: readonly string[];
  /** Addresses as 32 hex digits; an ip ban matches when its range contains one. */
  ipHexes?: readonly string[];
}

/** Every active ban matching any of the targets, oldest first, each ban once. */
export async function findActiveBanRowsMatching(db: Db, nowIso: string, targets: BanMatchTargets): Promise<BanRow[]> {
  const byValue: Array<[BanType, readonly string[] | undefined]> = [
    ['email', targets.emails],
    ['discord', targets.discordIds],
    ['game_id', targets.gameIds],
    ['customer', targets.customerIds],
  ];
  const ipHexes = targets.ipHexes ?? [];
  if (byValue.every(([, values]) => !values?.length) && ipHexes.length === 0) return [];

  return db
    .selectFrom('bans')
    .selectAll()
    .where((eb) => {
      const matches: Array<Expression<SqlBool>> = [];
      for (const [type, values] of byValue) {
        if (values?.length) matches.push(eb.and([eb('type', '=', type), eb('value', 'in', [...values])]));
      }
      // Range containment on the (ip_start, ip_end) index: the hex is fixed width, so text order
      // is address order. Only ip bans have a range, so no type test: with one, SQLite walks the
      // (type, value) index over every ip ban instead of the range index.
      for (const hex of ipHexes) {
        matches.push(eb.and([eb('ip_start', '<=', hex), eb('ip_end', '>=', hex)]));
      }
      return eb.and([activeAt(eb, nowIso), eb.or(matches)]);
    })
    .orderBy('id')
    .execute();
}

export type BanStatusFilter = 'active' | 'expired' | 'lifted' | 'all';

export interface BanRowQuery {
  /** Substring of the value or the reason, case-insensitive; `%` and `_` match themselves. */
  search?: string | undefined;
  type?: BanType | undefined;
  status?: BanStatusFilter | undefined;
  customerId?: number | undefined;
  offset: number;
  limit: number;
}

/** One page of bans, newest first, and the total matching the filters. */
export async function listBanRows(db: Db, nowIso: string, query: BanRowQuery): Promise<{ rows: BanRow[]; total: number }> {
  let base = db.selectFrom('bans');
  if (query.type) base = base.where('type', '=', query.type);
  if (query.customerId !== undefined) base = base.where('customer_id', '=', query.customerId);
  switch (query.status ?? 'all') {
    case 'active':
      base = base.where((eb) => activeAt(eb, nowIso));
      break;
    case 'expired':
      base = base.where('lifted_at', 'is', null).where('expires_at', '<=', nowIso);
      break;
    case 'lifted':
      base = base.where('lifted_at', 'is not', null);
      break;
    case 'all':
      break;
  }
  const search = query.search?.trim();
  if (search) {
    // The builder has no LIKE … ESCAPE; the pattern is still a bound parameter.
    base = base.where((eb) => eb.or([...containsIgnoringCase(db, 'value', [search]), ...containsIgnoringCase(db, 'reason', [search])]));
  }

  return newestFirstPage(base, query);
}

export interface LiftBanRow {
  liftedAt: string;
  liftedById: string;
  liftedByName: string;
  reason: string | null;
}

/**
 * Marks a ban lifted unless someone lifted it first; returns the updated row, or undefined when
 * the ban was already lifted (or does not exist), so two staff racing to lift see one winner.
 */
export async function markBanLifted(db: Db, id: number, lift: LiftBanRow): Promise<BanRow | undefined> {
  return db
    .updateTable('bans')
    .set({ lifted_at: lift.liftedAt, lifted_by_id: lift.liftedById, lifted_by_name: lift.liftedByName, lift_reason: lift.reason })
    .where('id', '=', id)
    .where('lifted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Bans that expired or were lifted in (from, to]: the roles they withheld are free again. */
export async function listBansEndedBetween(db: Db, from: string, to: string): Promise<Array<{ customer_id: number | null; type: BanType; value: string }>> {
  return db
    .selectFrom('bans')
    .select(['customer_id', 'type', 'value'])
    .where((eb) =>
      eb.or([
        eb.and([eb('lifted_at', 'is', null), eb('expires_at', '>', from), eb('expires_at', '<=', to)]),
        eb.and([eb('lifted_at', '>', from), eb('lifted_at', '<=', to)]),
      ]),
    )
    .execute();
}
