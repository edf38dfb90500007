import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_SCOPES } from '../../../src/domain/api-access/tokens.js';
import { createBan, liftBan } from '../../../src/domain/bans/bans.js';
import { SEARCH_MAX_LENGTH } from '../../../src/domain/customers/list.js';
import { LOOKUP_QUERY_MAX_LENGTH } from '../../../src/domain/customers/lookup.js';
import { UserError } from '../../../src/shared/errors.js';
import { addNote, NOTE_MAX_LENGTH } from '../../../src/domain/customers/notes.js';
import { BODY_LIMIT_BYTES } from '../../../src/http/app.js';
import type { InteractionHandle } from '../../../src/sandbox/local-discord/index.js';
import { METADATA_MAX_BYTES, METADATA_MAX_KEYS } from '../../../src/store/customer.repository.js';
import { insertCustomers } from '../../../src/domain/customers/registration.js';
import { startApiTestApp, type ApiTestApp } from '../../support/api-app.js';
import { ADMIN_ID, CHANNEL_ID, GUILD_ID, STAFF_ID } from '../../support/bot-harness.js';
import { openTestContext } from '../../support/context.js';
import { signedEventHeaders } from '../../support/store-door.js';

// Every input has a bound, and going past it gets a clear refusal that names the bound, with
// nothing changed. Each check returns one row of figures: what was sent, what came back, whether
// anything was stored, and what was wrong (nothing, when the bound holds).

const BASE = '/api/external/v1';
const SECRET = 'limits-secret';
const staff = { id: '111111111111111111', name: 'Sam' };

export interface LimitRow {
  bound: string;
  sent: string;
  answer: string;
  /** Nothing was stored or changed; null where the input never reaches storage. */
  nothingStored: boolean | null;
  problems: string[];
}

/** `large` sends far past each bound (the long run); otherwise just past it (CI). */
export interface LimitOptions {
  large: boolean;
}

interface ApiFixture {
  t: ApiTestApp;
  authorization: string;
  customerId: number;
  snapshot: () => Promise<unknown>;
}

