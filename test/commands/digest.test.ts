import { describe, expect, it } from 'vitest';
import { createDigestSender } from '../../src/discord/digest-sender.js';
import { runDigestIfDue } from '../../src/jobs/digest.js';
import { findDigestRun } from '../../src/store/digest.repository.js';
import { CHANNEL_ID, OUTSIDER_ID, STAFF_ID, embedFields, type Harness } from '../support/bot-harness.js';
import { useTestContext } from '../support/context.js';
import { seedSmallStore, type SmallStore } from '../support/fixtures.js';

let h: Harness;
let store: SmallStore;

useTestContext({ discord: { env: { DIGEST_CHANNEL_ID: CHANNEL_ID, STORE_TIMEZONE: 'Europe/Berlin' } } }, async (context) => {
  h = context;
  store = await seedSmallStore(h.db, h.clock);
});

function csvRows(data: Buffer): string[][] {
  return data
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .split('\r\n')
    .filter((line) => line !== '')
    .map((line) => line.split(','));
}

describe('/customer digest', () => {
  it('previews the digest privately with the embed, the CSV and the chart, posting and saving nothing', async () => {
    const { handle, message } = await h.customer('digest', {}, STAFF_ID);
    expect(handle.ephemeral).toBe(true);
    expect(message.content).toContain('nothing was posted or saved');
    expect(message.content).toContain(`<#${CHANNEL_ID}>`);

    const embed = message.embeds[0]!;
    expect(embed.title).toBe('Weekly at-risk digest (preview)');
    // Bob (last order 15 May) and Dora (6 May) have had no order in 90 days.
    expect(embed.description).toContain('**2** customers are at risk');
    // No digest was sent yet: "newly" covers the week before now (Sunday 22 November, 12:00 UTC).
    expect(embed.description).toContain(`**0** became at risk since <t:${Date.parse('2026-11-15T12:00:00Z') / 1000}:f>.`);
    const fields = embedFields(message);
    expect(fields['Most valuable at risk']!.split('\n')[0]).toContain('**Bob Builder** · $50.00');
    expect(fields['At risk (no order in 90 days)']).toBe('2');
    expect(embed.footer?.text).toBe('Preview · not posted · Europe/Berlin');
    expect(embed.image?.url).toBe('attachment://segments.png');

    expect(message.attachments.map((a) => a.filename)).toEqual(['at-risk-customers-2026-11-22.csv', 'segments.png']);
    const rows = csvRows(message.attachments[0]!.data);
    expect(rows.map((r) => r[0])).toEqual(['Customer ID', String(store.bob.id), String(store.dormant.id)]);
    expect(message.attachments[1]!.data.subarray(1, 4).toString('ascii')).toBe('PNG');

    expect(await h.db.selectFrom('digest_runs').selectAll().execute()).toEqual([]);
    expect(await h.db.selectFrom('segment_snapshots').selectAll().execute()).toEqual([]);
    expect(h.discord.channelMessages(CHANNEL_ID)).toEqual([]);
  });

  it('is refused to members who are not staff', async () => {
    const { message } = await h.customer('digest', {}, OUTSIDER_ID);
    expect(message.content).toContain('for store staff only');
    expect(message.attachments).toEqual([]);
  });
});

describe('the digest sender', () => {
  it('posts the digest to the digest channel once, and finds it again after a crash instead of reposting', async () => {
    const sender = createDigestSender(h.client, CHANNEL_ID);
    const options = { config: h.config, ...sender, tempDir: h.deps.tempDir };
    // The bot's first start, the Friday before, records the baseline and posts nothing.
    h.clock.set('2026-11-20T12:00:00.000Z');
    expect(await runDigestIfDue(h.db, h.clock, options)).toBe('not_due');
    expect(h.discord.channelMessages(CHANNEL_ID)).toEqual([]);
    // Monday 23 November 2026, 09:00 in Berlin.
    h.clock.set('2026-11-23T08:00:00.000Z');
    expect(await runDigestIfDue(h.db, h.clock, options)).toBe('sent');

    const posted = h.discord.channelMessages(CHANNEL_ID);
    expect(posted).toHaveLength(1);
    const message = posted[0]!;
    expect(message.authorId).toBe(h.client.user!.id);
    expect(message.embeds[0]!.title).toBe('Weekly at-risk digest');
    expect(message.embeds[0]!.footer?.text).toBe('Digest period 2026-11-23T08:00:00.000Z · Europe/Berlin');
    expect(message.attachments.map((a) => a.filename)).toEqual(['at-risk-customers-2026-11-23.csv', 'segments.png']);
    expect(csvRows(message.attachments[0]!.data)).toHaveLength(3);
    expect(await findDigestRun(h.db, '2026-11-23T08:00:00.000Z')).toMatchObject({ status: 'sent', message_id: message.id });

    expect(await sender.findPosted('2026-11-23T08:00:00.000Z')).toEqual({ messageId: message.id });
    expect(await sender.findPosted('2026-11-16T08:00:00.000Z')).toBeNull();

    // As if the process had died between the post and recording it.
    await h.db
      .updateTable('digest_runs')
      .set({ status: 'sending', message_id: null, lease_expires_at: '2026-11-23T08:00:00.000Z' })
      .where('period_key', '=', '2026-11-23T08:00:00.000Z')
      .execute();
    h.clock.set('2026-11-23T08:05:00.000Z');
    expect(await runDigestIfDue(h.db, h.clock, options)).toBe('already_sent');
    expect(h.discord.channelMessages(CHANNEL_ID)).toHaveLength(1);
    expect(await findDigestRun(h.db, '2026-11-23T08:00:00.000Z')).toMatchObject({ status: 'sent', message_id: message.id });
  });
});
