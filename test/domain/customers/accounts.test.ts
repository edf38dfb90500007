import { describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/shared/clock.js';
import { badgesFor, computeStatistics, getCustomerProfile, isAtRisk, segmentFor } from '../../../src/domain/customers/profile.js';
import { UserError } from '../../../src/shared/errors.js';
import type { Customer } from '../../../src/domain/customers/types.js';
import { findCustomerByDiscordId, findCustomerByEmail, findCustomersByGameUserId, findCustomerById, findCustomerByOrderNumber, findCustomerBySteamId, toCustomer } from '../../../src/store/customer.repository.js';
import { insertCustomer, insertCustomers } from '../../../src/domain/customers/registration.js';
import type { Db } from '../../../src/store/database.js';
import { upsertOrder } from '../../../src/store/order.repository.js';
import { useTestContext } from '../../support/context.js';
import { refusal } from '../../support/refusal.js';

const DAY = 24 * 60 * 60 * 1000;
let db: Db;
let clock: ManualClock;

useTestContext((context) => ({ db, clock } = context));

describe('registering a customer', () => {
  it('stores every field and reads it back without the password hash or last IP', async () => {
    const created = await insertCustomer(db, clock, {
      name: '  Alice Smith ',
      email: ' Alice@Example.com ',
      country: 'de',
      discord: { id: '123456789012345678', username: 'alice', avatar: null },
      steam: { id: '76561198000000001', username: 'AliceS', avatar: 'abc' },
      gameUserId: 'AliceMC',
      passwordHash: 'scrypt$secret',
      lastIp: '203.0.113.7',
      lastSeenAt: '2026-11-20T10:00:00+01:00',
      twoFactorEnabled: true,
      metadata: { vip: true, server: 'survival' },
      supportTicketsCount: 2,
    });
    expect(created).toMatchObject({
      name: 'Alice Smith',
      email: 'Alice@Example.com',
      country: 'DE',
      discord: { id: '123456789012345678', username: 'alice', avatar: null },
      steam: { id: '76561198000000001', username: 'AliceS', avatar: 'abc' },
      gameUserId: 'AliceMC',
      twoFactorEnabled: true,
      lastSeenAt: '2026-11-20T09:00:00.000Z',
      metadata: { vip: true, server: 'survival' },
      supportTicketsCount: 2,
      ordersCount: 0,
      totalSpentCents: 0,
      createdAt: '2026-11-22T12:00:00.000Z',
      updatedAt: '2026-11-22T12:00:00.000Z',
    });
    const json = JSON.stringify(created);
    expect(json).not.toContain('secret');
    expect(json).not.toContain('203.0.113.7');
    expect(Object.keys(created)).not.toContain('passwordHash');
    expect(Object.keys(created)).not.toContain('lastIp');

    const row = await db.selectFrom('customers').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toBe('scrypt$secret');
    expect(row.last_ip).toBe('203.0.113.7');
    expect(row.email_lower).toBe('alice@example.com');
    expect(toCustomer(row)).toEqual(created);
  });

  it('finds a customer by id, email in any case, Discord id, Steam id and game user id', async () => {
    const alice = await insertCustomer(db, clock, {
      name: 'Alice',
      email: 'alice@example.com',
      discord: { id: '123456789012345678' },
      steam: { id: '76561198000000001' },
      gameUserId: 'AliceMC',
    });
    await insertCustomer(db, clock, { name: 'Bob', email: 'bob@example.com' });
    expect((await findCustomerById(db, alice.id))?.email).toBe('alice@example.com');
    expect((await findCustomerByEmail(db, 'ALICE@example.COM'))?.id).toBe(alice.id);
    expect((await findCustomerByDiscordId(db, '123456789012345678'))?.id).toBe(alice.id);
    expect((await findCustomerBySteamId(db, '76561198000000001'))?.id).toBe(alice.id);
    expect((await findCustomersByGameUserId(db, 'AliceMC')).map((c) => c.id)).toEqual([alice.id]);
    expect(await findCustomerByEmail(db, 'nobody@example.com')).toBeUndefined();
    expect(await findCustomerById(db, 999)).toBeUndefined();
  });

  it('finds the customer who placed an order by its number in any case', async () => {
    const alice = await insertCustomer(db, clock, { name: 'Alice', email: 'alice@example.com' });
    await upsertOrder(db, clock, {
      id: 1,
      orderNumber: 'ORD-2026-00001',
      customerId: alice.id,
      status: 'completed',
      totalCents: 999,
      currency: 'USD',
      createdAt: '2026-11-01T00:00:00Z',
      items: [],
    });
    expect((await findCustomerByOrderNumber(db, 'ORD-2026-00001'))?.id).toBe(alice.id);
    expect((await findCustomerByOrderNumber(db, 'ord-2026-00001'))?.id).toBe(alice.id);
    expect(await findCustomerByOrderNumber(db, 'ORD-2026-00002')).toBeUndefined();
  });

  it('refuses a second customer with the same email in another case', async () => {
    await insertCustomer(db, clock, { name: 'Alice', email: 'alice@example.com' });
    const error = await refusal(insertCustomer(db, clock, { name: 'Other Alice', email: 'ALICE@EXAMPLE.COM' }));
    expect(error.code).toBe('email_taken');
  });

  it('refuses a malformed email, an empty or overlong name and a bad country', async () => {
    expect((await refusal(insertCustomer(db, clock, { name: 'A', email: 'not-an-email' }))).code).toBe('email_invalid');
    expect((await refusal(insertCustomer(db, clock, { name: 'A', email: 'a@b' }))).code).toBe('email_invalid');
    expect((await refusal(insertCustomer(db, clock, { name: '   ', email: 'a@example.com' }))).code).toBe('name_length');
    expect((await refusal(insertCustomer(db, clock, { name: 'x'.repeat(101), email: 'a@example.com' }))).code).toBe('name_length');
    expect((await refusal(insertCustomer(db, clock, { name: 'A', email: 'a@example.com', country: 'Germany' }))).code).toBe('country_invalid');
    await expect(insertCustomer(db, clock, { name: 'x'.repeat(100), email: 'a@example.com' })).resolves.toBeDefined();
  });

  it('refuses a Discord or Steam account already linked to someone else, and malformed ids', async () => {
    await insertCustomer(db, clock, { name: 'A', email: 'a@example.com', discord: { id: '123456789012345678' }, steam: { id: '76561198000000001' } });
    expect((await refusal(insertCustomer(db, clock, { name: 'B', email: 'b@example.com', discord: { id: '123456789012345678' } }))).code).toBe(
      'discord_taken',
    );
    expect((await refusal(insertCustomer(db, clock, { name: 'B', email: 'b@example.com', steam: { id: '76561198000000001' } }))).code).toBe(
      'steam_taken',
    );
    expect((await refusal(insertCustomer(db, clock, { name: 'B', email: 'b@example.com', discord: { id: '12' } }))).code).toBe('discord_id_invalid');
    expect((await refusal(insertCustomer(db, clock, { name: 'B', email: 'b@example.com', steam: { id: '12345678901234567' } }))).code).toBe(
      'steam_id_invalid',
    );
  });

  it('generates a unique eight-character referral code unless one is given', async () => {
    const customers = await insertCustomers(
      db,
      clock,
      Array.from({ length: 200 }, (_, i) => ({ name: `C${i}`, email: `c${i}@example.com` })),
    );
    const codes = customers.map((c) => c.referralCode);
    for (const code of codes) expect(code).toMatch(/^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{8}$/);
    expect(new Set(codes).size).toBe(200);

    const given = await insertCustomer(db, clock, { name: 'G', email: 'g@example.com', referralCode: 'SPRING24' });
    expect(given.referralCode).toBe('SPRING24');
    expect((await refusal(insertCustomer(db, clock, { name: 'H', email: 'h@example.com', referralCode: 'SPRING24' }))).code).toBe('referral_code_taken');
  });

  it('records who referred a customer and refuses an unknown referrer', async () => {
    const referrer = await insertCustomer(db, clock, { name: 'R', email: 'r@example.com' });
    const referred = await insertCustomer(db, clock, { name: 'S', email: 's@example.com', referredBy: referrer.id });
    expect(referred.referredBy).toBe(referrer.id);
    expect((await refusal(insertCustomer(db, clock, { name: 'T', email: 't@example.com', referredBy: 999 }))).code).toBe('referrer_not_found');
  });

  it('bounds metadata to 50 keys and 16 KiB of JSON, and only takes an object', async () => {
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    await expect(insertCustomer(db, clock, { name: 'A', email: 'a@example.com', metadata: fifty })).resolves.toMatchObject({ metadata: fifty });
    const fiftyOne = { ...fifty, extra: 1 };
    expect((await refusal(insertCustomer(db, clock, { name: 'B', email: 'b@example.com', metadata: fiftyOne }))).code).toBe('metadata_too_large');
    const big = { blob: 'x'.repeat(16 * 1024) };
    expect((await refusal(insertCustomer(db, clock, { name: 'B', email: 'b@example.com', metadata: big }))).code).toBe('metadata_too_large');
    const notAnObject = [1, 2] as unknown as Record<string, unknown>;
    expect((await refusal(insertCustomer(db, clock, { name: 'B', email: 'b@example.com', metadata: notAnObject }))).code).toBe('metadata_invalid');
  });

  it('stores a given registration time in the one ISO form and refuses nonsense', async () => {
    const c = await insertCustomer(db, clock, { name: 'A', email: 'a@example.com', createdAt: '2025-01-10T09:00:00+01:00' });
    expect(c.createdAt).toBe('2025-01-10T08:00:00.000Z');
    expect((await refusal(insertCustomer(db, clock, { name: 'B', email: 'b@example.com', createdAt: 'yesterday' }))).code).toBe('bad_timestamp');
  });

  it('inserts in bulk in input order and names the offending row', async () => {
    const rows = await insertCustomers(db, clock, [
      { name: 'Zed', email: 'zed@example.com' },
      { name: 'Amy', email: 'amy@example.com' },
    ]);
    expect(rows.map((r) => r.name)).toEqual(['Zed', 'Amy']);
    const error = await refusal(
      insertCustomers(db, clock, [
        { name: 'Ok', email: 'ok@example.com' },
        { name: 'Bad', email: 'bad' },
      ]),
    );
    expect(error.code).toBe('email_invalid');
    expect(error.message).toMatch(/^Customer #2:/);
    const duplicate = await refusal(
      insertCustomers(db, clock, [
        { name: 'One', email: 'dup@example.com' },
        { name: 'Two', email: 'DUP@example.com' },
      ]),
    );
    expect(duplicate.code).toBe('email_taken');
    expect(await findCustomerByEmail(db, 'dup@example.com')).toBeUndefined();
    expect(await findCustomerByEmail(db, 'ok@example.com')).toBeUndefined();
  });

  it('treats a bulk insert inside a transaction as all or nothing', async () => {
    await insertCustomer(db, clock, { name: 'Taken', email: 'taken@example.com', discord: { id: '123456789012345678' } });
    await expect(
      db.transaction().execute(async (trx) => {
        await insertCustomers(trx, clock, [{ name: 'First', email: 'first@example.com' }]);
        await insertCustomers(trx, clock, [{ name: 'Second', email: 'second@example.com', discord: { id: '123456789012345678' } }]);
      }),
    ).rejects.toThrow(UserError);
    expect(await findCustomerByEmail(db, 'first@example.com')).toBeUndefined();
  });
});

describe('segments, badges and risk', () => {
  it('puts 0–1 orders in New, 2–4 in Repeat and 5+ in Loyal', () => {
    expect([0, 1, 2, 4, 5, 40].map(segmentFor)).toEqual(['new', 'new', 'repeat', 'repeat', 'loyal', 'loyal']);
    expect([0, 1, 2, 4, 5].map(badgesFor)).toEqual([[], [], ['Repeat'], ['Repeat'], ['Loyal']]);
  });

  it('flags a customer whose last order is exactly 90 days old, but not one a second younger', () => {
    const now = new Date('2026-11-22T12:00:00.000Z');
    const ninetyDaysAgo = new Date(now.getTime() - 90 * DAY).toISOString();
    const justUnder = new Date(now.getTime() - 90 * DAY + 1000).toISOString();
    expect(isAtRisk({ ordersCount: 1, lastOrderAt: ninetyDaysAgo }, now, 90)).toBe(true);
    expect(isAtRisk({ ordersCount: 1, lastOrderAt: justUnder }, now, 90)).toBe(false);
    expect(isAtRisk({ ordersCount: 0, lastOrderAt: null }, now, 90)).toBe(false);
    expect(isAtRisk({ ordersCount: 3, lastOrderAt: justUnder }, now, 30)).toBe(true);
  });

  it('computes average order value, LTV and purchase frequency as the seed defines them', () => {
    const base = { ordersCount: 0, totalSpentCents: 0, firstOrderAt: null, lastOrderAt: null, lastOrderNumber: null } as const;
    const customer = (over: Partial<Customer>): Customer => ({ ...({} as Customer), ...base, ...over });
    expect(computeStatistics(customer({}))).toMatchObject({ averageOrderValueCents: 0, ltvCents: 0, purchaseFrequencyDays: null });
    expect(computeStatistics(customer({ ordersCount: 1, totalSpentCents: 999, firstOrderAt: '2026-01-01T00:00:00.000Z', lastOrderAt: '2026-01-01T00:00:00.000Z' }))).toMatchObject({
      averageOrderValueCents: 999,
      ltvCents: 999,
      purchaseFrequencyDays: null,
    });
    // 1000 / 3 = 333.33… shows as 333; LTV = 3 × 333.33… = 1000, the same as total spent, so staff
    // never see two figures a cent apart for the same money.
    expect(
      computeStatistics(
        customer({ ordersCount: 3, totalSpentCents: 1000, firstOrderAt: '2026-01-01T00:00:00.000Z', lastOrderAt: '2026-01-21T00:00:00.000Z' }),
      ),
    ).toMatchObject({ totalOrders: 3, totalSpentCents: 1000, averageOrderValueCents: 333, ltvCents: 1000, purchaseFrequencyDays: 10 });
  });

  it('builds a profile with segment, risk, badges and the number of customers referred', async () => {
    const alice = await insertCustomer(db, clock, { name: 'Alice', email: 'alice@example.com' });
    await insertCustomer(db, clock, { name: 'B', email: 'b@example.com', referredBy: alice.id });
    await insertCustomer(db, clock, { name: 'C', email: 'c@example.com', referredBy: alice.id });
    for (const [i, daysAgo] of [200, 150, 100].entries()) {
      await upsertOrder(db, clock, {
        id: i + 1,
        orderNumber: `ORD-${i + 1}`,
        customerId: alice.id,
        status: 'completed',
        totalCents: 1000,
        currency: 'USD',
        createdAt: new Date(clock.now().getTime() - daysAgo * DAY).toISOString(),
        items: [],
      });
    }
    const profile = await getCustomerProfile(db, clock, alice.id, { atRiskDays: 90 });
    expect(profile).toMatchObject({ segment: 'repeat', atRisk: true, badges: ['Repeat'], referralsCount: 2 });
    expect(profile.statistics).toMatchObject({ totalOrders: 3, totalSpentCents: 3000, averageOrderValueCents: 1000, purchaseFrequencyDays: 50 });
    expect((await getCustomerProfile(db, clock, alice.id, { atRiskDays: 120 })).atRisk).toBe(false);

    const error = await refusal(getCustomerProfile(db, clock, 999, { atRiskDays: 90 }));
    expect(error.code).toBe('customer_not_found');
    expect(error.message).toBe('No customer with id 999.');
  });
});
