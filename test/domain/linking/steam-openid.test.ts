import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listActivity } from '../../../src/domain/customers/activity-log.js';
import { createBan } from '../../../src/domain/bans/bans.js';
import { GENERIC_REFUSAL } from '../../../src/shared/errors.js';
import { insertCustomer } from '../../../src/domain/customers/registration.js';
import { encodeQuery, OPENID_NS, STEAM_SIGNED_FIELDS, type AssertionOptions } from '../../support/fake-steam.js';
import { ALICE_STEAM_ID, pageText, pathOf, startLinkHarness, type LinkHarness } from '../../support/link-harness.js';

const STAFF = { id: '2200000000000000100', name: 'Mod' };
const OTHER_STEAM_ID = '76561198000000002';
const steamUrl = (id: string) => `https://steamcommunity.com/openid/id/${id}`;

let h: LinkHarness;
beforeEach(async () => {
  h = await startLinkHarness();
});
afterEach(async () => {
  await h.close();
});

/** Opens a link and presses "Link Steam": the checkid_setup URL the customer is sent to. */
async function startSteam(linkPath?: string): Promise<string> {
  const res = await h.app.inject({ method: 'GET', url: `${linkPath ?? (await h.linkPath())}/steam` });
  expect(res.statusCode).toBe(302);
  return String(res.headers.location);
}

function sessionOf(loginUrl: string): string {
  const returnTo = new URL(new URL(loginUrl).searchParams.get('openid.return_to') ?? '');
  return returnTo.searchParams.get('session') ?? '';
}

/** The callback path for hand-made parameters: `session` first, as our return_to puts it. */
function callbackPath(session: string | null, params: readonly (readonly [string, string])[]): string {
  return `/link/steam/callback?${encodeQuery([...(session === null ? [] : [['session', session] as const]), ...params])}`;
}

async function get(path: string) {
  return h.app.inject({ method: 'GET', url: path });
}

/** Signs in at the (fake) Steam and comes back with its assertion. */
async function signIn(options?: AssertionOptions, loginUrl?: string) {
  return get(pathOf(h.steam.assert(loginUrl ?? (await startSteam()), options)));
}

async function expectNothingLinked(): Promise<void> {
  expect((await h.customer()).steam).toBeNull();
  expect(h.hookCalls).toEqual([]);
  expect(await listActivity(h.db, { action: 'customer.link_steam' })).toEqual([]);
}

async function expectRefused(res: Awaited<ReturnType<typeof get>>, reason: string, status = 400): Promise<void> {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toContain('text/html');
  expect(h.refusals()).toContain(reason);
  await expectNothingLinked();
}

