import { z } from 'zod';
import { ProviderError, requestJson, requestText } from './provider-error.js';

// Steam sign-in is OpenID 2.0 in stateless mode: Steam redirects the customer back to our
// return_to with a signed assertion in the query string, and we ask Steam itself
// (`check_authentication`) whether it issued it. Everything here distrusts the query string: it
// is whatever the customer's browser, or whoever crafted the link, sent.

export const OPENID_NS = 'http://specs.openid.net/auth/2.0';
const IDENTIFIER_SELECT = 'http://specs.openid.net/auth/2.0/identifier_select';
const STEAM_ID_URL = /^https:\/\/steamcommunity\.com\/openid\/id\/(\d{17})$/;
// An individual account's SteamID64 (universe 1, type 1): what customers sign in with.
const STEAM_ID64 = /^7656119\d{10}$/;
const SESSION_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** How old Steam's response_nonce may be when it reaches us, and how far ahead a skewed clock may put it. */
export const NONCE_MAX_AGE_MS = 5 * 60_000;
const NONCE_MAX_FUTURE_MS = 60_000;
const NONCE_SHAPE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)[\x21-\x7e]{0,255}$/;
const MAX_QUERY_LENGTH = 4096;

/** Every parameter Steam's positive assertion carries, plus our own `session`; nothing else is accepted. */
const ALLOWED_PARAMETERS = new Set([
  'session',
  'openid.ns',
  'openid.mode',
  'openid.op_endpoint',
  'openid.claimed_id',
  'openid.identity',
  'openid.return_to',
  'openid.response_nonce',
  'openid.assoc_handle',
  'openid.signed',
  'openid.sig',
]);
const REQUIRED_SIGNED = ['op_endpoint', 'claimed_id', 'identity', 'return_to', 'response_nonce', 'assoc_handle'];

export type SteamRefusal =
  | 'malformed_query'
  | 'control_character'
  | 'duplicate_parameter'
  | 'unexpected_parameter'
  | 'missing_parameter'
  | 'cancelled'
  | 'wrong_ns'
  | 'wrong_mode'
  | 'wrong_op_endpoint'
  | 'claimed_id_not_steam'
  | 'identity_not_steam'
  | 'claimed_id_mismatch'
  | 'not_an_individual_account'
  | 'wrong_return_to'
  | 'unsigned_fields'
  | 'bad_nonce'
  | 'stale_nonce'
  | 'nonce_replayed'
  | 'session_unknown'
  | 'session_expired'
  | 'session_used'
  | 'not_valid';

export type SteamAssertionCheck =
  | {
      ok: true;
      steamId: string;
      /** Our single-use attempt state, bound into return_to. */
      session: string;
      responseNonce: string;
      /** The `openid.*` parameters as received, for check_authentication. */
      openIdParams: ReadonlyMap<string, string>;
    }
  | { ok: false; reason: SteamRefusal };

