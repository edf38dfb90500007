import { computePeriod, nextOccurrence } from '../src/domain/digest-period.js';
const cases: [string, string, string][] = [
  ['0 9 * * 1', 'Europe/Berlin', '2026-03-30T07:00:00Z'],
  ['0 9 * * 1', 'Europe/Berlin', '2026-03-30T06:59:59.999Z'],
  ['0 9 * * 1', 'Europe/Berlin', '2026-10-26T08:00:00Z'],
  ['0 9 * * 1', 'America/New_York', '2026-03-09T13:00:00Z'],
  ['0 9 * * 1', 'America/New_York', '2026-11-02T14:00:00Z'],
  ['30 2 * * *', 'Europe/Berlin', '2026-03-29T12:00:00Z'],
  ['30 2 * * *', 'Europe/Berlin', '2026-03-30T12:00:00Z'],
  ['30 2 * * *', 'Europe/Berlin', '2026-10-25T01:45:00Z'],
  ['30 2 * * *', 'Europe/Berlin', '2026-10-25T01:15:00Z'],
  ['30 2 * * *', 'Europe/Berlin', '2026-10-26T12:00:00Z'],
  ['30 2 * * *', 'America/New_York', '2026-03-08T12:00:00Z'],
  ['30 1 * * *', 'America/New_York', '2026-11-01T12:00:00Z'],
  ['*/15 * * * *', 'Europe/Berlin', '2026-03-29T01:20:00Z'],
  ['0 9 * * 1', 'UTC', '2026-11-23T09:00:00Z'],
  ['0 9 * * 1', 'UTC', '2026-11-23T08:59:59.999Z'],
  ['0 0 9 * * 1', 'UTC', '2026-11-23T09:00:00Z'],
  ['* * * * * *', 'Europe/Berlin', '2026-10-25T01:15:00.500Z'],
];
for (const [c, tz, n] of cases) {
  const s = performance.now();
  const p = computePeriod(c, tz, new Date(n));
  console.log(c.padEnd(14), tz.padEnd(17), n, '→', p.periodKey, p.previousScheduledAt.toISOString(), 'next', nextOccurrence(c, tz, new Date(n)).toISOString(), `${(performance.now() - s).toFixed(1)}ms`);
}
for (const bad of ['0 9 * * 8', 'nonsense', '0 0 30 2 *']) { try { computePeriod(bad, 'UTC', new Date()); console.log('no error', bad); } catch (e) { console.log('error:', (e as Error).message); } }
