import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenario, scenarioArb, type ModelOptions } from './support/model.js';
import { erasureStep } from './support/erasure-step.js';

// CI size; `npm run test:long` runs 1,000 sequences.
const SEQUENCES = 50;

describe('purchases, refunds, disputes, subscriptions, links, bans and erasure in any order', () => {
  it('end with the customers, aggregates and roles the model says, after every step', async () => {
    const options: ModelOptions = { erase: await erasureStep() };
    let steps = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb({ erase: options.erase !== undefined }), async (scenario) => {
        steps += (await runScenario(scenario, options)).steps;
      }),
      { numRuns: SEQUENCES, seed: 20261122 },
    );
    expect(steps).toBeGreaterThan(SEQUENCES * 5);
  }, 120_000);

  it('includes erasure when the product has it', () => {
    expect(existsSync(new URL('../../src/domain/privacy/erasure.ts', import.meta.url))).toBe(true);
  });
});
