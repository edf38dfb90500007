import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ApplicationCommandOptionType } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { customerCommand } from '../../src/commands/definitions.js';
import { loadConfig } from '../../src/config.js';
import { plainText, renderMessage } from '../../src/sandbox/render-message.js';
import { runSandbox } from '../../src/sandbox/sandbox.js';
import { commandHelp, readOptions, readSlashCommand } from '../../src/sandbox/command-line.js';
import { openTestContext } from '../support/context.js';
import { startSandboxSession } from '../support/sandbox-session.js';

describe('the sandbox prompt', () => {
  it('reads options the way a staff member types them', () => {
    const parseOptions = (text: string) => readOptions(text).options;
    expect(parseOptions('query:alice smith')).toEqual({ query: 'alice smith' });
    expect(parseOptions('type:email target:a@b.c duration:7d reason:chargeback abuse: twice')).toEqual({
      type: 'email',
      target: 'a@b.c',
      duration: '7d',
      reason: 'chargeback abuse: twice',
    });
    expect(parseOptions('')).toEqual({});
    expect(parseOptions('text:see https://example.com re:"a:b" twice')).toEqual({ text: 'see https://example.com', re: '"a:b" twice' });
    expect(parseOptions('text:"called re:refund"')).toEqual({ text: 'called re:refund' });
  });

  it('lists every subcommand of the command definitions with its options in help', () => {
    const help = commandHelp();
    for (const node of customerCommand.options) {
      const subs = node.type === ApplicationCommandOptionType.SubcommandGroup ? node.options.map((sub) => ({ name: `${node.name} ${sub.name}`, options: 'options' in sub ? (sub.options ?? []) : [] })) : [{ name: node.name, options: 'options' in node ? (node.options ?? []) : [] }];
      for (const sub of subs) {
        const line = help.split('\n').find((l) => l.startsWith(`  /customer ${sub.name}`));
        expect(line, sub.name).toBeDefined();
        for (const option of sub.options as readonly { name: string }[]) expect(line).toContain(`${option.name}:`);
      }
    }
    expect(help).toContain('/profile <discord user id>');
    expect(help).toContain('xlsx (Excel (.xlsx))');
  });

  it('refuses unknown and extra options, naming the valid ones, and takes a choice by its name', () => {
    expect(() => readSlashCommand('lookup query:alice sort:name')).toThrow('sort: is not an option here. lookup takes query:');
    expect(() => readSlashCommand('lookup query:alice colour:red')).toThrow('colour: is not an option here. lookup takes query:');
    expect(() => readSlashCommand('stats everything')).toThrow('"everything" is not an option. stats takes customer:');
    expect(() => readSlashCommand('digest now')).toThrow('"now" is not an option. digest takes no options');
    expect(() => readSlashCommand('lookup')).toThrow('lookup needs query:');
    expect(() => readSlashCommand('lookup query:a query:b')).toThrow('query: given twice');
    expect(() => readSlashCommand('look query:a')).toThrow(/is not a command\. Commands: lookup, ban, .*role-rule add/);
    expect(() => readSlashCommand('')).toThrow('/customer needs a subcommand. Commands: lookup,');
    expect(() => readSlashCommand('role-rule')).toThrow('/customer role-rule needs a subcommand. Commands: role-rule add, role-rule remove, role-rule list');
    expect(() => readSlashCommand('export format:pdf')).toThrow('format:pdf is not one of its choices: csv, xlsx (Excel (.xlsx))');
    expect(readSlashCommand('export format:excel filter:Loyal customers')).toEqual({ subcommand: 'export', options: { format: 'xlsx', filter: 'loyal' } });
    expect(readSlashCommand('export format:XLSX')).toEqual({ subcommand: 'export', options: { format: 'xlsx' } });
    expect(readSlashCommand('role-rule add product_id:1 role:5')).toEqual({ subcommand: 'add', subcommandGroup: 'role-rule', options: { product_id: '1', role: '5' } });
  });

  it('renders Discord markup as plain text', () => {
    expect(plainText('**Loyal** since <t:0:d> by <@123456789012345678> \\*not bold\\*')).toBe('Loyal since 1970-01-01 by @123456789012345678 *not bold*');
    const text = renderMessage({
      flags: 64,
      embeds: [{ title: 'Alice', fields: [{ name: 'Segment', value: 'Repeat' }], footer: { text: 'Customer #1' } }],
      components: [{ type: 1, components: [{ type: 2, label: 'Orders (3)', custom_id: 'c:orders:1:0' }] }],
      attachments: [{ filename: 'avatar.png', size: 1234 }],
    });
    expect(renderMessage({ embeds: [{ thumbnail: { url: 'attachment://avatar.png' } }], attachments: [{ filename: 'avatar.png', size: 5 }] }, new Map([['avatar.png', 'data/sandbox/1/avatar.png']]))).toBe(
      ['┌' + '─'.repeat(60), '│ [picture: avatar.png → data/sandbox/1/avatar.png]', '└' + '─'.repeat(60), '📎 avatar.png (5 bytes) saved to data/sandbox/1/avatar.png'].join('\n'),
    );
    expect(text).toContain('(only you can see this)');
    expect(text).toContain('│ ALICE');
    expect(text).toContain('▸ Segment');
    expect(text).toContain('📎 avatar.png (1,234 bytes)');
    expect(text).toContain('[1] Orders (3)');
  });

  it('says where the store is without showing the password of its PostgreSQL URL', async () => {
    const context = await openTestContext();
    const { db, clock, logger } = context;
    // The store opened is the test's; only the banner reads DATABASE_URL.
    const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: 'postgres://shop:banner-secret-pw@db.example.com:5432/shop' });
    const input = new PassThrough();
    const output = new PassThrough();
    let transcript = '';
    output.on('data', (chunk: Buffer) => (transcript += chunk.toString('utf8')));
    const done = runSandbox({ db, clock, config, logger, tempDir: '/tmp', input, output, listen: false });
    await expect.poll(() => transcript, { timeout: 15_000 }).toContain('> ');
    input.end('exit\n');
    await done;
    await context.close();
    expect(transcript).toContain('Database: postgres://shop:***@db.example.com:5432/shop');
    expect(transcript).not.toContain('banner-secret-pw');
  });

  it('runs the real bot on demo data and answers typed commands, buttons and forms', async () => {
    const { db, transcript, type, waitFor, exit, close } = await startSandboxSession();
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
    await close();
  }, 60_000);

  it('saves the file /customer export produces under the sandbox folder and prints its path and size', async () => {
    const context = await openTestContext({ now: '2026-11-22T12:00:00.000Z' });
    const { db, clock, logger } = context;
    const files = mkdtempSync(join(tmpdir(), 'sandbox-files-'));
    try {
      const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: ':memory:' });
      const input = new PassThrough();
      const output = new PassThrough();
      let transcript = '';
      output.on('data', (chunk: Buffer) => (transcript += chunk.toString('utf8')));
      const done = runSandbox({ db, clock, config, logger, tempDir: tmpdir(), input, output, listen: false, filesDirectory: files });
      await expect.poll(() => transcript, { timeout: 15_000 }).toContain('> ');
      input.write('/customer lookup query:alice colour:red\n');
      await expect.poll(() => transcript, { timeout: 15_000 }).toContain('! colour: is not an option here. lookup takes query:');
      input.write('/customer export format:excel filter:loyal\n');
      await expect.poll(() => transcript, { timeout: 30_000 }).toMatch(/📎 \S+\.xlsx \([\d,]+ bytes\) saved to /);
      input.end('exit\n');
      await done;
      const [, name = '', size = '', path = ''] = /📎 (\S+\.xlsx) \(([\d,]+) bytes\) saved to (\S+)/.exec(transcript) ?? [];
      expect(path.startsWith(files)).toBe(true);
      expect(path.endsWith(name)).toBe(true);
      expect(existsSync(path)).toBe(true);
      expect(statSync(path).size).toBe(Number(size.replace(/,/g, '')));
      expect(readdirSync(files)).toHaveLength(1);
    } finally {
      await context.close();
      rmSync(files, { recursive: true, force: true });
    }
  }, 60_000);
});
