import { createCanvas, loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { AVATAR_PALETTE, avatarColorFor, initialsFor, renderInitialsAvatar } from '../../../src/discord/render/avatar.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** WCAG 2.x relative luminance of an sRGB colour like "#1D4ED8". */
function relativeLuminance(hex: string): number {
  const channels = [1, 3, 5].map((start) => parseInt(hex.slice(start, start + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

async function pixelsOf(png: Buffer, size: number): Promise<Uint8ClampedArray> {
  const image = await loadImage(png);
  const canvas = createCanvas(size, size);
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  return context.getImageData(0, 0, size, size).data;
}

function pixelAt(pixels: Uint8ClampedArray, size: number, x: number, y: number): number[] {
  const offset = (y * size + x) * 4;
  return Array.from(pixels.subarray(offset, offset + 4));
}

function hexToRgba(hex: string): number[] {
  return [1, 3, 5].map((start) => parseInt(hex.slice(start, start + 2), 16)).concat(255);
}

describe('initialsFor', () => {
  it('takes the first letters of the first and last words, uppercased', () => {
    expect(initialsFor('Alice Johnson')).toBe('AJ');
    expect(initialsFor('Mary Ann van der Berg')).toBe('MB');
  });

  it('gives one letter for a one-word name', () => {
    expect(initialsFor('cher')).toBe('C');
  });

  it('ignores surrounding spaces and treats a hyphenated first name as one word', () => {
    expect(initialsFor('  jean-luc picard ')).toBe('JP');
  });

  it('gives the first character of a name written without spaces, like Chinese', () => {
    expect(initialsFor('李小龙')).toBe('李');
  });

  it('skips emoji and punctuation and keeps accented letters whole', () => {
    expect(initialsFor('🎮 Gamer Girl ✨')).toBe('GG');
    expect(initialsFor("\"Bob\" (O'Brien)")).toBe('BO');
    expect(initialsFor('e\u0301mile zola')).toBe('ÉZ');
    expect(initialsFor('Łukasz Żak')).toBe('ŁŻ');
  });

  it('uses only the local part of an email address', () => {
    expect(initialsFor('john.doe@example.com')).toBe('JD');
    expect(initialsFor('zed@example.com')).toBe('Z');
  });

  it('falls back to a question mark when there is no letter or digit', () => {
    expect(initialsFor('')).toBe('?');
    expect(initialsFor('   ')).toBe('?');
    expect(initialsFor('🔥🔥🔥')).toBe('?');
    expect(initialsFor('---')).toBe('?');
  });
});

describe('avatarColorFor', () => {
  it('always gives the same palette colour for the same key', () => {
    expect(avatarColorFor('42')).toBe(avatarColorFor('42'));
    expect(avatarColorFor('Alice@Example.com ')).toBe(avatarColorFor('alice@example.com'));
    expect(AVATAR_PALETTE).toContain(avatarColorFor('42'));
  });

  it('spreads different keys over most of the palette', () => {
    const colours = new Set(Array.from({ length: 200 }, (_, i) => avatarColorFor(String(i))));
    expect(colours.size).toBeGreaterThanOrEqual(AVATAR_PALETTE.length - 1);
    const names = ['Alice Johnson', 'Bob Smith', 'Carol White', 'Dan Brown', 'Eve Black', 'Frank Green', 'Grace Hopper', 'Heidi Klum'];
    expect(new Set(names.map((name) => avatarColorFor(name))).size).toBeGreaterThanOrEqual(4);
  });

  it('only uses colours on which white text has a WCAG contrast of at least 4.5:1', () => {
    for (const colour of AVATAR_PALETTE) expect(contrastRatio('#FFFFFF', colour), colour).toBeGreaterThanOrEqual(4.5);
  });
});

describe('renderInitialsAvatar', () => {
  it('renders a PNG of the requested size', () => {
    for (const size of [128, 64, 256]) {
      const png = size === 128 ? renderInitialsAvatar('Alice Johnson') : renderInitialsAvatar('Alice Johnson', { size });
      expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
      expect(png.readUInt32BE(16)).toBe(size);
      expect(png.readUInt32BE(20)).toBe(size);
    }
  });

  it('draws a circle in the key colour with transparent corners and white initials', async () => {
    const size = 128;
    const pixels = await pixelsOf(renderInitialsAvatar('Alice Johnson', { key: '7' }), size);

    expect(pixelAt(pixels, size, 0, 0)[3]).toBe(0);
    expect(pixelAt(pixels, size, size - 1, size - 1)[3]).toBe(0);
    // Just inside the rim, left of centre: circle, no lettering.
    expect(pixelAt(pixels, size, 6, size / 2)).toEqual(hexToRgba(avatarColorFor('7')));
    let white = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i]! > 240 && pixels[i + 1]! > 240 && pixels[i + 2]! > 240 && pixels[i + 3] === 255) white += 1;
    expect(white).toBeGreaterThan(100);
  });

  it('returns identical bytes for the same input, and a buffer the caller may change freely', () => {
    const first = renderInitialsAvatar('Alice Johnson', { key: '1' });
    first.fill(0);
    const second = renderInitialsAvatar('Alice Johnson', { key: '1' });
    const third = renderInitialsAvatar('Alice Johnson', { key: '1' });
    expect([...second.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(second.equals(third)).toBe(true);
  });

  it('gives different people different pictures', () => {
    const alice = renderInitialsAvatar('Alice Johnson', { key: '1' });
    const bob = renderInitialsAvatar('Bob Smith', { key: '2' });
    expect(alice.equals(bob)).toBe(false);
  });

  it('still renders a valid image for names without initials or in scripts the font lacks', () => {
    for (const name of ['', '🔥', '李小龙', 'WMWM WMWM']) {
      const png = renderInitialsAvatar(name, { size: 48 });
      expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      expect(png.readUInt32BE(16)).toBe(48);
    }
  });

  it('refuses sizes that are not a sensible whole number of pixels', () => {
    expect(() => renderInitialsAvatar('A', { size: 0 })).toThrow(RangeError);
    expect(() => renderInitialsAvatar('A', { size: 12.5 })).toThrow(RangeError);
    expect(() => renderInitialsAvatar('A', { size: 100_000 })).toThrow(RangeError);
  });
});
