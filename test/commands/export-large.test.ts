import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { unzipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listActivity } from '../../src/domain/customers/activity-log.js';
import { createHttpApp, type HttpApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import type { InteractionHandle, LocalMessage } from '../../src/sandbox/local-discord/index.js';
import { insertCustomers } from '../../src/domain/customers/registration.js';
import { ADMIN_ID, embedFields, type Harness } from '../support/bot-harness.js';
import { openTestContext } from '../support/context.js';

const SECRET = 'a-test-app-secret-that-is-long-enough-0123';
const CUSTOMERS = 2_500;

let h: Harness;
let http: HttpApp;
let exportsDir: string;

/** Names with random hex, so the CSV hardly compresses and a small cap is really exceeded. */
async function seedCustomers(count: number) {
  await insertCustomers(
    h.db,
    h.clock,
    Array.from({ length: count }, (_, i) => ({
      name: `Customer ${i} ${randomBytes(12).toString('hex')}`,
      email: `c${i}.${randomBytes(6).toString('hex')}@example.com`,
      createdAt: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString(),
    })),
  );
}

async function startLargeExportHarness(env: Record<string, string>) {
  h = await openTestContext({ discord: { env } });
  exportsDir = mkdtempSync(join(tmpdir(), 'desk-exports-'));
  // What the composition root passes; the cap is tiny so a few thousand rows are "too large".
  h.deps.exportsDir = exportsDir;
  h.deps.exportUploadLimitBytes = 8 * 1024;
  http = await createHttpApp({
    db: h.db,
    clock: h.clock,
    config: h.config,
    logger: createLogger('silent'),
    wake: { inboundEvents: () => undefined, webhookDeliveries: () => undefined },
  });
  await seedCustomers(CUSTOMERS);
}

/** The export's final answer: progress edits come first, so wait for the one that is not progress. */
async function finalMessage(handle: InteractionHandle): Promise<LocalMessage> {
  await handle.settled(15_000);
  await expect.poll(() => handle.original()?.content ?? '', { timeout: 15_000 }).not.toMatch(/^Exporting…|^$/);
  return handle.original()!;
}

function linkOf(message: LocalMessage): string {
  const row = message.components[0] as unknown as { components: { style: number; url?: string; label: string }[] } | undefined;
  const button = row?.components[0];
  expect(button).toMatchObject({ style: 5, label: 'Download' });
  return button!.url!;
}

async function download(link: string) {
  const url = new URL(link);
  return http.inject({ method: 'GET', url: `${url.pathname}${url.search}` });
}

function progressEdits(): string[] {
  return h.discord.requests
    .filter((r) => r.method === 'PATCH' && r.path.endsWith('/messages/@original'))
    .map((r) => (r.body as { content?: string } | null)?.content ?? '')
    .filter((content) => content.startsWith('Exporting…'));
}

afterEach(async () => {
  await http.close();
  await h.close();
  rmSync(exportsDir, { recursive: true, force: true });
});

describe('/customer export over the upload cap, with APP_SECRET', () => {
  beforeEach(async () => {
    await startLargeExportHarness({ APP_SECRET: SECRET, PUBLIC_URL: 'https://desk.example.com' });
  });

  it('answers with a private download link that returns the whole file', async () => {
    const handle = await h.discord.invokeSlash({ userId: ADMIN_ID, name: 'customer', subcommand: 'export', options: { format: 'csv', sort: 'oldest' } });
    const message = await finalMessage(handle);
    expect(handle.ephemeral).toBe(true);
    expect(message.attachments).toEqual([]);
    expect(message.content).toBe('Exported 2,500 customers as CSV.');
    expect(message.embeds[0]!.title).toBe('Export ready to download');
    const fields = embedFields(message);
    expect(fields['Customers']).toBe('2,500');
    expect(fields['Size']).toMatch(/^\d+\.\d MB \(zipped\)$/);
    // A Discord timestamp 24 hours after 2026-11-22T12:00Z, absolute and relative.
    expect(fields['Link expires']).toBe('<t:1795435200:f> (<t:1795435200:R>)');

    const link = linkOf(message);
    expect(link).toMatch(/^https:\/\/desk\.example\.com\/downloads\/[0-9a-f]{32}\?expires=1795435200&sig=[0-9a-f]{64}$/);
    expect(message.embeds[0]!.description).toContain(`(${link})`);

    const response = await download(link);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-disposition']).toContain('filename="customers-2026-11-22.zip"');
    const entries = unzipSync(new Uint8Array(response.rawPayload));
    expect(Object.keys(entries)).toEqual(['customers-2026-11-22.csv']);
    const lines = Buffer.from(entries['customers-2026-11-22.csv']!).toString('utf8').replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines).toHaveLength(CUSTOMERS + 1);
    expect(lines[1]).toMatch(/^\d+,Customer 0 [0-9a-f]{24},/);
    expect(lines.at(-1)).toMatch(/^\d+,Customer 2499 [0-9a-f]{24},/);

    // Nothing stays behind in the temp directory; the one file waits in the exports directory.
    expect(readdirSync(h.deps.tempDir)).toEqual([]);
    expect(readdirSync(exportsDir)).toHaveLength(1);
    const [run] = await listActivity(h.db, { action: 'export.run' });
    expect(run).toMatchObject({ actor: { id: ADMIN_ID }, details: { delivery: 'link', rows: CUSTOMERS, downloadId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
  });

  it('answers an Excel export over the cap with a link to a workbook holding every row', async () => {
    const handle = await h.discord.invokeSlash({ userId: ADMIN_ID, name: 'customer', subcommand: 'export', options: { format: 'xlsx' } });
    const message = await finalMessage(handle);
    expect(message.content).toBe('Exported 2,500 customers as XLSX.');
    const response = await download(linkOf(message));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(response.rawPayload as unknown as ExcelJS.Buffer);
    expect(workbook.worksheets[0]!.rowCount).toBe(CUSTOMERS + 1);
  });

  it('still uploads an export that fits', async () => {
    const handle = await h.discord.invokeSlash({ userId: ADMIN_ID, name: 'customer', subcommand: 'export', options: { format: 'csv', search: 'c7.' } });
    const message = await finalMessage(handle);
    expect(message.content).toBe('Exported 1 customer as CSV.');
    expect(message.attachments.map((a) => a.filename)).toEqual(['customers-2026-11-22.csv']);
    expect(message.components).toEqual([]);
    expect(readdirSync(exportsDir)).toEqual([]);
  });

  it('edits the deferred reply with progress while a long export runs', async () => {
    h.deps.exportProgressIntervalMs = 0;
    const handle = await h.discord.invokeSlash({ userId: ADMIN_ID, name: 'customer', subcommand: 'export', options: { format: 'csv' } });
    await finalMessage(handle);
    expect(progressEdits()).toEqual(['Exporting… 1,000 of 2,500 customers', 'Exporting… 2,000 of 2,500 customers', 'Exporting… 2,500 of 2,500 customers']);
  });
});

describe('/customer export over the upload cap, without APP_SECRET', () => {
  beforeEach(async () => {
    await startLargeExportHarness({});
  });

  it('asks to narrow the export and says APP_SECRET would give a link', async () => {
    const handle = await h.discord.invokeSlash({ userId: ADMIN_ID, name: 'customer', subcommand: 'export', options: { format: 'xlsx' } });
    const message = await finalMessage(handle);
    expect(message.content).toMatch(/^❌ The export is \d+\.\d MB, over Discord's 10 MB upload limit even compressed\. Narrow it with a filter\./);
    expect(message.content).toContain('Setting APP_SECRET lets the bot answer large exports with a download link instead.');
    expect(message.attachments).toEqual([]);
    expect(readdirSync(h.deps.tempDir)).toEqual([]);
    expect(readdirSync(exportsDir)).toEqual([]);
  });
});
