import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listActivity } from '../../src/domain/customers/activity-log.js';
import type { ManualClock } from '../../src/shared/clock.js';
import { type HostLookup } from '../../src/domain/webhooks/address-policy.js';
import { createWebhookEndpoint, deleteWebhookEndpoint } from '../../src/domain/webhooks/endpoints.js';
import { enqueueCustomerCreated, listDeliveryAttempts, redeliverWebhook } from '../../src/domain/webhooks/outbox.js';
import { deliverDueWebhooks, startWebhookDeliveryWorker, type DeliverWebhooksOptions } from '../../src/jobs/webhook-deliveries.js';
import { createLogger } from '../../src/logger.js';
import { insertCustomer } from '../../src/domain/customers/registration.js';
import type { Db } from '../../src/store/database.js';
import { useTestContext } from '../support/context.js';

const staff = { id: '111111111111111111', name: 'Sam' };
const MINUTE = 60_000;

interface Received {
  headers: Record<string, string>;
  body: string;
  path: string;
  answered: number | 'hung';
  /** The injected clock when the request arrived: the time the signature was made at. */
  at: Date;
}

type Answer = number | 'hang' | { status: number; headers: Record<string, string> } | { status: number; chunks: Buffer[] };

interface Receiver {
  url: string;
  port: number;
  received: Received[];
  close(): Promise<void>;
}

let db: Db;
let clock: ManualClock;
let receivers: Server[] = [];

