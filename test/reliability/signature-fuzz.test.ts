import { describe, expect, it } from 'vitest';
import { runSignatureFuzz } from './support/signature-fuzz.js';

// CI size; `npm run test:long` sends 10,000.
const REQUESTS = 2_000;

describe('POST /webhooks/store under mutated signatures', () => {
  it('accepts exactly the requests a correct verifier accepts, never crashes and stores nothing it refused', async () => {
    const result = await runSignatureFuzz({ requests: REQUESTS, seed: 20261122 });
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ sent: REQUESTS, falseAccepts: 0, falseRefusals: 0, crashes: 0, storedFromRefused: 0, wrongRefusalStatus: 0 });
    // The control group and the legitimate variants did get through, so refusing everything would fail.
    expect(result.accepted).toBe(result.legitimate);
    expect(result.legitimate).toBeGreaterThan(REQUESTS * 0.05);
    expect(Object.keys(result.byKind).length).toBeGreaterThanOrEqual(20);
  }, 120_000);
});
