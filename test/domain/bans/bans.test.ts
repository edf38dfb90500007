import { describe, expect, it } from 'vitest';
import { listActivity } from '../../../src/domain/customers/activity-log.js';
import {
  checkIdentifiers,
  createBan,
  describeBan,
  findActiveBansForCustomer,
  getBan,
  liftBan,
  listBans,
  previewBan,
  refusalFor,
  type CreateBanInput,
} from '../../../src/domain/bans/bans.js';
import type { ManualClock } from '../../../src/shared/clock.js';
import { GENERIC_REFUSAL, UserError } from '../../../src/shared/errors.js';
import type { Actor } from '../../../src/domain/customers/types.js';
import type { Db } from '../../../src/store/database.js';
import type { NewCustomerRow } from '../../../src/store/schema/index.js';
import { useTestContext } from '../../support/context.js';

const MOD: Actor = { id: '111111111111111111', name: 'Mod' };
const ADMIN: Actor = { id: '222222222222222222', name: 'Admin' };
const START = '2026-11-22T12:00:00.000Z';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const ALICE_DISCORD = '123456789012345678';
const ALICE_STEAM = '76561198000000001';
const BOB_DISCORD = '223456789012345678';

let db: Db;
let clock: ManualClock;

useTestContext({ now: START }, (context) => ({ db, clock } = context));

