import { PassThrough } from 'node:stream';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { runSandbox } from '../../src/sandbox/sandbox.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { Db } from '../../src/store/database.js';
import { openTestDatabase } from './database.js';

export interface SandboxSession {
  db: Db;
  clock: ManualClock;
  /** Everything the prompt printed so far. */
  transcript: () => string;
  /** Types one line at the prompt. */
  type: (line: string) => void;
  waitFor: (text: string) => Promise<void>;
  /** Types exit and waits for the sandbox to end. */
  exit: () => Promise<void>;
}

/** The sandbox on demo data in a test database, not listening, driven through its prompt. */
export async function startSandboxSession(): Promise<SandboxSession> {
  const { db } = await openTestDatabase();
  const clock = new ManualClock('2026-11-22T12:00:00.000Z');
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: ':memory:' });
  const input = new PassThrough();
  const output = new PassThrough();
  let transcript = '';
  output.on('data', (chunk: Buffer) => (transcript += chunk.toString('utf8')));
  const done = runSandbox({ db, clock, config, logger: createLogger('silent'), tempDir: '/tmp', input, output, listen: false });
  const waitFor = async (text: string) => {
    await expect.poll(() => transcript, { timeout: 20_000 }).toContain(text);
  };
  await waitFor('> ');
  return {
    db,
    clock,
    transcript: () => transcript,
    type: (line) => input.write(`${line}\n`),
    waitFor,
    exit: async () => {
      input.write('exit\n');
      await done;
    },
  };
}
