import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { isPostgres, type Db } from './database.js';

// Text people wrote (notes, reasons, raw event bodies) is matched case-insensitively in every
// script. lower() folds ASCII letters only on SQLite, and on PostgreSQL under the "C" collation;
// SQLite gets the unicode_lower() function each connection registers, PostgreSQL lowers under
// ICU's root locale. Both apply the same full Unicode lower-case mapping as String#toLowerCase,
// so a term lowered in JavaScript meets the column lowered in SQL.

/** `column` lower-cased in every script. */
export function unicodeLower(db: Db, column: string): RawBuilder<string> {
  return isPostgres(db) ? sql<string>`lower(${sql.ref(column)} COLLATE "und-x-icu")` : sql<string>`unicode_lower(${sql.ref(column)})`;
}

/** `%`, `_` and the escape character itself are plain characters in a LIKE pattern. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * One condition per term, each true when `column` contains the term in any letter case: a bound
 * parameter each, LIKE wildcards in the term taken literally. OR them for "mentions any".
 */
export function containsIgnoringCase(db: Db, column: string, terms: readonly string[]): Array<RawBuilder<SqlBool>> {
  const lowered = unicodeLower(db, column);
  return terms.map((term) => sql<SqlBool>`${lowered} like ${`%${escapeLike(term.toLowerCase())}%`} escape '\\'`);
}
