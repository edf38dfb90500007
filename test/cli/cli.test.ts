import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listActivity } from '../../src/domain/customers/activity-log.js';
import { authenticateToken } from '../../src/domain/api-access/tokens.js';
import { systemClock } from '../../src/shared/clock.js';
import { openDatabase } from '../../src/store/database.js';

let dir: string;
let databasePath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
  databasePath = join(dir, 'customers.db');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(script: 'token' | 'webhooks' | 'migrate', args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', `src/cli/${script}.ts`, ...args],
      { env: { ...process.env, DATABASE_URL: databasePath, LOG_LEVEL: 'silent', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function withDatabase<T>(work: (db: ReturnType<typeof openDatabase>['db']) => Promise<T>): Promise<T> {
  const { db } = openDatabase(databasePath);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

function expectOneLineError(result: Run, text: string) {
  expect(result.code).toBe(1);
  expect(result.stderr.split('\n')[0]).toContain(text);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('npm run token', { timeout: 60_000 }, () => {
  it('creates a token, prints it once, lists it by prefix only, and revokes it', async () => {
    const created = await run('token', ['create', '--name', 'Checkout', '--scopes', 'customers:read,webhooks:write', '--expires-in', '90d', '--rate-limit', '120']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const token = /^cdk_\S{43}$/m.exec(created.stdout)?.[0];
    expect(token).toBeDefined();
    expect(created.stdout).toContain('customers:read, webhooks:write; 120 requests/minute');

    const auth = await withDatabase((db) => authenticateToken(db, systemClock, token!));
    expect(auth).toMatchObject({ ok: true, token: { name: 'Checkout', rateLimitPerMinute: 120 } });
    const expiresAt = auth.ok ? new Date(auth.token.expiresAt!).getTime() : 0;
    expect(Math.round((expiresAt - Date.now()) / 86_400_000)).toBe(90);

    const listed = await run('token', ['list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${token!.slice(0, 12)}…`);
    expect(listed.stdout).toContain('"Checkout"  active');
    expect(listed.stdout).not.toContain(token);

    const id = auth.ok ? auth.token.id : 0;
    const revoked = await run('token', ['revoke', String(id)]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked API token #${id}`);
    expect(await withDatabase((db) => authenticateToken(db, systemClock, token!))).toEqual({ ok: false, reason: 'revoked' });
    const actions = await withDatabase((db) => listActivity(db, { targetType: 'api_token' }));
    expect(actions.map((a) => [a.action, a.actor.id])).toEqual([
      ['token.revoke', 'cli'],
      ['token.create', 'cli'],
    ]);
  });

  it('refuses an unknown scope, an unknown option, a missing name and an unknown id with one line and exit code 1', async () => {
    expectOneLineError(await run('token', ['create', '--name', 'X', '--scopes', 'customers:admin']), 'Error: Unknown scope "customers:admin"');
    expectOneLineError(await run('token', ['create', '--nme', 'X']), 'Error: unknown option --nme');
    expectOneLineError(await run('token', ['create', '--scopes', 'customers:read']), 'Error: --name is required');
    expectOneLineError(await run('token', ['create', '--name', 'X', '--scopes', 'customers:read', '--expires-in', 'soon']), 'Error: --expires-in must be a length');
    expectOneLineError(await run('token', ['revoke', '999']), 'Error: No API token has id 999.');
    expectOneLineError(await run('token', ['frobnicate']), 'Error: unknown command "frobnicate"');
  });

  it('names a bad setting instead of failing with a stack trace', async () => {
    expectOneLineError(await run('token', ['list'], { DATABASE_URL: 'postgres://db:port/store' }), 'Configuration error: DATABASE_URL');
  });

  it('names DATABASE_URL when the store cannot be made where it points, creating nothing', async () => {
    writeFileSync(join(dir, 'notes.txt'), 'not a folder');
    const result = await run('token', ['list'], { DATABASE_URL: join(dir, 'notes.txt', 'store', 'customers.db') });
    expectOneLineError(result, `Configuration error: DATABASE_URL ${join(dir, 'notes.txt')} is a file, not a folder`);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('not a folder');
  });
});

describe('npm run webhooks', { timeout: 60_000 }, () => {
  it('creates an endpoint and prints its secret once, lists it, shows its deliveries and deletes it', async () => {
    const refused = await run('webhooks', ['create', '--url', 'http://127.0.0.1:9/hook']);
    expectOneLineError(refused, 'a loopback address');
    expect(refused.stderr).toContain('--allow-private');

    const created = await run('webhooks', ['create', '--url', 'http://127.0.0.1:9/hook', '--allow-private', '--description', 'Local CRM']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const secret = /^whsec_\S+$/m.exec(created.stdout)?.[0];
    expect(secret).toBeDefined();
    const id = /#(\d+)/.exec(created.stdout)?.[1];

    const listed = await run('webhooks', ['list']);
    expect(listed.stdout).toContain(`#${id}  enabled  http://127.0.0.1:9/hook  customer.created  private addresses allowed  "Local CRM"`);
    expect(listed.stdout).not.toContain(secret);

    expect((await run('webhooks', ['deliveries', id!])).stdout).toContain('no deliveries yet');
    expectOneLineError(await run('webhooks', ['redeliver', 'del_missing']), 'Error: No webhook delivery has id del_missing.');

    const deleted = await run('webhooks', ['delete', id!]);
    expect(deleted.code).toBe(0);
    expect((await run('webhooks', ['list'])).stdout).toContain('No webhook endpoints yet');
    expectOneLineError(await run('webhooks', ['delete', id!]), `No webhook endpoint has id ${id}.`);
  });
});

describe('npm run migrate', { timeout: 60_000 }, () => {
  it('brings a new store to the current schema, then reports it up to date and changes nothing', async () => {
    const fresh = join(dir, 'fresh.db');
    const first = await run('migrate', [], { DATABASE_URL: fresh });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const applied = /^Applied (\d+) of (\d+) migrations to /m.exec(first.stdout);
    expect(applied?.[1]).toBe(applied?.[2]);
    expect(Number(applied?.[1])).toBeGreaterThan(0);
    const { db } = openDatabase(fresh);
    try {
      expect((await db.selectFrom('customers').select('id').execute()).length).toBe(0);
    } finally {
      await db.destroy();
    }
    const second = await run('migrate', [], { DATABASE_URL: fresh });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`is up to date (${applied?.[2] ?? '?'} migrations)`);
  });

  it('refuses an unexpected argument with the usage, in one line', async () => {
    const result = await run('migrate', ['now']);
    expectOneLineError(result, 'unexpected argument "now"');
    expect(result.stderr).toContain('npm run migrate');
  });

  it('names DATABASE_URL when the store is not a SQLite database', async () => {
    writeFileSync(join(dir, 'sheet.db'), 'a spreadsheet, not a database\n'.repeat(200));
    expectOneLineError(await run('migrate', [], { DATABASE_URL: join(dir, 'sheet.db') }), `Configuration error: DATABASE_URL ${join(dir, 'sheet.db')} is not a SQLite database`);
  });
});
