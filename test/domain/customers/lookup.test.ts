import { describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/shared/clock.js';
import { autocompleteCustomers, lookupCustomer, type LookupResult } from '../../../src/domain/customers/lookup.js';
import { UserError } from '../../../src/shared/errors.js';
import type { Customer } from '../../../src/domain/customers/types.js';
import { insertCustomer } from '../../../src/domain/customers/registration.js';
import type { Db } from '../../../src/store/database.js';
import { upsertOrder } from '../../../src/store/order.repository.js';
import { useTestContext } from '../../support/context.js';

let db: Db;
let clock: ManualClock;
let alice: Customer;
let aliceMoreau: Customer;
let bob: Customer;
let numeric: Customer;

useTestContext(async (context) => {
  ({ db, clock } = context);
  alice = await insertCustomer(db, clock, {
    name: 'Alice Johnson',
    email: 'alice@example.com',
    discord: { id: '123456789012345678', username: 'alicej' },
    steam: { id: '76561198000000001' },
    gameUserId: 'AliceMC',
  });
  clock.advance(1000);
  aliceMoreau = await insertCustomer(db, clock, { name: 'Alice Moreau', email: 'moreau@example.fr', gameUserId: 'Shared' });
  clock.advance(1000);
  bob = await insertCustomer(db, clock, { name: 'Bob 100%_"Quoted"', email: 'bob@example.com', gameUserId: 'Shared' });
  clock.advance(1000);
  // A game user id that is also another customer's id, to make a bare number ambiguous.
  numeric = await insertCustomer(db, clock, { name: 'Numeric Gamer', email: 'numeric@example.com', gameUserId: String(alice.id) });
  await upsertOrder(db, clock, {
    id: 77,
    orderNumber: 'ORD-2026-00077',
    customerId: bob.id,
    status: 'completed',
    totalCents: 999,
    currency: 'USD',
    createdAt: '2026-11-01T00:00:00Z',
    items: [],
  });
});

function single(result: LookupResult): Customer {
  if (result.kind !== 'customer') throw new Error(`expected one customer, got ${result.total} matches`);
  return result.customer;
}

async function refusal(query: string): Promise<UserError> {
  const error: unknown = await lookupCustomer(db, query).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

describe('looking up a customer', () => {
  it('finds one by id in every spelling', async () => {
    expect(single(await lookupCustomer(db, `id:${bob.id}`)).id).toBe(bob.id);
    expect(single(await lookupCustomer(db, `ID: ${bob.id}`)).id).toBe(bob.id);
    expect(single(await lookupCustomer(db, `#${bob.id}`)).id).toBe(bob.id);
    expect(single(await lookupCustomer(db, `  ${bob.id}  `)).id).toBe(bob.id);
  });

  it('finds one by email in any case', async () => {
    expect(single(await lookupCustomer(db, 'ALICE@Example.com')).id).toBe(alice.id);
  });

  it('finds one by Discord mention, bare snowflake, SteamID64 and Steam profile URL', async () => {
    expect(single(await lookupCustomer(db, '<@123456789012345678>')).id).toBe(alice.id);
    expect(single(await lookupCustomer(db, '<@!123456789012345678>')).id).toBe(alice.id);
    expect(single(await lookupCustomer(db, '123456789012345678')).id).toBe(alice.id);
    expect(single(await lookupCustomer(db, '76561198000000001')).id).toBe(alice.id);
    expect(single(await lookupCustomer(db, 'https://steamcommunity.com/profiles/76561198000000001/')).id).toBe(alice.id);
    expect(single(await lookupCustomer(db, 'steamcommunity.com/profiles/76561198000000001')).id).toBe(alice.id);
  });

  it('finds one by order number in any case and by game user id', async () => {
    expect(single(await lookupCustomer(db, 'ORD-2026-00077')).id).toBe(bob.id);
    expect(single(await lookupCustomer(db, 'ord-2026-00077')).id).toBe(bob.id);
    expect(single(await lookupCustomer(db, 'AliceMC')).id).toBe(alice.id);
  });

  it('lists every customer an ambiguous identifier points at', async () => {
    const shared = await lookupCustomer(db, 'Shared');
    expect(shared).toMatchObject({ kind: 'matches', total: 2 });
    expect(shared.kind === 'matches' && shared.matches.map((c) => c.id).sort()).toEqual([aliceMoreau.id, bob.id].sort());

    // The number is Alice's customer id and Numeric Gamer's game user id.
    const number = await lookupCustomer(db, String(alice.id));
    expect(number.kind === 'matches' && number.matches.map((c) => c.id)).toEqual([alice.id, numeric.id]);
    // The explicit form means the id and nothing else.
    expect(single(await lookupCustomer(db, `id:${alice.id}`)).id).toBe(alice.id);
  });

  it('falls back to a substring search of names and emails', async () => {
    const alices = await lookupCustomer(db, 'alice');
    expect(alices).toMatchObject({ kind: 'matches', total: 2 });
    expect(alices.kind === 'matches' && alices.matches.map((c) => c.name)).toEqual(['Alice Moreau', 'Alice Johnson']);
    expect(single(await lookupCustomer(db, 'moreau')).id).toBe(aliceMoreau.id);
    expect(single(await lookupCustomer(db, 'example.fr')).id).toBe(aliceMoreau.id);
  });

  it('searches one- and two-character queries too', async () => {
    expect(single(await lookupCustomer(db, '%')).id).toBe(bob.id);
    expect(single(await lookupCustomer(db, '_')).id).toBe(bob.id);
    expect(single(await lookupCustomer(db, '"')).id).toBe(bob.id);
    expect(await lookupCustomer(db, 'al')).toMatchObject({ kind: 'matches', total: 2 });
    expect(await lookupCustomer(db, 'Bo')).toMatchObject({ kind: 'customer' });
  });

  it('finds with a capital letter of any script what the small letter finds, at one or two characters too', async () => {
    const jurgen = await insertCustomer(db, clock, { name: 'Nora Müller', email: 'nora@example.de' });
    const sigma = await insertCustomer(db, clock, { name: 'Σοφία Ξένου', email: 'sofia@example.gr' });
    const olga = await insertCustomer(db, clock, { name: 'Ольга Жукова', email: 'olga@example.ru' });
    for (const [query, customer] of [
      ['ü', jurgen],
      ['Ü', jurgen],
      ['ÜL', jurgen],
      ['ξ', sigma],
      ['Ξ', sigma],
      ['ΣΟ', sigma],
      ['ж', olga],
      ['Ж', olga],
      ['ЖУ', olga],
    ] as const) {
      expect(single(await lookupCustomer(db, query)).id, query).toBe(customer.id);
    }
  });

  it('treats quotes, wildcards and SQL in a query as plain text', async () => {
    expect(single(await lookupCustomer(db, '100%_"Quoted"')).id).toBe(bob.id);
    expect((await refusal("' OR 1=1 --")).code).toBe('customer_not_found');
    expect((await refusal('%%%')).code).toBe('customer_not_found');
    expect((await refusal('a" OR "b')).code).toBe('customer_not_found');
    expect((await refusal('___')).code).toBe('customer_not_found');
  });

  it('says plainly when nobody matches, quoting the query safely', async () => {
    const error = await refusal('nobody here');
    expect(error).toMatchObject({ code: 'customer_not_found', message: 'No customer matches "nobody here".' });
    expect((await refusal('say "hi"\nthere')).message).toBe(`No customer matches "say 'hi' there".`);
    const long = await refusal('z'.repeat(150));
    expect(long.message).toBe(`No customer matches "${'z'.repeat(49)}…".`);
    expect((await refusal('id:999')).message).toBe('No customer matches "id:999".');
    expect((await refusal('<@999999999999999999>')).code).toBe('customer_not_found');
  });

  it('refuses an empty or overlong query', async () => {
    expect((await refusal('   ')).code).toBe('empty_query');
    expect((await refusal('x'.repeat(255))).code).toBe('query_too_long');
    expect((await refusal('x'.repeat(254))).code).toBe('customer_not_found');
    expect((await refusal('x'.repeat(200))).code).toBe('customer_not_found');
  });
});

describe('autocompleting a customer', () => {
  it('offers the newest customers for an empty input', async () => {
    const choices = await autocompleteCustomers(db, '  ');
    expect(choices.map((c) => c.value)).toEqual([numeric, bob, aliceMoreau, alice].map((c) => `id:${c.id}`));
    expect(choices[1]?.name).toBe('Bob 100%_"Quoted" · bob@example.com · 1 order');
    expect(choices[0]?.name).toBe('Numeric Gamer · numeric@example.com · 0 orders');
  });

  it('shortens a long emoji name in a suggestion between whole emoji, counted as Discord counts', async () => {
    const family = '👨‍👩‍👧‍👦';
    const flag = '🇺🇦';
    const emojiFan = await insertCustomer(db, clock, { name: `${family}${flag}`.repeat(10), email: `${'fan'.repeat(20)}@example.com` });
    const choice = (await autocompleteCustomers(db, '')).find((c) => c.value === `id:${emojiFan.id}`);
    expect(choice).toBeDefined();
    const [name] = (choice?.name ?? '').split(' · ');
    expect([...(choice?.name ?? '')].length).toBeLessThanOrEqual(100);
    // Whole families and flags only: what is left of the name before its mark is whole pairs.
    const kept = (name ?? '').replace(/…$/, '');
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.replaceAll(`${family}${flag}`, '').replaceAll(family, '')).toBe('');
  });

  it('matches substrings of three or more characters and prefixes of one or two', async () => {
    expect((await autocompleteCustomers(db, 'ice')).map((c) => c.value)).toEqual([`id:${aliceMoreau.id}`, `id:${alice.id}`]);
    expect((await autocompleteCustomers(db, 'moreau@')).map((c) => c.value)).toEqual([`id:${aliceMoreau.id}`]);
    expect((await autocompleteCustomers(db, 'al')).map((c) => c.value).sort()).toEqual([`id:${alice.id}`, `id:${aliceMoreau.id}`].sort());
    expect((await autocompleteCustomers(db, 'b')).map((c) => c.value)).toEqual([`id:${bob.id}`]);
    expect(await autocompleteCustomers(db, 'ic')).toEqual([]);
    expect(await autocompleteCustomers(db, '%')).toEqual([]);
  });

  it('offers customers whose name starts with a capital or small letter of any script, whichever was typed', async () => {
    const nora = await insertCustomer(db, clock, { name: 'über Nora', email: 'nora@example.de' });
    const sofia = await insertCustomer(db, clock, { name: 'σοφία', email: 'sofia@example.gr' });
    const olga = await insertCustomer(db, clock, { name: 'Ольга', email: 'ОЛЬГА@example.ru' });
    for (const [typed, customer] of [
      ['Ü', nora],
      ['ÜB', nora],
      ['Σ', sofia],
      ['ΣΟ', sofia],
      ['о', olga],
      ['ол', olga],
    ] as const) {
      expect((await autocompleteCustomers(db, typed)).map((c) => c.value), typed).toEqual([`id:${customer.id}`]);
    }
  });

  it('offers nothing, without failing, for input holding a NUL character', async () => {
    for (const typed of ['\u0000', 'a\u0000', 'ali\u0000ce']) {
      expect(await autocompleteCustomers(db, typed), JSON.stringify(typed)).toEqual([]);
    }
    expect((await refusal('ali\u0000ce')).code).toBe('query_invalid');
  });

  it('puts an exact id or Discord id first', async () => {
    const byId = await autocompleteCustomers(db, String(bob.id));
    expect(byId[0]?.value).toBe(`id:${bob.id}`);
    expect((await autocompleteCustomers(db, '123456789012345678'))[0]?.value).toBe(`id:${alice.id}`);
  });

  it('keeps names and values within 100 characters and at most 25 choices', async () => {
    for (let i = 0; i < 30; i++) {
      await insertCustomer(db, clock, { name: `Long ${'N'.repeat(90)} ${i}`, email: `${'e'.repeat(60)}${i}@example.com` });
    }
    const choices = await autocompleteCustomers(db, 'long');
    expect(choices).toHaveLength(25);
    for (const choice of choices) {
      expect(choice.name.length).toBeLessThanOrEqual(100);
      expect(choice.value.length).toBeLessThanOrEqual(100);
      expect(choice.name).toMatch(/ · 0 orders$/);
    }
    expect(await autocompleteCustomers(db, 'long', 5)).toHaveLength(5);
  });
});
