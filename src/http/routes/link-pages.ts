import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GENERIC_REFUSAL, UserError, type UserErrorCode } from '../../shared/errors.js';
import { buildDiscordAuthorizeUrl, discordRedirectUri, fetchDiscordAccount } from '../../domain/linking/discord-oauth.js';
import { completeLink, type ExternalAccount } from '../../domain/linking/link-account.js';
import { openLinkSession, startLinkAttempt, takeLinkAttemptByState, type LinkProvider } from '../../domain/linking/link-sessions.js';
import { ProviderError } from '../../domain/linking/provider-error.js';
import {
  buildSteamLoginUrl,
  checkSteamAssertion,
  fetchSteamProfile,
  NONCE_MAX_AGE_MS,
  verifySteamAssertion,
  type SteamRefusal,
} from '../../domain/linking/steam-openid.js';
import { deleteOpenIdNoncesSeenBefore, isOpenIdNonceUsed, recordOpenIdNonce } from '../../store/link-session.repository.js';
import type { HttpDeps } from '../deps.js';
import { errorHandlerFor } from '../http-errors.js';
import { LINK_PAGE_HEADERS, renderLinkPage, type LinkPageView } from '../link-page-html.js';

const LABEL: Record<LinkProvider, string> = { discord: 'Discord', steam: 'Steam' };

// What the customer reads. Each says what happened and what to do, never why internally.
const TEXT = {
  unknownLink: "This link isn't valid. Check that you opened the whole link, or ask the store for a new one.",
  expiredLink: 'This link has expired. Ask the store for a new link.',
  usedLink: 'This link has already been used. Ask the store for a new link if you want to link another account.',
  notConfigured: "Account linking isn't set up on this store yet. Please contact the store.",
  providerUnavailable: (p: LinkProvider) => `Linking a ${LABEL[p]} account isn't available right now. Please contact the store.`,
  attemptInvalid: (p: LinkProvider) =>
    `We couldn't confirm your ${LABEL[p]} sign-in, so nothing was linked. Open your link again and choose "Link ${LABEL[p]}" once more.`,
  cancelled: (p: LinkProvider) => `You cancelled at ${LABEL[p]}, so nothing was linked. Open your link again to try once more.`,
  unreachable: (p: LinkProvider) => `We couldn't reach ${LABEL[p]} to confirm your account, so nothing was linked. Please try again in a minute.`,
  taken: (p: LinkProvider) =>
    `This ${LABEL[p]} account is already linked to another store account, so it wasn't linked to this one. Sign in to the store with that account, or contact the store.`,
  broken: "Something went wrong on our side and nothing was linked. Please try again later; if it keeps happening, contact the store and quote the reference below.",
};

// Old nonces only need keeping while their timestamp could still pass the age check.
const NONCE_RETENTION_MS = NONCE_MAX_AGE_MS * 2;

const tokenParams = z.object({ token: z.string().max(200) });
const discordCallbackQuery = z.object({
  code: z.string().min(1).max(512).optional(),
  state: z.string().max(200).optional(),
  error: z.string().max(200).optional(),
});

function sendPage(reply: FastifyReply, status: number, view: LinkPageView): FastifyReply {
  return reply.status(status).headers(LINK_PAGE_HEADERS).send(renderLinkPage(view));
}

function failed(reply: FastifyReply, request: FastifyRequest, status: number, title: string, message: string): FastifyReply {
  return sendPage(reply, status, { kind: 'failed', title, message, reference: request.id });
}

function sessionProblem(reply: FastifyReply, status: 'unknown' | 'expired' | 'used'): FastifyReply {
  if (status === 'unknown') return sendPage(reply, 404, { kind: 'expired', message: TEXT.unknownLink });
  return sendPage(reply, 410, { kind: 'expired', message: status === 'expired' ? TEXT.expiredLink : TEXT.usedLink });
}

