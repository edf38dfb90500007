import 'dotenv/config';
import { loadConfig, type Config } from '../config.js';
import { composeStoreEvent, signStoreEventRequest, STORE_EVENT_TYPES } from '../domain/purchases/compose.js';
import { systemClock } from '../shared/clock.js';
import { parseCommandArgs, printCliError, UsageError } from './cli-support.js';

const USAGE = `Usage:
  npm run store-event -- <type> [--customer <email or store customer id>] [--name "Alice"] [--discord <user id>]
      [--product <name, or the product id>] [--amount 9.99] [--currency EUR] [--order <order number>]
      [--subscription <id>] [--outcome won|lost] [--subject "…"]
      [--url http://127.0.0.1:3000/webhooks/store] [--secret <STORE_WEBHOOK_SECRET>] [--print]

Types: ${STORE_EVENT_TYPES.join(', ')}

Sends one signed purchase event, as the store does, to the bot's listener (PUBLIC_URL, else
127.0.0.1:HTTP_PORT) signed with STORE_WEBHOOK_SECRET; --url and --secret point it elsewhere.
--print shows the signed request (headers and body) instead of sending it.
Role rules name products by id: --product 1 is product 1, --product "VIP Rank" names it only.`;

const WEBHOOK_PATH = '/webhooks/store';

/** Where the bot listens: PUBLIC_URL when it is set, else this machine's HTTP_PORT. */
function defaultUrl(config: Readonly<Config>, env: NodeJS.ProcessEnv): string {
  const base = env.PUBLIC_URL?.trim() ? config.publicUrl : `http://127.0.0.1:${config.httpPort}`;
  return base + WEBHOOK_PATH;
}

function targetUrl(given: string | undefined, config: Readonly<Config>): URL {
  const text = given ?? defaultUrl(config, process.env);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url "${text}" is not a URL such as http://127.0.0.1:3000/webhooks/store`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url "${text}" must be http or https`);
  // A bare address means the listener's own path.
  if (url.pathname === '/') url.pathname = WEBHOOK_PATH;
  return url;
}

async function main(args: string[]): Promise<void> {
  const text = { type: 'string' } as const;
  const { values, positionals } = parseCommandArgs(args, {
    customer: text, name: text, discord: text, product: text, amount: text, currency: text,
    order: text, subscription: text, outcome: text, subject: text, url: text, secret: text,
    print: { type: 'boolean' },
  });
  const [type, extra] = positionals;
  if (type === undefined) throw new UsageError(`give the event type, one of ${STORE_EVENT_TYPES.join(', ')}`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);

  const config = loadConfig(process.env);
  const url = targetUrl(values.url, config);
  const secret = values.secret ?? config.storeWebhookSecret;
  if (secret === undefined) throw new UsageError('no signing secret: set STORE_WEBHOOK_SECRET or pass --secret');

  const now = systemClock.now();
  const event = composeStoreEvent(
    {
      type,
      customer: values.customer,
      customerName: values.name,
      discordId: values.discord,
      product: values.product,
      amount: values.amount,
      currency: values.currency,
      order: values.order,
      subscription: values.subscription,
      outcome: values.outcome,
      subject: values.subject,
    },
    now,
  );
  const request = signStoreEventRequest(event, secret, now);

  if (values.print) {
    const head = [`POST ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`)];
    process.stdout.write(`${head.join('\n')}\n\n${request.body}\n`);
    return;
  }

  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    throw new Error(`could not reach ${url.href} (${cause}); is the bot running there?`);
  }
  const answer = (await response.text()).replace(/\s+/g, ' ').trim();
  console.log(`HTTP ${response.status} ${answer} (${event.summary})`);
  if (!response.ok) process.exitCode = 1;
}

const args = process.argv.slice(2);
if (args[0] === 'help' || args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
} else {
  await main(args).catch((error: unknown) => printCliError(error, USAGE));
}
