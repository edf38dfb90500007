import { sql, type Kysely } from 'kysely';
import { forDialect, isPostgres, postgresSearchFold } from './dialect.js';

// Frozen in time: never imports application code.
//
// What keeps the customer desk fast at a million customers (bench/results.md has the figures):
//
// 1. store_counters: one row of running totals over the customer aggregates (customers, with
//    orders, repeat, loyal, completed orders, revenue), so store statistics and the unfiltered
//    list totals are a primary-key read instead of index ranges over hundreds of thousands of rows.
// 2. customer_day_counts: customers per UTC day of registration and of last completed order, so
//    "new this month", "at risk" and registration ranges count a few thousand day rows plus the
//    two partial days at the edges (index ranges), not every customer in the range.
// 3. customer_grams: a contentless FTS5 index whose tokens are the 2-character substrings of each
//    customer's folded name and email (hex-encoded). The trigram index cannot answer terms
//    shorter than three characters; this one gives their exact number of matches and, for rare
//    ones, the matching customers.
// 4. search_term_counts: maintained match counts for common search terms (registered by the
//    application when a count over the trigram index proved expensive), so "gmail.com" does not
//    walk 450,000 postings on every search.
// 5. Indexes for the list filters: the registration index also carries last_order_at (at-risk
//    lists by registration never leave the index), and partial indexes per order threshold for
//    the sorts whose low end holds the customers without orders.
//
// Every counter is kept by triggers, like the search index in the initial migration, so that
// every write path (bulk imports, erasure, a hand-run UPDATE) keeps them right. Triggers and FTS5
// are SQLite SQL; the PostgreSQL migration set will express the same in its own dialect.

/** SQLite's lower() folds ASCII only; the trigram tokenizer also folds these two to ASCII. */
const KELVIN_SIGN = '\u212A';
const LONG_S = '\u017F';
/** The longest name plus the longest email the store accepts, with room to spare. */
const MAX_POSITIONS = 1024;

function fold(column: string): string {
  return `replace(replace(lower(${column}), '${KELVIN_SIGN}', 'k'), '${LONG_S}', 's')`;
}

/**
 * The 2-character substrings of the folded name and email, and the last character of each, as
 * hex-encoded tokens: every 1-character substring is then the first character of some token, so
 * a single character is a prefix query and a pair an exact one. (Tokens for single characters too
 * would cost a third more per insert; common single characters get a maintained count anyway.)
 */
function gramsOf(row: 'new' | 'old'): string {
  return `(SELECT group_concat(hex(substr(f, n, 2)), ' ')
    FROM (SELECT ${fold(`${row}.name`)} AS f UNION ALL SELECT ${fold(`${row}.email`)}) AS s, search_positions
    WHERE n <= length(f))`;
}

/** 1 when the watched term occurs in the folded name or email of the row, else 0. */
function containsTerm(row: 'new' | 'old'): string {
  return `(instr(${fold(`${row}.name`)}, term) > 0 OR instr(${fold(`${row}.email`)}, term) > 0)`;
}

