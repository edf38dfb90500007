import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createHttpApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { BOT_BUILD_DIR } from '../support/bot-build.js';
import { openTestContext } from '../support/context.js';

describe('the log', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('never shows a link token, an OAuth code, a download signature or a credential of a request, even at debug level', async () => {
    const lines: string[] = [];
    const context = await openTestContext();
    const app = await createHttpApp({
      db: context.db,
      clock: context.clock,
      config: loadConfig({ LOG_LEVEL: 'debug' }),
      logger: createLogger('debug', { write: (line: string) => void lines.push(line) }),
      wake: { inboundEvents: () => undefined, webhookDeliveries: () => undefined },
    });
    cleanups.push(async () => {
      await app.close();
      await context.close();
    });

    await app.inject({ method: 'GET', url: '/link/link-token-secret-0123456789' });
    await app.inject({ method: 'GET', url: '/link/discord/callback?code=oauth-code-secret&state=oauth-state-secret' });
    await app.inject({ method: 'GET', url: '/downloads/17?expires=1900000000&sig=download-signature-secret' });
    await app.inject({ method: 'GET', url: '/api/v1/customers', headers: { authorization: 'Bearer api-token-secret', cookie: 'session=cookie-secret' } });

    const log = lines.join('');
    // The requests were logged (so the check below looks at something), by their routes.
    expect(log).toContain('/link/discord/callback');
    expect(log).toContain('/downloads/17');
    for (const secret of ['link-token-secret', 'oauth-code-secret', 'oauth-state-secret', 'download-signature-secret', 'api-token-secret', 'cookie-secret']) {
      expect(log).not.toContain(secret);
    }
  });

  it('keeps every line logged to a file just before the process exits, even one exiting before the file is open', async () => {
    const home = mkdtempSync(join(tmpdir(), 'log-flush-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const file = join(home, 'bot.log');
    // The built logger, as the bot uses it on its way out after a failure at start-up.
    const script = `
      const { closeLogDestination, createLogger, openLogDestination } = await import(${JSON.stringify(join(process.cwd(), BOT_BUILD_DIR, 'src', 'logger.js'))});
      const logs = openLogDestination(${JSON.stringify(file)});
      const logger = createLogger('info', logs);
      for (let i = 0; i < 5000; i++) logger.info({ i }, 'line');
      logger.fatal('the reason');
      await closeLogDestination(logs);
      process.exit(1);
    `;
    const run = await new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('error', reject);
      child.once('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stderr });
      });
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(5001);
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ level: 60, msg: 'the reason' });
  });
});
