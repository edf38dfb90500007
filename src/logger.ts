import { randomFillSync } from 'node:crypto';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
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
