import { deployCommands } from '../../../src/commands/deploy.js';
import { rateLimitFault, serverErrorFault, timeoutFault, type InteractionHandle, type LocalMessage } from '../../../src/sandbox/local-discord/index.js';
import { orderEvent, SHOP_CHANNEL_ID, SHOP_GUILD_ID, startShop, VIP_ROLE_ID } from '../../support/services-harness.js';

// Discord at its worst, against the whole bot in-process: a burst of purchases (each one a role
// grant) and staff commands while the local Discord answers route and global 429s, 5xx, a request
// that times out, and drops the gateway in the middle. The faults come in waves spread over the burst.

const OWNER = '3300000000000000099';
const ROLE_ROUTE = '/guilds/:guildId/members/:userId/roles/:roleId';
/** What Discord counts towards its ban of 10,000 invalid requests in 10 minutes. */
const INVALID = new Set([401, 403, 429]);
const TEN_MINUTES_MS = 10 * 60_000;

export interface DiscordFaultOptions {
  buyers: number;
  /** Each wave: 4 route 429s, 3 502s, 2 global 429s and one 503 on an interaction callback. */
  waves: number;
  /** Requests held past discord.js's 15 s timeout, one in each of the first waves. */
  timeouts: number;
  gatewayDrops: number;
  /** A staff command every this many purchases. */
  commandEvery: number;
  /** How long the queue may take to drain, in real time. */
  drainTimeoutMs: number;
}

export interface DiscordFaultResult {
  roleChanges: number;
  injected: { routeRateLimits: number; globalRateLimits: number; serverErrors: number; timeouts: number; callbackErrors: number; gatewayDrops: number };
  /** Members holding the role at the end, of `roleChanges`. */
  granted: number;
  /** Members granted more (or fewer) than once. */
  wrongGrantCounts: number;
  roleJobsNotDone: number;
  /** 429s that reached the role queue as a failure, or the log as an error, instead of being waited out. */
  unhandled429s: number;
  errorLogs: number;
  rateLimitsServed: number;
  invalidRequests: number;
  /** The most 401/403/429 answers in any sliding ten minutes. */
  maxInvalidPer10Minutes: number;
  /** The most requests (interaction responses aside) in any sliding second. */
  peakRequestsPerSecond: number;
  restRequests: number;
  gatewayResumes: number;
  gatewayIdentifies: number;
  /** The member who joined after the last drop got the role: the join came over the resumed gateway. */
  lateJoinerGranted: boolean;
  interactions: number;
  interactionsUnanswered: number;
  interactionsFailed: number;
  drainMs: number;
  problems: string[];
}

/** The most timestamps that fall in any window of `windowMs` starting at one of them. */
export function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

