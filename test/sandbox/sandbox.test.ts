import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/logger.js';
import { plainText, renderMessage } from '../../src/sandbox/render-message.js';
import { runSandbox } from '../../src/sandbox/sandbox.js';
import { parseOptions } from '../../src/sandbox/terminal.js';
import { openTestDatabase } from '../support/database.js';
import { startSandboxSession } from '../support/sandbox-session.js';

describe('the sandbox prompt', () => {
  it('reads options the way a staff member types them', () => {
    expect(parseOptions('query:alice smith')).toEqual({ query: 'alice smith' });
    expect(parseOptions('type:email target:a@b.c duration:7d reason:chargeback abuse: twice')).toEqual({
      type: 'email',
      target: 'a@b.c',
      duration: '7d',
      reason: 'chargeback abuse: twice',
    });
    expect(parseOptions('')).toEqual({});
  });

  it('renders Discord markup as plain text', () => {
    expect(plainText('**Loyal** since <t:0:d> by <@123456789012345678> \\*not bold\\*')).toBe('Loyal since 1970-01-01 by @123456789012345678 *not bold*');
    const text = renderMessage({
      flags: 64,
      embeds: [{ title: 'Alice', fields: [{ name: 'Segment', value: 'Repeat' }], footer: { text: 'Customer #1' } }],
      components: [{ type: 1, components: [{ type: 2, label: 'Orders (3)', custom_id: 'c:orders:1:0' }] }],
      attachments: [{ filename: 'avatar.png', size: 1234 }],
    });
    expect(text).toContain('(only you can see this)');
    expect(text).toContain('│ ALICE');
    expect(text).toContain('▸ Segment');
    expect(text).toContain('📎 avatar.png (1,234 bytes)');
    expect(text).toContain('[1] Orders (3)');
  });

  it('says where the store is without showing the password of its PostgreSQL URL', async () => {
    const { db } = await openTestDatabase();
    // The store opened is the test's; only the banner reads DATABASE_URL.
    const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: 'postgres://shop:banner-secret-pw@db.example.com:5432/shop' });
    const input = new PassThrough();
    const output = new PassThrough();
    let transcript = '';
    output.on('data', (chunk: Buffer) => (transcript += chunk.toString('utf8')));
    const done = runSandbox({ db, clock: new ManualClock('2026-11-22T12:00:00.000Z'), config, logger: createLogger('silent'), tempDir: '/tmp', input, output, listen: false });
    await expect.poll(() => transcript, { timeout: 15_000 }).toContain('> ');
    input.end('exit\n');
    await done;
    await db.destroy();
    expect(transcript).toContain('Database: postgres://shop:***@db.example.com:5432/shop');
    expect(transcript).not.toContain('banner-secret-pw');
  });

  it('runs the real bot on demo data and answers typed commands, buttons and forms', async () => {
    const { db, transcript, type, waitFor, exit } = await startSandboxSession();
    type('/customer lookup query:alice@example.com');
    await waitFor('ALICE JOHNSON');
    expect(transcript()).toContain('▸ Statistics');
    expect(transcript()).toMatch(/\[\d\] Add note/);
    const addNote = /\[(\d)\] Add note/.exec(transcript())![1]!;
    type(`click ${addNote}`);
    await waitFor('Form: Note on customer');
    type('Called about a missing rank');
    await waitFor('Note added');
    expect(transcript()).toContain('Called about a missing rank');
    type('/customer stats');
    await waitFor('STORE STATISTICS');
    await exit();
    const customers = await db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(customers.n).toBeGreaterThanOrEqual(200);
    await db.destroy();
  }, 60_000);
});
