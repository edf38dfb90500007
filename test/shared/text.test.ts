import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clipText, codePointLength, isBlank, wellFormed } from '../../src/shared/text.js';

describe('text as receivers count it', () => {
  it('counts an emoji outside the basic plane as one code point', () => {
    expect(codePointLength('😀')).toBe(1);
    expect(codePointLength('a😀b')).toBe(3);
    expect(codePointLength('\ud83d')).toBe(1);
  });

  it('never cuts a family emoji or a flag in the middle', () => {
    const family = '👨‍👩‍👧‍👦';
    const flag = '🇫🇷';
    const clipped = clipText(`${family}${flag}${family}`, codePointLength(family) + 2);
    expect(clipped).toBe(`${family}…`);
    expect(clipText(`${flag}${flag}${flag}`, 4)).toBe(`${flag}…`);
  });

  it('leaves text that fits alone, but repairs lone surrogates', () => {
    expect(clipText('short', 10)).toBe('short');
    expect(clipText('a\ud83db', 10)).toBe('a\ufffdb');
    expect(wellFormed('\udc00')).toBe('\ufffd');
  });

  it('tells blank text from text', () => {
    expect(isBlank(' \n\t')).toBe(true);
    expect(isBlank(' x ')).toBe(false);
  });

  it('clips any text to at most max code points, well formed, and keeps whole text that fits', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.integer({ min: 1, max: 120 }), (text, max) => {
        const clipped = clipText(text, max);
        expect(codePointLength(clipped)).toBeLessThanOrEqual(max);
        expect(clipped).toBe(wellFormed(clipped));
        if (codePointLength(text) <= max) expect(clipped).toBe(wellFormed(text));
      }),
    );
  });
});

describe('identifiers the store looks up by value', () => {
  it('refuses an email, order number or game id holding half a surrogate pair, which a database would store changed', async () => {
    const { isEmailAddress, isGameUserId, isOrderNumber } = await import('../../src/shared/input-fields.js');
    expect(isEmailAddress('family@\ud800.com')).toBe(false);
    expect(isOrderNumber('ORD-\udc00')).toBe(false);
    expect(isGameUserId('player\ud83d')).toBe(false);
    expect(isEmailAddress('👨‍👩‍👧‍👦@bücher.example')).toBe(true);
    expect(isOrderNumber('ORD-😀')).toBe(true);
  });
});
