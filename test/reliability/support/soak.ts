import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployCommands } from '../../../src/commands/deploy.js';
import { startLocalDiscord, type LocalMessage } from '../../../src/sandbox/local-discord/index.js';
import { BotProcess, botProcessEnv, freePort } from '../../support/bot-process.js';
import { signedEventHeaders } from '../../support/store-door.js';

// A day of a busy store, compressed: the real bot process (`src/index.ts`, a SQLite file, a local
// Discord) receives each "hour" a batch of signed purchase events and refunds over HTTP, staff
// run lookups and statistics, and an admin exports the customer list. The bot's resident memory
// (VmRSS of its process) is read after each hour: after warm-up it must stay flat.

const GUILD = '6600000000000000001';
const CHANNEL = '6600000000000000002';
const VIP = '6600000000000000010';
const OWNER = '6600000000000000099';
const SECRET = 'soak-secret';

export interface SoakOptions {
  hours: number;
  eventsPerHour: number;
  commandsPerHour: number;
  /** Distinct buyers (customers); the first 200 are guild members and get roles. */
  buyers?: number;
  log?: (line: string) => void;
}

export interface SoakSample {
  hour: number;
  rssMiB: number;
  customers: number;
  orders: number;
  events: number;
  commands: number;
  exports: number;
  wallMs: number;
}

export interface SoakResult {
  samples: SoakSample[];
  /** Hours treated as warm-up (caches filling, JIT). */
  warmupHours: number;
  /** RSS change from the end of warm-up to the last hour, in MiB and as a share. */
  rssGrowthMiB: number;
  rssGrowthRatio: number;
  /** Least-squares slope of RSS after warm-up, MiB per compressed hour. */
  rssSlopeMiBPerHour: number;
  /**
   * The lowest RSS in each block of six hours after warm-up. V8 lets the heap grow and then
   * collects it, so RSS is a saw-tooth; a leak shows as floors that keep rising.
   */
  floorsMiB: number[];
  /** Last floor minus first floor. */
  floorGrowthMiB: number;
  failedCommands: number;
  databaseMiB: number;
}

