import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/shared/clock.js';
import { checkWebhookUrl, classifyAddress, parseWebhookUrl, type HostLookup } from '../../../src/domain/webhooks/address-policy.js';
import { createWebhookEndpoint, deleteWebhookEndpoint, updateWebhookEndpoint } from '../../../src/domain/webhooks/endpoints.js';
import { decideRetry, enqueueCustomerCreated, WEBHOOK_RETRY_SCHEDULE_MS } from '../../../src/domain/webhooks/outbox.js';
import { signWebhookRequest } from '../../../src/domain/webhooks/signing.js';
import { insertCustomer } from '../../../src/domain/customers/registration.js';
import type { Db } from '../../../src/store/database.js';
import { useTestContext } from '../../support/context.js';
import { refusal } from '../../support/refusal.js';

const staff = { id: '111111111111111111', name: 'Sam' };
const strict = { allowPrivateGlobally: false };
let db: Db;
let clock: ManualClock;

useTestContext((context) => ({ db, clock } = context));

describe('which addresses may receive webhooks', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['10.0.0.1', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['fc00::1', 'a private (unique local) address'],
    ['fd12:3456::1', 'a private (unique local) address'],
    ['169.254.169.254', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['0.0.0.0', 'an unspecified ("this network") address'],
    ['::', 'an unspecified address'],
    ['224.0.0.1', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['100.64.0.1', 'a carrier-grade NAT (shared) address'],
    ['100.127.255.254', 'a carrier-grade NAT (shared) address'],
    ['255.255.255.255', 'a reserved address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:7f00:1', 'a loopback address'],
    ['::ffff:10.1.2.3', 'a private address'],
    ['::ffff:169.254.169.254', 'a link-local address'],
    ['64:ff9b::a9fe:a9fe', 'a link-local address'],
    ['2002:7f00:1::1', 'a loopback address'],
  ])('refuses %s as %s', (address, reason) => {
    expect(classifyAddress(address)).toBe(reason);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:93.184.215.14', '64:ff9b::808:808'])('accepts the public address %s', (address) => {
    expect(classifyAddress(address)).toBeNull();
  });
});