export async function runDiscordFaults(options: DiscordFaultOptions): Promise<DiscordFaultResult> {
  const buyers = Array.from({ length: options.buyers }, (_, i) => String(3300000000000200000n + BigInt(i)));
  /** Bought before joining the server: granted only when the join arrives over the resumed gateway. */
  const lateJoiner = '3300000000000299999';
  const shop = await startShop({ members: [...buyers, OWNER], env: { LOG_LEVEL: 'warn' } });
  const problems: string[] = [];
  const note = (text: string) => {
    if (problems.length < 20) problems.push(text);
  };
  try {
    const { discord } = shop;
    await deployCommands({ token: discord.token, apiUrl: discord.apiUrl, guildId: SHOP_GUILD_ID, applicationId: discord.applicationId });
    const firstRequest = discord.requests.length;
    const injected = { routeRateLimits: 0, globalRateLimits: 0, serverErrors: 0, timeouts: 0, callbackErrors: 0, gatewayDrops: 0 };
    const wave = (w: number) => {
      discord.injectFault(rateLimitFault(ROLE_ROUTE, { method: 'PUT', retryAfterMs: 400, times: 4 }));
      discord.injectFault(serverErrorFault(ROLE_ROUTE, { method: 'PUT', status: 502, times: 3 }));
      if (w < options.timeouts) {
        discord.injectFault(timeoutFault(ROLE_ROUTE, { method: 'PUT', delayMs: 16_000 }));
        injected.timeouts++;
      }
      discord.injectFault(rateLimitFault(ROLE_ROUTE, { method: 'PUT', retryAfterMs: 600, global: true, times: 2 }));
      discord.injectFault(serverErrorFault('/interactions/:id/:token/callback', { status: 503 }));
      injected.routeRateLimits += 4;
      injected.serverErrors += 3;
      injected.globalRateLimits += 2;
      injected.callbackErrors += 1;
    };

    const interactions: Promise<LocalMessage | null>[] = [];
    const command = (i: number) => {
      const options: { subcommand: string; options: Record<string, string> } =
        i % 2 === 0 ? { subcommand: 'stats', options: {} } : { subcommand: 'lookup', options: { query: `fault${Math.max(0, i - 5)}@example.com` } };
      interactions.push(
        discord
          .invokeSlash({ guildId: SHOP_GUILD_ID, channelId: SHOP_CHANNEL_ID, userId: OWNER, name: 'customer', ...options })
          .then((handle: InteractionHandle) => handle.settled() as Promise<LocalMessage>)
          .catch((error: unknown) => {
            note(`interaction unanswered: ${String(error).slice(0, 200)}`);
            return null;
          }),
      );
    };

    const started = Date.now();
    const late = await shop.send(orderEvent('order.paid', { id: 9_999_999, email: 'late@example.com', discordId: lateJoiner }));
    if (late.status !== 200) note(`the late joiner's purchase was answered ${late.status}`);
    const waveAt = new Set(Array.from({ length: options.waves }, (_, w) => Math.floor((w * buyers.length) / options.waves)));
    const dropAt = new Set(Array.from({ length: options.gatewayDrops }, (_, d) => Math.floor(((d + 0.5) * buyers.length) / options.gatewayDrops)));
    let waveIndex = 0;
    for (const [i, buyer] of buyers.entries()) {
      if (waveAt.has(i)) wave(waveIndex++);
      const sent = await shop.send(orderEvent('order.paid', { id: 9_000_000 + i, email: `fault${i}@example.com`, discordId: buyer }));
      if (sent.status !== 200) note(`purchase ${i} was answered ${sent.status}`);
      if (i % options.commandEvery === options.commandEvery - 1) command(i);
      if (dropAt.has(i)) {
        discord.dropGateway();
        injected.gatewayDrops++;
      }
    }
    // The join arrives over the gateway, which must have resumed to deliver it.
    const resumeDeadline = Date.now() + 30_000;
    while (discord.gatewayStats().resumes < injected.gatewayDrops && Date.now() < resumeDeadline) await new Promise((resolve) => setTimeout(resolve, 100));
    discord.addMember(SHOP_GUILD_ID, { user: { id: lateJoiner, username: 'late' }, roles: [] });

    const everyone = [...buyers, lateJoiner];
    const holding = () => everyone.filter((id) => discord.memberRoles(SHOP_GUILD_ID, id).includes(VIP_ROLE_ID)).length;
    const deadline = Date.now() + options.drainTimeoutMs;
    while (holding() < everyone.length && Date.now() < deadline) {
      // The harness clock is manual: let time pass so that backoffs run out.
      shop.clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const drainMs = Date.now() - started;
    const answered = await Promise.all(interactions);

    const jobs = await shop.db.selectFrom('role_jobs').select(['status', 'last_error']).execute();
    const errorLogs = shop.logs.filter((l) => Number(l.level) >= 50);
    const rateLimited = (text: string) => /429|rate limit/i.test(text);
    const requests = discord.requests.slice(firstRequest);
    const invalid = requests.filter((r) => INVALID.has(r.status));
    // Interaction responses are outside the global limit (Discord's documentation says so).
    const bound = requests.filter((r) => !r.path.startsWith('/interactions/') && !r.path.startsWith('/webhooks/'));
    const wrongGrantCounts = everyone.filter((id) => shop.roleCalls(id).filter((c) => c.method === 'PUT' && c.status === 204).length !== 1);
    for (const id of wrongGrantCounts.slice(0, 5)) note(`member ${id} was granted ${shop.roleCalls(id).filter((c) => c.method === 'PUT' && c.status === 204).length} times`);
    for (const job of jobs.filter((j) => j.status !== 'done').slice(0, 5)) note(`role job left ${job.status}: ${job.last_error ?? ''}`);
    for (const log of errorLogs.slice(0, 5)) note(`error logged: ${JSON.stringify(log).slice(0, 300)}`);
    const failed = answered.filter((m) => m !== null && JSON.stringify(m).includes('Something went wrong'));
    for (const message of failed.slice(0, 3)) note(`interaction failed: ${JSON.stringify(message).slice(0, 300)}`);
    return {
      roleChanges: everyone.length,
      injected,
      granted: holding(),
      wrongGrantCounts: wrongGrantCounts.length,
      roleJobsNotDone: jobs.filter((j) => j.status !== 'done').length,
      unhandled429s: jobs.filter((j) => rateLimited(j.last_error ?? '')).length + errorLogs.filter((l) => rateLimited(JSON.stringify(l))).length,
      errorLogs: errorLogs.length,
      rateLimitsServed: invalid.filter((r) => r.status === 429).length,
      invalidRequests: invalid.length,
      maxInvalidPer10Minutes: maxInWindow(invalid.map((r) => r.time), TEN_MINUTES_MS),
      peakRequestsPerSecond: maxInWindow(bound.map((r) => r.time), 1_000),
      restRequests: requests.length,
      gatewayResumes: discord.gatewayStats().resumes,
      gatewayIdentifies: discord.gatewayStats().identifies,
      lateJoinerGranted: discord.memberRoles(SHOP_GUILD_ID, lateJoiner).includes(VIP_ROLE_ID),
      interactions: interactions.length,
      interactionsUnanswered: answered.filter((m) => m === null).length,
      interactionsFailed: failed.length,
      drainMs,
      problems,
    };
  } finally {
    await shop.stop();
  }
}