export async function up(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  if (isPostgres(db)) {
    await upPostgres(db);
    return;
  }
  // 1. Store totals ------------------------------------------------------------------------------
  await db.schema
    .createTable('store_counters')
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('customers', 'integer', (c) => c.notNull())
    .addColumn('with_orders', 'integer', (c) => c.notNull())
    .addColumn('repeat_customers', 'integer', (c) => c.notNull())
    .addColumn('loyal_customers', 'integer', (c) => c.notNull())
    .addColumn('completed_orders', 'integer', (c) => c.notNull())
    .addColumn('revenue_cents', 'integer', (c) => c.notNull())
    .execute();
  await sql`INSERT INTO store_counters (id, customers, with_orders, repeat_customers, loyal_customers, completed_orders, revenue_cents)
    SELECT 1, count(*), coalesce(sum(orders_count >= 1), 0), coalesce(sum(orders_count >= 2), 0), coalesce(sum(orders_count >= 5), 0),
      coalesce(sum(orders_count), 0), coalesce(sum(total_spent_cents), 0)
    FROM customers`.execute(db);
  const delta = (sign: '+' | '-', row: 'new' | 'old') => `
    customers = customers ${sign} 1,
    with_orders = with_orders ${sign} (${row}.orders_count >= 1),
    repeat_customers = repeat_customers ${sign} (${row}.orders_count >= 2),
    loyal_customers = loyal_customers ${sign} (${row}.orders_count >= 5),
    completed_orders = completed_orders ${sign} ${row}.orders_count,
    revenue_cents = revenue_cents ${sign} ${row}.total_spent_cents`;
  await sql`CREATE TRIGGER customers_counters_insert AFTER INSERT ON customers BEGIN
    UPDATE store_counters SET ${sql.raw(delta('+', 'new'))} WHERE id = 1;
  END`.execute(db);
  await sql`CREATE TRIGGER customers_counters_delete AFTER DELETE ON customers BEGIN
    UPDATE store_counters SET ${sql.raw(delta('-', 'old'))} WHERE id = 1;
  END`.execute(db);
  await sql`CREATE TRIGGER customers_counters_update AFTER UPDATE OF orders_count, total_spent_cents ON customers
    WHEN new.orders_count IS NOT old.orders_count OR new.total_spent_cents IS NOT old.total_spent_cents
  BEGIN
    UPDATE store_counters SET
      with_orders = with_orders + (new.orders_count >= 1) - (old.orders_count >= 1),
      repeat_customers = repeat_customers + (new.orders_count >= 2) - (old.orders_count >= 2),
      loyal_customers = loyal_customers + (new.orders_count >= 5) - (old.orders_count >= 5),
      completed_orders = completed_orders + new.orders_count - old.orders_count,
      revenue_cents = revenue_cents + new.total_spent_cents - old.total_spent_cents
    WHERE id = 1;
  END`.execute(db);

  // 2. Customers per day -----------------------------------------------------------------------
  // Timestamps are stored as toISOString() (UTC), so the first ten characters are the UTC day.
  await db.schema
    .createTable('customer_day_counts')
    // registered | last_order
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('customers', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_day_counts_pk', ['kind', 'day'])
    .modifyEnd(sql`WITHOUT ROWID`)
    .execute();
  await sql`INSERT INTO customer_day_counts (kind, day, customers)
    SELECT 'registered', substr(created_at, 1, 10), count(*) FROM customers GROUP BY 2`.execute(db);
  await sql`INSERT INTO customer_day_counts (kind, day, customers)
    SELECT 'last_order', substr(last_order_at, 1, 10), count(*) FROM customers WHERE last_order_at IS NOT NULL GROUP BY 2`.execute(db);
  const addDay = (kind: string, value: string) => `
    INSERT INTO customer_day_counts (kind, day, customers) SELECT '${kind}', substr(${value}, 1, 10), 1 WHERE ${value} IS NOT NULL
      ON CONFLICT (kind, day) DO UPDATE SET customers = customers + 1;`;
  const removeDay = (kind: string, value: string) => `
    UPDATE customer_day_counts SET customers = customers - 1 WHERE kind = '${kind}' AND day = substr(${value}, 1, 10);`;
  await sql`CREATE TRIGGER customers_days_insert AFTER INSERT ON customers BEGIN
    ${sql.raw(addDay('registered', 'new.created_at'))}
    ${sql.raw(addDay('last_order', 'new.last_order_at'))}
  END`.execute(db);
  await sql`CREATE TRIGGER customers_days_delete AFTER DELETE ON customers BEGIN
    ${sql.raw(removeDay('registered', 'old.created_at'))}
    ${sql.raw(removeDay('last_order', 'old.last_order_at'))}
  END`.execute(db);
  await sql`CREATE TRIGGER customers_days_registered AFTER UPDATE OF created_at ON customers
    WHEN substr(new.created_at, 1, 10) IS NOT substr(old.created_at, 1, 10)
  BEGIN
    ${sql.raw(removeDay('registered', 'old.created_at'))}
    ${sql.raw(addDay('registered', 'new.created_at'))}
  END`.execute(db);
  await sql`CREATE TRIGGER customers_days_last_order AFTER UPDATE OF last_order_at ON customers
    WHEN substr(new.last_order_at, 1, 10) IS NOT substr(old.last_order_at, 1, 10)
  BEGIN
    ${sql.raw(removeDay('last_order', 'old.last_order_at'))}
    ${sql.raw(addDay('last_order', 'new.last_order_at'))}
  END`.execute(db);

  // 3. 1- and 2-character substrings -------------------------------------------------------------
  await db.schema.createTable('search_positions').addColumn('n', 'integer', (c) => c.primaryKey()).execute();
  await sql`WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < ${sql.lit(MAX_POSITIONS)})
    INSERT INTO search_positions (n) SELECT n FROM p`.execute(db);
  // Contentless (the tokens mean nothing to read back), delete by rowid, no positions (only
  // "which customers contain it" is ever asked), and secure-delete like the trigram index: an
  // erased customer's substrings leave the index at once.
  await sql`CREATE VIRTUAL TABLE customer_grams USING fts5(grams, content='', contentless_delete=1, tokenize='ascii', detail=none)`.execute(db);
  await sql`INSERT INTO customer_grams (customer_grams, rank) VALUES ('secure-delete', 1)`.execute(db);
  await sql`INSERT INTO customer_grams (rowid, grams) SELECT new.id, ${sql.raw(gramsOf('new'))} FROM customers AS new`.execute(db);
  await sql`CREATE TRIGGER customers_grams_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_grams (rowid, grams) VALUES (new.id, ${sql.raw(gramsOf('new'))});
  END`.execute(db);
  await sql`CREATE TRIGGER customers_grams_delete AFTER DELETE ON customers BEGIN
    DELETE FROM customer_grams WHERE rowid = old.id;
  END`.execute(db);
  await sql`CREATE TRIGGER customers_grams_update AFTER UPDATE OF name, email ON customers
    WHEN new.name IS NOT old.name OR new.email IS NOT old.email
  BEGIN
    DELETE FROM customer_grams WHERE rowid = old.id;
    INSERT INTO customer_grams (rowid, grams) VALUES (new.id, ${sql.raw(gramsOf('new'))});
  END`.execute(db);

  // 4. Counts of common search terms -----------------------------------------------------------
  await db.schema
    .createTable('search_term_counts')
    // Folded (ASCII lower case), 3+ characters, pure ASCII: instr() on the folded text then means
    // exactly what a trigram phrase match means.
    .addColumn('term', 'text', (c) => c.primaryKey())
    .addColumn('customers', 'integer', (c) => c.notNull())
    // UTC day of the last search that used the count: the least recently used goes first.
    .addColumn('used_on', 'text', (c) => c.notNull())
    .modifyEnd(sql`WITHOUT ROWID`)
    .execute();
  await sql`CREATE TRIGGER customers_terms_insert AFTER INSERT ON customers BEGIN
    UPDATE search_term_counts SET customers = customers + 1 WHERE ${sql.raw(containsTerm('new'))};
  END`.execute(db);
  await sql`CREATE TRIGGER customers_terms_delete AFTER DELETE ON customers BEGIN
    UPDATE search_term_counts SET customers = customers - 1 WHERE ${sql.raw(containsTerm('old'))};
  END`.execute(db);
  await sql`CREATE TRIGGER customers_terms_update AFTER UPDATE OF name, email ON customers
    WHEN new.name IS NOT old.name OR new.email IS NOT old.email
  BEGIN
    UPDATE search_term_counts SET customers = customers + ${sql.raw(containsTerm('new'))} - ${sql.raw(containsTerm('old'))}
    WHERE ${sql.raw(containsTerm('new'))} <> ${sql.raw(containsTerm('old'))};
  END`.execute(db);

  // 5. List indexes ----------------------------------------------------------------------------
  await createListIndexes(db);
}

/**
 * The same counters, tables and indexes on PostgreSQL. Triggers are PL/pgSQL functions, one per
 * trigger and named after it; the 1–2 character index is not needed (pg_trgm answers short terms
 * by scanning its own index), so customer_grams does not exist there.
 */
async function upPostgres(db: Kysely<any>): Promise<void> {
  // Statement-level, over the transition tables: one update of a counter row per statement, not
  // per customer. Row-level triggers rewrote the single store_counters row once per inserted
  // customer, and a 500-row insert then spent most of its time updating that one row.
  const trigger = async (name: string, event: 'INSERT' | 'DELETE' | 'UPDATE', body: string) => {
    const referencing = event === 'INSERT' ? 'NEW TABLE AS new_rows' : event === 'DELETE' ? 'OLD TABLE AS old_rows' : 'OLD TABLE AS old_rows NEW TABLE AS new_rows';
    await sql`CREATE FUNCTION ${sql.id(name)}() RETURNS trigger LANGUAGE plpgsql AS ${sql.lit(`BEGIN ${body} RETURN NULL; END`)}`.execute(db);
    await sql`CREATE TRIGGER ${sql.id(name)} AFTER ${sql.raw(event)} ON customers REFERENCING ${sql.raw(referencing)}
      FOR EACH STATEMENT EXECUTE FUNCTION ${sql.id(name)}()`.execute(db);
  };

  // 1. Store totals
  await db.schema
    .createTable('store_counters')
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('customers', 'integer', (c) => c.notNull())
    .addColumn('with_orders', 'integer', (c) => c.notNull())
    .addColumn('repeat_customers', 'integer', (c) => c.notNull())
    .addColumn('loyal_customers', 'integer', (c) => c.notNull())
    .addColumn('completed_orders', 'integer', (c) => c.notNull())
    .addColumn('revenue_cents', 'integer', (c) => c.notNull())
    .execute();
  await sql`INSERT INTO store_counters (id, customers, with_orders, repeat_customers, loyal_customers, completed_orders, revenue_cents)
    SELECT 1, count(*), coalesce(sum((orders_count >= 1)::int), 0), coalesce(sum((orders_count >= 2)::int), 0),
      coalesce(sum((orders_count >= 5)::int), 0), coalesce(sum(orders_count), 0), coalesce(sum(total_spent_cents), 0)
    FROM customers`.execute(db);
  // Totals of a set of rows, as a subquery with one row.
  const totals = (rows: 'new_rows' | 'old_rows') => `(SELECT count(*) AS customers,
      coalesce(sum((orders_count >= 1)::int), 0) AS with_orders, coalesce(sum((orders_count >= 2)::int), 0) AS repeat_customers,
      coalesce(sum((orders_count >= 5)::int), 0) AS loyal_customers, coalesce(sum(orders_count), 0) AS completed_orders,
      coalesce(sum(total_spent_cents), 0) AS revenue_cents FROM ${rows})`;
  const COUNTER_COLUMNS = ['customers', 'with_orders', 'repeat_customers', 'loyal_customers', 'completed_orders', 'revenue_cents'];
  const apply = (expression: (column: string) => string, from: string, when: string) =>
    `UPDATE store_counters SET ${COUNTER_COLUMNS.map((c) => `${c} = store_counters.${c} + ${expression(c)}`).join(', ')}
      FROM ${from} WHERE store_counters.id = 1 AND ${when};`;
  await trigger('customers_counters_insert', 'INSERT', apply((c) => `n.${c}`, `${totals('new_rows')} AS n`, 'n.customers > 0'));
  await trigger('customers_counters_delete', 'DELETE', apply((c) => `- o.${c}`, `${totals('old_rows')} AS o`, 'o.customers > 0'));
  // An update keeps the number of customers; the rest moves by what the new rows add up to over the old.
  await trigger(
    'customers_counters_update',
    'UPDATE',
    apply((c) => `n.${c} - o.${c}`, `${totals('new_rows')} AS n, ${totals('old_rows')} AS o`, `(${COUNTER_COLUMNS.map((c) => `n.${c} <> o.${c}`).join(' OR ')})`),
  );

  // 2. Customers per day
  await db.schema
    .createTable('customer_day_counts')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('customers', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_day_counts_pk', ['kind', 'day'])
    .execute();
  await sql`INSERT INTO customer_day_counts (kind, day, customers)
    SELECT 'registered', substr(created_at, 1, 10), count(*) FROM customers GROUP BY 2`.execute(db);
  await sql`INSERT INTO customer_day_counts (kind, day, customers)
    SELECT 'last_order', substr(last_order_at, 1, 10), count(*) FROM customers WHERE last_order_at IS NOT NULL GROUP BY 2`.execute(db);
  // Net change per day of each kind: +1 for each new row's day, −1 for each old row's; an update
  // that keeps the day nets to nothing and touches no row.
  const dayDeltas = (parts: string[]) => `
    INSERT INTO customer_day_counts (kind, day, customers)
    SELECT kind, day, sum(delta) FROM (${parts.join(' UNION ALL ')}) AS d
    GROUP BY kind, day HAVING sum(delta) <> 0
    ON CONFLICT (kind, day) DO UPDATE SET customers = customer_day_counts.customers + excluded.customers;`;
  const days = (rows: 'new_rows' | 'old_rows', delta: 1 | -1) => [
    `SELECT 'registered' AS kind, substr(created_at, 1, 10) AS day, ${delta} AS delta FROM ${rows} WHERE created_at IS NOT NULL`,
    `SELECT 'last_order', substr(last_order_at, 1, 10), ${delta} FROM ${rows} WHERE last_order_at IS NOT NULL`,
  ];
  await trigger('customers_days_insert', 'INSERT', dayDeltas(days('new_rows', 1)));
  await trigger('customers_days_delete', 'DELETE', dayDeltas(days('old_rows', -1)));
  await trigger('customers_days_update', 'UPDATE', dayDeltas([...days('new_rows', 1), ...days('old_rows', -1)]));

  // 3. Positions, kept so both dialects have the same tables (nothing reads them on PostgreSQL).
  await db.schema.createTable('search_positions').addColumn('n', 'integer', (c) => c.primaryKey()).execute();
  await sql`INSERT INTO search_positions (n) SELECT generate_series(1, ${sql.lit(MAX_POSITIONS)})`.execute(db);

  // 4. Counts of common search terms, over the text the pg_trgm indexes fold.
  await db.schema
    .createTable('search_term_counts')
    .addColumn('term', 'text', (c) => c.primaryKey())
    .addColumn('customers', 'integer', (c) => c.notNull())
    .addColumn('used_on', 'text', (c) => c.notNull())
    .execute();
  const matching = (rows: 'new_rows' | 'old_rows') =>
    `(SELECT count(*) FROM ${rows} AS r WHERE strpos(${postgresSearchFold('r.name')}, search_term_counts.term) > 0
      OR strpos(${postgresSearchFold('r.email')}, search_term_counts.term) > 0)`;
  // Only when a term is watched (rarely more than a few dozen), so inserts pay nothing otherwise.
  const whenWatched = (body: string) => `IF EXISTS (SELECT 1 FROM search_term_counts) THEN ${body} END IF;`;
  await trigger('customers_terms_insert', 'INSERT', whenWatched(`UPDATE search_term_counts SET customers = customers + ${matching('new_rows')};`));
  await trigger('customers_terms_delete', 'DELETE', whenWatched(`UPDATE search_term_counts SET customers = customers - ${matching('old_rows')};`));
  await trigger(
    'customers_terms_update',
    'UPDATE',
    whenWatched(`UPDATE search_term_counts SET customers = customers + ${matching('new_rows')} - ${matching('old_rows')}
      WHERE ${matching('new_rows')} <> ${matching('old_rows')};`),
  );

  // 5. List indexes
  await createListIndexes(db);
}

async function createListIndexes(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('customers_created_at').execute();
  await db.schema.createIndex('customers_created_at').on('customers').columns(['created_at', 'id', 'last_order_at']).execute();
  for (const [name, threshold] of [
    ['customers_buyers_total_spent', 1],
    ['customers_repeat_total_spent', 2],
    ['customers_loyal_total_spent', 5],
  ] as const) {
    await db.schema
      .createIndex(name)
      .on('customers')
      .columns(['total_spent_cents', 'id'])
      .where(sql.ref('orders_count'), '>=', sql.lit(threshold))
      .execute();
  }
}

export async function down(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  for (const index of ['customers_loyal_total_spent', 'customers_repeat_total_spent', 'customers_buyers_total_spent']) {
    await db.schema.dropIndex(index).ifExists().execute();
  }
  await db.schema.dropIndex('customers_created_at').ifExists().execute();
  await db.schema.createIndex('customers_created_at').on('customers').columns(['created_at', 'id']).execute();
  const postgres = isPostgres(db);
  for (const trigger of [
    'customers_terms_update',
    'customers_terms_delete',
    'customers_terms_insert',
    'customers_grams_update',
    'customers_grams_delete',
    'customers_grams_insert',
    'customers_days_update',
    'customers_days_last_order',
    'customers_days_registered',
    'customers_days_delete',
    'customers_days_insert',
    'customers_counters_update',
    'customers_counters_delete',
    'customers_counters_insert',
  ]) {
    // A PostgreSQL trigger goes with the function of the same name.
    if (postgres) await sql`DROP FUNCTION IF EXISTS ${sql.id(trigger)}() CASCADE`.execute(db);
    else await sql`DROP TRIGGER IF EXISTS ${sql.id(trigger)}`.execute(db);
  }
  await sql`DROP TABLE IF EXISTS customer_grams`.execute(db);
  for (const table of ['search_term_counts', 'search_positions', 'customer_day_counts', 'store_counters']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
