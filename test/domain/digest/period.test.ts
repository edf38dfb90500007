import { describe, expect, it } from 'vitest';
import { checkSchedule, computePeriod, nextOccurrence } from '../../../src/domain/digest/digest.js';

const WEEKLY = '0 9 * * 1';

function period(cron: string, timeZone: string, now: string): [string, string] {
  const p = computePeriod(cron, timeZone, new Date(now));
  expect(p.periodKey).toBe(p.scheduledAt.toISOString());
  return [p.periodKey, p.previousScheduledAt.toISOString()];
}

describe('computePeriod in Europe/Berlin (summer time 29 March – 25 October 2026)', () => {
  const zone = 'Europe/Berlin';

  it('puts Monday 09:00 at 08:00 UTC in winter and 07:00 UTC in summer', () => {
    expect(period(WEEKLY, zone, '2026-03-23T12:00:00Z')).toEqual(['2026-03-23T08:00:00.000Z', '2026-03-16T08:00:00.000Z']);
    expect(period(WEEKLY, zone, '2026-07-08T12:00:00Z')).toEqual(['2026-07-06T07:00:00.000Z', '2026-06-29T07:00:00.000Z']);
  });

  it('spans the March switch: the first summer Monday follows a winter one six days and 23 hours earlier', () => {
    expect(period(WEEKLY, zone, '2026-03-30T07:00:00Z')).toEqual(['2026-03-30T07:00:00.000Z', '2026-03-23T08:00:00.000Z']);
  });

  it('counts the occurrence from its very minute, not a millisecond before', () => {
    expect(period(WEEKLY, zone, '2026-03-30T06:59:59.999Z')).toEqual(['2026-03-23T08:00:00.000Z', '2026-03-16T08:00:00.000Z']);
  });

  it('spans the October switch: the first winter Monday is at 08:00 UTC again', () => {
    expect(period(WEEKLY, zone, '2026-10-26T08:00:00Z')).toEqual(['2026-10-26T08:00:00.000Z', '2026-10-19T07:00:00.000Z']);
    expect(period(WEEKLY, zone, '2026-10-26T07:30:00Z')).toEqual(['2026-10-19T07:00:00.000Z', '2026-10-12T07:00:00.000Z']);
  });

  it('runs a daily 02:30 once on the night 02:00–03:00 is skipped, when the clocks reach 03:00', () => {
    expect(period('30 2 * * *', zone, '2026-03-29T12:00:00Z')).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-28T01:30:00.000Z']);
    expect(period('30 2 * * *', zone, '2026-03-30T12:00:00Z')).toEqual(['2026-03-30T00:30:00.000Z', '2026-03-29T01:00:00.000Z']);
  });

  it('runs a daily 02:30 once on the night 02:00–03:00 happens twice: the first time', () => {
    // 02:30 summer time is 00:30 UTC; 02:30 winter time, an hour later, is the same wall time again.
    expect(period('30 2 * * *', zone, '2026-10-25T00:45:00Z')).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-24T00:30:00.000Z']);
    expect(period('30 2 * * *', zone, '2026-10-25T01:15:00Z')).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-24T00:30:00.000Z']);
    expect(period('30 2 * * *', zone, '2026-10-25T01:45:00Z')).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-24T00:30:00.000Z']);
    expect(period('30 2 * * *', zone, '2026-10-26T12:00:00Z')).toEqual(['2026-10-26T01:30:00.000Z', '2026-10-25T00:30:00.000Z']);
  });
});

