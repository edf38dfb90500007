import { createCanvas, loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { CHART_HEIGHT, CHART_SERIES, CHART_WIDTH, niceTicks, renderSegmentChart } from '../../../src/discord/render/digest-chart.js';
import type { SegmentSnapshot } from '../../../src/domain/digest/digest.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function weeks(n: number): SegmentSnapshot[] {
  return Array.from({ length: n }, (_, i) => {
    const periodKey = new Date(Date.UTC(2026, 8, 7 + 7 * i, 7)).toISOString();
    return { periodKey, takenAt: periodKey, newCount: 1200 + 40 * i, repeatCount: 300 + 12 * i, loyalCount: 90 + 4 * i, atRiskCount: 210 - 3 * i, customersTotal: 1590 + 56 * i };
  });
}

/** Width and height from the IHDR chunk, which a valid PNG has right after the signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

async function pixels(png: Buffer): Promise<Uint8ClampedArray> {
  const image = await loadImage(png);
  const canvas = createCanvas(CHART_WIDTH, CHART_HEIGHT);
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  return context.getImageData(0, 0, CHART_WIDTH, CHART_HEIGHT).data;
}

function countColour(data: Uint8ClampedArray, hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] === r && data[i + 1] === g && data[i + 2] === b) n += 1;
  return n;
}

describe('renderSegmentChart', () => {
  it('draws a valid PNG of the expected size that decodes', async () => {
    const png = renderSegmentChart(weeks(12), { timeZone: 'Europe/Berlin' });
    expect(pngSize(png)).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
    expect(png.length).toBeLessThan(256 * 1024);
    const data = await pixels(png);
    // Every series is drawn in its own colour.
    for (const series of CHART_SERIES) expect(countColour(data, series.color), series.label).toBeGreaterThan(50);
  });

  it('gives the same bytes for the same snapshots', () => {
    expect(renderSegmentChart(weeks(8)).equals(renderSegmentChart(weeks(8)))).toBe(true);
    expect(renderSegmentChart(weeks(8)).equals(renderSegmentChart(weeks(7)))).toBe(false);
  });

  it('draws only the latest twelve snapshots', () => {
    expect(renderSegmentChart(weeks(15)).equals(renderSegmentChart(weeks(15).slice(-12)))).toBe(true);
  });

  it('draws a single snapshot and an empty history without failing', () => {
    expect(pngSize(renderSegmentChart(weeks(1)))).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
    expect(pngSize(renderSegmentChart([]))).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
  });

  it('still draws the lines where no font is available', async () => {
    const png = renderSegmentChart(weeks(12), { text: false });
    expect(pngSize(png)).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
    expect(png.equals(renderSegmentChart(weeks(12)))).toBe(false);
    const data = await pixels(png);
    for (const series of CHART_SERIES) expect(countColour(data, series.color), series.label).toBeGreaterThan(50);
  });
});

describe('niceTicks', () => {
  it('gives whole round steps from zero up to at least the largest value', () => {
    expect(niceTicks(1)).toEqual([0, 1]);
    expect(niceTicks(3)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(10)).toEqual([0, 5, 10]);
    expect(niceTicks(97)).toEqual([0, 25, 50, 75, 100]);
    expect(niceTicks(1_234_567)).toEqual([0, 500_000, 1_000_000, 1_500_000]);
  });
});
