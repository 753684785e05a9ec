import type { AppDeps } from '../../context.ts';
import { startPeriodic } from '../../lib/periodic.ts';
import { closeMailer, sendDueDeliveries } from './workflow.delivery.ts';
import { enqueueWorkflowDeliveries } from './workflow.matching.ts';

// The workflow worker. The audit log is the outbox: every access and every request transition appends an audit
// entry in its own transaction, so "it happened" and "it will be notified" cannot disagree. The worker tails each
// organization's chain from a persisted cursor, turns matching entries into delivery rows (idempotent: unique per
// workflow, entry and action) in the same transaction that moves the cursor, then sends due deliveries, each
// claimed by a conditional update so that several instances on one database send each attempt once.

export type WorkflowRun = { matched: number; sent: number };

export async function runWorkflowsOnce(deps: AppDeps): Promise<WorkflowRun> {
  const matched = await enqueueWorkflowDeliveries(deps);
  const sent = await sendDueDeliveries(deps);
  return { matched, sent };
}

export type WorkflowWorker = { runNow(): Promise<WorkflowRun>; stop(): Promise<void> };

/**
 * Runs on an interval and whenever an audit entry is appended (`audit.appended`, sent after commit; a spurious
 * wake-up only costs a cursor read). Interval 0: only when asked (runNow), which is how tests drive it.
 * Runs never overlap in one process; stop() waits for the one in progress.
 */
export function startWorkflowWorker(deps: AppDeps): WorkflowWorker {
  const intervalMs = deps.config.workflowPollIntervalMs;
  const runner = startPeriodic<WorkflowRun>({
    run: () => runWorkflowsOnce(deps),
    idle: { matched: 0, sent: 0 },
    intervalMs,
    runAtStart: false,
    onError: (error) => deps.logger.error({ err: error }, 'workflow run failed'),
  });
  let unsubscribe = () => {};
  if (intervalMs > 0) {
    const offAppended = deps.events.subscribe('audit.appended', (e) => {
      if (e.organizationId) runner.wake();
    });
    // Other instances' notifications may have been missed (docs/outages.md): look now rather than at the next poll.
    const offResync = deps.events.subscribe('events.resync', runner.wake);
    unsubscribe = () => {
      offAppended();
      offResync();
    };
  }
  return {
    runNow: runner.runNow,
    async stop() {
      unsubscribe();
      await runner.stop();
      closeMailer(deps.config);
    },
  };
}
