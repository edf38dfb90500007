import { describe, expect, it } from 'vitest';
import { clip, field, fitEmbed, fitMessage } from '../../../src/discord/render/view.js';
import { codePointLength, isWellFormed } from '../../../src/shared/text.js';
import { validateMessageBody } from '../../../src/sandbox/local-discord/validation.js';

const FAMILY = '👨‍👩‍👧‍👦';
const FLAG = '🇫🇷';

describe('text clipped for Discord', () => {
  it('clips on grapheme clusters, so no emoji is cut in half', () => {
    const clipped = clip('😀'.repeat(300), 256);
    expect(isWellFormed(clipped)).toBe(true);
    expect(codePointLength(clipped)).toBe(256);
    expect(clip(`${FAMILY}${FAMILY}`, 10)).toBe(`${FAMILY}…`);
    expect(clip(`${FLAG}${FLAG}${FLAG}`, 5)).toBe(`${FLAG}${FLAG}…`);
  });

  it('never emits an embed field whose name or value is empty or white space', () => {
    expect(field(' \n', 'x').name.trim()).not.toBe('');
    expect(field('Notes', '\t ').value.trim()).not.toBe('');
  });

  it('keeps a description of 4,096 emoji whole, as Discord counts it in code points', () => {
    const description = '😀'.repeat(4096);
    expect(fitEmbed({ description }).description).toBe(description);
  });

  it('fits an embed of emoji-laden fields into 6,000 code points without breaking a pair', () => {
    const fields = Array.from({ length: 25 }, (_, index) => ({ name: `${FAMILY}`.repeat(40) + index, value: `${FLAG}😀`.repeat(400) }));
    const embed = fitEmbed({ title: '😀'.repeat(300), description: '😀'.repeat(5000), fields, footer: { text: '😀'.repeat(3000) } });
    expect(() => validateMessageBody({ embeds: [embed] }, [], true)).not.toThrow();
  });

  it('fits a whole message: content over 2,000 code points, lone surrogates and several embeds together', () => {
    const message = fitMessage({
      content: `${'😀'.repeat(2500)}\ud83d`,
      embeds: [{ description: '😀'.repeat(4000) }, { description: '😀'.repeat(4000) }],
    });
    expect(() => validateMessageBody({ content: message.content, embeds: message.embeds }, [], true)).not.toThrow();
  });

  it('leaves out an embed that has no room left under the 6,000 total instead of sending it empty', () => {
    const full = { title: 'Profile', description: 'x'.repeat(4096), footer: { text: 'y'.repeat(1897) } };
    const message = fitMessage({ embeds: [full, { title: 'More', description: 'z'.repeat(100) }] });
    expect(message.embeds).toHaveLength(1);
    expect(() => validateMessageBody({ embeds: message.embeds }, [], true)).not.toThrow();
  });
});
