import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findCustomerByEmail, findCustomerById } from '../../src/store/customer.repository.js';
import { startApiTestApp, type ApiTestApp } from '../support/api-app.js';

// The REST API's writes check each field by the rule the store applies (input-fields.ts):
// lengths in code points, the same email shape. What the API refuses the store would refuse, and
// what it accepts the store stores.

const BASE = '/api/external/v1';
let t: ApiTestApp;
let authorization: string;

beforeEach(async () => {
  t = await startApiTestApp();
  authorization = await t.bearer(['customers:read', 'customers:write'], { rateLimitPerMinute: 10_000 });
});
afterEach(async () => {
  await t.close();
});

async function countCustomers(): Promise<number> {
  const row = await t.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function api(method: 'POST' | 'PATCH', path: string, body: unknown) {
  const response = await t.app.inject({ method, url: `${BASE}${path}`, headers: { authorization, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  return { status: response.statusCode, body: response.json<{ data?: { id: number; name: string; email: string; game_user_id: string | null }; message?: string }>() };
}

describe('the REST API counts lengths as the store does', () => {
  it('registers a customer whose name is 100 emoji and whose game user id is 64', async () => {
    const name = '👾'.repeat(100);
    const gameUserId = '🎮'.repeat(64);
    const answer = await api('POST', '/customers', { name, email: 'emoji@example.com', game_user_id: gameUserId });
    expect(answer.status).toBe(201);
    expect(answer.body.data).toMatchObject({ name, game_user_id: gameUserId });
  });

  it('registers an email of 142 characters written in emoji', async () => {
    const email = `${'🎮'.repeat(130)}@example.com`;
    const answer = await api('POST', '/customers', { name: 'Emoji', email });
    expect(answer.status).toBe(201);
    expect((await findCustomerByEmail(t.db, email))?.email).toBe(email);
  });

  it('refuses a name of 101 emoji with 422 naming the field, and stores nothing', async () => {
    const answer = await api('POST', '/customers', { name: '👾'.repeat(101), email: 'long@example.com' });
    expect(answer.status).toBe(422);
    expect(answer.body.message).toMatch(/^name: must be at most 100 characters/);
    expect(await findCustomerByEmail(t.db, 'long@example.com')).toBeUndefined();
  });

  it('renames a customer to 100 emoji', async () => {
    const created = await api('POST', '/customers', { name: 'Plain', email: 'plain@example.com' });
    const id = created.body.data?.id ?? 0;
    const name = '👨‍👩‍👧‍👦'.repeat(14);
    const answer = await api('PATCH', `/customers/${id}`, { name, game_user_id: '🎮'.repeat(64) });
    expect(answer.status).toBe(200);
    expect((await findCustomerById(t.db, id))?.name).toBe(name);
  });
});

describe('outgoing webhook endpoints', () => {
  it('take a description of 500 emoji, counted in code points as the API documents it', async () => {
    const write = await t.bearer(['webhooks:read', 'webhooks:write']);
    const description = '📦'.repeat(500);
    const response = await t.app.inject({
      method: 'POST',
      url: `${BASE}/webhooks`,
      headers: { authorization: write, 'content-type': 'application/json' },
      payload: JSON.stringify({ url: 'https://93.184.215.14/hooks/customers', description }),
    });
    expect(response.statusCode).toBe(201);
    expect(await t.db.selectFrom('webhook_endpoints').select('description').execute()).toEqual([{ description }]);
  });
});

const awkwardText = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.integer({ min: 0, max: maxLength }).map((n) => '🎮'.repeat(n)),
    fc.integer({ min: 0, max: maxLength }).map((n) => 'a'.repeat(n)),
  );

/** Names around the 100-character limit, in plain letters and in astral characters. */
const nameArb = fc.oneof(awkwardText(105), fc.integer({ min: 95, max: 105 }).map((n) => '👾'.repeat(n)));

const emailArb = fc.oneof(
  fc.emailAddress(),
  fc.constantFrom('first,last@example.com', '"q"@example.com', 'nobody@localhost', 'spieler.ü@bücher.example', '用户@例子.广告', ' padded@example.com '),
  fc.integer({ min: 118, max: 130 }).map((n) => `${'🎮'.repeat(n)}@example.com`),
  fc.integer({ min: 240, max: 245 }).map((n) => `${'é'.repeat(n)}@example.com`),
  fc.tuple(awkwardText(12), awkwardText(12)).map(([local, domain]) => `${local}@${domain}.com`),
);

describe('every customer the REST API acknowledges is stored', () => {
  it('refuses a registration with 4xx naming a field and stores nothing, or answers 201 and stores it as given', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            name: nameArb,
            email: emailArb,
            game_user_id: fc.oneof(awkwardText(70), fc.integer({ min: 60, max: 70 }).map((n) => '🎮'.repeat(n))),
            country: fc.constantFrom('US', 'de', 'USA', '', null),
          },
          { requiredKeys: ['name', 'email'] },
        ),
        async (body) => {
          // Distinct emails per run: a taken email is a refusal of its own, tested elsewhere.
          const unique = { ...body, email: `${++runs}${body.email}` };
          const before = await countCustomers();
          const answer = await api('POST', '/customers', unique);
          if (answer.status !== 201) {
            expect(answer.status).toBe(422);
            expect(answer.body.message).toMatch(/^(name|email|game_user_id|country): /);
            expect(await countCustomers()).toBe(before);
            return;
          }
          const stored = await findCustomerById(t.db, answer.body.data?.id ?? 0);
          expect(stored?.name).toBe(unique.name.trim());
          expect(stored?.email).toBe(unique.email.trim());
        },
      ),
      { numRuns: 100 },
    );
  }, 60_000);
});

describe('every correction the REST API acknowledges is stored', () => {
  it('refuses a correction with 422 naming a field and changes nothing, or answers 200 and stores it as given', async () => {
    const created = await api('POST', '/customers', { name: 'Original', email: 'original@example.com' });
    const id = created.body.data?.id ?? 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            name: nameArb,
            email: emailArb,
            game_user_id: fc.oneof(awkwardText(70), fc.constant(null)),
          },
          { requiredKeys: [] },
        ).filter((body) => Object.keys(body).length > 0),
        async (body) => {
          const changes = body.email === undefined ? body : { ...body, email: `${++runs}${body.email}` };
          const before = await findCustomerById(t.db, id);
          const answer = await api('PATCH', `/customers/${id}`, changes);
          const after = await findCustomerById(t.db, id);
          if (answer.status !== 200) {
            expect(answer.status).toBe(422);
            expect(answer.body.message).toMatch(/^(name|email|game_user_id): /);
            expect(after).toEqual(before);
            return;
          }
          if (changes.name !== undefined) expect(after?.name).toBe(changes.name.trim());
          if (changes.email !== undefined) expect(after?.email).toBe(changes.email.trim());
          if (changes.game_user_id !== undefined) expect(after?.gameUserId).toBe(changes.game_user_id?.trim() || null);
        },
      ),
      { numRuns: 80 },
    );
  }, 60_000);
});
