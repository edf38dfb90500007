import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { isPostgres, type Db } from './database.js';

// Text people wrote (notes, reasons, raw event bodies) is matched case-insensitively in every
// script. lower() folds ASCII letters only on SQLite, and on PostgreSQL under the "C" collation;
// SQLite gets the unicode_lower() function each connection registers, PostgreSQL lowers under
// ICU's root locale. Both apply the same full Unicode lower-case mapping as String#toLowerCase,
// so a term lowered in JavaScript meets the column lowered in SQL; both are then composed (NFC).

/** `column` lower-cased in every script and composed (NFC), as {@link foldTerm} folds a term. */
export function unicodeLower(db: Db, column: string): RawBuilder<string> {
  return isPostgres(db) ? sql<string>`normalize(lower(${sql.ref(column)} COLLATE "und-x-icu"), NFC)` : sql<string>`unicode_lower(${sql.ref(column)})`;
}

/** A term as {@link unicodeLower} folds a column: lower-cased, then composed (NFC). */
export function foldTerm(term: string): string {
  return term.toLowerCase().normalize('NFC');
}

/**
 * `column` lower-cased for a term of ASCII characters alone. Only two letters outside ASCII lower
 * to ASCII under the full mapping: the Kelvin sign (to k) and the dotted capital I (to i and a
 * combining dot). SQLite's built-in lower() with those two replaced finds every row the full
 * mapping would, without calling into JavaScript for every row and term.
 */
function asciiLower(db: Db, column: string): RawBuilder<string> {
  if (isPostgres(db)) return unicodeLower(db, column);
  return sql<string>`replace(replace(lower(${sql.ref(column)}), ${'\u212A'}, 'k'), ${'\u0130'}, 'i')`;
}

function isAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

/** `%`, `_` and the escape character itself are plain characters in a LIKE pattern. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * One condition per term outside ASCII, each true when `column`, holding JSON text, may spell the
 * term with every character outside ASCII escaped (`\u00fc`), as many JSON encoders write it.
 * The four hex digits match anything: a letter's cases have different code points. A row found
 * this way is a candidate, to be checked on the decoded JSON.
 */
export function containsJsonEscaped(db: Db, column: string, terms: readonly string[]): Array<RawBuilder<SqlBool>> {
  return terms
    .filter((term) => !isAscii(term))
    .map((term) => {
      let pattern = '';
      for (const unit of foldTerm(term).split('')) pattern += isAscii(unit) ? escapeLike(unit) : '\\\\u____';
      return sql<SqlBool>`${asciiLower(db, column)} like ${`%${pattern}%`} escape '\\'`;
    });
}

/**
 * One condition per term, each true when `column` contains the term in any letter case: a bound
 * parameter each, LIKE wildcards in the term taken literally. OR them for "mentions any".
 */
export function containsIgnoringCase(db: Db, column: string, terms: readonly string[]): Array<RawBuilder<SqlBool>> {
  return terms.map((term) => {
    const lowered = isAscii(term) ? asciiLower(db, column) : unicodeLower(db, column);
    return sql<SqlBool>`${lowered} like ${`%${escapeLike(foldTerm(term))}%`} escape '\\'`;
  });
}
