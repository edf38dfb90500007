/**
 * The whole bot (startServices: Discord client, HTTP listener, workers) in its own process, so
 * its memory can be measured alone and the load generator and the local Discord do not share its
 * event loop. Driven over IPC by bench/run.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { destination } from 'pino';
import { loadConfig } from '../../src/config.js';
import { systemClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/logger.js';
import { startServices } from '../../src/services.js';
import { openStoreDatabase } from '../../src/store/database.js';

export interface BotChildOptions {
  /** DATABASE_URL: the SQLite file or the PostgreSQL work database's URL. */
  dbPath: string;
  apiUrl: string;
  token: string;
  guildId: string;
  staffRoleId: string;
  adminRoleId: string;
  webhookSecret: string;
  logPath: string;
}

export type BotChildMessage =
  | { type: 'ready'; httpUrl: string }
  | { type: 'memory'; rssMb: number; heapMb: number; detail: string }
  | { type: 'stopped' };
export type BotParentMessage = { type: 'memory' } | { type: 'stop' };

const gc = (globalThis as { gc?: () => void }).gc;

if (process.send && process.argv[2] === '--bot') {
  const options = JSON.parse(process.argv[3] ?? '{}') as BotChildOptions;
  const send = (message: BotChildMessage) => process.send?.(message);
  const config = loadConfig({
    DATABASE_URL: options.dbPath,
    DISCORD_TOKEN: options.token,
    DISCORD_GUILD_ID: options.guildId,
    DISCORD_API_URL: options.apiUrl,
    STORE_WEBHOOK_SECRET: options.webhookSecret,
    STAFF_ROLE_IDS: options.staffRoleId,
    ADMIN_ROLE_IDS: options.adminRoleId,
    APP_SECRET: 'bench-app-secret-0123456789abcdef0123456789',
    LOG_LEVEL: 'warn',
  });
  const logger = createLogger('warn', destination({ dest: options.logPath, mkdir: true, sync: false }));
  const db = openStoreDatabase(options.dbPath);
  const services = await startServices({
    db,
    clock: systemClock,
    config,
    logger,
    tempDir: mkdtempSync(join(tmpdir(), 'bench-bot-')),
    discord: { token: options.token, apiUrl: options.apiUrl, guildId: options.guildId },
    listen: { host: '127.0.0.1', port: 0 },
  });
  send({ type: 'ready', httpUrl: services.httpUrl ?? '' });
  process.on('message', (message: BotParentMessage) => {
    if (message.type === 'memory') {
      gc?.();
      const usage = process.memoryUsage();
      const mb = (n: number) => Math.round(n / 1024 / 1024);
      const spaces = getHeapSpaceStatistics()
        .map((s) => `${s.space_name.replace('_space', '')} ${mb(s.space_size)}`)
        .join(', ');
      const detail = `heap ${mb(usage.heapUsed)}/${mb(usage.heapTotal)} MB (${spaces}), external ${mb(usage.external)} MB`;
      send({ type: 'memory', rssMb: usage.rss / 1024 / 1024, heapMb: usage.heapUsed / 1024 / 1024, detail });
    } else if (message.type === 'stop') {
      void services
        .stop()
        .then(() => db.destroy())
        .then(() => {
          send({ type: 'stopped' });
          process.exit(0);
        });
    }
  });
}
