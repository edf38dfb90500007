import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { UserError } from '../../shared/errors.js';
import { GAME_USER_ID_MAX_LENGTH, isEmailAddress, isGameUserId } from '../../shared/input-fields.js';
import type { BanType } from '../../shared/vocabulary.js';
import { clipText } from '../../shared/text.js';

const { IPv4, IPv6 } = ipaddr;
type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

// Pure parsing and normalisation of what staff type into `/customer ban`: durations and targets.
// Everything here either returns a canonical value or throws a UserError a staff member can act on.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
// A calendar-free year: ban lengths are "about a year", not "until the same date next year".
const YEAR = 365 * DAY;

const MIN_DURATION_MS = MINUTE;
const MAX_DURATION_MS = 10 * YEAR;

interface DurationUnit {
  ms: number;
  singular: string;
  plural: string;
}

const UNITS = {
  year: { ms: YEAR, singular: 'year', plural: 'years' },
  week: { ms: WEEK, singular: 'week', plural: 'weeks' },
  day: { ms: DAY, singular: 'day', plural: 'days' },
  hour: { ms: HOUR, singular: 'hour', plural: 'hours' },
  minute: { ms: MINUTE, singular: 'minute', plural: 'minutes' },
} as const satisfies Record<string, DurationUnit>;

type UnitName = keyof typeof UNITS;
const UNIT_ORDER: readonly UnitName[] = ['year', 'week', 'day', 'hour', 'minute'];

// `m` is minutes, never months: a month has no fixed length, and `30d` says what is meant.
const UNIT_ALIASES: Record<string, UnitName> = {
  m: 'minute', min: 'minute', mins: 'minute', minute: 'minute', minutes: 'minute',
  h: 'hour', hr: 'hour', hrs: 'hour', hour: 'hour', hours: 'hour',
  d: 'day', day: 'day', days: 'day',
  w: 'week', wk: 'week', wks: 'week', week: 'week', weeks: 'week',
  y: 'year', yr: 'year', yrs: 'year', year: 'year', years: 'year',
};

export interface BanDuration {
  /** Length in milliseconds; null for a permanent ban. */
  ms: number | null;
  /** What staff see, e.g. "7 days", "1 day 12 hours", "permanent". */
  label: string;
}

function badDuration(): UserError {
  return new UserError('bad_duration', 'Duration must be permanent, 24h, 7d, 30d, 90d or a length like 12h or 2w.');
}

function plural(amount: number, unit: DurationUnit): string {
  return `${amount} ${amount === 1 ? unit.singular : unit.plural}`;
}

/**
 * Parses a ban length: `permanent`, the presets `24h` `7d` `30d` `90d`, or any sum of
 * minutes/hours/days/weeks/years such as `30m`, `12h`, `2w`, `1y`, `1d12h`, `1 day 12 hours`.
 * Case and whitespace do not matter. Lengths under a minute or over ten years are refused.
 * The label keeps the units staff used ("24 hours" stays "24 hours", not "1 day").
 */
export function parseBanDuration(input: string): BanDuration {
  const text = input.toLowerCase().replace(/\s+/g, '');
  if (text === 'permanent') return { ms: null, label: 'permanent' };
  if (text === '' || text.length > 64) throw badDuration();

  const amounts = new Map<UnitName, number>();
  const token = /(\d+)([a-z]+)/y;
  let position = 0;
  while (position < text.length) {
    token.lastIndex = position;
    const match = token.exec(text);
    if (!match) throw badDuration();
    const [whole, digits = '', alias = ''] = match;
    const unit = UNIT_ALIASES[alias];
    const amount = Number(digits);
    if (!unit || !Number.isSafeInteger(amount)) throw badDuration();
    amounts.set(unit, (amounts.get(unit) ?? 0) + amount);
    position += whole.length;
  }

  let ms = 0;
  const parts: string[] = [];
  for (const name of UNIT_ORDER) {
    const amount = amounts.get(name) ?? 0;
    if (amount === 0) continue;
    ms += amount * UNITS[name].ms;
    parts.push(plural(amount, UNITS[name]));
  }
  if (!Number.isSafeInteger(ms) || ms < MIN_DURATION_MS || ms > MAX_DURATION_MS) throw badDuration();
  return { ms, label: parts.join(' ') };
}

