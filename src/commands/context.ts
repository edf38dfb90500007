import type { Config } from '../config.js';
import type { Clock } from '../domain/clock.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import type { PendingActions } from './pending-actions.js';

/** What every interaction handler may use: built once by the composition root, passed down. */
export interface BotDeps {
  db: Db;
  clock: Clock;
  config: Readonly<Config>;
  logger: Logger;
  /** Where exports are written before upload; files are removed after sending. */
  tempDir: string;
  pending: PendingActions;
  /** Wakes the role queue after role jobs were stored; absent when no role worker runs. */
  wakeRoleWorker?: (() => void) | undefined;
}
