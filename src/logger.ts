import { randomFillSync } from 'node:crypto';
import { destination as pinoDestination, pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** The process's own log stream (stdout, or the sandbox's file): asynchronous, so it must be closed before exiting. */
export type LogDestination = ReturnType<typeof pinoDestination>;

/** What the HTTP framework hands the request serializer; only what a log line shows is read. */
interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  params?: unknown;
  socket?: { remotePort?: number };
}

/** Route parameters that are credentials in themselves (a link page's token). */
const SECRET_PARAMETER = /token|secret|sig/i;

/**
 * A request's URL as the log may show it: every query value (OAuth codes and states, download
 * signatures) and every credential in the path replaced by its name.
 */
export function urlForLog(url: string, params?: unknown): string {
  const [path = '', query] = url.split(/\?(.*)/s, 2);
  let shown = path;
  if (params !== null && typeof params === 'object') {
    for (const [name, value] of Object.entries(params as Record<string, unknown>)) {
      if (typeof value !== 'string' || value === '' || !SECRET_PARAMETER.test(name)) continue;
      shown = shown.split('/').map((segment) => (safeDecode(segment) === value ? `:${name}` : segment)).join('/');
    }
  }
  if (query === undefined) return shown;
  const names = query.split('&').filter(Boolean).map((pair) => `${pair.split('=', 1)[0] ?? ''}=…`);
  return `${shown}?${names.join('&')}`;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: {
        req: (req: LoggedRequest) => ({
          method: req.method,
          url: urlForLog(req.url ?? '', req.params),
          host: req.host,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
      // Nothing logs these today; should a header set or an object holding a secret ever be
      // logged, the value still stays out of the log.
      redact: {
        paths: ['authorization', 'cookie', 'password', 'token', 'secret', '*.authorization', '*.cookie', '*.password', '*.token', '*.secret', 'req.headers.authorization', 'req.headers.cookie'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** Stdout, or `file` (its folder created when missing). */
export function openLogDestination(file?: string): LogDestination {
  return pinoDestination(file === undefined ? { fd: process.stdout.fd || 1, sync: false } : { dest: file, mkdir: true, sync: false });
}

/**
 * Resolves once everything logged to `destination` has been written and it is closed (or after
 * `timeoutMs`, should the disk not answer). process.exit does not wait for an asynchronous
 * destination: without this, the last lines before an exit (often the ones saying why) are
 * lost, and an exit before a log file is open throws from pino's exit hook.
 */
export function closeLogDestination(destination: LogDestination, timeoutMs = 3_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    destination.once('close', done);
    destination.once('error', done);
    destination.end();
  });
}

const REFERENCE_BYTES = 3;
// Every HTTP request gets a reference (its request id): drawing them from a pool refilled now and
// then costs a fraction of one randomBytes call each.
const referencePool = Buffer.alloc(REFERENCE_BYTES * 1024);
let referenceOffset = referencePool.length;

/** A short id staff can quote ("ref k3f9x2") that points at one logged failure. */
export function newReference(): string {
  if (referenceOffset + REFERENCE_BYTES > referencePool.length) {
    randomFillSync(referencePool);
    referenceOffset = 0;
  }
  const reference = referencePool.toString('hex', referenceOffset, referenceOffset + REFERENCE_BYTES);
  referenceOffset += REFERENCE_BYTES;
  return reference;
}
