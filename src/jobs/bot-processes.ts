import { randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../logger.js';
import { inTransaction, type Db } from '../store/database.js';
import { INBOUND_EVENT_QUEUE, releaseInboundEventLeases } from '../store/purchase-event.repository.js';
import { acquireLease, deleteExpiredLeases, listLiveLeases, releaseLease } from '../store/leader-lease.js';
import { leaseHolders } from '../store/lease-queue.js';
import { recoverInterruptedRoleJobs, ROLE_JOB_QUEUE } from './role-queue.js';
import { releaseWebhookDeliveryLeases, WEBHOOK_DELIVERY_QUEUE } from './webhook-deliveries.js';

// Several bot processes may share one database. Each has an id, recorded on every queue row it
// claims, and a heartbeat lease `process:<id>` that it renews while it runs. A claim whose holder
// has no live heartbeat belonged to a process that died: it is released at once instead of when
// its own (longer) lease runs out. A live process's claims are never touched.

export const PROCESS_LEASE_PREFIX = 'process:';
/** A process that has not renewed its heartbeat for this long is taken for dead. */
export const PROCESS_LEASE_TTL_MS = 30_000;
/** How often heartbeats are renewed and dead processes looked for. */
export const PROCESS_HEARTBEAT_MS = 5_000;
/** Heartbeat rows of processes gone this long are deleted. */
const FORGET_AFTER_MS = 24 * 60 * 60_000;

function pidNamespace(): string {
  try {
    // "pid:[4026531836]": two containers may share a host name and even a pid, never this.
    return readlinkSync('/proc/self/ns/pid').replace(/\D/g, '');
  } catch {
    return '';
  }
}

/** A new id for this process: host, pid namespace and pid (for {@link isLocalProcessGone}), and a random part. */
export function newProcessId(): string {
  return [hostname(), pidNamespace(), String(process.pid), randomBytes(4).toString('hex')].join('/');
}

/**
 * True only when `id` names a process on this machine (same host name and pid namespace) whose
 * pid no longer exists: a SIGKILLed neighbour is then replaced at once rather than after its
 * lease expires. Anything uncertain (another machine, no namespace to compare, a reused pid)
 * answers false, and the expiry decides.
 */
export function isLocalProcessGone(id: string): boolean {
  const [host, namespace, pid] = id.split('/');
  if (host !== hostname() || !namespace || namespace !== pidNamespace() || !pid || !/^\d+$/.test(pid)) return false;
  if (Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface RecoveredLeases {
  events: number;
  roleJobs: number;
  deliveries: number;
}

/**
 * Releases the queue claims of processes that are dead: no live heartbeat, or gone from this
 * machine (`isGone`). Claims recorded without a holder came from a version that ran one process
 * per database and count as dead too. `self` is never taken for dead.
 */
export async function releaseLeasesOfDeadProcesses(db: Db, clock: Clock, self: string, isGone: (id: string) => boolean = isLocalProcessGone): Promise<RecoveredLeases> {
  const nowIso = clock.now().toISOString();
  const live = new Set((await listLiveLeases(db, clock, PROCESS_LEASE_PREFIX)).filter((lease) => !isGone(lease.holder)).map((lease) => lease.holder));
  live.add(self);
  const holders = new Set<string | null>();
  for (const queue of [INBOUND_EVENT_QUEUE, ROLE_JOB_QUEUE, WEBHOOK_DELIVERY_QUEUE]) {
    for (const holder of await leaseHolders(db, queue, nowIso)) if (holder === null || !live.has(holder)) holders.add(holder);
  }
  if (holders.size === 0) return { events: 0, roleJobs: 0, deliveries: 0 };
  const dead = [...holders];
  return inTransaction(db, async (trx) => ({
    events: await releaseInboundEventLeases(trx, clock, dead),
    roleJobs: await recoverInterruptedRoleJobs(trx, clock, dead),
    deliveries: await releaseWebhookDeliveryLeases(trx, clock, dead),
  }));
}

export interface ProcessPresence {
  readonly id: string;
  /** Renews the heartbeat and releases dead processes' claims now (also runs every few seconds). */
  check(): Promise<RecoveredLeases>;
  /** Stops the heartbeat and removes it, so others know at once that this process is gone. */
  stop(): Promise<void>;
}

export interface ProcessPresenceOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  id?: string;
  intervalMs?: number;
  ttlMs?: number;
  /** Called when dead processes' claims were released (wake the queues). */
  onRecovered?: (recovered: RecoveredLeases) => void;
}

/** Starts this process's heartbeat and the periodic release of dead processes' claims. */
export async function startProcessPresence(options: ProcessPresenceOptions): Promise<ProcessPresence> {
  const { db, clock, logger } = options;
  const id = options.id ?? newProcessId();
  const ttlMs = options.ttlMs ?? PROCESS_LEASE_TTL_MS;
  const name = `${PROCESS_LEASE_PREFIX}${id}`;

  const check = async (): Promise<RecoveredLeases> => {
    await acquireLease(db, clock, { name, holder: id, ttlMs });
    const recovered = await releaseLeasesOfDeadProcesses(db, clock, id);
    if (recovered.events + recovered.roleJobs + recovered.deliveries > 0) {
      logger.warn(recovered, 'resumed work a stopped bot process had claimed');
      options.onRecovered?.(recovered);
    }
    await deleteExpiredLeases(db, PROCESS_LEASE_PREFIX, new Date(clock.now().getTime() - FORGET_AFTER_MS));
    return recovered;
  };

  await acquireLease(db, clock, { name, holder: id, ttlMs });
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    running ??= check()
      .catch((error: unknown) => logger.warn({ err: error }, 'process heartbeat failed'))
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs ?? PROCESS_HEARTBEAT_MS);
  timer.unref();

  return {
    id,
    check,
    async stop() {
      clearInterval(timer);
      await running;
      await releaseLease(db, name, id);
    },
  };
}
