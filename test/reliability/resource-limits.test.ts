import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_SCOPES } from '../../src/domain/api-tokens.js';
import { createBan, liftBan } from '../../src/domain/bans.js';
import { UserError } from '../../src/domain/errors.js';
import { addNote, NOTE_MAX_LENGTH } from '../../src/domain/notes.js';
import { BODY_LIMIT_BYTES } from '../../src/http/app.js';
import { METADATA_MAX_BYTES, METADATA_MAX_KEYS } from '../../src/store/customer.repository.js';
import { SEARCH_MAX_LENGTH } from '../../src/domain/customer-list.js';
import { startApiTestApp, type ApiTestApp } from '../support/api-app.js';
import { CHANNEL_ID, GUILD_ID, startHarness, STAFF_ID, type Harness } from '../support/bot-harness.js';

// Every input has a bound, and going past it gets a clear refusal that names the bound, with
// nothing changed. One test per bound.

const BASE = '/api/external/v1';
const SECRET = 'limits-secret';
const staff = { id: '111111111111111111', name: 'Sam' };

let t: ApiTestApp;
let authorization: string;
let customerId: number;

async function snapshot() {
  const count = async (table: 'customers' | 'notes' | 'bans' | 'inbound_events' | 'activity_log') =>
    Number((await t.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const customer = await t.app.inject({ method: 'GET', url: `${BASE}/customers/${customerId}`, headers: { authorization } });
  return {
    customers: await count('customers'),
    notes: await count('notes'),
    bans: await count('bans'),
    events: await count('inbound_events'),
    log: await count('activity_log'),
    customer: customer.json().data as unknown,
  };
}

beforeEach(async () => {
  t = await startApiTestApp({ STORE_WEBHOOK_SECRET: SECRET });
  authorization = await t.bearer([...API_SCOPES], { rateLimitPerMinute: 10_000 });
  const created = await t.app.inject({ method: 'POST', url: `${BASE}/customers`, headers: { authorization }, payload: { name: 'Limit Tester', email: 'limits@example.com', metadata: { tier: 'gold' } } });
  customerId = created.json().data.id;
});
afterEach(async () => {
  await t.close();
});

describe('bounds of the HTTP listener', () => {
  it(`refuses an API body over ${BODY_LIMIT_BYTES / 1024 / 1024} MiB with 413 and creates nothing`, async () => {
    const before = await snapshot();
    const response = await t.app.inject({
      method: 'POST',
      url: `${BASE}/customers`,
      headers: { authorization, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'Big', email: 'big@example.com', metadata: { blob: 'x'.repeat(BODY_LIMIT_BYTES) } }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ success: false, error: 'Payload Too Large' });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a purchase event over 1 MiB with 413 and stores nothing', async () => {
    const before = await snapshot();
    const body = JSON.stringify({ id: 'evt_big', event_type: 'order.paid', data: { padding: 'x'.repeat(1024 * 1024) } });
    const response = await t.app.inject({
      method: 'POST',
      url: '/webhooks/store',
      headers: { 'content-type': 'application/json', 'x-pixlpay-signature': createHmac('sha256', SECRET).update(body).digest('hex') },
      payload: body,
    });
    expect(response.statusCode).toBe(413);
    expect(await snapshot()).toEqual(before);
  });

  it(`refuses a search longer than ${SEARCH_MAX_LENGTH} characters with 422 naming the parameter`, async () => {
    const response = await t.app.inject({ method: 'GET', url: `${BASE}/customers?search=${'a'.repeat(SEARCH_MAX_LENGTH + 1)}`, headers: { authorization } });
    expect(response.statusCode).toBe(422);
    expect(response.json().message).toMatch(/^search: /);
    expect(response.json().errors.search[0]).toContain(String(SEARCH_MAX_LENGTH));
  });

  it('refuses a query string of a thousand unknown parameters with 422, naming them, without slowing down', async () => {
    const query = Array.from({ length: 1_000 }, (_, i) => `p${i}=${i}`).join('&');
    const response = await t.app.inject({ method: 'GET', url: `${BASE}/customers?${query}`, headers: { authorization } });
    expect(response.statusCode).toBe(422);
    expect(response.json().message).toMatch(/is not allowed/);
  });

  it(`refuses metadata over ${METADATA_MAX_KEYS} keys or ${METADATA_MAX_BYTES / 1024} KiB with 422 and leaves the customer as it was`, async () => {
    const before = await snapshot();
    const tooMany = Object.fromEntries(Array.from({ length: METADATA_MAX_KEYS + 1 }, (_, i) => [`k${i}`, i]));
    const tooBig = { blob: 'x'.repeat(METADATA_MAX_BYTES) };
    for (const metadata of [tooMany, tooBig]) {
      const response = await t.app.inject({ method: 'PATCH', url: `${BASE}/customers/${customerId}`, headers: { authorization }, payload: { metadata } });
      expect(response.statusCode).toBe(422);
      expect(response.json().message).toMatch(/^metadata: /);
      expect(response.json().message).toMatch(new RegExp(`${METADATA_MAX_KEYS} keys|${METADATA_MAX_BYTES / 1024} KiB`));
    }
    // Merging keys one request at a time cannot get past the bound either.
    const keys = Object.fromEntries(Array.from({ length: METADATA_MAX_KEYS - 1 }, (_, i) => [`m${i}`, i]));
    const merged = await t.app.inject({ method: 'PATCH', url: `${BASE}/customers/${customerId}`, headers: { authorization }, payload: { metadata: keys } });
    expect(merged.statusCode).toBe(200);
    const over = await t.app.inject({ method: 'PATCH', url: `${BASE}/customers/${customerId}`, headers: { authorization }, payload: { metadata: { one_more: true } } });
    expect(over.statusCode).toBe(422);
    expect(over.json().message).toBe(`metadata: must have at most ${METADATA_MAX_KEYS} keys and ${METADATA_MAX_BYTES / 1024} KiB as JSON`);
    const after = (await snapshot()).customer as { metadata: Record<string, unknown> };
    expect(Object.keys(after.metadata)).toHaveLength(METADATA_MAX_KEYS);
    expect(after.metadata).not.toHaveProperty('one_more');
    expect((await snapshot()).customers).toBe(before.customers);
  });
});

describe('bounds of staff input', () => {
  it(`refuses a note over ${NOTE_MAX_LENGTH} characters with a message giving the bound and the length, and stores nothing`, async () => {
    const before = await snapshot();
    const attempt = addNote(t.db, t.clock, { customerId, author: staff, body: 'n'.repeat(NOTE_MAX_LENGTH + 1) });
    await expect(attempt).rejects.toThrow(UserError);
    await expect(attempt).rejects.toThrow(`A note must be 1 to ${NOTE_MAX_LENGTH} characters (this one is ${NOTE_MAX_LENGTH + 1}).`);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a ban or unban reason over 500 characters with a message giving the bound, and changes no ban', async () => {
    const before = await snapshot();
    await expect(createBan(t.db, t.clock, { type: 'email', target: 'spam@example.com', duration: '7d', reason: 'r'.repeat(501), actor: staff })).rejects.toThrow(
      'The reason must be between 1 and 500 characters.',
    );
    expect(await snapshot()).toEqual(before);
    const ban = await createBan(t.db, t.clock, { type: 'email', target: 'spam@example.com', duration: '7d', reason: 'chargebacks', actor: staff });
    const withBan = await snapshot();
    await expect(liftBan(t.db, t.clock, { banId: ban.id, actor: staff, reason: 'r'.repeat(501) })).rejects.toThrow(
      'The reason for lifting must be at most 500 characters.',
    );
    expect(await snapshot()).toEqual(withBan);
  });
});

describe('bounds of Discord input', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers autocomplete for a 6,000-character input with at most 25 choices, reading only the first 100 characters', async () => {
    const choices = await h.discord.autocomplete({
      guildId: GUILD_ID,
      channelId: CHANNEL_ID,
      userId: STAFF_ID,
      name: 'customer',
      subcommand: 'lookup',
      options: { query: 'a'.repeat(6_000) },
      focused: 'query',
    });
    expect(choices.length).toBeLessThanOrEqual(25);
    for (const choice of choices) expect(choice.name.length).toBeLessThanOrEqual(100);
  });

  it('refuses a command option past its declared max_length before the bot sees it', async () => {
    await expect(
      h.discord.invokeSlash({ guildId: GUILD_ID, channelId: CHANNEL_ID, userId: STAFF_ID, name: 'customer', subcommand: 'lookup', options: { query: 'q'.repeat(201) } }),
    ).rejects.toThrow(/200|length/i);
  });
});
