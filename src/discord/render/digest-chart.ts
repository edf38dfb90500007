import { existsSync } from 'node:fs';
import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import type { SegmentCounts, SegmentSnapshot } from '../../domain/digest/digest.js';

/**
 * The digest's picture: New, Repeat, Loyal and At risk over the last weeks, one line each, drawn
 * in-process (no browser, no chart service) so the same snapshots always give the same bytes.
 */

export const CHART_WIDTH = 800;
export const CHART_HEIGHT = 400;
export const CHART_FILE_NAME = 'segments.png';
/** At most this many points are drawn: the latest ones. */
export const CHART_MAX_POINTS = 12;

interface Series {
  label: string;
  key: keyof SegmentCounts;
  color: string;
  dash: number[];
}

// Tailwind 600-level hues, distinguishable with the common colour-vision deficiencies by their
// dash patterns too; the red "At risk" is the one the digest is about.
export const CHART_SERIES: readonly Series[] = [
  { label: 'New', key: 'newCount', color: '#2563EB', dash: [] },
  { label: 'Repeat', key: 'repeatCount', color: '#16A34A', dash: [8, 4] },
  { label: 'Loyal', key: 'loyalCount', color: '#9333EA', dash: [2, 4] },
  { label: 'At risk', key: 'atRiskCount', color: '#DC2626', dash: [] },
];

