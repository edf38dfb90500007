import SQLite from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type { Clock } from '../shared/clock.js';
import { withDurableCommit, type Db } from './database.js';
import { GroupCommit } from './group-commit.js';
import { insertInboundEvents, type EventStore, type NewInboundEvent } from './purchase-event.repository.js';
import type { SignatureScheme } from './schema/index.js';

/**
 * The intake file: a small SQLite file beside a SQLite store where acknowledged purchase events
 * wait, for a few milliseconds, to be moved into `inbound_events`.
 *
 * Why a second file: a purchase event's 200 must wait for a durable commit, and on the store
 * itself that commit queues behind whatever holds the store's single write lock (applying
 * earlier events, a link, an import) and shares the disk with it. The intake file has one
 * writer that only appends, so the acknowledgement's commit is an append and an fsync of a small
 * log; the events thread moves the rows into the store (idempotently, by event id) and applies
 * them there, off the event loop that answers HTTP.
 */
export interface IntakeFile {
  readonly path: string;
  readonly sqlite: SQLite.Database;
  /** Prepared once: the append runs on every acknowledgement, the count on every poll. */
  readonly statements: {
    insert: SQLite.Statement;
    oldest: SQLite.Statement;
    remove: SQLite.Statement;
    count: SQLite.Statement;
  };
}

export interface IntakeRow extends NewInboundEvent {
  receivedAt: string;
}

/** Where a store's intake file lives: beside it, named after it. */
export function intakePathFor(databasePath: string): string {
  return `${databasePath}-intake`;
}

export function openIntakeFile(path: string): IntakeFile {
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  // Every commit here is acknowledged to the store, which then stops retrying: it must survive
  // a power loss, so each commit fsyncs the log.
  sqlite.pragma('synchronous = FULL');
  // A payload names the buyer; a moved row's bytes are zeroed, not left in free pages (GDPR).
  sqlite.pragma('secure_delete = ON');
  sqlite.exec(`CREATE TABLE IF NOT EXISTS intake_events (
    id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    signature_scheme TEXT NOT NULL,
    received_at TEXT NOT NULL
  ) WITHOUT ROWID`);
  const statements = {
    insert: sqlite.prepare(
      'INSERT INTO intake_events (id, event_type, payload, signature_scheme, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
    ),
    oldest: sqlite.prepare(`${SELECT_WAITING} LIMIT ?`),
    remove: sqlite.prepare('DELETE FROM intake_events WHERE id = ?'),
    count: sqlite.prepare('SELECT count(*) AS n FROM intake_events'),
  };
  return { path, sqlite, statements };
}

/** The waiting events, oldest first. */
const SELECT_WAITING = 'SELECT id, event_type, payload, signature_scheme, received_at FROM intake_events ORDER BY received_at, id';

export function closeIntakeFile(intake: IntakeFile): void {
  if (intake.sqlite.open) intake.sqlite.close();
}

interface IntakeRecord {
  id: string;
  event_type: string;
  payload: string;
  signature_scheme: SignatureScheme;
  received_at: string;
}

function toIntakeRow(r: IntakeRecord): IntakeRow {
  return { id: r.id, eventType: r.event_type, payload: r.payload, scheme: r.signature_scheme, receivedAt: r.received_at };
}

/**
 * Stores a batch of verified events in one durable commit. An id already waiting here, or
 * already in the store and not failed, is a duplicate and changes nothing.
 */
export async function appendToIntake(intake: IntakeFile, store: Db, events: readonly NewInboundEvent[], now: string): Promise<Array<'stored' | 'duplicate'>> {
  const ids = [...new Set(events.map((e) => e.id))];
  // A read of the store: no lock, and it never waits for a writer there (WAL). A failed event
  // delivered again is taken as new: the move queues it afresh.
  const known = new Set(
    (await store.selectFrom('inbound_events').select('id').where('id', 'in', ids).where('status', '!=', 'failed').execute()).map((r) => r.id),
  );
  const { insert } = intake.statements;
  return intake.sqlite.transaction(() =>
    events.map((event): 'stored' | 'duplicate' => {
      if (known.has(event.id)) return 'duplicate';
      return insert.run(event.id, event.eventType, event.payload, event.scheme, now).changes === 1 ? 'stored' : 'duplicate';
    }),
  )();
}

/** How many events wait in the intake file. */
export function countIntake(intake: IntakeFile): number {
  return (intake.statements.count.get() as { n: number }).n;
}

/**
 * Moves up to `limit` waiting events into the store's `inbound_events`, oldest first, and
 * returns how many it moved. The store's commit is durable before the rows leave the intake
 * file, so a crash in between leaves them in both, and the next move skips what the store
 * already has (by id): nothing acknowledged is lost and nothing is stored twice.
 */
export async function moveIntakeIntoStore(intake: IntakeFile, store: Db, limit = 500): Promise<number> {
  const rows = (intake.statements.oldest.all(limit) as IntakeRecord[]).map(toIntakeRow);
  if (rows.length === 0) return 0;
  await withDurableCommit(store, (conn) => insertInboundEvents(conn, rows));
  const { remove } = intake.statements;
  intake.sqlite.transaction(() => {
    for (const row of rows) remove.run(row.id);
  })();
  return rows.length;
}

/** Moves every waiting event into the store: before a thread or the bot ends. */
export async function moveAllIntakeIntoStore(intake: IntakeFile, store: Db): Promise<void> {
  while ((await moveIntakeIntoStore(intake, store)) > 0);
}

/**
 * Copies the log into the intake file without waiting for anyone, so the log starts over from
 * the top instead of growing; when nothing waits, also cuts it to zero bytes, so payloads of
 * moved events do not linger in old log frames. Called by the events thread between moves.
 */
export function checkpointIntake(intake: IntakeFile, options: { truncate: boolean }): void {
  intake.sqlite.pragma(options.truncate ? 'wal_checkpoint(TRUNCATE)' : 'wal_checkpoint(PASSIVE)');
}

/**
 * The acknowledging side: events that arrive in the same turn of the event loop are appended in
 * one durable commit ({@link GroupCommit}), and each caller learns whether its event was new.
 */
export class IntakeWriter implements EventStore {
  readonly #group: GroupCommit<NewInboundEvent, 'stored' | 'duplicate'>;

  constructor(intake: IntakeFile, store: Db, clock: Clock) {
    this.#group = new GroupCommit((batch) => appendToIntake(intake, store, batch, clock.now().toISOString()));
  }

  store(event: NewInboundEvent): Promise<'stored' | 'duplicate'> {
    return this.#group.submit(event);
  }
}

/**
 * The events waiting in a store's intake file, read without writing to it (none when there is no
 * file): a backup adds them to its copy, and a copy to PostgreSQL refuses to leave them behind.
 */
export function readWaitingIntake(databasePath: string): IntakeRow[] {
  const path = intakePathFor(databasePath);
  if (!existsSync(path)) return [];
  const intake = new SQLite(path, { readonly: true, fileMustExist: true });
  try {
    intake.pragma('busy_timeout = 5000');
    return (intake.prepare(SELECT_WAITING).all() as IntakeRecord[]).map(toIntakeRow);
  } finally {
    intake.close();
  }
}
