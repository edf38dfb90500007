import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { closeIntakeFile, countIntake, intakePathFor, IntakeWriter, moveAllIntakeIntoStore, openIntakeFile } from '../store/purchase-event-intake.js';
import { hasDueInboundEvent, type EventStore } from '../store/purchase-event.repository.js';
import type { Worker } from './worker.js';

export interface InboundThreadData {
  databasePath: string;
  intakePath: string;
  holder: string;
  storeCurrency: string | undefined;
  intervalMs: number;
  idleExitMs: number;
  logLevel: string;
}

export type ToInboundThread = { type: 'wake' } | { type: 'stop' };
type FromInboundThread = { type: 'log'; line: string } | { type: 'handled'; count: number };

export interface InboundThreadOptions {
  /** The SQLite store's file; the thread opens its own connection to it. */
  databasePath: string;
  /** The main connection, for the acknowledging side's duplicate check. */
  db: Db;
  clock: Clock;
  logger: Logger;
  holder: string;
  storeCurrency: string | undefined;
  intervalMs: number;
  /** The thread ends after this long without work; default 30 s. */
  idleExitMs?: number;
  /** Events were applied: their role jobs, webhook deliveries and alerts are waiting. */
  onHandled: () => void;
}

/** A crashed thread is started again after this long (it is the only thing applying events). */
const RESTART_DELAY_MS = 1_000;
const IDLE_EXIT_MS = 30_000;

/**
 * Purchase events on a SQLite store, off the event loop: the webhook's 200 waits only for an
 * append to the intake file (see purchase-event-intake.ts), and a thread with its own connection moves
 * the events into the store and applies them. Returns the worker handle (wake/stop, like the
 * in-process worker) and the event store the webhook route writes to.
 *
 * The thread runs while there is work: it starts on the first event (or when a retry falls due,
 * checked here every `intervalMs`), and ends after `idleExitMs` without any: a thread has a V8
 * heap of its own and loads the domain code again (under tsx, its loader too), memory an idle bot
 * should not hold (bench/results.md).
 */
export function startInboundEventThread(options: InboundThreadOptions): InboundThread {
  const { logger, db, clock } = options;
  const intakePath = intakePathFor(options.databasePath);
  const intake = openIntakeFile(intakePath);
  // The thread checkpoints the intake log; this connection does so only if it falls far behind.
  intake.sqlite.pragma('wal_autocheckpoint = 10000');
  const data: InboundThreadData = {
    databasePath: options.databasePath,
    intakePath,
    holder: options.holder,
    storeCurrency: options.storeCurrency,
    intervalMs: options.intervalMs,
    idleExitMs: options.idleExitMs ?? IDLE_EXIT_MS,
    logLevel: logger.level,
  };

  let stopping = false;
  let thread: Thread | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = () => {
    const started = startThread(data);
    thread = started;
    started.on('message', (message: FromInboundThread) => {
      if (message.type === 'handled') options.onHandled();
      else forwardLog(logger, message.line);
    });
    started.on('error', (error) => logger.error({ err: error }, 'the purchase events thread failed'));
    exited = new Promise((resolve) => {
      started.once('exit', (code) => {
        thread = undefined;
        resolve();
        if (stopping) return;
        if (code === 0) {
          // It ended for want of work; an event acknowledged while it was ending is still waiting.
          startIfWork();
          return;
        }
        logger.error({ code }, 'the purchase events thread ended; starting it again');
        setTimeout(startIfWork, RESTART_DELAY_MS).unref();
      });
    });
  };
  const hasWork = async () => countIntake(intake) > 0 || (await hasDueInboundEvent(db, clock));
  function startIfWork(): void {
    if (thread || stopping) return;
    hasWork()
      .then((work) => {
        if (work && !thread && !stopping) start();
      })
      .catch((error: unknown) => logger.error({ err: error }, 'checking for purchase events to apply failed'));
  }
  // Retries fall due without anyone waking the thread; events left by a crash are there at start.
  const poll = setInterval(startIfWork, options.intervalMs);
  poll.unref();
  startIfWork();

  return {
    events: new IntakeWriter(intake, db, clock),
    isThreadRunning: () => thread !== undefined,
    worker: {
      wake: () => {
        if (thread) thread.postMessage({ type: 'wake' } satisfies ToInboundThread);
        else if (!stopping) start();
      },
      async stop() {
        if (stopping) return;
        stopping = true;
        clearInterval(poll);
        thread?.postMessage({ type: 'stop' } satisfies ToInboundThread);
        await exited;
        // Whatever was acknowledged while no thread ran goes into the store before the bot ends.
        await moveAllIntakeIntoStore(intake, db);
        closeIntakeFile(intake);
      },
    },
  };
}

export interface InboundThread {
  worker: Worker;
  events: EventStore;
  /** Whether the thread is up now (it ends when idle). */
  isThreadRunning(): boolean;
}

/**
 * Starts the entry beside this module, in the same form (.ts under tsx and the tests, .js if
 * built). A thread starts without the parent's TypeScript loader, and on Node 20 tsx given as
 * `--import` to a thread does not reach its entry: when running sources the thread registers
 * tsx through its API first, then imports the entry.
 */
function startThread(data: InboundThreadData): Thread {
  const entry = new URL(`./purchase-event-thread.entry${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
  if (!entry.pathname.endsWith('.ts')) return new Thread(entry, { workerData: data });
  // The package's "./esm/api" export, for import.
  const tsxApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Thread(bootstrap, { eval: true, workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
}

/** The thread logs through this process's logger, so its lines go where the rest go. */
function forwardLog(logger: Logger, line: string): void {
  try {
    const { level, time: _time, msg, ...fields } = JSON.parse(line) as { level: number; time?: unknown; msg?: string } & Record<string, unknown>;
    const label = logger.levels.labels[level] ?? 'info';
    const log = (logger as unknown as Record<string, (obj: object, msg?: string) => void>)[label];
    log?.call(logger, { ...fields, thread: 'inbound-events' }, msg);
  } catch {
    logger.warn({ line }, 'unreadable log line from the purchase events thread');
  }
}
