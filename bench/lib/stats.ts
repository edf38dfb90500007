/** Latency summaries and the small formatting helpers the benchmark table needs. */

export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of already sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((sum, x) => sum + x, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    mean: sorted.length > 0 ? total / sorted.length : NaN,
  };
}

/** Milliseconds with sensible precision: 0.012, 0.41, 3.2, 48, 1,234. */
export function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  if (value < 0.1) return value.toFixed(3);
  if (value < 1) return value.toFixed(2);
  if (value < 10) return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}

export function seconds(value: number): string {
  return value < 10 ? `${value.toFixed(2)} s` : `${value.toFixed(1)} s`;
}

export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function ratio(ours: number, floor: number): string {
  if (!Number.isFinite(ours) || !Number.isFinite(floor) || floor <= 0) return '—';
  const r = ours / floor;
  return r < 0.1 ? `${r.toFixed(3)}×` : r < 10 ? `${r.toFixed(2)}×` : `${r.toFixed(0)}×`;
}

/** Runs `work` `iterations` times after `warmup` untimed runs (a tenth by default); returns each run's milliseconds. */
export async function timeRuns(work: (i: number) => unknown, iterations: number, warmup = Math.max(Math.min(5, iterations), Math.floor(iterations / 10))): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await work(i);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await work(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

/** Samples this process's RSS every 50 ms until stopped; returns the peak in MB. */
export function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      return peak / (1024 * 1024);
    },
  };
}
