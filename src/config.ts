import { z } from 'zod';

const snowflake = /^\d{17,20}$/;

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

function idList(what: string) {
  return z
    .string()
    .default('')
    .transform((raw, ctx) => {
      const ids = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const id of ids) {
        if (!snowflake.test(id)) {
          ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of ${what} ids (17–20 digits); "${id}" is not one` });
          return z.NEVER;
        }
      }
      return Object.freeze(ids);
    });
}

function httpUrl(fallback: string) {
  return z
    .string()
    .trim()
    .default(fallback)
    .refine((v) => {
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    }, 'must be an http(s) URL, e.g. ' + fallback)
    .transform((v) => v.replace(/\/+$/, ''));
}

const timeZone = z
  .string()
  .trim()
  .default('UTC')
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/Berlin or America/New_York');

const schema = z.object({
  DISCORD_TOKEN: optionalText,
  DISCORD_GUILD_ID: optionalText.refine((v) => v === undefined || snowflake.test(v), 'must be a guild id (17–20 digits)'),
  DISCORD_API_URL: httpUrl('https://discord.com/api'),
  DISCORD_CLIENT_ID: optionalText,
  DISCORD_CLIENT_SECRET: optionalText,
  STEAM_OPENID_URL: httpUrl('https://steamcommunity.com/openid/login'),
  STEAM_API_KEY: optionalText,
  STEAM_API_URL: httpUrl('https://api.steampowered.com'),
  PUBLIC_URL: httpUrl('http://localhost:3000'),
  HTTP_HOST: z.string().trim().min(1, 'must be a host name or address to bind, e.g. 127.0.0.1').default('127.0.0.1'),
  HTTP_PORT: z.coerce
    .number({ error: 'must be a port number between 0 and 65535' })
    .int('must be a whole port number')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(3000),
  DATABASE_URL: z
    .string()
    .trim()
    .default('data/customers.db')
    .refine((v) => v !== '' && !otherUrlScheme(v), 'must be a file path such as data/customers.db or a postgres:// URL'),
  STORE_WEBHOOK_SECRET: optionalText,
  APP_SECRET: optionalText.refine((v) => v === undefined || v.length >= 32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)'),
  STAFF_ROLE_IDS: idList('role'),
  ADMIN_ROLE_IDS: idList('role'),
  ALERT_CHANNEL_ID: optionalText.refine((v) => v === undefined || snowflake.test(v), 'must be a channel id (17–20 digits)'),
  ROLE_RULES_FILE: z.string().trim().min(1).default('config/role-rules.json'),
  TRUST_PROXY: z
    .string()
    .trim()
    .default('false')
    .transform((v, ctx): boolean | number | string[] => {
      if (v === '' || v === 'false' || v === '0') return false;
      if (v === 'true') return true;
      if (/^\d{1,2}$/.test(v)) return Number(v);
      const list = v.split(',').map((s) => s.trim()).filter(Boolean);
      if (list.every((a) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(a))) return list;
      ctx.addIssue({ code: 'custom', message: 'must be false, true, a number of proxy hops, or a comma-separated list of proxy addresses/CIDRs' });
      return z.NEVER;
    }),
  WEBHOOK_ALLOW_PRIVATE_URLS: z
    .enum(['true', 'false', '1', '0', ''], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  DIGEST_CHANNEL_ID: optionalText.refine((v) => v === undefined || snowflake.test(v), 'must be a channel id (17–20 digits)'),
  DIGEST_CRON: z
    .string()
    .trim()
    .default('0 9 * * 1')
    .refine((v) => v.split(/\s+/).length === 5 || v.split(/\s+/).length === 6, 'must be a cron expression such as "0 9 * * 1" (Monday 09:00)'),
  STORE_TIMEZONE: timeZone,
  AT_RISK_DAYS: z.coerce
    .number({ error: 'must be a whole number of days, e.g. 90' })
    .int('must be a whole number of days, e.g. 90')
    .min(1, 'must be between 1 and 3650 days')
    .max(3650, 'must be between 1 and 3650 days')
    .default(90),
  STORE_CURRENCY: z
    .string()
    .trim()
    .default('USD')
    .transform((v) => v.toUpperCase())
    .refine((v) => /^[A-Z]{3}$/.test(v), 'must be a three-letter ISO 4217 currency code such as USD or EUR'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { error: 'must be one of trace, debug, info, warn, error, fatal, silent' }).default('info'),
});

type Parsed = z.infer<typeof schema>;

/** Variables whose values are secrets: a refusal names them but never shows what was set. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['DISCORD_TOKEN', 'DISCORD_CLIENT_SECRET', 'STEAM_API_KEY', 'STORE_WEBHOOK_SECRET', 'APP_SECRET']);

/**
 * The scheme of a URL that is neither SQLite (a path, or `sqlite:`) nor PostgreSQL, such as
 * `mysql://…`; such a value would otherwise be taken for a relative file path.
 */
function otherUrlScheme(location: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(location)?.[1]?.toLowerCase();
  return scheme === undefined || scheme === 'sqlite' || scheme === 'postgres' || scheme === 'postgresql' ? undefined : scheme;
}

/** What a refusal may show of the value it refused: never a secret, never a URL's password. */
function shownValue(variable: string, raw: string | undefined): string {
  if (raw === undefined || SECRET_VARIABLES.has(variable)) return '';
  if (variable === 'DATABASE_URL') {
    const scheme = otherUrlScheme(raw.trim());
    return scheme === undefined ? '' : ` (got a ${scheme}: URL)`;
  }
  return ` (got "${raw.length > 40 ? raw.slice(0, 40) + '…' : raw}")`;
}

export interface Config {
  /** Absent: sandbox mode against the local Discord. */
  discordToken: string | undefined;
  guildId: string | undefined;
  discordApiUrl: string;
  discordClientId: string | undefined;
  discordClientSecret: string | undefined;
  steamOpenIdUrl: string;
  steamApiKey: string | undefined;
  steamApiUrl: string;
  publicUrl: string;
  httpHost: string;
  httpPort: number;
  /** A SQLite file path, or a postgres:// (postgresql://) URL for a PostgreSQL store. */
  databasePath: string;
  storeWebhookSecret: string | undefined;
  appSecret: string | undefined;
  staffRoleIds: readonly string[];
  adminRoleIds: readonly string[];
  /** Where role problems and purchases by banned customers are reported; falls back to the digest channel. */
  alertChannelId: string | undefined;
  /** Product → role rules applied at start-up (first set-up); staff manage them from Discord after. */
  roleRulesFile: string;
  /** Lets outgoing webhooks reach private, loopback and link-local addresses (local development only). */
  webhookAllowPrivateUrls: boolean;
  /** Which reverse proxies may set X-Forwarded-For (the customer's address for country and IP bans). */
  trustProxy: boolean | number | string[];
  digestChannelId: string | undefined;
  digestCron: string;
  storeTimeZone: string;
  atRiskDays: number;
  storeCurrency: string;
  logLevel: Parsed['LOG_LEVEL'];
}

/** A setting that is missing or malformed; its message is the one line shown at start-up. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment once into a frozen Config. Nothing else in the program reads
 * process.env. Throws ConfigError naming the first bad variable and how to fix it.
 */
export function loadConfig(env: Record<string, string | undefined>): Readonly<Config> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = String(issue?.path[0] ?? 'configuration');
    throw new ConfigError(`${variable} ${issue?.message ?? 'is invalid'}${shownValue(variable, env[variable])}`);
  }
  const e = result.data;
  if (e.DISCORD_TOKEN && !e.DISCORD_GUILD_ID) {
    throw new ConfigError("DISCORD_GUILD_ID is required when DISCORD_TOKEN is set: the store guild's id (Developer Mode → right-click the server → Copy Server ID)");
  }
  if (/^postgres(ql)?:/i.test(e.DATABASE_URL) && !URL.canParse(e.DATABASE_URL)) {
    throw new ConfigError('DATABASE_URL: not a valid PostgreSQL URL (postgres://user:password@host:5432/database)');
  }
  return Object.freeze({
    discordToken: e.DISCORD_TOKEN,
    guildId: e.DISCORD_GUILD_ID,
    discordApiUrl: e.DISCORD_API_URL,
    discordClientId: e.DISCORD_CLIENT_ID,
    discordClientSecret: e.DISCORD_CLIENT_SECRET,
    steamOpenIdUrl: e.STEAM_OPENID_URL,
    steamApiKey: e.STEAM_API_KEY,
    steamApiUrl: e.STEAM_API_URL,
    publicUrl: e.PUBLIC_URL,
    httpHost: e.HTTP_HOST,
    httpPort: e.HTTP_PORT,
    databasePath: e.DATABASE_URL.replace(/^sqlite:(\/\/)?/, ''),
    storeWebhookSecret: e.STORE_WEBHOOK_SECRET,
    appSecret: e.APP_SECRET,
    staffRoleIds: e.STAFF_ROLE_IDS,
    adminRoleIds: e.ADMIN_ROLE_IDS,
    alertChannelId: e.ALERT_CHANNEL_ID ?? e.DIGEST_CHANNEL_ID,
    roleRulesFile: e.ROLE_RULES_FILE,
    webhookAllowPrivateUrls: e.WEBHOOK_ALLOW_PRIVATE_URLS,
    trustProxy: e.TRUST_PROXY,
    digestChannelId: e.DIGEST_CHANNEL_ID,
    digestCron: e.DIGEST_CRON,
    storeTimeZone: e.STORE_TIMEZONE,
    atRiskDays: e.AT_RISK_DAYS,
    storeCurrency: e.STORE_CURRENCY,
    logLevel: e.LOG_LEVEL,
  });
}