const FONT_FILES = {
  regular: [
    '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', // Debian, Ubuntu
    '/usr/share/fonts/dejavu/DejaVuSans.ttf', // Fedora, Alpine
    '/usr/share/fonts/TTF/DejaVuSans.ttf', // Arch
    '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  ],
  bold: [
    '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
    '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf',
    '/usr/share/fonts/TTF/DejaVuSans-Bold.ttf',
    '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf',
  ],
};

interface ChartFonts {
  regular: string;
  bold: string;
}

let fonts: ChartFonts | null | undefined;

/**
 * Fonts found once. Registered under our own names so the picture does not change with whatever
 * else a machine has installed; with none at all (slim containers), null: the chart is drawn
 * without text, which still shows the trend, and the embed carries the numbers anyway.
 */
function chartFonts(): ChartFonts | null {
  if (fonts !== undefined) return fonts;
  const register = (candidates: string[], alias: string): string | null => {
    const path = candidates.find((candidate) => existsSync(candidate));
    return path && GlobalFonts.registerFromPath(path, alias) ? `"${alias}"` : null;
  };
  const regular = register(FONT_FILES.regular, 'Digest Chart');
  const bold = register(FONT_FILES.bold, 'Digest Chart Bold') ?? regular;
  if (regular && bold) fonts = { regular, bold };
  else if (GlobalFonts.families.length > 0) fonts = { regular: 'sans-serif', bold: 'sans-serif' };
  else fonts = null;
  return fonts;
}

export interface ChartOptions {
  /** Dates under the points are days in this zone (UTC by default). */
  timeZone?: string;
  /** False draws no text at all, as on a machine without fonts. */
  text?: boolean;
}

interface Plot {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Where a point's index and a value land on the canvas. */
interface Scale {
  ticks: number[];
  step: number;
  x: (index: number) => number;
  y: (value: number) => number;
}

/** A CHART_WIDTH×CHART_HEIGHT PNG of the segments across `snapshots` (oldest first; the last 12 are drawn). */
export function renderSegmentChart(snapshots: readonly SegmentSnapshot[], options: ChartOptions = {}): Buffer {
  const points = snapshots.slice(-CHART_MAX_POINTS);
  const font = options.text === false ? null : chartFonts();
  const canvas = createCanvas(CHART_WIDTH, CHART_HEIGHT);
  const context = canvas.getContext('2d');
  context.fillStyle = '#FFFFFF';
  context.fillRect(0, 0, CHART_WIDTH, CHART_HEIGHT);

  const plot: Plot = { left: 72, right: CHART_WIDTH - 24, top: 64, bottom: CHART_HEIGHT - 48 };
  if (font) drawTitle(context, font, plot, points.length);
  drawLegend(context, font, plot.right);

  const scale = scaleFor(points, plot);
  drawValueAxis(context, font, plot, scale);
  if (points.length === 0) {
    if (font) drawNoHistory(context, font, plot);
    return canvas.toBuffer('image/png');
  }
  if (font) drawDateAxis(context, font, plot, scale, points, options.timeZone ?? 'UTC');
  for (const series of CHART_SERIES) drawSeries(context, scale, points, series);
  return canvas.toBuffer('image/png');
}

function drawTitle(context: SKRSContext2D, font: ChartFonts, plot: Plot, weeks: number): void {
  context.fillStyle = '#111827';
  context.font = `16px ${font.bold}`;
  context.textBaseline = 'alphabetic';
  context.textAlign = 'left';
  context.fillText(weeks > 1 ? `Customer segments, last ${weeks} digests` : 'Customer segments', plot.left, 28);
}

function scaleFor(points: readonly SegmentSnapshot[], plot: Plot): Scale {
  const max = Math.max(1, ...points.flatMap((point) => CHART_SERIES.map((series) => point[series.key])));
  const ticks = niceTicks(max);
  const top = ticks.at(-1) ?? max;
  const step = points.length > 1 ? (plot.right - plot.left - 32) / (points.length - 1) : 0;
  return {
    ticks,
    step,
    y: (value) => plot.bottom - (value / top) * (plot.bottom - plot.top),
    x: (index) => (points.length > 1 ? plot.left + 16 + index * step : (plot.left + plot.right) / 2),
  };
}

/** The grid, one line per tick, with the values and the axis title when there is text. */
function drawValueAxis(context: SKRSContext2D, font: ChartFonts | null, plot: Plot, scale: Scale): void {
  context.lineWidth = 1;
  context.setLineDash([]);
  const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  for (const tick of scale.ticks) {
    const ty = Math.round(scale.y(tick)) + 0.5;
    context.strokeStyle = tick === 0 ? '#9CA3AF' : '#E5E7EB';
    context.beginPath();
    context.moveTo(plot.left, ty);
    context.lineTo(plot.right, ty);
    context.stroke();
    if (font) {
      context.fillStyle = '#4B5563';
      context.font = `12px ${font.regular}`;
      context.textAlign = 'right';
      context.textBaseline = 'middle';
      context.fillText(compact.format(tick), plot.left - 8, ty);
    }
  }
  if (!font) return;
  context.save();
  context.translate(18, (plot.top + plot.bottom) / 2);
  context.rotate(-Math.PI / 2);
  context.fillStyle = '#4B5563';
  context.font = `12px ${font.regular}`;
  context.textAlign = 'center';
  context.textBaseline = 'middle';
  context.fillText('Customers', 0, 0);
  context.restore();
}

function drawNoHistory(context: SKRSContext2D, font: ChartFonts, plot: Plot): void {
  context.fillStyle = '#6B7280';
  context.font = `14px ${font.regular}`;
  context.textAlign = 'center';
  context.textBaseline = 'middle';
  context.fillText('No history yet', (plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2);
}

/** One date label per point, thinned so they never overlap. */
function drawDateAxis(context: SKRSContext2D, font: ChartFonts, plot: Plot, scale: Scale, points: readonly SegmentSnapshot[], timeZone: string): void {
  const day = new Intl.DateTimeFormat('en-US', { timeZone, month: 'short', day: 'numeric' });
  context.fillStyle = '#4B5563';
  context.font = `12px ${font.regular}`;
  context.textAlign = 'center';
  context.textBaseline = 'top';
  const every = Math.max(1, Math.ceil(56 / Math.max(scale.step, 1)));
  points.forEach((point, index) => {
    const isLast = index === points.length - 1;
    if (index % every !== 0 && !isLast) return;
    if (!isLast && points.length - 1 - index < every && points.length > 1) return;
    context.fillText(day.format(new Date(point.periodKey)), scale.x(index), plot.bottom + 10);
  });
}

/** One segment's line, with a dot on each point. */
function drawSeries(context: SKRSContext2D, { x, y }: Scale, points: readonly SegmentSnapshot[], series: Series): void {
  context.strokeStyle = series.color;
  context.fillStyle = series.color;
  context.lineWidth = 2.5;
  context.lineJoin = 'round';
  context.setLineDash(series.dash);
  context.beginPath();
  points.forEach((point, index) => {
    if (index === 0) context.moveTo(x(index), y(point[series.key]));
    else context.lineTo(x(index), y(point[series.key]));
  });
  context.stroke();
  context.setLineDash([]);
  for (const [index, point] of points.entries()) {
    context.beginPath();
    context.arc(x(index), y(point[series.key]), 3.5, 0, Math.PI * 2);
    context.fill();
  }
}

function drawLegend(context: SKRSContext2D, font: ChartFonts | null, right: number): void {
  context.font = font ? `13px ${font.regular}` : '13px sans-serif';
  const widths = CHART_SERIES.map((series) => (font ? context.measureText(series.label).width : 0));
  const itemWidth = (index: number): number => 26 + (widths[index] ?? 0) + 16;
  let cursor = right - CHART_SERIES.reduce((sum, _, index) => sum + itemWidth(index), 0) + 16;
  CHART_SERIES.forEach((series, index) => {
    context.strokeStyle = series.color;
    context.fillStyle = series.color;
    context.lineWidth = 2.5;
    context.setLineDash(series.dash);
    context.beginPath();
    context.moveTo(cursor, 24);
    context.lineTo(cursor + 20, 24);
    context.stroke();
    context.setLineDash([]);
    if (font) {
      context.fillStyle = '#111827';
      context.textAlign = 'left';
      context.textBaseline = 'middle';
      context.fillText(series.label, cursor + 26, 24);
    }
    cursor += itemWidth(index);
  });
}

/** 0 and evenly spaced whole round values (1, 2, 2.5 or 5 × 10ⁿ) up to at least `max`, 2–6 of them. */
export function niceTicks(max: number): number[] {
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  // Customers come whole: no 2.5 steps below 10.
  const step = [1, 2, 2.5, 5, 10]
    .map((m) => m * magnitude)
    .find((candidate) => candidate >= rough && Number.isInteger(candidate));
  const interval = Math.max(1, step ?? 10 * magnitude);
  const ticks: number[] = [];
  for (let value = 0; value < max + interval; value += interval) {
    ticks.push(value);
    if (value >= max) break;
  }
  return ticks;
}
