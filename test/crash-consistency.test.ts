import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalDiscord, type LocalDiscord } from '../src/sandbox/local-discord/index.js';

const GUILD = '4400000000000000001';
const VIP = '4400000000000000010';
const SECRET = 'crash-test-secret';
const BUYERS = Array.from({ length: 120 }, (_, i) => String(4400000000000001000n + BigInt(i)));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function event(i: number) {
  return JSON.stringify({
    id: `evt_crash_${i}`,
    event_type: 'order.paid',
    created_at: new Date().toISOString(),
    data: {
      id: 90_000 + i,
      order_number: `ORD-CRASH-${i}`,
      status: 'completed',
      total: '9.99',
      currency: 'USD',
      customer: { email: `buyer${i}@example.com`, name: `Buyer ${i}`, discord_id: BUYERS[i] },
      items: [{ product_id: 5, product_name: 'VIP Rank', quantity: 1, price: '9.99' }],
    },
  });
}

let discord: LocalDiscord;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crash-test-'));
  writeFileSync(join(dir, 'rules.json'), JSON.stringify({ rules: [{ product_id: 5, role_id: VIP }] }));
  discord = await startLocalDiscord({
    guilds: [
      {
        id: GUILD,
        name: 'Crash Store',
        ownerId: '4400000000000000099',
        roles: [{ id: VIP, name: 'VIP', position: 1 }],
        channels: [{ id: '4400000000000000002', name: 'general' }],
        members: BUYERS.map((id, i) => ({ user: { id, username: `buyer${i}` }, roles: [] })),
      },
    ],
  });
});

afterAll(async () => {
  await discord.stop();
  rmSync(dir, { recursive: true, force: true });
});

function startBot(port: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      DOTENV_CONFIG_PATH: '/nonexistent/.env',
      DISCORD_TOKEN: discord.token,
      DISCORD_GUILD_ID: GUILD,
      DISCORD_API_URL: discord.apiUrl,
      DATABASE_URL: join(dir, 'customers.db'),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(port),
      STORE_WEBHOOK_SECRET: SECRET,
      ROLE_RULES_FILE: join(dir, 'rules.json'),
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function waitForHealth(url: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the bot did not start listening');
}

async function send(url: string, i: number): Promise<boolean> {
  const body = event(i);
  try {
    const response = await fetch(`${url}/webhooks/store`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-pixlpay-signature': createHmac('sha256', SECRET).update(body).digest('hex') },
      body,
      signal: AbortSignal.timeout(5_000),
    });
    return response.status === 200;
  } catch {
    return false;
  }
}

describe('a bot killed mid-burst', () => {
  it('loses no acknowledged event and grants no role twice after a restart', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const acknowledged = new Set<number>();

    let bot = startBot(port);
    await waitForHealth(url);
    // The store sends from several connections; the process dies without warning partway.
    let next = 0;
    const sender = async () => {
      while (next < BUYERS.length) {
        const i = next++;
        if (await send(url, i)) acknowledged.add(i);
        if (acknowledged.size === 40 && bot.exitCode === null && !bot.killed) bot.kill('SIGKILL');
      }
    };
    await Promise.all(Array.from({ length: 6 }, sender));
    await new Promise<void>((resolve) => (bot.exitCode !== null || bot.signalCode !== null ? resolve() : bot.once('exit', () => resolve())));
    expect(bot.signalCode).toBe('SIGKILL');
    const ackedBeforeCrash = new Set(acknowledged);
    expect(ackedBeforeCrash.size).toBeGreaterThanOrEqual(40);

    bot = startBot(port);
    try {
      await waitForHealth(url);
      // Like the store: everything not acknowledged is retried, and some acknowledged ones arrive again.
      for (let i = 0; i < BUYERS.length; i++) {
        if (!acknowledged.has(i) || i % 10 === 0) {
          expect(await send(url, i)).toBe(true);
          acknowledged.add(i);
        }
      }
      await expect
        .poll(() => BUYERS.filter((id) => discord.memberRoles(GUILD, id).includes(VIP)).length, { timeout: 60_000, interval: 250 })
        .toBe(BUYERS.length);
    } finally {
      bot.kill('SIGTERM');
      await new Promise<void>((resolve) => (bot.exitCode !== null ? resolve() : bot.once('exit', () => resolve())));
    }

    const db = new Database(join(dir, 'customers.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const events = db.prepare('select id, status from inbound_events').all() as { id: string; status: string }[];
      for (const i of ackedBeforeCrash) expect(events.find((e) => e.id === `evt_crash_${i}`)?.status).toBe('processed');
      expect(events).toHaveLength(BUYERS.length);
      expect(events.every((e) => e.status === 'processed')).toBe(true);
      const open = db.prepare("select count(*) as n from role_jobs where status not in ('done', 'superseded')").get() as { n: number };
      expect(open.n, JSON.stringify(db.prepare("select * from role_jobs where status not in ('done', 'superseded')").all())).toBe(0);
      const orders = db.prepare('select count(*) as n, sum(total_cents) as total from orders').get() as { n: number; total: number };
      expect(orders).toEqual({ n: BUYERS.length, total: BUYERS.length * 999 });
    } finally {
      db.close();
    }
    for (const id of BUYERS) {
      const grants = discord.requests.filter((r) => r.method === 'PUT' && r.path === `/guilds/${GUILD}/members/${id}/roles/${VIP}` && r.status === 204);
      expect(grants, `role grants for ${id}`).toHaveLength(1);
    }
  }, 120_000);
});
