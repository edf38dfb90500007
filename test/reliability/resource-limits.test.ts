import { describe, expect, it } from 'vitest';
import { LIMIT_CHECKS } from './support/resource-limits.js';

// Every input has a bound, and going past it gets a clear refusal that names the bound, with
// nothing changed. CI goes just past each bound; `npm run test:long` goes far past. The checks
// themselves are in support/resource-limits.ts.

describe('bounds of every input', () => {
  for (const limit of LIMIT_CHECKS) {
    it(limit.title, async () => {
      const row = await limit.run({ large: false });
      expect(row.problems).toEqual([]);
      expect(row.nothingStored).not.toBe(false);
    }, 60_000);
  }
});
