import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, send } from './fake-http.js';

// A stand-in for discord.com's OAuth2 on 127.0.0.1, strict where Discord is strict: the exact
// registered redirect URI, client credentials, single-use codes bound to their redirect URI and
// PKCE S256 challenge, and bearer tokens for /users/@me.

export interface FakeDiscordUser {
  id: string;
  username: string;
  discriminator?: string;
  global_name?: string | null;
  avatar?: string | null;
}

export interface FakeDiscordOAuth {
  /** What DISCORD_API_URL is set to: `http://127.0.0.1:<port>/api`. */
  readonly apiUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The one redirect URI "registered in the developer portal"; authorize refuses any other. */
  registeredRedirectUri: string;
  readonly users: Map<string, FakeDiscordUser>;
  /** Who is "logged in to Discord" in the browser, i.e. who approves the next authorization. */
  signedInAs: string;
  /** Answer the token endpoint with this status instead (misbehaviour). */
  failTokenWith: number | null;
  readonly calls: { authorize: number; token: number; tokenRefused: number; me: number };
  /** The Referer header of each consent-page request (undefined when none was sent). */
  readonly consentPageReferers: (string | undefined)[];
  /** Validates an authorize URL as the consent page would and returns where Discord sends the customer after "Authorize". */
  approve(authorizeUrl: string, userId?: string): string;
  close(): Promise<void>;
}

interface IssuedCode {
  redirectUri: string;
  codeChallenge: string;
  userId: string;
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export async function startFakeDiscordOAuth(options: {
  clientId?: string;
  clientSecret?: string;
  registeredRedirectUri?: string;
  users?: FakeDiscordUser[];
} = {}): Promise<FakeDiscordOAuth> {
  const codes = new Map<string, IssuedCode>();
  const tokens = new Map<string, string>();
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: FakeDiscordOAuth = {
    apiUrl: `${origin}/api`,
    clientId: options.clientId ?? '1300000000000000001',
    clientSecret: options.clientSecret ?? 'fake-client-secret',
    registeredRedirectUri: options.registeredRedirectUri ?? 'http://localhost:3000/link/discord/callback',
    users: new Map((options.users ?? []).map((u) => [u.id, u])),
    signedInAs: options.users?.[0]?.id ?? '',
    failTokenWith: null,
    calls: { authorize: 0, token: 0, tokenRefused: 0, me: 0 },
    consentPageReferers: [],
    approve(authorizeUrl, userId = fake.signedInAs) {
      const url = new URL(authorizeUrl);
      if (`${url.origin}${url.pathname}` !== `${origin}/oauth2/authorize`) throw new Error(`not this fake's authorize URL: ${authorizeUrl}`);
      const q = url.searchParams;
      const problems = [
        q.get('response_type') !== 'code' && 'response_type must be code',
        q.get('client_id') !== fake.clientId && 'unknown client_id',
        !(q.get('scope') ?? '').split(' ').includes('identify') && 'scope must include identify',
        q.get('redirect_uri') !== fake.registeredRedirectUri && `redirect_uri ${q.get('redirect_uri')} is not the registered ${fake.registeredRedirectUri}`,
        q.get('code_challenge_method') !== 'S256' && 'code_challenge_method must be S256',
        !/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '') && 'code_challenge must be a base64url SHA-256',
        !q.get('state') && 'state is missing',
        !fake.users.has(userId) && `no fake user ${userId}`,
      ].filter(Boolean);
      if (problems.length > 0) throw new Error(`Discord would refuse this authorization: ${problems.join('; ')}`);
      fake.calls.authorize++;
      const code = randomBytes(16).toString('hex');
      codes.set(code, { redirectUri: q.get('redirect_uri') ?? '', codeChallenge: q.get('code_challenge') ?? '', userId });
      const back = new URL(fake.registeredRedirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      return back.toString();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const tokenEndpoint = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    fake.calls.token++;
    const refuse = (error: string) => {
      fake.calls.tokenRefused++;
      send(res, 400, JSON.stringify({ error }));
    };
    if (fake.failTokenWith !== null) return send(res, fake.failTokenWith, JSON.stringify({ message: 'misbehaving on purpose' }));
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return refuse('invalid_request');
    const body = new URLSearchParams(await readBody(req));
    let clientId = body.get('client_id');
    let clientSecret = body.get('client_secret');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (basic?.[1]) {
      const [id = '', secret = ''] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent(id);
      clientSecret = decodeURIComponent(secret);
    }
    if (clientId !== fake.clientId || !same(clientSecret ?? '', fake.clientSecret)) return refuse('invalid_client');
    if (body.get('grant_type') !== 'authorization_code') return refuse('unsupported_grant_type');
    const code = body.get('code') ?? '';
    const issued = codes.get(code);
    // Single use: the first exchange spends the code, right or wrong.
    codes.delete(code);
    if (!issued) return refuse('invalid_grant');
    if (body.get('redirect_uri') !== issued.redirectUri) return refuse('invalid_grant');
    const verifier = body.get('code_verifier') ?? '';
    if (createHash('sha256').update(verifier).digest('base64url') !== issued.codeChallenge) return refuse('invalid_grant');
    const accessToken = randomBytes(16).toString('hex');
    tokens.set(accessToken, issued.userId);
    send(res, 200, JSON.stringify({ access_token: accessToken, token_type: 'Bearer', expires_in: 604800, refresh_token: randomBytes(16).toString('hex'), scope: 'identify' }));
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', origin);
    const handle = async (): Promise<void> => {
      if (req.method === 'GET' && url.pathname === '/oauth2/authorize') {
        // The consent screen a browser sees: one "Authorize" link back to the store.
        fake.consentPageReferers.push(req.headers.referer);
        let back: string;
        try {
          back = fake.approve(url.toString());
        } catch (error) {
          return send(res, 400, String(error), 'text/plain');
        }
        const html = `<!doctype html><html lang="en"><head><title>Discord | Authorize access</title></head><body><h1>An external application wants to access your Discord account</h1><p>Signed in as ${fake.signedInAs}</p><a href="${back.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">Authorize</a></body></html>`;
        return send(res, 200, html, 'text/html; charset=utf-8');
      }
      if (req.method === 'POST' && url.pathname === '/api/oauth2/token') return tokenEndpoint(req, res);
      if (req.method === 'GET' && url.pathname === '/api/v10/users/@me') {
        fake.calls.me++;
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
        const userId = bearer?.[1] ? tokens.get(bearer[1]) : undefined;
        const user = userId ? fake.users.get(userId) : undefined;
        if (!user) return send(res, 401, JSON.stringify({ message: '401: Unauthorized', code: 0 }));
        return send(res, 200, JSON.stringify({ discriminator: '0', global_name: null, avatar: null, ...user }));
      }
      send(res, 404, JSON.stringify({ message: '404: Not Found', code: 0 }));
    };
    handle().catch((error: unknown) => send(res, 500, String(error), 'text/plain'));
  });

  return fake;
}
