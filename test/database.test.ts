import { describe, expect, it } from 'vitest';
import { openTestDatabase } from './support/database.js';

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
});
