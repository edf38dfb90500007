import { open } from 'node:fs/promises';

/** Flushes one file's written data to the disk (fdatasync), off the event loop. */
export type SyncFile = (path: string) => Promise<void>;

/**
 * fdatasync on libuv's thread pool. A missing file means the database is not in WAL mode (a build
 * with journal_mode=MEMORY, say): its NORMAL commits already synced what they had to.
 */
export const datasyncFile: SyncFile = async (path) => {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
};

/**
 * Makes a SQLite file's committed transactions durable by syncing its write-ahead log from the
 * thread pool, so the event loop goes on while the disk works. With synchronous=NORMAL a commit
 * writes its log frames without syncing them; once an fdatasync of the log that began after the
 * commit returns, the commit survives a power loss (a checkpoint that moved the frames into the
 * database file meanwhile synced that file first, and a log that started over had its header
 * synced). Callers waiting at the same moment share one sync: a sync already running may have
 * begun before their commit, so they wait for the next one, which then covers everyone queued.
 */
export class LogSync {
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  constructor(
    readonly logPath: string,
    private readonly syncFile: SyncFile = datasyncFile,
  ) {}

  /** Resolves once every commit made before this call is on disk. */
  sync(): Promise<void> {
    if (!this.#running) return this.#start();
    this.#next ??= this.#running.then(
      () => this.#startQueued(),
      () => this.#startQueued(),
    );
    return this.#next;
  }

  #startQueued(): Promise<void> {
    this.#next = undefined;
    return this.#start();
  }

  #start(): Promise<void> {
    const running = this.syncFile(this.logPath).finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }
}