/**
 * Describes a length in milliseconds for a ban that no longer knows how it was typed (a stored
 * ban keeps only its start and end): whole years when exact, otherwise days, hours and minutes.
 */
export function formatDurationMs(ms: number): string {
  if (ms > 0 && ms % YEAR === 0) return plural(ms / YEAR, UNITS.year);
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(ms / MINUTE) * MINUTE);
  for (const name of ['day', 'hour', 'minute'] as const) {
    const amount = Math.floor(rest / UNITS[name].ms);
    rest -= amount * UNITS[name].ms;
    if (amount > 0) parts.push(plural(amount, UNITS[name]));
  }
  return parts.length > 0 ? parts.join(' ') : 'less than a minute';
}

// ---------------------------------------------------------------------------------------------
// IP addresses
//
// Every address lives in one 128-bit space: IPv4 a.b.c.d is stored as the IPv4-mapped IPv6
// address ::ffff:a.b.c.d, so an IPv4 ban also catches the same client seen through a dual-stack
// socket (which reports ::ffff:a.b.c.d). Addresses are written as 32 lowercase hex digits: fixed
// width makes text order equal numeric order, so "is this address banned" is a plain indexed
// `ip_start <= x AND ip_end >= x` on every dialect. ipaddr.js reads and writes the addresses
// (docs/architecture.md, Libraries); what is an address at all is node:net's isIP.

const IPV4_MAPPED_HEX_PREFIX = '00000000000000000000ffff';

export interface ParsedIp {
  /** How the address was written; `::ffff:1.2.3.4` is version 6 with the same hex as `1.2.3.4`. */
  version: 4 | 6;
  /** 32 lowercase hex digits. */
  hex: string;
}

export interface ParsedIpRange {
  /** Canonical text: network address, prefix only when it is not a single address. */
  value: string;
  /** First address of the range, 32 hex digits. */
  start: string;
  /** Last address of the range, 32 hex digits. */
  end: string;
}

function badIp(text: string): UserError {
  const shown = clipText(text, 60);
  return new UserError(
    'bad_ip',
    `"${shown}" is not an IP address or CIDR range. Use e.g. 203.0.113.7, 2001:db8::1, 10.0.0.0/8 or 2001:db8::/32.`,
  );
}

/**
 * A single address (no prefix) as ipaddr.js holds it, or null. node:net's isIP decides what is an
 * address, and it is strict where ipaddr.js is lenient: no leading zeros (some tools read 010 as
 * octal 8, others as decimal 10), no `0x7f.1` or `2130706433`. Zone ids (fe80::1%eth0) name an
 * interface, not a host, and are refused.
 */
