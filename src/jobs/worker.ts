import type { Logger } from '../logger.js';

export interface Worker {
  /** Run a pass soon (new work was just stored), instead of waiting for the next poll. */
  wake(): void;
  /** Finishes the pass in progress, then stops. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  name: string;
  logger: Logger;
  /** Poll interval when idle: catches work scheduled for later (retries with backoff). */
  intervalMs: number;
  /**
   * Does one batch of due work and returns how many items it handled; the worker loops
   * immediately while this is > 0, so a backlog drains without waiting for the poll.
   */
  runOnce: () => Promise<number>;
}

/**
 * A single-flight polling loop: never two passes at once, woken early by `wake()`, and a failed
 * pass is logged and retried on the next tick instead of killing the process.
 */
export function startWorker(options: WorkerOptions): Worker {
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(tick, ms);
    timer.unref();
  };

  const pass = async () => {
    try {
      for (;;) {
        again = false;
        const handled = await options.runOnce();
        if (stopped || (handled === 0 && !again)) break;
      }
    } catch (error) {
      options.logger.error({ err: error, worker: options.name }, 'worker pass failed');
    }
  };

  function tick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = pass().finally(() => {
      running = undefined;
      schedule(options.intervalMs);
    });
  }

  schedule(0);
  return {
    wake: () => {
      if (running) again = true;
      else schedule(0);
    },
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
