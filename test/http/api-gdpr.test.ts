import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listActivity } from '../../src/domain/customers/activity-log.js';
import { erasureResultSchema } from '../../src/http/routes/api-gdpr.js';
import { startApiTestApp, type ApiTestApp } from '../support/api-app.js';
import { buildSubject, PERSON, type SubjectFixture } from '../support/gdpr-fixture.js';

const BASE = '/api/external/v1';
let t: ApiTestApp;
let subject: SubjectFixture;

beforeEach(async () => {
  t = await startApiTestApp();
  subject = await buildSubject(t.db, t.clock);
});
afterEach(async () => t.close());

const routes = () => [
  { name: 'GET /customers/:id/export', method: 'GET' as const, url: `${BASE}/customers/${subject.customerId}/export`, scope: 'customers:read' as const, wrong: 'customers:write' as const },
  { name: 'DELETE /customers/:id', method: 'DELETE' as const, url: `${BASE}/customers/${subject.customerId}`, scope: 'customers:delete' as const, wrong: 'customers:read' as const },
];

describe('who may call the GDPR routes', () => {
  it('refuses a request without a token with 401 and changes nothing', async () => {
    for (const route of routes()) {
      const res = await t.app.inject({ method: route.method, url: route.url });
      expect(res.statusCode, route.name).toBe(401);
      expect(res.json()).toMatchObject({ success: false, error: 'Unauthorized' });
    }
    expect(await listActivity(t.db, { action: 'customer.erase' })).toEqual([]);
  });

  it('refuses a token without the scope with 403 naming it, and changes nothing', async () => {
    for (const route of routes()) {
      const res = await t.app.inject({ method: route.method, url: route.url, headers: { authorization: await t.bearer([route.wrong]) } });
      expect(res.statusCode, route.name).toBe(403);
      expect(res.json()).toEqual({ success: false, error: 'Forbidden', message: `Token does not have the required scope: ${route.scope}` });
    }
    expect(await listActivity(t.db, { action: 'customer.erase' })).toEqual([]);
    expect(await listActivity(t.db, { action: 'customer.data_export' })).toEqual([]);
  });

  it('answers a token with the scope', async () => {
    for (const route of routes()) {
      const res = await t.app.inject({ method: route.method, url: route.url, headers: { authorization: await t.bearer([route.scope]) } });
      expect(res.statusCode, route.name).toBe(200);
      expect(res.json()).toMatchObject({ success: true });
    }
  });
});

describe('GET /customers/:id/export', () => {
  it('returns everything stored about the customer as JSON, never cached', async () => {
    const res = await t.app.inject({ method: 'GET', url: `${BASE}/customers/${subject.customerId}/export`, headers: { authorization: await t.bearer(['customers:read']) } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<{ data: { customer: { email: string }; orders: unknown[]; security: { last_ip: string } } }>();
    expect(body.data.customer.email).toBe(PERSON.email);
    expect(body.data.orders).toHaveLength(2);
    expect(body.data.security.last_ip).toBe(PERSON.ip);
    expect(res.body).not.toContain('asked for a refund');
    const [entry] = await listActivity(t.db, { action: 'customer.data_export' });
    expect(entry).toMatchObject({ targetId: String(subject.customerId), details: { format: 'json', via: 'api' } });
    expect(entry!.actor.id).toMatch(/^api_token:/);
  });

  it('returns a CSV attachment with format=csv', async () => {
    const res = await t.app.inject({ method: 'GET', url: `${BASE}/customers/${subject.customerId}/export?format=csv`, headers: { authorization: await t.bearer(['customers:read']) } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="customer-${subject.customerId}-data-2026-11-22.csv"`);
    expect(res.body).toContain('[profile]');
    expect(res.body).toContain('ORD-2026-09101');
  });

  it('answers 404 for an unknown customer and 422 for an unknown format', async () => {
    const auth = { authorization: await t.bearer(['customers:read']) };
    expect((await t.app.inject({ method: 'GET', url: `${BASE}/customers/999999/export`, headers: auth })).json()).toEqual({ success: false, error: 'Not Found', message: 'No customer has id 999999.' });
    const bad = await t.app.inject({ method: 'GET', url: `${BASE}/customers/${subject.customerId}/export?format=xml`, headers: auth });
    expect(bad.statusCode).toBe(422);
    expect(bad.json<{ message: string }>().message).toMatch(/^format:/);
  });
});

describe('DELETE /customers/:id', () => {
  it('erases the customer and says what was done; a second call is harmless', async () => {
    const auth = { authorization: await t.bearer(['customers:delete', 'customers:read']) };
    const first = await t.app.inject({ method: 'DELETE', url: `${BASE}/customers/${subject.customerId}?reason=ticket%20T-5501`, headers: auth });
    expect(first.statusCode).toBe(200);
    const data = erasureResultSchema.parse(first.json<{ data: unknown }>().data);
    expect(data).toMatchObject({ id: subject.customerId, erased: true, already_erased: false, counts: { orders_kept: 2, role_removals_queued: 1 } });

    const detail = await t.app.inject({ method: 'GET', url: `${BASE}/customers/${subject.customerId}`, headers: auth });
    expect(detail.json<{ data: { name: string; email: string } }>().data).toMatchObject({ name: `Erased customer #${subject.customerId}`, email: `erased-${subject.customerId}@erased.invalid` });

    const second = await t.app.inject({ method: 'DELETE', url: `${BASE}/customers/${subject.customerId}`, headers: auth });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ success: true, data: { already_erased: true, erased_at: data.erased_at, counts: { orders_kept: 0 } } });
    const log = await listActivity(t.db, { action: 'customer.erase' });
    expect(log).toHaveLength(1);
    expect(log[0]!.details).toMatchObject({ reason: 'ticket T-5501' });
  });

  it('answers 404 for an unknown customer', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: `${BASE}/customers/999999`, headers: { authorization: await t.bearer(['customers:delete']) } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ success: false, error: 'Not Found', message: 'No customer has id 999999.' });
  });
});

describe('the OpenAPI document', () => {
  it('describes both routes with their scopes', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: `${BASE}/openapi.json` })).json<{ paths: Record<string, Record<string, { 'x-required-scope'?: string }>> }>();
    expect(doc.paths['/customers/{id}/export']?.get?.['x-required-scope']).toBe('customers:read');
    expect(doc.paths['/customers/{id}']?.delete?.['x-required-scope']).toBe('customers:delete');
  });
});
