import type { Clock } from '../shared/clock.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { acquireLease, findLease, releaseLease, renewLease, takeOverLease } from '../store/leader-lease.js';

/** Stops what leading started; awaited before the lease is given up. */
export type StopLeading = () => Promise<void>;

export interface LeadershipOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** The lease's name, e.g. 'gateway'. */
  name: string;
  /** This process's id. */
  holder: string;
  /** A holder that stops renewing loses the lease after this long. */
  ttlMs: number;
  /** How often the holder renews and the others try to take it; well under ttlMs. */
  intervalMs: number;
  /** Whether a holder is known dead before its lease expires (a killed process on this machine). */
  isHolderGone?: (holder: string) => boolean;
  /** Starts the work only the holder does; called each time this process becomes the holder. */
  lead: () => Promise<StopLeading>;
}

export interface Leadership {
  isLeading(): boolean;
  /** Settles after the first attempt (and, if it won, after `lead` returned). */
  readonly ready: Promise<void>;
  /** Stops leading (if it does) and gives the lease up, so another process takes over at once. */
  stop(): Promise<void>;
}

/**
 * One process at a time holds the lease `name` and does the work `lead` starts; the others try
 * again every `intervalMs`. The holder renews the lease on the same beat; when a renewal finds
 * the lease taken, or it could not renew before the lease ran out (the database unreachable), it
 * stops leading, so two processes never lead at once for longer than a beat. A holder that dies
 * is replaced once its lease expires, or at the next beat when `isHolderGone` says so.
 */
export function startLeadership(options: LeadershipOptions): Leadership {
  const { db, clock, logger, name, holder, ttlMs } = options;
  const claim = { name, holder, ttlMs };
  let stopped = false;
  let leading: StopLeading | undefined;
  /** Until when the lease is surely ours (the expiry of the last renewal). */
  let heldUntil = 0;
  let wake: (() => void) | undefined;

  const stepDown = async (why: string) => {
    const stop = leading;
    leading = undefined;
    logger.warn({ lease: name, why }, 'no longer the holder of the lease; stopping its work');
    await stop?.().catch((error: unknown) => logger.error({ err: error, lease: name }, 'stopping the leased work failed'));
    await releaseLease(db, name, holder).catch(() => false);
  };

  const beat = async () => {
    const started = clock.now().getTime();
    if (leading) {
      let renewed: boolean;
      try {
        renewed = await renewLease(db, clock, claim);
      } catch (error) {
        logger.warn({ err: error, lease: name }, 'could not renew the lease');
        // Still ours if nobody could have taken it before the next beat.
        renewed = clock.now().getTime() + options.intervalMs < heldUntil;
        if (!renewed) await stepDown('the lease could not be renewed before it ran out');
        return;
      }
      if (renewed) heldUntil = started + ttlMs;
      else await stepDown('another process holds the lease');
      return;
    }
    const current = await findLease(db, name);
    const won =
      current && current.holder !== holder && current.expiresAt > clock.now().toISOString() && options.isHolderGone?.(current.holder)
        ? await takeOverLease(db, clock, claim, current.holder)
        : await acquireLease(db, clock, claim);
    if (!won || stopped) return;
    heldUntil = started + ttlMs;
    logger.info({ lease: name, previous: current?.holder }, 'became the holder of the lease');
    try {
      leading = await options.lead();
    } catch (error) {
      logger.error({ err: error, lease: name }, 'could not start the leased work; giving the lease up');
      await releaseLease(db, name, holder).catch(() => false);
    }
  };

  const sleep = () =>
    new Promise<void>((done) => {
      const timer = setTimeout(done, options.intervalMs);
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        done();
      };
    });

  const runBeat = () => beat().catch((error: unknown) => logger.warn({ err: error, lease: name }, 'lease check failed'));
  const ready = runBeat();
  const loop = (async () => {
    await ready;
    while (!stopped) {
      await sleep();
      if (!stopped) await runBeat();
    }
  })();

  return {
    isLeading: () => leading !== undefined,
    ready,
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      if (leading) {
        const stop = leading;
        leading = undefined;
        await stop();
      }
      await releaseLease(db, name, holder);
    },
  };
}
