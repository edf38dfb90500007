import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { onPostgres, openTestDatabase, testDatabaseUrl, withAdminClient } from '../support/database.js';

describe('the database', () => {
  it('runs the migrations and refuses to rewrite the activity log', async () => {
    const { db } = await openTestDatabase();
    await db
      .insertInto('activity_log')
      .values({ actor_id: '1', actor_name: 'staff', action: 'note.add', target_type: 'customer', target_id: '1', created_at: new Date().toISOString() })
      .execute();
    await expect(db.updateTable('activity_log').set({ action: 'x' }).execute()).rejects.toThrow(/append-only/);
    await expect(db.deleteFrom('activity_log').execute()).rejects.toThrow(/append-only/);
    await db.destroy();
  });

  it.runIf(onPostgres)('carries on when PostgreSQL ends an idle connection (a restart, a failover), answering the next query on a new one', async () => {
    const { db } = await openTestDatabase();
    try {
      const before = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db);
      const pid = before.rows[0]?.pid;
      expect(pid).toBeTypeOf('number');
      // As the server does to every connection when it shuts down or an administrator ends them.
      await withAdminClient(testDatabaseUrl ?? '', (client) => client.query('SELECT pg_terminate_backend($1)', [pid]));
      // pg reports the ended connection on its pool once the socket closes.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db);
      expect(after.rows[0]?.pid).not.toBe(pid);
    } finally {
      await db.destroy();
    }
  });
});
