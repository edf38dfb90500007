import { describe, expect, it } from 'vitest';
import { startWorker } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/logger.js';

describe('the polling worker', () => {
  it('drains a backlog without waiting for the poll, and never runs two passes at once', async () => {
    let backlog = 5;
    let concurrent = 0;
    let maxConcurrent = 0;
    const worker = startWorker({
      name: 'test',
      logger: createLogger('silent'),
      intervalMs: 60_000,
      runOnce: async () => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await new Promise((r) => setTimeout(r, 5));
        concurrent--;
        if (backlog === 0) return 0;
        backlog--;
        return 1;
      },
    });
    worker.wake();
    worker.wake();
    await expect.poll(() => backlog).toBe(0);
    expect(maxConcurrent).toBe(1);
    await worker.stop();
  });

  it('is woken early when new work arrives, and survives a failing pass', async () => {
    let calls = 0;
    let failNext = true;
    const worker = startWorker({
      name: 'test',
      logger: createLogger('silent'),
      intervalMs: 60_000,
      runOnce: () => {
        calls++;
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('database is locked'));
        }
        return Promise.resolve(0);
      },
    });
    await expect.poll(() => calls).toBe(1);
    worker.wake();
    await expect.poll(() => calls).toBe(2);
    await worker.stop();
  });
});
