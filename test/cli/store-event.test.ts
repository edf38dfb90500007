import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_EVENT_TYPES } from '../../src/domain/purchases/compose.js';
import { parseStoreEvent } from '../../src/domain/purchases/parse.js';
import { verifyStoreSignature } from '../../src/domain/purchases/signature.js';
import { generateWebhookSecret } from '../../src/domain/webhooks/signing.js';
import { BUYER_IDS, SHOP_GUILD_ID, startShop, SUPPORTER_PRODUCT_ID, VIP_PRODUCT_ID, VIP_ROLE_ID, WEBHOOK_SECRET, type ShopHarness } from '../support/services-harness.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function storeEvent(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/store-event.ts', ...args],
      { env: { ...process.env, LOG_LEVEL: 'silent', STORE_WEBHOOK_SECRET: '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** `--print` output back into headers and the exact body bytes. */
function readPrinted(stdout: string): { requestLine: string; headers: Record<string, string>; body: string } {
  const blank = stdout.indexOf('\n\n');
  const [requestLine = '', ...lines] = stdout.slice(0, blank).split('\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
  return { requestLine, headers, body: stdout.slice(blank + 2).replace(/\n$/, '') };
}

describe('npm run store-event', { timeout: 120_000 }, () => {
  let shop: ShopHarness;
  let url: string;

  beforeAll(async () => {
    shop = await startShop();
    await shop.services.http.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(shop.services.http.server.address() as AddressInfo).port}/webhooks/store`;
  });
  afterAll(async () => {
    await shop.stop();
  });

  /** Sends one event through the CLI and waits until the bot has applied it. */
  async function sent(type: string, options: string[]): Promise<void> {
    const result = await storeEvent([type, ...options, '--url', url, '--secret', WEBHOOK_SECRET]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^HTTP 200 \\{"received":true\\} \\(${type.replace('.', '\\.')} evt_\\w+: .+\\)\\n$`));
    const eventId = /evt_\w+/.exec(result.stdout)![0];
    await expect
      .poll(async () => (await shop.db.selectFrom('inbound_events').select('status').where('id', '=', eventId).executeTakeFirst())?.status, { timeout: 10_000 })
      .toBe('processed');
  }

  const hasVip = () => shop.discord.memberRoles(SHOP_GUILD_ID, BUYER_IDS[0]).includes(VIP_ROLE_ID);

  it('sends every kind of event the bot accepts, each taken by the real route and applied, the role granted and then removed on refund', async () => {
    const buyer = ['--customer', 'cli-buyer@example.com', '--discord', BUYER_IDS[0]];
    const order = ['--order', '7001'];
    const purchase = [...buyer, ...order, '--product', String(VIP_PRODUCT_ID), '--amount', '29.99', '--currency', 'EUR'];
    await sent('order.created', purchase);
    await sent('order.paid', purchase);
    await sent('order.completed', purchase);
    await expect.poll(hasVip, { timeout: 10_000 }).toBe(true);
    await sent('order.received', purchase);
    await sent('dispute.created', order);
    await sent('dispute.resolved', [...order, '--outcome', 'won']);
    await sent('order.refunded', order);
    await expect.poll(hasVip, { timeout: 10_000 }).toBe(false);
    const stored = await shop.db.selectFrom('orders').select(['status', 'total_cents', 'currency']).where('id', '=', 7001).executeTakeFirstOrThrow();
    expect(stored).toEqual({ status: 'refunded', total_cents: 2999, currency: 'EUR' });

    const subscriber = ['--customer', 'cli-subscriber@example.com', '--subscription', '801', '--product', String(SUPPORTER_PRODUCT_ID)];
    for (const type of ['subscription.created', 'subscription.renewed', 'subscription.payment_failed', 'subscription.cancelled', 'subscription.expired']) {
      await sent(type, subscriber);
    }
    const subscription = await shop.db.selectFrom('subscriptions').select(['status', 'product_id']).where('id', '=', 801).executeTakeFirstOrThrow();
    expect(subscription).toEqual({ status: 'expired', product_id: SUPPORTER_PRODUCT_ID });

    await sent('ticket.created', ['--customer', 'cli-buyer@example.com', '--subject', 'Where is my rank?']);
    const ticket = await shop.db.selectFrom('support_tickets').select('subject').executeTakeFirstOrThrow();
    expect(ticket.subject).toBe('Where is my rank?');
  });

  it('refuses an unknown event type, listing the valid ones, and a missing or bad option by name', async () => {
    const [unknown, refund, discord, amount, option, secret] = await Promise.all([
      storeEvent(['order.shipped', '--secret', 'x']),
      storeEvent(['order.refunded', '--secret', 'x']),
      storeEvent(['order.paid', '--customer', 'a@example.com', '--discord', '12', '--secret', 'x']),
      storeEvent(['order.paid', '--customer', 'a@example.com', '--amount', 'lots', '--secret', 'x']),
      storeEvent(['order.paid', '--colour', 'red']),
      storeEvent(['order.paid', '--customer', 'a@example.com']),
    ]);
    expect(unknown.stderr.split('\n')[0]).toBe(`Error: unknown event type "order.shipped"; the bot accepts ${STORE_EVENT_TYPES.join(', ')}`);
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
    expect(refund.stderr.split('\n')[0]).toBe('Error: order.refunded needs --order (the order number being refunded)');
    expect(discord.stderr.split('\n')[0]).toContain('--discord "12" is not a Discord user id');
    expect(amount.stderr.split('\n')[0]).toContain('"lots" is not an amount of money');
    expect(option.stderr.split('\n')[0]).toBe('Error: unknown option --colour');
    expect(option.stderr).toContain('Usage:');
    expect(secret.stderr.split('\n')[0]).toBe('Error: no signing secret: set STORE_WEBHOOK_SECRET or pass --secret');
    for (const run of [unknown, refund, discord, amount, option, secret]) expect(run.code).toBe(1);
  });

  it('prints a signed request that the bot’s signature check and parser accept, with either kind of secret', async () => {
    for (const secret of [WEBHOOK_SECRET, generateWebhookSecret()]) {
      const result = await storeEvent(['order.paid', '--customer', 'a@example.com', '--product', 'VIP Rank', '--print', '--url', 'https://shop.example.com'], { STORE_WEBHOOK_SECRET: secret });
      expect(result.code).toBe(0);
      const printed = readPrinted(result.stdout);
      expect(printed.requestLine).toBe('POST /webhooks/store HTTP/1.1');
      expect(printed.headers.host).toBe('shop.example.com');
      const rawBody = Buffer.from(printed.body);
      const check = verifyStoreSignature({ rawBody, headers: printed.headers, secret, now: new Date() });
      expect(check).toMatchObject({ ok: true, scheme: secret.startsWith('whsec_') ? 'standard-webhooks' : 'hmac-hex' });
      const parsed = parseStoreEvent(rawBody, printed.headers);
      expect(parsed).toMatchObject({ ok: true, event: { kind: 'order', eventType: 'order.paid', order: { customer: { email: 'a@example.com' } } } });
      expect(verifyStoreSignature({ rawBody, headers: printed.headers, secret: 'another secret', now: new Date() }).ok).toBe(false);
    }
  });
});
