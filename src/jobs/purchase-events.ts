import { applyPurchaseEvent, type ApplyOptions, type PurchaseEventHooks } from '../domain/purchases/apply.js';
import { exponentialDelayMs, type ExponentialBackoff } from '../shared/backoff.js';
import type { Clock } from '../shared/clock.js';
import { scrubEventIfCustomerErased } from '../domain/privacy/erasure.js';
import { enqueueCustomerCreated } from '../domain/webhooks/outbox.js';
import { reconcileCustomerRoles } from '../domain/roles/sync.js';
import { parseStoredEvent } from '../domain/purchases/parse.js';
import { UserError, type UserErrorCode } from '../shared/errors.js';
import { raiseStaffAlert } from '../domain/alerts/staff-alerts.js';
import type { Logger } from '../logger.js';
import { inTransaction, type Db } from '../store/database.js';
import {
  claimDueEvents,
  LeaseLostError,
  markEventFailed,
  markEventIgnored,
  markEventProcessed,
  scheduleEventRetry,
  type ClaimedEvent,
} from '../store/purchase-event.repository.js';
import { startWorker, type Worker } from './worker.js';

/** After this many attempts an event is marked failed and left for staff to look at. */
export const MAX_EVENT_ATTEMPTS = 10;
const EVENT_BACKOFF: ExponentialBackoff = { firstMs: 30_000, capMs: 60 * 60 * 1000 };

/** Delay before the next attempt after `attempt` failed: 30 s, 1 min, 2 min, … capped at 1 h. */
export function retryDelayMs(attempt: number): number {
  return exponentialDelayMs(attempt, EVENT_BACKOFF);
}

export interface ProcessOptions extends ApplyOptions {
  limit?: number;
  leaseMs?: number;
  logger?: Logger;
  /** This process's id, recorded on each claim. */
  holder?: string;
  /**
   * Give the event loop back between events (default true). The events thread, which answers
   * nobody, turns it off: each yield costs a timer tick (~1 ms).
   */
  yieldBetweenEvents?: boolean;
}

/**
 * What applying an event does beyond the customer and order rows: role plans and the outbox are
 * written inside each event's transaction, so an event's effects (orders, role jobs, webhook
 * deliveries) commit together or not at all.
 */
export function storeEventHooks(clock: Clock): PurchaseEventHooks {
  return {
    customerChanged: async (trx, customerId, cause) => {
      await reconcileCustomerRoles(trx, clock, customerId, cause);
    },
    customerCreated: async (trx, customer) => {
      await enqueueCustomerCreated(trx, clock, customer);
    },
  };
}

/**
 * Processes the purchase events that are due, oldest received first. Each event is parsed again
 * from its stored payload and applied, hooks included, in one transaction together with marking
 * it processed: a crash leaves either all of it or none of it. A failure rolls back and schedules
 * a retry with exponential backoff; after {@link MAX_EVENT_ATTEMPTS} the event is marked failed.
 * A refusal no retry can change (the store's own rules, or the database refusing the data) is
 * marked failed at once.
 * Every event marked failed raises a staff alert. Returns how many events it claimed.
 */
export async function processDueEvents(db: Db, clock: Clock, hooks: PurchaseEventHooks, options: ProcessOptions = {}): Promise<number> {
  const { limit = 100, leaseMs = 60_000, logger, holder, yieldBetweenEvents = true, ...applyOptions } = options;
  const claimed = await claimDueEvents(db, clock, { limit, leaseMs, holder });
  for (const claim of claimed) {
    // SQLite calls never leave the event loop, so a batch of 100 events would hold it for the
    // whole batch; yielding between events lets acknowledgements and interactions through. A
    // timer, not setImmediate: the next event then waits for the requests read meanwhile and for
    // the group commit that acknowledges them (setImmediate callbacks, which run first), where
    // setImmediate would put one more event ahead of every acknowledgement.
    if (yieldBetweenEvents) await new Promise<void>((resolve) => setTimeout(resolve, 0));
    try {
      await processClaim(db, clock, hooks, claim, applyOptions, logger);
    } catch (error) {
      if (error instanceof LeaseLostError) {
        // Another claimer holds it now and will finish it; nothing of ours was committed.
        logger?.warn({ eventId: claim.id }, 'inbound event lease lost; left to the new claimer');
        continue;
      }
      await recordFailure(db, clock, claim, error, logger);
    }
  }
  return claimed.length;
}

