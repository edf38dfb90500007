import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listActivity } from '../../src/domain/customers/activity-log.js';
import { createDownloadLink, deleteExpiredExports, signDownload } from '../../src/domain/exports/download-links.js';
import { attachmentDisposition } from '../../src/http/routes/downloads.js';
import { startApiTestApp, type ApiTestApp } from '../support/api-app.js';

const SECRET = 'a-test-app-secret-that-is-long-enough-0123';
const STAFF = { id: '2200000000000000101', name: 'Ada Admin' };

let t: ApiTestApp;
let work: string;
let exportsDir: string;

beforeEach(async () => {
  t = await startApiTestApp({ APP_SECRET: SECRET, PUBLIC_URL: 'https://desk.example.com' });
  work = mkdtempSync(join(tmpdir(), 'downloads-route-'));
  exportsDir = join(work, 'exports');
});
afterEach(async () => {
  await t.close();
  rmSync(work, { recursive: true, force: true });
});

/** A zip-like file with bytes that are not valid UTF-8, so any re-encoding would show. */
async function publish(
  content: Buffer = Buffer.concat([Buffer.from('PK\u0003\u0004'), randomBytes(300_000)]),
  fileName = 'customers-2026-11-22.zip',
  contentType = 'application/zip',
) {
  const path = join(work, `export-${randomBytes(4).toString('hex')}`);
  writeFileSync(path, content);
  const link = await createDownloadLink(t.db, t.clock, {
    file: { path, fileName, contentType, bytes: content.length, rows: 12_345, compressed: true, overLimit: true },
    actor: STAFF,
    publicUrl: t.deps.config.publicUrl,
    appSecret: SECRET,
    directory: exportsDir,
  });
  const url = new URL(link.url);
  return { content, link, path: `${url.pathname}${url.search}`, id: url.pathname.split('/').pop()!, url };
}

function expectNoInternals(body: string) {
  expect(body.length).toBeLessThan(300);
  expect(body).not.toMatch(/\bat .+:\d+:\d+|node_modules|\/work\/|Error:|stack|export_files|SQLITE/i);
}

