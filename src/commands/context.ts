import type { Config } from '../config.js';
import type { Clock } from '../shared/clock.js';
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
  /**
   * Where exports too large for Discord wait behind a download link; default `data/exports`
   * beside the database (`exportsDirectoryFor(config.databasePath)`). The export cleanup worker
   * must be given the same directory.
   */
  exportsDir?: string | undefined;
  /** Largest export sent as a Discord upload; default DEFAULT_MAX_EXPORT_BYTES (10 MiB less headroom). */
  exportUploadLimitBytes?: number | undefined;
  /** Least time between progress edits of a running export; default 2 s. */
  exportProgressIntervalMs?: number | undefined;
}
