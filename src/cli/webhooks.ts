import 'dotenv/config';
import { systemClock } from '../shared/clock.js';
import { UserError } from '../shared/errors.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookEndpoints,
  WEBHOOK_EVENT_TYPES,
  type WebhookEndpoint,
} from '../domain/webhooks/endpoints.js';
import { listWebhookDeliveries, redeliverWebhook } from '../domain/webhooks/outbox.js';
import { cliActor, parseCommandArgs, positionalId, runCli, UsageError } from './cli-support.js';

const USAGE = `Usage:
  npm run webhooks -- create --url https://example.com/hooks [--allow-private] [--description "CRM sync"] [--events ${WEBHOOK_EVENT_TYPES.join(',')}]
  npm run webhooks -- list
  npm run webhooks -- delete <id>
  npm run webhooks -- deliveries <id> [--page 2]
  npm run webhooks -- redeliver <deliveryId>

The signing secret is printed once, when the endpoint is created.
--allow-private lets this endpoint reach private, loopback and link-local addresses (local development).`;

function describe(endpoint: WebhookEndpoint): string {
  return [
    `#${endpoint.id}`,
    endpoint.enabled ? 'enabled' : `disabled (${endpoint.disabledReason ?? 'no reason recorded'})`,
    endpoint.url,
    endpoint.events.join(','),
    ...(endpoint.allowPrivate ? ['private addresses allowed'] : []),
    ...(endpoint.description ? [JSON.stringify(endpoint.description)] : []),
  ].join('  ');
}

function noExtra(positionals: string[], expected: number): void {
  if (positionals.length > expected) throw new UsageError(`unexpected argument "${positionals[expected]}"`);
}

const [command, ...rest] = process.argv.slice(2);

if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
  console.log(USAGE);
  if (command === undefined) process.exitCode = 1;
} else {
  await runCli(USAGE, async (db, config) => {
    const actor = cliActor();
    switch (command) {
      case 'create': {
        const { values, positionals } = parseCommandArgs(rest, {
          url: { type: 'string' },
          'allow-private': { type: 'boolean' },
          description: { type: 'string' },
          events: { type: 'string' },
        });
        noExtra(positionals, 0);
        if (values.url === undefined) throw new UsageError('--url is required');
        const { endpoint, secret } = await createWebhookEndpoint(
          db,
          systemClock,
          { url: values.url, events: values.events?.split(',').map((e) => e.trim()), description: values.description, allowPrivate: values['allow-private'] === true, actor },
          { allowPrivateGlobally: config.webhookAllowPrivateUrls },
        ).catch((error: unknown) => {
          if (error instanceof UserError && error.message.endsWith('public internet addresses.')) {
            throw new UserError(error.code, `${error.message} For a receiver on this machine or network, add --allow-private.`);
          }
          throw error;
        });
        console.log(`Created webhook endpoint ${describe(endpoint)}`);
        console.log('Signing secret (copy it now: it will not be shown again):');
        console.log(secret);
        return;
      }
      case 'list': {
        const { positionals } = parseCommandArgs(rest, {});
        noExtra(positionals, 0);
        const endpoints = await listWebhookEndpoints(db);
        if (endpoints.length === 0) console.log('No webhook endpoints yet. Create one with: npm run webhooks -- create --url https://…');
        for (const endpoint of endpoints) console.log(describe(endpoint));
        return;
      }
      case 'delete': {
        const { positionals } = parseCommandArgs(rest, {});
        noExtra(positionals, 1);
        const id = positionalId(positionals[0], 'webhook endpoint');
        await deleteWebhookEndpoint(db, systemClock, id, actor);
        console.log(`Deleted webhook endpoint #${id}; its pending deliveries are cancelled.`);
        return;
      }
      case 'deliveries': {
        const { values, positionals } = parseCommandArgs(rest, { page: { type: 'string' } });
        noExtra(positionals, 1);
        const id = positionalId(positionals[0], 'webhook endpoint');
        const page = values.page === undefined ? 1 : positionalId(values.page, 'page');
        const result = await listWebhookDeliveries(db, id, { page, perPage: 25 });
        if (result.total === 0) console.log(`Webhook endpoint #${id} has no deliveries yet.`);
        for (const d of result.rows) {
          const last = d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : (d.lastError ?? '-');
          const next = d.status === 'pending' && d.nextAttemptAt ? `  next ${d.nextAttemptAt}` : '';
          console.log(`${d.id}  ${d.createdAt}  ${d.eventType}  ${d.eventId}  ${d.status}  ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}  ${last}${next}`);
        }
        if (result.lastPage > 1) console.log(`Page ${result.page} of ${result.lastPage} (${result.total} deliveries); --page N for more.`);
        return;
      }
      case 'redeliver': {
        const { positionals } = parseCommandArgs(rest, {});
        noExtra(positionals, 1);
        const deliveryId = positionals[0];
        if (deliveryId === undefined) throw new UsageError('give the delivery id (del_…), from: npm run webhooks -- deliveries <id>');
        const copy = await redeliverWebhook(db, systemClock, { deliveryId, actor });
        console.log(`Queued ${copy.id}: event ${copy.eventId} again to endpoint #${copy.endpointId}. The running bot sends it on its next pass.`);
        return;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  });
}
