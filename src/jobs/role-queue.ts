import { exponentialDelayMs, withJitter, type ExponentialBackoff, type Jitter } from '../shared/backoff.js';
import type { Clock } from '../shared/clock.js';
import { purgeErasedRoleTraces } from '../domain/privacy/erasure.js';
import { assignmentState, backfillRoleRules, OPEN_JOB_STATUSES, setAssignment, sweepTimedRoleChanges } from '../domain/roles/sync.js';
import { raiseStaffAlert, releaseStaffAlertKeys } from '../domain/alerts/staff-alerts.js';
import type { Logger } from '../logger.js';
import { inTransaction, type Db } from '../store/database.js';
import { claimRow, listDue, releaseLeasesOf, settleClaim, type LeaseQueue } from '../store/lease-queue.js';
import type { RoleJobRow, RoleJobStatus } from '../store/schema/index.js';
import { startWorker, type Worker } from './worker.js';
import type { RoleCallResult, RoleGateway, RoleProblemKind } from '../domain/roles/ports.js';

export interface ProcessRoleJobsOptions {
  /** Jobs handled per call at most. */
  limit?: number;
  /** Jitter source, for tests; Math.random by default. */
  random?: () => number;
  logger?: Logger | undefined;
  /** This process's id, recorded on each claim so that only a dead process's claims are recovered. */
  holder?: string | undefined;
}

/** A worker holds a job this long; a crashed worker's job is picked up again after it. */
export const ROLE_JOB_LEASE_MS = 10 * 60_000;
export const ROLE_JOB_MAX_ATTEMPTS = 12;
const RETRY_BACKOFF: ExponentialBackoff = { firstMs: 5_000, capMs: 15 * 60_000 };
/** Half to all of the delay, so no retry waits past the cap. */
const RETRY_JITTER: Jitter = { floor: 0.5, spread: 0.5 };
/** A job blocked on permissions is tried again this often, in case staff fixed it without saying. */
export const ATTENTION_RETRY_MS = 60 * 60_000;
/** A member who joined while the bot was offline sent no join event: look again daily. */
export const WAITING_MEMBER_RETRY_MS = 24 * 60 * 60_000;

/** Exponential from 5 s, capped at 15 min, with jitter so a burst of failures does not retry in step. */
export function roleRetryDelayMs(attempts: number, random: () => number = Math.random): number {
  return withJitter(exponentialDelayMs(attempts, RETRY_BACKOFF), RETRY_JITTER, random());
}

/** Staff alerts about one role are deduplicated per problem kind and role. */
export function roleAlertKey(kind: RoleProblemKind | 'retry_exhausted', roleId: string): string {
  return `role:${kind}:${roleId}`;
}

const ALERTED_KINDS = ['missing_permissions', 'role_above_bot', 'unknown_role', 'dangerous_role', 'retry_exhausted'] as const;

function describe(job: RoleJobRow): string {
  return job.action === 'add' ? `give <@&${job.role_id}> to <@${job.discord_user_id}>` : `take <@&${job.role_id}> from <@${job.discord_user_id}>`;
}

/**
 * The role changes waiting for Discord, claimed soonest due first, one at a time just before each
 * call: the row as read before the claim tells whether an earlier claim never settled. A release
 * leaves the lease in the past for that reason (see {@link LeaseQueue.release}).
 */
export const ROLE_JOB_QUEUE: LeaseQueue<'role_jobs'> = {
  table: 'role_jobs',
  open: OPEN_JOB_STATUSES,
  order: ['next_attempt_at', 'id'],
  claimCountsAttempt: false,
  release: 'interrupt',
};

async function recordAssignment(db: Db, now: string, job: RoleJobRow, state: 'granted' | 'revoked'): Promise<void> {
  await setAssignment(db, now, { guildId: job.guild_id, discordUserId: job.discord_user_id, roleId: job.role_id }, job.customer_id, state);
}

/** Updates the job only while this worker still holds it and it is still open (not superseded). */
async function settle(
  db: Db,
  job: RoleJobRow,
  lease: string,
  patch: { status: RoleJobStatus; attempts?: number; next_attempt_at?: string; last_error?: string | null },
  now: string,
): Promise<boolean> {
  return settleClaim(db, ROLE_JOB_QUEUE, { id: job.id, lease }, { ...patch, updated_at: now });
}

