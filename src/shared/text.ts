/**
 * Text as the receivers count it. Discord counts lengths in Unicode code points, and refuses a
 * body that holds half a surrogate pair; a person reads grapheme clusters, so a flag or a family
 * emoji must never be split. Every length limit and every clip in the product goes through here.
 */

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The length of `text` in code points, as Discord and the product's limits count it. */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** `text` with every lone surrogate replaced by U+FFFD, so a receiver that checks Unicode accepts it. */
export function wellFormed(text: string): string {
  return (text as string & { toWellFormed(): string }).toWellFormed();
}

/** Whether `text` holds no lone surrogate, so a receiver that checks Unicode accepts it as it is. */
export function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/** Whether `text` is empty or holds only white space (Discord refuses such a field). */
export function isBlank(text: string): boolean {
  return text.trim() === '';
}

/**
 * Cuts `text` to at most `max` code points on a grapheme boundary, ending the cut with `mark`
 * (counted in `max`) so the reader sees that something is missing. Lone surrogates become U+FFFD.
 */
export function clipText(text: string, max: number, mark = '…'): string {
  const whole = wellFormed(text);
  if (codePointLength(whole) <= max) return whole;
  const room = max - codePointLength(mark);
  if (room <= 0) return [...mark].slice(0, Math.max(0, max)).join('');
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(whole)) {
    const size = codePointLength(segment);
    if (used + size > room) break;
    out += segment;
    used += size;
  }
  return out + mark;
}

/** The first `max` code points of `text`, the last of them replaced by `…` when it was longer. */
export function truncateText(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
