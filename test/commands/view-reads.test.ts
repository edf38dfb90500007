import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogEvent } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BotDeps } from '../../src/commands/context.js';
import { buildNotesView, buildOrdersView, buildProfileView } from '../../src/commands/customer/customer-views.js';
import { runStats } from '../../src/commands/customer/stats.js';
import { PendingActions } from '../../src/commands/pending-actions.js';
import { loadConfig } from '../../src/config.js';
import { addNote } from '../../src/domain/customers/notes.js';
import { createLogger } from '../../src/logger.js';
import { ManualClock } from '../../src/shared/clock.js';
import { openMigratedDatabase } from '../../src/store/database.js';
import { TEST_NOW } from '../support/context.js';
import { seedSmallStore, type SmallStore } from '../support/fixtures.js';

// Each customer view reads the customer's row once and hands its parts down; a second read per
// view (an erased check, a ban identity, the name) is what this file guards against.

let deps: BotDeps;
let store: SmallStore;
let queries: string[] = [];
let tempDir: string;

beforeEach(async () => {
  const log = (event: LogEvent) => void queries.push(event.query.sql);
  const { db } = await openMigratedDatabase(':memory:', { log });
  const clock = new ManualClock(TEST_NOW);
  store = await seedSmallStore(db, clock);
  await addNote(db, clock, { customerId: store.alice.id, author: { id: '1', name: 'Sam Staff' }, body: 'Asked about a refund.' });
  tempDir = mkdtempSync(join(tmpdir(), 'view-reads-'));
  deps = {
    db,
    clock,
    config: loadConfig({ LOG_LEVEL: 'silent' }),
    logger: createLogger('silent'),
    tempDir,
    pending: new PendingActions(() => clock.now().getTime()),
  };
});

afterEach(async () => {
  await deps.db.destroy();
  rmSync(tempDir, { recursive: true, force: true });
});

/** The queries `build` ran that read a customer row (not a count over other customers' rows). */
async function customerRowReads(build: () => Promise<unknown>): Promise<string[]> {
  queries = [];
  await build();
  return queries.filter((text) => /from "customers"/i.test(text) && !/count\(/i.test(text));
}

describe('each customer view reads the customer row once', () => {
  it('the profile reads the customer row once for its figures, its active bans and whether it was erased', async () => {
    expect(await customerRowReads(() => buildProfileView(deps, store.alice.id))).toHaveLength(1);
  });

  it('the notes view reads the customer row once for the name and whether it was erased', async () => {
    expect(await customerRowReads(() => buildNotesView(deps, store.alice.id, 0))).toHaveLength(1);
  });

  it('the orders view reads the customer row once, for the name only', async () => {
    const reads = await customerRowReads(() => buildOrdersView(deps, store.alice.id, 0));
    expect(reads).toHaveLength(1);
    expect(queries.filter((text) => /from "customers"/i.test(text))).toHaveLength(1);
  });

  it("a customer's statistics read the row once, when the customer is found", async () => {
    expect(await customerRowReads(() => runStats(deps, { customer: `id:${store.alice.id}` }))).toHaveLength(1);
    // Typed text is first a search (by email, order number, in-game id); the row it finds is not read again by id.
    const reads = await customerRowReads(() => runStats(deps, { customer: 'alice@example.com' }));
    expect(reads.filter((text) => /where "id" = /i.test(text))).toEqual([]);
  });
});
