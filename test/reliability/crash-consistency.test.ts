import { describe, expect, it } from 'vitest';
import { botLog, runCrashTrial, trialPassed, type CrashTrialResult } from './support/crash-harness.js';

// CI size: two short trials. `npm run test:long` runs 50 trials of 10,000 events.
const TRIALS = [
  { seed: 11, events: 400, kills: 2 },
  { seed: 12, events: 400, kills: 3 },
];

function describeFailure(result: CrashTrialResult): string {
  return `${JSON.stringify(result.violations)}\n${result.problems.join('\n')}\n${botLog(result)}`;
}

describe('a bot killed with SIGKILL at random moments while purchases and refunds arrive', () => {
  it.each(TRIALS)('loses no acknowledged event, grants no role twice, misses no role change and drains its outbox (seed $seed)', async (trial) => {
    const result = await runCrashTrial({ ...trial, keepDir: true });
    try {
      expect(result.kills).toBe(trial.kills);
      expect(trialPassed(result), describeFailure(result)).toBe(true);
      expect(result.violations.integrity).toBe('ok');
      // The oracle had something to check: roles were granted, orders refunded, customers
      // announced. (A refund applied before its grant reached Discord cancels the grant, so
      // how many removals Discord sees depends on timing; the final roles are checked above.)
      expect(result.roleGrants).toBeGreaterThan(0);
      expect(result.refunds).toBeGreaterThan(0);
      expect(result.webhookDeliveriesReceived).toBeGreaterThanOrEqual(result.buyers);
    } finally {
      if (trialPassed(result)) (await import('node:fs')).rmSync(result.dir, { recursive: true, force: true });
    }
  }, 120_000);
});