/** Our return_to for one attempt: where Steam sends the customer back, carrying the attempt's state. */
export function steamReturnTo(publicUrl: string, session: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/link/steam/callback?session=${encodeURIComponent(session)}`;
}

export function buildSteamLoginUrl(input: { steamOpenIdUrl: string; publicUrl: string; session: string }): string {
  const url = new URL(input.steamOpenIdUrl);
  url.search = new URLSearchParams({
    'openid.ns': OPENID_NS,
    'openid.mode': 'checkid_setup',
    'openid.return_to': steamReturnTo(input.publicUrl, input.session),
    'openid.realm': input.publicUrl.replace(/\/+$/, ''),
    'openid.identity': IDENTIFIER_SELECT,
    'openid.claimed_id': IDENTIFIER_SELECT,
  }).toString();
  return url.toString();
}

// C0 and C1 controls and DEL: never part of a legitimate assertion, and NUL in particular is the
// classic way to make two parsers disagree about where a value ends.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Parses a raw query string strictly: `&`-separated `key=value` pairs, percent-decoded (`+` is a
 * space), each key at most once. Our own parser, not a framework's, so a duplicated key is seen
 * rather than silently merged, last-wins or turned into an array.
 */
export function parseStrictQuery(raw: string): { ok: true; params: Map<string, string> } | { ok: false; reason: SteamRefusal } {
  if (raw.length > MAX_QUERY_LENGTH) return { ok: false, reason: 'malformed_query' };
  if (CONTROL.test(raw)) return { ok: false, reason: 'control_character' };
  const params = new Map<string, string>();
  if (raw === '') return { ok: true, params };
  for (const piece of raw.split('&')) {
    const eq = piece.indexOf('=');
    if (piece === '' || eq <= 0) return { ok: false, reason: 'malformed_query' };
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(piece.slice(0, eq).replace(/\+/g, ' '));
      value = decodeURIComponent(piece.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      return { ok: false, reason: 'malformed_query' };
    }
    if (CONTROL.test(key) || CONTROL.test(value)) return { ok: false, reason: 'control_character' };
    if (params.has(key)) return { ok: false, reason: 'duplicate_parameter' };
    params.set(key, value);
  }
  return { ok: true, params };
}

/**
 * Every check of a Steam assertion that needs no network and no database: the shape of the
 * query, the protocol fields, that the identity is a Steam account, that the endpoint and
 * return_to are ours, that the security-relevant fields are signed and that the nonce is fresh.
 * Steam must still confirm the signature ({@link verifySteamAssertion}) and the nonce and session
 * must still be unused.
 */
export function checkSteamAssertion(rawQuery: string, expected: { steamOpenIdUrl: string; publicUrl: string; now: Date }): SteamAssertionCheck {
  const parsed = parseStrictQuery(rawQuery);
  if (!parsed.ok) return parsed;
  const params = parsed.params;
  for (const key of params.keys()) {
    if (!ALLOWED_PARAMETERS.has(key)) return { ok: false, reason: 'unexpected_parameter' };
  }
  if (params.get('openid.ns') !== OPENID_NS) return { ok: false, reason: params.has('openid.ns') ? 'wrong_ns' : 'missing_parameter' };
  const mode = params.get('openid.mode');
  if (mode === 'cancel') return { ok: false, reason: 'cancelled' };
  if (mode !== 'id_res') return { ok: false, reason: mode === undefined ? 'missing_parameter' : 'wrong_mode' };
  for (const key of ALLOWED_PARAMETERS) {
    if (!params.has(key)) return { ok: false, reason: 'missing_parameter' };
  }
  const get = (key: string): string => params.get(key) ?? '';

  // The endpoint we verify with is always the configured one; an assertion naming another OP was
  // not issued by Steam, whatever that other OP says about it.
  if (get('openid.op_endpoint') !== expected.steamOpenIdUrl) return { ok: false, reason: 'wrong_op_endpoint' };

  const claimed = STEAM_ID_URL.exec(get('openid.claimed_id'));
  if (!claimed) return { ok: false, reason: 'claimed_id_not_steam' };
  if (!STEAM_ID_URL.test(get('openid.identity'))) return { ok: false, reason: 'identity_not_steam' };
  if (get('openid.claimed_id') !== get('openid.identity')) return { ok: false, reason: 'claimed_id_mismatch' };
  const steamId = claimed[1] ?? '';
  if (!STEAM_ID64.test(steamId)) return { ok: false, reason: 'not_an_individual_account' };

  const session = get('session');
  if (!SESSION_SHAPE.test(session)) return { ok: false, reason: 'session_unknown' };
  // Exactly the return_to we sent for this attempt: same origin, path and session, nothing added.
  if (get('openid.return_to') !== steamReturnTo(expected.publicUrl, session)) return { ok: false, reason: 'wrong_return_to' };

  const signed = get('openid.signed').split(',');
  if (new Set(signed).size !== signed.length) return { ok: false, reason: 'unsigned_fields' };
  if (!REQUIRED_SIGNED.every((field) => signed.includes(field))) return { ok: false, reason: 'unsigned_fields' };
  if (!signed.every((field) => params.has(`openid.${field}`))) return { ok: false, reason: 'unsigned_fields' };

  const nonce = get('openid.response_nonce');
  const stamp = NONCE_SHAPE.exec(nonce);
  const issuedAt = stamp?.[1] ? Date.parse(stamp[1]) : Number.NaN;
  if (Number.isNaN(issuedAt)) return { ok: false, reason: 'bad_nonce' };
  const age = expected.now.getTime() - issuedAt;
  if (age > NONCE_MAX_AGE_MS || age < -NONCE_MAX_FUTURE_MS) return { ok: false, reason: 'stale_nonce' };

  const openIdParams = new Map([...params].filter(([key]) => key.startsWith('openid.')));
  return { ok: true, steamId, session, responseNonce: nonce, openIdParams };
}

/**
 * Asks Steam (at the configured endpoint, never the one the assertion names) whether it issued
 * this assertion: `check_authentication` with the received parameters. True only for an exact
 * `is_valid:true`. Throws ProviderError when Steam cannot be asked.
 */
export async function verifySteamAssertion(steamOpenIdUrl: string, openIdParams: ReadonlyMap<string, string>): Promise<boolean> {
  const body = new URLSearchParams([...openIdParams]);
  body.set('openid.mode', 'check_authentication');
  const text = await requestText(
    steamOpenIdUrl,
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() },
    'steam check_authentication',
  );
  // Key-Value Form: one `key:value` per line.
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).replace(/\r$/, ''));
  }
  return fields.get('ns') === OPENID_NS && fields.get('is_valid') === 'true';
}

const playerSummaries = z.object({
  response: z.object({
    players: z.array(
      z.object({
        steamid: z.string(),
        personaname: z.string().max(256).optional(),
        avatarhash: z.string().optional(),
      }),
    ),
  }),
});

const AVATAR_HASH = /^[0-9a-f]{40}$/;

/**
 * The display name and avatar hash of a Steam account from the Steam Web API
 * (ISteamUser/GetPlayerSummaries/v2); null when Steam does not know the account.
 */
export async function fetchSteamProfile(input: {
  steamApiUrl: string;
  apiKey: string;
  steamId: string;
}): Promise<{ username: string | null; avatar: string | null } | null> {
  const url = new URL(`${input.steamApiUrl.replace(/\/+$/, '')}/ISteamUser/GetPlayerSummaries/v2/`);
  url.search = new URLSearchParams({ key: input.apiKey, steamids: input.steamId }).toString();
  const parsed = playerSummaries.safeParse(await requestJson(url.toString(), { headers: { accept: 'application/json' } }, 'steam GetPlayerSummaries'));
  if (!parsed.success) throw new ProviderError('steam GetPlayerSummaries: unexpected answer');
  const player = parsed.data.response.players.find((p) => p.steamid === input.steamId);
  if (!player) return null;
  return {
    username: player.personaname ?? null,
    avatar: player.avatarhash && AVATAR_HASH.test(player.avatarhash) ? player.avatarhash : null,
  };
}