useTestContext((context) => {
  ({ db, clock } = context);
});
afterEach(async () => {
  for (const server of receivers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  receivers = [];
});

/** Writes each chunk as its own packet, so the reader sees the body split where the test split it. */
async function writeApart(res: ServerResponse, chunks: Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    if (res.destroyed) return;
    res.write(chunk);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  res.end();
}

/** A webhook receiver on 127.0.0.1 that answers the n-th request (0-based) with `answer(n)`. */
async function startReceiver(answer: (n: number) => Answer): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = received.length;
      const reply = answer(n);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      received.push({ headers, body: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '', answered: reply === 'hang' ? 'hung' : typeof reply === 'number' ? reply : reply.status, at: clock.now() });
      if (reply === 'hang') return;
      if (typeof reply === 'number') res.writeHead(reply).end(reply >= 400 ? 'receiver says no' : 'ok');
      else if ('chunks' in reply) void writeApart(res.writeHead(reply.status, { 'content-length': String(Buffer.concat(reply.chunks).length) }), reply.chunks);
      else res.writeHead(reply.status, reply.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receivers.push(server);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/customers`,
    port,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function options(extra: Partial<DeliverWebhooksOptions> = {}): DeliverWebhooksOptions {
  return { limit: 10, allowPrivateGlobally: false, logger: createLogger('silent'), random: () => 0, ...extra };
}

async function localEndpoint(url: string) {
  return createWebhookEndpoint(db, clock, { url, allowPrivate: true, actor: staff }, { allowPrivateGlobally: false });
}

async function newCustomer(email: string) {
  const customer = await insertCustomer(db, clock, { name: email.split('@')[0] ?? email, email, country: 'GB' });
  await enqueueCustomerCreated(db, clock, customer);
  return customer;
}

/** Standard Webhooks checks the timestamp against the wall clock: verify as of when it was sent. */
function verifyStandard(secret: string, request: Received): unknown {
  vi.useFakeTimers({ toFake: ['Date'], now: request.at });
  try {
    return new Webhook(secret).verify(request.body, request.headers);
  } finally {
    vi.useRealTimers();
  }
}

function expectSigned(secret: string, request: Received) {
  expect(request.headers['x-pixlpay-signature']).toBe(createHmac('sha256', secret).update(request.body).digest('hex'));
  expect(verifyStandard(secret, request)).toEqual(JSON.parse(request.body));
}

async function deliveryRows() {
  return db.selectFrom('webhook_deliveries').selectAll().orderBy('created_at').orderBy('id').execute();
}

describe('delivering customer.created', () => {
  it('retries a receiver that fails twice on the schedule, then delivers each event exactly once, every request signed', async () => {
    const receiver = await startReceiver((n) => (n < 2 ? 500 : 200));
    const { secret } = await localEndpoint(receiver.url);
    await newCustomer('ann@example.com');

    expect(await deliverDueWebhooks(db, clock, options())).toBe(1);
    expect(receiver.received.map((r) => r.answered)).toEqual([500]);
    const [afterFirst] = await deliveryRows();
    expect(afterFirst).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 500, next_attempt_at: '2026-11-22T12:01:00.000Z', lease_until: null });
    expect(afterFirst?.last_error).toContain('HTTP 500: receiver says no');

    clock.advance(MINUTE - 1);
    expect(await deliverDueWebhooks(db, clock, options())).toBe(0);
    clock.advance(1);
    expect(await deliverDueWebhooks(db, clock, options())).toBe(1);
    expect(receiver.received.map((r) => r.answered)).toEqual([500, 500]);

    clock.advance(5 * MINUTE - 1);
    expect(await deliverDueWebhooks(db, clock, options())).toBe(0);
    clock.advance(1);
    expect(await deliverDueWebhooks(db, clock, options())).toBe(1);
    expect(receiver.received.map((r) => r.answered)).toEqual([500, 500, 200]);

    clock.advance(24 * 60 * MINUTE);
    expect(await deliverDueWebhooks(db, clock, options())).toBe(0);

    const [delivery] = await deliveryRows();
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200, last_error: null, delivered_at: '2026-11-22T12:06:00.000Z', next_attempt_at: null });
    const attempts = await listDeliveryAttempts(db, delivery!.id);
    expect(attempts.map((a) => [a.attemptedAt, a.statusCode])).toEqual([
      ['2026-11-22T12:00:00.000Z', 500],
      ['2026-11-22T12:01:00.000Z', 500],
      ['2026-11-22T12:06:00.000Z', 200],
    ]);

    for (const request of receiver.received) {
      expectSigned(secret, request);
      expect(request.path).toBe('/hooks/customers');
      expect(request.headers).toMatchObject({
        'content-type': 'application/json',
        'x-pixlpay-event': 'customer.created',
        'x-pixlpay-delivery-id': delivery!.id,
        'webhook-id': delivery!.event_id,
      });
      expect(request.headers['user-agent']).toMatch(/Webhooks/);
      expect(request.body).toBe(delivery!.payload);
    }
    const timestamps = receiver.received.map((r) => r.headers['webhook-timestamp']);
    expect(new Set(timestamps).size).toBe(3);
  });

  it('sends one payload per event to every endpoint, each signed with its own secret', async () => {
    const a = await startReceiver(() => 204);
    const b = await startReceiver(() => 200);
    const endpointA = await localEndpoint(a.url);
    const endpointB = await localEndpoint(b.url);
    await newCustomer('ann@example.com');
    await newCustomer('bob@example.com');

    expect(await deliverDueWebhooks(db, clock, options())).toBe(4);
    expect(await deliverDueWebhooks(db, clock, options())).toBe(0);

    for (const [receiver, secret] of [[a, endpointA.secret], [b, endpointB.secret]] as const) {
      const eventIds = receiver.received.map((r) => r.headers['webhook-id']);
      expect(eventIds).toHaveLength(2);
      expect(new Set(eventIds).size).toBe(2);
      for (const request of receiver.received) {
        expectSigned(secret, request);
        const body = JSON.parse(request.body) as { id: string; data: { customer: object } };
        expect(body.id).toBe(request.headers['webhook-id']);
        expect(Object.keys(body)).toEqual(['id', 'event_type', 'timestamp', 'data']);
        expect(Object.keys(body.data.customer)).toEqual(['id', 'name', 'email', 'country', 'created_at']);
      }
    }
    expect(new Set(a.received.map((r) => r.headers['webhook-id']))).toEqual(new Set(b.received.map((r) => r.headers['webhook-id'])));
    expect((await deliveryRows()).every((d) => d.status === 'delivered')).toBe(true);
  });

  it('disables an endpoint that answers 410 Gone and cancels what it had pending', async () => {
    const receiver = await startReceiver(() => 410);
    const { endpoint } = await localEndpoint(receiver.url);
    await newCustomer('ann@example.com');
    await newCustomer('bob@example.com');

    expect(await deliverDueWebhooks(db, clock, options({ limit: 1 }))).toBe(1);
    expect(await deliverDueWebhooks(db, clock, options())).toBe(0);

    expect(receiver.received).toHaveLength(1);
    const rows = await deliveryRows();
    expect(rows.map((r) => r.status).sort()).toEqual(['cancelled', 'failed']);
    expect(rows.find((r) => r.status === 'failed')).toMatchObject({ last_status_code: 410, attempts: 1 });
    expect(rows.find((r) => r.status === 'cancelled')).toMatchObject({ attempts: 0, last_error: 'endpoint disabled after 410 Gone' });
    const stored = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', endpoint.id).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ enabled: 0, disabled_reason: 'The receiver answered 410 Gone at 2026-11-22T12:00:00.000Z' });
    expect(await listActivity(db, { action: 'webhook.disable' })).toHaveLength(1);
    expect(await enqueueCustomerCreated(db, clock, await insertCustomer(db, clock, { name: 'Cy', email: 'cy@example.com' }))).toBe(0);
  });

  it('retries a receiver that does not answer in time', async () => {
    const receiver = await startReceiver((n) => (n === 0 ? 'hang' : 200));
    await localEndpoint(receiver.url);
    await newCustomer('ann@example.com');

    await deliverDueWebhooks(db, clock, options({ timeoutMs: 200 }));
    const [timedOut] = await deliveryRows();
    expect(timedOut).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null, next_attempt_at: '2026-11-22T12:01:00.000Z' });
    expect(timedOut?.last_error).toContain('timed out after 0.2 s');

    clock.advance(MINUTE);
    await deliverDueWebhooks(db, clock, options({ timeoutMs: 200 }));
    const [delivered] = await deliveryRows();
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([delivered!.event_id, delivered!.event_id]);
  });

  it('retries a receiver that is down, and gives up after the last retry (about 45 hours)', async () => {
    const receiver = await startReceiver(() => 200);
    await receiver.close();
    await localEndpoint(receiver.url);
    await newCustomer('ann@example.com');

    let passes = 0;
    for (;;) {
      const [row] = await deliveryRows();
      if (row?.status !== 'pending') break;
      clock.set(row.next_attempt_at!);
      expect(await deliverDueWebhooks(db, clock, options())).toBe(1);
      passes++;
    }
    const [delivery] = await deliveryRows();
    expect(passes).toBe(8);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 8, next_attempt_at: null, last_status_code: null });
    expect(delivery?.last_error).toContain('ECONNREFUSED');
    expect((clock.now().getTime() - new Date('2026-11-22T12:00:00.000Z').getTime()) / 3_600_000).toBeCloseTo(44.6, 1);
    expect(await listDeliveryAttempts(db, delivery!.id)).toHaveLength(8);
  });

  it('does not follow redirects', async () => {
    const receiver = await startReceiver((n) => (n === 0 ? { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } } : 200));
    await localEndpoint(receiver.url);
    await newCustomer('ann@example.com');
    await deliverDueWebhooks(db, clock, options());
    expect(receiver.received).toHaveLength(1);
    const [row] = await deliveryRows();
    expect(row).toMatchObject({ status: 'pending', last_status_code: 302 });
    expect(row?.last_error).toContain('redirects are not followed');
  });

  it('sends a redelivery with the same payload and event id under a new delivery id', async () => {
    const receiver = await startReceiver(() => 200);
    const { secret } = await localEndpoint(receiver.url);
    await newCustomer('ann@example.com');
    await deliverDueWebhooks(db, clock, options());
    const [original] = await deliveryRows();

    clock.advance(2 * 60 * MINUTE);
    const copy = await redeliverWebhook(db, clock, { deliveryId: original!.id, actor: staff });
    await deliverDueWebhooks(db, clock, options());

    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received;
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect(second?.body).toBe(first?.body);
    expect(second?.headers['x-pixlpay-delivery-id']).toBe(copy.id);
    expect(first?.headers['x-pixlpay-delivery-id']).toBe(original!.id);
    expectSigned(secret, second!);
  });

  it('cancels, without sending, a delivery whose endpoint was deleted', async () => {
    const receiver = await startReceiver(() => 200);
    const { endpoint } = await localEndpoint(receiver.url);
    await newCustomer('ann@example.com');
    await deleteWebhookEndpoint(db, clock, endpoint.id, staff);
    expect(await deliverDueWebhooks(db, clock, options())).toBe(0);
    expect(receiver.received).toHaveLength(0);
    expect((await deliveryRows())[0]).toMatchObject({ status: 'cancelled', last_error: 'endpoint deleted' });
  });

  it('sends a delivery once when two passes run at the same time', async () => {
    const receiver = await startReceiver(() => 200);
    await localEndpoint(receiver.url);
    await newCustomer('ann@example.com');
    const counts = await Promise.all([deliverDueWebhooks(db, clock, options()), deliverDueWebhooks(db, clock, options())]);
    expect(counts.sort()).toEqual([0, 1]);
    expect(receiver.received).toHaveLength(1);
  });
});

describe('what a failed delivery records', () => {
  it('keeps an answer body cut inside an emoji up to the last whole character', async () => {
    const body = Buffer.from(`${'x'.repeat(510)}😀${'y'.repeat(100)}`);
    const receiver = await startReceiver(() => ({ status: 500, chunks: [body.subarray(0, 512), body.subarray(512)] }));
    await localEndpoint(receiver.url);
    await newCustomer('ann@example.com');
    await deliverDueWebhooks(db, clock, options());
    const [row] = await deliveryRows();
    expect(row?.last_error).toBe(`HTTP 500: ${'x'.repeat(510)}…`);
  });

  it('keeps an answer body that ends in an emoji whole', async () => {
    const receiver = await startReceiver(() => ({ status: 500, chunks: [Buffer.from(`${'x'.repeat(511)}😀`)] }));
    await localEndpoint(receiver.url);
    await newCustomer('ann@example.com');
    await deliverDueWebhooks(db, clock, options());
    const [row] = await deliveryRows();
    expect(row?.last_error).toBe(`HTTP 500: ${'x'.repeat(511)}😀`);
  });

  it('keeps a long connection error up to the last emoji that fits whole', async () => {
    await localEndpoint('http://127.0.0.1:9/hooks');
    await newCustomer('ann@example.com');
    const transport = () => Promise.reject(new Error(`${'z'.repeat(999)}😀 and more`));
    await deliverDueWebhooks(db, clock, options({ transport }));
    const [row] = await deliveryRows();
    expect(row?.last_error).toBe(`${'z'.repeat(999)}…`);
  });
});

describe('where deliveries may go at send time', () => {
  it('refuses to send when the host now resolves to a private address (DNS rebinding), and logs the attempt', async () => {
    const receiver = await startReceiver(() => 200);
    let answer = '93.184.215.14';
    const lookup: HostLookup = () => Promise.resolve([{ address: answer, family: 4 }]);
    await createWebhookEndpoint(db, clock, { url: `http://hooks.example.test:${receiver.port}/in`, actor: staff }, { allowPrivateGlobally: false, lookup });
    await newCustomer('ann@example.com');

    answer = '127.0.0.1';
    await deliverDueWebhooks(db, clock, options({ lookup }));
    expect(receiver.received).toHaveLength(0);
    const [row] = await deliveryRows();
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
    expect(row?.last_error).toContain('hooks.example.test resolves to 127.0.0.1, a loopback address');
    expect(await listDeliveryAttempts(db, row!.id)).toHaveLength(1);
  });

  it('connects to the address it checked, keeping the host name in the Host header', async () => {
    const receiver = await startReceiver(() => 200);
    const lookup: HostLookup = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    await createWebhookEndpoint(db, clock, { url: `http://receiver.invalid:${receiver.port}/in`, allowPrivate: true, actor: staff }, { allowPrivateGlobally: false });
    await newCustomer('ann@example.com');
    await deliverDueWebhooks(db, clock, options({ lookup }));
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.headers.host).toBe(`receiver.invalid:${receiver.port}`);
    expect((await deliveryRows())[0]?.status).toBe('delivered');
  });

  it('refuses a private address at send time unless the endpoint or the store allows it', async () => {
    const receiver = await startReceiver(() => 200);
    await createWebhookEndpoint(db, clock, { url: receiver.url, actor: staff }, { allowPrivateGlobally: true });
    await newCustomer('ann@example.com');
    await deliverDueWebhooks(db, clock, options({ allowPrivateGlobally: false }));
    expect(receiver.received).toHaveLength(0);
    clock.advance(2 * MINUTE);
    await deliverDueWebhooks(db, clock, options({ allowPrivateGlobally: true }));
    expect(receiver.received).toHaveLength(1);
  });
});

describe('the delivery worker', () => {
  it('sends queued deliveries when woken', async () => {
    const receiver = await startReceiver(() => 200);
    await localEndpoint(receiver.url);
    const worker = startWebhookDeliveryWorker(db, clock, { allowPrivateGlobally: false, logger: createLogger('silent'), intervalMs: 60_000 });
    try {
      await newCustomer('ann@example.com');
      worker.wake();
      await expect.poll(() => receiver.received.length).toBe(1);
      await expect.poll(async () => (await deliveryRows())[0]?.status).toBe('delivered');
    } finally {
      await worker.stop();
    }
  });
});
