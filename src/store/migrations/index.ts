import type { Migration } from 'kysely';
import * as initial from './2026-11-22T00-00-initial.js';
import * as inboundEvents from './2026-11-22T01-00-inbound-events.js';
import * as roles from './2026-11-22T02-00-roles.js';
import * as apiTokensWebhooks from './2026-11-22T03-00-api-tokens-webhooks.js';
import * as linking from './2026-11-22T04-00-linking.js';
import * as digest from './2026-11-22T05-00-digest.js';
import * as downloads from './2026-11-22T06-00-downloads.js';
import * as erasure from './2026-11-22T07-00-erasure.js';
import * as performance from './2026-11-22T08-00-performance.js';

// Listed explicitly rather than read from the folder, so the same list works under tsx, vitest
// and a bundled build. Names sort by date; Kysely runs them in that order.
export const migrations: Record<string, Migration> = {
  '2026-11-22T00-00-initial': initial,
  '2026-11-22T01-00-inbound-events': inboundEvents,
  '2026-11-22T02-00-roles': roles,
  '2026-11-22T03-00-api-tokens-webhooks': apiTokensWebhooks,
  '2026-11-22T04-00-linking': linking,
  '2026-11-22T05-00-digest': digest,
  '2026-11-22T06-00-downloads': downloads,
  '2026-11-22T07-00-erasure': erasure,
  '2026-11-22T08-00-performance': performance,
  '2026-11-22T09-00-leases': await import('./2026-11-22T09-00-leases.js'),
  '2026-11-22T10-00-postgres-last-order-order': await import('./2026-11-22T10-00-postgres-last-order-order.js'),
  '2026-12-04T00-00-search-case-folding': await import('./2026-12-04T00-00-search-case-folding.js'),
};
