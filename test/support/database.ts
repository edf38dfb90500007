import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateToLatest, openMigratedDatabase, openPostgresDatabase, type Db } from '../../src/store/database.js';

/**
 * The database the store and domain tests run against. Without TEST_DATABASE_URL: a migrated
 * in-memory SQLite database, as before. With TEST_DATABASE_URL=postgres://…/<db>: a fresh schema
 * in that database per call, migrated, and dropped again by `db.destroy()`, so tests (and vitest
 * workers running files side by side) never see each other's rows.
 */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL?.trim() || undefined;

export const onPostgres = testDatabaseUrl !== undefined;

export async function openTestDatabase(): Promise<{ db: Db }> {
  if (testDatabaseUrl === undefined) {
    const { db } = await openMigratedDatabase();
    return { db };
  }
  const url = testDatabaseUrl;
  const schema = `test_${randomBytes(8).toString('hex')}`;
  await withAdminClient(url, async (client) => {
    await ensureTrigramExtension(client);
    await client.query(`CREATE SCHEMA ${schema}`);
  });
  const { db } = openPostgresDatabase(url, { schema, maxConnections: 4 });
  const destroy = db.destroy.bind(db);
  db.destroy = async () => {
    await destroy();
    await withAdminClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  };
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db };
}

/** A plain pg client on `url` for setup that the store's pool should not do (schemas, databases). */
export async function withAdminClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * pg_trgm goes into public once per database: created by a migration inside a test's schema, it
 * would vanish with that schema while other tests' indexes still need its operator classes. The
 * advisory lock keeps two workers from creating it at the same moment.
 */
async function ensureTrigramExtension(client: pg.Client): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('store-test-pg_trgm'))");
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public');
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
