import { writeFileSync } from 'node:fs';
import { renderSegmentChart, niceTicks } from '../src/domain/digest-chart.js';
const snaps = Array.from({ length: 12 }, (_, i) => ({
  periodKey: new Date(Date.UTC(2026, 8, 7 + 7 * i, 7)).toISOString(), takenAt: '',
  newCount: 1200 + i * 40, repeatCount: 300 + i * 12, loyalCount: 90 + i * 4, atRiskCount: 210 - i * 3 + (i % 3) * 10, customersTotal: 1600 + i * 56,
}));
writeFileSync('/tmp/chart.png', renderSegmentChart(snaps, { timeZone: 'Europe/Berlin' }));
writeFileSync('/tmp/chart1.png', renderSegmentChart(snaps.slice(-1)));
writeFileSync('/tmp/chart0.png', renderSegmentChart([]));
writeFileSync('/tmp/chart-notext.png', renderSegmentChart(snaps, { text: false }));
console.log(niceTicks(10), niceTicks(1), niceTicks(3), niceTicks(1_234_567), niceTicks(97));
