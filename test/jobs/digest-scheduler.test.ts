import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDigestFooterFor } from '../../src/discord/render/digest-message.js';
import type { DigestMessage } from '../../src/domain/digest/ports.js';
import type { ManualClock } from '../../src/shared/clock.js';
import { nextOccurrence } from '../../src/domain/digest/digest.js';
import { DIGEST_RETRY_DELAY_MS, runDigestIfDue, startDigestScheduler, type DigestConfig, type DigestScheduler, type RunDigestOptions } from '../../src/jobs/digest.js';
import { createLogger } from '../../src/logger.js';
import { insertCustomer } from '../../src/domain/customers/registration.js';
import type { Db } from '../../src/store/database.js';
import { findDigestRun } from '../../src/store/digest.repository.js';
import { placeOrder } from '../support/fixtures.js';
import { useTestContext } from '../support/context.js';

const CHANNEL = '2200000000000000002';
const BERLIN: DigestConfig = { digestChannelId: CHANNEL, digestCron: '0 9 * * 1', storeTimeZone: 'Europe/Berlin', atRiskDays: 90, storeCurrency: 'EUR' };

// Mondays 09:00 in Berlin (winter time): 08:00 UTC.
const WEEK = ['2026-11-02T08:00:00.000Z', '2026-11-09T08:00:00.000Z', '2026-11-16T08:00:00.000Z', '2026-11-23T08:00:00.000Z', '2026-11-30T08:00:00.000Z'] as const;
const at = (iso: string, deltaMs: number) => new Date(Date.parse(iso) + deltaMs).toISOString();
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

interface Post {
  id: string;
  periodKey: string;
  message: DigestMessage;
}

/** The digest channel, at the wire: what was posted, and the footer search the real sender does. */
function fakeChannel() {
  const posts: Post[] = [];
  let next = 1;
  return {
    posts,
    send: (message: DigestMessage, { periodKey }: { periodKey: string }) => {
      const id = `msg-${next++}`;
      posts.push({ id, periodKey, message });
      return Promise.resolve({ messageId: id });
    },
    findPosted: (periodKey: string) => {
      const found = posts.find((p) => p.message.embeds.some((e) => isDigestFooterFor(e.footer?.text, periodKey)));
      return Promise.resolve(found ? { messageId: found.id } : null);
    },
  };
}

let db: Db;
let clock: ManualClock;
let dir: string;
let channel: ReturnType<typeof fakeChannel>;
let logs: Record<string, unknown>[];
const schedulers: DigestScheduler[] = [];

useTestContext({ now: WEEK[0] }, (context) => {
  ({ db, clock } = context);
  dir = mkdtempSync(join(tmpdir(), 'digest-scheduler-'));
  channel = fakeChannel();
  logs = [];
});
afterEach(async () => {
  for (const scheduler of schedulers.splice(0)) await scheduler.stop();
  rmSync(dir, { recursive: true, force: true });
});

function run(config: DigestConfig = BERLIN, overrides: Partial<RunDigestOptions> = {}) {
  return runDigestIfDue(db, clock, { config, send: channel.send, findPosted: channel.findPosted, tempDir: dir, ...overrides });
}

