import { randomBytes } from 'node:crypto';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

/** A short id staff can quote ("ref k3f9x2") that points at one logged failure. */
export function newReference(): string {
  return randomBytes(4).toString('hex').slice(0, 6);
}
