import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILT_BOT_ENTRY } from '../support/bot-build.js';
import { startLocalDiscord, type LocalDiscord } from '../../src/sandbox/local-discord/index.js';
import { freePort } from '../support/bot-process.js';
import { onPostgres, testDatabaseUrl } from '../support/database.js';

// The built bot, as `npm start` runs it, started in an empty folder of its own (its working
// directory and its TMPDIR) with one bad setting. Each run must end on its own, quickly, with one
// line naming the setting and the fix, and leave the folder as it found it.

interface Run {
  status: number | null;
  lines: string[];
  output: string;
  stderr: string;
}

let home: string;

/**
 * Permissions stop root only without the capabilities that override them: `setpriv` starts the
 * bot as root without them. (Another user would not do: the checkout may sit in a folder only
 * its owner can enter, as a fresh clone in a private temp folder does.)
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));
const canDropPrivileges = process.getuid?.() !== 0 || SETPRIV !== undefined;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'startup-errors-'));
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

/**
 * Runs the bot with `env` (stdin closed, so the sandbox's prompt ends at once) and collects what
 * it printed; `unprivileged` runs it without the capabilities that let root ignore permissions
 * when the tests run as root.
 */
function runBot(env: Record<string, string>, options: { unprivileged?: boolean } = {}): Promise<Run> {
  const asRestrictedRoot = options.unprivileged === true && process.getuid?.() === 0 && SETPRIV !== undefined;
  const [command, args] = asRestrictedRoot
    ? [SETPRIV, ['--bounding-set', '-dac_override,-dac_read_search', '--', process.execPath, BUILT_BOT_ENTRY]]
    : [process.execPath, [BUILT_BOT_ENTRY]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: home,
      env: { PATH: process.env.PATH ?? '', TMPDIR: home, DOTENV_CONFIG_PATH: '/nonexistent/.env', HTTP_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      stderr += chunk.toString('utf8');
    });
    // A bot that neither starts nor stops (a busy loop) is killed, and the test fails on its
    // status. Generous, for a loaded machine: a refusal comes in well under a second of work.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output, stderr, lines: output.trim().split('\n') });
    });
  });
}

function expectOneLineRefusal(run: Run, pattern: RegExp): void {
  expect(run.output).not.toMatch(/^\s+at /m);
  expect(run.lines).toHaveLength(1);
  expect(run.lines[0]).toMatch(pattern);
  expect(run.status).toBe(1);
}

