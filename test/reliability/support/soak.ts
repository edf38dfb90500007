import { deployCommands } from '../../../src/commands/deploy.js';
import type { LocalMessage } from '../../../src/sandbox/local-discord/index.js';
import { SHOP_CHANNEL_ID, SHOP_GUILD_ID, startShop, VIP_PRODUCT_ID } from '../../support/services-harness.js';

// A day of a busy store, compressed: each "hour" the whole bot (in this process) receives purchase
// events and refunds, staff run lookups and statistics, and an admin exports the customer list;
// then the clock moves on an hour. Memory is sampled after each hour (after a GC when the process
// runs with --expose-gc): after warm-up, resident memory must stay flat.

const OWNER = '3300000000000000099';

export interface SoakOptions {
  hours: number;
  eventsPerHour: number;
  commandsPerHour: number;
  /** Buyers who are guild members (they get roles); the rest of the customers are not. */
  members?: number;
  log?: (line: string) => void;
}

export interface SoakSample {
  hour: number;
  rssMiB: number;
  heapUsedMiB: number;
  customers: number;
  events: number;
  commands: number;
  exports: number;
  wallMs: number;
}

export interface SoakResult {
  samples: SoakSample[];
  /** Hours treated as warm-up (caches filling, JIT). */
  warmupHours: number;
  /** RSS growth from the end of warm-up to the last hour, in MiB and as a share. */
  rssGrowthMiB: number;
  rssGrowthRatio: number;
  /** Least-squares slope of RSS after warm-up, MiB per compressed hour. */
  rssSlopeMiBPerHour: number;
  failedCommands: number;
}

function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
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

function sample(): { rss: number; heap: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return { rss: usage.rss, heap: usage.heapUsed };
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const memberCount = options.members ?? 200;
  const members = Array.from({ length: memberCount }, (_, i) => String(3300000000000100000n + BigInt(i)));
  const shop = await startShop({ members: [...members, OWNER], env: { LOG_LEVEL: 'error', APP_SECRET: 'soak-app-secret-0123456789abcdef0123' } });
  const samples: SoakSample[] = [];
  let failedCommands = 0;
  let orderId = 1;
  try {
    await deployCommands({ token: shop.discord.token, apiUrl: shop.discord.apiUrl, guildId: SHOP_GUILD_ID, applicationId: shop.discord.applicationId });
    const command = async (subcommand: string, commandOptions: Record<string, string | number | boolean>) => {
      const handle = await shop.discord.invokeSlash({ guildId: SHOP_GUILD_ID, channelId: SHOP_CHANNEL_ID, userId: OWNER, name: 'customer', subcommand, options: commandOptions });
      const message = (await handle.settled()) as LocalMessage | undefined;
      const text = JSON.stringify(message ?? {});
      if (!message || /Something went wrong/.test(text)) failedCommands++;
    };

    let events = 0;
    let commands = 0;
    let exports = 0;
    for (let hour = 1; hour <= options.hours; hour++) {
      const started = Date.now();
      const firstOrder = orderId;
      for (let i = 0; i < options.eventsPerHour; i++) {
        const refund = i % 5 === 4 && orderId - firstOrder > 10;
        const id = refund ? firstOrder + ((i * 7) % (orderId - firstOrder)) : orderId++;
        const buyer = id % 3_000;
        const at = new Date(shop.clock.now().getTime() + i).toISOString();
        const response = await shop.send({
          id: `evt_soak_${refund ? 'r' : 'p'}_${id}`,
          event_type: refund ? 'order.refunded' : 'order.paid',
          created_at: at,
          data: {
            id,
            order_number: `ORD-SOAK-${id}`,
            total: '19.99',
            currency: 'USD',
            customer: {
              email: `soak${buyer}@example.com`,
              name: `Soak Buyer ${buyer}`,
              ...(buyer < memberCount ? { discord_id: members[buyer] } : {}),
            },
            items: [{ product_id: VIP_PRODUCT_ID, product_name: 'VIP Rank', quantity: 1, price: '19.99' }],
            created_at: at,
            completed_at: at,
          },
        });
        if (response.status !== 200) throw new Error(`event refused: ${response.status} ${response.body}`);
        events++;
        if (i % 200 === 199) await waitForInbound(shop.db);
      }
      await waitForInbound(shop.db);
      for (let i = 0; i < options.commandsPerHour; i++) {
        if (i % 2 === 0) await command('lookup', { query: `soak${(hour * 31 + i) % 3_000}@example.com` });
        else await command('stats', {});
        commands++;
      }
      await command('export', { format: 'csv' });
      exports++;
      shop.clock.advance(3_600_000);
      const { rss, heap } = sample();
      const customers = Number((await shop.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const entry: SoakSample = { hour, rssMiB: mib(rss), heapUsedMiB: mib(heap), customers, events, commands, exports, wallMs: Date.now() - started };
      samples.push(entry);
      options.log?.(`soak hour ${hour}: rss ${entry.rssMiB} MiB, heap ${entry.heapUsedMiB} MiB, ${customers} customers, ${events} events`);
    }
  } finally {
    await shop.stop();
  }
  const warmupHours = Math.min(6, Math.max(1, Math.floor(options.hours / 4)));
  const after = samples.filter((s) => s.hour >= warmupHours);
  const first = after[0]?.rssMiB ?? 0;
  const last = after.at(-1)?.rssMiB ?? 0;
  return {
    samples,
    warmupHours,
    rssGrowthMiB: Math.round((last - first) * 10) / 10,
    rssGrowthRatio: first === 0 ? 0 : Math.round(((last - first) / first) * 1000) / 1000,
    rssSlopeMiBPerHour: Math.round(slope(after.map((s) => [s.hour, s.rssMiB])) * 100) / 100,
    failedCommands,
  };
}

async function waitForInbound(db: Parameters<typeof countPending>[0]): Promise<void> {
  for (let i = 0; i < 6_000; i++) {
    if ((await countPending(db)) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('purchase events did not drain');
}

async function countPending(db: import('../../../src/store/database.js').Db): Promise<number> {
  const row = await db.selectFrom('inbound_events').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
  return Number(row.n);
}
