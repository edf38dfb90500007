import { existsSync } from 'node:fs';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import { looksLikeEmail } from '../../shared/input-fields.js';

/**
 * Avatars generated from initials (docs/product.md#profile) for customers without a linked
 * Discord or Steam picture.
 */

const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });
const LETTER_OR_DIGIT = /^[\p{L}\p{N}]/u;
// Hyphens, underscores, dots and plus signs join parts of one name ("jean-luc", "john.doe+shop").
const WORD_SEPARATORS = /[\s\p{Pd}_.+]+/u;

/**
 * Up to two uppercase initials: the first letters of the first and last words. An email counts
 * by its local part only; punctuation and emoji are skipped; "?" when no letter or digit is left.
 * Works on graphemes, so "émile" gives "É" even when the accent is a combining mark.
 */
export function initialsFor(name: string): string {
  let text = name.normalize('NFC').trim();
  if (looksLikeEmail(text)) text = text.slice(0, text.lastIndexOf('@'));
  const initials = text
    .split(WORD_SEPARATORS)
    .map(firstLetterOf)
    .filter((letter): letter is string => letter !== null);
  const first = initials[0];
  if (first === undefined) return '?';
  const last = initials.length > 1 ? initials[initials.length - 1] : undefined;
  return last === undefined ? first : first + last;
}

function firstLetterOf(word: string): string | null {
  for (const { segment } of graphemes.segment(word)) {
    if (!LETTER_OR_DIGIT.test(segment)) continue;
    const upper = segment.toUpperCase();
    // "ß" uppercases to "SS": keep one grapheme per initial.
    return countGraphemes(upper) === 1 ? upper : segment;
  }
  return null;
}

function countGraphemes(text: string): number {
  let count = 0;
  for (const _ of graphemes.segment(text)) count += 1;
  return count;
}

/**
 * Tailwind 700-level hues (and one slate): each has a WCAG contrast of at least 4.5:1 against
 * white, so the initials stay readable, and they are far enough apart to tell customers apart.
 */
export const AVATAR_PALETTE = [
  '#B91C1C', // red
  '#C2410C', // orange
  '#A16207', // amber
  '#15803D', // green
  '#0F766E', // teal
  '#0369A1', // sky
  '#1D4ED8', // blue
  '#6D28D9', // violet
  '#A21CAF', // fuchsia
  '#BE185D', // pink
  '#475569', // slate
] as const;

/** A colour from `AVATAR_PALETTE` that is always the same for the same key (case and spaces aside). */
export function avatarColorFor(key: string): string {
  // FNV-1a: tiny, stable across processes and versions, unlike anything seeded per run.
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key.trim().toLowerCase(), 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return AVATAR_PALETTE[(hash >>> 0) % AVATAR_PALETTE.length] ?? AVATAR_PALETTE[0];
}

const FONT_ALIAS = 'Customer Avatar Initials';
const BOLD_FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', // Debian, Ubuntu
  '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf', // Fedora, Alpine
  '/usr/share/fonts/TTF/DejaVuSans-Bold.ttf', // Arch
  '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf',
  '/System/Library/Fonts/Supplemental/Arial Bold.ttf', // macOS
  'C:\\Windows\\Fonts\\arialbd.ttf',
];

let fontFamily: string | null | undefined;

/**
 * The font to draw initials with, found once. Slim containers often ship no fonts at all: then
 * null, and avatars are the coloured circle alone, which still tells customers apart at a glance.
 */
function initialsFontFamily(): string | null {
  if (fontFamily !== undefined) return fontFamily;
  const path = BOLD_FONT_CANDIDATES.find((candidate) => existsSync(candidate));
  if (path && GlobalFonts.registerFromPath(path, FONT_ALIAS)) fontFamily = `"${FONT_ALIAS}"`;
  else if (GlobalFonts.families.length > 0) fontFamily = 'sans-serif';
  else fontFamily = null;
  return fontFamily;
}

const CACHE_LIMIT = 256;
// Insertion order doubles as recency: a hit is moved to the end, the first entry is the oldest.
const cache = new Map<string, Buffer>();

/**
 * A `size`×`size` PNG: a circle in `avatarColorFor(key ?? name)` on a transparent background, with
 * the white initials centred. Synchronous; repeat requests come from a small LRU cache.
 */
export function renderInitialsAvatar(name: string, options: { size?: number; key?: string } = {}): Buffer {
  const size = options.size ?? 128;
  if (!Number.isInteger(size) || size < 16 || size > 1024) {
    throw new RangeError(`Avatar size must be an integer from 16 to 1024, got ${size}`);
  }
  const initials = initialsFor(name);
  const color = avatarColorFor(options.key ?? name);
  const cacheKey = `${initials}\u0000${color}\u0000${size}`;

  let png = cache.get(cacheKey);
  if (png) {
    cache.delete(cacheKey);
  } else {
    png = drawAvatar(initials, color, size);
    if (cache.size >= CACHE_LIMIT) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
  }
  cache.set(cacheKey, png);
  // A copy, so a caller writing into its buffer cannot change everyone else's avatar.
  return Buffer.from(png);
}

function drawAvatar(initials: string, color: string, size: number): Buffer {
  const canvas = createCanvas(size, size);
  const context = canvas.getContext('2d');
  const centre = size / 2;
  context.fillStyle = color;
  context.beginPath();
  context.arc(centre, centre, centre, 0, Math.PI * 2);
  context.fill();

  const family = initialsFontFamily();
  if (family !== null && canDraw(initials, family)) {
    let fontSize = Math.round(size * 0.42);
    context.font = `bold ${fontSize}px ${family}`;
    // Two wide letters ("WM") must stay inside the circle.
    const maxWidth = size * 0.68;
    const width = context.measureText(initials).width;
    if (width > maxWidth) {
      fontSize = Math.max(1, Math.floor((fontSize * maxWidth) / width));
      context.font = `bold ${fontSize}px ${family}`;
    }
    context.fillStyle = '#FFFFFF';
    context.textAlign = 'center';
    context.textBaseline = 'alphabetic';
    // Centre the glyphs' ink rather than the em box, which would sit capitals visibly high.
    const metrics = context.measureText(initials);
    const baseline = centre + (metrics.actualBoundingBoxAscent - metrics.actualBoundingBoxDescent) / 2;
    context.fillText(initials, centre, baseline);
  }
  return canvas.toBuffer('image/png');
}

// A name in a script no installed font covers ("李小龙" on a server without CJK fonts) would
// come out as an empty box; the plain circle is better than that.
const drawable = new Map<string, boolean>();
const MISSING_GLYPH = '\uFFFF'; // a noncharacter: no font draws it, so this is the "no glyph" box

function canDraw(initials: string, family: string): boolean {
  for (const { segment } of graphemes.segment(initials)) {
    let known = drawable.get(segment);
    if (known === undefined) {
      known = !samePixels(segment, MISSING_GLYPH, family);
      if (drawable.size >= CACHE_LIMIT) drawable.clear();
      drawable.set(segment, known);
    }
    if (!known) return false;
  }
  return true;
}

function samePixels(a: string, b: string, family: string): boolean {
  const probe = (text: string): Uint8ClampedArray => {
    const canvas = createCanvas(48, 48);
    const context = canvas.getContext('2d');
    context.font = `bold 32px ${family}`;
    context.fillStyle = '#000000';
    context.fillText(text, 4, 38);
    return context.getImageData(0, 0, 48, 48).data;
  };
  const left = probe(a);
  const right = probe(b);
  return left.length === right.length && left.every((value, index) => value === right[index]);
}
