import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCustomerExport } from './src/domain/export/customer-export.js';
import type { Customer } from './src/domain/types.js';
async function* gen(n: number): AsyncGenerator<Customer> {
  for (let i = 1; i <= n; i++) yield { id: i, name: `Customer number ${i}`, email: `customer${i}@example.com`, country: 'DE', discord: { id: String(i), username: `user${i}`, avatar: null }, steam: null, gameUserId: null, twoFactorEnabled: false, lastSeenAt: null, referralCode: null, referredBy: null, metadata: {}, supportTicketsCount: 0, ordersCount: i % 9, totalSpentCents: i * 13, firstOrderAt: null, lastOrderAt: '2026-01-01T00:00:00Z', lastOrderNumber: null, createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z' };
}
const dir = mkdtempSync(join(tmpdir(), 'mem-'));
let peak = 0;
const timer = setInterval(() => { const m = process.memoryUsage(); peak = Math.max(peak, m.heapUsed + m.external); (globalThis as any).last = m; }, 50);
for (const format of ['csv', 'xlsx'] as const) {
  peak = 0;
  const t = performance.now();
  try {
    const f = await writeCustomerExport(gen(Number(process.argv[2] ?? 300000)), { format, directory: dir, baseName: 'x', maxBytes: format === 'csv' ? 10_420_224 : Infinity });
    console.log(JSON.stringify((globalThis as any).last)); console.log(format, f.bytes, f.compressed, f.rows, 'ms', Math.round(performance.now() - t), 'peak rss MB', Math.round(peak / 1e6));
  } catch (e) { console.log(format, String(e), 'ms', Math.round(performance.now() - t), 'peak MB', Math.round(peak/1e6)); }
}
clearInterval(timer);
rmSync(dir, { recursive: true });
