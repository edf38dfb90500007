import { sql } from 'kysely';
import {
  findCustomerByDiscordId,
  findCustomerByEmail,
  findCustomerById,
  findCustomersByIdentifiers,
  findCustomersByIds,
  findCustomerBySteamId,
  listCustomersByEmailRange,
  listCustomersByNameRange,
  listNewestCustomers,
  type IdentifierProbe,
} from '../../store/customer.repository.js';
import { findPostgresTextMatchIds } from '../../store/customer-counts.repository.js';
import { isPostgres, type Db } from '../../store/database.js';
import { ftsPhrase, searchCustomersByText, SEARCH_MAX_LENGTH } from './list.js';
import { UserError } from '../../shared/errors.js';
import { EMAIL_MAX_LENGTH, looksLikeEmail } from '../../shared/input-fields.js';
import { clipText, codePointLength } from '../../shared/text.js';
import type { Customer } from './types.js';

export type LookupResult = { kind: 'customer'; customer: Customer } | { kind: 'matches'; matches: Customer[]; total: number };

/** Room for the longest identifier a customer can have (an email), so any customer can be looked up. */
export const LOOKUP_QUERY_MAX_LENGTH = EMAIL_MAX_LENGTH;
const LOOKUP_MATCHES = 25;

const EXPLICIT_ID = /^(?:id:\s*|#)(\d{1,16})$/i;
const DISCORD_MENTION = /^<@!?(\d{17,20})>$/;
const STEAM_PROFILE_URL = /^(?:https?:\/\/)?(?:www\.)?steamcommunity\.com\/profiles\/(7656119\d{10})\/?(?:[?#].*)?$/i;
const SNOWFLAKE = /^\d{17,20}$/;
const STEAM_ID64 = /^7656119\d{10}$/;

/**
 * The one query box of `/customer lookup`. Recognised identifiers are matched exactly: `id:123`,
 * `#123`, a Discord mention, a Steam profile URL (explicit forms: nothing else is tried); an
 * email; a bare number as customer id, Discord id (17–20 digits), SteamID64, order number or game
 * user id; any other text as order number or game user id. When no identifier matches (and the
 * query was not an explicit form) the text is searched as a substring of names and emails.
 * One customer → `customer`; several → `matches` (up to 25, newest first, exact total).
 * Refuses an empty query, one longer than the longest email, one holding a NUL, and a query that
 * matches nobody.
 */
export async function lookupCustomer(db: Db, query: string): Promise<LookupResult> {
  const text = query.trim();
  if (text === '') throw new UserError('empty_query', 'Type a name, email, id, Discord or Steam account, or order number.');
  if ([...text].length > LOOKUP_QUERY_MAX_LENGTH) {
    throw new UserError('query_too_long', `A lookup may be at most ${LOOKUP_QUERY_MAX_LENGTH} characters.`);
  }
  // Neither SQLite's full-text queries nor PostgreSQL's text can hold a NUL.
  if (text.includes('\u0000')) throw new UserError('query_invalid', 'A lookup cannot contain a NUL character.');

  const explicit = await findByExplicitForm(db, text);
  if (explicit !== null) {
    if (!explicit) throw notFound(text);
    return { kind: 'customer', customer: explicit };
  }

  const hits = await findByIdentifiers(db, text);
  if (hits.length === 1) return { kind: 'customer', customer: hits[0] as Customer };
  if (hits.length > 1) return { kind: 'matches', matches: hits.slice(0, LOOKUP_MATCHES), total: hits.length };

  // Longer than any name, only an identifier (a long email) could have matched.
  if (codePointLength(text) > SEARCH_MAX_LENGTH) throw notFound(text);
  const { rows, total } = await searchCustomersByText(db, text, LOOKUP_MATCHES);
  if (total === 0) throw notFound(text);
  if (total === 1 && rows[0]) return { kind: 'customer', customer: rows[0] };
  return { kind: 'matches', matches: rows, total };
}

/** `undefined` when an explicit form found nobody; `null` when the query is not an explicit form. */
async function findByExplicitForm(db: Db, text: string): Promise<Customer | undefined | null> {
  const id = EXPLICIT_ID.exec(text)?.[1];
  if (id !== undefined) return findCustomerById(db, Number(id));
  const mention = DISCORD_MENTION.exec(text)?.[1];
  if (mention !== undefined) return findCustomerByDiscordId(db, mention);
  const steam = STEAM_PROFILE_URL.exec(text)?.[1];
  if (steam !== undefined) return findCustomerBySteamId(db, steam);
  return null;
}

async function findByIdentifiers(db: Db, text: string): Promise<Customer[]> {
  const probe: IdentifierProbe = { text };
  if (/^\d+$/.test(text)) {
    probe.id = Number(text);
    if (SNOWFLAKE.test(text)) probe.discordId = text;
    if (STEAM_ID64.test(text)) probe.steamId = text;
  }
  if (looksLikeEmail(text)) probe.email = text;
  return findCustomersByIdentifiers(db, probe, LOOKUP_MATCHES);
}

function notFound(query: string): UserError {
  return new UserError('customer_not_found', `No customer matches "${quoteForMessage(query)}".`);
}

/**
 * The query as it may be echoed inside double quotes: one line, no quote that would end the
 * quotation early, at most 50 characters.
 */
export function quoteForMessage(query: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = query.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replaceAll('"', "'");
  return clipText(flat, 50);
}

const CHOICE_MAX_LENGTH = 100;
const AUTOCOMPLETE_MAX = 25;

/**
 * Choices for the lookup option's autocomplete, answerable within Discord's 3 seconds at a
 * million customers: empty input → the newest customers; an id, snowflake, SteamID64 or email →
 * that customer first; 3+ characters → trigram index matches, newest registrations first (by
 * id, which the index returns in order, so nothing is sorted); 1–2 characters → customers whose
 * name or email starts with them (index ranges; a substring of 1–2 characters would need a
 * scan). Each value is `id:<id>`, which lookupCustomer resolves directly.
 */
export async function autocompleteCustomers(
  db: Db,
  partial: string,
  limit = AUTOCOMPLETE_MAX,
): Promise<Array<{ name: string; value: string }>> {
  const max = Math.min(AUTOCOMPLETE_MAX, Math.max(1, Math.trunc(limit) || AUTOCOMPLETE_MAX));
  const text = clipText(partial.trim(), LOOKUP_QUERY_MAX_LENGTH, '');
  const chosen = new Map<number, Customer>();
  const add = (customers: Array<Customer | undefined>) => {
    for (const c of customers) if (c && chosen.size < max && !chosen.has(c.id)) chosen.set(c.id, c);
  };

  if (text === '') {
    add(await listNewestCustomers(db, max));
  } else {
    add([(await findByExplicitForm(db, text)) ?? undefined]);
    if (/^\d{1,16}$/.test(text)) add([await findCustomerById(db, Number(text))]);
    if (SNOWFLAKE.test(text)) add([await findCustomerByDiscordId(db, text)]);
    if (STEAM_ID64.test(text)) add([await findCustomerBySteamId(db, text)]);
    if (looksLikeEmail(text)) add([await findCustomerByEmail(db, text)]);
    // FTS5 reads its query as a C string: a NUL would end it mid-quote.
    if (chosen.size < max && !text.includes('\u0000')) {
      add([...text].length >= 3 ? await trigramMatches(db, text, max) : await prefixMatches(db, text, max));
    }
  }
  return [...chosen.values()].map((customer) => ({ name: choiceName(customer), value: `id:${customer.id}` }));
}

async function trigramMatches(db: Db, text: string, limit: number): Promise<Customer[]> {
  const ids = isPostgres(db)
    ? await findPostgresTextMatchIds(db, text, limit)
    : (
        await db
          .selectFrom('customer_search')
          .select('rowid')
          .where(sql<string>`customer_search`, 'match', ftsPhrase(text))
          .orderBy('rowid', 'desc')
          .limit(limit)
          .execute()
      ).map((r) => r.rowid);
  if (ids.length === 0) return [];
  const byId = new Map((await findCustomersByIds(db, ids)).map((customer) => [customer.id, customer]));
  return ids.flatMap((id) => {
    const customer = byId.get(id);
    return customer ? [customer] : [];
  });
}

/** Names and emails starting with a 1–2 character prefix, each case spelling an index range. */
async function prefixMatches(db: Db, prefix: string, limit: number): Promise<Customer[]> {
  const found: Customer[] = [];
  for (const spelling of caseSpellings(prefix)) found.push(...(await listCustomersByNameRange(db, spelling, prefixSuccessor(spelling), limit)));
  const lower = prefix.toLowerCase();
  found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id));
  found.push(...(await listCustomersByEmailRange(db, lower, prefixSuccessor(lower), limit)));
  return found;
}

/** Every upper/lower spelling of a short prefix: "al" → al, aL, Al, AL. */
function caseSpellings(prefix: string): string[] {
  let spellings = [''];
  for (const char of prefix) {
    const variants = [...new Set([char, char.toLowerCase(), char.toUpperCase()])].filter((v) => [...v].length === 1);
    spellings = spellings.flatMap((start) => variants.map((v) => start + v));
  }
  return [...new Set(spellings)];
}

/** The smallest string greater than every string starting with `prefix` (code point order). */
function prefixSuccessor(prefix: string): string {
  const chars = [...prefix];
  const last = chars.pop();
  if (last === undefined) return '\u{10FFFF}';
  return chars.join('') + String.fromCodePoint(Math.min(0x10ffff, (last.codePointAt(0) ?? 0) + 1));
}

function choiceName(customer: Customer): string {
  const orders = `${customer.ordersCount} ${customer.ordersCount === 1 ? 'order' : 'orders'}`;
  const separator = ' · ';
  const full = [customer.name, customer.email, orders].join(separator);
  if (codePointLength(full) <= CHOICE_MAX_LENGTH) return full;
  const budget = CHOICE_MAX_LENGTH - codePointLength(orders) - 2 * codePointLength(separator);
  const nameLength = codePointLength(customer.name);
  const name = clipText(customer.name, Math.min(nameLength, Math.max(20, budget - codePointLength(customer.email))));
  const email = clipText(customer.email, budget - codePointLength(name));
  return [name, email, orders].join(separator);
}