async function processClaim(db: Db, clock: Clock, hooks: PurchaseEventHooks, claim: ClaimedEvent, options: ApplyOptions, logger: Logger | undefined) {
  if (claim.attempt > MAX_EVENT_ATTEMPTS) {
    // Only reachable when earlier attempts died with the process (the lease ran out).
    await failForGood(db, clock, claim, `gave up after ${MAX_EVENT_ATTEMPTS} attempts that never finished`);
    logger?.error({ eventId: claim.id, eventType: claim.eventType }, 'inbound event failed for good: its attempts kept crashing');
    return;
  }
  const parsed = parseStoredEvent(claim.id, claim.payload);
  if (!parsed.ok) {
    // It parsed when it was received; only a parser change can get here, and retrying won't help.
    await failForGood(db, clock, claim, `stored payload no longer parses: ${parsed.message}`);
    logger?.error({ eventId: claim.id, eventType: claim.eventType, reason: parsed.message }, 'inbound event failed for good: unreadable');
    return;
  }
  await inTransaction(db, async (trx) => {
    const result = await applyPurchaseEvent(trx, clock, parsed.event, hooks, options);
    if (result.outcome === 'ignored') await markEventIgnored(trx, clock, claim, result.reason);
    else await markEventProcessed(trx, clock, claim);
    // A late event about an erased customer brought their details back in its raw body.
    if (result.outcome === 'applied' && result.customerId !== null) await scrubEventIfCustomerErased(trx, claim.id, result.customerId);
  });
}

async function recordFailure(db: Db, clock: Clock, claim: ClaimedEvent, error: unknown, logger: Logger | undefined): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  try {
    if (isPermanentFailure(error)) {
      await failForGood(db, clock, claim, message);
      logger?.error({ err: error, eventId: claim.id, eventType: claim.eventType, reason: message }, 'inbound event refused for good; not retried');
    } else if (claim.attempt >= MAX_EVENT_ATTEMPTS) {
      await failForGood(db, clock, claim, message);
      logger?.error({ err: error, eventId: claim.id, eventType: claim.eventType, attempts: claim.attempt }, 'inbound event failed for good');
    } else {
      const retryAt = new Date(clock.now().getTime() + retryDelayMs(claim.attempt));
      await scheduleEventRetry(db, claim, retryAt, message);
      logger?.warn(
        { err: error, eventId: claim.id, eventType: claim.eventType, attempts: claim.attempt, retryAt: retryAt.toISOString() },
        'inbound event failed; will retry',
      );
    }
  } catch (markError) {
    if (!(markError instanceof LeaseLostError)) throw markError;
  }
}

// Refusals a concurrent writer can cause between a probe and a write (another process created the
// customer first): the next attempt finds what the other one wrote.
const RACED_REFUSALS = new Set<UserErrorCode>(['email_taken', 'discord_taken', 'steam_taken', 'referral_code_taken']);

// The database refusing the data itself: PostgreSQL's data exceptions (class 22) and NOT NULL
// or CHECK violations, and SQLite's equivalents. Unique violations are left out: a concurrent
// writer can cause one, and the next attempt then finds the row.
const PERMANENT_SQLITE_CODES = new Set(['SQLITE_MISMATCH', 'SQLITE_TOOBIG', 'SQLITE_RANGE', 'SQLITE_CONSTRAINT_NOTNULL', 'SQLITE_CONSTRAINT_CHECK']);

/**
 * Whether no retry can make this attempt succeed: the store's own refusal (a UserError) or the
 * database refusing the data. A lock, a timeout, a lost connection or a bug fixed by the next
 * release are worth retrying.
 */
function isPermanentFailure(error: unknown): boolean {
  if (error instanceof UserError) return !RACED_REFUSALS.has(error.code);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return false;
  return /^22[0-9A-Z]{3}$/.test(code) || code === '23502' || code === '23514' || PERMANENT_SQLITE_CODES.has(code);
}

/** Marks the event failed and tells staff, together: an event nobody hears of is an order lost. */
async function failForGood(db: Db, clock: Clock, claim: ClaimedEvent, reason: string): Promise<void> {
  await inTransaction(db, async (trx) => {
    await markEventFailed(trx, clock, claim, reason);
    await raiseStaffAlert(trx, clock, {
      kind: 'purchase_event_failed',
      message:
        `A purchase event from the store could not be applied and will not be retried: ${claim.eventType} \`${claim.id}\`. ` +
        `${reason} Its order, refund or subscription is not in the customer records until the cause is put right and ` +
        `the store delivers the event again (a new delivery of a failed event is applied as new).`,
      // One alert per delivery: a redelivery that fails again is news again.
      dedupeKey: `purchase_event_failed:${claim.id}:${claim.receivedAt}`,
    });
  });
}

export interface InboundEventWorkerOptions {
  db: Db;
  clock: Clock;
  hooks: PurchaseEventHooks;
  logger: Logger;
  storeCurrency?: string;
  /** Poll interval when idle; it picks up retries whose time has come. Default 5 s. */
  intervalMs?: number;
  /** This process's id, recorded on each claim. */
  holder?: string;
  /** Called after a pass that handled events, so the queues their effects fed can start at once. */
  onHandled?: () => void;
}

/** The background loop that applies stored purchase events; wake it after storing one. */
export function startInboundEventWorker(options: InboundEventWorkerOptions): Worker {
  const { db, clock, hooks, logger, holder, onHandled } = options;
  return startWorker({
    name: 'inbound-events',
    logger,
    intervalMs: options.intervalMs ?? 5_000,
    runOnce: async () => {
      const handled = await processDueEvents(db, clock, hooks, {
        logger,
        holder,
        ...(options.storeCurrency ? { storeCurrency: options.storeCurrency } : {}),
      });
      if (handled > 0) onHandled?.();
      return handled;
    },
  });
}