describe('start-up with a setting the bot cannot use', { timeout: 60_000 }, () => {
  it('refuses a DATABASE_URL of another database kind in one line, without its password, creating nothing', async () => {
    const run = await runBot({ DATABASE_URL: 'mysql://shop:hunter2-secret@db.example.com/shop' });
    expectOneLineRefusal(run, /^Configuration error: DATABASE_URL must be a file path such as data\/customers\.db or a postgres:\/\/ URL/);
    expect(run.output).not.toContain('hunter2-secret');
    expect(readdirSync(home)).toEqual([]);
  });

  it('refuses a DATABASE_URL inside a file as if it were a folder, creating nothing', async () => {
    writeFileSync(join(home, 'notes.txt'), 'not a folder');
    const run = await runBot({ DATABASE_URL: join(home, 'notes.txt', 'store', 'customers.db') });
    expectOneLineRefusal(run, /^Configuration error: DATABASE_URL .*notes\.txt.*folder the bot can write/);
    expect(readdirSync(home)).toEqual(['notes.txt']);
  });

  it.runIf(process.platform === 'linux')('refuses a DATABASE_URL whose folder cannot be created under /proc, without spinning', async () => {
    const run = await runBot({ DATABASE_URL: '/proc/customer-desk/customers.db' });
    expectOneLineRefusal(run, /^Configuration error: DATABASE_URL .*\/proc\/customer-desk.*folder the bot can write/);
    expect(existsSync('/proc/customer-desk')).toBe(false);
    expect(readdirSync(home)).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('refuses a DATABASE_URL file that cannot be created in an existing folder', async () => {
    const run = await runBot({ DATABASE_URL: '/proc/customers.db' });
    expectOneLineRefusal(run, /^Configuration error: DATABASE_URL .*\/proc\/customers\.db.*folder the bot can write/);
    expect(readdirSync(home)).toEqual([]);
  });

  it.runIf(process.platform === 'linux' && canDropPrivileges)('refuses a DATABASE_URL in a folder the bot may only read, creating nothing', async () => {
    chmodSync(home, 0o777);
    mkdirSync(join(home, 'read-only'), { mode: 0o555 });
    writeFileSync(join(home, 'read-only', 'existing.db'), '');
    chmodSync(join(home, 'read-only'), 0o555);
    try {
      for (const location of ['read-only/store/customers.db', 'read-only/customers.db', 'read-only/existing.db']) {
        const run = await runBot({ DATABASE_URL: join(home, location) }, { unprivileged: true });
        expectOneLineRefusal(run, /^Configuration error: DATABASE_URL .*read-only.* (cannot be created|cannot be written) \(permission denied\); set DATABASE_URL to a file in a folder the bot can write/);
      }
      expect(readdirSync(home)).toEqual(['read-only']);
      expect(readdirSync(join(home, 'read-only'))).toEqual(['existing.db']);
    } finally {
      chmodSync(join(home, 'read-only'), 0o755);
    }
  });

  it('refuses a DATABASE_URL that is not a SQLite database, leaving the file as it was', async () => {
    mkdirSync(join(home, 'data'));
    writeFileSync(join(home, 'data', 'customers.db'), 'a spreadsheet, not a database\n'.repeat(200));
    const run = await runBot({ DATABASE_URL: 'data/customers.db' });
    expectOneLineRefusal(run, /^Configuration error: DATABASE_URL .*customers\.db is not a SQLite database/);
    expect(readdirSync(join(home, 'data'))).toEqual(['customers.db']);
    expect(readFileSync(join(home, 'data', 'customers.db'), 'utf8')).toMatch(/^a spreadsheet/);
  });

  describe('with the HTTP port taken', () => {
    let server: Server;
    let port: number;
    beforeEach(async () => {
      port = await freePort();
      server = createServer();
      await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
    });
    afterEach(async () => {
      await new Promise<void>((done) => server.close(() => done()));
    });

    it('refuses an HTTP_PORT already in use in one line, creating nothing', async () => {
      const run = await runBot({ HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) });
      expectOneLineRefusal(run, new RegExp(`^Configuration error: HTTP_PORT ${port} is already in use on 127\\.0\\.0\\.1.*set HTTP_PORT to a free port`));
      expect(readdirSync(home)).toEqual([]);
    });
  });

  it('refuses an HTTP_HOST that does not resolve in one line, creating nothing', async () => {
    const run = await runBot({ HTTP_HOST: 'no-such-host.invalid' });
    expectOneLineRefusal(run, /^Configuration error: HTTP_HOST "no-such-host\.invalid" does not resolve/);
    expect(readdirSync(home)).toEqual([]);
  });

  it('refuses an unreachable PostgreSQL in one line without its password, creating nothing', async () => {
    // Port 1 (tcpmux) is nothing's: a port found free a moment before may be taken by then.
    const closed = 1;
    const run = await runBot({ DATABASE_URL: `postgres://shop:pg-secret-pw@127.0.0.1:${closed}/shop` });
    expectOneLineRefusal(run, new RegExp(`^Configuration error: DATABASE_URL: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${closed} \\(connection refused\\); start the server`));
    expect(run.output).not.toContain('pg-secret-pw');
    expect(readdirSync(home)).toEqual([]);
  });

  it.runIf(onPostgres)('refuses a PostgreSQL URL naming a database the server does not have, in one line', async () => {
    const url = new URL(testDatabaseUrl ?? '');
    url.pathname = '/customer_desk_no_such_database';
    const run = await runBot({ DATABASE_URL: url.toString() });
    expectOneLineRefusal(run, /^Configuration error: DATABASE_URL: PostgreSQL at .* has no database "customer_desk_no_such_database"; create it/);
    expect(readdirSync(home)).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('refuses a TMPDIR it cannot write in one line, without spinning', async () => {
    const run = await runBot({ TMPDIR: '/proc/customer-desk-tmp' });
    expectOneLineRefusal(run, /^Configuration error: TMPDIR \/proc\/customer-desk-tmp: .*set TMPDIR to a folder the bot can write/);
    expect(readdirSync(home)).toEqual([]);
  });

  it('refuses a ROLE_RULES_FILE that is not JSON in one line, and the log ends with that line', async () => {
    writeFileSync(join(home, 'rules.json'), '{ "rules": [ oops');
    const run = await runBot({ ROLE_RULES_FILE: 'rules.json' });
    expectOneLineRefusal(run, /^Configuration error: ROLE_RULES_FILE rules\.json is not valid JSON .*; correct the file/);
    // The sandbox logs to a file beside the database: the line saying why was written just
    // before the exit, and is there.
    const log = readFileSync(join(home, 'data', 'bot.log'), 'utf8').trim().split('\n');
    const last = JSON.parse(log.at(-1) ?? '{}') as { level?: number; msg?: string };
    expect(last).toMatchObject({ level: 60, msg: run.lines[0]?.replace(/^Configuration error: /, '') });
  });

  describe('with Discord refusing the token', () => {
    let discord: LocalDiscord;
    beforeEach(async () => {
      discord = await startLocalDiscord();
      // What Discord answers a bot token it does not know, on the login's first request.
      discord.injectFault({ method: 'GET', route: '/gateway/bot', status: 401, body: { message: '401: Unauthorized', code: 0 }, times: Infinity });
    });
    afterEach(async () => {
      await discord.stop();
    });

    it('stops with one line naming DISCORD_TOKEN, without showing it, instead of retrying forever', async () => {
      const token = 'MTEwMDAwMDAwMDAwMDAwMDAwOQ.wrong.token-that-discord-refuses';
      const run = await runBot({ DISCORD_TOKEN: token, DISCORD_GUILD_ID: '1100000000000000001', DISCORD_API_URL: discord.apiUrl });
      expect(run.output).not.toMatch(/^\s+at /m);
      expect(run.output).not.toContain(token);
      // Without the sandbox the log is stdout; the line for a person is stderr's only line.
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Configuration error: DISCORD_TOKEN was refused by Discord; .*Reset Token/)]);
      expect(run.status).toBe(1);
    });
  });

  it('ends with one line and the log kept, not a stack trace, when a failure nothing expected reaches the top', async () => {
    // The sandbox's output closed under it: its next reply fails to write (EPIPE), an error
    // nothing in the bot is there to catch.
    const child = spawn(process.execPath, [BUILT_BOT_ENTRY], {
      cwd: home,
      env: { PATH: process.env.PATH ?? '', TMPDIR: home, DOTENV_CONFIG_PATH: '/nonexistent/.env', HTTP_PORT: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const closed = new Promise<number | null>((resolve) => child.once('close', (status) => resolve(status)));
    await new Promise<void>((resolve) => {
      let seen = '';
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString('utf8');
        if (seen.includes('> ')) resolve();
      });
    });
    child.stdout.destroy();
    child.stdin.write('/customer stats\n');
    const status = await closed;
    clearTimeout(timer);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^The bot stopped: write EPIPE$/)]);
    expect(status).toBe(1);
    const log = readFileSync(join(home, 'data', 'bot.log'), 'utf8').trim().split('\n');
    expect(JSON.parse(log.at(-1) ?? '{}')).toMatchObject({ level: 60, msg: 'write EPIPE' });
  });
});
