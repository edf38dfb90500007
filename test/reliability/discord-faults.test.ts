import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployCommands } from '../../src/commands/deploy.js';
import { createPacer } from '../../src/discord/role-gateway.js';
import { rateLimitFault, serverErrorFault, timeoutFault, type InteractionHandle, type LocalMessage } from '../../src/sandbox/local-discord/index.js';
import { orderEvent, SHOP_CHANNEL_ID, SHOP_GUILD_ID, startShop, VIP_ROLE_ID, type ShopHarness } from '../support/services-harness.js';

// Discord at its worst, against the whole bot in-process: route and global 429s, 5xx, a request
// that times out, and the gateway dropped in the middle of a burst of purchases and commands.

const OWNER = '3300000000000000099';
const BUYERS = Array.from({ length: 60 }, (_, i) => String(3300000000000200000n + BigInt(i)));
/** Bought before joining the server: granted only when the join arrives over the resumed gateway. */
const LATE_JOINER = '3300000000000299999';
const ROLE_ROUTE = '/guilds/:guildId/members/:userId/roles/:roleId';
const INVALID = new Set([401, 403, 429]);

let shop: ShopHarness;

beforeAll(async () => {
  shop = await startShop({ members: [...BUYERS, OWNER], env: { LOG_LEVEL: 'warn' } });
  await deployCommands({ token: shop.discord.token, apiUrl: shop.discord.apiUrl, guildId: SHOP_GUILD_ID, applicationId: shop.discord.applicationId });
});

afterAll(async () => {
  await shop.stop();
});

function maxRequestsInOneSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= 1_000) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

describe('the bot against a failing Discord', () => {
  it('drains the role queue through 429s, 5xx, a timeout and a dropped gateway, within the rate limits, answering every interaction', async () => {
    const { discord } = shop;
    const firstRequest = discord.requests.length;
    discord.injectFault(rateLimitFault(ROLE_ROUTE, { method: 'PUT', retryAfterMs: 400, times: 4 }));
    discord.injectFault(serverErrorFault(ROLE_ROUTE, { method: 'PUT', status: 502, times: 3 }));
    discord.injectFault(timeoutFault(ROLE_ROUTE, { method: 'PUT', delayMs: 16_000 }));
    discord.injectFault(rateLimitFault(ROLE_ROUTE, { method: 'PUT', retryAfterMs: 600, global: true, times: 2 }));
    discord.injectFault(serverErrorFault('/interactions/:id/:token/callback', { status: 503 }));

    const interactions: Promise<LocalMessage>[] = [];
    const command = (subcommand: string, options: Record<string, string> = {}) => {
      interactions.push(
        discord
          .invokeSlash({ guildId: SHOP_GUILD_ID, channelId: SHOP_CHANNEL_ID, userId: OWNER, name: 'customer', subcommand, options })
          .then((handle: InteractionHandle) => handle.settled() as Promise<LocalMessage>),
      );
    };

    expect((await shop.send(orderEvent('order.paid', { id: 9_999, email: 'late@example.com', discordId: LATE_JOINER }))).status).toBe(200);
    for (const [i, buyer] of BUYERS.entries()) {
      expect((await shop.send(orderEvent('order.paid', { id: 9_000 + i, email: `fault${i}@example.com`, discordId: buyer }))).status).toBe(200);
      if (i % 10 === 5) command(i % 20 === 5 ? 'stats' : 'lookup', i % 20 === 5 ? {} : { query: `fault${i - 5}@example.com` });
      if (i === 30) discord.dropGateway();
    }
    // The join arrives over the gateway, which must have resumed to deliver it.
    await expect.poll(() => discord.gatewayStats().resumes, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    discord.addMember(SHOP_GUILD_ID, { user: { id: LATE_JOINER, username: 'late' }, roles: [] });

    await expect
      .poll(
        () => {
          // The harness clock is manual: let time pass so that backoffs run out.
          shop.clock.advance(1_000);
          return [...BUYERS, LATE_JOINER].filter((id) => discord.memberRoles(SHOP_GUILD_ID, id).includes(VIP_ROLE_ID)).length;
        },
        { timeout: 60_000, interval: 200 },
      )
      .toBe(BUYERS.length + 1);
    const answered = await Promise.all(interactions);
    expect(answered).toHaveLength(6);
    for (const message of answered) expect(JSON.stringify(message)).not.toContain('Something went wrong');

    const jobs = await shop.db.selectFrom('role_jobs').select(['status', 'last_error']).execute();
    expect(jobs.filter((j) => j.status !== 'done')).toEqual([]);
    // No 429 ever reached the queue as a failure: discord.js waited each one out.
    expect(jobs.filter((j) => /429|rate limit/i.test(j.last_error ?? ''))).toEqual([]);
    expect(shop.logs.filter((l) => Number(l.level) >= 50)).toEqual([]);

    const requests = discord.requests.slice(firstRequest);
    const invalid = requests.filter((r) => INVALID.has(r.status));
    // Discord bans a bot for 10,000 invalid requests in 10 minutes; this whole test is under one.
    expect(invalid.length).toBeLessThan(100);
    expect(invalid.filter((r) => r.status === 429)).toHaveLength(6);
    // Interaction responses are outside the global limit (Discord's documentation says so).
    const bound = requests.filter((r) => !r.path.startsWith('/interactions/') && !r.path.startsWith('/webhooks/'));
    expect(maxRequestsInOneSecond(bound.map((r) => r.time))).toBeLessThanOrEqual(50);
    // Every buyer was granted once: the faulted calls were retried, never doubled.
    for (const id of [...BUYERS, LATE_JOINER]) {
      expect(shop.roleCalls(id).filter((c) => c.method === 'PUT' && c.status === 204), id).toHaveLength(1);
    }
  }, 120_000);
});

describe('the role calls pacer', () => {
  it('lets at most the limit start in any sliding second, however the calls bunch up', async () => {
    const pace = createPacer(5, 200);
    const starts: number[] = [];
    // The pacer's own admission times: when a busy machine runs the continuations late, they
    // may bunch up, but what counts is when each call was let through.
    await Promise.all(Array.from({ length: 23 }, async () => {
      starts.push(await pace());
    }));
    for (const t of starts) expect(starts.filter((u) => u >= t && u < t + 200).length).toBeLessThanOrEqual(5);
    expect(starts).toHaveLength(23);
  });
});
