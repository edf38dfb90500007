import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/schema/index.js';

// The rule (docs/architecture.md, "Who owns each table"): a table is queried only by its owner;
// everyone else calls the owner's functions. An owner is a file or a folder (ending in `/`).
// Typed by `Database`, so a new table does not compile until it is given an owner.
const OWNERS: Record<keyof Database, readonly string[]> = {
  customers: ['src/store/customer.repository.ts'],
  notes: ['src/domain/customers/'],
  activity_log: ['src/domain/customers/'],
  customer_search: ['src/domain/customers/'],
  customer_grams: ['src/domain/customers/'],
  products: ['src/store/order.repository.ts'],
  orders: ['src/store/order.repository.ts'],
  order_items: ['src/store/order.repository.ts'],
  subscriptions: ['src/domain/purchases/'],
  order_disputes: ['src/domain/purchases/'],
  support_tickets: ['src/domain/purchases/'],
  platform_customers: ['src/domain/purchases/'],
  bans: ['src/store/ban.repository.ts'],
  // purchase-event-intake.ts writes the events in raw SQL and asks which of a batch are already in.
  inbound_events: ['src/store/purchase-event.repository.ts', 'src/store/purchase-event-intake.ts'],
  role_rules: ['src/domain/roles/'],
  role_assignments: ['src/domain/roles/'],
  // The queue's claim and finish queries stay with the queue until the lease-queue kit takes them.
  role_jobs: ['src/domain/roles/', 'src/jobs/role-queue.ts'],
  role_sweeps: ['src/domain/roles/'],
  staff_alerts: ['src/domain/alerts/'],
  // The delivery job's claim and record queries stay with the job until the lease-queue kit takes them.
  webhook_endpoints: ['src/domain/webhooks/', 'src/jobs/webhook-deliveries.ts'],
  webhook_deliveries: ['src/domain/webhooks/', 'src/jobs/webhook-deliveries.ts'],
  webhook_delivery_attempts: ['src/domain/webhooks/', 'src/jobs/webhook-deliveries.ts'],
  api_tokens: ['src/domain/api-access/'],
  link_sessions: ['src/store/link-session.repository.ts'],
  used_openid_nonces: ['src/store/link-session.repository.ts'],
  digest_runs: ['src/store/digest.repository.ts'],
  segment_snapshots: ['src/store/digest.repository.ts'],
  export_files: ['src/store/export-file.repository.ts'],
  leases: ['src/store/leader-lease.ts'],
  privacy_keys: ['src/domain/privacy/'],
  store_counters: ['src/store/customer-counts.repository.ts'],
  customer_day_counts: ['src/store/customer-counts.repository.ts'],
  search_term_counts: ['src/store/customer-counts.repository.ts'],
};

/** Files that may read (select, join) tables they do not own, and why. Never writes. */
const READ_EXCEPTIONS: ReadonlyArray<{ file: string; tables: readonly string[]; reason: string }> = [
  {
    file: 'src/store/customer.repository.ts',
    tables: ['orders'],
    reason: 'finds the customer of an order number in one compiled statement, joining orders',
  },
  {
    file: 'src/store/customer-counts.repository.ts',
    tables: ['customers', 'customer_search', 'customer_grams'],
    reason: 'counts the customers a search term matches, in the indexes the triggers keep, for the figures it caches',
  },
  {
    file: 'src/domain/customers/list.ts',
    tables: ['customers'],
    reason: 'the customer list plans one statement over customers and their search indexes, tuned against the indexes (bench/results.md)',
  },
  {
    file: 'src/domain/digest/digest.ts',
    tables: ['customers'],
    reason: 'a report: the weekly digest counts and ranks customers by segment and spend',
  },
  {
    file: 'src/domain/privacy/export.ts',
    tables: ['customers', 'orders', 'order_items', 'products', 'order_disputes', 'subscriptions', 'support_tickets', 'role_assignments', 'bans'],
    reason: 'a report: a data-access export gathers every row held on one person',
  },
  {
    file: 'src/domain/privacy/subject.ts',
    tables: ['customers', 'activity_log', 'role_assignments', 'role_jobs', 'platform_customers', 'orders', 'subscriptions', 'support_tickets', 'inbound_events'],
    reason: 'finds every row that names one person, for the export and the erasure',
  },
  {
    file: 'src/domain/roles/rules.ts',
    tables: ['products'],
    reason: 'a role rule is listed with its product name, joined in the same statement',
  },
  {
    file: 'src/domain/roles/sync.ts',
    tables: ['subscriptions'],
    reason: "role planning and the timed sweep read subscriptions by product, the sweep's joined to the role tables",
  },
];

