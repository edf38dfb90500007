import { sql } from 'kysely';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from './database.js';

export interface WalCheckpointer {
  stop(): Promise<void>;
}

export interface WalCheckpointerOptions {
  /** How often the log is copied into the database file; default 200 ms. */
  intervalMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * The main connection's own checkpoint waits this many pages (~400 MB) of log. The thread copies
 * pages into the database file as they come, but under a steady stream of writes its checkpoint
 * is never complete at the moment a write begins, so the log never starts over from the top; only
 * a checkpoint on the writing connection itself finishes one, and its fsync of the database file
 * stalls the event loop. A lower threshold brings that stall often enough under a steady stream of
 * purchase events to set the acknowledgement p99 (bench/results.md). Readers do not slow
 * down with a long log: pages the thread has already copied are read from the database file.
 * The log file keeps its largest size and is written over from the top when it starts over
 * (cutting it back would be one more stall on the writing connection); it goes when the bot stops.
 */
const FALLBACK_AUTOCHECKPOINT_PAGES = 100_000;
const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

// Plain CommonJS, run by the worker thread: its own connection, a passive checkpoint on a timer.
const CHECKPOINT_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = NORMAL');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (error) { parentPort.postMessage({ error: String(error) }); }
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); process.exit(0); });
`;

/**
 * Copies the write-ahead log into the database file from a worker thread with its own
 * connection, instead of letting the connection that commits do it. SQLite checkpoints on the
 * committing connection when the log passes 1,000 pages: under steady writes that is every few
 * dozen commits, each checkpoint fsyncing the database file inside some unlucky request, which
 * then waits for the disk (bench/results.md). A passive checkpoint runs beside the writer, so the
 * event loop never waits for it.
 *
 * SQLite files only: an in-memory database, or another dialect, gets a no-op.
 */
export async function startWalCheckpointer(db: Db, options: WalCheckpointerOptions = {}): Promise<WalCheckpointer> {
  const noop: WalCheckpointer = { stop: () => Promise.resolve() };
  let path: string | undefined;
  try {
    const { rows } = await sql<{ name: string; file: string }>`PRAGMA database_list`.execute(db);
    path = rows.find((r) => r.name === 'main')?.file;
  } catch {
    return noop;
  }
  if (!path) return noop;
  await sql`PRAGMA ${sql.raw(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`)}`.execute(db);
  const worker = new Worker(CHECKPOINT_THREAD, {
    eval: true,
    workerData: { path, intervalMs: options.intervalMs ?? 200, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
  });
  worker.unref();
  let stopped = false;
  const restore = async () => {
    await sql`PRAGMA ${sql.raw(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`)}`.execute(db).catch(() => undefined);
  };
  worker.on('message', (message: { error?: string }) => options.onError?.(new Error(`WAL checkpoint failed: ${message.error ?? 'unknown'}`)));
  worker.on('error', (error) => {
    options.onError?.(error);
    void restore();
  });
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      // An unreferenced thread would let the process end before it says it has exited.
      worker.ref();
      worker.postMessage('stop');
      await exited;
      await restore();
    },
  };
}
