import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import {
  findExistingExportFileIds,
  findExpiredExportFiles,
  findExportFile,
  incrementExportDownloads,
  insertExportFile,
  markExportFileDeleted,
} from '../../store/export-file.repository.js';
import { inTransaction, isPostgresUrl, type Db } from '../../store/database.js';
import type { ExportFileRow } from '../../store/schema/index.js';
import { recordActivity } from '../customers/activity-log.js';
import type { Clock } from '../../shared/clock.js';
import type { Actor } from '../customers/types.js';
import type { ExportFile } from './customer-export.js';

/** How long a download link works unless told otherwise. */
export const DOWNLOAD_LINK_TTL_MS = 24 * 60 * 60 * 1000;

/** A file on disk with no row (the process died between moving it and recording it) is left this long. */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

const ID_PATTERN = /^[0-9a-f]{32}$/;
const STORED_NAME_PATTERN = /^([0-9a-f]{32})(\.[a-z0-9]{1,8})?$/;

/** An export kept on disk behind a signed link. */
export interface StoredExportFile {
  id: string;
  path: string;
  fileName: string;
  contentType: string;
  bytes: number;
  rows: number;
  /** Discord id of the staff member who exported. */
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  downloadedCount: number;
  deletedAt: string | null;
}

export interface DownloadLink {
  id: string;
  /** `PUBLIC_URL/downloads/<id>?expires=<unix seconds>&sig=<hex>` */
  url: string;
  /** ISO-8601; the link stops working at this instant. */
  expiresAt: string;
}

export type DownloadRefusal = 'bad_signature' | 'expired' | 'deleted' | 'not_found';

export type DownloadCheck = { ok: true; file: StoredExportFile } | { ok: false; reason: DownloadRefusal };

/**
 * The folder for the bot's own files (download files, the sandbox's log): the SQLite file's
 * folder, or `./data` for a PostgreSQL store, which has no folder of its own on this machine.
 */
export function dataDirectoryFor(databaseLocation: string): string {
  if (isPostgresUrl(databaseLocation)) return resolve('data');
  return dirname(resolve(databaseLocation));
}

/**
 * `exports` in the data folder: where download files live (durable, unlike the temp dir). An
 * in-memory database has no folder, so its files go under the system temp dir.
 */
export function exportsDirectoryFor(databaseLocation: string): string {
  if (databaseLocation === ':memory:') return join(tmpdir(), 'customer-desk-downloads');
  return join(dataDirectoryFor(databaseLocation), 'exports');
}

/**
 * The link's signature: lowercase hex HMAC-SHA256, keyed with APP_SECRET, over
 * `download:<id>:<expires>`. The prefix keeps it from ever equalling another use of the same
 * key (link tokens, OAuth state).
 */
export function signDownload(appSecret: string, id: string, expires: number): string {
  return createHmac('sha256', appSecret).update(`download:${id}:${expires}`).digest('hex');
}

/**
 * Moves a finished export into `directory` (created if needed), records it, and returns a link
 * that works until `ttlMs` (default 24 h) from now and only with its signature. The file leaves
 * `file.path`; on failure nothing is left in `directory` and the original is where it was or gone.
 */
