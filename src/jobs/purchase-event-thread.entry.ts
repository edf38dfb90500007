/**
 * The events thread: moves acknowledged purchase events from the intake file into the store and
 * applies them, on its own connection, so no SQLite call of theirs runs on the event loop that
 * answers HTTP and Discord. Started by {@link startInboundEventThread}; speaks to it by messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../shared/clock.js';
import { createLogger } from '../logger.js';
import { openDatabase } from '../store/database.js';
import { checkpointIntake, closeIntakeFile, moveAllIntakeIntoStore, moveIntakeIntoStore, openIntakeFile } from '../store/purchase-event-intake.js';
import { processDueEvents, storeEventHooks } from './purchase-events.js';
import type { InboundThreadData, ToInboundThread } from './purchase-event-thread.js';
import { startWorker } from './worker.js';

/** Moved rows between checkpoints of the intake log; it then starts over from the top. */
const CHECKPOINT_EVERY_ROWS = 256;
/** After this long without a move, the intake log is cut to zero bytes. */
const TRUNCATE_AFTER_IDLE_MS = 2_000;

if (!parentPort) throw new Error('purchase-event-thread.entry runs as a worker thread');
const port = parentPort;
const data = workerData as InboundThreadData;
const logger = createLogger(data.logLevel, { write: (line: string) => port.postMessage({ type: 'log', line }) });
const { db } = openDatabase(data.databasePath);
const intake = openIntakeFile(data.intakePath);
const hooks = storeEventHooks(systemClock);

let movedSinceCheckpoint = 0;
let lastMoveAt = Date.now();
let lastWorkAt = Date.now();
let logHasContent = true;
let ending = false;

async function pass(): Promise<number> {
  const moved = await moveIntakeIntoStore(intake, db);
  if (moved > 0) {
    lastMoveAt = Date.now();
    logHasContent = true;
    movedSinceCheckpoint += moved;
    if (movedSinceCheckpoint >= CHECKPOINT_EVERY_ROWS) {
      checkpointIntake(intake, { truncate: false });
      movedSinceCheckpoint = 0;
    }
  } else if (logHasContent && Date.now() - lastMoveAt >= TRUNCATE_AFTER_IDLE_MS) {
    checkpointIntake(intake, { truncate: true });
    logHasContent = false;
    movedSinceCheckpoint = 0;
  }
  const handled = await processDueEvents(db, systemClock, hooks, {
    logger,
    holder: data.holder,
    yieldBetweenEvents: false,
    ...(data.storeCurrency ? { storeCurrency: data.storeCurrency } : {}),
  });
  if (handled > 0) port.postMessage({ type: 'handled', count: handled });
  if (moved + handled > 0) lastWorkAt = Date.now();
  // Nothing to do for a while: end, and let the next event start a thread again.
  else if (Date.now() - lastWorkAt >= data.idleExitMs) setImmediate(() => void end());
  return moved + handled;
}

/** Stops the loop, moves what was acknowledged meanwhile into the store, and ends the thread. */
async function end(): Promise<void> {
  if (ending) return;
  ending = true;
  await worker.stop();
  try {
    await moveAllIntakeIntoStore(intake, db);
    checkpointIntake(intake, { truncate: true });
  } catch (error) {
    logger.error({ err: error }, 'moving the last acknowledged events failed; they stay in the intake file for the next start');
  }
  closeIntakeFile(intake);
  await db.destroy();
  port.close();
}

const worker = startWorker({ name: 'inbound-events', logger, intervalMs: data.intervalMs, runOnce: pass });

port.on('message', (message: ToInboundThread) => {
  if (message.type === 'wake') worker.wake();
  else void end();
});
