import { afterEach, describe, expect, it } from 'vitest';
import { ALERT_CHANNEL_ID, SHOP_CHANNEL_ID, orderEvent, startShop, type ShopHarness } from './support/services-harness.js';

let shop: ShopHarness | undefined;
afterEach(async () => {
  await shop?.stop();
  shop = undefined;
});

describe('the weekly digest, as the running bot sends it', () => {
  it('posts the digest of a period that began minutes ago to the digest channel, once', async () => {
    // Monday 2026-11-23 09:20 in Berlin: the 09:00 digest is due.
    shop = await startShop({ now: '2026-11-23T08:20:00.000Z', env: { DIGEST_CHANNEL_ID: SHOP_CHANNEL_ID, STORE_TIMEZONE: 'Europe/Berlin' } });
    await expect
      .poll(() => shop!.discord.channelMessages(SHOP_CHANNEL_ID).filter((m) => m.embeds.length > 0).length, { timeout: 10_000 })
      .toBe(1);
    const [message] = shop.discord.channelMessages(SHOP_CHANNEL_ID);
    expect(message!.embeds[0]!.footer?.text).toContain('Digest period');
    expect(message!.attachments.map((a) => a.filename)).toEqual(expect.arrayContaining(['segments.png']));
    // Checked again later in the same period (the safety check, a purchase meanwhile): nothing more is posted.
    await shop.send(orderEvent('order.paid', { id: 31, email: 'late@example.com' }));
    shop.clock.advance(30 * 60_000);
    shop.services.digest.wake();
    await new Promise((r) => setTimeout(r, 300));
    expect(shop.discord.channelMessages(SHOP_CHANNEL_ID).filter((m) => m.embeds.length > 0)).toHaveLength(1);
    expect(shop.discord.channelMessages(ALERT_CHANNEL_ID)).toEqual([]);
  });
});
