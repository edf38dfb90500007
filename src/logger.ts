import { randomFillSync } from 'node:crypto';
import { destination as pinoDestination, pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** The process's own log stream (stdout, or the sandbox's file): asynchronous, so it must be closed before exiting. */
export type LogDestination = ReturnType<typeof pinoDestination>;

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
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