/** The page for a refusal of completeLink; undefined for any other, which is a bug here. */
function linkRefusalPage(reply: FastifyReply, request: FastifyRequest, code: UserErrorCode): FastifyReply | undefined {
  switch (code) {
    case 'link_banned':
      return failed(reply, request, 403, "We couldn't link your account", GENERIC_REFUSAL);
    case 'discord_taken':
      return failed(reply, request, 409, 'This account is already linked', TEXT.taken('discord'));
    case 'steam_taken':
      return failed(reply, request, 409, 'This account is already linked', TEXT.taken('steam'));
    case 'link_used':
      return sessionProblem(reply, 'used');
    case 'customer_not_found':
      return sessionProblem(reply, 'unknown');
    default:
      return undefined;
  }
}

function redirect(reply: FastifyReply, location: string): FastifyReply {
  // The redirect carries the no-referrer policy too, so the link token never reaches the provider.
  return reply
    .status(302)
    .headers({ 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' })
    .header('location', location)
    .send();
}

type Handler = (deps: HttpDeps, appSecret: string, request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

/** Every page needs the app secret (it signs the link tokens); without it linking is not set up. */
function withAppSecret(deps: HttpDeps, handler: Handler) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { appSecret } = deps.config;
    if (!appSecret) return failed(reply, request, 503, 'Account linking unavailable', TEXT.notConfigured);
    return handler(deps, appSecret, request, reply);
  };
}

/** The customer-facing account-linking pages under /link. */
export const linkRoutes: FastifyPluginAsync<{ deps: HttpDeps }> = (app, { deps }) => {
  // A customer sees a page, never JSON and never internals: a refusal of linking gets its page,
  // anything else (a bug) a reference to quote.
  app.setErrorHandler(
    errorHandlerFor({
      refused: (reply, { code }, request) => (code ? linkRefusalPage(reply, request, code) : undefined),
      failed: (reply, reference) => sendPage(reply, 500, { kind: 'failed', title: 'Something went wrong', message: TEXT.broken, reference }),
      logMessage: 'link page failed',
    }),
  );
  app.get('/link/:token', withAppSecret(deps, choosePage));
  app.get('/link/:token/discord', withAppSecret(deps, startDiscordLink));
  app.get('/link/discord/callback', withAppSecret(deps, discordCallback));
  app.get('/link/:token/steam', withAppSecret(deps, startSteamLink));
  app.get('/link/steam/callback', withAppSecret(deps, steamCallback));
  return Promise.resolve();
};

function discordConfigured(config: HttpDeps['config']): config is HttpDeps['config'] & { discordClientId: string; discordClientSecret: string } {
  return !!config.discordClientId && !!config.discordClientSecret;
}

function discordUnavailable(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return failed(reply, request, 503, 'Discord linking unavailable', TEXT.providerUnavailable('discord'));
}

/** Linking, or a refusal (answered by linkRefusalPage). Every refusal leaves the customer exactly as they were. */
async function finishLink(
  deps: HttpDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  input: { sessionId: number; customerId: number; provider: LinkProvider; account: ExternalAccount },
): Promise<FastifyReply> {
  const { provider } = input;
  try {
    const { customer } = await completeLink(deps.db, deps.clock, { ...input, ip: request.ip || null, onCustomerLinked: deps.onCustomerLinked });
    const linked = provider === 'discord' ? customer.discord : customer.steam;
    request.log.info({ customerId: customer.id, provider }, 'account linked');
    return sendPage(reply, 200, { kind: 'linked', provider, accountName: linked?.username ?? linked?.id ?? input.account.id });
  } catch (error) {
    if (error instanceof UserError) request.log.warn({ reason: error.code, provider, customerId: input.customerId }, 'link refused');
    throw error;
  }
}

function refuseAttempt(request: FastifyRequest, reply: FastifyReply, provider: LinkProvider, reason: string): FastifyReply {
  request.log.warn({ reason, provider }, 'link attempt refused');
  return failed(reply, request, 400, "We couldn't link your account", TEXT.attemptInvalid(provider));
}

/** A callback whose attempt belongs to a session that is no longer usable. */
function attemptSessionProblem(request: FastifyRequest, reply: FastifyReply, provider: LinkProvider, status: 'expired' | 'used'): FastifyReply {
  request.log.warn({ reason: `session_${status}`, provider }, 'link attempt refused');
  return sessionProblem(reply, status);
}

function cancelledAtProvider(request: FastifyRequest, reply: FastifyReply, provider: LinkProvider, error?: string): FastifyReply {
  request.log.info(error === undefined ? { provider } : { provider, error }, 'link cancelled at the provider');
  return failed(reply, request, 400, 'Linking cancelled', TEXT.cancelled(provider));
}

/** A provider that could not be reached; any other error is a bug and propagates. */
function providerUnreachable(request: FastifyRequest, reply: FastifyReply, provider: LinkProvider, err: unknown): FastifyReply {
  if (!(err instanceof ProviderError)) throw err;
  request.log.warn({ err, ref: request.id, provider }, 'provider call failed');
  return failed(reply, request, 502, `We couldn't reach ${LABEL[provider]}`, TEXT.unreachable(provider));
}

async function choosePage(deps: HttpDeps, appSecret: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { token } = tokenParams.parse(request.params);
  const found = await openLinkSession(deps.db, deps.clock, appSecret, token);
  if (found.status !== 'usable') return sessionProblem(reply, found.status);
  const { customer } = found;
  return sendPage(reply, 200, {
    kind: 'choose',
    linkPath: `/link/${token}`,
    discordLinked: customer.discord !== null,
    discordUsername: customer.discord?.username ?? null,
    steamLinked: customer.steam !== null,
    steamUsername: customer.steam?.username ?? null,
    discordAvailable: discordConfigured(deps.config),
    steamAvailable: true,
  });
}

async function startDiscordLink(deps: HttpDeps, appSecret: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { db, clock, config } = deps;
  if (!discordConfigured(config)) return discordUnavailable(request, reply);
  const { token } = tokenParams.parse(request.params);
  const found = await openLinkSession(db, clock, appSecret, token);
  if (found.status !== 'usable') return sessionProblem(reply, found.status);
  const attempt = await startLinkAttempt(db, clock, appSecret, found.session.id, 'discord');
  return redirect(
    reply,
    buildDiscordAuthorizeUrl({
      discordApiUrl: config.discordApiUrl,
      clientId: config.discordClientId,
      redirectUri: discordRedirectUri(config.publicUrl),
      state: attempt.state,
      codeChallenge: attempt.codeChallenge ?? '',
    }),
  );
}

async function discordCallback(deps: HttpDeps, appSecret: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { db, clock, config } = deps;
  const query = discordCallbackQuery.safeParse(request.query);
  if (!query.success || !query.data.state) return refuseAttempt(request, reply, 'discord', 'malformed_callback');
  const { state, code, error } = query.data;

  // The state is spent here whatever follows: a callback URL works once.
  const attempt = await takeLinkAttemptByState(db, clock, appSecret, 'discord', state);
  if (attempt.status === 'unknown') return refuseAttempt(request, reply, 'discord', 'state_unknown');
  if (attempt.status !== 'usable') return attemptSessionProblem(request, reply, 'discord', attempt.status);
  if (error !== undefined) return cancelledAtProvider(request, reply, 'discord', error);
  if (!code || !attempt.codeVerifier) return refuseAttempt(request, reply, 'discord', 'malformed_callback');
  if (!discordConfigured(config)) return discordUnavailable(request, reply);

  let account: ExternalAccount;
  try {
    account = await fetchDiscordAccount({
      discordApiUrl: config.discordApiUrl,
      clientId: config.discordClientId,
      clientSecret: config.discordClientSecret,
      redirectUri: discordRedirectUri(config.publicUrl),
      code,
      codeVerifier: attempt.codeVerifier,
    });
  } catch (err) {
    return providerUnreachable(request, reply, 'discord', err);
  }
  return finishLink(deps, request, reply, { sessionId: attempt.session.id, customerId: attempt.session.customerId, provider: 'discord', account });
}

async function startSteamLink(deps: HttpDeps, appSecret: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { db, clock, config } = deps;
  const { token } = tokenParams.parse(request.params);
  const found = await openLinkSession(db, clock, appSecret, token);
  if (found.status !== 'usable') return sessionProblem(reply, found.status);
  const attempt = await startLinkAttempt(db, clock, appSecret, found.session.id, 'steam');
  return redirect(reply, buildSteamLoginUrl({ steamOpenIdUrl: config.steamOpenIdUrl, publicUrl: config.publicUrl, session: attempt.state }));
}

/** The raw query string, for our own strict parser: see checkSteamAssertion. */
function rawQueryOf(request: FastifyRequest): string {
  const rawUrl = request.raw.url ?? '';
  const question = rawUrl.indexOf('?');
  return question === -1 ? '' : rawUrl.slice(question + 1);
}

async function steamCallback(deps: HttpDeps, appSecret: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { db, clock, config } = deps;
  const refuse = (reason: SteamRefusal) => refuseAttempt(request, reply, 'steam', reason);

  const now = clock.now();
  const check = checkSteamAssertion(rawQueryOf(request), { steamOpenIdUrl: config.steamOpenIdUrl, publicUrl: config.publicUrl, now });
  if (!check.ok) return check.reason === 'cancelled' ? cancelledAtProvider(request, reply, 'steam') : refuse(check.reason);

  // Refused before the session is touched, so a replayed assertion cannot spend a live attempt.
  if (await isOpenIdNonceUsed(db, check.responseNonce)) return refuse('nonce_replayed');

  const attempt = await takeLinkAttemptByState(db, clock, appSecret, 'steam', check.session);
  if (attempt.status === 'unknown') return refuse('session_unknown');
  if (attempt.status !== 'usable') return attemptSessionProblem(request, reply, 'steam', attempt.status);

  // Always asked of the configured endpoint, every time: only Steam can say the signature is its own.
  let valid: boolean;
  try {
    valid = await verifySteamAssertion(config.steamOpenIdUrl, check.openIdParams);
  } catch (err) {
    return providerUnreachable(request, reply, 'steam', err);
  }
  if (!valid) return refuse('not_valid');

  await deleteOpenIdNoncesSeenBefore(db, new Date(now.getTime() - NONCE_RETENTION_MS).toISOString());
  // The primary key decides between two requests racing with the same assertion.
  if (!(await recordOpenIdNonce(db, check.responseNonce, now.toISOString()))) return refuse('nonce_replayed');

  const profile = await steamProfileIfAvailable(deps, request, check.steamId);
  return finishLink(deps, request, reply, {
    sessionId: attempt.session.id,
    customerId: attempt.session.customerId,
    provider: 'steam',
    account: { id: check.steamId, username: profile?.username ?? null, avatar: profile?.avatar ?? null },
  });
}

/** The Steam name and avatar, when a Steam API key is configured and Steam answers. */
async function steamProfileIfAvailable(
  { config }: HttpDeps,
  request: FastifyRequest,
  steamId: string,
): Promise<{ username: string | null; avatar: string | null } | null> {
  if (!config.steamApiKey) return null;
  try {
    return await fetchSteamProfile({ steamApiUrl: config.steamApiUrl, apiKey: config.steamApiKey, steamId });
  } catch (err) {
    // The sign-in itself is verified; a name and avatar can wait for the next link.
    if (!(err instanceof ProviderError)) throw err;
    request.log.warn({ err, provider: 'steam' }, 'steam profile unavailable; linking without name and avatar');
    return null;
  }
}
