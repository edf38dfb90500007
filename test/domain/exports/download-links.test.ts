import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listActivity } from '../../../src/domain/customers/activity-log.js';
import type { ManualClock } from '../../../src/shared/clock.js';
import type { ExportFile } from '../../../src/domain/exports/customer-export.js';
import {
  createDownloadLink,
  deleteExpiredExports,
  DOWNLOAD_LINK_TTL_MS,
  exportsDirectoryFor,
  ORPHAN_GRACE_MS,
  recordExportDownload,
  signDownload,
  verifyDownload,
} from '../../../src/domain/exports/download-links.js';
import { startExportCleanupWorker } from '../../../src/jobs/export-cleanup.js';
import { createLogger } from '../../../src/logger.js';
import type { Db } from '../../../src/store/database.js';
import { markExportFileDeleted } from '../../../src/store/export-file.repository.js';
import { useTestContext } from '../../support/context.js';

const SECRET = 'a-test-app-secret-that-is-long-enough-0123';
const STAFF = { id: '2200000000000000101', name: 'Ada Admin' };
const NOW = '2026-11-22T12:00:00.000Z';

let db: Db;
let clock: ManualClock;
let work: string;
let exportsDir: string;

useTestContext({ now: NOW }, (context) => {
  ({ db, clock } = context);
  work = mkdtempSync(join(tmpdir(), 'download-links-'));
  exportsDir = join(work, 'data', 'exports');
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

function exportFile(content = 'Customer ID,Name\r\n1,Ada\r\n', fileName = 'customers-2026-11-22.csv'): ExportFile {
  const path = join(work, `tmp-${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(path, content);
  return { path, fileName, contentType: 'text/csv; charset=utf-8', bytes: Buffer.byteLength(content), rows: 1, compressed: false, overLimit: true };
}

async function newLink(options: { ttlMs?: number } = {}) {
  const file = exportFile();
  const link = await createDownloadLink(db, clock, { file, actor: STAFF, publicUrl: 'https://desk.example.com/', appSecret: SECRET, directory: exportsDir, ...options });
  const url = new URL(link.url);
  return { file, link, url, id: url.pathname.split('/').pop()!, expires: url.searchParams.get('expires')!, sig: url.searchParams.get('sig')! };
}

describe('createDownloadLink', () => {
  it('moves the file into the exports directory, records it and returns a signed link that expires in 24 hours', async () => {
    const { file, link, url, id, expires, sig } = await newLink();
    expect(link.url).toMatch(/^https:\/\/desk\.example\.com\/downloads\/[0-9a-f]{32}\?expires=\d+&sig=[0-9a-f]{64}$/);
    expect(link.id).toBe(id);
    expect(url.pathname).toBe(`/downloads/${id}`);
    expect(link.expiresAt).toBe('2026-11-23T12:00:00.000Z');
    expect(Number(expires)).toBe(Date.parse('2026-11-23T12:00:00.000Z') / 1000);
    expect(sig).toBe(signDownload(SECRET, id, Number(expires)));

    expect(existsSync(file.path)).toBe(false);
    expect(readdirSync(exportsDir)).toEqual([`${id}.csv`]);
    const row = await db.selectFrom('export_files').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({
      id,
      path: join(exportsDir, `${id}.csv`),
      file_name: 'customers-2026-11-22.csv',
      content_type: 'text/csv; charset=utf-8',
      bytes: file.bytes,
      rows: 1,
      created_by: STAFF.id,
      created_at: NOW,
      expires_at: '2026-11-23T12:00:00.000Z',
      downloaded_count: 0,
      deleted_at: null,
    });
    expect(readFileSync(row.path, 'utf8')).toBe('Customer ID,Name\r\n1,Ada\r\n');
  });

  it('gives every link its own id and file', async () => {
    const first = await newLink();
    const second = await newLink();
    expect(first.id).not.toBe(second.id);
    expect(readdirSync(exportsDir).sort()).toEqual([`${first.id}.csv`, `${second.id}.csv`].sort());
  });

  it('takes a shorter lifetime when told', async () => {
    const { link } = await newLink({ ttlMs: 60 * 60 * 1000 });
    expect(link.expiresAt).toBe('2026-11-22T13:00:00.000Z');
  });

  it('keeps exports beside the database file', () => {
    expect(exportsDirectoryFor('/srv/desk/data/customers.db')).toBe('/srv/desk/data/exports');
    // A PostgreSQL URL is not a path: its files go under ./data, not a folder named after the URL.
    expect(exportsDirectoryFor('postgres://desk@db.example.com:5432/store')).toBe(join(process.cwd(), 'data', 'exports'));
    expect(DOWNLOAD_LINK_TTL_MS).toBe(24 * 60 * 60 * 1000);
  });
});

describe('verifyDownload', () => {
  it('accepts the link as issued', async () => {
    const { id, expires, sig } = await newLink();
    const check = await verifyDownload(db, clock, { id, expires, sig, appSecret: SECRET });
    expect(check).toMatchObject({ ok: true, file: { id, fileName: 'customers-2026-11-22.csv', rows: 1, createdBy: STAFF.id, downloadedCount: 0 } });
  });

  it('accepts the signature in capital hex too', async () => {
    const { id, expires, sig } = await newLink();
    expect((await verifyDownload(db, clock, { id, expires, sig: sig.toUpperCase(), appSecret: SECRET })).ok).toBe(true);
  });

  it('refuses a link whose id was changed', async () => {
    const { expires, sig } = await newLink();
    const other = await newLink();
    expect(await verifyDownload(db, clock, { id: other.id, expires, sig, appSecret: SECRET })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a link whose expiry was pushed later', async () => {
    const { id, expires, sig } = await newLink();
    expect(await verifyDownload(db, clock, { id, expires: String(Number(expires) + 86_400), sig, appSecret: SECRET })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a signature with one character changed', async () => {
    const { id, expires, sig } = await newLink();
    const tampered = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
    expect(await verifyDownload(db, clock, { id, expires, sig: tampered, appSecret: SECRET })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a link signed with another secret', async () => {
    const { id, expires, sig } = await newLink();
    expect(await verifyDownload(db, clock, { id, expires, sig, appSecret: `${SECRET}-rotated` })).toEqual({ ok: false, reason: 'bad_signature' });
    const forged = signDownload('someone-elses-secret-of-enough-length-xx', id, Number(expires));
    expect(await verifyDownload(db, clock, { id, expires, sig: forged, appSecret: SECRET })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['no signature', { sig: undefined }],
    ['no expiry', { expires: undefined }],
    ['a short signature', { sig: 'abc123' }],
    ['a signature that is not hex', { sig: 'z'.repeat(64) }],
    ['an expiry that is not a number', { expires: '1e12' }],
    ['a negative expiry', { expires: '-1' }],
  ])('refuses a link with %s', async (_what, change) => {
    const { id, expires, sig } = await newLink();
    expect(await verifyDownload(db, clock, { id, expires, sig, appSecret: SECRET, ...change })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('works until the instant before expiry and is expired exactly at it', async () => {
    const { id, expires, sig, link } = await newLink();
    clock.set(new Date(Date.parse(link.expiresAt) - 1));
    expect((await verifyDownload(db, clock, { id, expires, sig, appSecret: SECRET })).ok).toBe(true);
    clock.set(link.expiresAt);
    expect(await verifyDownload(db, clock, { id, expires, sig, appSecret: SECRET })).toEqual({ ok: false, reason: 'expired' });
  });

  it('says an expired link is expired even when its file is already gone', async () => {
    const { id, expires, sig, link } = await newLink();
    clock.set(link.expiresAt);
    await deleteExpiredExports(db, clock, exportsDir);
    expect(await verifyDownload(db, clock, { id, expires, sig, appSecret: SECRET })).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a link whose file was deleted', async () => {
    const { id, expires, sig } = await newLink();
    await markExportFileDeleted(db, id, NOW);
    expect(await verifyDownload(db, clock, { id, expires, sig, appSecret: SECRET })).toEqual({ ok: false, reason: 'deleted' });
  });

  it('says not found for a correctly signed id that was never recorded', async () => {
    const id = 'f'.repeat(32);
    const expires = String(Date.parse('2026-11-23T00:00:00.000Z') / 1000);
    const sig = signDownload(SECRET, id, Number(expires));
    expect(await verifyDownload(db, clock, { id, expires, sig, appSecret: SECRET })).toEqual({ ok: false, reason: 'not_found' });
  });
});

describe('recordExportDownload', () => {
  it('counts the download and logs export.download without personal data', async () => {
    const { id, expires, sig } = await newLink();
    const check = await verifyDownload(db, clock, { id, expires, sig, appSecret: SECRET });
    if (!check.ok) throw new Error('expected a valid link');
    await recordExportDownload(db, clock, check.file);
    await recordExportDownload(db, clock, check.file);
    const row = await db.selectFrom('export_files').select('downloaded_count').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.downloaded_count).toBe(2);
    const entries = await listActivity(db, { action: 'export.download' });
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ targetType: 'export_file', targetId: id, details: { createdBy: STAFF.id, rows: 1, bytes: check.file.bytes } });
  });
});

describe('deleteExpiredExports', () => {
  it('deletes expired files, marks their rows and leaves current ones alone', async () => {
    const old = await newLink({ ttlMs: 60 * 60 * 1000 });
    const current = await newLink();
    clock.advance(60 * 60 * 1000);

    expect(await deleteExpiredExports(db, clock, exportsDir)).toBe(1);
    expect(readdirSync(exportsDir)).toEqual([`${current.id}.csv`]);
    const rows = await db.selectFrom('export_files').select(['id', 'deleted_at']).orderBy('expires_at').execute();
    expect(rows).toEqual([
      { id: old.id, deleted_at: '2026-11-22T13:00:00.000Z' },
      { id: current.id, deleted_at: null },
    ]);
    expect(await deleteExpiredExports(db, clock, exportsDir)).toBe(0);
  });

  it('works through a backlog in batches', async () => {
    for (let i = 0; i < 5; i++) await newLink({ ttlMs: 1000 });
    clock.advance(1000);
    expect(await deleteExpiredExports(db, clock, exportsDir, { limit: 2 })).toBe(2);
    expect(await deleteExpiredExports(db, clock, exportsDir, { limit: 2 })).toBe(2);
    expect(await deleteExpiredExports(db, clock, exportsDir, { limit: 2 })).toBe(1);
    expect(await deleteExpiredExports(db, clock, exportsDir, { limit: 2 })).toBe(0);
    expect(readdirSync(exportsDir)).toEqual([]);
  });

  it('marks a row whose file was already removed by hand', async () => {
    const { link, id } = await newLink();
    rmSync(join(exportsDir, `${id}.csv`));
    clock.set(link.expiresAt);
    expect(await deleteExpiredExports(db, clock, exportsDir)).toBe(1);
    expect((await db.selectFrom('export_files').select('deleted_at').executeTakeFirstOrThrow()).deleted_at).toBe(link.expiresAt);
  });

  it('removes an old file with no row but keeps a fresh one and anything that is not an export', async () => {
    const kept = await newLink();
    const orphan = join(exportsDir, `${'a'.repeat(32)}.zip`);
    const freshOrphan = join(exportsDir, `${'b'.repeat(32)}.csv`);
    const notOurs = join(exportsDir, 'README.txt');
    for (const path of [orphan, freshOrphan, notOurs]) writeFileSync(path, 'x');
    const old = new Date(clock.now().getTime() - ORPHAN_GRACE_MS - 1000);
    utimesSync(orphan, old, old);
    utimesSync(notOurs, old, old);
    const recent = new Date(clock.now().getTime() - 1000);
    utimesSync(freshOrphan, recent, recent);

    expect(await deleteExpiredExports(db, clock, exportsDir)).toBe(1);
    expect(readdirSync(exportsDir).sort()).toEqual([`${kept.id}.csv`, `${'b'.repeat(32)}.csv`, 'README.txt'].sort());
  });

  it('does nothing when the exports directory does not exist yet', async () => {
    expect(await deleteExpiredExports(db, clock, join(work, 'nowhere'))).toBe(0);
  });
});

describe('startExportCleanupWorker', () => {
  it('cleans up as soon as it starts', async () => {
    const { link, id } = await newLink();
    clock.set(link.expiresAt);
    const worker = startExportCleanupWorker({ db, clock, directory: exportsDir, logger: createLogger('silent') });
    try {
      await expect.poll(() => existsSync(join(exportsDir, `${id}.csv`))).toBe(false);
      await expect.poll(async () => (await db.selectFrom('export_files').select('deleted_at').executeTakeFirstOrThrow()).deleted_at).not.toBeNull();
    } finally {
      await worker.stop();
    }
  });
});
