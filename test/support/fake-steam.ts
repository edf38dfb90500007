import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, send } from './fake-http.js';

// A stand-in for Steam on 127.0.0.1: the OpenID 2.0 provider (checkid_setup and
// check_authentication, with real HMAC signatures over the signed fields and single-use nonces)
// and the Web API's GetPlayerSummaries. It can be told to misbehave: sign whatever it is told
// (an evil or confused provider), or answer is_valid:false.

export const OPENID_NS = 'http://specs.openid.net/auth/2.0';
const IDENTIFIER_SELECT = 'http://specs.openid.net/auth/2.0/identifier_select';
export const STEAM_SIGNED_FIELDS = ['signed', 'op_endpoint', 'claimed_id', 'identity', 'return_to', 'response_nonce', 'assoc_handle'];

export interface FakeSteamProfile {
  personaname: string;
  avatarhash?: string;
}

export interface AssertionOptions {
  /** The account signing in; defaults to `signedInAs`. */
  steamId?: string;
  /** Field values set before signing (an evil provider signs them); null removes the field. */
  overrides?: Record<string, string | null>;
  /** The fields listed in openid.signed (without the `openid.` prefix). */
  signed?: string[];
  /** When the provider says it issued the assertion (the nonce's timestamp). */
  issuedAt?: Date;
}

export interface FakeSteam {
  /** What STEAM_OPENID_URL is set to. */
  readonly openIdUrl: string;
  /** What STEAM_API_URL is set to. */
  readonly apiUrl: string;
  readonly apiKey: string;
  signedInAs: string;
  readonly profiles: Map<string, FakeSteamProfile>;
  /** Answer every check_authentication with is_valid:false. */
  answerInvalid: boolean;
  readonly calls: { checkAuthentication: number; validAnswers: number; playerSummaries: number };
  /** The Referer header of each sign-in page request (undefined when none was sent). */
  readonly signInPageReferers: (string | undefined)[];
  /** The assertion parameters, in Steam's order, for the return_to of a checkid_setup URL. */
  assertionParams(loginUrl: string, options?: AssertionOptions): [string, string][];
  /** Where Steam sends the customer back: return_to with the signed assertion appended. */
  assert(loginUrl: string, options?: AssertionOptions): string;
  close(): Promise<void>;
}

