import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCustomerExport } from './src/domain/export/customer-export.js';
import type { Customer } from './src/domain/types.js';
async function* gen(n: number): AsyncGenerator<Customer> {
  for (let i = 1; i <= n; i++) yield { id: i, name: `Customer number ${i}`, email: `customer${i}@example.com`, country: 'DE', discord: { id: String(i), username: `user${i}`, avatar: null }, steam: null, gameUserId: null, twoFactorEnabled: false, lastSeenAt: null, referralCode: null, referredBy: null, metadata: {}, supportTicketsCount: 0, ordersCount: i % 9, totalSpentCents: i * 13, firstOrderAt: null, lastOrderAt: '2026-01-01T00:00:00Z', lastOrderNumber: null, createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z' };
}
const dir = mkdtempSync(join(tmpdir(), 'mem-'));
const mb = (n: number) => Math.round(n / 1e6);
await writeCustomerExport(gen(400000), { format: 'xlsx', directory: dir, baseName: 'x', maxBytes: Infinity, progressEvery: 50000, onProgress: (r) => { const m = process.memoryUsage(); console.log(r, 'heap', mb(m.heapUsed), 'ext', mb(m.external), 'ab', mb(m.arrayBuffers)); } });
rmSync(dir, { recursive: true });
