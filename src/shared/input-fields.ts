import { codePointLength, isWellFormed } from './text.js';

/**
 * The fields every way in shares (the purchase webhook, the REST API, slash commands and modals,
 * the store's own checks): one rule per field, so what a door accepts the store accepts. Lengths
 * are code points, as Discord, JSON Schema and zod's `.min`/`.max` count them.
 */

export const NAME_MAX_LENGTH = 100;
export const EMAIL_MAX_LENGTH = 254;
export const GAME_USER_ID_MAX_LENGTH = 64;
export const ORDER_NUMBER_MAX_LENGTH = 64;
export const PRODUCT_NAME_MAX_LENGTH = 200;
/** A ban's reason, and a lifted ban's: the slash command options and the ban form allow as much. */
export const BAN_REASON_MAX_LENGTH = 500;
/** A staff note: the slash command option and the note form allow as much. */
export const NOTE_MAX_LENGTH = 1000;
/** A customer's metadata: a JSON object of at most this many keys and bytes. */
export const METADATA_MAX_BYTES = 16 * 1024;
export const METADATA_MAX_KEYS = 50;

// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * What the store accepts as an email address: one @, a dotted domain, no spaces, quotes, commas,
 * brackets or control characters. Non-ASCII letters (internationalised addresses) are welcome.
 */
// eslint-disable-next-line no-control-regex -- control characters are part of what this refuses
export const EMAIL_SHAPE = /^[^\s@"<>()[\]\\,;:\u0000-\u001f\u007f]+@[^\s@"<>()[\]\\,;:\u0000-\u001f\u007f]+\.[^\s@"<>()[\]\\,;:.\u0000-\u001f\u007f]{2,}$/u;

/** Whether `text` (already trimmed) is an email address the store accepts. */
export function isEmailAddress(text: string): boolean {
  return codePointLength(text) <= EMAIL_MAX_LENGTH && isWellFormed(text) && EMAIL_SHAPE.test(text);
}

/**
 * The shape of EMAIL_SHAPE with only its two defining parts kept: one @, something that is
 * neither whitespace nor another @ on each side. Every address the store accepts has it. It
 * recognises an email rather than accepting one: a lookup must still find an address stored
 * under an older rule or imported as it was, and an avatar takes initials from the part before
 * the @ of whatever name it is given.
 */
const EMAIL_LIKE = /^[^\s@]+@[^\s@]+$/;

/** Whether `text` (already trimmed) is written like an email address (see EMAIL_LIKE). */
export function looksLikeEmail(text: string): boolean {
  return EMAIL_LIKE.test(text);
}

/** Whether `text` (already trimmed) is a customer name the store accepts. */
export function isCustomerName(text: string): boolean {
  const length = codePointLength(text);
  return length >= 1 && length <= NAME_MAX_LENGTH;
}

/** Whether `text` (already trimmed) is an order number the store accepts. */
export function isOrderNumber(text: string): boolean {
  const length = codePointLength(text);
  return length >= 1 && length <= ORDER_NUMBER_MAX_LENGTH && isWellFormed(text) && !CONTROL_CHARACTERS.test(text);
}

/** Whether `text` (already trimmed) is a product name the store accepts. */
export function isProductName(text: string): boolean {
  const length = codePointLength(text);
  return length >= 1 && length <= PRODUCT_NAME_MAX_LENGTH;
}

/** Whether `text` (already trimmed) is a game user id the store accepts. */
export function isGameUserId(text: string): boolean {
  // An identifier is found again by its value: half a surrogate pair would be stored changed.
  return codePointLength(text) <= GAME_USER_ID_MAX_LENGTH && isWellFormed(text);
}
