import type { Generated, Insertable, Selectable } from 'kysely';

/** An export too large for a Discord upload, kept on disk behind a signed, expiring link. */
export interface ExportFilesTable {
  /** Random (128 bits, hex); the download URL names it. */
  id: string;
  /** Absolute path of the file on disk. */
  path: string;
  /** The name the browser saves it under, e.g. `customers-2026-11-22.zip`. */
  file_name: string;
  content_type: string;
  bytes: number;
  /** Customer rows in the export. */
  rows: number;
  /** Discord id of the staff member who exported. */
  created_by: string;
  created_at: string;
  expires_at: string;
  downloaded_count: Generated<number>;
  /** When the file was removed from disk (expired, or cleaned up); null while it is there. */
  deleted_at: string | null;
}

export type ExportFileRow = Selectable<ExportFilesTable>;

export type NewExportFileRow = Insertable<ExportFilesTable>;

export interface ExportTables {
  export_files: ExportFilesTable;
}