async function withApi<T>(run: (f: ApiFixture) => Promise<T>): Promise<T> {
  const t = await startApiTestApp({ STORE_WEBHOOK_SECRET: SECRET });
  try {
    const authorization = await t.bearer([...API_SCOPES], { rateLimitPerMinute: 10_000 });
    const created = await t.app.inject({ method: 'POST', url: `${BASE}/customers`, headers: { authorization }, payload: { name: 'Limit Tester', email: 'limits@example.com', metadata: { tier: 'gold' } } });
    const customerId = created.json<{ data: { id: number } }>().data.id;
    const snapshot = async () => {
      const count = async (table: 'customers' | 'notes' | 'bans' | 'inbound_events' | 'activity_log') =>
        Number((await t.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const customer = await t.app.inject({ method: 'GET', url: `${BASE}/customers/${customerId}`, headers: { authorization } });
      return {
        customers: await count('customers'),
        notes: await count('notes'),
        bans: await count('bans'),
        events: await count('inbound_events'),
        log: await count('activity_log'),
        customer: customer.json<{ data: unknown }>().data,
      };
    };
    return await run({ t, authorization, customerId, snapshot });
  } finally {
    await t.close();
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const size = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : bytes >= 1024 ? `${Math.round(bytes / 1024)} KiB` : `${bytes} B`);
const short = (text: string) => (text.length > 140 ? `${text.slice(0, 140)}…` : text);

function check(problems: string[], ok: boolean, problem: string): void {
  if (!ok) problems.push(problem);
}

async function refusal(attempt: Promise<unknown>): Promise<unknown> {
  try {
    await attempt;
    return undefined;
  } catch (error) {
    return error;
  }
}

export interface LimitCheck {
  title: string;
  run(options: LimitOptions): Promise<LimitRow>;
}

export const LIMIT_CHECKS: LimitCheck[] = [
  {
    title: `refuses an API body over ${BODY_LIMIT_BYTES / 1024 / 1024} MiB with 413 and creates nothing`,
    run: (options) =>
      withApi(async ({ t, authorization, snapshot }) => {
        const before = await snapshot();
        const payload = JSON.stringify({ name: 'Big', email: 'big@example.com', metadata: { blob: 'x'.repeat(options.large ? 10 * BODY_LIMIT_BYTES : BODY_LIMIT_BYTES) } });
        const response = await t.app.inject({ method: 'POST', url: `${BASE}/customers`, headers: { authorization, 'content-type': 'application/json' }, payload });
        const problems: string[] = [];
        check(problems, response.statusCode === 413, `status ${response.statusCode}, expected 413`);
        const body = response.json<{ success?: boolean; error?: string }>();
        check(problems, body.success === false && body.error === 'Payload Too Large', `body ${response.body.slice(0, 200)}`);
        const nothingStored = same(await snapshot(), before);
        check(problems, nothingStored, 'something changed');
        return { bound: `API request body ≤ ${size(BODY_LIMIT_BYTES)}`, sent: `POST /customers, ${size(payload.length)} JSON`, answer: `${response.statusCode} ${short(response.body)}`, nothingStored, problems };
      }),
  },
  {
    title: 'refuses a purchase event over 1 MiB with 413 and stores nothing',
    run: (options) =>
      withApi(async ({ t, snapshot }) => {
        const before = await snapshot();
        const body = JSON.stringify({ id: 'evt_big', event_type: 'order.paid', data: { padding: 'x'.repeat((options.large ? 10 : 1) * 1024 * 1024) } });
        const response = await t.app.inject({
          method: 'POST',
          url: '/webhooks/store',
          headers: signedEventHeaders(SECRET, body),
          payload: body,
        });
        const problems: string[] = [];
        check(problems, response.statusCode === 413, `status ${response.statusCode}, expected 413`);
        const nothingStored = same(await snapshot(), before);
        check(problems, nothingStored, 'something was stored');
        return { bound: 'purchase event body ≤ 1 MiB', sent: `POST /webhooks/store, ${size(body.length)}, correctly signed`, answer: `${response.statusCode} ${short(response.body)}`, nothingStored, problems };
      }),
  },
  {
    title: `refuses a search longer than ${SEARCH_MAX_LENGTH} characters with 422 naming the parameter`,
    run: (options) =>
      withApi(async ({ t, authorization, snapshot }) => {
        const before = await snapshot();
        const length = options.large ? 100_000 : SEARCH_MAX_LENGTH + 1;
        const response = await t.app.inject({ method: 'GET', url: `${BASE}/customers?search=${'a'.repeat(length)}`, headers: { authorization } });
        const problems: string[] = [];
        check(problems, response.statusCode === 422, `status ${response.statusCode}, expected 422`);
        const body = response.json<{ message?: string; errors?: Record<string, string[]> }>();
        check(problems, /^search: /.test(body.message ?? ''), `message ${body.message}`);
        check(problems, (body.errors?.search?.[0] ?? '').includes(String(SEARCH_MAX_LENGTH)), `errors ${JSON.stringify(body.errors)}`);
        const nothingStored = same(await snapshot(), before);
        return { bound: `search ≤ ${SEARCH_MAX_LENGTH} characters`, sent: `GET /customers?search= ${length} characters`, answer: `${response.statusCode} ${short(body.message ?? '')}`, nothingStored, problems };
      }),
  },
  {
    title: 'refuses a query string of a thousand unknown parameters with 422, naming them',
    run: (options) =>
      withApi(async ({ t, authorization, snapshot }) => {
        const before = await snapshot();
        const count = options.large ? 20_000 : 1_000;
        const query = Array.from({ length: count }, (_, i) => `p${i}=${i}`).join('&');
        const response = await t.app.inject({ method: 'GET', url: `${BASE}/customers?${query}`, headers: { authorization } });
        const problems: string[] = [];
        check(problems, response.statusCode === 422, `status ${response.statusCode}, expected 422`);
        const message = response.json<{ message?: string }>().message ?? '';
        check(problems, /is not allowed/.test(message), `message ${message}`);
        const nothingStored = same(await snapshot(), before);
        return { bound: 'query string: only documented parameters', sent: `GET /customers with ${count} unknown parameters (${size(query.length)})`, answer: `${response.statusCode} ${short(message)}`, nothingStored, problems };
      }),
  },
  {
    title: `refuses metadata over ${METADATA_MAX_KEYS} keys or ${METADATA_MAX_BYTES / 1024} KiB with 422, also when merged a request at a time, and leaves the customer as it was`,
    run: (options) =>
      withApi(async ({ t, authorization, customerId, snapshot }) => {
        const problems: string[] = [];
        const before = await snapshot();
        const tooMany = Object.fromEntries(Array.from({ length: options.large ? 10 * METADATA_MAX_KEYS : METADATA_MAX_KEYS + 1 }, (_, i) => [`k${i}`, i]));
        const tooBig = { blob: 'x'.repeat(options.large ? 10 * METADATA_MAX_BYTES : METADATA_MAX_BYTES) };
        const answers: string[] = [];
        for (const metadata of [tooMany, tooBig]) {
          const response = await t.app.inject({ method: 'PATCH', url: `${BASE}/customers/${customerId}`, headers: { authorization }, payload: { metadata } });
          const message = response.json<{ message?: string }>().message ?? '';
          answers.push(`${response.statusCode} ${message}`);
          check(problems, response.statusCode === 422, `status ${response.statusCode}, expected 422`);
          check(problems, /^metadata: /.test(message) && new RegExp(`${METADATA_MAX_KEYS} keys|${METADATA_MAX_BYTES / 1024} KiB`).test(message), `message ${message}`);
        }
        check(problems, same(await snapshot(), before), 'an oversized metadata changed something');
        // Merging keys one request at a time cannot get past the bound either.
        const keys = Object.fromEntries(Array.from({ length: METADATA_MAX_KEYS - 1 }, (_, i) => [`m${i}`, i]));
        const merged = await t.app.inject({ method: 'PATCH', url: `${BASE}/customers/${customerId}`, headers: { authorization }, payload: { metadata: keys } });
        check(problems, merged.statusCode === 200, `merging up to the bound: ${merged.statusCode}`);
        const over = await t.app.inject({ method: 'PATCH', url: `${BASE}/customers/${customerId}`, headers: { authorization }, payload: { metadata: { one_more: true } } });
        check(problems, over.statusCode === 422, `one key past the bound: ${over.statusCode}`);
        const overMessage = over.json<{ message?: string }>().message;
        check(problems, overMessage === `metadata: must have at most ${METADATA_MAX_KEYS} keys and ${METADATA_MAX_BYTES / 1024} KiB as JSON`, `message ${overMessage}`);
        const after = (await snapshot()) as { customers: number; customer: { metadata: Record<string, unknown> } };
        check(problems, Object.keys(after.customer.metadata).length === METADATA_MAX_KEYS, `${Object.keys(after.customer.metadata).length} keys stored`);
        check(problems, !('one_more' in after.customer.metadata), 'the key past the bound was stored');
        const nothingStored = !('one_more' in after.customer.metadata) && after.customers === (before as { customers: number }).customers;
        return {
          bound: `customer metadata ≤ ${METADATA_MAX_KEYS} keys and ${METADATA_MAX_BYTES / 1024} KiB`,
          sent: `PATCH metadata of ${Object.keys(tooMany).length} keys; of ${size(tooBig.blob.length)}; ${METADATA_MAX_KEYS - 1} keys then one more`,
          answer: `${answers.map(short).join('; ')}; merged: ${merged.statusCode} then ${over.statusCode}`,
          nothingStored,
          problems,
        };
      }),
  },
  {
    title: `refuses a note over ${NOTE_MAX_LENGTH} characters with a message giving the bound and the length, and stores nothing`,
    run: (options) =>
      withApi(async ({ t, customerId, snapshot }) => {
        const problems: string[] = [];
        const before = await snapshot();
        const length = options.large ? 1_000_000 : NOTE_MAX_LENGTH + 1;
        const error = await refusal(addNote(t.db, t.clock, { customerId, author: staff, body: 'n'.repeat(length) }));
        check(problems, error instanceof UserError, `not a UserError: ${String(error)}`);
        const message = error instanceof Error ? error.message : String(error);
        check(problems, message === `A note must be 1 to ${NOTE_MAX_LENGTH} characters (this one is ${length}).`, `message ${message}`);
        const nothingStored = same(await snapshot(), before);
        check(problems, nothingStored, 'something was stored');
        return { bound: `note ≤ ${NOTE_MAX_LENGTH} characters`, sent: `a note of ${length} characters`, answer: `UserError: ${short(message)}`, nothingStored, problems };
      }),
  },
  {
    title: 'refuses a ban or unban reason over 500 characters with a message giving the bound, and changes no ban',
    run: (options) =>
      withApi(async ({ t, snapshot }) => {
        const problems: string[] = [];
        const length = options.large ? 100_000 : 501;
        const before = await snapshot();
        const banError = await refusal(createBan(t.db, t.clock, { type: 'email', target: 'spam@example.com', duration: '7d', reason: 'r'.repeat(length), actor: staff }));
        const banMessage = banError instanceof Error ? banError.message : String(banError);
        check(problems, banError instanceof UserError && banMessage === 'The reason must be between 1 and 500 characters.', `ban: ${banMessage}`);
        const banUnchanged = same(await snapshot(), before);
        const ban = await createBan(t.db, t.clock, { type: 'email', target: 'spam@example.com', duration: '7d', reason: 'chargebacks', actor: staff });
        const withBan = await snapshot();
        const liftError = await refusal(liftBan(t.db, t.clock, { banId: ban.id, actor: staff, reason: 'r'.repeat(length) }));
        const liftMessage = liftError instanceof Error ? liftError.message : String(liftError);
        check(problems, liftError instanceof UserError && liftMessage === 'The reason for lifting must be at most 500 characters.', `unban: ${liftMessage}`);
        const nothingStored = banUnchanged && same(await snapshot(), withBan);
        check(problems, nothingStored, 'a ban changed');
        return { bound: 'ban and unban reason ≤ 500 characters', sent: `a ban, then an unban, with a reason of ${length} characters`, answer: `UserError: ${banMessage} / ${liftMessage}`, nothingStored, problems };
      }),
  },
  {
    title: 'answers autocomplete for a 6,000-character input with at most 25 choices of at most 100 characters, reading only the first 100 characters',
    run: async () => {
      const h = await openTestContext({ discord: true });
      try {
        const problems: string[] = [];
        // More customers match than a list may hold, so the cap on choices is really reached.
        await insertCustomers(h.db, h.clock, Array.from({ length: 40 }, (_, i) => ({ name: `Aaron Limit ${i} ${'x'.repeat(85)}`, email: `aaron${i}@example.com` })));
        // Discord itself caps an option's value at 6,000 characters; nothing longer can arrive.
        const query = `aaron${' '.repeat(2_995)}${'z'.repeat(3_000)}`;
        const choices = await h.discord.autocomplete({ guildId: GUILD_ID, channelId: CHANNEL_ID, userId: STAFF_ID, name: 'customer', subcommand: 'lookup', options: { query }, focused: 'query' });
        check(problems, choices.length === 25, `${choices.length} choices, expected 25 of the 40 that match`);
        check(problems, choices.every((c) => c.name.length <= 100), 'a choice is over 100 characters');
        return { bound: 'autocomplete: ≤ 25 choices of ≤ 100 characters', sent: '/customer lookup autocomplete, 6,000 characters: "aaron", spaces, then "zzz…" (40 customers match "aaron", with names of about 100 characters)', answer: `${choices.length} choices, the longest ${Math.max(0, ...choices.map((c) => c.name.length))} characters`, nothingStored: null, problems };
      } finally {
        await h.close();
      }
    },
  },
  {
    title: 'refuses a command option past its declared max_length before the bot sees it',
    run: async (options) => {
      const h = await openTestContext({ discord: true });
      try {
        const problems: string[] = [];
        const length = options.large ? 6_000 : LOOKUP_QUERY_MAX_LENGTH + 1;
        const error = await refusal(h.discord.invokeSlash({ guildId: GUILD_ID, channelId: CHANNEL_ID, userId: STAFF_ID, name: 'customer', subcommand: 'lookup', options: { query: 'q'.repeat(length) } }));
        const message = error instanceof Error ? error.message : String(error);
        check(problems, error !== undefined && (message.includes(String(LOOKUP_QUERY_MAX_LENGTH)) || /length/i.test(message)), `answer ${message}`);
        return { bound: `lookup query ≤ ${LOOKUP_QUERY_MAX_LENGTH} characters (declared max_length)`, sent: `/customer lookup query of ${length} characters`, answer: `refused by Discord: ${short(message)}`, nothingStored: null, problems };
      } finally {
        await h.close();
      }
    },
  },
  {
    title: 'refuses an export over the upload limit, asking to narrow it, and leaves no file behind',
    run: async (options) => {
      const h = await openTestContext({ discord: true });
      const exportsDir = mkdtempSync(join(tmpdir(), 'limits-exports-'));
      try {
        const problems: string[] = [];
        const limit = 8 * 1024;
        // What the composition root passes; the cap is tiny so a few thousand rows are "too large".
        h.deps.exportsDir = exportsDir;
        h.deps.exportUploadLimitBytes = limit;
        const count = options.large ? 20_000 : 2_500;
        // Random hex, so the CSV hardly compresses and the cap is really exceeded.
        await insertCustomers(
          h.db,
          h.clock,
          Array.from({ length: count }, (_, i) => ({ name: `Customer ${i} ${randomBytes(12).toString('hex')}`, email: `c${i}.${randomBytes(6).toString('hex')}@example.com` })),
        );
        const handle: InteractionHandle = await h.discord.invokeSlash({ guildId: GUILD_ID, channelId: CHANNEL_ID, userId: ADMIN_ID, name: 'customer', subcommand: 'export', options: {} });
        await handle.settled(30_000);
        let content = '';
        for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
          content = handle.original()?.content ?? '';
          if (content !== '' && !content.startsWith('Exporting…')) break;
        }
        const uploads = h.discord.requests.filter((r) => r.files.length > 0).length;
        const left = [...readdirSync(exportsDir), ...readdirSync(h.deps.tempDir)];
        check(problems, /narrow/i.test(content), `answer ${content}`);
        check(problems, uploads === 0, `${uploads} uploads`);
        check(problems, left.length === 0, `files left: ${left.join(', ')}`);
        return {
          bound: `export ≤ the upload limit (${size(limit)} here; Discord's 10 MiB in production)`,
          sent: `/customer export of ${count} customers`,
          answer: short(content),
          nothingStored: uploads === 0 && left.length === 0,
          problems,
        };
      } finally {
        await h.close();
        rmSync(exportsDir, { recursive: true, force: true });
      }
    },
  },
];

export async function runResourceLimits(options: LimitOptions): Promise<LimitRow[]> {
  const rows: LimitRow[] = [];
  for (const limit of LIMIT_CHECKS) rows.push(await limit.run(options));
  return rows;
}
