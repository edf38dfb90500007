import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBan } from '../../../src/domain/bans/bans.js';
import type { ManualClock } from '../../../src/shared/clock.js';
import { registerCustomer } from '../../../src/domain/customers/accounts.js';
import { GENERIC_REFUSAL } from '../../../src/shared/errors.js';
import type { Db } from '../../../src/store/database.js';
import { useTestContext } from '../../support/context.js';

// Whatever email or game id the store registers, staff can ban, and the ban then holds at
// registration: the ban's rules for these values are the store's.

const STAFF = { id: '111111111111111111', name: 'Sam' };
let db: Db;
let clock: ManualClock;

useTestContext((context) => ({ db, clock } = context));

async function register(email: string, gameUserId?: string) {
  return registerCustomer(db, clock, { name: 'Someone', email, gameUserId, actor: { id: 'api:1', name: 'Checkout' } });
}

describe('bans on what the store registers', () => {
  it('ban an email with a local part of 70 characters, and refuse it at registration', async () => {
    const email = `${'x'.repeat(70)}@example.com`;
    expect((await register(email)).ok).toBe(true);
    await createBan(db, clock, { type: 'email', target: email, duration: 'permanent', reason: 'fraud', actor: STAFF });
    expect(await register(`${'x'.repeat(70)}@EXAMPLE.com`)).toEqual({ ok: false, message: GENERIC_REFUSAL });
  });

  it('ban a game id of 64 emoji, counted in code points as the store counts it', async () => {
    const gameId = '🎮'.repeat(64);
    expect((await register('gamer@example.com', gameId)).ok).toBe(true);
    await createBan(db, clock, { type: 'game_id', target: gameId, duration: 'permanent', reason: 'cheating', actor: STAFF });
    expect(await register('second@example.com', gameId)).toEqual({ ok: false, message: GENERIC_REFUSAL });
  });

  it('ban any email the store registers', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.emailAddress(),
          fc.integer({ min: 60, max: 120 }).map((n) => `${'é'.repeat(n)}@bücher.example`),
          fc.constantFrom('a..b@example.com', '.dot@example.com', 'x@-dash-.example', '用户@例子.广告'),
        ),
        async (email) => {
          const unique = `${++runs}${email}`;
          if (!(await register(unique)).ok) return;
          await createBan(db, clock, { type: 'email', target: unique, duration: 'permanent', reason: 'fraud', actor: STAFF });
        },
      ),
      { numRuns: 60 },
    );
  });
});
