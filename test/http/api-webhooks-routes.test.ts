import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listActivity } from '../../src/domain/customers/activity-log.js';
import { disableGoneEndpoint } from '../../src/domain/webhooks/endpoints.js';
import { enqueueCustomerCreated } from '../../src/domain/webhooks/outbox.js';
import { insertCustomer } from '../../src/domain/customers/registration.js';
import { startApiTestApp, type ApiTestApp } from '../support/api-app.js';

const BASE = '/api/external/v1';
const PUBLIC_URL = 'https://93.184.215.14/hooks/customers';

let t: ApiTestApp;
let read: string;
let write: string;

beforeEach(async () => {
  t = await startApiTestApp();
  read = await t.bearer(['webhooks:read']);
  write = await t.bearer(['webhooks:write']);
});
afterEach(async () => {
  await t.close();
});

function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, authorization: string, payload?: unknown) {
  return t.app.inject({ method, url: BASE + path, headers: { authorization }, ...(payload === undefined ? {} : { payload: payload as object }) });
}

async function createEndpoint(body: Record<string, unknown> = { url: PUBLIC_URL }) {
  const response = await api('POST', '/webhooks', write, body);
  expect(response.statusCode).toBe(201);
  return response.json<{ data: { id: number; secret: string } }>().data;
}

async function pendingCount(endpointId: number) {
  const rows = await t.db.selectFrom('webhook_deliveries').select('status').where('endpoint_id', '=', endpointId).execute();
  return rows.filter((r) => r.status === 'pending').length;
}

