import { describe, expect, it } from 'vitest';
import { runApiFuzz, TOKEN_KINDS } from './support/api-fuzz.js';

// CI size: the sweep of every parameter plus a few hundred combined requests; `npm run test:long`
// sends thousands of combined ones. What is checked is described in support/api-fuzz.ts.
const RANDOM_REQUESTS = 300;

describe('requests generated from the OpenAPI document, and every route × token', () => {
  it('answer with a documented status and schema, never a 5xx or a secret, and refuse each token kind as documented', async () => {
    const result = await runApiFuzz({ randomRequests: RANDOM_REQUESTS, seed: 20261122 });
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ serverErrors: 0, undocumentedStatuses: 0, schemaViolations: 0, leaks: 0 });
    expect(result.sent).toBeGreaterThan(1_500 + RANDOM_REQUESTS);
    expect(result.matrix).toMatchObject({ wrongAnswers: 0, undocumented: 0 });
    expect(result.matrix.checked).toBeGreaterThanOrEqual(12 * TOKEN_KINDS.length);
    // Each kind of bad token was refused the documented way, and the right one let through.
    expect(Object.keys(result.matrix.byKind.none ?? {})).toEqual(['401']);
    expect(Object.keys(result.matrix.byKind['wrong scope'] ?? {})).toEqual(['403']);
    expect(Object.keys(result.matrix.byKind.revoked ?? {})).toEqual(['401']);
    expect(Object.keys(result.matrix.byKind.expired ?? {})).toEqual(['401']);
    expect(Object.keys(result.matrix.byKind['right scope'] ?? {})).not.toContain('401');
    expect(Object.keys(result.matrix.byKind['right scope'] ?? {})).not.toContain('403');
  }, 180_000);
});