/**
 * Erasure removes one person from every table in one transaction, so it queries each of them
 * itself, reads and writes, rather than through each owner.
 */
const ERASURE = 'src/domain/privacy/erasure.ts';

/** Not capability code: frozen migrations, typed against no schema. */
const SKIPPED = ['src/store/migrations/'];

const ROOT = join(import.meta.dirname, '../..');
const CALL = /\.(selectFrom|insertInto|updateTable|deleteFrom|innerJoin|leftJoin)\(\s*['"`]([a-z_]+)/g;
const READS = new Set(['selectFrom', 'innerJoin', 'leftJoin']);

interface Use {
  file: string;
  line: number;
  call: string;
  table: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function uses(): Use[] {
  const found: Use[] = [];
  for (const path of sourceFiles(join(ROOT, 'src'))) {
    const file = relative(ROOT, path).split('\\').join('/');
    if (SKIPPED.some((prefix) => file.startsWith(prefix))) continue;
    const text = readFileSync(path, 'utf8');
    for (const match of text.matchAll(CALL)) {
      const line = text.slice(0, match.index).split('\n').length;
      found.push({ file, line, call: match[1]!, table: match[2]! });
    }
  }
  return found;
}

function owns(owner: string, file: string): boolean {
  return owner.endsWith('/') ? file.startsWith(owner) : file === owner;
}

function allowed(use: Use): boolean {
  const owners = (OWNERS as Record<string, readonly string[] | undefined>)[use.table];
  if (owners?.some((owner) => owns(owner, use.file))) return true;
  if (use.file === ERASURE) return true;
  if (!READS.has(use.call)) return false;
  return READ_EXCEPTIONS.some((e) => e.file === use.file && e.tables.includes(use.table));
}

describe('each table is queried by its owner', () => {
  const all = uses();

  it('finds the query-builder calls it is meant to check', () => {
    expect(all.length).toBeGreaterThan(100);
  });

  it('names only tables the schema has', () => {
    const unknown = all.filter((use) => !(use.table in OWNERS)).map((use) => `${use.file}:${use.line} ${use.table}`);
    expect(unknown).toEqual([]);
  });

  it('queries no table outside its owner, except the listed reads and erasure', () => {
    const strays = all.filter((use) => !allowed(use)).map((use) => `${use.file}:${use.line} ${use.call}('${use.table}')`);
    expect(strays).toEqual([]);
  });

  it('lists no exception that is no longer needed', () => {
    const stale = READ_EXCEPTIONS.flatMap((e) =>
      e.tables
        .filter((table) => !all.some((use) => use.file === e.file && use.table === table && !OWNERS[table as keyof Database].some((o) => owns(o, e.file))))
        .map((table) => `${e.file} ${table}`),
    );
    expect(stale).toEqual([]);
  });

  it('matches the map in docs/architecture.md', () => {
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Who owns each table'));
    const documented: Record<string, string[]> = {};
    for (const [, tables, owners] of section.matchAll(/^\| ((?:`[a-z_]+`,? ?)+) \| ((?:`[^`]+`,? ?)+) \|/gm)) {
      const ownerList = [...owners!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      for (const [, table] of tables!.matchAll(/`([a-z_]+)`/g)) documented[table!] = ownerList;
    }
    expect(documented).toEqual(OWNERS);
  });
});
