import cronParser from 'cron-parser';

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
const DAY_MS = 24 * HOUR_MS;
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

interface ZoneClock {
  /** What the zone's clocks show at `instant`, as milliseconds read as if UTC. */
  wallAt(instant: number): number;
  /** How far the zone's clocks are ahead of UTC at `instant`. */
  offsetAt(instant: number): number;
  /**
   * The earliest instant at which the zone's clocks show `wall` or later: the instant itself
   * for an ordinary time, the first showing for a repeated one, the end of the gap for a
   * skipped one. Never decreases as `wall` increases.
   */
  firstInstantShowing(wall: number): number;
}

const zoneClocks = new Map<string, ZoneClock>();

function zoneClock(timeZone: string): ZoneClock {
  const cached = zoneClocks.get(timeZone);
  if (cached) return cached;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch (error) {
    throw new RangeError(`STORE_TIMEZONE "${timeZone}" is not an IANA time zone`, { cause: error });
  }

  const wallAt = (instant: number): number => {
    const parts: Record<string, string> = {};
    for (const part of format.formatToParts(instant)) parts[part.type] = part.value;
    const seconds = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
    // Offsets are whole seconds, so the milliseconds carry over unchanged.
    return seconds + (((instant % 1000) + 1000) % 1000);
  };
  const offsetAt = (instant: number): number => wallAt(instant) - instant;

  const firstInstantShowing = (wall: number): number => {
    // The offsets in force within a day and a half of that wall time: at most two near a switch.
    const offsets = new Set([-36, -12, 0, 12, 36].map((hours) => offsetAt(wall + hours * HOUR_MS)));
    const exact = [...offsets].map((offset) => wall - offset).filter((instant) => wallAt(instant) === wall);
    if (exact.length > 0) return Math.min(...exact);
    // Skipped: clocks jumped over `wall`. Between the instant that maps it with the larger offset
    // (still before the jump) and the one with the smaller (already after), find the jump.
    let before = wall - Math.max(...offsets);
    let after = wall - Math.min(...offsets);
    if (!(wallAt(before) < wall && wallAt(after) >= wall)) before = after - DAY_MS;
    while (after - before > 1) {
      const middle = Math.floor((before + after) / 2);
      if (wallAt(middle) >= wall) after = middle;
      else before = middle;
    }
    return after;
  };

  const clock = { wallAt, offsetAt, firstInstantShowing };
  zoneClocks.set(timeZone, clock);
  return clock;
}
