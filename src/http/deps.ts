import type { Config } from '../config.js';
import type { Clock } from '../domain/clock.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';

/** What HTTP routes may use; built by the composition root (or a test) and passed to createHttpApp. */
export interface HttpDeps {
  db: Db;
  clock: Clock;
  config: Readonly<Config>;
  logger: Logger;
  /** Nudges the background workers when a request stored new work for them. */
  wake: {
    inboundEvents(): void;
    webhookDeliveries(): void;
  };
}