describe('computePeriod in America/New_York (daylight time 8 March – 1 November 2026)', () => {
  const zone = 'America/New_York';

  it('spans the March switch', () => {
    expect(period(WEEKLY, zone, '2026-03-09T13:00:00Z')).toEqual(['2026-03-09T13:00:00.000Z', '2026-03-02T14:00:00.000Z']);
    expect(period(WEEKLY, zone, '2026-03-09T12:59:00Z')).toEqual(['2026-03-02T14:00:00.000Z', '2026-02-23T14:00:00.000Z']);
  });

  it('spans the November switch', () => {
    expect(period(WEEKLY, zone, '2026-11-02T14:00:00Z')).toEqual(['2026-11-02T14:00:00.000Z', '2026-10-26T13:00:00.000Z']);
    expect(period(WEEKLY, zone, '2026-11-02T13:30:00Z')).toEqual(['2026-10-26T13:00:00.000Z', '2026-10-19T13:00:00.000Z']);
  });

  it('runs a time skipped in March once, at 03:00 daylight time', () => {
    expect(period('30 2 * * *', zone, '2026-03-08T12:00:00Z')).toEqual(['2026-03-08T07:00:00.000Z', '2026-03-07T07:30:00.000Z']);
  });

  it('runs a time repeated in November once, the first time', () => {
    expect(period('30 1 * * *', zone, '2026-11-01T12:00:00Z')).toEqual(['2026-11-01T05:30:00.000Z', '2026-10-31T05:30:00.000Z']);
    expect(period('30 1 * * *', zone, '2026-11-02T12:00:00Z')).toEqual(['2026-11-02T06:30:00.000Z', '2026-11-01T05:30:00.000Z']);
  });
});

describe('computePeriod in UTC and with custom schedules', () => {
  it('gives the default schedule in UTC, the occurrence itself included', () => {
    expect(period(WEEKLY, 'UTC', '2026-11-23T09:00:00.000Z')).toEqual(['2026-11-23T09:00:00.000Z', '2026-11-16T09:00:00.000Z']);
    expect(period(WEEKLY, 'UTC', '2026-11-23T08:59:59.999Z')).toEqual(['2026-11-16T09:00:00.000Z', '2026-11-09T09:00:00.000Z']);
  });

  it('follows a custom cron: Fridays at 17:30', () => {
    expect(period('30 17 * * 5', 'Europe/Berlin', '2026-11-23T09:00:00Z')).toEqual(['2026-11-20T16:30:00.000Z', '2026-11-13T16:30:00.000Z']);
  });

  it('follows a monthly cron across the October switch', () => {
    expect(period('0 8 1 * *', 'Europe/Berlin', '2026-11-15T00:00:00Z')).toEqual(['2026-11-01T07:00:00.000Z', '2026-10-01T06:00:00.000Z']);
  });

  it('accepts a cron with a seconds field', () => {
    expect(period('0 0 9 * * 1', 'UTC', '2026-11-23T10:00:00Z')).toEqual(['2026-11-23T09:00:00.000Z', '2026-11-16T09:00:00.000Z']);
  });

  it('refuses an expression that is not cron, naming the setting', () => {
    expect(() => computePeriod('0 9 * * 8', 'UTC', new Date())).toThrow(/DIGEST_CRON "0 9 \* \* 8"/);
    expect(() => checkSchedule('every monday', 'UTC', new Date())).toThrow(/DIGEST_CRON/);
  });

  it('refuses a time zone that is not one, naming the setting', () => {
    expect(() => computePeriod(WEEKLY, 'Mars/Olympus', new Date())).toThrow(/STORE_TIMEZONE "Mars\/Olympus"/);
  });
});

describe('nextOccurrence', () => {
  it('gives the next Monday 09:00 in the zone, strictly after now', () => {
    expect(nextOccurrence(WEEKLY, 'Europe/Berlin', new Date('2026-03-23T08:00:00Z')).toISOString()).toBe('2026-03-30T07:00:00.000Z');
    expect(nextOccurrence(WEEKLY, 'America/New_York', new Date('2026-10-28T00:00:00Z')).toISOString()).toBe('2026-11-02T14:00:00.000Z');
  });

  it('does not repeat a wall time shown twice when the clocks go back', () => {
    expect(nextOccurrence('30 2 * * *', 'Europe/Berlin', new Date('2026-10-25T01:15:00Z')).toISOString()).toBe('2026-10-26T01:30:00.000Z');
  });

  it('agrees with computePeriod: the next occurrence becomes the period at its instant', () => {
    let now = new Date('2026-03-01T00:00:00Z');
    for (let i = 0; i < 40; i++) {
      const next = nextOccurrence('30 2 * * *', 'Europe/Berlin', now);
      expect(computePeriod('30 2 * * *', 'Europe/Berlin', next).scheduledAt.toISOString()).toBe(next.toISOString());
      expect(computePeriod('30 2 * * *', 'Europe/Berlin', new Date(next.getTime() - 1)).scheduledAt.getTime()).toBeLessThan(next.getTime());
      now = next;
    }
  });
});
