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
  const { db, logger, name, holder } = options;
  const state: LeaseState = { stopped: false, leading: undefined, heldUntil: 0 };
  const timer = interruptibleSleep(options.intervalMs);

  const runBeat = () => beat(options, state).catch((error: unknown) => logger.warn({ err: error, lease: name }, 'lease check failed'));
  const ready = runBeat();
  const loop = (async () => {
    await ready;
    while (!state.stopped) {
      await timer.sleep();
      if (!state.stopped) await runBeat();
    }
  })();

  return {
    isLeading: () => state.leading !== undefined,
    ready,
    async stop() {
      state.stopped = true;
      timer.wake();
      await loop;
      if (state.leading) {
        const stop = state.leading;
        state.leading = undefined;
        await stop();
      }
      await releaseLease(db, name, holder);
    },
  };
}

interface LeaseState {
  stopped: boolean;
  /** Stops the leased work while this process leads. */
  leading: StopLeading | undefined;
  /** Until when the lease is surely ours (the expiry of the last renewal). */
  heldUntil: number;
}

/** One beat: the holder renews, the others try to take the lease. */
async function beat(options: LeadershipOptions, state: LeaseState): Promise<void> {
  const started = options.clock.now().getTime();
  if (state.leading) await renewOrStepDown(options, state, started);
  else await tryToLead(options, state, started);
}

async function renewOrStepDown(options: LeadershipOptions, state: LeaseState, started: number): Promise<void> {
  const { db, clock, logger, name, holder, ttlMs } = options;
  let renewed: boolean;
  try {
    renewed = await renewLease(db, clock, { name, holder, ttlMs });
  } catch (error) {
    logger.warn({ err: error, lease: name }, 'could not renew the lease');
    // Still ours if nobody could have taken it before the next beat.
    renewed = clock.now().getTime() + options.intervalMs < state.heldUntil;
    if (!renewed) await stepDown(options, state, 'the lease could not be renewed before it ran out');
    return;
  }
  if (renewed) state.heldUntil = started + ttlMs;
  else await stepDown(options, state, 'another process holds the lease');
}

async function stepDown({ db, logger, name, holder }: LeadershipOptions, state: LeaseState, why: string): Promise<void> {
  const stop = state.leading;
  state.leading = undefined;
  logger.warn({ lease: name, why }, 'no longer the holder of the lease; stopping its work');
  await stop?.().catch((error: unknown) => logger.error({ err: error, lease: name }, 'stopping the leased work failed'));
  await releaseLease(db, name, holder).catch(() => false);
}

async function tryToLead(options: LeadershipOptions, state: LeaseState, started: number): Promise<void> {
  const { db, clock, logger, name, holder, ttlMs } = options;
  const claim = { name, holder, ttlMs };
  const current = await findLease(db, name);
  const won =
    current && current.holder !== holder && current.expiresAt > clock.now().toISOString() && options.isHolderGone?.(current.holder)
      ? await takeOverLease(db, clock, claim, current.holder)
      : await acquireLease(db, clock, claim);
  if (!won || state.stopped) return;
  state.heldUntil = started + ttlMs;
  logger.info({ lease: name, previous: current?.holder }, 'became the holder of the lease');
  try {
    state.leading = await options.lead();
  } catch (error) {
    logger.error({ err: error, lease: name }, 'could not start the leased work; giving the lease up');
    await releaseLease(db, name, holder).catch(() => false);
  }
}

/** A sleep of `ms` that `wake()` ends early. */
function interruptibleSleep(ms: number): { sleep(): Promise<void>; wake(): void } {
  let wake: (() => void) | undefined;
  return {
    sleep: () =>
      new Promise<void>((done) => {
        const timer = setTimeout(done, ms);
        timer.unref();
        wake = () => {
          clearTimeout(timer);
          done();
        };
      }),
    wake: () => wake?.(),
  };
}
