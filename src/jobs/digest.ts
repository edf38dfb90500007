import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { scheduleJob, type Job } from 'node-schedule';
import type { Config } from '../config.js';
import { renderDigestMessage } from '../discord/render/digest-message.js';
import type { DigestSender, FindPostedDigest, SendDigest } from '../domain/digest/ports.js';
import type { Clock } from '../shared/clock.js';
import { atRiskCutoff } from '../domain/customers/profile.js';
import {
  buildWeeklyDigest,
  checkSchedule,
  computePeriod,
  nextOccurrence,
  previousDigestInputs,
  snapshotRowOf,
  writeAtRiskList,
  type AtRiskListFile,
  type AtRiskListOptions,
  type DigestPeriod,
} from '../domain/digest/digest.js';
import type { Logger } from '../logger.js';
import { inTransaction, type Db } from '../store/database.js';
import {
  findDigestRun,
  findLatestDigestRunAfter,
  hasAnyDigestRun,
  insertDigestRun,
  insertSegmentSnapshot,
  markDigestRunFailed,
  markDigestRunSent,
  reclaimDigestRun,
  recordDigestBuilt,
  releaseDigestLeases,
} from '../store/digest.repository.js';
import { startWorker } from './worker.js';

/*
 * Exactly once per period.
 *
 * A period is one occurrence of DIGEST_CRON in STORE_TIMEZONE, keyed by its instant. A run claims
 * it by inserting its digest_runs row BEFORE building or posting anything; the unique key makes
 * one claimant win however many run at once. The winner posts, then marks the row sent. A row
 * left `sending` (the process died between posting and marking) or `failed` (posting threw, which
 * does not prove nothing was posted) is taken over through a conditional update, and the channel
 * is asked first whether that period's message is already there (the footer carries the key):
 * if so the row is just marked sent, so a crash never produces a second post.
 *
 * Only the latest occurrence is ever considered: a bot that was down for three weeks sends one
 * digest when it comes back, for the latest period, not three. A bot that has never sent a digest
 * does not backfill either, however recently that period began: it records the latest period as
 * its baseline (snapshot and cut-off, so the first real digest has a week-over-week change) and
 * posts nothing until the next occurrence, so the first digest staff see always has a change to
 * show.
 *
 * Changing DIGEST_CRON or STORE_TIMEZONE moves the occurrences. A digest already sent for a
 * moment closer to the new occurrence than to the one before it counts as that occurrence's
 * digest: moving Berlin → New York on a Monday does not send a second digest six hours after the
 * first, and moving back does not skip the next week.
 */

export type DigestRunResult = 'sent' | 'not_due' | 'already_sent' | 'resent' | 'skipped_no_channel' | 'failed';

export type DigestConfig = Pick<Config, 'digestChannelId' | 'digestCron' | 'storeTimeZone' | 'atRiskDays' | 'storeCurrency'>;

export interface RunDigestOptions {
  config: DigestConfig;
  send: SendDigest;
  /**
   * Asked before re-posting a run that was interrupted or failed. Without it such a run is posted
   * again: at least once instead of exactly once.
   */
  findPosted?: FindPostedDigest;
  /** Where the CSV is written before upload (deleted after); the OS temp directory by default. */
  tempDir?: string;
  logger?: Logger;
  leaseMs?: number;
  retryDelayMs?: number;
  maxAttempts?: number;
  list?: Pick<AtRiskListOptions, 'maxBytes' | 'fullListMaxRows'>;
}

/** A run holds its period this long; longer than building and posting a million-row list takes. */
export const DIGEST_LEASE_MS = 30 * 60_000;
/** A failed post is tried again after this, up to DIGEST_MAX_ATTEMPTS times in all. */
export const DIGEST_RETRY_DELAY_MS = 10 * 60_000;
export const DIGEST_MAX_ATTEMPTS = 5;

