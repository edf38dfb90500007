import type { Db } from './database.js';
import type { ExportFileRow, NewExportFileRow } from './schema/index.js';

export async function insertExportFile(db: Db, row: NewExportFileRow): Promise<ExportFileRow> {
  return db.insertInto('export_files').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findExportFile(db: Db, id: string): Promise<ExportFileRow | undefined> {
  return db.selectFrom('export_files').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Which of these ids have a row (deleted or not). */
export async function findExistingExportFileIds(db: Db, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('export_files').select('id').where('id', 'in', ids).execute();
  return new Set(rows.map((r) => r.id));
}

export async function incrementExportDownloads(db: Db, id: string): Promise<void> {
  await db
    .updateTable('export_files')
    .set((eb) => ({ downloaded_count: eb('downloaded_count', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

/** Files still on disk whose time is up, oldest first. */
export async function findExpiredExportFiles(db: Db, now: string, limit: number): Promise<ExportFileRow[]> {
  return db
    .selectFrom('export_files')
    .selectAll()
    .where('deleted_at', 'is', null)
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
}

export async function markExportFileDeleted(db: Db, id: string, at: string): Promise<void> {
  await db.updateTable('export_files').set({ deleted_at: at }).where('id', '=', id).where('deleted_at', 'is', null).execute();
}
