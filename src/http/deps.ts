import type { Config } from '../config.js';
import type { Clock } from '../shared/clock.js';
import type { CustomerLinkedHook } from '../domain/linking/link-account.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import type { EventStore } from '../store/purchase-event.repository.js';

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
  /** Where verified purchase events are stored before their 200; by default the store itself. */
  events?: EventStore;
  /**
   * Called inside the transaction that links a Discord or Steam account to a customer (the
   * composition root wires it to role sync: grant to the new id, revoke from a replaced one).
   * Throwing rolls the link back.
   */
  onCustomerLinked?: CustomerLinkedHook;
}
