import type { AppDeps, Context } from '../../context.ts';
import type { DomainEvent } from '../../lib/events.ts';
import { recordSchedulerRun } from '../../lib/metrics.ts';
import { startPeriodic } from '../../lib/periodic.ts';
import { anonymousPolicy } from '../../policy/policy.ts';
import { announceAppended } from '../audit/audit.chain.ts';
import { dueTransitions, type RequestState } from './accessRequest.state.ts';
import { applyTimed, publish, timedData } from './accessRequest.commands.ts';
import { runDueTargetChanges, runScheduledTargetChecks } from '../target/target.service.ts';

// Time-driven transitions (start, end, pending timeout), persisted by the scheduler with no actor.

// --- the clock ---

/** A context for work nobody asked for in a request: the scheduler's. Audited with no actor. */
export function systemContext(deps: AppDeps): Context {
  return {
    ...deps,
    policy: anonymousPolicy(),
    request: { requestId: 'scheduler', clientAddress: null, userAgent: null },
    auditTouched: new Set(),
    refusals: [],
    reauthenticate: async () => anonymousPolicy(),
  };
}


/**
 * Persists every time-driven transition that is due: exactly once, even with several instances on one
 * database, because each is a conditional update on the row's version and only its winner writes history,
 * audit and the event. Returns how many requests moved.
 */
export async function runDueTransitions(deps: AppDeps, batch = 200): Promise<number> {
  let total = 0;
  for (;;) {
    const { found, moved } = await runDueBatch(deps, batch);
    total += moved;
    // A full batch may have more behind it (a restart after long downtime); stop when a batch moves nothing.
    if (found < batch || moved === 0) return total;
  }
}

async function runDueBatch(deps: AppDeps, limit: number): Promise<{ found: number; moved: number }> {
  const now = deps.clock.now();
  const due = await deps.db.accessRequest.findMany({
    where: {
      OR: [
        { state: 'PENDING', pendingExpiresAt: { lte: now } },
        { state: 'APPROVED', startsAt: { lte: now } },
        { state: 'AVAILABLE', endsAt: { lte: now } },
      ],
    },
    select: { id: true, version: true },
    orderBy: { startsAt: 'asc' },
    take: limit,
  });
  const ctx = systemContext(deps);
  let moved = 0;
  for (const { id, version } of due) {
    const events: DomainEvent[] = [];
    const done = await deps.db.$transaction(async (tx) => {
      const r = await tx.accessRequest.findUnique({ where: { id } });
      if (!r || r.version !== version) return false;
      const timed = dueTransitions({ state: r.state as RequestState, startsAt: r.startsAt, endsAt: r.endsAt, pendingExpiresAt: r.pendingExpiresAt }, now);
      if (timed.length === 0) return false;
      const { count } = await tx.accessRequest.updateMany({ where: { id, version }, data: { ...timedData(timed, r, now), version: { increment: 1 }, updatedAt: now } });
      if (count !== 1) return false;
      await applyTimed(ctx, tx, r, timed, events);
      return true;
    });
    if (done) {
      moved++;
      publish(deps, events);
      announceAppended(ctx);
    }
  }
  return { found: due.length, moved };
}

/** Runs due transitions now, then every interval; stop() waits for a run in progress. */
export function startScheduler(deps: AppDeps, intervalMs: number): { stop(): Promise<void>; runNow(): Promise<number> } {
  const { runNow, stop } = startPeriodic({
    run: async () => {
      const moved = await runDueTransitions(deps);
      // Changes on targets that ended requests asked for; network I/O, after the lifecycle's transactions.
      await runDueTargetChanges(systemContext(deps));
      // The periodic drift check of stored passwords against their targets (TARGET_CHECK_INTERVAL_HOURS).
      await runScheduledTargetChecks(systemContext(deps), deps.config.targetCheckIntervalMs);
      return moved;
    },
    idle: 0,
    intervalMs,
    runAtStart: true,
    onError: (error) => deps.logger.error({ err: error }, 'access-request scheduler run failed'),
    onTimedRun: recordSchedulerRun,
  });
  return { runNow, stop };
}
