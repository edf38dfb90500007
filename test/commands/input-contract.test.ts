import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BAN_REASON_MAX_LENGTH, NOTE_MAX_LENGTH } from '../../src/shared/input-fields.js';
import { codePointLength } from '../../src/shared/text.js';
import { insertCustomer } from '../../src/domain/customers/registration.js';
import type { LocalMessage, LocalModal } from '../../src/sandbox/local-discord/index.js';
import { STAFF_ID, buttonByLabel, type Harness } from '../support/bot-harness.js';
import { useTestContext } from '../support/context.js';
import { seedSmallStore } from '../support/fixtures.js';

// Discord counts an option's or a text input's max_length in code points; what it lets staff
// type up to that limit, the store must take.

let h: Harness;

useTestContext({ discord: true }, async (context) => {
  h = context;
  await seedSmallStore(h.db, h.clock);
});

const REASON_OF_500_EMOJI = '🚫'.repeat(500);

async function storedReasons(): Promise<string[]> {
  return (await h.db.selectFrom('bans').select('reason').execute()).map((row) => row.reason);
}

describe('text that Discord lets staff send', () => {
  it('bans with a reason of 500 emoji typed in the slash command', async () => {
    const { handle, message } = await h.customer('ban', { type: 'email', target: 'alice@example.com', duration: '7d', reason: REASON_OF_500_EMOJI });
    expect(message.embeds[0]?.title).toBe('Confirm ban');
    const confirm = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Confirm ban').customId, userId: STAFF_ID });
    expect(((await confirm.settled()) as LocalMessage).embeds[0]?.title).toMatch(/^Ban #\d+ created$/);
    expect(await storedReasons()).toEqual([REASON_OF_500_EMOJI]);
  });

  it("bans with a reason of 500 emoji typed in the profile's ban form", async () => {
    const { handle } = await h.customer('lookup', { query: 'alice@example.com' });
    const click = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(handle.original()!, 'Ban').customId, userId: STAFF_ID });
    const modal = (await click.settled()) as LocalModal;
    const submit = await h.discord.submitModal({ customId: modal.customId, fields: { duration: '30d', reason: REASON_OF_500_EMOJI }, userId: STAFF_ID, message: handle.original()! });
    const preview = (await submit.settled()) as LocalMessage;
    expect(preview.embeds[0]?.title).toBe('Confirm ban');
    const confirm = await h.discord.clickButton({ message: submit.original()!, customId: buttonByLabel(preview, 'Confirm ban').customId, userId: STAFF_ID });
    await confirm.settled();
    expect(await storedReasons()).toEqual([REASON_OF_500_EMOJI]);
  });
});

describe('the values a customer can be registered with', () => {
  it('can be typed into a ban and a lookup: an email of 254 characters', async () => {
    const email = `${'x'.repeat(242)}@example.com`;
    await insertCustomer(h.db, h.clock, { name: 'Long Email', email });
    const lookup = await h.customer('lookup', { query: email });
    expect([lookup.message.content, lookup.message.embeds[0]?.title]).toEqual(['', 'Long Email']);
    const { handle, message } = await h.customer('ban', { type: 'email', target: email, duration: '7d', reason: 'fraud' });
    expect(message.embeds[0]?.title).toBe('Confirm ban');
    const confirm = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Confirm ban').customId, userId: STAFF_ID });
    await confirm.settled();
    expect(await h.db.selectFrom('bans').select('value').execute()).toEqual([{ value: email }]);
  });
});

// Text as staff may type it: any graphemes, emoji runs, surrounding space, up to the limit
// Discord enforces (counted in code points, as it counts them).
const typedText = (max: number) =>
  fc
    .oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(max, 300) }),
      fc.integer({ min: 1, max }).map((n) => '🚫'.repeat(n)),
      fc.integer({ min: 1, max: Math.floor(max / 7) }).map((n) => '👨‍👩‍👧‍👦'.repeat(n)),
      fc.constantFrom(' ', '\u3000', ' padded ', 'a'.repeat(max), `${'é'.repeat(max - 1)}e\u0301`),
    )
    .filter((text) => codePointLength(text) <= max);

describe('every note and ban reason Discord delivers', () => {
  it('is stored as typed, unless it is blank: then refused with a message saying why, and nothing stored', async () => {
    await fc.assert(
      fc.asyncProperty(typedText(NOTE_MAX_LENGTH), async (text) => {
        const before = await h.db.selectFrom('notes').select('body').orderBy('id', 'desc').execute();
        const { message } = await h.customer('note', { customer: 'alice@example.com', text });
        const after = await h.db.selectFrom('notes').select('body').orderBy('id', 'desc').execute();
        // What Discord delivers within the limit, only blank text is refused.
        if (text.trim() === '') {
          expect(message.content).toMatch(/^❌ A note must be 1 to 1000 characters/);
          expect(after).toHaveLength(before.length);
          return;
        }
        expect(after.length).toBe(before.length + 1);
        expect(after[0]?.body).toBe(text.trim());
      }),
      { numRuns: 50 },
    );
  }, 120_000);

  it('bans with any reason Discord lets through that is not blank; a blank one is refused and bans nothing', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(typedText(BAN_REASON_MAX_LENGTH), async (reason) => {
        const target = `banned${++runs}@example.com`;
        const before = (await storedReasons()).length;
        const { handle, message } = await h.customer('ban', { type: 'email', target, duration: '7d', reason });
        if (reason.trim() === '') {
          expect(message.content).toMatch(/^❌ The reason must be between 1 and 500 characters/);
          expect(await storedReasons()).toHaveLength(before);
          return;
        }
        expect(message.embeds[0]?.title).toBe('Confirm ban');
        const confirm = await h.discord.clickButton({ message: handle.original()!, customId: buttonByLabel(message, 'Confirm ban').customId, userId: STAFF_ID });
        await confirm.settled();
        const row = await h.db.selectFrom('bans').select('reason').where('value', '=', target).executeTakeFirst();
        expect(row?.reason).toBe(reason.trim());
      }),
      { numRuns: 50 },
    );
  }, 120_000);
});
