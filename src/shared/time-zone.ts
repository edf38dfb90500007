// Wall clocks of IANA time zones, DST included, for the figures that follow the store's calendar
// (statistics' "this month", the digest's periods).

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** A name Intl does not know as a time zone. */
export class TimeZoneError extends RangeError {
  override readonly name = 'TimeZoneError';
  constructor(
    readonly timeZone: string,
    cause: unknown,
  ) {
    super(`"${timeZone}" is not an IANA time zone`, { cause });
  }
}

export interface ZoneClock {
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

/** The clock of an IANA time zone, made once per zone; a name that is not a zone is a TimeZoneError. */
export function zoneClockOf(timeZone: string): ZoneClock {
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
    throw new TimeZoneError(timeZone, error);
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
