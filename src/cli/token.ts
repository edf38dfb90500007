import 'dotenv/config';
import { API_SCOPES, createApiToken, listApiTokens, revokeApiToken, type ApiTokenInfo } from '../domain/api-access/tokens.js';
import { parseBanDuration } from '../domain/bans/targets.js';
import { systemClock } from '../shared/clock.js';
import { UserError } from '../shared/errors.js';
import { cliActor, parseCommandArgs, positionalId, runCli, UsageError } from './cli-support.js';

const USAGE = `Usage:
  npm run token -- create --name "Checkout" --scopes customers:read,webhooks:write [--expires-in 90d] [--rate-limit 120]
  npm run token -- list
  npm run token -- revoke <id>

Scopes: ${API_SCOPES.join(', ')}.
The token is printed once, when it is created; only its hash is stored.`;

function parseExpiresIn(text: string): string | null {
  let ms: number | null;
  try {
    ms = parseBanDuration(text).ms;
  } catch {
    throw new UsageError(`--expires-in must be a length such as 30d, 12h, 2w or 1y, or "permanent" (got "${text}")`);
  }
  return ms === null ? null : new Date(systemClock.now().getTime() + ms).toISOString();
}

function parseRateLimit(text: string): number {
  if (!/^\d{1,6}$/.test(text)) throw new UsageError(`--rate-limit must be a whole number of requests per minute (got "${text}")`);
  return Number(text);
}

function describe(token: ApiTokenInfo): string {
  return [
    `#${token.id}`,
    `${token.prefix}…`,
    JSON.stringify(token.name),
    token.status,
    token.scopes.join(','),
    `${token.rateLimitPerMinute}/min`,
    `expires ${token.expiresAt ?? 'never'}`,
    `last used ${token.lastUsedAt ?? 'never'}`,
  ].join('  ');
}

const [command, ...rest] = process.argv.slice(2);

if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
  console.log(USAGE);
  if (command === undefined) process.exitCode = 1;
} else {
  await runCli(USAGE, async (db) => {
    const actor = cliActor();
    switch (command) {
      case 'create': {
        const { values, positionals } = parseCommandArgs(rest, {
          name: { type: 'string' },
          scopes: { type: 'string' },
          'expires-in': { type: 'string' },
          'rate-limit': { type: 'string' },
        });
        if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
        if (values.name === undefined) throw new UsageError('--name is required');
        if (values.scopes === undefined) throw new UsageError('--scopes is required');
        const { token, record } = await createApiToken(db, systemClock, {
          name: values.name,
          scopes: values.scopes.split(','),
          expiresAt: values['expires-in'] === undefined ? null : parseExpiresIn(values['expires-in']),
          rateLimitPerMinute: values['rate-limit'] === undefined ? undefined : parseRateLimit(values['rate-limit']),
          actor,
        });
        console.log(`Created API token #${record.id} ${JSON.stringify(record.name)}: ${record.scopes.join(', ')}; ${record.rateLimitPerMinute} requests/minute; expires ${record.expiresAt ?? 'never'}.`);
        console.log('Copy the token now: it is not stored and will not be shown again.');
        console.log(token);
        return;
      }
      case 'list': {
        const { positionals } = parseCommandArgs(rest, {});
        if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
        const tokens = await listApiTokens(db, systemClock);
        if (tokens.length === 0) console.log('No API tokens yet. Create one with: npm run token -- create --name … --scopes …');
        for (const token of tokens) console.log(describe(token));
        return;
      }
      case 'revoke': {
        const { positionals } = parseCommandArgs(rest, {});
        if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
        const id = positionalId(positionals[0], 'token');
        const before = (await listApiTokens(db, systemClock)).find((t) => t.id === id);
        if (!before) throw new UserError('token_not_found', `No API token has id ${id}.`);
        const token = await revokeApiToken(db, systemClock, id, actor);
        console.log(before.status === 'revoked' ? `API token #${id} was already revoked (${token.revokedAt}).` : `Revoked API token #${id} ${JSON.stringify(token.name)}; it stops working at once.`);
        return;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  });
}
