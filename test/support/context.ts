import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { createLogger, type Logger } from '../../src/logger.js';
import { ManualClock } from '../../src/shared/clock.js';
import { openMigratedDatabase, type Db, type OpenedDatabase } from '../../src/store/database.js';
import { startBot, type BotOptions, type Harness } from './bot-harness.js';
import { openTestDatabase } from './database.js';

/** Where every test's clock stands unless the test says otherwise. */
export const TEST_NOW = '2026-11-22T12:00:00.000Z';

export interface TestContextOptions {
  now?: string | Date;
  /**
   * A migrated SQLite file at this path instead of the test database, for what only a file has
   * (backups, a second connection, the events thread). Without it: SQLite in memory, or a schema
   * of its own on PostgreSQL when TEST_DATABASE_URL is set (see database.ts).
   */
  databasePath?: string;
}

/** What a test of the store, the domain or the bot starts from. */
export interface TestContext {
  db: Db;
  clock: ManualClock;
  /** Logs nothing: a test that reads the logs makes a logger of its own. */
  logger: Logger;
  /** Ends everything the context opened (with Discord, the bot first, then the database). */
  close(): Promise<void>;
}

export type DiscordContextOptions = TestContextOptions & { discord: true | BotOptions };

/** A migrated SQLite file in a temporary folder of its own, removed on close (whatever TEST_DATABASE_URL says). */
export type FileContextOptions = Omit<TestContextOptions, 'databasePath'> & { onDisk: true };

export interface FileTestContext extends TestContext {
  /** The database file (its write-ahead log beside it, `-wal`). */
  path: string;
  /** The file's own connection, for what Kysely does not cover (checkpoints, pragmas). */
  sqlite: OpenedDatabase['sqlite'];
}

/** A migrated database and a fixed clock; with `discord`, the local Discord and the bot logged in to it. */
export async function openTestContext(options: DiscordContextOptions): Promise<Harness>;
export async function openTestContext(options: FileContextOptions): Promise<FileTestContext>;
export async function openTestContext(options?: TestContextOptions): Promise<TestContext>;
export async function openTestContext(options: TestContextOptions & { discord?: true | BotOptions; onDisk?: true } = {}): Promise<TestContext | Harness> {
  if (options.onDisk) return openFileContext(options);
  const { db } = options.databasePath === undefined ? await openTestDatabase() : await openMigratedDatabase(options.databasePath);
  const context: TestContext = {
    db,
    clock: new ManualClock(options.now ?? TEST_NOW),
    logger: createLogger('silent'),
    close: () => db.destroy(),
  };
  if (options.discord === undefined) return context;
  try {
    return await startBot(context, options.discord === true ? {} : options.discord);
  } catch (error) {
    await context.close();
    throw error;
  }
}

async function openFileContext(options: TestContextOptions): Promise<FileTestContext> {
  const dir = mkdtempSync(join(tmpdir(), 'test-store-'));
  const path = join(dir, 'customers.db');
  const { db, sqlite } = await openMigratedDatabase(path);
  return {
    db,
    clock: new ManualClock(options.now ?? TEST_NOW),
    logger: createLogger('silent'),
    path,
    sqlite,
    async close() {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh context for every test of the file (or of the describe block it is called in), closed
 * after the test. `onOpen` receives it before each test, to keep what the tests use and to add
 * the rows they all share; a file's own afterEach hooks run before the context is closed.
 */
export function useTestContext(options: DiscordContextOptions, onOpen: (context: Harness) => unknown): void;
export function useTestContext(options: FileContextOptions, onOpen: (context: FileTestContext) => unknown): void;
export function useTestContext(options: TestContextOptions, onOpen: (context: TestContext) => unknown): void;
export function useTestContext(onOpen: (context: TestContext) => unknown): void;
export function useTestContext(
  first: TestContextOptions | ((context: Harness & FileTestContext) => unknown),
  second?: (context: Harness & FileTestContext) => unknown,
): void {
  const options = typeof first === 'function' ? {} : first;
  const onOpen = typeof first === 'function' ? first : second;
  let current: TestContext | undefined;
  afterEach(async () => {
    const closing = current;
    current = undefined;
    await closing?.close();
  });
  beforeEach(async () => {
    current = await openTestContext(options);
    // A Harness or a file's context exactly when the options ask for one, as the overloads promise.
    await onOpen?.(current as Harness & FileTestContext);
  });
}
