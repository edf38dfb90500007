import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { runSandbox } from '../../src/sandbox/sandbox.js';
import type { ManualClock } from '../../src/shared/clock.js';
import type { Db } from '../../src/store/database.js';
import { openTestContext } from './context.js';

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
  /** Ends the database and removes the files the session saved; after exit, so the test can read the store first. */
  close: () => Promise<void>;
}

/** The sandbox on demo data in a test database, not listening, driven through its prompt. */
export async function startSandboxSession(): Promise<SandboxSession> {
  const context = await openTestContext({ now: '2026-11-22T12:00:00.000Z' });
  const { db, clock, logger } = context;
  const filesDirectory = mkdtempSync(join(tmpdir(), 'sandbox-files-'));
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: ':memory:' });
  const input = new PassThrough();
  const output = new PassThrough();
  let transcript = '';
  output.on('data', (chunk: Buffer) => (transcript += chunk.toString('utf8')));
  const done = runSandbox({ db, clock, config, logger, tempDir: '/tmp', input, output, listen: false, filesDirectory });
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
    close: async () => {
      await context.close();
      rmSync(filesDirectory, { recursive: true, force: true });
    },
  };
}
