import SQLite from 'better-sqlite3';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { readWaitingIntake, type IntakeRow } from './purchase-event-intake.js';

export interface BackupOptions {
  /** Pages copied per step while nobody writes; the bot keeps writing between steps. Default 256 (1 MiB). */
  pagesPerStep?: number;
  /** Restarts (the source changed between steps) tolerated before the rest is copied in one step. Default 3. */
  maxRestarts?: number;
}

export interface BackupResult {
  path: string;
  bytes: number;
  pages: number;
  steps: number;
  /** Times SQLite started over because the bot wrote to the database between two steps. */
  restarts: number;
  /** The copy's `PRAGMA integrity_check`: "ok" or the first problems found. */
  integrity: string;
  durationMs: number;
}

/**
 * Copies a live SQLite database to `target` with SQLite's online backup API, on a connection of
 * its own, while the bot keeps writing. The copy is one consistent snapshot of the database.
 *
 * The backup API pages through the file a step at a time and starts over when another connection
 * changed the database between two steps. The bot writes all the time, so after a few restarts
 * the rest is copied in a single step: in WAL mode that step is one read transaction, which sees
 * a snapshot and never blocks the bot's writes (only checkpoints wait for it). The copy is written
 * under a temporary name, checked with `integrity_check`, and renamed into place; an existing
 * `target` is never overwritten. Purchase events acknowledged but still in the intake file are
 * added to the copy's `inbound_events`, as pending.
 */
export async function backupDatabaseFile(source: string, target: string, options: BackupOptions = {}): Promise<BackupResult> {
  if (!existsSync(source)) throw new Error(`there is no database at ${source}`);
  if (existsSync(target)) throw new Error(`${target} already exists; choose another name`);
  const pagesPerStep = options.pagesPerStep ?? 256;
  const maxRestarts = options.maxRestarts ?? 3;
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });

  const started = Date.now();
  // Acknowledged events still waiting in the intake file belong in the copy. Read before the
  // snapshot: whatever leaves the intake file meanwhile is in the store by then.
  const waiting = readWaitingIntake(source);
  // Read-only: a backup must never write to the live database (not even a checkpoint).
  const connection = new SQLite(source, { readonly: true, fileMustExist: true });
  let steps = 0;
  let restarts = 0;
  let pages = 0;
  try {
    connection.pragma('busy_timeout = 5000');
    let lastRemaining = Number.POSITIVE_INFINITY;
    const result = await connection.backup(partial, {
      progress: ({ totalPages, remainingPages }) => {
        steps++;
        pages = totalPages;
        if (remainingPages > lastRemaining) restarts++;
        lastRemaining = remainingPages;
        return restarts >= maxRestarts ? 0x7fffffff : pagesPerStep;
      },
    });
    pages = result.totalPages;
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    connection.close();
  }

  let integrity: string;
  const copy = new SQLite(partial, { fileMustExist: true });
  try {
    addWaitingEvents(copy, waiting);
    integrity = String(copy.pragma('integrity_check', { simple: true }));
    // The copy is a standalone file: fold any log into it so it is complete without a -wal beside it.
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
  if (integrity !== 'ok') {
    rmSync(partial, { force: true });
    throw new Error(`the copy failed its integrity check: ${integrity}`);
  }
  renameSync(partial, target);
  return { path: target, bytes: statSync(target).size, pages, steps, restarts, integrity, durationMs: Date.now() - started };
}

function addWaitingEvents(copy: SQLite.Database, waiting: readonly IntakeRow[]): void {
  const insert = copy.prepare(
    `INSERT INTO inbound_events (id, event_type, payload, signature_scheme, received_at, status, attempts, next_attempt_at)
     VALUES (?, ?, ?, ?, ?, 'pending', 0, ?) ON CONFLICT (id) DO NOTHING`,
  );
  copy.transaction(() => {
    for (const e of waiting) insert.run(e.id, e.eventType, e.payload, e.scheme, e.receivedAt, e.receivedAt);
  })();
}

/** `customers-2026-11-22T14-05-09Z.db`: sortable, and safe in every file system. */
export function backupFileName(databasePath: string, at: Date): string {
  const base = (databasePath.split(/[\\/]/).pop() ?? 'customers.db').replace(/\.(db|sqlite3?)$/i, '') || 'customers';
  return `${base}-${at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-')}.db`;
}
