import { bucketHash, matchPath } from './http-util.js';
import type { LocalFault } from './types.js';

export class FaultTable {
  readonly #entries: Array<{ fault: LocalFault; left: number }> = [];

  add(fault: LocalFault): void {
    this.#entries.push({ fault, left: fault.times ?? 1 });
  }

  clear(): void {
    this.#entries.length = 0;
  }

  /** The first live fault matching the request, consuming one of its uses. */
  take(method: string, path: string): LocalFault | undefined {
    const index = this.#entries.findIndex(({ fault, left }) => {
      if (left <= 0) return false;
      if (fault.method !== undefined && fault.method.toUpperCase() !== method) return false;
      return typeof fault.route === 'string' ? matchPath(fault.route, path) !== null : fault.route.test(path);
    });
    const entry = this.#entries[index];
    if (!entry) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) this.#entries.splice(index, 1);
    return entry.fault;
  }
}

/** 403 50013, what Discord answers when the bot lacks a permission or the role sits above its own. */
export function missingPermissionsFault(route: string | RegExp, options: { method?: string; times?: number } = {}): LocalFault {
  return {
    ...options,
    route,
    status: 403,
    body: { message: 'Missing Permissions', code: 50013 },
  };
}

/**
 * A 429 carrying everything @discordjs/rest reads: without `Retry-After` it retries at once, in a
 * loop, and it treats the mere presence of `X-RateLimit-Global` as a global limit.
 */
export function rateLimitFault(
  route: string | RegExp,
  options: { retryAfterMs: number; global?: boolean; method?: string; times?: number },
): LocalFault {
  const seconds = (options.retryAfterMs / 1000).toFixed(3);
  const global = options.global ?? false;
  return {
    route,
    ...(options.method === undefined ? {} : { method: options.method }),
    ...(options.times === undefined ? {} : { times: options.times }),
    status: 429,
    headers: {
      'Retry-After': seconds,
      'X-RateLimit-Limit': '1',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': ((Date.now() + options.retryAfterMs) / 1000).toFixed(3),
      'X-RateLimit-Reset-After': seconds,
      'X-RateLimit-Bucket': bucketHash(String(route)),
      'X-RateLimit-Scope': global ? 'global' : 'user',
      ...(global ? { 'X-RateLimit-Global': 'true' } : {}),
    },
    body: { message: 'You are being rate limited.', retry_after: options.retryAfterMs / 1000, global },
  };
}

/** A 5xx; @discordjs/rest retries these (3 times by default) before giving up. */
export function serverErrorFault(route: string | RegExp, options: { status?: number; method?: string; times?: number } = {}): LocalFault {
  const { status = 500, ...rest } = options;
  return { ...rest, route, status, body: { message: `${status}: Internal Server Error`, code: 0 } };
}

/** No answer for `delayMs` (then a 500): past the client's request timeout this is a timeout. */
export function timeoutFault(route: string | RegExp, options: { delayMs: number; method?: string; times?: number }): LocalFault {
  const { delayMs, ...rest } = options;
  return { ...rest, route, status: 500, delayMs, body: { message: '500: timed out upstream', code: 0 } };
}
