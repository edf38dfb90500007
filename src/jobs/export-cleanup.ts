import type { Clock } from '../shared/clock.js';
import { deleteExpiredExports } from '../domain/exports/download-links.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { startWorker, type Worker } from './worker.js';

export interface ExportCleanupWorkerOptions {
  db: Db;
  clock: Clock;
  /** Where download files live (`exportsDirectoryFor(config.databasePath)`). */
  directory: string;
  logger: Logger;
  /** Default one hour: links last 24 hours, so a file outlives its link by an hour at most. */
  intervalMs?: number;
}

/** Deletes expired export files (and leftovers of a crash) now and then every hour. */
export function startExportCleanupWorker(options: ExportCleanupWorkerOptions): Worker {
  const { db, clock, directory, logger } = options;
  return startWorker({
    name: 'export-cleanup',
    logger,
    intervalMs: options.intervalMs ?? 60 * 60 * 1000,
    runOnce: async () => {
      const removed = await deleteExpiredExports(db, clock, directory);
      if (removed > 0) logger.info({ removed }, 'expired export files deleted');
      return removed;
    },
  });
}