describe('POST /webhooks', () => {
  it('creates an endpoint subscribed to customer.created and shows its secret once', async () => {
    const response = await api('POST', '/webhooks', write, { url: PUBLIC_URL, description: 'CRM sync' });
    expect(response.statusCode).toBe(201);
    const body = response.json<{ data: { id: number; secret: string } }>();
    expect(body).toEqual({
      success: true,
      data: {
        id: expect.any(Number),
        url: PUBLIC_URL,
        events: ['customer.created'],
        description: 'CRM sync',
        enabled: true,
        disabled_reason: null,
        allow_private: false,
        created_at: '2026-11-22T12:00:00.000Z',
        updated_at: '2026-11-22T12:00:00.000Z',
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      },
    });
    expect(Buffer.from(body.data.secret.slice(6), 'base64')).toHaveLength(32);

    const shown = await api('GET', `/webhooks/${body.data.id}`, read);
    expect(shown.json().data).not.toHaveProperty('secret');
    expect(shown.body).not.toContain(body.data.secret);
    const listed = await api('GET', '/webhooks', read);
    expect(listed.json()).toEqual({ success: true, data: [shown.json().data] });
    expect(listed.body).not.toContain(body.data.secret);
  });

  it('stores the URL as the WHATWG parser normalises it', async () => {
    const { id } = await createEndpoint({ url: 'HTTPS://93.184.215.14:443/a/../hooks#frag' });
    expect((await api('GET', `/webhooks/${id}`, read)).json().data.url).toBe('https://93.184.215.14/hooks');
  });

  it('records webhook.create in the activity log as the API token', async () => {
    const { id } = await createEndpoint();
    const [entry] = await listActivity(t.db, { action: 'webhook.create' });
    expect(entry).toMatchObject({ targetType: 'webhook_endpoint', targetId: String(id), actor: { id: expect.stringMatching(/^api_token:\d+$/) } });
  });

  it.each([
    ['url', 'is required', {}],
    ['url', 'must be a string', { url: 42 }],
    ['url', 'must not be empty', { url: '' }],
    ['events', 'must have at least 1 item', { url: PUBLIC_URL, events: [] }],
    ['events.0', 'must be one of: customer.created', { url: PUBLIC_URL, events: ['order.paid'] }],
    ['secret', 'is not allowed', { url: PUBLIC_URL, secret: 'whsec_mine' }],
    ['allow_private', 'is not allowed', { url: PUBLIC_URL, allow_private: true }],
    ['description', 'must be at most 500 characters', { url: PUBLIC_URL, description: 'x'.repeat(501) }],
  ])('refuses a body whose %s %s with a 422 naming the field', async (field, problem, payload) => {
    const response = await api('POST', '/webhooks', write, payload);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({ success: false, error: 'Unprocessable Entity', message: `${field}: ${problem}`, errors: { [field]: [problem] } });
  });

  it.each([
    ['ftp://93.184.215.14/x', 'must start with https:// or http://'],
    ['https://user:pass@93.184.215.14/x', 'must not contain a user name or password'],
    ['https://127.0.0.1/x', '127.0.0.1, a loopback address'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254, a link-local address'],
    ['http://[::1]:8080/', '::1, a loopback address'],
    ['not a url', 'not a valid absolute URL'],
  ])('refuses the URL %s with a 422 on url saying why', async (url, why) => {
    const response = await api('POST', '/webhooks', write, { url });
    expect(response.statusCode).toBe(422);
    const body = response.json();
    expect(body).toMatchObject({ success: false, error: 'Unprocessable Entity', errors: { url: [expect.stringContaining(why)] } });
    expect(body.message).toMatch(/^url: /);
    expect(body.message).toContain(why);
  });

  it('accepts a private URL when the store allows private webhook URLs globally', async () => {
    await t.close();
    t = await startApiTestApp({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true' });
    write = await t.bearer(['webhooks:write']);
    const response = await api('POST', '/webhooks', write, { url: 'http://127.0.0.1:9999/hook' });
    expect(response.statusCode).toBe(201);
  });

  it('refuses a body that is not a JSON object, and malformed JSON, in the envelope', async () => {
    const array = await api('POST', '/webhooks', write, [PUBLIC_URL]);
    expect(array.statusCode).toBe(422);
    expect(array.json()).toEqual({ success: false, error: 'Unprocessable Entity', message: 'body: must be a JSON object', errors: { body: ['must be a JSON object'] } });
    const malformed = await t.app.inject({ method: 'POST', url: `${BASE}/webhooks`, headers: { authorization: write, 'content-type': 'application/json' }, payload: '{"url":' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ success: false, error: 'Bad Request' });
  });
});

describe('GET /webhooks/:id', () => {
  it('answers 404 in the envelope for an unknown or malformed id', async () => {
    for (const id of ['999', 'abc', '0', '1e3']) {
      const response = await api('GET', `/webhooks/${id}`, read);
      expect(response.statusCode, id).toBe(404);
      expect(response.json()).toEqual({ success: false, error: 'Not Found', message: `No webhook endpoint has id ${id}.` });
    }
  });
});

describe('PUT /webhooks/:id', () => {
  it('changes the URL, events and description and keeps the secret', async () => {
    const { id, secret } = await createEndpoint();
    t.clock.advance(1000);
    const response = await api('PUT', `/webhooks/${id}`, write, { url: 'https://93.184.215.15/new', events: ['customer.created'], description: null });
    expect(response.statusCode).toBe(200);
    expect(response.json().data).toMatchObject({ url: 'https://93.184.215.15/new', description: null, updated_at: '2026-11-22T12:00:01.000Z' });
    const row = await t.db.selectFrom('webhook_endpoints').select('secret').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.secret).toBe(secret);
  });

  it('refuses a private URL, unknown fields and an empty change with a 422 naming the field', async () => {
    const { id } = await createEndpoint();
    expect((await api('PUT', `/webhooks/${id}`, write, { url: 'http://10.0.0.1/' })).json()).toMatchObject({ errors: { url: [expect.stringContaining('a private address')] } });
    expect((await api('PUT', `/webhooks/${id}`, write, { secret: 'x' })).json()).toMatchObject({ message: 'secret: is not allowed' });
    expect((await api('PUT', `/webhooks/${id}`, write, { enabled: 'yes' })).json()).toMatchObject({ message: 'enabled: must be a boolean' });
    const empty = await api('PUT', `/webhooks/${id}`, write, {});
    expect(empty.statusCode).toBe(422);
    expect(empty.json().message).toBe('body: must change at least one of url, events, description, enabled');
  });

  it('disables an endpoint and cancels what it had pending; re-enabling clears the reason', async () => {
    const { id } = await createEndpoint();
    await insertCustomer(t.db, t.clock, { name: 'Ann', email: 'ann@example.com' }).then((c) => enqueueCustomerCreated(t.db, t.clock, c));
    expect(await pendingCount(id)).toBe(1);
    const disabled = await api('PUT', `/webhooks/${id}`, write, { enabled: false });
    expect(disabled.json().data).toMatchObject({ enabled: false, disabled_reason: expect.stringContaining('API token') });
    expect(await pendingCount(id)).toBe(0);
    const enabled = await api('PUT', `/webhooks/${id}`, write, { enabled: true });
    expect(enabled.json().data).toMatchObject({ enabled: true, disabled_reason: null });
  });

  it('re-enables an endpoint that was disabled after a 410', async () => {
    const { id } = await createEndpoint();
    await disableGoneEndpoint(t.db, t.clock, id);
    expect((await api('GET', `/webhooks/${id}`, read)).json().data).toMatchObject({ enabled: false, disabled_reason: expect.stringContaining('410 Gone') });
    const response = await api('PUT', `/webhooks/${id}`, write, { enabled: true });
    expect(response.statusCode).toBe(200);
    expect(response.json().data).toMatchObject({ enabled: true, disabled_reason: null });
  });
});

describe('DELETE /webhooks/:id', () => {
  it('removes the endpoint from the API, cancels its pending deliveries and keeps its log', async () => {
    const { id } = await createEndpoint();
    const test = await api('POST', `/webhooks/${id}/test`, write);
    const deleted = await api('DELETE', `/webhooks/${id}`, write);
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toEqual({ success: true, data: { id, deleted: true } });
    expect((await api('GET', `/webhooks/${id}`, read)).statusCode).toBe(404);
    expect((await api('GET', '/webhooks', read)).json().data).toEqual([]);
    expect((await api('DELETE', `/webhooks/${id}`, write)).statusCode).toBe(404);
    const log = await api('GET', `/webhooks/${id}/deliveries`, read);
    expect(log.json().data).toEqual([expect.objectContaining({ id: test.json().data.id, status: 'cancelled', last_error: 'endpoint deleted' })]);
    const row = await t.db.selectFrom('webhook_endpoints').select('secret').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.secret).toBe('');
  });
});

describe('POST /webhooks/:id/test', () => {
  it('queues a signed ping for the endpoint, returns its id and wakes the delivery worker', async () => {
    const { id } = await createEndpoint();
    const response = await api('POST', `/webhooks/${id}/test`, write);
    expect(response.statusCode).toBe(202);
    const data = response.json().data;
    expect(data).toMatchObject({ id: expect.stringMatching(/^del_/), webhook_id: id, event_id: expect.stringMatching(/^evt_/), event_type: 'ping', status: 'pending', attempts: 0 });
    expect(t.wakes.webhookDeliveries).toBe(1);
    const row = await t.db.selectFrom('webhook_deliveries').select('payload').where('id', '=', data.id).executeTakeFirstOrThrow();
    expect(JSON.parse(row.payload)).toEqual({ id: data.event_id, event_type: 'ping', timestamp: '2026-11-22T12:00:00.000Z', data: { webhook: { id, url: PUBLIC_URL } } });
  });

  it('refuses a disabled endpoint with 409 and an unknown one with 404, without waking the worker', async () => {
    const { id } = await createEndpoint();
    await api('PUT', `/webhooks/${id}`, write, { enabled: false });
    const disabled = await api('POST', `/webhooks/${id}/test`, write);
    expect(disabled.statusCode).toBe(409);
    expect(disabled.json()).toMatchObject({ success: false, error: 'Conflict' });
    expect((await api('POST', '/webhooks/77/test', write)).statusCode).toBe(404);
    expect(t.wakes.webhookDeliveries).toBe(0);
  });
});

describe('GET /webhooks/:id/deliveries', () => {
  it('pages the delivery log newest first with the list meta', async () => {
    const { id } = await createEndpoint();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await api('POST', `/webhooks/${id}/test`, write)).json<{ data: { id: string } }>().data.id);
      t.clock.advance(1000);
    }
    const first = await api('GET', `/webhooks/${id}/deliveries?per_page=2`, read);
    expect(first.json().meta).toEqual({ current_page: 1, last_page: 2, per_page: 2, total: 3 });
    expect(first.json<{ data: { id: string }[] }>().data.map((d) => d.id)).toEqual([ids[2], ids[1]]);
    const second = await api('GET', `/webhooks/${id}/deliveries?page=2&per_page=2`, read);
    expect(second.json<{ data: { id: string }[] }>().data.map((d) => d.id)).toEqual([ids[0]]);
    expect((await api('GET', `/webhooks/${id}/deliveries`, read)).json().meta).toEqual({ current_page: 1, last_page: 1, per_page: 15, total: 3 });
  });

  it('refuses bad paging with a 422 naming the parameter', async () => {
    const { id } = await createEndpoint();
    expect((await api('GET', `/webhooks/${id}/deliveries?per_page=500`, read)).json()).toMatchObject({ message: 'per_page: must be at most 100' });
    expect((await api('GET', `/webhooks/${id}/deliveries?page=x`, read)).json()).toMatchObject({ message: 'page: must be a whole number' });
    expect((await api('GET', `/webhooks/${id}/deliveries?status=failed`, read)).json()).toMatchObject({ message: 'status: is not allowed' });
  });
});