/** Sends the digest of the latest period if nobody has; see the comment above for the rules. */
export async function runDigestIfDue(db: Db, clock: Clock, options: RunDigestOptions): Promise<DigestRunResult> {
  const { config } = options;
  if (!config.digestChannelId) return 'skipped_no_channel';
  const now = clock.now();
  const nowIso = now.toISOString();
  const period = computePeriod(config.digestCron, config.storeTimeZone, now);

  const run = (await findDigestRun(db, period.periodKey)) ?? (await findLatestDigestRunAfter(db, midpointOf(period)));
  if (!run) {
    if (!(await hasAnyDigestRun(db))) {
      await recordBaseline(db, clock, period, options);
      return 'not_due';
    }
    const claimed = await insertDigestRun(db, {
      period_key: period.periodKey,
      status: 'sending',
      claimed_at: nowIso,
      lease_expires_at: new Date(now.getTime() + (options.leaseMs ?? DIGEST_LEASE_MS)).toISOString(),
      attempts: 1,
      at_risk_cutoff: atRiskCutoff(now, config.atRiskDays),
      at_risk_days: config.atRiskDays,
      cron: config.digestCron,
      time_zone: config.storeTimeZone,
    });
    if (!claimed) return 'already_sent';
    return (await buildAndSend(db, clock, period.periodKey, 1, options)) ? 'sent' : 'failed';
  }

  switch (run.status) {
    case 'sent':
      return 'already_sent';
    case 'skipped':
      return 'not_due';
    case 'sending':
      // Another run is at it (a crashed one's lease was released at start-up).
      if (run.lease_expires_at !== null && run.lease_expires_at > nowIso) return 'already_sent';
      break;
    case 'failed':
      if (run.attempts >= (options.maxAttempts ?? DIGEST_MAX_ATTEMPTS)) return 'not_due';
      if (Date.parse(run.claimed_at) + (options.retryDelayMs ?? DIGEST_RETRY_DELAY_MS) > now.getTime()) return 'not_due';
      break;
  }
  if (!(await reclaimDigestRun(db, clock, run, options.leaseMs ?? DIGEST_LEASE_MS))) return 'already_sent';
  try {
    const posted = options.findPosted ? await options.findPosted(run.period_key) : null;
    if (posted) {
      await markDigestRunSent(db, clock, run.period_key, posted.messageId);
      options.logger?.warn({ periodKey: run.period_key, messageId: posted.messageId }, 'an interrupted digest had been posted; marked sent without posting again');
      return 'already_sent';
    }
  } catch (error) {
    await markDigestRunFailed(db, run.period_key, describeError(error));
    options.logger?.error({ err: error, periodKey: run.period_key }, 'could not check whether the interrupted digest was posted; will try again');
    return 'failed';
  }
  return (await buildAndSend(db, clock, run.period_key, run.attempts + 1, options)) ? 'resent' : 'failed';
}

/** Halfway between the previous occurrence and this one, as an ISO instant. */
function midpointOf(period: DigestPeriod): string {
  const previous = period.previousScheduledAt.getTime();
  return new Date(previous + Math.floor((period.scheduledAt.getTime() - previous) / 2)).toISOString();
}

async function recordBaseline(db: Db, clock: Clock, period: DigestPeriod, options: RunDigestOptions): Promise<void> {
  const { config } = options;
  const at = clock.now();
  const digest = await buildWeeklyDigest(db, { now: () => at }, {
    atRiskDays: config.atRiskDays,
    timeZone: config.storeTimeZone,
    previousCutoff: atRiskCutoff(at, config.atRiskDays),
    periodKey: period.periodKey,
  });
  await inTransaction(db, async (trx) => {
    const inserted = await insertDigestRun(trx, {
      period_key: period.periodKey,
      status: 'skipped',
      claimed_at: at.toISOString(),
      attempts: 0,
      at_risk_cutoff: digest.atRiskCutoff,
      at_risk_days: config.atRiskDays,
      cron: config.digestCron,
      time_zone: config.storeTimeZone,
      at_risk_count: digest.atRiskCount,
      newly_at_risk_count: 0,
    });
    if (inserted) await insertSegmentSnapshot(trx, snapshotRowOf(digest, period.periodKey));
  });
  options.logger?.info(
    { periodKey: period.periodKey, next: nextOccurrence(config.digestCron, config.storeTimeZone, at).toISOString() },
    'first start of the weekly digest: this period is the baseline, the first digest goes out at the next occurrence',
  );
}

