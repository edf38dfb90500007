import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIEmbed } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EMBED_LIMITS } from '../../../src/discord/render/view.js';
import { renderDigestMessage } from '../../../src/discord/render/digest-message.js';
import type { ManualClock } from '../../../src/shared/clock.js';
import { buildWeeklyDigest, previousDigestInputs, writeAtRiskList, type WeeklyDigest } from '../../../src/domain/digest/digest.js';
import type { Customer } from '../../../src/domain/customers/types.js';
import { insertCustomer } from '../../../src/domain/customers/registration.js';
import type { Db } from '../../../src/store/database.js';
import { insertDigestRun, insertSegmentSnapshot } from '../../../src/store/digest.repository.js';
import { placeOrder } from '../../support/fixtures.js';
import { onPostgres } from '../../support/database.js';
import { useTestContext } from '../../support/context.js';

// Monday 23 November 2026, 09:00 in Berlin: the default schedule's occurrence.
const NOW = '2026-11-23T08:00:00.000Z';
const PERIOD = NOW;
const PREVIOUS_PERIOD = '2026-11-16T08:00:00.000Z';
// 90 days before each.
const CUTOFF = '2026-08-25T08:00:00.000Z';
const PREVIOUS_CUTOFF = '2026-08-18T08:00:00.000Z';

let db: Db;
let clock: ManualClock;
let dir: string;

