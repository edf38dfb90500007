import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listActivity } from '../../../src/domain/customers/activity-log.js';
import { createBan } from '../../../src/domain/bans/bans.js';
import { GENERIC_REFUSAL } from '../../../src/shared/errors.js';
import { discordOAuthEndpoints } from '../../../src/domain/linking/discord-oauth.js';
import { insertCustomer } from '../../../src/domain/customers/registration.js';
import { ALICE_DISCORD, MALLORY_DISCORD, pageText, pathOf, startLinkHarness, type LinkHarness } from '../../support/link-harness.js';

const STAFF = { id: '2200000000000000100', name: 'Mod' };

let h: LinkHarness;
beforeEach(async () => {
  h = await startLinkHarness();
});
afterEach(async () => {
  await h.close();
});

/** Opens the link, presses "Link Discord", and returns the authorize URL the customer is sent to. */
async function startDiscord(linkPath: string): Promise<string> {
  const res = await h.app.inject({ method: 'GET', url: `${linkPath}/discord` });
  expect(res.statusCode).toBe(302);
  return String(res.headers.location);
}

async function callback(url: string, remoteAddress?: string) {
  return h.app.inject({ method: 'GET', url: pathOf(url), ...(remoteAddress ? { remoteAddress } : {}) });
}

describe('linking a Discord account', () => {
  it('derives the OAuth endpoints from DISCORD_API_URL', () => {
    expect(discordOAuthEndpoints('https://discord.com/api')).toEqual({
      authorize: 'https://discord.com/oauth2/authorize',
      token: 'https://discord.com/api/oauth2/token',
      me: 'https://discord.com/api/v10/users/@me',
    });
    expect(discordOAuthEndpoints('http://127.0.0.1:8080/proxy/api/')).toEqual({
      authorize: 'http://127.0.0.1:8080/oauth2/authorize',
      token: 'http://127.0.0.1:8080/proxy/api/oauth2/token',
      me: 'http://127.0.0.1:8080/proxy/api/v10/users/@me',
    });
  });

  it('sends the customer to Discord with code, identify, the exact redirect URI, a state and an S256 challenge', async () => {
    const authorize = new URL(await startDiscord(await h.linkPath()));
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${new URL(h.discord.apiUrl).origin}/oauth2/authorize`);
    const q = authorize.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(h.discord.clientId);
    expect(q.get('scope')).toBe('identify');
    expect(q.get('redirect_uri')).toBe('http://localhost:3000/link/discord/callback');
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('code_challenge_method')).toBe('S256');
  });

  it('links the account after the code exchange, stores id, username and avatar, and tells the customer', async () => {
    const back = h.discord.approve(await startDiscord(await h.linkPath()));
    const res = await callback(back, '81.2.69.160');

    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Your Discord account <strong>alice</strong> is now linked to your store account.');
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    const alice = await h.customer();
    expect(alice.discord).toEqual({ id: ALICE_DISCORD.id, username: 'alice', avatar: ALICE_DISCORD.avatar });
    expect(alice.country).toBe('GB');
    const row = await h.db.selectFrom('customers').select('last_ip').where('id', '=', alice.id).executeTakeFirstOrThrow();
    expect(row.last_ip).toBe('81.2.69.160');
    expect(h.hookCalls).toEqual([{ customerId: alice.id, change: { provider: 'discord', previousId: null, newId: ALICE_DISCORD.id } }]);
    const [entry] = await listActivity(h.db, { targetType: 'customer', targetId: alice.id, action: 'customer.link_discord' });
    expect(entry?.actor).toEqual({ id: `customer:${alice.id}`, name: 'customer' });
    expect(h.discord.calls).toMatchObject({ token: 1, tokenRefused: 0, me: 1 });
  });

  it('keeps a legacy discriminator in the stored username', async () => {
    h.discord.signedInAs = MALLORY_DISCORD.id;
    const res = await callback(h.discord.approve(await startDiscord(await h.linkPath())));
    expect(res.statusCode).toBe(200);
    expect((await h.customer()).discord?.username).toBe('mallory#1337');
  });

  it('refuses a forged state and changes nothing', async () => {
    const authorize = await startDiscord(await h.linkPath());
    const back = new URL(h.discord.approve(authorize));
    back.searchParams.set('state', 'A'.repeat(43));

    const res = await callback(back.toString());
    expect(res.statusCode).toBe(400);
    expect(pageText(res.body)).toContain("We couldn't confirm your Discord sign-in, so nothing was linked.");
    expect((await h.customer()).discord).toBeNull();
    expect(h.hookCalls).toEqual([]);
    expect(h.discord.calls.token).toBe(0);
    expect(h.refusals()).toContain('state_unknown');
  });

  it('refuses a replayed state: the callback URL works once', async () => {
    const back = h.discord.approve(await startDiscord(await h.linkPath()));
    expect((await callback(back)).statusCode).toBe(200);
    await h.db.updateTable('customers').set({ discord_id: null, discord_username: null, discord_avatar: null }).execute();

    const replay = await callback(back);
    expect(replay.statusCode).toBe(400);
    expect((await h.customer()).discord).toBeNull();
    expect(h.hookCalls).toHaveLength(1);
    expect(h.discord.calls.token).toBe(1);
  });

  it('refuses a state superseded by a newer attempt on the same link', async () => {
    const linkPath = await h.linkPath();
    const first = h.discord.approve(await startDiscord(linkPath));
    await startDiscord(linkPath);
    const res = await callback(first);
    expect(res.statusCode).toBe(400);
    expect((await h.customer()).discord).toBeNull();
  });

  it('refuses a callback that arrives after the link expired, and changes nothing', async () => {
    const back = h.discord.approve(await startDiscord(await h.linkPath()));
    h.clock.advance(15 * 60_000 + 1);
    const res = await callback(back);
    expect(res.statusCode).toBe(410);
    expect(pageText(res.body)).toContain('This link has expired. Ask the store for a new link.');
    expect((await h.customer()).discord).toBeNull();
    expect(h.discord.calls.token).toBe(0);
  });

  it('refuses a Discord account already linked to another customer, with a page that says so', async () => {
    const other = await insertCustomer(h.db, h.clock, { name: 'Bob', email: 'bob@example.com', discord: { id: ALICE_DISCORD.id, username: 'alice' } });
    const res = await callback(h.discord.approve(await startDiscord(await h.linkPath())));
    expect(res.statusCode).toBe(409);
    expect(pageText(res.body)).toContain('This Discord account is already linked to another store account');
    expect((await h.customer()).discord).toBeNull();
    expect((await h.customer(other.id)).discord?.id).toBe(ALICE_DISCORD.id);
    expect(h.hookCalls).toEqual([]);
  });

  it('refuses a banned Discord account with the generic refusal, and links nothing', async () => {
    await createBan(h.db, h.clock, { type: 'discord', target: ALICE_DISCORD.id, duration: 'permanent', reason: 'chargebacks', actor: STAFF });
    const res = await callback(h.discord.approve(await startDiscord(await h.linkPath())));
    expect(res.statusCode).toBe(403);
    expect(pageText(res.body)).toContain(GENERIC_REFUSAL);
    expect(res.body).not.toMatch(/bann/i);
    expect((await h.customer()).discord).toBeNull();
    expect(h.hookCalls).toEqual([]);
    expect(await listActivity(h.db, { action: 'customer.link_discord' })).toEqual([]);
  });

  it('refuses a banned customer linking any account, with the generic refusal', async () => {
    await createBan(h.db, h.clock, { type: 'customer', target: String(h.alice.id), duration: '7d', reason: 'fraud', actor: STAFF });
    const res = await callback(h.discord.approve(await startDiscord(await h.linkPath())));
    expect(res.statusCode).toBe(403);
    expect((await h.customer()).discord).toBeNull();
  });

  it('re-linking replaces the Discord account and tells the hook which id it replaced', async () => {
    await callback(h.discord.approve(await startDiscord(await h.linkPath())));
    h.discord.signedInAs = MALLORY_DISCORD.id;
    const res = await callback(h.discord.approve(await startDiscord(await h.linkPath())));

    expect(res.statusCode).toBe(200);
    expect((await h.customer()).discord?.id).toBe(MALLORY_DISCORD.id);
    expect(h.hookCalls.map((c) => c.change)).toEqual([
      { provider: 'discord', previousId: null, newId: ALICE_DISCORD.id },
      { provider: 'discord', previousId: ALICE_DISCORD.id, newId: MALLORY_DISCORD.id },
    ]);
  });

  it('rolls the link back when the role hook fails, and shows a reference instead of internals', async () => {
    h.setHook(() => Promise.reject(new Error('role queue down: SQLITE_BUSY at /srv/app/x.ts:12')));
    const res = await callback(h.discord.approve(await startDiscord(await h.linkPath())));
    expect(res.statusCode).toBe(500);
    expect(res.body).toMatch(/Reference: [0-9a-f]{6}/);
    expect(res.body).not.toContain('SQLITE');
    expect((await h.customer()).discord).toBeNull();
    const session = await h.db.selectFrom('link_sessions').select('used_at').executeTakeFirstOrThrow();
    expect(session.used_at).toBeNull();
  });

  it('spends the link: a second link through the same URL is refused', async () => {
    const linkPath = await h.linkPath();
    await callback(h.discord.approve(await startDiscord(linkPath)));
    const again = await h.app.inject({ method: 'GET', url: `${linkPath}/discord` });
    expect(again.statusCode).toBe(410);
    expect(pageText(again.body)).toContain('This link has already been used.');
  });

  it('shows a plain page, changing nothing, when Discord refuses the code exchange', async () => {
    h.discord.failTokenWith = 500;
    const res = await callback(h.discord.approve(await startDiscord(await h.linkPath())));
    expect(res.statusCode).toBe(502);
    expect(pageText(res.body)).toContain("We couldn't reach Discord to confirm your account, so nothing was linked.");
    expect((await h.customer()).discord).toBeNull();
  });

  it('says the customer cancelled when they deny access at Discord', async () => {
    const authorize = new URL(await startDiscord(await h.linkPath()));
    const res = await h.app.inject({
      method: 'GET',
      url: `/link/discord/callback?error=access_denied&state=${authorize.searchParams.get('state')}`,
    });
    expect(res.statusCode).toBe(400);
    expect(pageText(res.body)).toContain('You cancelled at Discord, so nothing was linked.');
  });
});

describe('the link page', () => {
  it('offers both buttons and shows what is already linked, escaped', async () => {
    await h.db.updateTable('customers').set({ steam_id: '76561198000000009', steam_username: '<b>Al & "Co"</b>' }).execute();
    const res = await h.app.inject({ method: 'GET', url: await h.linkPath() });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<html lang="en">');
    expect(res.body).toContain('<title>Link your accounts</title>');
    expect(res.body.match(/<h1>/g)).toHaveLength(1);
    expect(res.body).toContain('>Link Discord</a>');
    expect(res.body).toContain('>Link Steam</a>');
    expect(res.body).toContain('Discord: not linked yet');
    expect(res.body).toContain('Steam: <strong>&lt;b&gt;Al &amp; &quot;Co&quot;&lt;/b&gt;</strong> is linked');
    expect(res.body).toContain(':focus-visible');
    expect(res.body).not.toMatch(/<script|https?:\/\/(?!www\.w3)/i);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('says an expired link has expired, and an unknown one is not valid', async () => {
    const linkPath = await h.linkPath();
    h.clock.advance(15 * 60_000);
    const expired = await h.app.inject({ method: 'GET', url: linkPath });
    expect(expired.statusCode).toBe(410);
    expect(pageText(expired.body)).toContain('This link has expired. Ask the store for a new link.');

    const unknown = await h.app.inject({ method: 'GET', url: `/link/${'x'.repeat(43)}` });
    expect(unknown.statusCode).toBe(404);
    expect(pageText(unknown.body)).toContain("This link isn't valid.");
  });
});