/**
 * Runs due role jobs one at a time: claims each under a lease (no two calls for the same job at
 * once, across processes too), calls Discord through the gateway, then records the outcome.
 * An add whose member the bot already knows to hold the role (a duplicate, or a retry after a
 * crash between the call and the write) completes without a call; Discord's PUT is idempotent
 * anyway, so even a repeated call never grants twice. Returns how many jobs were handled.
 */
export async function processRoleJobs(db: Db, clock: Clock, gateway: RoleGateway, options: ProcessRoleJobsOptions = {}): Promise<number> {
  const limit = options.limit ?? 10;
  const random = options.random ?? Math.random;
  const due = await listDue(db, ROLE_JOB_QUEUE, clock.now().toISOString(), limit);

  let handled = 0;
  for (const job of due) {
    const lease = await claimRow(db, ROLE_JOB_QUEUE, job, clock.now(), { leaseMs: ROLE_JOB_LEASE_MS, holder: options.holder ?? null });
    if (!lease) continue;
    handled++;
    await runJob(db, clock, gateway, job, lease, random, options.logger);
  }
  return handled;
}

async function runJob(db: Db, clock: Clock, gateway: RoleGateway, job: RoleJobRow, lease: string, random: () => number, logger: Logger | undefined): Promise<void> {
  const wanted = job.action === 'add' ? 'granted' : 'revoked';
  // An expired lease means a worker claimed this job and never settled it: it died, maybe after
  // Discord had already applied the change. Look before calling again, so a crash at the worst
  // moment still never sends a second grant.
  if (job.lease_until !== null && gateway.memberHasRole) {
    const has = await gateway.memberHasRole(job.guild_id, job.discord_user_id, job.role_id).catch(() => null);
    if (has !== null && has === (job.action === 'add')) {
      await inTransaction(db, async (trx) => {
        const nowIso = clock.now().toISOString();
        await recordAssignment(trx, nowIso, job, wanted);
        await settle(trx, job, lease, { status: 'done', last_error: null }, nowIso);
      });
      return;
    }
  }
  if ((await assignmentState(db, job)) === wanted) {
    await settle(db, job, lease, { status: 'done', last_error: null }, clock.now().toISOString());
    return;
  }

  let result: RoleCallResult;
  try {
    result =
      job.action === 'add'
        ? await gateway.addRole(job.guild_id, job.discord_user_id, job.role_id, job.reason)
        : await gateway.removeRole(job.guild_id, job.discord_user_id, job.role_id, job.reason);
  } catch (error) {
    result = { ok: false, kind: 'retry', message: error instanceof Error ? error.message : String(error) };
  }
  await inTransaction(db, (trx) => recordCallOutcome(trx, clock, { job, lease, attempts: job.attempts + 1, result }, random, logger));
}

interface CallOutcome {
  job: RoleJobRow;
  lease: string;
  /** Counting the call just made. */
  attempts: number;
  result: RoleCallResult;
}

/** Records what Discord answered: done, waiting for the member, blocked for staff, or retried later. */
async function recordCallOutcome(trx: Db, clock: Clock, outcome: CallOutcome, random: () => number, logger: Logger | undefined): Promise<void> {
  const { job, lease, attempts, result } = outcome;
  const now = clock.now();
  const nowIso = now.toISOString();
  const later = (ms: number) => new Date(now.getTime() + ms).toISOString();
  // Someone without the member or the role no longer holds it: a removal is then done.
  const removalMoot = job.action === 'remove' && !result.ok && (result.kind === 'unknown_member' || result.kind === 'unknown_role');

  if (result.ok || removalMoot) {
    // The call happened: what Discord now holds is recorded even if the job was superseded meanwhile.
    await recordAssignment(trx, nowIso, job, job.action === 'add' ? 'granted' : 'revoked');
    await settle(trx, job, lease, { status: 'done', attempts, last_error: result.ok ? null : result.message }, nowIso);
    await releaseStaffAlertKeys(trx, ALERTED_KINDS.map((kind) => roleAlertKey(kind, job.role_id)));
    return;
  }
  switch (result.kind) {
    case 'unknown_member':
      await settle(trx, job, lease, { status: 'waiting_member', attempts, next_attempt_at: later(WAITING_MEMBER_RETRY_MS), last_error: result.message }, nowIso);
      return;
    case 'missing_permissions':
    case 'role_above_bot':
    case 'unknown_role':
    case 'dangerous_role': {
      const held = await settle(trx, job, lease, { status: 'needs_attention', attempts, next_attempt_at: later(ATTENTION_RETRY_MS), last_error: result.message }, nowIso);
      if (!held) return;
      logger?.warn({ job: job.id, roleId: job.role_id, kind: result.kind }, 'role change needs staff attention');
      await raiseStaffAlert(trx, clock, {
        kind: 'role_problem',
        dedupeKey: roleAlertKey(result.kind, job.role_id),
        message:
          `⚠️ The bot could not ${describe(job)}. ${result.message}\n` +
          'Waiting role changes are retried every hour, or at once with the Re-sync button of `/customer roles`.',
      });
      return;
    }
    case 'retry':
      if (attempts >= ROLE_JOB_MAX_ATTEMPTS) await giveUp(trx, clock, outcome, { message: result.message, nowIso }, logger);
      else await settle(trx, job, lease, { status: 'pending', attempts, next_attempt_at: later(roleRetryDelayMs(attempts, random)), last_error: result.message }, nowIso);
      return;
  }
}

