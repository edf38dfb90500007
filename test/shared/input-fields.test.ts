import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isEmailAddress, looksLikeEmail } from '../../src/shared/input-fields.js';

describe('the email rules', () => {
  it('recognises as an email every address the store accepts', () => {
    const part = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '.', '-', '+', '_', 'ü', '😀', '@', ' ', '"', ',', '\u0000'), minLength: 1, maxLength: 12 });
    const candidate = fc.oneof(
      fc.tuple(part, part, fc.constantFrom('com', 'de', 'x', 'example')).map(([local, domain, tld]) => `${local}@${domain}.${tld}`),
      fc.emailAddress(),
      fc.string(),
    );
    fc.assert(
      fc.property(candidate, (text) => {
        if (isEmailAddress(text)) expect(looksLikeEmail(text)).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it('recognises more than it accepts: one @ with no space either side', () => {
    expect(looksLikeEmail('moreau@example')).toBe(true);
    expect(isEmailAddress('moreau@example')).toBe(false);
    expect(looksLikeEmail('moreau@')).toBe(false);
    expect(looksLikeEmail('a@b@c.com')).toBe(false);
    expect(looksLikeEmail('a b@c.com')).toBe(false);
  });
});
