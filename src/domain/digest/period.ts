import cronParser from 'cron-parser';
import { TimeZoneError, zoneClockOf, type ZoneClock } from '../../shared/time-zone.js';

/**
 * Cron occurrences in a store's time zone, DST included.
 *
 * The cron expression is evaluated on the zone's wall clock (cron-parser in UTC, so the wall clock
 * never jumps), and each wall-clock match is turned into the first instant the zone's clocks show
 * it, as Vixie cron does:
 * - a time skipped when clocks spring forward (02:30 on a night that jumps 02:00 → 03:00) happens
 *   at the instant the gap ends, once, however many matches fell into the gap;
 * - a time shown twice when clocks fall back (02:30 on a night that goes 03:00 → 02:00) happens
 *   the first time only.
 * That mapping never decreases, so occurrences are strictly increasing instants and a daily
 * digest is sent exactly once on both switch days (cron-parser alone skips the first and
 * repeats the second).
 */

export interface DigestPeriod {
  /** `scheduledAt` as an ISO-8601 UTC instant: the key a period is claimed under. */
  periodKey: string;
  /** The most recent occurrence at or before `now`. */
  scheduledAt: Date;
  /** The occurrence before `scheduledAt`. */
  previousScheduledAt: Date;
}

const HOUR_MS = 60 * 60 * 1000;
// Longest backward clock change to allow for: 1 h nearly everywhere, 2 h in wartime "double
// summer time"; nothing in the tz database comes close to this.
const MAX_FOLD_MS = 3 * HOUR_MS;
// A cron matching every second walks 10,800 matches across a fold; anything beyond this is a bug.
const MAX_STEPS = 100_000;

/** The most recent occurrence of `cron` at or before `now` in `timeZone`, and the one before it. */
export function computePeriod(cron: string, timeZone: string, now: Date): DigestPeriod {
  const zone = zoneClock(timeZone);
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('computePeriod needs a valid date');
  // In the hour after clocks fall back, a wall time later than the current one may already
  // have happened (its first showing); start above it so that showing is found.
  const fold = Math.max(0, zone.offsetAt(nowMs - MAX_FOLD_MS) - zone.offsetAt(nowMs));
  const matches = wallMatches(cron, zone.wallAt(nowMs) + fold + 1, 'prev');
  let scheduled: number | undefined;
  for (let step = 0; step < MAX_STEPS; step++) {
    const instant = zone.firstInstantShowing(matches.next());
    if (scheduled === undefined) {
      if (instant <= nowMs) scheduled = instant;
    } else if (instant < scheduled) {
      return { periodKey: new Date(scheduled).toISOString(), scheduledAt: new Date(scheduled), previousScheduledAt: new Date(instant) };
    }
  }
  throw new RangeError(`DIGEST_CRON "${cron}" has no occurrences near ${now.toISOString()}`);
}

/** The first occurrence of `cron` after `now` in `timeZone`: when the next digest goes out. */
export function nextOccurrence(cron: string, timeZone: string, now: Date): Date {
  const zone = zoneClock(timeZone);
  const nowMs = now.getTime();
  // Any wall time up to the current one has already been shown (see firstInstantShowing).
  const matches = wallMatches(cron, zone.wallAt(nowMs), 'next');
  for (let step = 0; step < MAX_STEPS; step++) {
    const instant = zone.firstInstantShowing(matches.next());
    if (instant > nowMs) return new Date(instant);
  }
  throw new RangeError(`DIGEST_CRON "${cron}" has no occurrence after ${now.toISOString()}`);
}

/** Throws a RangeError naming the problem when `cron` or `timeZone` cannot schedule a digest. */
export function checkSchedule(cron: string, timeZone: string, now: Date): void {
  computePeriod(cron, timeZone, now);
  nextOccurrence(cron, timeZone, now);
}

interface WallMatches {
  /** The next match, as wall-clock milliseconds (the wall time read as if it were UTC). */
  next(): number;
}

function wallMatches(cron: string, fromWallMs: number, direction: 'prev' | 'next'): WallMatches {
  let expression;
  try {
    expression = cronParser.parseExpression(cron, { currentDate: new Date(fromWallMs), tz: 'UTC' });
  } catch (error) {
    throw new RangeError(`DIGEST_CRON "${cron}" is not a cron expression: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return {
    next() {
      try {
        return (direction === 'prev' ? expression.prev() : expression.next()).getTime();
      } catch (error) {
        // cron-parser gives up after searching years for a match (e.g. 30 February).
        throw new RangeError(`DIGEST_CRON "${cron}" has no occurrence: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    },
  };
}

function zoneClock(timeZone: string): ZoneClock {
  try {
    return zoneClockOf(timeZone);
  } catch (error) {
    if (error instanceof TimeZoneError) throw new RangeError(`STORE_TIMEZONE "${timeZone}" is not an IANA time zone`, { cause: error.cause });
    throw error;
  }
}
