import { z } from 'zod';
import type { ExternalAccount } from './link-account.js';
import { ProviderError, requestJson } from './provider-error.js';

// Discord's OAuth2 authorization-code flow with PKCE, scope `identify`. The endpoints derive from
// DISCORD_API_URL, so a REST proxy or a local emulator serves them too: the consent page lives at
// the API's origin (https://discord.com/oauth2/authorize), the token and user endpoints under the
// API base.

export interface DiscordOAuthEndpoints {
  authorize: string;
  token: string;
  me: string;
}

export function discordOAuthEndpoints(discordApiUrl: string): DiscordOAuthEndpoints {
  const base = discordApiUrl.replace(/\/+$/, '');
  return {
    authorize: `${new URL(base).origin}/oauth2/authorize`,
    token: `${base}/oauth2/token`,
    me: `${base}/v10/users/@me`,
  };
}

/** The one redirect URI registered with Discord: exact, no query. */
export function discordRedirectUri(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/link/discord/callback`;
}

export function buildDiscordAuthorizeUrl(input: {
  discordApiUrl: string;
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
}): string {
  const url = new URL(discordOAuthEndpoints(input.discordApiUrl).authorize);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: input.clientId,
    scope: 'identify',
    redirect_uri: input.redirectUri,
    state: input.state,
    code_challenge: input.codeChallenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

const tokenResponse = z.object({
  access_token: z.string().min(1).max(2048),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'token_type must be Bearer'),
});

const discordUser = z.object({
  id: z.string().regex(/^\d{17,20}$/),
  username: z.string().min(1).max(64),
  discriminator: z.string().optional(),
  global_name: z.string().nullish(),
  avatar: z.string().nullish(),
});

const AVATAR_HASH = /^(a_)?[0-9a-f]{32}$/;

/**
 * Exchanges an authorization code (with its PKCE verifier) for the Discord account that granted
 * it. Throws ProviderError for anything but a well-formed answer.
 */
export async function fetchDiscordAccount(input: {
  discordApiUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  code: string;
  codeVerifier: string;
}): Promise<ExternalAccount> {
  const endpoints = discordOAuthEndpoints(input.discordApiUrl);
  const basic = Buffer.from(`${encodeURIComponent(input.clientId)}:${encodeURIComponent(input.clientSecret)}`).toString('base64');
  const tokenJson = await requestJson(
    endpoints.token,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}`, accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: input.code,
        redirect_uri: input.redirectUri,
        code_verifier: input.codeVerifier,
      }).toString(),
    },
    'discord token exchange',
  );
  const token = tokenResponse.safeParse(tokenJson);
  if (!token.success) throw new ProviderError('discord token exchange: unexpected answer');

  const userJson = await requestJson(endpoints.me, { headers: { authorization: `Bearer ${token.data.access_token}`, accept: 'application/json' } }, 'discord users/@me');
  const user = discordUser.safeParse(userJson);
  if (!user.success) throw new ProviderError('discord users/@me: unexpected answer');
  const { id, username, discriminator, avatar } = user.data;
  return {
    id,
    // Accounts not yet migrated to unique usernames keep their "#1234"; migrated ones answer "0".
    username: discriminator && discriminator !== '0' ? `${username}#${discriminator}` : username,
    avatar: avatar && AVATAR_HASH.test(avatar) ? avatar : null,
  };
}
