import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalMessage, LocalModal } from '../src/sandbox/local-discord/index.js';
import { STAFF_ID, buttonByLabel, startHarness, type Harness } from './support/bot-harness.js';
import { seedSmallStore } from './support/fixtures.js';

// Discord counts an option's or a text input's max_length in code points; what it lets staff
// type up to that limit, the store must take.

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
  await seedSmallStore(h.db, h.clock);
});
afterEach(async () => h.stop());

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
