import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { BUILT_BOT_ENTRY } from '../support/bot-build.js';

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a configuration error');
}

describe('the configuration', () => {
  it('starts in sandbox mode with documented defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.discordToken).toBeUndefined();
    expect(config).toMatchObject({
      discordApiUrl: 'https://discord.com/api',
      databasePath: 'data/customers.db',
      httpHost: '127.0.0.1',
      httpPort: 3000,
      digestCron: '0 9 * * 1',
      storeTimeZone: 'UTC',
      atRiskDays: 90,
      storeCurrency: 'USD',
      staffRoleIds: [],
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('parses role lists, numbers and currencies', () => {
    const config = loadConfig({ STAFF_ROLE_IDS: '12345678901234567, 12345678901234568', AT_RISK_DAYS: '30', STORE_CURRENCY: 'eur', HTTP_PORT: '8080' });
    expect(config.staffRoleIds).toEqual(['12345678901234567', '12345678901234568']);
    expect(config.atRiskDays).toBe(30);
    expect(config.storeCurrency).toBe('EUR');
    expect(config.httpPort).toBe(8080);
  });

  it.each([
    [{ AT_RISK_DAYS: 'soon' }, /^AT_RISK_DAYS must be a whole number of days/],
    [{ HTTP_PORT: '70000' }, /^HTTP_PORT must be between 0 and 65535/],
    [{ STAFF_ROLE_IDS: 'moderators' }, /^STAFF_ROLE_IDS must be a comma-separated list of role ids/],
    [{ STORE_TIMEZONE: 'Europe/Atlantis' }, /^STORE_TIMEZONE must be an IANA time zone/],
    [{ STORE_CURRENCY: 'dollars' }, /^STORE_CURRENCY must be a three-letter ISO 4217 currency code/],
    [{ DISCORD_API_URL: 'discord' }, /^DISCORD_API_URL must be an http\(s\) URL/],
    [{ DISCORD_TOKEN: 'abc' }, /^DISCORD_GUILD_ID is required when DISCORD_TOKEN is set/],
    [{ APP_SECRET: 'short' }, /^APP_SECRET must be at least 32 characters/],
    [{ LOG_LEVEL: 'chatty' }, /^LOG_LEVEL must be one of/],
  ])('names the variable and the fix for %o', (env, expected) => {
    const message = errorOf(env);
    expect(message).toMatch(expected);
    expect(message.split('\n')).toHaveLength(1);
  });

  it.each([
    ['APP_SECRET', { APP_SECRET: 'short-secret-value' }, 'short-secret-value'],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://shop:hunter2-secret@db.example.com/shop' }, 'hunter2-secret'],
    ['DATABASE_URL', { DATABASE_URL: 'postgres://shop:pg-secret@[::1/shop' }, 'pg-secret'],
  ])('refuses a bad %s without showing its secret', (variable, env, secret) => {
    const message = errorOf(env);
    expect(message).toMatch(new RegExp(`^${variable}\\b`));
    expect(message).not.toContain(secret);
  });

  it('refuses a DATABASE_URL of a database it cannot use rather than taking it for a file name', () => {
    expect(errorOf({ DATABASE_URL: 'mysql://localhost/shop' })).toBe('DATABASE_URL must be a file path such as data/customers.db or a postgres:// URL (got a mysql: URL)');
    expect(loadConfig({ DATABASE_URL: 'sqlite://data/shop.db' }).databasePath).toBe('data/shop.db');
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@localhost/shop' }).databasePath).toBe('postgresql://u@localhost/shop');
  });

  it('stops start-up with one line naming the bad variable', () => {
    // As `npm start` runs it: the built bot under Node alone.
    const run = spawnSync(process.execPath, [BUILT_BOT_ENTRY], {
      env: { PATH: process.env.PATH, AT_RISK_DAYS: 'ninety', DOTENV_CONFIG_PATH: '/nonexistent/.env' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual(['Configuration error: AT_RISK_DAYS must be a whole number of days, e.g. 90 (got "ninety")']);
  });
});