export function parseIpAddress(text: string): IPv4 | IPv6 | null {
  const version = isIP(text);
  if (version === 0 || text.includes('%')) return null;
  if (version === 4) return IPv4.parse(text);
  // ipaddr.js reads `::a.b.c.d` (IPv4-compatible, RFC 4291) as the IPv4-mapped ::ffff:a.b.c.d;
  // spelt `::0:a.b.c.d`, the same address, it reads it as written.
  const compatible = /^::(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  return IPv6.parse(compatible ? `::0:${compatible[1]}` : text);
}

/** The 16 bytes of an address in the shared space (IPv4 as IPv4-mapped IPv6). */
function bytesOf(address: IPv4 | IPv6): number[] {
  return address instanceof IPv4 ? address.toIPv4MappedAddress().toByteArray() : address.toByteArray();
}

function toHex(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
}

function fromHex(hex: string): IPv6 {
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
  return new IPv6(bytes);
}

/** Parses a single IPv4 or IPv6 address (no prefix) into the shared 128-bit hex space. */
export function parseIp(text: string): ParsedIp {
  const trimmed = text.trim();
  const parsed = parseIpAddress(trimmed);
  if (!parsed) throw badIp(trimmed);
  return { version: parsed.kind() === 'ipv4' ? 4 : 6, hex: toHex(bytesOf(parsed)) };
}

/** Text for an address of the shared space: IPv4-mapped as dotted IPv4, IPv6 as RFC 5952. */
function formatAddress(address: IPv6): string {
  return address.isIPv4MappedAddress() ? address.toIPv4Address().toString() : address.toRFC5952String();
}

/** Converts a hex address from storage back to text (IPv4-mapped addresses as dotted IPv4). */
export function formatIpHex(hex: string): string {
  return formatAddress(fromHex(hex));
}

/**
 * Parses an address or CIDR range (`/0`–`/32` for IPv4, `/0`–`/128` for IPv6) into its first and
 * last address and a canonical text: host bits cleared (`10.1.2.3/8` → `10.0.0.0/8`), a single
 * address without a prefix, IPv4-mapped IPv6 written as IPv4 (`::ffff:10.0.0.0/104` → `10.0.0.0/8`)
 * so the same range always has the same text.
 */
export function parseIpOrCidr(text: string): ParsedIpRange {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash < 0 ? null : trimmed.slice(slash + 1);

  const address = parseIpAddress(addressText);
  if (!address) throw badIp(trimmed);
  const maxPrefix = address.kind() === 'ipv4' ? 32 : 128;
  let prefix = maxPrefix;
  if (prefixText !== null) {
    if (!/^\d{1,3}$/.test(prefixText)) throw badIp(trimmed);
    prefix = Number(prefixText);
    if (prefix > maxPrefix) throw badIp(trimmed);
  }
  // An IPv4 /n is the IPv6 /(96+n) inside ::ffff:0:0/96.
  const prefix128 = address.kind() === 'ipv4' ? prefix + 96 : prefix;
  const mask = IPv6.subnetMaskFromPrefixLength(prefix128).toByteArray();
  const bytes = bytesOf(address);
  const start = new IPv6(bytes.map((b, i) => b & (mask[i] ?? 0)));
  const end = new IPv6(bytes.map((b, i) => (b & (mask[i] ?? 0)) | (~(mask[i] ?? 0) & 0xff)));

  const startText = formatAddress(start);
  const shownPrefix = start.isIPv4MappedAddress() && prefix128 >= 96 ? prefix128 - 96 : prefix128;
  const value = prefix128 === 128 ? startText : `${startText}/${shownPrefix}`;
  return { value, start: toHex(start.toByteArray()), end: toHex(end.toByteArray()) };
}

/** IPv4 ranges wider than this prefix (more than 65,536 addresses) are called out before a ban. */
export const WIDE_IPV4_PREFIX = 16;
/** IPv6 ranges wider than this prefix (more than a typical provider's allocation) are called out. */
export const WIDE_IPV6_PREFIX = 32;

export interface IpRangeSize {
  version: 4 | 6;
  prefix: number;
  /** Bits left for hosts: the range holds 2^hostBits addresses. */
  hostBits: number;
  addresses: bigint;
  /** Wider than /16 for IPv4 or /32 for IPv6. */
  wide: boolean;
}

/** How much of the address space a parsed range covers. */
export function measureIpRange(range: Pick<ParsedIpRange, 'start' | 'end'>): IpRangeSize {
  const start = BigInt(`0x${range.start}`);
  const addresses = BigInt(`0x${range.end}`) - start + 1n;
  const hostBits = addresses.toString(2).length - 1;
  const version = range.start.startsWith(IPV4_MAPPED_HEX_PREFIX) && hostBits <= 32 ? 4 : 6;
  const prefix = (version === 4 ? 32 : 128) - hostBits;
  return { version, prefix, hostBits, addresses, wide: prefix < (version === 4 ? WIDE_IPV4_PREFIX : WIDE_IPV6_PREFIX) };
}

/** "16,777,216 addresses"; beyond what a person can read, "2^112 addresses (about 5.2 × 10^33)". */
export function formatAddressCount(size: IpRangeSize): string {
  if (size.addresses === 1n) return '1 address';
  if (size.hostBits <= 48) return `${size.addresses.toLocaleString('en-US')} addresses`;
  const digits = size.addresses.toString();
  return `2^${size.hostBits} addresses (about ${digits[0] ?? ''}.${digits[1] ?? '0'} × 10^${digits.length - 1})`;
}

// ---------------------------------------------------------------------------------------------
// Ban targets

/**
 * Normalises a Steam profile link to its SteamID64, or returns null when the text is not a
 * steamcommunity.com link at all. Vanity links (/id/name) need the Steam Web API to resolve, which
 * a ban must not wait on, so they are refused with a pointer to the numeric id.
 */
function steamIdFromProfileUrl(text: string): string | null {
  if (!/^(https?:\/\/)?(www\.)?steamcommunity\.com\//i.test(text)) return null;
  const numeric = /^(?:https?:\/\/)?(?:www\.)?steamcommunity\.com\/(?:profiles|openid\/id)\/(\d{17})\/?(?:[?#].*)?$/i.exec(text);
  if (numeric?.[1]) return numeric[1];
  throw new UserError(
    'bad_game_id',
    'That Steam link does not contain a SteamID64. Use a link like https://steamcommunity.com/profiles/76561198000000000 or the 17-digit id itself.',
  );
}

/**
 * Validates and canonicalises a ban target typed by staff:
 * - `email`: trimmed, lower-cased, an address the store accepts (`isEmailAddress`);
 * - `discord`: a user id (17–20 digits), or a mention `<@id>` / `<@!id>`;
 * - `game_id`: 1–64 characters (SteamID64 or in-game name); a steamcommunity.com/profiles link
 *   becomes its SteamID64;
 * - `customer`: `id:123`, `#123` or `123` → `"123"`;
 * - `ip`: the canonical address or CIDR range from {@link parseIpOrCidr}.
 */
export function normaliseBanTarget(type: BanType, raw: string): string {
  const text = raw.trim();
  switch (type) {
    case 'email': {
      const email = text.toLowerCase();
      // The store's own rule: every address a customer can be registered with can be banned.
      if (!isEmailAddress(email)) {
        throw new UserError('bad_email', 'An email ban needs an email address like name@example.com.');
      }
      return email;
    }
    case 'discord': {
      const match = /^(?:<@!?(\d{17,20})>|(\d{17,20}))$/.exec(text);
      const id = match?.[1] ?? match?.[2];
      if (!id) {
        throw new UserError('bad_discord_id', 'A Discord ban needs a Discord user ID (17–20 digits) or a mention like <@123456789012345678>.');
      }
      return id;
    }
    case 'game_id': {
      const steamId = steamIdFromProfileUrl(text);
      if (steamId) return steamId;
      // Control characters cannot be typed in a game and would only hide what the ban matches.
      // eslint-disable-next-line no-control-regex
      if (text === '' || !isGameUserId(text) || /[\u0000-\u001f\u007f]/.test(text)) {
        throw new UserError('bad_game_id', `A game ID ban needs a SteamID64 or in-game name of 1–${GAME_USER_ID_MAX_LENGTH} characters.`);
      }
      return text;
    }
    case 'customer': {
      const match = /^(?:id:\s*|#)?(\d{1,15})$/i.exec(text);
      const id = match?.[1] ? Number(match[1]) : 0;
      if (!Number.isSafeInteger(id) || id < 1) {
        throw new UserError('bad_customer_id', 'A customer ban needs a customer id like 123, #123 or id:123.');
      }
      return String(id);
    }
    case 'ip':
      return parseIpOrCidr(text).value;
  }
}