async function insertCustomer(fields: Partial<NewCustomerRow> & { email: string }): Promise<number> {
  const row = await db
    .insertInto('customers')
    .values({
      name: fields.email.split('@')[0] ?? 'someone',
      email_lower: fields.email.toLowerCase(),
      created_at: START,
      updated_at: START,
      ...fields,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function insertAlice(): Promise<number> {
  return insertCustomer({
    name: 'Alice',
    email: 'Alice@Example.com',
    discord_id: ALICE_DISCORD,
    steam_id: ALICE_STEAM,
    game_user_id: 'AliceMC',
    last_ip: '203.0.113.7',
  });
}

function ban(overrides: Partial<CreateBanInput> & Pick<CreateBanInput, 'type' | 'target'>): CreateBanInput {
  return { duration: 'permanent', reason: 'chargeback abuse', actor: MOD, ...overrides };
}

async function counts(): Promise<{ bans: number; activity: number }> {
  const bans = await db.selectFrom('bans').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const activity = await db.selectFrom('activity_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { bans: Number(bans.n), activity: Number(activity.n) };
}

async function userError(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected a UserError');
}

async function isAllowed(ids: Parameters<typeof checkIdentifiers>[2]): Promise<boolean> {
  return (await checkIdentifiers(db, clock, ids)).allowed;
}

describe('creating bans', () => {
  it('records who created a ban and when, and logs ban.create', async () => {
    const created = await createBan(db, clock, ban({ type: 'email', target: ' Bob@Example.com ', duration: '7d', reason: '  chargeback abuse ' }));

    expect(created).toMatchObject({
      type: 'email',
      value: 'bob@example.com',
      customerId: null,
      reason: 'chargeback abuse',
      createdBy: MOD,
      createdAt: START,
      expiresAt: '2026-11-29T12:00:00.000Z',
      liftedAt: null,
      liftedBy: null,
      active: true,
    });
    expect(await getBan(db, clock, created.id)).toEqual(created);

    const [entry] = await listActivity(db, { action: 'ban.create' });
    expect(entry).toMatchObject({
      actor: MOD,
      action: 'ban.create',
      targetType: 'ban',
      targetId: String(created.id),
      details: { type: 'email', duration: '7 days', expiresAt: '2026-11-29T12:00:00.000Z', customerId: null },
      createdAt: START,
    });
  });

  it('links a ban on an identifier to the customer who owns it', async () => {
    const alice = await insertAlice();
    const targets = [
      ['email', 'ALICE@example.com'],
      ['discord', `<@${ALICE_DISCORD}>`],
      ['game_id', `https://steamcommunity.com/profiles/${ALICE_STEAM}`],
      ['game_id', 'AliceMC'],
      ['customer', `#${alice}`],
    ] as const;
    for (const [type, target] of targets) {
      const created = await createBan(db, clock, ban({ type, target }));
      expect([type, target, created.customerId]).toEqual([type, target, alice]);
    }
  });

  it('never ties an IP ban to a customer, so a last IP is not revealed to staff', async () => {
    await insertAlice();
    const created = await createBan(db, clock, ban({ type: 'ip', target: '203.0.113.7' }));
    expect(created.customerId).toBeNull();
    expect((await previewBan(db, clock, { type: 'ip', target: '203.0.113.0/24', duration: '24h', reason: 'x' })).customer).toBeNull();
  });

  it('stores IP bans with their canonical value and hex range', async () => {
    const created = await createBan(db, clock, ban({ type: 'ip', target: '10.1.2.3/8' }));
    expect(created.value).toBe('10.0.0.0/8');
    const row = await db.selectFrom('bans').select(['ip_start', 'ip_end']).where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ ip_start: '00000000000000000000ffff0a000000', ip_end: '00000000000000000000ffff0affffff' });
  });

  it('refuses a customer ban for a customer that does not exist', async () => {
    const error = await userError(createBan(db, clock, ban({ type: 'customer', target: 'id:42' })));
    expect(error.code).toBe('customer_not_found');
    expect(error.message).toBe('No customer with id 42.');
  });

  it('refuses a duplicate active ban but allows a new one once the old one has expired or been lifted', async () => {
    const first = await createBan(db, clock, ban({ type: 'email', target: 'bob@example.com', duration: '24h' }));
    const duplicate = await userError(createBan(db, clock, ban({ type: 'email', target: 'BOB@example.com' })));
    expect(duplicate.code).toBe('already_banned');
    expect(duplicate.message).toBe(`That email address is already banned (ban #${first.id}).`);

    const range = await createBan(db, clock, ban({ type: 'ip', target: '10.0.0.0/8' }));
    expect((await userError(createBan(db, clock, ban({ type: 'ip', target: '::ffff:10.1.0.0/104' })))).message).toBe(
      `That IP range is already banned (ban #${range.id}).`,
    );

    clock.advance(DAY);
    const second = await createBan(db, clock, ban({ type: 'email', target: 'bob@example.com' }));
    await liftBan(db, clock, { banId: second.id, actor: MOD });
    await expect(createBan(db, clock, ban({ type: 'email', target: 'bob@example.com' }))).resolves.toMatchObject({ active: true });
  });

  it('changes nothing when the input is refused', async () => {
    await createBan(db, clock, ban({ type: 'discord', target: BOB_DISCORD }));
    const before = await counts();
    const refused = [
      ban({ type: 'email', target: 'not-an-email' }),
      ban({ type: 'ip', target: '10.0.0.0/33' }),
      ban({ type: 'discord', target: 'bob#1234' }),
      ban({ type: 'game_id', target: 'x'.repeat(65) }),
      ban({ type: 'customer', target: 'bob' }),
      ban({ type: 'customer', target: '999' }),
      ban({ type: 'email', target: 'bob@example.com', duration: 'forever' }),
      ban({ type: 'email', target: 'bob@example.com', duration: '30s' }),
      ban({ type: 'email', target: 'bob@example.com', reason: '   ' }),
      ban({ type: 'email', target: 'bob@example.com', reason: 'x'.repeat(501) }),
      ban({ type: 'discord', target: `<@${BOB_DISCORD}>` }),
      { ...ban({ type: 'email', target: 'bob@example.com' }), type: 'phone' as never },
    ];
    const codes: string[] = [];
    for (const input of refused) codes.push((await userError(createBan(db, clock, input))).code);
    expect(codes).toEqual([
      'bad_email',
      'bad_ip',
      'bad_discord_id',
      'bad_game_id',
      'bad_customer_id',
      'customer_not_found',
      'bad_duration',
      'bad_duration',
      'reason_length',
      'reason_length',
      'already_banned',
      'bad_ban_type',
    ]);
    expect(await counts()).toEqual(before);
  });

  it('accepts a reason of exactly 500 characters', async () => {
    const created = await createBan(db, clock, ban({ type: 'email', target: 'bob@example.com', reason: ` ${'x'.repeat(500)} ` }));
    expect(created.reason).toHaveLength(500);
  });

  it('joins a transaction it is given, so a rollback undoes the ban and its log entry', async () => {
    const failure = new Error('rolled back');
    await expect(
      db.transaction().execute(async (trx) => {
        await createBan(trx, clock, ban({ type: 'email', target: 'bob@example.com' }));
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await counts()).toEqual({ bans: 0, activity: 0 });
  });
});

describe('previewing a ban', () => {
  it('shows what would be banned, for how long and whose it is, without writing', async () => {
    const alice = await insertAlice();
    const preview = await previewBan(db, clock, { type: 'discord', target: `<@!${ALICE_DISCORD}>`, duration: '1d12h', reason: ' alt account ', actor: MOD });
    expect(preview).toEqual({
      type: 'discord',
      value: ALICE_DISCORD,
      durationLabel: '1 day 12 hours',
      durationMs: 36 * HOUR,
      expiresAt: '2026-11-24T00:00:00.000Z',
      reason: 'alt account',
      customer: { id: alice, name: 'Alice', email: 'Alice@Example.com' },
    });
    expect(await counts()).toEqual({ bans: 0, activity: 0 });
  });

  it('refuses in preview what creating would refuse', async () => {
    await createBan(db, clock, ban({ type: 'email', target: 'bob@example.com' }));
    expect((await userError(previewBan(db, clock, { type: 'email', target: 'bob@example.com', duration: '7d', reason: 'again' }))).code).toBe('already_banned');
    expect((await userError(previewBan(db, clock, { type: 'email', target: 'bob@example.com', duration: '7 fortnights', reason: 'x' }))).code).toBe(
      'bad_duration',
    );
  });
});

describe('checking identifiers at checkout and registration', () => {
  const identifiers = {
    email: { email: 'carol@example.com' },
    ip: { ip: '198.51.100.9' },
    discord: { discordId: '323456789012345678' },
    game_id: { gameId: 'CarolMC' },
  } as const;

  it.each(['email', 'ip', 'discord', 'game_id'] as const)('blocks the identifier a %s ban names, and no other', async (type) => {
    const target = Object.values(identifiers[type])[0]!;
    await createBan(db, clock, ban({ type, target }));

    expect(await isAllowed(identifiers[type])).toBe(false);
    for (const [otherType, ids] of Object.entries(identifiers)) {
      if (otherType !== type) expect([otherType, await isAllowed(ids)]).toEqual([otherType, true]);
    }
    // The same text presented as another kind of identifier is not a match.
    expect(await isAllowed({ email: `${target}@example.org`, gameId: type === 'game_id' ? 'other' : target })).toBe(true);
  });

  it('blocks a Steam ID presented as either the Steam ID or the game id', async () => {
    await createBan(db, clock, ban({ type: 'game_id', target: ALICE_STEAM }));
    expect(await isAllowed({ steamId: ALICE_STEAM })).toBe(false);
    expect(await isAllowed({ gameId: ALICE_STEAM })).toBe(false);
    expect(await isAllowed({ steamId: `https://steamcommunity.com/profiles/${ALICE_STEAM}` })).toBe(false);
    expect(await isAllowed({ discordId: ALICE_STEAM })).toBe(true);
  });

  it('matches emails case-insensitively and Discord mentions by their id', async () => {
    await createBan(db, clock, ban({ type: 'email', target: 'carol@example.com' }));
    await createBan(db, clock, ban({ type: 'discord', target: '323456789012345678' }));
    expect(await isAllowed({ email: '  CAROL@Example.COM ' })).toBe(false);
    expect(await isAllowed({ discordId: '<@323456789012345678>' })).toBe(false);
  });

  it('blocks every address of a banned IPv4 range, however it is written, and nothing outside', async () => {
    await createBan(db, clock, ban({ type: 'ip', target: '192.168.1.0/24' }));
    expect(await isAllowed({ ip: '192.168.1.0' })).toBe(false);
    expect(await isAllowed({ ip: '192.168.1.255' })).toBe(false);
    expect(await isAllowed({ ip: '::ffff:192.168.1.20' })).toBe(false);
    expect(await isAllowed({ ip: '192.168.0.255' })).toBe(true);
    expect(await isAllowed({ ip: '192.168.2.0' })).toBe(true);
    expect(await isAllowed({ ip: '2001:db8::192.168.1.20' })).toBe(true);
  });

  it('blocks an IPv4 address banned in IPv4-mapped IPv6 form', async () => {
    await createBan(db, clock, ban({ type: 'ip', target: '::ffff:203.0.113.7' }));
    expect(await isAllowed({ ip: '203.0.113.7' })).toBe(false);
    expect(await isAllowed({ ip: '203.0.113.8' })).toBe(true);
  });

  it('blocks an IPv6 range from its first to its last address', async () => {
    await createBan(db, clock, ban({ type: 'ip', target: '2001:db8:abcd::/48' }));
    expect(await isAllowed({ ip: '2001:db8:abcd::' })).toBe(false);
    expect(await isAllowed({ ip: '2001:db8:abcd:ffff:ffff:ffff:ffff:ffff' })).toBe(false);
    expect(await isAllowed({ ip: '2001:db8:abcc:ffff:ffff:ffff:ffff:ffff' })).toBe(true);
    expect(await isAllowed({ ip: '2001:db8:abce::' })).toBe(true);
    expect(await isAllowed({ ip: '10.0.0.1' })).toBe(true);
  });

  it('blocks exactly one address with a /128 and everything with ::/0', async () => {
    const single = await createBan(db, clock, ban({ type: 'ip', target: '2001:db8::5/128' }));
    expect(await isAllowed({ ip: '2001:db8::5' })).toBe(false);
    expect(await isAllowed({ ip: '2001:db8::4' })).toBe(true);
    expect(await isAllowed({ ip: '2001:db8::6' })).toBe(true);
    await liftBan(db, clock, { banId: single.id, actor: MOD });

    await createBan(db, clock, ban({ type: 'ip', target: '::/0' }));
    expect(await isAllowed({ ip: '::' })).toBe(false);
    expect(await isAllowed({ ip: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' })).toBe(false);
    expect(await isAllowed({ ip: '8.8.8.8' })).toBe(false);
  });

  it('ignores an address that does not parse instead of failing the checkout', async () => {
    await createBan(db, clock, ban({ type: 'ip', target: '0.0.0.0/0' }));
    expect(await isAllowed({ ip: 'unknown', email: 'dave@example.com' })).toBe(true);
    expect(await isAllowed({})).toBe(true);
  });

  it('extends a customer ban to the account email, Discord ID, Steam ID and game id', async () => {
    const alice = await insertAlice();
    await createBan(db, clock, ban({ type: 'customer', target: String(alice) }));

    expect(await isAllowed({ customerId: alice })).toBe(false);
    expect(await isAllowed({ email: 'alice@example.com' })).toBe(false);
    expect(await isAllowed({ discordId: ALICE_DISCORD })).toBe(false);
    expect(await isAllowed({ steamId: ALICE_STEAM })).toBe(false);
    expect(await isAllowed({ gameId: 'AliceMC' })).toBe(false);
    expect(await isAllowed({ email: 'someone-else@example.com', discordId: BOB_DISCORD })).toBe(true);
  });

  it('covers an ID linked to the account after the customer ban', async () => {
    const alice = await insertCustomer({ name: 'Alice', email: 'alice@example.com' });
    await createBan(db, clock, ban({ type: 'customer', target: String(alice) }));
    expect(await isAllowed({ discordId: ALICE_DISCORD })).toBe(true);

    await db.updateTable('customers').set({ discord_id: ALICE_DISCORD, steam_id: ALICE_STEAM }).where('id', '=', alice).execute();
    expect(await isAllowed({ discordId: ALICE_DISCORD })).toBe(false);
    expect(await isAllowed({ steamId: ALICE_STEAM })).toBe(false);
  });

  it('frees every covered identifier when the one customer ban is lifted', async () => {
    const alice = await insertAlice();
    const created = await createBan(db, clock, ban({ type: 'customer', target: `id:${alice}` }));
    await liftBan(db, clock, { banId: created.id, actor: MOD });
    for (const ids of [{ customerId: alice }, { email: 'alice@example.com' }, { discordId: ALICE_DISCORD }, { steamId: ALICE_STEAM }]) {
      expect(await isAllowed(ids)).toBe(true);
    }
  });

  it("blocks a customer at checkout when one of the account's linked IDs is banned", async () => {
    const alice = await insertAlice();
    await createBan(db, clock, ban({ type: 'discord', target: ALICE_DISCORD }));
    expect(await isAllowed({ email: 'alice@example.com' })).toBe(false);
    expect(await isAllowed({ customerId: alice })).toBe(false);
  });

  it("does not spread an IP ban to other identifiers through an account's last IP", async () => {
    await insertAlice();
    await createBan(db, clock, ban({ type: 'ip', target: '203.0.113.7' }));
    expect(await isAllowed({ email: 'alice@example.com' })).toBe(true);
    expect(await isAllowed({ email: 'alice@example.com', ip: '203.0.113.7' })).toBe(false);
  });

  it('reports the matching bans for staff but tells the customer only the generic refusal', async () => {
    const created = await createBan(db, clock, ban({ type: 'email', target: 'carol@example.com' }));
    const refused = await checkIdentifiers(db, clock, { email: 'carol@example.com' });
    expect(refused.bans.map((b) => b.id)).toEqual([created.id]);
    expect(refusalFor(refused)).toBe(GENERIC_REFUSAL);
    expect(refusalFor(refused)).toBe("We couldn't process this request. Please contact support.");
    expect(refusalFor(refused)).not.toMatch(/ban/i);

    const allowed = await checkIdentifiers(db, clock, { email: 'dave@example.com' });
    expect(allowed).toEqual({ allowed: true, bans: [] });
    expect(refusalFor(allowed)).toBeNull();
  });
});

describe('expiry', () => {
  it('lifts a 24h ban by itself at exactly expires_at', async () => {
    const created = await createBan(db, clock, ban({ type: 'email', target: 'carol@example.com', duration: '24h' }));
    expect(created.expiresAt).toBe('2026-11-23T12:00:00.000Z');

    clock.set('2026-11-23T11:59:59.999Z');
    expect(await isAllowed({ email: 'carol@example.com' })).toBe(false);
    expect((await getBan(db, clock, created.id)).active).toBe(true);

    clock.set('2026-11-23T12:00:00.000Z');
    expect(await isAllowed({ email: 'carol@example.com' })).toBe(true);
    expect((await getBan(db, clock, created.id)).active).toBe(false);
    expect((await getBan(db, clock, created.id)).liftedAt).toBeNull();
  });

  it('keeps a permanent ban active years later', async () => {
    await createBan(db, clock, ban({ type: 'discord', target: BOB_DISCORD }));
    clock.advance(20 * 365 * DAY);
    expect(await isAllowed({ discordId: BOB_DISCORD })).toBe(false);
  });
});

describe('lifting bans', () => {
  it('records who lifted a ban, when and why, and logs ban.lift', async () => {
    const created = await createBan(db, clock, ban({ type: 'email', target: 'carol@example.com' }));
    clock.advance(HOUR);
    const lifted = await liftBan(db, clock, { banId: created.id, actor: ADMIN, reason: ' appeal accepted ' });

    expect(lifted).toMatchObject({ active: false, liftedAt: '2026-11-22T13:00:00.000Z', liftedBy: ADMIN, liftReason: 'appeal accepted' });
    expect(await isAllowed({ email: 'carol@example.com' })).toBe(true);

    const log = await listActivity(db, { targetType: 'ban', targetId: created.id });
    expect(log.map((e) => [e.action, e.actor.name, e.createdAt])).toEqual([
      ['ban.lift', 'Admin', '2026-11-22T13:00:00.000Z'],
      ['ban.create', 'Mod', START],
    ]);
  });

  it('refuses to lift an unknown, already lifted or expired ban', async () => {
    expect(await userError(liftBan(db, clock, { banId: 999, actor: MOD }))).toMatchObject({ code: 'ban_not_found', message: 'No ban with id 999.' });

    const lifted = await createBan(db, clock, ban({ type: 'email', target: 'carol@example.com' }));
    await liftBan(db, clock, { banId: lifted.id, actor: MOD });
    const again = await userError(liftBan(db, clock, { banId: lifted.id, actor: ADMIN }));
    expect(again.code).toBe('ban_not_active');
    expect(again.message).toBe(`Ban #${lifted.id} was already lifted on 2026-11-22 12:00 UTC by Mod.`);

    const expiring = await createBan(db, clock, ban({ type: 'email', target: 'dave@example.com', duration: '24h' }));
    clock.advance(DAY);
    const expired = await userError(liftBan(db, clock, { banId: expiring.id, actor: MOD }));
    expect(expired.code).toBe('ban_not_active');
    expect(expired.message).toBe(`Ban #${expiring.id} already expired on 2026-11-23 12:00 UTC.`);
    expect((await listActivity(db, { action: 'ban.lift' })).length).toBe(1);
  });
});

describe('bans on a customer lookup', () => {
  it("lists every active ban that covers the customer's account and identifiers", async () => {
    const alice = await insertAlice();
    const bob = await insertCustomer({ email: 'bob@example.com', discord_id: BOB_DISCORD });
    const expected = [
      await createBan(db, clock, ban({ type: 'customer', target: String(alice) })),
      await createBan(db, clock, ban({ type: 'email', target: 'alice@example.com' })),
      await createBan(db, clock, ban({ type: 'discord', target: ALICE_DISCORD })),
      await createBan(db, clock, ban({ type: 'game_id', target: ALICE_STEAM })),
      await createBan(db, clock, ban({ type: 'game_id', target: 'AliceMC' })),
      await createBan(db, clock, ban({ type: 'ip', target: '203.0.113.0/24' })),
    ];
    const lifted = await createBan(db, clock, ban({ type: 'ip', target: '203.0.0.0/16' }));
    await liftBan(db, clock, { banId: lifted.id, actor: MOD });
    await createBan(db, clock, ban({ type: 'customer', target: String(bob) }));
    await createBan(db, clock, ban({ type: 'discord', target: BOB_DISCORD }));
    await createBan(db, clock, ban({ type: 'ip', target: '203.0.114.0/24' }));

    const found = await findActiveBansForCustomer(db, clock, alice);
    expect(found.map((b) => b.id)).toEqual(expected.map((b) => b.id));
    expect((await findActiveBansForCustomer(db, clock, bob)).map((b) => b.type).sort()).toEqual(['customer', 'discord']);
  });

  it('drops a temporary ban from the lookup once it expires', async () => {
    const alice = await insertAlice();
    await createBan(db, clock, ban({ type: 'email', target: 'alice@example.com', duration: '30m' }));
    expect(await findActiveBansForCustomer(db, clock, alice)).toHaveLength(1);
    clock.advance(30 * 60_000);
    expect(await findActiveBansForCustomer(db, clock, alice)).toEqual([]);
  });

  it('refuses an unknown customer', async () => {
    expect((await userError(findActiveBansForCustomer(db, clock, 404))).code).toBe('customer_not_found');
  });
});

describe('listing bans', () => {
  async function seed(): Promise<{ ids: Record<string, number>; alice: number }> {
    const alice = await insertAlice();
    const ids: Record<string, number> = {};
    ids.aliceEmail = (await createBan(db, clock, ban({ type: 'email', target: 'alice@example.com', reason: 'chargeback abuse' }))).id;
    clock.advance(HOUR);
    ids.range = (await createBan(db, clock, ban({ type: 'ip', target: '10.0.0.0/8', reason: '100% fraud from this range' }))).id;
    clock.advance(HOUR);
    ids.underscore = (await createBan(db, clock, ban({ type: 'game_id', target: 'evil_player', duration: '24h', reason: 'Griefing' }))).id;
    clock.advance(HOUR);
    ids.lifted = (await createBan(db, clock, ban({ type: 'discord', target: BOB_DISCORD, reason: 'spam' }))).id;
    await liftBan(db, clock, { banId: ids.lifted, actor: MOD });
    clock.advance(HOUR);
    ids.customer = (await createBan(db, clock, ban({ type: 'customer', target: String(alice), reason: 'evilXplayer alt' }))).id;
    clock.advance(DAY);
    return { ids, alice };
  }

  it('lists newest first with a total, and pages', async () => {
    const { ids } = await seed();
    const all = await listBans(db, clock);
    expect(all.items.map((b) => b.id)).toEqual([ids.customer, ids.lifted, ids.underscore, ids.range, ids.aliceEmail]);
    expect(all).toMatchObject({ total: 5, offset: 0, limit: 25 });

    const second = await listBans(db, clock, { offset: 2, limit: 2 });
    expect(second.items.map((b) => b.id)).toEqual([ids.underscore, ids.range]);
    expect(second).toMatchObject({ total: 5, offset: 2, limit: 2 });
  });

  it('filters by status, type and customer', async () => {
    const { ids, alice } = await seed();
    const idsOf = async (query: Parameters<typeof listBans>[2]): Promise<number[]> => (await listBans(db, clock, query)).items.map((b) => b.id);

    expect(await idsOf({ status: 'active' })).toEqual([ids.customer, ids.range, ids.aliceEmail]);
    expect(await idsOf({ status: 'expired' })).toEqual([ids.underscore]);
    expect(await idsOf({ status: 'lifted' })).toEqual([ids.lifted]);
    expect(await idsOf({ status: 'all', type: 'ip' })).toEqual([ids.range]);
    expect(await idsOf({ customerId: alice })).toEqual([ids.customer, ids.aliceEmail]);
    expect((await listBans(db, clock, { status: 'active', type: 'email' })).total).toBe(1);
  });

  it('searches values and reasons case-insensitively', async () => {
    const { ids } = await seed();
    const idsOf = async (search: string): Promise<number[]> => (await listBans(db, clock, { search })).items.map((b) => b.id);
    expect(await idsOf('ALICE@')).toEqual([ids.aliceEmail]);
    expect(await idsOf('griefing')).toEqual([ids.underscore]);
    expect(await idsOf('10.0.0.0')).toEqual([ids.range]);
    expect(await idsOf('nothing like this')).toEqual([]);
  });

  it('folds case in every script, and combining marks, when searching values and reasons', async () => {
    await seed();
    const umlaut = (await createBan(db, clock, ban({ type: 'email', target: 'jürgen@example.de', reason: 'ÜBERWEISUNG zurückgebucht' }))).id;
    const greek = (await createBan(db, clock, ban({ type: 'game_id', target: 'ΣΟΦΊΑ', reason: 'Απάτη' }))).id;
    const idsOf = async (search: string): Promise<number[]> => (await listBans(db, clock, { search, status: 'all' })).items.map((b) => b.id);
    for (const [search, id] of [
      ['JÜRGEN', umlaut],
      ['überweisung', umlaut],
      ['ü', umlaut],
      ['σοφ', greek],
      ['ΑΠΆΤΗ', greek],
      ['ZURU\u0308CKGEBUCHT', umlaut],
    ] as const) {
      expect(await idsOf(search), search).toEqual([id]);
    }
  });

  it('treats % and _ in a search as plain characters', async () => {
    const { ids } = await seed();
    const idsOf = async (search: string): Promise<number[]> => (await listBans(db, clock, { search })).items.map((b) => b.id);
    expect(await idsOf('%')).toEqual([ids.range]);
    expect(await idsOf('100%')).toEqual([ids.range]);
    // Unescaped, `_` would match the X in "evilXplayer" too.
    expect(await idsOf('evil_player')).toEqual([ids.underscore]);
    expect(await idsOf('_')).toEqual([ids.underscore]);
    expect(await idsOf('\\')).toEqual([]);
  });

  it('clamps the page size', async () => {
    await seed();
    expect((await listBans(db, clock, { limit: 1000 })).limit).toBe(100);
    expect((await listBans(db, clock, { limit: 0, offset: -5 })).items).toHaveLength(1);
  });
});

describe('describing a ban', () => {
  it('writes one line with the target, length, end, author and reason', async () => {
    const created = await createBan(db, clock, ban({ type: 'email', target: 'alice@example.com', duration: '7d' }));
    expect(describeBan(created)).toBe(`#${created.id} email alice@example.com · 7 days (until 2026-11-29 12:00 UTC) · by Mod · "chargeback abuse"`);
  });

  it('says permanent, expired or lifted as the ban is now', async () => {
    const permanent = await createBan(db, clock, ban({ type: 'ip', target: '10.0.0.0/8', reason: 'line one\nline two' }));
    expect(describeBan(permanent)).toBe(`#${permanent.id} ip 10.0.0.0/8 · permanent · by Mod · "line one line two"`);

    const temporary = await createBan(db, clock, ban({ type: 'discord', target: BOB_DISCORD, duration: '1d12h' }));
    clock.advance(2 * DAY);
    expect(describeBan(await getBan(db, clock, temporary.id))).toBe(
      `#${temporary.id} discord ${BOB_DISCORD} · 1 day 12 hours (expired 2026-11-24 00:00 UTC) · by Mod · "chargeback abuse"`,
    );

    const lifted = await liftBan(db, clock, { banId: permanent.id, actor: ADMIN, reason: 'appeal' });
    expect(describeBan(lifted)).toBe(`#${permanent.id} ip 10.0.0.0/8 · permanent · by Mod · "line one line two" · lifted 2026-11-24 12:00 UTC by Admin ("appeal")`);
  });

  it('refuses to show an unknown ban', async () => {
    expect((await userError(getBan(db, clock, 7))).code).toBe('ban_not_found');
  });
});
