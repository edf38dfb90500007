import type { Kysely } from 'kysely';
import { forDialect } from './dialect.js';

// Frozen in time: never imports application code.

export async function up(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  await db.schema
    .createTable('export_files')
    // Random and unguessable; the download URL names it (and signs it with its expiry).
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('rows', 'integer', (c) => c.notNull())
    // The staff member's Discord id.
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('downloaded_count', 'integer', (c) => c.notNull().defaultTo(0))
    // Set when the file was removed from disk; the row stays as the record of the export.
    .addColumn('deleted_at', 'text')
    .execute();
  // The cleanup job looks for files still on disk whose time is up.
  await db.schema.createIndex('export_files_expires_at').on('export_files').columns(['deleted_at', 'expires_at']).execute();
}

export async function down(given: Kysely<any>): Promise<void> {
  const db = forDialect(given);
  await db.schema.dropTable('export_files').ifExists().execute();
}