async function start(config: DigestConfig = BERLIN, safetyIntervalMs?: number): Promise<DigestScheduler> {
  const logger = createLogger('debug', { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const scheduler = await startDigestScheduler({ db, clock, config, sender: { send: channel.send, findPosted: channel.findPosted }, logger, tempDir: dir, safetyIntervalMs });
  schedulers.push(scheduler);
  return scheduler;
}

async function stop(scheduler: DigestScheduler): Promise<void> {
  schedulers.splice(schedulers.indexOf(scheduler), 1);
  await scheduler.stop();
}

/** Waits until the scheduler finished `n` checks in all (each logs its result). */
async function checksDone(n: number): Promise<string[]> {
  await expect.poll(() => logs.filter((l) => l.msg === 'weekly digest check').length).toBeGreaterThanOrEqual(n);
  return logs.filter((l) => l.msg === 'weekly digest check').map((l) => String(l.result));
}

const postedPeriods = () => channel.posts.map((p) => p.periodKey);

// The Monday before WEEK[0]: the period a first start during that week takes as its baseline.
const BASELINE = '2026-10-26T08:00:00.000Z';

/** The bot's very first start, on the Friday before `iso`, then the clock moved on to `iso`. */
async function firstStartedBefore(iso: string, config: DigestConfig = BERLIN): Promise<void> {
  clock.set(at(iso, -3 * DAY));
  expect(await run(config)).toBe('not_due');
  clock.set(iso);
}

describe('the first start', () => {
  it('does nothing without a digest channel', async () => {
    expect(await run({ ...BERLIN, digestChannelId: undefined })).toBe('skipped_no_channel');
    expect(await db.selectFrom('digest_runs').selectAll().execute()).toEqual([]);
  });

  it('on its very first start mid-week, records a baseline instead of posting a digest nobody missed', async () => {
    clock.set(at(WEEK[0], 2 * DAY));
    expect(await run()).toBe('not_due');
    expect(channel.posts).toEqual([]);
    expect(await findDigestRun(db, WEEK[0])).toMatchObject({ status: 'skipped' });
    clock.set(WEEK[1]);
    expect(await run()).toBe('sent');
    // The baseline's snapshot gives the first digest its week-over-week change.
    const fields = channel.posts[0]!.message.embeds[0]!.fields!.map((f) => f.name);
    expect(fields).not.toContain('Week over week');
  });

  it('dates the first digest\'s "became at risk" from the baseline it started from, not from a digest nobody saw', async () => {
    const customer = await insertCustomer(db, clock, { name: 'Quiet Quinn', email: 'quinn@example.com' });
    // Quinn's last order turns 90 days old during the week after the first start.
    await placeOrder(db, clock, customer, at(WEEK[1], -90 * DAY - 2 * DAY), 4_200);
    const firstStart = at(WEEK[0], 2 * DAY);
    clock.set(firstStart);
    expect(await run()).toBe('not_due');
    clock.set(WEEK[1]);
    expect(await run()).toBe('sent');
    const description = channel.posts[0]!.message.embeds[0]!.description!;
    expect(description).toContain(`**1** became at risk since <t:${Date.parse(firstStart) / 1000}:f>.`);
    expect(description).not.toContain('since the last digest');
  });

  it('on its very first start minutes after a scheduled time, records a baseline and posts nothing', async () => {
    clock.set(at(WEEK[0], 20 * MINUTE));
    expect(await run()).toBe('not_due');
    clock.set(at(WEEK[0], 25 * MINUTE));
    expect(await run()).toBe('not_due');
    expect(channel.posts).toEqual([]);
    expect(await findDigestRun(db, WEEK[0])).toMatchObject({ status: 'skipped', attempts: 0 });
    clock.set(WEEK[1]);
    expect(await run()).toBe('sent');
    expect(postedPeriods()).toEqual([WEEK[1]]);
  });

  it('on its very first start at the scheduled minute itself, records a baseline and posts nothing', async () => {
    expect(await run()).toBe('not_due');
    expect(channel.posts).toEqual([]);
    expect(await findDigestRun(db, WEEK[0])).toMatchObject({ status: 'skipped' });
  });
});

describe('runDigestIfDue', () => {
  beforeEach(async () => {
    await firstStartedBefore(WEEK[0]);
  });

  it('sends once per week at the scheduled minute and not on the later checks of that week', async () => {
    expect(await run()).toBe('sent');
    clock.set(at(WEEK[0], 5 * MINUTE));
    expect(await run()).toBe('already_sent');
    clock.set(at(WEEK[0], 3 * DAY));
    expect(await run()).toBe('already_sent');
    clock.set(at(WEEK[1], -1));
    expect(await run()).toBe('already_sent');
    clock.set(WEEK[1]);
    expect(await run()).toBe('sent');
    expect(postedPeriods()).toEqual([WEEK[0], WEEK[1]]);
    expect(await findDigestRun(db, WEEK[1])).toMatchObject({ status: 'sent', message_id: 'msg-2', attempts: 1, sent_at: WEEK[1] });
  });

  it('posts once when two checks run at the same moment', async () => {
    const results = await Promise.all([run(), run()]);
    expect(results.sort()).toEqual(['already_sent', 'sent']);
    expect(channel.posts).toHaveLength(1);
  });

  it('leaves a period alone while another check is still posting it', async () => {
    let release!: () => void;
    const slow = (message: DigestMessage, context: { periodKey: string }) =>
      new Promise<void>((resolve) => (release = resolve)).then(() => channel.send(message, context));
    const first = run(BERLIN, { send: slow });
    await expect.poll(() => release).toBeDefined();
    clock.set(at(WEEK[0], 5 * MINUTE));
    expect(await run()).toBe('already_sent');
    release();
    expect(await first).toBe('sent');
    expect(channel.posts).toHaveLength(1);
  });

  it('does not post again after a crash between posting and recording it', async () => {
    // The post reaches Discord, then the process dies before the row is marked sent.
    const postThenDie = async (message: DigestMessage, context: { periodKey: string }) => {
      await channel.send(message, context);
      return new Promise<{ messageId: string }>(() => undefined);
    };
    void run(BERLIN, { send: postThenDie });
    await expect.poll(() => channel.posts.length).toBe(1);
    expect((await findDigestRun(db, WEEK[0]))?.status).toBe('sending');

    clock.set(at(WEEK[0], 2 * MINUTE));
    await start();
    await checksDone(1);
    expect(await findDigestRun(db, WEEK[0])).toMatchObject({ status: 'sent', message_id: 'msg-1' });
    expect(channel.posts).toHaveLength(1);
  });

  it('posts after a crash that happened before the post reached Discord, once', async () => {
    void run(BERLIN, { send: () => new Promise(() => undefined) });
    await expect.poll(async () => (await findDigestRun(db, WEEK[0]))?.status).toBe('sending');
    await expect.poll(async () => (await findDigestRun(db, WEEK[0]))?.at_risk_count).not.toBeNull();

    clock.set(at(WEEK[0], 2 * MINUTE));
    await start();
    expect(await checksDone(1)).toEqual(['resent']);
    expect(postedPeriods()).toEqual([WEEK[0]]);
    expect(await findDigestRun(db, WEEK[0])).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('retries a failed post after a pause, first checking whether it went through', async () => {
    const timedOut = async (message: DigestMessage, context: { periodKey: string }) => {
      await channel.send(message, context);
      throw new Error('Request timed out');
    };
    expect(await run(BERLIN, { send: timedOut })).toBe('failed');
    expect(await findDigestRun(db, WEEK[0])).toMatchObject({ status: 'failed', last_error: 'Error: Request timed out' });
    clock.set(at(WEEK[0], DIGEST_RETRY_DELAY_MS - 1));
    expect(await run()).toBe('not_due');
    clock.set(at(WEEK[0], DIGEST_RETRY_DELAY_MS));
    expect(await run()).toBe('already_sent');
    expect(channel.posts).toHaveLength(1);
    expect(await findDigestRun(db, WEEK[0])).toMatchObject({ status: 'sent', message_id: 'msg-1' });
  });

  it('posts a failed digest on the retry when it never went through', async () => {
    expect(await run(BERLIN, { send: () => Promise.reject(new Error('Missing Permissions')) })).toBe('failed');
    clock.set(at(WEEK[0], DIGEST_RETRY_DELAY_MS));
    expect(await run()).toBe('resent');
    expect(postedPeriods()).toEqual([WEEK[0]]);
  });

  it('gives up on a period after the last attempt', async () => {
    const refuse = () => Promise.reject(new Error('Missing Access'));
    expect(await run(BERLIN, { send: refuse, maxAttempts: 2 })).toBe('failed');
    clock.set(at(WEEK[0], DIGEST_RETRY_DELAY_MS));
    expect(await run(BERLIN, { send: refuse, maxAttempts: 2 })).toBe('failed');
    clock.set(at(WEEK[0], 3 * DIGEST_RETRY_DELAY_MS));
    expect(await run(BERLIN, { maxAttempts: 2 })).toBe('not_due');
    expect(await findDigestRun(db, WEEK[0])).toMatchObject({ status: 'failed', attempts: 2, last_error: 'Error: Missing Access' });
    // The next period starts afresh.
    clock.set(WEEK[1]);
    expect(await run(BERLIN, { maxAttempts: 2 })).toBe('sent');
  });
});

describe('runDigestIfDue across a daylight-saving switch', () => {
  it('steps across the March daylight-saving switch without a double or a gap', async () => {
    await firstStartedBefore('2026-03-23T08:00:00.000Z');
    expect(await run()).toBe('sent');
    // 08:30 local on the first summer Monday is 06:30 UTC: before this week's minute.
    clock.set('2026-03-30T06:30:00.000Z');
    expect(await run()).toBe('already_sent');
    clock.set('2026-03-30T07:00:00.000Z');
    expect(await run()).toBe('sent');
    expect(postedPeriods()).toEqual(['2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z']);
  });
});

describe('the digest scheduler', () => {
  beforeEach(async () => {
    // The bot has been running: it started the week before, and last week's digest went out.
    await firstStartedBefore(WEEK[0]);
    expect(await run()).toBe('sent');
  });

  it('sends the digest missed during a restart across the scheduled minute when it comes back', async () => {
    clock.set(at(WEEK[1], -30 * SECOND));
    let scheduler = await start();
    expect(await checksDone(1)).toEqual(['already_sent']);
    await stop(scheduler);

    clock.set(at(WEEK[1], 30 * SECOND));
    scheduler = await start();
    expect(await checksDone(2)).toEqual(['already_sent', 'sent']);
    expect(postedPeriods()).toEqual([WEEK[0], WEEK[1]]);
  });

  it('does not send again after a restart just after the scheduled minute', async () => {
    clock.set(WEEK[1]);
    let scheduler = await start();
    expect(await checksDone(1)).toEqual(['sent']);
    await stop(scheduler);

    clock.set(at(WEEK[1], 40 * SECOND));
    scheduler = await start();
    // The periodic safety check and the cron firing come to the same answer.
    scheduler.wake();
    await checksDone(2);
    clock.set(at(WEEK[1], 6 * MINUTE));
    scheduler.wake();
    expect(await checksDone(3)).toEqual(['sent', 'already_sent', 'already_sent']);
    expect(postedPeriods()).toEqual([WEEK[0], WEEK[1]]);
  });

  it('sends one catch-up digest, for the latest period, after three weeks down', async () => {
    const customer = await insertCustomer(db, clock, { name: 'Quiet Quinn', email: 'quinn@example.com' });
    // Quinn's last order turns 90 days old between the last digest and the latest period.
    await placeOrder(db, clock, customer, at(WEEK[2], -90 * DAY), 4_200);
    clock.set(at(WEEK[3], 2 * DAY));
    await start();
    expect(await checksDone(1)).toEqual(['sent']);
    expect(postedPeriods()).toEqual([WEEK[0], WEEK[3]]);
    const embed = channel.posts[1]!.message.embeds[0]!;
    expect(embed.footer?.text).toBe(`Digest period ${WEEK[3]} · Europe/Berlin`);
    expect(embed.description).toContain(`**1** became at risk since the last digest (<t:${Date.parse(WEEK[0]) / 1000}:D>)`);
    expect(await db.selectFrom('digest_runs').select('period_key').orderBy('period_key').execute()).toEqual([{ period_key: BASELINE }, { period_key: WEEK[0] }, { period_key: WEEK[3] }]);
  });

  it('does not send a second digest the same day when STORE_TIMEZONE moves west, nor skip a week when it moves back', async () => {
    const newYork: DigestConfig = { ...BERLIN, storeTimeZone: 'America/New_York' };
    // 09:00 in New York on the same Monday, six hours after Berlin's digest.
    clock.set('2026-11-02T14:00:00.000Z');
    expect(await run(newYork)).toBe('already_sent');
    clock.set('2026-11-09T13:59:00.000Z');
    expect(await run(newYork)).toBe('already_sent');
    clock.set('2026-11-09T14:00:00.000Z');
    expect(await run(newYork)).toBe('sent');
    // Back to Berlin: the next Berlin Monday is six days and 18 hours later, and it is sent.
    clock.set('2026-11-10T12:00:00.000Z');
    expect(await run(BERLIN)).toBe('already_sent');
    clock.set(WEEK[2]);
    expect(await run(BERLIN)).toBe('sent');
    expect(postedPeriods()).toEqual([WEEK[0], '2026-11-09T14:00:00.000Z', WEEK[2]]);
  });

  it('catches a period its timer missed (sleep, clock jump) with the periodic check', async () => {
    await start(BERLIN, 20);
    await checksDone(1);
    // Time moves past Monday 09:00 without the cron timer firing.
    clock.set(at(WEEK[1], 3 * MINUTE));
    await expect.poll(() => postedPeriods()).toEqual([WEEK[0], WEEK[1]]);
    const before = logs.filter((l) => l.msg === 'weekly digest check').length;
    await checksDone(before + 3);
    expect(postedPeriods()).toEqual([WEEK[0], WEEK[1]]);
  });

  it('schedules node-schedule on the same occurrences it computes itself', async () => {
    const scheduler = await start();
    await checksDone(1);
    expect(scheduler.nextInvocation()?.toISOString()).toBe(nextOccurrence(BERLIN.digestCron, BERLIN.storeTimeZone, new Date()).toISOString());
  });

  it('refuses to start with a cron expression it cannot schedule', async () => {
    await expect(start({ ...BERLIN, digestCron: '0 9 * * 9' })).rejects.toThrow(/DIGEST_CRON "0 9 \* \* 9"/);
  });
});