useTestContext({ now: NOW }, (context) => {
  ({ db, clock } = context);
  dir = mkdtempSync(join(tmpdir(), 'digest-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function customerWithOrders(name: string, orders: { at: string; cents: number }[], status: 'completed' | 'refunded' = 'completed'): Promise<Customer> {
  const customer = await insertCustomer(db, clock, { name, email: `${name.toLowerCase().replace(/[^a-z]+/g, '.')}@example.com`, createdAt: '2025-01-01T00:00:00.000Z' });
  for (const order of orders) await placeOrder(db, clock, customer, order.at, order.cents, 'VIP Rank', status);
  return customer;
}

const times = (n: number, at: string, cents: number) => Array.from({ length: n }, () => ({ at, cents }));

/**
 * Ann, Ben and Fay became at risk in the week (last order after the previous cut-off, at or
 * before this one; Fay exactly on it). Cat and Gus were already at risk (Gus exactly on the
 * previous cut-off). Dan ordered recently, Eve never did, Hal's only order was refunded.
 */
async function seedStore() {
  const ann = await customerWithOrders('Ann Archer', [...times(2, '2026-03-01T10:00:00.000Z', 2_000), { at: '2026-08-20T10:00:00.000Z', cents: 2_000 }]);
  const ben = await customerWithOrders('Ben Bishop', [...times(5, '2026-02-01T10:00:00.000Z', 10_000), { at: '2026-08-24T10:00:00.000Z', cents: 10_000 }]);
  const cat = await customerWithOrders('Cat Cooper', [{ at: '2026-05-01T10:00:00.000Z', cents: 50_000 }]);
  const dan = await customerWithOrders('Dan Dyer', times(2, '2026-11-01T10:00:00.000Z', 1_500));
  const eve = await customerWithOrders('Eve Evans', []);
  const fay = await customerWithOrders('=HYPERLINK("http://evil.example","Fay")', [{ at: CUTOFF, cents: 700 }]);
  const gus = await customerWithOrders('Gus Grant', [{ at: PREVIOUS_CUTOFF, cents: 900 }]);
  const hal = await customerWithOrders('Hal Hardy', [{ at: '2026-04-01T10:00:00.000Z', cents: 4_000 }], 'refunded');
  return { ann, ben, cat, dan, eve, fay, gus, hal };
}

async function build(options: Partial<Parameters<typeof buildWeeklyDigest>[2]> = {}): Promise<WeeklyDigest> {
  return buildWeeklyDigest(db, clock, { atRiskDays: 90, timeZone: 'Europe/Berlin', previousCutoff: PREVIOUS_CUTOFF, periodKey: PERIOD, ...options });
}

function embedLength(embed: APIEmbed): number {
  let n = (embed.title?.length ?? 0) + (embed.description?.length ?? 0) + (embed.footer?.text.length ?? 0);
  for (const f of embed.fields ?? []) n += f.name.length + f.value.length;
  return n;
}

function csvLines(path: string): string[] {
  return readFileSync(path, 'utf8').replace(/^\uFEFF/, '').split('\r\n').filter((line) => line !== '');
}

describe('buildWeeklyDigest', () => {
  it('counts the customers at risk: at least one completed order and none in the last 90 days', async () => {
    await seedStore();
    const digest = await build();
    expect(digest.atRiskCutoff).toBe(CUTOFF);
    expect(digest.atRiskCount).toBe(5);
    expect(digest.withOrdersCount).toBe(6);
  });

  it('names who became at risk since the previous digest, most valuable first', async () => {
    const s = await seedStore();
    const digest = await build();
    expect(digest.newlyAtRiskCount).toBe(3);
    expect(digest.newlyAtRisk.map((c) => c.id)).toEqual([s.ben.id, s.ann.id, s.fay.id]);
    expect(digest.newlyAtRisk[0]).toMatchObject({ name: 'Ben Bishop', ordersCount: 6, ltvCents: 60_000, lastOrderAt: '2026-08-24T10:00:00.000Z' });
  });

  it('lists the most valuable of all at-risk customers by LTV with their last order', async () => {
    const s = await seedStore();
    const digest = await build({ topN: 3 });
    expect(digest.mostValuableAtRisk.map((c) => [c.id, c.ltvCents, c.lastOrderAt])).toEqual([
      [s.ben.id, 60_000, '2026-08-24T10:00:00.000Z'],
      [s.cat.id, 50_000, '2026-05-01T10:00:00.000Z'],
      [s.ann.id, 6_000, '2026-08-20T10:00:00.000Z'],
    ]);
  });

  it('counts the segments: New 0–1 orders (never-buyers included), Repeat 2–4, Loyal 5+', async () => {
    await seedStore();
    const digest = await build();
    expect(digest.segments).toEqual({ newCount: 5, repeatCount: 2, loyalCount: 1, atRiskCount: 5, customersTotal: 8 });
  });

  it('gives the change in each segment since the previous stored snapshot, and not against its own period', async () => {
    await seedStore();
    const row = { taken_at: PREVIOUS_PERIOD, new_count: 4, repeat_count: 3, loyal_count: 1, at_risk_count: 2, customers_total: 8 };
    await insertSegmentSnapshot(db, { period_key: '2026-11-09T08:00:00.000Z', ...row, at_risk_count: 1 });
    await insertSegmentSnapshot(db, { period_key: PREVIOUS_PERIOD, ...row });
    // A retry of this very period finds its own snapshot stored: that is not "last week".
    await insertSegmentSnapshot(db, { period_key: PERIOD, ...row, at_risk_count: 99 });
    const digest = await build();
    expect(digest.previousSegments?.periodKey).toBe(PREVIOUS_PERIOD);
    expect(digest.segmentChanges).toEqual({ newCount: 1, repeatCount: -1, loyalCount: 0, atRiskCount: 3, customersTotal: 0 });
    expect(digest.history.map((p) => [p.periodKey, p.atRiskCount])).toEqual([
      ['2026-11-09T08:00:00.000Z', 1],
      [PREVIOUS_PERIOD, 2],
      [PERIOD, 5],
    ]);
  });

  it('has no week-over-week change before any snapshot was stored', async () => {
    await seedStore();
    const digest = await build();
    expect(digest.previousSegments).toBeNull();
    expect(digest.segmentChanges).toBeNull();
    expect(digest.history).toHaveLength(1);
  });

  it('finds nobody newly at risk when AT_RISK_DAYS grew and the cut-off moved back', async () => {
    await seedStore();
    const digest = await build({ previousCutoff: '2026-09-01T00:00:00.000Z' });
    expect(digest.newlyAtRiskCount).toBe(0);
    expect(digest.newlyAtRisk).toEqual([]);
  });
});

describe('previousDigestInputs', () => {
  it("starts the window at the last digest's stored cut-off", async () => {
    await insertDigestRun(db, {
      period_key: '2026-11-09T08:00:00.000Z',
      status: 'sent',
      claimed_at: '2026-11-09T08:00:00.000Z',
      attempts: 1,
      at_risk_cutoff: '2026-08-11T08:00:00.000Z',
      at_risk_days: 90,
      cron: '0 9 * * 1',
      time_zone: 'Europe/Berlin',
    });
    // A failed or in-flight run is not a digest staff saw.
    await insertDigestRun(db, {
      period_key: PREVIOUS_PERIOD,
      status: 'failed',
      claimed_at: PREVIOUS_PERIOD,
      attempts: 5,
      at_risk_cutoff: PREVIOUS_CUTOFF,
      at_risk_days: 90,
      cron: '0 9 * * 1',
      time_zone: 'Europe/Berlin',
    });
    const inputs = await previousDigestInputs(db, { cron: '0 9 * * 1', timeZone: 'Europe/Berlin', atRiskDays: 90, now: clock.now(), periodKey: PERIOD });
    expect(inputs).toEqual({ previousCutoff: '2026-08-11T08:00:00.000Z', previousDigestAt: '2026-11-09T08:00:00.000Z' });
  });

  it('without a previous digest, covers the week since the previous occurrence', async () => {
    const inputs = await previousDigestInputs(db, { cron: '0 9 * * 1', timeZone: 'Europe/Berlin', atRiskDays: 90, now: clock.now(), periodKey: PERIOD });
    expect(inputs).toEqual({ previousCutoff: PREVIOUS_CUTOFF, previousDigestAt: null });
  });
});

describe('writeAtRiskList', () => {
  it('writes every at-risk customer as the customer export CSV, highest LTV first, formulas neutralised', async () => {
    const s = await seedStore();
    const digest = await build();
    const list = await writeAtRiskList(db, digest, { directory: dir });
    expect(list).toMatchObject({ rows: 5, truncated: false });
    expect(list.file.fileName).toBe('at-risk-customers-2026-11-23.csv');
    const lines = csvLines(list.file.path);
    expect(lines[0]).toBe('Customer ID,Name,Email,Country,Total Orders,Total Spent,Registration Date,Last Order Date,Discord Username,Steam Username');
    expect(lines.slice(1).map((line) => Number(line.split(',')[0]))).toEqual([s.ben.id, s.cat.id, s.ann.id, s.gus.id, s.fay.id]);
    expect(lines[5]).toContain(`"'=HYPERLINK(""http://evil.example"",""Fay"")"`);
  });
});

describe('renderDigestMessage', () => {
  it('shows the counts, the newly at-risk and most valuable lists, segment changes, the CSV and the chart', async () => {
    await seedStore();
    await insertSegmentSnapshot(db, { period_key: PREVIOUS_PERIOD, taken_at: PREVIOUS_PERIOD, new_count: 4, repeat_count: 3, loyal_count: 1, at_risk_count: 2, customers_total: 8 });
    const digest = await build({ previousDigestAt: PREVIOUS_PERIOD });
    const list = await writeAtRiskList(db, digest, { directory: dir });
    const message = renderDigestMessage(digest, { currency: 'EUR', list });
    const embed = message.embeds[0]!;
    expect(embed.description).toContain('**5** customers are at risk');
    expect(embed.description).toContain(`**3** became at risk since the last digest (<t:${Date.parse(PREVIOUS_PERIOD) / 1000}:D>).`);
    const fields = Object.fromEntries((embed.fields ?? []).map((f) => [f.name, f.value]));
    expect(fields['Newly at risk · highest lifetime value']!.split('\n')[0]).toBe(`1. **Ben Bishop** · €600.00 · last order <t:${Date.parse('2026-08-24T10:00:00Z') / 1000}:d> · #${digest.newlyAtRisk[0]!.id}`);
    expect(fields['Most valuable at risk']!.split('\n')).toHaveLength(5);
    expect(fields['New (0–1 orders)']).toBe('5 (+1)');
    expect(fields['Repeat (2–4 orders)']).toBe('2 (−1)');
    expect(fields['Loyal (5+ orders)']).toBe('1 (±0)');
    expect(fields['At risk (no order in 90 days)']).toBe('5 (+3)');
    expect(fields['Full list']).toContain('All 5 at-risk customers');
    expect(embed.footer?.text).toBe(`Digest period ${PERIOD} · Europe/Berlin`);
    expect(embed.image?.url).toBe('attachment://segments.png');
    expect(message.files.map((f) => f.name)).toEqual(['at-risk-customers-2026-11-23.csv', 'segments.png']);
    const chart = message.files[1]!.attachment as Buffer;
    expect(chart.subarray(1, 4).toString('ascii')).toBe('PNG');
  });

  it('escapes markdown in customer names', async () => {
    await customerWithOrders('**bold** _x_ @everyone', [{ at: '2026-08-01T00:00:00.000Z', cents: 100 }]);
    const message = renderDigestMessage(await build(), { currency: 'USD' });
    const list = message.embeds[0]!.fields!.find((f) => f.name === 'Most valuable at risk')!.value;
    expect(list).toContain('\\*\\*bold\\*\\* \\_x\\_ @\u200beveryone');
  });
});

// PostgreSQL's row triggers (store counters, day counts) make the 30,000 inserts take longer there.
describe('a store with 30,000 customers at risk', { timeout: onPostgres ? 180_000 : undefined }, () => {
  const AT_RISK = 30_000;

  beforeEach(async () => {
    // Written straight into the aggregates: orders themselves do not matter to the digest.
    const rows = Array.from({ length: AT_RISK }, (_, i) => {
      const name = `${'*'.repeat(i % 3)}Customer ${String(i).padStart(5, '0')} ${'with a rather long name '.repeat(4)}`.trim();
      return {
        name,
        email: `c${i}@example.com`,
        email_lower: `c${i}@example.com`,
        orders_count: 1 + (i % 7),
        total_spent_cents: 100 + ((i * 7919) % 1_000_000),
        first_order_at: '2025-01-01T00:00:00.000Z',
        // Half went quiet within the last week's window: they are newly at risk.
        last_order_at: i % 2 === 0 ? '2026-08-20T00:00:00.000Z' : '2026-03-01T00:00:00.000Z',
        created_at: '2025-01-01T00:00:00.000Z',
        updated_at: '2025-01-01T00:00:00.000Z',
      };
    });
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('customers').values(rows.slice(i, i + 500)).execute();
  }, onPostgres ? 180_000 : undefined);

  it('keeps the message inside every embed limit and attaches the full list', async () => {
    const digest = await build({ topN: 25 });
    expect(digest.atRiskCount).toBe(AT_RISK);
    expect(digest.newlyAtRiskCount).toBe(AT_RISK / 2);
    const list = await writeAtRiskList(db, digest, { directory: dir });
    const message = renderDigestMessage(digest, { currency: 'USD', list });

    expect(message.embeds).toHaveLength(1);
    const embed = message.embeds[0]!;
    expect(embedLength(embed)).toBeLessThanOrEqual(EMBED_LIMITS.total);
    expect(embed.fields!.length).toBeLessThanOrEqual(EMBED_LIMITS.fields);
    for (const f of embed.fields!) expect(f.value.length).toBeLessThanOrEqual(EMBED_LIMITS.fieldValue);
    expect(embed.description!.length).toBeLessThanOrEqual(EMBED_LIMITS.description);
    const newly = embed.fields!.find((f) => f.name.startsWith('Newly at risk'))!.value;
    expect(newly).toMatch(/…and 1\d,\d{3} more in the attached list$/);

    expect(list.truncated).toBe(false);
    expect(list.file.bytes).toBeLessThanOrEqual(10 * 1024 * 1024);
    expect(csvLines(list.file.path)).toHaveLength(AT_RISK + 1);
  });

  it('attaches the most valuable customers that fit when the list is over the upload limit, and says so', async () => {
    const digest = await build();
    const list = await writeAtRiskList(db, digest, { directory: dir, maxBytes: 300_000 });
    expect(list.truncated).toBe(true);
    expect(list.file.bytes).toBeLessThanOrEqual(300_000);
    expect(list.rows).toBeGreaterThan(1_000);
    const lines = csvLines(list.file.path);
    expect(lines).toHaveLength(list.rows + 1);
    const spent = lines.slice(1).map((line) => Number(line.split(',')[5]));
    expect(spent).toEqual([...spent].sort((a, b) => b - a));
    expect(spent[0]).toBe(digest.mostValuableAtRisk[0]!.ltvCents / 100);
    const message = renderDigestMessage(digest, { currency: 'USD', list });
    expect(message.embeds[0]!.fields!.find((f) => f.name === 'Full list')!.value).toContain(`The ${list.rows.toLocaleString('en-US')} most valuable of 30,000 at-risk customers`);
  });
});