describe('GET /downloads/:id', () => {
  it('sends the exact bytes as an attachment that is never cached or sniffed', async () => {
    const { content, path } = await publish();
    const response = await t.app.inject({ method: 'GET', url: path });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/zip');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="customers-2026-11-22.zip"; filename*=UTF-8''customers-2026-11-22.zip`);
    expect(response.headers['content-length']).toBe(String(content.length));
    expect(response.headers['cache-control']).toBe('private, no-store');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.rawPayload.equals(content)).toBe(true);
  });

  it('serves a CSV with its own content type', async () => {
    const { path } = await publish(Buffer.from('\uFEFFCustomer ID,Name\r\n1,José\r\n'), 'customers-2026-11-22.csv', 'text/csv; charset=utf-8');
    const response = await t.app.inject({ method: 'GET', url: path });
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.body).toBe('\uFEFFCustomer ID,Name\r\n1,José\r\n');
  });

  it('counts each download and logs export.download', async () => {
    const { path, id } = await publish();
    await t.app.inject({ method: 'GET', url: path });
    await t.app.inject({ method: 'GET', url: path });
    const row = await t.db.selectFrom('export_files').select('downloaded_count').executeTakeFirstOrThrow();
    expect(row.downloaded_count).toBe(2);
    const entries = await listActivity(t.db, { action: 'export.download' });
    expect(entries.map((e) => e.targetId)).toEqual([id, id]);
  });

  it('answers HEAD with the headers and no body, without counting a download', async () => {
    const { content, path } = await publish();
    const response = await t.app.inject({ method: 'HEAD', url: path });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-length']).toBe(String(content.length));
    expect(response.headers['content-disposition']).toContain('attachment;');
    expect(response.headers['cache-control']).toBe('private, no-store');
    expect(response.rawPayload).toHaveLength(0);
    expect((await t.db.selectFrom('export_files').select('downloaded_count').executeTakeFirstOrThrow()).downloaded_count).toBe(0);
    expect(await listActivity(t.db, { action: 'export.download' })).toEqual([]);
  });

  it('refuses a link without a signature with 403', async () => {
    const { id, url } = await publish();
    const response = await t.app.inject({ method: 'GET', url: `/downloads/${id}?expires=${url.searchParams.get('expires')}` });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ success: false, error: 'Forbidden', message: 'This download link is not valid. Run the export again for a new link.' });
    expect(response.headers['cache-control']).toBe('private, no-store');
    expectNoInternals(response.body);
  });

  it('refuses a tampered signature, expiry or id with 403 and the same answer', async () => {
    const { id, url } = await publish();
    const expires = url.searchParams.get('expires')!;
    const sig = url.searchParams.get('sig')!;
    const other = 'e'.repeat(32);
    const bodies = new Set<string>();
    for (const attempt of [
      `/downloads/${id}?expires=${expires}&sig=${'0'.repeat(64)}`,
      `/downloads/${id}?expires=${Number(expires) + 3600}&sig=${sig}`,
      `/downloads/${other}?expires=${expires}&sig=${sig}`,
      `/downloads/${id}?expires=${expires}&sig=${sig}&sig=${sig}`,
      `/downloads/..%2F..%2Fetc%2Fpasswd?expires=${expires}&sig=${sig}`,
    ]) {
      const response = await t.app.inject({ method: 'GET', url: attempt });
      expect(response.statusCode, attempt).toBe(403);
      bodies.add(response.body);
    }
    expect(bodies.size).toBe(1);
  });

  it('answers 410 Gone once the link has expired', async () => {
    const { path, link } = await publish();
    t.clock.set(link.expiresAt);
    const response = await t.app.inject({ method: 'GET', url: path });
    expect(response.statusCode).toBe(410);
    expect(response.json()).toMatchObject({ success: false, error: 'Gone' });
    expectNoInternals(response.body);
  });

  it('answers 410 Gone after the cleanup removed the file', async () => {
    const { path, link } = await publish();
    t.clock.set(link.expiresAt);
    await deleteExpiredExports(t.db, t.clock, exportsDir);
    t.clock.set('2026-11-22T12:00:00.000Z');
    const response = await t.app.inject({ method: 'GET', url: path });
    expect(response.statusCode).toBe(410);
    expect(response.json().message).toContain('no longer available');
  });

  it('answers 410 Gone when the file vanished from disk', async () => {
    const { path, id } = await publish();
    rmSync(join(exportsDir, `${id}.zip`));
    const response = await t.app.inject({ method: 'GET', url: path });
    expect(response.statusCode).toBe(410);
    expectNoInternals(response.body);
  });

  it('answers 404 for a correctly signed id that does not exist', async () => {
    const id = 'f'.repeat(32);
    const expires = Math.floor(t.clock.now().getTime() / 1000) + 3600;
    const response = await t.app.inject({ method: 'GET', url: `/downloads/${id}?expires=${expires}&sig=${signDownload(SECRET, id, expires)}` });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ success: false, error: 'Not Found', message: 'There is no such download.' });
  });

  it('answers HEAD refusals with the same status', async () => {
    const { id } = await publish();
    const response = await t.app.inject({ method: 'HEAD', url: `/downloads/${id}` });
    expect(response.statusCode).toBe(403);
  });
});

describe('GET /downloads/:id without APP_SECRET', () => {
  it('says downloads are not configured', async () => {
    const plain = await startApiTestApp();
    try {
      const response = await plain.app.inject({ method: 'GET', url: `/downloads/${'a'.repeat(32)}?expires=1&sig=${'0'.repeat(64)}` });
      expect(response.statusCode).toBe(503);
      expectNoInternals(response.body);
    } finally {
      await plain.close();
    }
  });
});

describe('attachmentDisposition', () => {
  it('gives an ASCII fallback and the UTF-8 name as RFC 6266 and RFC 8187 describe', () => {
    expect(attachmentDisposition('kunden-größe "1".csv')).toBe(
      `attachment; filename="kunden-gr__e _1_.csv"; filename*=UTF-8''kunden-gr%C3%B6%C3%9Fe%20%221%22.csv`,
    );
    expect(attachmentDisposition("a'b(c)*%.csv")).toBe(`attachment; filename="a'b(c)*_.csv"; filename*=UTF-8''a%27b%28c%29%2A%25.csv`);
  });
});
