import type { Migration } from 'kysely';
import * as initial from './2026-11-22T00-00-initial.js';

// Listed explicitly rather than read from the folder, so the same list works under tsx, vitest
// and a bundled build. Names sort by date; Kysely runs them in that order.
export const migrations: Record<string, Migration> = {
  '2026-11-22T00-00-initial': initial,
};