export function encodeQuery(params: readonly (readonly [string, string])[]): string {
  return params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

export async function startFakeSteam(options: { now?: () => Date; apiKey?: string; signedInAs?: string } = {}): Promise<FakeSteam> {
  const now = options.now ?? (() => new Date());
  const associationSecret = randomBytes(32);
  const verifiedNonces = new Set<string>();
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const openIdUrl = `${origin}/openid/login`;

  const sign = (fields: Map<string, string>, signedList: string[]): string => {
    const keyValue = signedList.map((name) => `${name}:${fields.get(`openid.${name}`) ?? ''}\n`).join('');
    return createHmac('sha256', associationSecret).update(keyValue).digest('base64');
  };

  const fake: FakeSteam = {
    openIdUrl,
    apiUrl: origin,
    apiKey: options.apiKey ?? 'FAKESTEAMKEY0123456789',
    signedInAs: options.signedInAs ?? '76561198000000001',
    profiles: new Map(),
    answerInvalid: false,
    calls: { checkAuthentication: 0, validAnswers: 0, playerSummaries: 0 },
    signInPageReferers: [],
    assertionParams(loginUrl, opts = {}) {
      const q = new URL(loginUrl).searchParams;
      const returnTo = q.get('openid.return_to') ?? '';
      const steamId = opts.steamId ?? fake.signedInAs;
      const identity = `https://steamcommunity.com/openid/id/${steamId}`;
      const issuedAt = (opts.issuedAt ?? now()).toISOString().slice(0, 19) + 'Z';
      const signedList = opts.signed ?? STEAM_SIGNED_FIELDS;
      const fields = new Map<string, string>([
        ['openid.ns', OPENID_NS],
        ['openid.mode', 'id_res'],
        ['openid.op_endpoint', openIdUrl],
        ['openid.claimed_id', identity],
        ['openid.identity', identity],
        ['openid.return_to', returnTo],
        ['openid.response_nonce', `${issuedAt}${randomBytes(6).toString('hex')}`],
        ['openid.assoc_handle', '1234567890'],
        ['openid.signed', signedList.join(',')],
      ]);
      for (const [key, value] of Object.entries(opts.overrides ?? {})) {
        if (value === null) fields.delete(key);
        else fields.set(key, value);
      }
      if (!('openid.signed' in (opts.overrides ?? {}))) fields.set('openid.signed', signedList.join(','));
      fields.set('openid.sig', sign(fields, (fields.get('openid.signed') ?? '').split(',')));
      return [...fields];
    },
    assert(loginUrl, opts) {
      const returnTo = new URL(loginUrl).searchParams.get('openid.return_to') ?? '';
      return `${returnTo}${returnTo.includes('?') ? '&' : '?'}${encodeQuery(fake.assertionParams(loginUrl, opts))}`;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const checkAuthentication = (body: URLSearchParams): boolean => {
    if (fake.answerInvalid) return false;
    const fields = new Map([...body]);
    const signedList = (fields.get('openid.signed') ?? '').split(',');
    const expected = Buffer.from(sign(fields, signedList));
    const given = Buffer.from(fields.get('openid.sig') ?? '');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false;
    // An OP verifies each assertion once, as OpenID 2.0 §11.4.2.1 requires.
    const nonce = fields.get('openid.response_nonce') ?? '';
    if (verifiedNonces.has(nonce)) return false;
    verifiedNonces.add(nonce);
    return true;
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', origin);
    const handle = async (): Promise<void> => {
      if (url.pathname === '/openid/login' && req.method === 'GET') {
        fake.signInPageReferers.push(req.headers.referer);
        const q = url.searchParams;
        const problems = [
          q.get('openid.ns') !== OPENID_NS && 'openid.ns',
          q.get('openid.mode') !== 'checkid_setup' && 'openid.mode',
          q.get('openid.identity') !== IDENTIFIER_SELECT && 'openid.identity',
          q.get('openid.claimed_id') !== IDENTIFIER_SELECT && 'openid.claimed_id',
          !(q.get('openid.return_to') ?? '').startsWith(q.get('openid.realm') ?? '\0') && 'openid.return_to outside openid.realm',
        ].filter(Boolean);
        if (problems.length > 0) return send(res, 400, `bad checkid_setup: ${problems.join(', ')}`, 'text/plain');
        const back = fake.assert(url.toString()).replace(/&/g, '&amp;').replace(/"/g, '&quot;');
        return send(
          res,
          200,
          `<!doctype html><html lang="en"><head><title>Steam Community :: Sign In</title></head><body><h1>Sign in through Steam</h1><p>Signed in as ${fake.signedInAs}</p><a href="${back}">Sign In</a></body></html>`,
          'text/html; charset=utf-8',
        );
      }
      if (url.pathname === '/openid/login' && req.method === 'POST') {
        const body = new URLSearchParams(await readBody(req));
        if (body.get('openid.mode') !== 'check_authentication') return send(res, 400, 'ns:http://specs.openid.net/auth/2.0\nerror:bad mode\n', 'text/plain');
        fake.calls.checkAuthentication++;
        const valid = checkAuthentication(body);
        if (valid) fake.calls.validAnswers++;
        return send(res, 200, `ns:${OPENID_NS}\nis_valid:${valid}\n`, 'text/plain;charset=utf-8');
      }
      if (url.pathname === '/ISteamUser/GetPlayerSummaries/v2/' && req.method === 'GET') {
        fake.calls.playerSummaries++;
        if (url.searchParams.get('key') !== fake.apiKey) return send(res, 403, '<html><body><h1>Forbidden</h1></body></html>', 'text/html');
        const ids = (url.searchParams.get('steamids') ?? '').split(',');
        const players = ids.flatMap((steamid) => {
          const profile = fake.profiles.get(steamid);
          return profile ? [{ steamid, communityvisibilitystate: 3, profilestate: 1, avatar: 'https://avatars.example/a.jpg', ...profile }] : [];
        });
        return send(res, 200, JSON.stringify({ response: { players } }), 'application/json');
      }
      send(res, 404, 'not found', 'text/plain');
    };
    handle().catch((error: unknown) => send(res, 500, String(error), 'text/plain'));
  });

  return fake;
}
