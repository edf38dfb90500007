import { afterEach, describe, expect, it } from 'vitest';
import { findDigestRun } from '../../src/store/digest.repository.js';
import { ALERT_CHANNEL_ID, SHOP_CHANNEL_ID, orderEvent, startShop, type ShopHarness } from '../support/services-harness.js';

let shop: ShopHarness | undefined;
afterEach(async () => {
  await shop?.stop();
  shop = undefined;
});

const WEEK_MS = 7 * 24 * 60 * 60_000;
const digestPosts = () => shop!.discord.channelMessages(SHOP_CHANNEL_ID).filter((m) => m.embeds.length > 0);

describe('the weekly digest, as the running bot sends it', () => {
  it('records a baseline on its very first start, even minutes after a scheduled time, and posts the next period once', async () => {
    // Monday 2026-11-23 09:20 in Berlin, twenty minutes after the scheduled 09:00.
    shop = await startShop({ now: '2026-11-23T08:20:00.000Z', env: { DIGEST_CHANNEL_ID: SHOP_CHANNEL_ID, STORE_TIMEZONE: 'Europe/Berlin' } });
    await expect.poll(async () => (await findDigestRun(shop!.db, '2026-11-23T08:00:00.000Z'))?.status, { timeout: 10_000 }).toBe('skipped');
    expect(digestPosts()).toEqual([]);

    // The next Monday, 09:20 in Berlin: that period is posted.
    shop.clock.advance(WEEK_MS);
    shop.services.digest.wake();
    await expect.poll(() => digestPosts().length, { timeout: 10_000 }).toBe(1);
    const [message] = digestPosts();
    expect(message!.embeds[0]!.footer?.text).toBe('Digest period 2026-11-30T08:00:00.000Z · Europe/Berlin');
    expect(message!.attachments.map((a) => a.filename)).toEqual(expect.arrayContaining(['segments.png']));
    // Checked again later in the same period (the safety check, a purchase meanwhile): nothing more is posted.
    await shop.send(orderEvent('order.paid', { id: 31, email: 'late@example.com' }));
    shop.clock.advance(30 * 60_000);
    shop.services.digest.wake();
    await new Promise((r) => setTimeout(r, 300));
    expect(digestPosts()).toHaveLength(1);
    expect(shop.discord.channelMessages(ALERT_CHANNEL_ID)).toEqual([]);
  });
});
