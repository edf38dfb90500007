import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler, preHandlerAsyncHookHandler, RouteOptions } from 'fastify';
import { authenticateToken, type ApiScope, type ApiTokenInfo } from '../domain/api-access/tokens.js';
import type { Clock } from '../shared/clock.js';
import type { Actor } from '../domain/customers/types.js';
import type { Db } from '../store/database.js';
import { sendJsonError } from './http-errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The token that authenticated this API request; set by the API's onRequest hook. */
    apiToken: ApiTokenInfo | null;
  }
}

export const UNAUTHORIZED_MESSAGE = 'Invalid or missing API token';
const WINDOW_MS = 60_000;
// Above this many tracked tokens, finished windows are dropped (the map cannot grow without bound).
const PRUNE_ABOVE = 1_000;

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** When the current window ends (ms since the epoch). */
  resetAtMs: number;
}

/**
 * A fixed 60-second window per token, in memory: simple, and exact enough for "N requests a
 * minute". A burst of up to 2N across a window boundary is possible and acceptable here. Counts
 * are per process: a deployment with several API processes gives each its own window.
 */
export class FixedWindowRateLimiter {
  private readonly windows = new Map<string, { startMs: number; count: number }>();
  constructor(private readonly windowMs = WINDOW_MS) {}

  hit(key: string, limit: number, nowMs: number): RateLimitDecision {
    let window = this.windows.get(key);
    if (!window || nowMs - window.startMs >= this.windowMs || nowMs < window.startMs) {
      if (this.windows.size >= PRUNE_ABOVE) this.prune(nowMs);
      window = { startMs: nowMs, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    return {
      allowed: window.count <= limit,
      limit,
      remaining: Math.max(0, limit - window.count),
      resetAtMs: window.startMs + this.windowMs,
    };
  }

  private prune(nowMs: number): void {
    for (const [key, window] of this.windows) {
      if (nowMs - window.startMs >= this.windowMs) this.windows.delete(key);
    }
  }
}

/** Who an API request acts as, for the activity log. */
export function apiActor(token: ApiTokenInfo): Actor {
  return { id: `api_token:${token.id}`, name: `API token "${token.name}"` };
}

/** The token of a request that passed `authenticate` (routes behind requireScope always have one). */
export function tokenOf(request: FastifyRequest): ApiTokenInfo {
  if (!request.apiToken) throw new Error('route is not behind the API token check');
  return request.apiToken;
}

function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  return match?.[1] ?? null;
}

function unauthorized(reply: FastifyReply): FastifyReply {
  return sendJsonError(reply.header('www-authenticate', 'Bearer'), 401, UNAUTHORIZED_MESSAGE);
}

export interface ApiAuth {
  /** onRequest hook: 401 without a valid token, then 429 over the token's rate limit. */
  authenticate: onRequestAsyncHookHandler;
  /** preHandler: 403 unless the request's token has `scope`. Every API route declares one. */
  requireScope(scope: ApiScope): preHandlerAsyncHookHandler;
  /** onRoute hook: refuses, at start-up, an API route that declares no scope. */
  assertRouteHasScope(route: RouteOptions): void;
}

export function createApiAuth(deps: { db: Db; clock: Clock }, limiter = new FixedWindowRateLimiter()): ApiAuth {
  const scopeChecks = new WeakSet<object>();

  const authenticate: onRequestAsyncHookHandler = async (request, reply) => {
    const plaintext = bearerToken(request.headers.authorization);
    // Every refusal says the same thing: which of unknown, revoked or expired it was is for the
    // token's owner to find in the token list, not for whoever holds the string.
    if (plaintext === null) return unauthorized(reply);
    const result = await authenticateToken(deps.db, deps.clock, plaintext);
    if (!result.ok) return unauthorized(reply);
    request.apiToken = result.token;

    const nowMs = deps.clock.now().getTime();
    const rate = limiter.hit(String(result.token.id), result.token.rateLimitPerMinute, nowMs);
    reply.header('x-ratelimit-limit', String(rate.limit));
    reply.header('x-ratelimit-remaining', String(rate.remaining));
    reply.header('x-ratelimit-reset', String(Math.ceil(rate.resetAtMs / 1000)));
    if (!rate.allowed) {
      const retryAfter = Math.max(1, Math.ceil((rate.resetAtMs - nowMs) / 1000));
      reply.header('retry-after', String(retryAfter));
      return sendJsonError(reply, 429, `Rate limit of ${rate.limit} requests per minute exceeded; retry in ${retryAfter} s.`);
    }
  };

  const requireScope = (scope: ApiScope): preHandlerAsyncHookHandler => {
    const check: preHandlerAsyncHookHandler = async (request, reply) => {
      if (!request.apiToken) return unauthorized(reply);
      if (!request.apiToken.scopes.includes(scope)) {
        return sendJsonError(reply, 403, `Token does not have the required scope: ${scope}`);
      }
    };
    scopeChecks.add(check);
    return check;
  };

  const assertRouteHasScope = (route: RouteOptions): void => {
    const handlers = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    if (!handlers.some((h: object) => scopeChecks.has(h))) {
      throw new Error(`API route ${String(route.method)} ${route.url} declares no scope (add preHandler: auth.requireScope(…))`);
    }
  };

  return { authenticate, requireScope, assertRouteHasScope };
}
