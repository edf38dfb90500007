import { sql, type Kysely } from 'kysely';
import { isPostgres } from './dialect.js';

// Frozen in time: never imports application code.
//
// SQLite only. The 1–2 character index (customer_grams) held substrings folded by SQLite's
// lower(), which folds ASCII letters alone, so "Ü" found nothing where "ü" found a customer. It is
// rebuilt with FTS5's unicode61 tokenizer, which folds case in every script exactly as the trigram
// index (customer_search) does for longer terms: search means the same at every term length.
// PostgreSQL has no such index; its short terms are matched over the ICU-lowered text.
//
// Tokens are the 2-character substrings of the name and email as written, and the last character
// of each, separated by spaces; the tokenizer folds them. Every character is a token character
// except the space, the separator: a substring holding a space becomes the one character beside
// it, which is still the first character of a token, and a term never holds a space (it is
// trimmed, and two characters with a space between them are three). Diacritics stay: "u" does not
// find "ü".

const TOKENIZER = `unicode61 remove_diacritics 0 categories 'L* M* N* P* S* Z* C*' separators ' '`;

function gramsOf(row: 'new' | 'old'): string {
  return `(SELECT group_concat(substr(f, n, 2), ' ')
    FROM (SELECT ${row}.name AS f UNION ALL SELECT ${row}.email) AS s, search_positions
    WHERE n <= length(f))`;
}

// What the performance migration built, for down().
const KELVIN_SIGN = '\u212A';
const LONG_S = '\u017F';
function asciiFold(column: string): string {
  return `replace(replace(lower(${column}), '${KELVIN_SIGN}', 'k'), '${LONG_S}', 's')`;
}
function hexGramsOf(row: 'new' | 'old'): string {
  return `(SELECT group_concat(hex(substr(f, n, 2)), ' ')
    FROM (SELECT ${asciiFold(`${row}.name`)} AS f UNION ALL SELECT ${asciiFold(`${row}.email`)}) AS s, search_positions
    WHERE n <= length(f))`;
}

async function rebuildGrams(db: Kysely<any>, tokenizer: string, grams: (row: 'new' | 'old') => string): Promise<void> {
  for (const trigger of ['customers_grams_update', 'customers_grams_delete', 'customers_grams_insert']) {
    await sql`DROP TRIGGER IF EXISTS ${sql.id(trigger)}`.execute(db);
  }
  await sql`DROP TABLE IF EXISTS customer_grams`.execute(db);
  // Contentless, delete by rowid, no positions, secure-delete: as before.
  await sql`CREATE VIRTUAL TABLE customer_grams USING fts5(grams, content='', contentless_delete=1, tokenize=${sql.lit(tokenizer)}, detail=none)`.execute(db);
  await sql`INSERT INTO customer_grams (customer_grams, rank) VALUES ('secure-delete', 1)`.execute(db);
  await sql`INSERT INTO customer_grams (rowid, grams) SELECT new.id, ${sql.raw(grams('new'))} FROM customers AS new`.execute(db);
  await sql`CREATE TRIGGER customers_grams_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_grams (rowid, grams) VALUES (new.id, ${sql.raw(grams('new'))});
  END`.execute(db);
  await sql`CREATE TRIGGER customers_grams_delete AFTER DELETE ON customers BEGIN
    DELETE FROM customer_grams WHERE rowid = old.id;
  END`.execute(db);
  await sql`CREATE TRIGGER customers_grams_update AFTER UPDATE OF name, email ON customers
    WHEN new.name IS NOT old.name OR new.email IS NOT old.email
  BEGIN
    DELETE FROM customer_grams WHERE rowid = old.id;
    INSERT INTO customer_grams (rowid, grams) VALUES (new.id, ${sql.raw(grams('new'))});
  END`.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) return;
  await rebuildGrams(db, TOKENIZER, gramsOf);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) return;
  await rebuildGrams(db, 'ascii', hexGramsOf);
}
