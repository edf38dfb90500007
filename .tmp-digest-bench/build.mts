import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMigratedDatabase } from '../src/store/database.js';
import { buildWeeklyDigest, writeAtRiskList } from '../src/domain/digest.js';
import { renderDigestMessage } from '../src/discord/digest-message.js';

const N = Number(process.env.N ?? 200_000);
const skew = process.env.SKEW === '1';
const { db, sqlite } = await openMigratedDatabase();
const now = Date.parse('2026-11-23T08:00:00Z');
const DAY = 86400000;
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const insert = sqlite.prepare(`insert into customers (name, email, email_lower, country, orders_count, total_spent_cents, first_order_at, last_order_at, created_at, updated_at) values (?,?,?,?,?,?,?,?,?,?)`);
const first = ['Alex','Sam','Jo','Robin','Kim','Taylor','Jordan','Casey','Morgan','Riley','Émile','Zoë','Łukasz','Ngozi','Hiroshi'];
const last = ['Smith','García','Müller','Rossi','Nowak','Kowalski','Dubois','Tanaka','Okafor','Johansson','Silva','Kim','Nguyen'];
sqlite.transaction(() => {
  for (let i = 0; i < N; i++) {
    const hasOrders = rnd() < 0.6;
    const orders = hasOrders ? 1 + Math.floor(rnd() * 9) : 0;
    const ageDays = rnd() * 730;
    const lastAt = hasOrders ? new Date(now - ageDays * DAY).toISOString() : null;
    const spent = hasOrders ? (skew ? (ageDays > 90 ? 100 + Math.floor(rnd() * 100) : 10_000 + Math.floor(rnd() * 1_000_000)) : orders * (500 + Math.floor(rnd() * 5000))) : 0;
    const name = `${first[Math.floor(rnd() * first.length)]} ${last[Math.floor(rnd() * last.length)]}`;
    const email = `${name.toLowerCase().replace(/[^a-z]+/g, '.')}.${Math.floor(rnd() * 1e9).toString(36)}${i}@mail${i % 50}.example.com`;
    insert.run(name, email, email, ['US','DE','GB','FR','BR'][i % 5], orders, spent, lastAt, lastAt, new Date(now - 800 * DAY).toISOString(), new Date(now).toISOString());
  }
})();
const clock = { now: () => new Date(now) };
const dir = mkdtempSync(join(tmpdir(), 'digest-bench-'));
for (let i = 0; i < 3; i++) {
  let s = performance.now();
  const digest = await buildWeeklyDigest(db, clock, { atRiskDays: 90, timeZone: 'Europe/Berlin', previousCutoff: new Date(now - 97 * DAY).toISOString(), periodKey: new Date(now).toISOString() });
  const buildMs = performance.now() - s;
  s = performance.now();
  const list = i === 0 ? await writeAtRiskList(db, digest, { directory: dir, fullListMaxRows: Number(process.env.FULL ?? 500000) }) : null;
  const listMs = performance.now() - s;
  s = performance.now();
  renderDigestMessage(digest, { currency: 'USD', list });
  const renderMs = performance.now() - s;
  console.log(`N=${N} skew=${skew}: build ${buildMs.toFixed(1)} ms (at risk ${digest.atRiskCount}, newly ${digest.newlyAtRiskCount}), render+chart ${renderMs.toFixed(1)} ms` + (list ? `, CSV ${list.rows} rows ${(list.file.bytes / 1048576).toFixed(1)} MiB zipped=${list.file.compressed} truncated=${list.truncated} in ${listMs.toFixed(0)} ms` : ''));
}
rmSync(dir, { recursive: true, force: true });