/** The last retry failed: the job fails for good and staff are told how to queue it again. */
async function giveUp(
  trx: Db,
  clock: Clock,
  { job, lease, attempts }: CallOutcome,
  { message, nowIso }: { message: string; nowIso: string },
  logger: Logger | undefined,
): Promise<void> {
  const held = await settle(trx, job, lease, { status: 'failed', attempts, last_error: message }, nowIso);
  if (!held) return;
  logger?.warn({ job: job.id, roleId: job.role_id, attempts }, 'role change failed for good');
  await raiseStaffAlert(trx, clock, {
    kind: 'role_problem',
    dedupeKey: roleAlertKey('retry_exhausted', job.role_id),
    message:
      `⚠️ The bot gave up trying to ${describe(job)} after ${attempts} attempts (last error: ${message}).\n` +
      'Press Re-sync in `/customer roles` for the customer to queue it again.',
  });
}

/**
 * Jobs still leased by a dead process are made due now instead of when their lease runs out.
 * Their lease stays set, in the past, which tells the worker the call may already have happened.
 * `holders` names the dead processes (null: claims recorded without a holder); without it every
 * lease is taken, which is right only when no other bot process can be running.
 */
export async function recoverInterruptedRoleJobs(db: Db, clock: Clock, holders?: readonly (string | null)[]): Promise<number> {
  return releaseLeasesOf(db, clock, ROLE_JOB_QUEUE, holders);
}

export interface RoleQueueWorkerOptions {
  db: Db;
  clock: Clock;
  gateway: RoleGateway;
  logger: Logger;
  /** Idle poll; new jobs usually arrive with a wake(). Default 5 s. */
  intervalMs?: number;
  limit?: number;
  holder?: string;
}

/** The role queue as a background loop; `wake()` it after storing jobs. */
export function startRoleQueueWorker(options: RoleQueueWorkerOptions): Worker {
  return startWorker({
    name: 'role-queue',
    logger: options.logger,
    intervalMs: options.intervalMs ?? 5_000,
    runOnce: () => processRoleJobs(options.db, options.clock, options.gateway, { limit: options.limit ?? 10, logger: options.logger, holder: options.holder }),
  });
}

export interface RoleSweepWorkerOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Default one minute: a subscription's role ends within a minute of its period. */
  intervalMs?: number;
  /** Called when the sweep or a backfill queued role changes (wake the role queue). */
  onEnqueued?: () => void;
}

/**
 * Time-based role changes (subscription ends, grace periods, expired bans) and the backfill of
 * new rules, as a background loop.
 */
export function startRoleSweepWorker(options: RoleSweepWorkerOptions): Worker {
  return startWorker({
    name: 'role-sweep',
    logger: options.logger,
    intervalMs: options.intervalMs ?? 60_000,
    runOnce: async () => {
      const swept = await sweepTimedRoleChanges(options.db, options.clock);
      const backfilled = await backfillRoleRules(options.db, options.clock);
      // Erased customers' Discord ids stay on their role removals only until those are over.
      await purgeErasedRoleTraces(options.db, options.clock);
      if (swept.reconciled + backfilled > 0) options.onEnqueued?.();
      // Only a backfill with more to do makes the loop go again at once.
      return backfilled;
    },
  });
}