describe('POST /webhooks/:id/deliveries/:deliveryId/redeliver', () => {
  it('queues the same payload under the same event id as a new delivery and wakes the worker', async () => {
    const { id } = await createEndpoint();
    const customer = await insertCustomer(t.db, t.clock, { name: 'Ann', email: 'ann@example.com', country: 'DE' });
    await enqueueCustomerCreated(t.db, t.clock, customer);
    const original = await t.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', id).executeTakeFirstOrThrow();
    t.clock.advance(60_000);
    const response = await api('POST', `/webhooks/${id}/deliveries/${original.id}/redeliver`, write);
    expect(response.statusCode).toBe(202);
    const data = response.json().data;
    expect(data).toMatchObject({ event_id: original.event_id, event_type: 'customer.created', redelivery_of: original.id, status: 'pending' });
    expect(data.id).not.toBe(original.id);
    const copy = await t.db.selectFrom('webhook_deliveries').select('payload').where('id', '=', data.id).executeTakeFirstOrThrow();
    expect(copy.payload).toBe(original.payload);
    expect(t.wakes.webhookDeliveries).toBe(1);
  });

  it('answers 404 for a delivery that does not exist or belongs to another endpoint', async () => {
    const a = await createEndpoint();
    const b = await createEndpoint({ url: 'https://93.184.215.15/b' });
    const test = (await api('POST', `/webhooks/${a.id}/test`, write)).json().data;
    const wrong = await api('POST', `/webhooks/${b.id}/deliveries/${test.id}/redeliver`, write);
    expect(wrong.statusCode).toBe(404);
    expect(wrong.json()).toMatchObject({ success: false, error: 'Not Found' });
    expect((await api('POST', `/webhooks/${a.id}/deliveries/del_nope/redeliver`, write)).statusCode).toBe(404);
  });
});