describe('checking an endpoint URL', () => {
  it.each([
    ['http://localhost/hook', 'localhost resolves to', 'a loopback address'],
    ['http://127.0.0.1/', '127.0.0.1', 'a loopback address'],
    ['http://[::1]/', '::1', 'a loopback address'],
    ['http://10.0.0.1/', '10.0.0.1', 'a private address'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'a link-local address'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1', 'a loopback address'],
    ['http://2130706433/', '127.0.0.1', 'a loopback address'],
    ['http://0177.0.0.1/', '127.0.0.1', 'a loopback address'],
    ['http://0x7f.1/', '127.0.0.1', 'a loopback address'],
    ['http://017700000001/', '127.0.0.1', 'a loopback address'],
    ['https://[fe80::1]:8443/x', 'fe80::1', 'a link-local address'],
    ['http://100.64.0.1/', '100.64.0.1', 'a carrier-grade NAT (shared) address'],
  ])('refuses %s, naming %s and why', async (url, address, reason) => {
    const error = await refusal(checkWebhookUrl(url, { allowPrivate: false }));
    expect(error.code).toBe('invalid_url');
    expect(error.message).toContain(address);
    expect(error.message).toContain(reason);
  });

  it('sees decimal, octal and hex IPv4 hosts as the WHATWG parser normalises them', () => {
    expect(parseWebhookUrl('http://2130706433/').hostname).toBe('127.0.0.1');
    expect(parseWebhookUrl('http://0177.0.0.1/').hostname).toBe('127.0.0.1');
    expect(parseWebhookUrl('http://0x7f.1/').hostname).toBe('127.0.0.1');
    expect(parseWebhookUrl('http://[::ffff:127.0.0.1]/').hostname).toBe('[::ffff:7f00:1]');
  });

  it('refuses a host name when any one of its addresses is private', async () => {
    const lookup: HostLookup = () => Promise.resolve([{ address: '93.184.215.14', family: 4 }, { address: '10.0.0.7', family: 4 }]);
    const error = await refusal(checkWebhookUrl('https://hooks.example.com/in', { allowPrivate: false, lookup }));
    expect(error.message).toContain('hooks.example.com resolves to 10.0.0.7, a private address');
  });

  it('refuses a host that does not resolve, saying so', async () => {
    const lookup: HostLookup = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
    const error = await refusal(checkWebhookUrl('https://nowhere.example/in', { allowPrivate: false, lookup }));
    expect(error.code).toBe('invalid_url');
    expect(error.message).toContain('nowhere.example could not be resolved (ENOTFOUND)');
  });

  it('refuses other schemes and credentials in the URL', async () => {
    expect((await refusal(checkWebhookUrl('file:///etc/passwd', { allowPrivate: true }))).message).toContain('https:// or http://');
    expect((await refusal(checkWebhookUrl('gopher://93.184.215.14/', { allowPrivate: true }))).message).toContain('https:// or http://');
    expect((await refusal(checkWebhookUrl('https://admin:pw@93.184.215.14/', { allowPrivate: true }))).message).toContain('user name or password');
    expect((await refusal(checkWebhookUrl('https://admin@93.184.215.14/', { allowPrivate: true }))).message).toContain('user name or password');
  });

  it('accepts a public host, and a private one when private targets are allowed', async () => {
    const lookup: HostLookup = () => Promise.resolve([{ address: '93.184.215.14', family: 4 }]);
    expect(await checkWebhookUrl('https://hooks.example.com/in', { allowPrivate: false, lookup })).toBe('https://hooks.example.com/in');
    expect(await checkWebhookUrl('http://127.0.0.1:8080/in', { allowPrivate: true })).toBe('http://127.0.0.1:8080/in');
  });
});

describe('creating an endpoint', () => {
  it('refuses a private URL unless the endpoint or the store allows private targets', async () => {
    expect((await refusal(createWebhookEndpoint(db, clock, { url: 'http://127.0.0.1:9000/', actor: staff }, strict))).code).toBe('invalid_url');
    const own = await createWebhookEndpoint(db, clock, { url: 'http://127.0.0.1:9000/', allowPrivate: true, actor: staff }, strict);
    expect(own.endpoint.allowPrivate).toBe(true);
    const global = await createWebhookEndpoint(db, clock, { url: 'http://10.0.0.1/', actor: staff }, { allowPrivateGlobally: true });
    expect(global.endpoint.allowPrivate).toBe(false);
  });

  it('checks a changed URL against the same rules', async () => {
    const { endpoint } = await createWebhookEndpoint(db, clock, { url: 'https://93.184.215.14/', actor: staff }, strict);
    expect((await refusal(updateWebhookEndpoint(db, clock, endpoint.id, { url: 'http://2130706433/', actor: staff }, strict))).code).toBe('invalid_url');
  });

  it('makes a Standard Webhooks secret: whsec_ and base64 of 32 random bytes', async () => {
    const a = await createWebhookEndpoint(db, clock, { url: 'https://93.184.215.14/', actor: staff }, strict);
    const b = await createWebhookEndpoint(db, clock, { url: 'https://93.184.215.14/', actor: staff }, strict);
    expect(a.secret).toMatch(/^whsec_/);
    expect(Buffer.from(a.secret.slice(6), 'base64')).toHaveLength(32);
    expect(a.secret).not.toBe(b.secret);
    expect(() => new Webhook(a.secret)).not.toThrow();
  });
});

describe('queueing customer.created', () => {
  async function endpoint(url: string) {
    return (await createWebhookEndpoint(db, clock, { url, actor: staff }, strict)).endpoint;
  }

  it('queues one delivery per enabled endpoint with one event id and the guide payload exactly', async () => {
    const a = await endpoint('https://93.184.215.14/a');
    const b = await endpoint('https://93.184.215.14/b');
    const disabled = await endpoint('https://93.184.215.14/disabled');
    const deleted = await endpoint('https://93.184.215.14/deleted');
    await updateWebhookEndpoint(db, clock, disabled.id, { enabled: false, actor: staff }, strict);
    await deleteWebhookEndpoint(db, clock, deleted.id, staff);
    const customer = await insertCustomer(db, clock, { name: 'John Player', email: 'john@example.com', country: 'US', createdAt: '2026-11-22T11:59:59.000Z' });
    clock.advance(500);

    expect(await enqueueCustomerCreated(db, clock, customer)).toBe(2);

    const rows = await db.selectFrom('webhook_deliveries').selectAll().orderBy('endpoint_id').execute();
    expect(rows.map((r) => r.endpoint_id)).toEqual([a.id, b.id]);
    const [first, second] = rows;
    expect(first?.event_id).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(second?.event_id).toBe(first?.event_id);
    expect(second?.payload).toBe(first?.payload);
    expect(first?.payload).toBe(
      `{"id":"${first?.event_id}","event_type":"customer.created","timestamp":"2026-11-22T12:00:00.500Z",` +
        `"data":{"customer":{"id":${customer.id},"name":"John Player","email":"john@example.com","country":"US","created_at":"2026-11-22T11:59:59.000Z"}}}`,
    );
    expect(first).toMatchObject({ status: 'pending', attempts: 0, event_type: 'customer.created', next_attempt_at: '2026-11-22T12:00:00.500Z' });
  });

  it('queues nothing when no endpoint listens', async () => {
    const customer = await insertCustomer(db, clock, { name: 'Ann', email: 'ann@example.com' });
    expect(await enqueueCustomerCreated(db, clock, customer)).toBe(0);
  });

  it("commits with the caller's transaction or not at all (the outbox)", async () => {
    await endpoint('https://93.184.215.14/a');
    await db
      .transaction()
      .execute(async (trx) => {
        const customer = await insertCustomer(trx, clock, { name: 'Ann', email: 'ann@example.com' });
        expect(await enqueueCustomerCreated(trx, clock, customer)).toBe(1);
        throw new Error('the order event failed later');
      })
      .catch(() => undefined);
    expect(await db.selectFrom('webhook_deliveries').select('id').execute()).toEqual([]);
    expect(await db.selectFrom('customers').select('id').execute()).toEqual([]);
  });
});

describe('signing a delivery', () => {
  it('signs with the Pixlpay hex HMAC keyed by the secret string and with Standard Webhooks over the event id', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const payload = '{"id":"evt_1","event_type":"customer.created"}';
    const sentAt = new Date();
    const headers = signWebhookRequest(secret, { deliveryId: 'del_1', eventId: 'evt_1', eventType: 'customer.created', payload, sentAt });
    expect(headers).toMatchObject({
      'content-type': 'application/json',
      'x-pixlpay-event': 'customer.created',
      'x-pixlpay-delivery-id': 'del_1',
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    });
    expect(headers['user-agent']).toBeTruthy();
    expect(headers['x-pixlpay-signature']).toBe(createHmac('sha256', secret).update(payload).digest('hex'));
    expect(new Webhook(secret).verify(payload, headers)).toEqual(JSON.parse(payload));
    expect(() => new Webhook(secret).verify(`${payload} `, headers)).toThrow();
  });
});

describe('the retry schedule', () => {
  it('waits at least 1 min, 5 min, 30 min (the platform’s own) and then longer, about 45 hours in all', () => {
    expect(WEBHOOK_RETRY_SCHEDULE_MS.slice(0, 3)).toEqual([60_000, 300_000, 1_800_000]);
    const total = WEBHOOK_RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    expect(total / 3_600_000).toBeCloseTo(44.6, 1);
  });

  it('never retries earlier than the schedule and at most 10% later, then gives up after the last', () => {
    const now = new Date('2026-11-22T12:00:00.000Z');
    expect(decideRetry(1, now, 0)).toEqual({ status: 'pending', nextAttemptAt: '2026-11-22T12:01:00.000Z' });
    expect(decideRetry(1, now, 0.999999)).toEqual({ status: 'pending', nextAttemptAt: '2026-11-22T12:01:06.000Z' });
    expect(decideRetry(2, now, 0)).toEqual({ status: 'pending', nextAttemptAt: '2026-11-22T12:05:00.000Z' });
    expect(decideRetry(7, now, 0)).toEqual({ status: 'pending', nextAttemptAt: '2026-11-23T12:00:00.000Z' });
    expect(decideRetry(8, now, 0)).toEqual({ status: 'failed' });
  });
});