/** Builds, records the snapshot, posts and marks sent; on any failure marks the run failed. */
async function buildAndSend(db: Db, clock: Clock, periodKey: string, attempt: number, options: RunDigestOptions): Promise<boolean> {
  const { config } = options;
  const at = clock.now();
  let list: AtRiskListFile | undefined;
  try {
    const inputs = await previousDigestInputs(db, { cron: config.digestCron, timeZone: config.storeTimeZone, atRiskDays: config.atRiskDays, now: at, periodKey });
    const digest = await buildWeeklyDigest(db, { now: () => at }, { atRiskDays: config.atRiskDays, timeZone: config.storeTimeZone, ...inputs, periodKey });
    await inTransaction(db, async (trx) => {
      await insertSegmentSnapshot(trx, snapshotRowOf(digest, periodKey));
      await recordDigestBuilt(trx, periodKey, {
        atRiskCutoff: digest.atRiskCutoff,
        atRiskDays: digest.atRiskDays,
        atRiskCount: digest.atRiskCount,
        newlyAtRiskCount: digest.newlyAtRiskCount,
      });
    });
    list = await writeAtRiskList(db, digest, { directory: options.tempDir ?? tmpdir(), ...options.list });
    const message = renderDigestMessage(digest, { currency: config.storeCurrency, list });
    const { messageId } = await options.send(message, { periodKey });
    await markDigestRunSent(db, clock, periodKey, messageId);
    options.logger?.info({ periodKey, messageId, atRisk: digest.atRiskCount, newlyAtRisk: digest.newlyAtRiskCount }, 'weekly digest posted');
    return true;
  } catch (error) {
    await markDigestRunFailed(db, periodKey, describeError(error));
    const last = attempt >= (options.maxAttempts ?? DIGEST_MAX_ATTEMPTS);
    options.logger?.error(
      { err: error, periodKey, attempt },
      `the weekly digest could not be posted${last ? ' and is not tried again this period' : '; it is tried again in a few minutes'} (check that the bot can send messages and attach files in DIGEST_CHANNEL_ID)`,
    );
    return false;
  } finally {
    if (list) await rm(list.file.path, { force: true });
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export interface DigestSchedulerOptions {
  db: Db;
  clock: Clock;
  config: DigestConfig;
  sender: DigestSender;
  logger: Logger;
  tempDir?: string;
  /**
   * How often to check anyway (default 5 min): a timer missed across a sleep/wake or a clock
   * jump, a retry after a failure, and a period skipped by DST all come due through it.
   */
  safetyIntervalMs?: number;
  /** Run options for tests (lease, retry delay, list limits). */
  run?: Pick<RunDigestOptions, 'leaseMs' | 'retryDelayMs' | 'maxAttempts' | 'list'>;
}

export interface DigestScheduler {
  /** Check now (e.g. after the configuration changed). */
  wake(): void;
  /** When node-schedule fires next (system time); null when it could not schedule the cron. */
  nextInvocation(): Date | null;
  /** Cancels the schedule and waits for a digest in progress. */
  stop(): Promise<void>;
}

export const DIGEST_SAFETY_INTERVAL_MS = 5 * 60_000;

/**
 * Starts the weekly digest: a check right away (the catch-up for a period missed while the bot
 * was down), one at every occurrence of DIGEST_CRON in STORE_TIMEZONE (node-schedule), and one
 * every few minutes as a safety net. Checks never overlap, and each is runDigestIfDue, so however
 * many fire for one period it is sent once. Throws when DIGEST_CRON cannot be scheduled.
 */
export async function startDigestScheduler(options: DigestSchedulerOptions): Promise<DigestScheduler> {
  const { db, clock, config, sender, logger } = options;
  if (!config.digestChannelId) {
    logger.warn('DIGEST_CHANNEL_ID is not set: the weekly at-risk digest is not posted (preview it with /customer digest)');
    return { wake: () => undefined, nextInvocation: () => null, stop: () => Promise.resolve() };
  }
  checkSchedule(config.digestCron, config.storeTimeZone, clock.now());
  const released = await releaseDigestLeases(db, clock);
  if (released > 0) logger.warn({ runs: released }, 'a digest was being posted when the bot stopped; checking the channel before posting it again');

  const worker = startWorker({
    name: 'weekly-digest',
    logger,
    intervalMs: options.safetyIntervalMs ?? DIGEST_SAFETY_INTERVAL_MS,
    runOnce: async () => {
      const result = await runDigestIfDue(db, clock, { config, send: sender.send, findPosted: sender.findPosted, tempDir: options.tempDir, logger, ...options.run });
      logger.debug({ result }, 'weekly digest check');
      return 0;
    },
  });

  let followUp: NodeJS.Timeout | undefined;
  let job: Job | null = null;
  try {
    job = scheduleJob({ rule: config.digestCron, tz: config.storeTimeZone }, () => {
      worker.wake();
      // Timers may fire a hair before the minute by the clock's reckoning; look again shortly.
      if (followUp) clearTimeout(followUp);
      followUp = setTimeout(() => worker.wake(), 5_000);
      followUp.unref();
    });
  } catch (error) {
    logger.warn({ err: error }, 'node-schedule could not schedule DIGEST_CRON');
  }
  if (!job) logger.warn('the digest is sent by the periodic check instead, within minutes of the scheduled time');
  logger.info(
    { cron: config.digestCron, timeZone: config.storeTimeZone, next: nextOccurrence(config.digestCron, config.storeTimeZone, clock.now()).toISOString() },
    'weekly digest scheduled',
  );

  return {
    wake: () => worker.wake(),
    nextInvocation: () => {
      // node-schedule hands back cron-parser's CronDate despite its typings saying Date.
      const next = job?.nextInvocation() as { getTime(): number } | null | undefined;
      return next ? new Date(next.getTime()) : null;
    },
    async stop() {
      job?.cancel();
      if (followUp) clearTimeout(followUp);
      await worker.stop();
    },
  };
}
