import { describe, expect, it } from 'vitest';
import { createPacer } from '../../src/discord/role-gateway.js';
import { runDiscordFaults } from './support/discord-faults.js';

// CI size: 60 purchases, one wave of faults, one gateway drop; `npm run test:long` runs several
// hundred under many waves. What is checked is described in support/discord-faults.ts.

describe('the bot against a failing Discord', () => {
  it('drains the role queue through 429s, 5xx, a timeout and a dropped gateway, within the rate limits, answering every interaction', async () => {
    const result = await runDiscordFaults({ buyers: 60, waves: 1, timeouts: 1, gatewayDrops: 1, commandEvery: 10, drainTimeoutMs: 60_000 });
    expect(result.problems).toEqual([]);
    expect(result.granted).toBe(result.roleChanges);
    expect(result.lateJoinerGranted).toBe(true);
    expect(result.gatewayResumes).toBeGreaterThanOrEqual(1);
    expect(result).toMatchObject({ roleJobsNotDone: 0, unhandled429s: 0, errorLogs: 0, wrongGrantCounts: 0 });
    expect(result).toMatchObject({ interactions: 6, interactionsUnanswered: 0, interactionsFailed: 0 });
    // Every 429 served was waited out: each one shows up once, none was left to the queue.
    expect(result.rateLimitsServed).toBe(result.injected.routeRateLimits + result.injected.globalRateLimits);
    // Discord bans a bot for 10,000 invalid requests in 10 minutes; this whole test is under one.
    expect(result.maxInvalidPer10Minutes).toBeLessThan(100);
    expect(result.peakRequestsPerSecond).toBeLessThanOrEqual(50);
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