export async function createDownloadLink(
  db: Db,
  clock: Clock,
  input: { file: ExportFile; actor: Actor; publicUrl: string; appSecret: string; directory: string; ttlMs?: number },
): Promise<DownloadLink> {
  if (input.appSecret === '') throw new RangeError('appSecret must not be empty');
  const ttlMs = input.ttlMs ?? DOWNLOAD_LINK_TTL_MS;
  if (!Number.isFinite(ttlMs) || ttlMs < 1000) throw new RangeError(`ttlMs must be at least 1000, got ${ttlMs}`);
  const now = clock.now();
  const id = randomBytes(16).toString('hex');
  // Whole seconds, so the instant in the URL and the one stored are the same.
  const expires = Math.floor((now.getTime() + ttlMs) / 1000);
  const expiresAt = new Date(expires * 1000).toISOString();

  const directory = resolve(input.directory);
  await mkdir(directory, { recursive: true });
  const extension = extname(input.file.fileName).toLowerCase();
  const path = join(directory, `${id}${/^\.[a-z0-9]{1,8}$/.test(extension) ? extension : ''}`);
  await moveFile(input.file.path, path);
  try {
    await insertExportFile(db, {
      id,
      path,
      file_name: input.file.fileName,
      content_type: input.file.contentType,
      bytes: input.file.bytes,
      rows: input.file.rows,
      created_by: input.actor.id,
      created_at: now.toISOString(),
      expires_at: expiresAt,
      deleted_at: null,
    });
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  const sig = signDownload(input.appSecret, id, expires);
  const url = `${input.publicUrl.replace(/\/+$/, '')}/downloads/${id}?expires=${expires}&sig=${sig}`;
  return { id, url, expiresAt };
}

/**
 * Checks a download request: the signature first (in constant time, before the id is looked up,
 * so an unsigned request learns nothing), then the signed expiry, then the file itself. A link
 * is expired from its expiry instant on.
 */
export async function verifyDownload(
  db: Db,
  clock: Clock,
  input: { id: string; expires: string | undefined; sig: string | undefined; appSecret: string },
): Promise<DownloadCheck> {
  const { id, expires, sig } = input;
  if (input.appSecret === '' || expires === undefined || sig === undefined) return { ok: false, reason: 'bad_signature' };
  if (!/^\d{1,12}$/.test(expires) || !/^[0-9a-fA-F]{64}$/.test(sig)) return { ok: false, reason: 'bad_signature' };
  const expected = Buffer.from(signDownload(input.appSecret, id, Number(expires)), 'hex');
  if (!timingSafeEqual(Buffer.from(sig, 'hex'), expected)) return { ok: false, reason: 'bad_signature' };

  const now = clock.now().getTime();
  if (now >= Number(expires) * 1000) return { ok: false, reason: 'expired' };
  const row = ID_PATTERN.test(id) ? await findExportFile(db, id) : undefined;
  if (!row) return { ok: false, reason: 'not_found' };
  if (row.deleted_at !== null) return { ok: false, reason: 'deleted' };
  if (now >= Date.parse(row.expires_at)) return { ok: false, reason: 'expired' };
  return { ok: true, file: toStoredExportFile(row) };
}

/** Counts one download and writes `export.download` to the activity log. */
export async function recordExportDownload(db: Db, clock: Clock, file: StoredExportFile): Promise<void> {
  await inTransaction(db, async (trx) => {
    await incrementExportDownloads(trx, file.id);
    await recordActivity(trx, clock, {
      // Whoever holds the link: it is not tied to a Discord session.
      actor: { id: `download:${file.id}`, name: 'download link' },
      action: 'export.download',
      targetType: 'export_file',
      targetId: file.id,
      details: { createdBy: file.createdBy, rows: file.rows, bytes: file.bytes },
    });
  });
}

/**
 * Removes expired export files from disk and marks their rows deleted, up to `limit` per call,
 * and returns how many it handled (so a worker loops until a pass handles none). Files in
 * `directory` that look like ours but have no row (a crash between moving and recording) are
 * removed once they are older than ORPHAN_GRACE_MS; nothing else there is touched.
 */
export async function deleteExpiredExports(db: Db, clock: Clock, directory: string, options: { limit?: number } = {}): Promise<number> {
  const limit = options.limit ?? 100;
  const now = clock.now();
  const expired = await findExpiredExportFiles(db, now.toISOString(), limit);
  for (const row of expired) {
    // Deleted first, marked after: a crash in between leaves a row the next pass retries.
    await rm(row.path, { force: true });
    await markExportFileDeleted(db, row.id, now.toISOString());
  }
  if (expired.length === limit) return expired.length;
  return expired.length + (await deleteOrphanFiles(db, now, directory, limit - expired.length));
}

async function deleteOrphanFiles(db: Db, now: Date, directory: string, limit: number): Promise<number> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const candidates = new Map<string, string>();
  for (const name of names) {
    const id = STORED_NAME_PATTERN.exec(name)?.[1];
    if (id !== undefined) candidates.set(name, id);
  }
  if (candidates.size === 0) return 0;
  const known = await findExistingExportFileIds(db, [...new Set(candidates.values())]);
  let removed = 0;
  for (const [name, id] of candidates) {
    if (removed >= limit) break;
    if (known.has(id)) continue;
    const path = join(directory, name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile() || now.getTime() - info.mtimeMs < ORPHAN_GRACE_MS) continue;
    await rm(path, { force: true });
    removed += 1;
  }
  return removed;
}

/** rename when both sides are on one file system; a copy and a delete when not (tmpfs → disk). */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    try {
      await copyFile(from, to, constants.COPYFILE_EXCL);
    } catch (copyError) {
      await rm(to, { force: true });
      throw copyError;
    }
    await rm(from, { force: true });
  }
}

function toStoredExportFile(row: ExportFileRow): StoredExportFile {
  return {
    id: row.id,
    path: row.path,
    fileName: row.file_name,
    contentType: row.content_type,
    bytes: row.bytes,
    rows: row.rows,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    downloadedCount: row.downloaded_count,
    deletedAt: row.deleted_at,
  };
}