describe('Steam sign-in', () => {
  it('sends the customer to the configured endpoint with an identifier_select checkid_setup bound to the attempt', async () => {
    const login = new URL(await startSteam());
    expect(`${login.origin}${login.pathname}`).toBe(h.steam.openIdUrl);
    const q = login.searchParams;
    expect(q.get('openid.ns')).toBe(OPENID_NS);
    expect(q.get('openid.mode')).toBe('checkid_setup');
    expect(q.get('openid.realm')).toBe('http://localhost:3000');
    expect(q.get('openid.identity')).toBe('http://specs.openid.net/auth/2.0/identifier_select');
    expect(q.get('openid.claimed_id')).toBe('http://specs.openid.net/auth/2.0/identifier_select');
    expect(q.get('openid.return_to')).toMatch(/^http:\/\/localhost:3000\/link\/steam\/callback\?session=[A-Za-z0-9_-]{43}$/);
  });

  it('links the Steam account after Steam confirms the assertion, with name and avatar from the Web API', async () => {
    const res = await signIn();
    expect(res.statusCode).toBe(200);
    expect(pageText(res.body)).toContain('Your Steam account <strong>AliceOnSteam</strong> is now linked to your store account.');
    expect((await h.customer()).steam).toEqual({ id: ALICE_STEAM_ID, username: 'AliceOnSteam', avatar: 'fe'.repeat(20) });
    expect(h.steam.calls.checkAuthentication).toBe(1);
    expect(h.steam.calls.playerSummaries).toBe(1);
    expect(h.hookCalls).toEqual([{ customerId: h.alice.id, change: { provider: 'steam', previousId: null, newId: ALICE_STEAM_ID } }]);
    const [entry] = await listActivity(h.db, { action: 'customer.link_steam' });
    expect(entry?.actor).toEqual({ id: `customer:${h.alice.id}`, name: 'customer' });
  });

  it('asks Steam with check_authentication every time, for every link', async () => {
    await signIn();
    h.steam.signedInAs = OTHER_STEAM_ID;
    await signIn();
    expect(h.steam.calls.checkAuthentication).toBe(2);
    expect((await h.customer()).steam?.id).toBe(OTHER_STEAM_ID);
    expect(h.hookCalls.map((c) => c.change)).toEqual([
      { provider: 'steam', previousId: null, newId: ALICE_STEAM_ID },
      { provider: 'steam', previousId: ALICE_STEAM_ID, newId: OTHER_STEAM_ID },
    ]);
  });

  it('links without a name or avatar when no Steam Web API key is set', async () => {
    await h.close();
    h = await startLinkHarness({ env: { STEAM_API_KEY: '' } });
    const res = await signIn();
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(ALICE_STEAM_ID);
    expect((await h.customer()).steam).toEqual({ id: ALICE_STEAM_ID, username: null, avatar: null });
    expect(h.steam.calls.playerSummaries).toBe(0);
  });

  it('says the customer cancelled when they cancel at Steam', async () => {
    const login = await startSteam();
    const res = await get(callbackPath(sessionOf(login), [['openid.ns', OPENID_NS], ['openid.mode', 'cancel']]));
    expect(res.statusCode).toBe(400);
    expect(pageText(res.body)).toContain('You cancelled at Steam, so nothing was linked.');
    await expectNothingLinked();
  });

  it('refuses a Steam account already linked to another customer', async () => {
    await insertCustomer(h.db, h.clock, { name: 'Bob', email: 'bob@example.com', steam: { id: ALICE_STEAM_ID } });
    const res = await signIn();
    expect(res.statusCode).toBe(409);
    expect(pageText(res.body)).toContain('This Steam account is already linked to another store account');
    await expectNothingLinked();
  });

  it('refuses a banned Steam account with the generic refusal', async () => {
    await createBan(h.db, h.clock, { type: 'game_id', target: ALICE_STEAM_ID, duration: 'permanent', reason: 'cheating', actor: STAFF });
    const res = await signIn();
    expect(res.statusCode).toBe(403);
    expect(pageText(res.body)).toContain(GENERIC_REFUSAL);
    await expectNothingLinked();
  });
});