function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kib / 1024) * 10) / 10;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const buyers = options.buyers ?? 3_000;
  const members = Array.from({ length: 200 }, (_, i) => String(6600000000000100000n + BigInt(i)));
  const dir = mkdtempSync(join(tmpdir(), 'soak-'));
  const dbPath = join(dir, 'customers.db');
  writeFileSync(join(dir, 'rules.json'), JSON.stringify({ rules: [{ product_id: 5, role_id: VIP }] }));
  const discord = await startLocalDiscord({
    guilds: [
      {
        id: GUILD,
        name: 'Soak Store',
        ownerId: OWNER,
        roles: [{ id: VIP, name: 'VIP', position: 1 }],
        channels: [{ id: CHANNEL, name: 'staff' }],
        members: [...members, OWNER].map((id, i) => ({ user: { id, username: `member${i}` }, roles: [] })),
      },
    ],
  });
  await deployCommands({ token: discord.token, apiUrl: discord.apiUrl, guildId: GUILD, applicationId: discord.applicationId });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const bot = new BotProcess(
    botProcessEnv(
      { discord, guildId: GUILD, databaseUrl: dbPath, port, storeWebhookSecret: SECRET, roleRulesFile: join(dir, 'rules.json') },
      { APP_SECRET: 'soak-app-secret-0123456789abcdef0123', LOG_LEVEL: 'error' },
    ),
    join(dir, 'bot-stderr.log'),
  );
  const samples: SoakSample[] = [];
  let failedCommands = 0;
  let databaseMiB = 0;
  try {
    bot.start();
    await bot.waitForHealth();
    const pid = bot.child?.pid ?? 0;
    const reader = new Database(dbPath, { readonly: true, fileMustExist: true });
    const count = (query: string) => Number((reader.prepare(query).get() as { n: number }).n);
    const command = async (subcommand: string, commandOptions: Record<string, string>) => {
      const handle = await discord.invokeSlash({ guildId: GUILD, channelId: CHANNEL, userId: OWNER, name: 'customer', subcommand, options: commandOptions });
      const message = (await handle.settled()) as LocalMessage | undefined;
      if (!message || JSON.stringify(message).includes('Something went wrong')) failedCommands++;
    };

    let orderId = 1;
    let events = 0;
    let commands = 0;
    let exports = 0;
    try {
      for (let hour = 1; hour <= options.hours; hour++) {
        const started = Date.now();
        const firstOrder = orderId;
        const bodies: string[] = [];
        for (let i = 0; i < options.eventsPerHour; i++) {
          const refund = i % 5 === 4 && orderId - firstOrder > 10;
          const id = refund ? firstOrder + ((i * 7) % (orderId - firstOrder)) : orderId++;
          const buyer = id % buyers;
          const at = new Date().toISOString();
          bodies.push(
            JSON.stringify({
              id: `evt_soak_${refund ? 'r' : 'p'}_${id}`,
              event_type: refund ? 'order.refunded' : 'order.paid',
              created_at: at,
              data: {
                id,
                order_number: `ORD-SOAK-${id}`,
                total: '19.99',
                currency: 'USD',
                customer: { email: `soak${buyer}@example.com`, name: `Soak Buyer ${buyer}`, ...(buyer < members.length ? { discord_id: members[buyer] } : {}) },
                items: [{ product_id: 5, product_name: 'VIP Rank', quantity: 1, price: '19.99' }],
                created_at: at,
                completed_at: at,
              },
            }),
          );
        }
        // The store delivers from several connections at once.
        const sender = async () => {
          for (let body = bodies.shift(); body !== undefined; body = bodies.shift()) {
            const response = await fetch(`${url}/webhooks/store`, {
              method: 'POST',
              headers: signedEventHeaders(SECRET, body),
              body,
            });
            await response.arrayBuffer();
            if (response.status !== 200) throw new Error(`event refused: ${response.status}`);
            events++;
          }
        };
        await Promise.all(Array.from({ length: 8 }, sender));
        for (let wait = 0; count("select count(*) as n from inbound_events where status = 'pending'") > 0; wait++) {
          if (wait > 3_000) throw new Error('purchase events did not drain');
          await sleep(20);
        }
        for (let i = 0; i < options.commandsPerHour; i++) {
          if (i % 2 === 0) await command('lookup', { query: `soak${(hour * 31 + i) % buyers}@example.com` });
          else await command('stats', {});
          commands++;
        }
        await command('export', { format: 'csv' });
        exports++;
        // The fake keeps every request and upload it saw; the bot is what is measured, not it.
        discord.requests.length = 0;
        await sleep(500);
        const entry: SoakSample = {
          hour,
          rssMiB: rssMiB(pid),
          customers: count('select count(*) as n from customers'),
          orders: count('select count(*) as n from orders'),
          events,
          commands,
          exports,
          wallMs: Date.now() - started,
        };
        samples.push(entry);
        options.log?.(`soak hour ${hour}: bot rss ${entry.rssMiB} MiB, ${entry.customers} customers, ${entry.orders} orders, ${events} events`);
      }
      databaseMiB = Math.round((Number((reader.prepare('select page_count * page_size as n from pragma_page_count(), pragma_page_size()').get() as { n: number }).n) / 1024 / 1024) * 10) / 10;
    } finally {
      reader.close();
    }
  } finally {
    await bot.kill('SIGTERM');
    await discord.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const warmupHours = Math.min(6, Math.max(1, Math.floor(options.hours / 4)));
  const after = samples.filter((s) => s.hour >= warmupHours);
  const first = after[0]?.rssMiB ?? 0;
  const last = after.at(-1)?.rssMiB ?? 0;
  const floorsMiB: number[] = [];
  for (let start = 0; start < after.length; start += 6) floorsMiB.push(Math.min(...after.slice(start, start + 6).map((s) => s.rssMiB)));
  return {
    samples,
    warmupHours,
    floorsMiB,
    floorGrowthMiB: Math.round(((floorsMiB.at(-1) ?? 0) - (floorsMiB[0] ?? 0)) * 10) / 10,
    rssGrowthMiB: Math.round((last - first) * 10) / 10,
    rssGrowthRatio: first === 0 ? 0 : Math.round(((last - first) / first) * 1000) / 1000,
    rssSlopeMiBPerHour: Math.round(slope(after.map((s) => [s.hour, s.rssMiB])) * 100) / 100,
    failedCommands,
    databaseMiB,
  };
}