describe('Steam assertions that are refused, each leaving the customer unlinked', () => {
  it('refuses an op_endpoint other than the configured Steam endpoint, without asking that endpoint', async () => {
    const res = await signIn({ overrides: { 'openid.op_endpoint': 'https://evil.example/openid/login' } });
    await expectRefused(res, 'wrong_op_endpoint');
    expect(h.steam.calls.checkAuthentication).toBe(0);
  });

  it('refuses a claimed_id on a foreign host while identity is on Steam', async () => {
    const res = await signIn({ overrides: { 'openid.claimed_id': `https://evil.example/openid/id/${ALICE_STEAM_ID}` } });
    await expectRefused(res, 'claimed_id_not_steam');
  });

  it('refuses a claimed_id that differs from identity', async () => {
    const res = await signIn({ overrides: { 'openid.claimed_id': steamUrl(OTHER_STEAM_ID) } });
    await expectRefused(res, 'claimed_id_mismatch');
  });

  it.each([
    ['plain http', `http://steamcommunity.com/openid/id/${ALICE_STEAM_ID}`],
    ['16 digits', 'https://steamcommunity.com/openid/id/7656119800000001'],
    ['18 digits', 'https://steamcommunity.com/openid/id/765611980000000011'],
    ['a trailing slash', `https://steamcommunity.com/openid/id/${ALICE_STEAM_ID}/`],
    ['a look-alike host', `https://steamcommunity.com.evil.example/openid/id/${ALICE_STEAM_ID}`],
    ['an explicit port', `https://steamcommunity.com:443/openid/id/${ALICE_STEAM_ID}`],
    ['a query string', `https://steamcommunity.com/openid/id/${ALICE_STEAM_ID}?x=1`],
    ['user info before the host', `https://steamcommunity.com@evil.example/openid/id/${ALICE_STEAM_ID}`],
  ])('refuses a claimed_id and identity that are not exactly a Steam id URL: %s', async (_what, id) => {
    const res = await signIn({ overrides: { 'openid.claimed_id': id, 'openid.identity': id } });
    await expectRefused(res, 'claimed_id_not_steam');
  });

  it('refuses an identity that is not a Steam id URL while claimed_id is', async () => {
    const res = await signIn({ overrides: { 'openid.identity': `https://evil.example/openid/id/${ALICE_STEAM_ID}` } });
    await expectRefused(res, 'identity_not_steam');
  });

  it('refuses a SteamID64 that is not an individual account', async () => {
    const res = await signIn({ overrides: { 'openid.claimed_id': steamUrl('12345678901234567'), 'openid.identity': steamUrl('12345678901234567') } });
    await expectRefused(res, 'not_an_individual_account');
  });

  it('refuses a wrong openid.ns', async () => {
    const res = await signIn({ overrides: { 'openid.ns': 'http://openid.net/signon/1.1' } });
    await expectRefused(res, 'wrong_ns');
  });

  it('refuses a mode other than id_res', async () => {
    const res = await signIn({ overrides: { 'openid.mode': 'check_authentication' } });
    await expectRefused(res, 'wrong_mode');
  });

  it('refuses an extra openid parameter', async () => {
    const login = await startSteam();
    const res = await get(`${pathOf(h.steam.assert(login))}&openid.ext1.value=1`);
    await expectRefused(res, 'unexpected_parameter');
  });

  it('refuses an extra parameter outside openid', async () => {
    const login = await startSteam();
    const res = await get(`${pathOf(h.steam.assert(login))}&redirect=https%3A%2F%2Fevil.example`);
    await expectRefused(res, 'unexpected_parameter');
  });

  it('refuses a duplicated parameter even when both copies are the same', async () => {
    const login = await startSteam();
    const res = await get(`${pathOf(h.steam.assert(login))}&openid.claimed_id=${encodeURIComponent(steamUrl(ALICE_STEAM_ID))}`);
    await expectRefused(res, 'duplicate_parameter');
  });

  it('refuses a duplicated claimed_id naming another account', async () => {
    const login = await startSteam();
    const path = pathOf(h.steam.assert(login));
    const res = await get(`${path}&openid.claimed_id=${encodeURIComponent(steamUrl(OTHER_STEAM_ID))}`);
    await expectRefused(res, 'duplicate_parameter');
  });

  it('refuses a duplicated session parameter', async () => {
    const login = await startSteam();
    const res = await get(`${pathOf(h.steam.assert(login))}&session=${sessionOf(login)}`);
    await expectRefused(res, 'duplicate_parameter');
  });

  it('refuses a NUL byte in a value', async () => {
    const login = await startSteam();
    const res = await get(pathOf(h.steam.assert(login)).replace(/(openid\.identity=[^&]*)/, '$1%00'));
    await expectRefused(res, 'control_character');
  });

  it('refuses a NUL byte in a parameter name', async () => {
    const login = await startSteam();
    const res = await get(pathOf(h.steam.assert(login)).replace('openid.assoc_handle=', 'openid.assoc_handle%00='));
    await expectRefused(res, 'control_character');
  });

  it('refuses a control character (line feed) in a value', async () => {
    const login = await startSteam();
    const res = await get(pathOf(h.steam.assert(login)).replace(/(openid\.assoc_handle=[^&]*)/, '$1%0Ais_valid:true'));
    await expectRefused(res, 'control_character');
  });

  it('refuses malformed percent-encoding', async () => {
    const login = await startSteam();
    const res = await get(`${pathOf(h.steam.assert(login))}%E0%A4%A`);
    await expectRefused(res, 'malformed_query');
  });

  it.each(['op_endpoint', 'claimed_id', 'identity', 'return_to', 'response_nonce', 'assoc_handle'])(
    'refuses an openid.signed that does not cover %s',
    async (field) => {
      const res = await signIn({ signed: STEAM_SIGNED_FIELDS.filter((f) => f !== field) });
      await expectRefused(res, 'unsigned_fields');
    },
  );

  it('refuses an assertion Steam answers is_valid:false for', async () => {
    h.steam.answerInvalid = true;
    const res = await signIn();
    await expectRefused(res, 'not_valid');
    expect(h.steam.calls.checkAuthentication).toBe(1);
  });

  it('refuses an assertion whose signed account was swapped after signing (Steam does not vouch for it)', async () => {
    const login = await startSteam();
    const swapped = pathOf(h.steam.assert(login)).replaceAll(ALICE_STEAM_ID, OTHER_STEAM_ID);
    await expectRefused(await get(swapped), 'not_valid');
  });

  it('refuses a replayed response_nonce', async () => {
    const callback = pathOf(h.steam.assert(await startSteam()));
    expect((await get(callback)).statusCode).toBe(200);
    await h.db.updateTable('customers').set({ steam_id: null, steam_username: null, steam_avatar: null }).execute();
    h.hookCalls.length = 0;

    const replay = await get(callback);
    expect(replay.statusCode).toBe(400);
    expect(h.refusals()).toContain('nonce_replayed');
    expect((await h.customer()).steam).toBeNull();
    expect(h.hookCalls).toEqual([]);
    expect(h.steam.calls.checkAuthentication).toBe(1);
  });

  it('refuses a response_nonce older than a few minutes', async () => {
    const res = await signIn({ issuedAt: new Date(h.clock.now().getTime() - 6 * 60_000) });
    await expectRefused(res, 'stale_nonce');
  });

  it('refuses a response_nonce from the future', async () => {
    const res = await signIn({ issuedAt: new Date(h.clock.now().getTime() + 5 * 60_000) });
    await expectRefused(res, 'stale_nonce');
  });

  it('refuses a response_nonce without a timestamp', async () => {
    const res = await signIn({ overrides: { 'openid.response_nonce': 'not-a-timestamp' } });
    await expectRefused(res, 'bad_nonce');
  });

  it('refuses an assertion without a link session', async () => {
    const login = await startSteam();
    const res = await get(callbackPath(null, h.steam.assertionParams(login)));
    await expectRefused(res, 'missing_parameter');
  });

  it('refuses an unknown link session, even with a return_to that names it', async () => {
    const forged = 'B'.repeat(43);
    const login = await startSteam();
    const params = h.steam.assertionParams(login, { overrides: { 'openid.return_to': `http://localhost:3000/link/steam/callback?session=${forged}` } });
    await expectRefused(await get(callbackPath(forged, params)), 'session_unknown');
  });

  it('refuses a stale link session', async () => {
    const login = await startSteam();
    h.clock.advance(16 * 60_000);
    const res = await signIn({}, login);
    await expectRefused(res, 'session_expired', 410);
    expect(pageText(res.body)).toContain('This link has expired. Ask the store for a new link.');
  });

  it('refuses a used link session', async () => {
    const login = await startSteam();
    // Spent by another tab between this attempt's start and its return.
    await h.db.updateTable('link_sessions').set({ used_at: h.clock.now().toISOString(), linked_provider: 'discord' }).execute();
    await expectRefused(await signIn({}, login), 'session_used', 410);
  });

  it('refuses a session whose attempt was already used (the same sign-in arriving twice)', async () => {
    const login = await startSteam();
    const first = h.steam.assert(login);
    const second = h.steam.assert(login);
    expect((await get(pathOf(first))).statusCode).toBe(200);
    await h.db.updateTable('customers').set({ steam_id: null, steam_username: null, steam_avatar: null }).execute();
    h.hookCalls.length = 0;
    const res = await get(pathOf(second));
    expect(res.statusCode).toBe(400);
    expect(h.refusals()).toContain('session_unknown');
    expect((await h.customer()).steam).toBeNull();
    expect(h.hookCalls).toEqual([]);
  });

  it.each([
    ['another origin', (s: string) => `https://evil.example/link/steam/callback?session=${s}`],
    ['https instead of our http', (s: string) => `https://localhost:3000/link/steam/callback?session=${s}`],
    ['another path', (s: string) => `http://localhost:3000/link/steam/callback2?session=${s}`],
    ['another session', () => `http://localhost:3000/link/steam/callback?session=${'C'.repeat(43)}`],
    ['an extra parameter', (s: string) => `http://localhost:3000/link/steam/callback?session=${s}&next=%2F`],
  ])('refuses an openid.return_to that is not exactly ours: %s', async (_what, returnTo) => {
    const login = await startSteam();
    const res = await signIn({ overrides: { 'openid.return_to': returnTo(sessionOf(login)) } }, login);
    await expectRefused(res, 'wrong_return_to');
  });

  it('leaves the attempt usable after a refusal that needed neither Steam nor the session', async () => {
    const login = await startSteam();
    await signIn({ overrides: { 'openid.op_endpoint': 'https://evil.example/openid/login' } }, login);
    const honest = await signIn({}, login);
    expect(honest.statusCode).toBe(200);
    expect((await h.customer()).steam?.id).toBe(ALICE_STEAM_ID);
  });
});
