import { createHmac, randomUUID } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { AppDeps, Context } from '../../context.ts';
import type { Config } from '../../config.ts';
import type { TxClient } from '../../db/client.ts';
import type { AuditEvent, WorkflowDelivery } from '../../generated/prisma-sqlite/client.ts';
import { escapeSlack, matchesFilters, render, retryDelayMs, sampleVariables, triggerOf, type Subject, type Variables, type WorkflowTrigger } from './workflow.rules.ts';
import { Mailer, postJson, type SendOutcome } from './workflow.transport.ts';
import { recordWorkflowDelivery } from '../../lib/metrics.ts';
import { openWorkflowValue, parseWorkflow, type ParsedWorkflow } from './workflow.service.ts';

// The workflow worker. The audit log is the outbox: every access and every request transition appends an audit
// entry in its own transaction, so "it happened" and "it will be notified" cannot disagree. The worker tails each
// organization's chain from a persisted cursor, turns matching entries into delivery rows (idempotent: unique per
// workflow, entry and action) in the same transaction that moves the cursor, then sends due deliveries, each
// claimed by a conditional update so that several instances on one database send each attempt once.

const MATCH_BATCH = 100;
const SEND_BATCH = 50;
/** How long a claimed delivery belongs to its sender; an instance that died mid-send loses it after this. */
const LEASE_MS = 60_000;

export type WorkflowRun = { matched: number; sent: number };

const mailers = new WeakMap<Config, Mailer>();
function mailerFor(config: Config): Mailer {
  let m = mailers.get(config);
  if (!m) {
    m = new Mailer(config.smtpUrl, config.smtpFrom);
    mailers.set(config, m);
  }
  return m;
}

// --- matching: audit entries → deliveries ---

type Facts = { subject: Subject; vars: Variables };

/** What templates and filters see of an entry: the credential, people and request as they are now; no secret. */
async function loadFacts(tx: TxClient, e: AuditEvent): Promise<Facts> {
  const data = JSON.parse(e.data) as Record<string, unknown>;
  const org = await tx.organization.findUnique({ where: { id: e.organizationId! }, select: { name: true, status: true } });
  const user = e.actorUserId ? await tx.user.findUnique({ where: { id: e.actorUserId }, select: { email: true, name: true } }) : null;
  const apiKey = !user && e.actorApiKeyId ? await tx.apiKey.findUnique({ where: { id: e.actorApiKeyId }, select: { name: true } }) : null;
  const request =
    e.targetType === 'AccessRequest' && e.targetId
      ? await tx.accessRequest.findUnique({ where: { id: e.targetId }, include: { requester: { select: { email: true } } } })
      : null;
  const credentialId = e.targetType === 'Credential' ? e.targetId : (request?.credentialId ?? null);
  const credential = credentialId ? await tx.credential.findUnique({ where: { id: credentialId }, include: { category: { select: { name: true } } } }) : null;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const at = e.at.toISOString();
  const vars: Variables = {
    occurredAt: at,
    'organization.name': org?.name ?? '',
    'organization.status': org?.status ?? '',
    'actor.email': user?.email ?? '',
    'actor.name': user?.name ?? apiKey?.name ?? '',
    'credential.name': credential?.name ?? request?.credentialName ?? '',
    'credential.username': credential?.username ?? '',
    'credential.url': credential?.url ?? '',
    'credential.category': credential?.category?.name ?? '',
    'credential.id': credentialId ? encodeGlobalID('Credential', credentialId) : '',
    surface: str(data.surface),
    field: str(data.field),
    accessedAt: e.action.startsWith('credential.') ? at : '',
    'request.id': request ? encodeGlobalID('AccessRequest', request.id) : '',
    'request.state': str(data.to) || str(data.state) || (request?.state ?? ''),
    'request.reason': request?.reason ?? '',
    'request.ticketNumber': request?.ticketNumber ?? '',
    'request.requester.email': request?.requester.email ?? '',
    'request.comment': str(data.comment),
    'request.startsAt': request?.startsAt.toISOString() ?? '',
    'request.endsAt': request?.endsAt.toISOString() ?? '',
  };
  const subject: Subject = {
    credentialId,
    organizationStatus: org?.status ?? '',
    updatedById: credential?.updatedById ?? null,
    categoryId: credential?.categoryId ?? null,
    name: vars['credential.name'],
    username: credential?.username ?? null,
    url: credential?.url ?? null,
    notes: credential?.notes ?? null,
  };
  return { subject, vars };
}

/** One batch of one organization's chain; returns deliveries created and whether more entries wait. */
async function matchChainBatch(deps: AppDeps, chain: string, workflows: ParsedWorkflow[]): Promise<{ created: number; more: boolean }> {
  const minStart = Math.min(...workflows.map((w) => w.startSeq));
  let cursor = await deps.db.workflowCursor.findUnique({ where: { chain } });
  if (!cursor) {
    await deps.db.$executeRaw`INSERT INTO "WorkflowCursor" ("chain", "seq") VALUES (${chain}, ${minStart}) ON CONFLICT ("chain") DO NOTHING`;
    cursor = await deps.db.workflowCursor.findUniqueOrThrow({ where: { chain } });
  }
  const from = Math.max(cursor.seq, minStart);
  const entries = await deps.db.auditEvent.findMany({ where: { chain, seq: { gt: from } }, orderBy: { seq: 'asc' }, take: MATCH_BATCH });
  if (entries.length === 0) return { created: 0, more: false };
  const to = entries[entries.length - 1].seq;
  const now = deps.clock.now();
  const created = await deps.db.$transaction(
    async (tx) => {
      // The cursor moves first: on PostgreSQL its row lock makes a second instance wait here, then find the
      // cursor moved and give up this batch, so matching runs once per entry.
      const { count } = await tx.workflowCursor.updateMany({ where: { chain, seq: cursor.seq }, data: { seq: to } });
      if (count !== 1) return -1;
      let n = 0;
      for (const e of entries) {
        const trigger = triggerOf(e.action, JSON.parse(e.data) as Record<string, unknown>);
        if (!trigger) continue;
        const candidates = workflows.filter((w) => w.trigger === trigger && e.seq > w.startSeq);
        if (candidates.length === 0) continue;
        const facts = await loadFacts(tx, e);
        for (const w of candidates) {
          if (!matchesFilters(w.filters, facts.subject)) continue;
          const variables = JSON.stringify({ ...facts.vars, 'workflow.name': w.name, event: trigger });
          for (const [actionIndex, action] of w.actions.entries()) {
            const key = { workflowId_chain_seq_actionIndex: { workflowId: w.id, chain, seq: e.seq, actionIndex } };
            // Idempotent by the unique key: re-reading an entry (a cursor set back) never sends twice.
            if (await tx.workflowDelivery.findUnique({ where: key, select: { id: true } })) continue;
            await tx.workflowDelivery.create({
              data: {
                workflowId: w.id,
                organizationId: w.organizationId,
                chain,
                seq: e.seq,
                actionIndex,
                actionType: action.type,
                trigger,
                status: 'PENDING',
                maxAttempts: deps.config.workflowMaxAttempts,
                nextAttemptAt: now,
                variables,
                createdAt: now,
              },
            });
            n++;
          }
        }
      }
      return n;
    },
    { timeout: 30_000 },
  );
  return { created: Math.max(created, 0), more: created >= 0 && entries.length === MATCH_BATCH };
}

/** Reads every organization chain that has enabled workflows up to its head, creating deliveries. */
export async function enqueueWorkflowDeliveries(deps: AppDeps): Promise<number> {
  const rows = await deps.db.workflow.findMany({ where: { enabled: true } });
  const byChain = new Map<string, ParsedWorkflow[]>();
  for (const r of rows) byChain.set(r.organizationId, [...(byChain.get(r.organizationId) ?? []), parseWorkflow(r)]);
  let total = 0;
  for (const [chain, workflows] of byChain) {
    for (;;) {
      const { created, more } = await matchChainBatch(deps, chain, workflows);
      total += created;
      if (!more) break;
    }
  }
  return total;
}

// --- sending ---

type Claimed = { delivery: WorkflowDelivery; workflow: ParsedWorkflow; attempt: number };

/** Takes a due delivery for this sender (conditional on the state it was read in) and records the attempt. */
async function claim(deps: AppDeps, d: WorkflowDelivery): Promise<Claimed | null> {
  const now = deps.clock.now();
  return deps.db.$transaction(async (tx) => {
    const { count } = await tx.workflowDelivery.updateMany({
      where: { id: d.id, status: d.status, attempts: d.attempts },
      data: { status: 'SENDING', attempts: { increment: 1 }, leaseUntil: new Date(now.getTime() + LEASE_MS) },
    });
    if (count !== 1) return null;
    const row = await tx.workflow.findUnique({ where: { id: d.workflowId } });
    if (!row || !row.enabled) {
      await tx.workflowDelivery.update({ where: { id: d.id }, data: { status: 'CANCELLED', attempts: d.attempts, leaseUntil: null, lastError: 'workflow disabled' } });
      return null;
    }
    // A sender that stopped mid-attempt never learnt the outcome; the receiver may have it (see X-Vaultgate-Delivery).
    await tx.workflowDeliveryAttempt.updateMany({ where: { deliveryId: d.id, outcome: 'SENDING' }, data: { outcome: 'INTERRUPTED', finishedAt: now } });
    const attempt = d.attempts + 1;
    await tx.workflowDeliveryAttempt.create({ data: { deliveryId: d.id, number: attempt, startedAt: now, outcome: 'SENDING' } });
    return { delivery: { ...d, status: 'SENDING', attempts: attempt }, workflow: parseWorkflow(row), attempt };
  });
}

/** `{ "credential.name": x }` → `{ credential: { name: x } }`, for the webhook's JSON. */
function nested(vars: Variables): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(vars)) {
    const parts = k.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]] = v;
  }
  return out;
}

export const signatureHeader = (secret: string, timestamp: number, body: string) =>
  `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;

/** Performs one attempt. Secrets used here (signing key, Slack URL) go to the transport only, never into a message. */
async function perform(deps: AppDeps, c: Claimed): Promise<SendOutcome> {
  const { delivery: d, workflow: w } = c;
  const vars = JSON.parse(d.variables) as Variables;
  const mailer = mailerFor(deps.config);
  const allowPrivate = deps.config.workflowAllowPrivateWebhooks;
  if (d.actionType === 'FAILURE_NOTICE') {
    if (!w.failureEmail) return { ok: false, statusCode: null, error: 'no failure email address' };
    const body =
      `The workflow "${w.name}" could not deliver ${vars['failure.actionType']} ${vars['failure.consecutive']} time(s) in a row.\n` +
      `Last error: ${vars['failure.error']}\nAttempts: ${vars['failure.attempts']}\n\nSee the workflow's delivery log in vaultgate.`;
    return mailer.send({ to: [w.failureEmail], subject: render(`vaultgate: workflow "{{workflow.name}}" keeps failing`, vars, 'header'), text: body, html: render(body, {}, 'html') });
  }
  const action = w.actions[d.actionIndex];
  if (!action || action.type !== d.actionType) return { ok: false, statusCode: null, error: 'the action was removed from the workflow' };
  switch (action.type) {
    case 'EMAIL':
      return mailer.send({ to: action.recipients, subject: render(action.subject, vars, 'header'), text: render(action.body, vars, 'text'), html: render(action.body, vars, 'html') });
    case 'WEBHOOK': {
      const secret = await openWorkflowValue(deps.db, deps.keyring, w.organizationId, w.id, 'SIGNING_SECRET', w.signingSecret);
      const body = JSON.stringify({
        id: d.id,
        event: d.trigger,
        test: d.test,
        workflow: { id: encodeGlobalID('Workflow', w.id), name: w.name },
        occurredAt: vars.occurredAt,
        data: nested(vars),
      });
      const timestamp = Math.floor(deps.clock.now().getTime() / 1000);
      return postJson({
        url: action.url,
        body,
        allowPrivate,
        headers: { 'x-vaultgate-signature': signatureHeader(secret, timestamp, body), 'x-vaultgate-delivery': d.id, 'x-vaultgate-event': d.trigger },
      });
    }
    case 'SLACK': {
      const url = await openWorkflowValue(deps.db, deps.keyring, w.organizationId, w.id, 'SLACK_URL', action.sealedUrl);
      const text = render(action.message, vars, 'slack');
      const body = JSON.stringify({
        text,
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text } },
          { type: 'context', elements: [{ type: 'mrkdwn', text: `vaultgate · ${escapeSlack(w.name)} · ${d.trigger}` }] },
        ],
      });
      return postJson({ url, body, allowPrivate, headers: {} });
    }
  }
}

/** Records the outcome; schedules the next attempt (exponential backoff) or gives up and tells failureEmail. */
async function finish(deps: AppDeps, c: Claimed, outcome: SendOutcome): Promise<void> {
  const { delivery: d, workflow: w, attempt } = c;
  const now = deps.clock.now();
  const error = outcome.error?.slice(0, 500) ?? null;
  await deps.db.$transaction(async (tx) => {
    await tx.workflowDeliveryAttempt.updateMany({
      where: { deliveryId: d.id, number: attempt, outcome: 'SENDING' },
      data: { outcome: outcome.ok ? 'DELIVERED' : 'FAILED', finishedAt: now, statusCode: outcome.statusCode, error },
    });
    const mine = { id: d.id, status: 'SENDING', attempts: attempt };
    const counts = !d.test && d.actionIndex >= 0;
    if (outcome.ok) {
      const { count } = await tx.workflowDelivery.updateMany({ where: mine, data: { status: 'DELIVERED', deliveredAt: now, leaseUntil: null, lastError: null } });
      if (count === 1) recordWorkflowDelivery('delivered');
      if (count === 1 && counts) await tx.workflow.updateMany({ where: { id: w.id }, data: { consecutiveFailures: 0 } });
      return;
    }
    if (attempt < d.maxAttempts) {
      const { count } = await tx.workflowDelivery.updateMany({ where: mine, data: { status: 'PENDING', leaseUntil: null, lastError: error, nextAttemptAt: new Date(now.getTime() + retryDelayMs(deps.config.workflowRetryBaseMs, attempt)) } });
      if (count === 1) recordWorkflowDelivery('retrying');
      return;
    }
    const { count } = await tx.workflowDelivery.updateMany({ where: mine, data: { status: 'FAILED', leaseUntil: null, lastError: error } });
    if (count === 1) recordWorkflowDelivery('failed');
    if (count !== 1 || !counts) return;
    const updated = await tx.workflow.update({ where: { id: w.id }, data: { consecutiveFailures: { increment: 1 } } });
    // Once per streak: when the count reaches the threshold (a success resets it).
    if (!updated.failureEmail || updated.consecutiveFailures !== updated.failureThreshold) return;
    const key = { workflowId_chain_seq_actionIndex: { workflowId: w.id, chain: d.chain, seq: d.seq, actionIndex: -1 } };
    if (await tx.workflowDelivery.findUnique({ where: key, select: { id: true } })) return;
    await tx.workflowDelivery.create({
      data: {
        workflowId: w.id,
        organizationId: w.organizationId,
        chain: d.chain,
        seq: d.seq,
        actionIndex: -1,
        actionType: 'FAILURE_NOTICE',
        trigger: d.trigger,
        status: 'PENDING',
        maxAttempts: deps.config.workflowMaxAttempts,
        nextAttemptAt: now,
        variables: JSON.stringify({
          'workflow.name': w.name,
          'failure.actionType': d.actionType,
          'failure.error': error ?? 'unknown',
          'failure.attempts': String(attempt),
          'failure.consecutive': String(updated.consecutiveFailures),
        }),
        createdAt: now,
      },
    });
  });
}

/** Sends every delivery that is due (or whose sender's lease ran out). Returns how many attempts were made. */
export async function sendDueDeliveries(deps: AppDeps): Promise<number> {
  let total = 0;
  for (;;) {
    const now = deps.clock.now();
    const due = await deps.db.workflowDelivery.findMany({
      where: { OR: [{ status: 'PENDING', nextAttemptAt: { lte: now } }, { status: 'SENDING', leaseUntil: { lte: now } }] },
      orderBy: { nextAttemptAt: 'asc' },
      take: SEND_BATCH,
    });
    let attempted = 0;
    for (const d of due) {
      const c = await claim(deps, d);
      if (!c) continue;
      attempted++;
      let outcome: SendOutcome;
      try {
        outcome = await perform(deps, c);
      } catch (err) {
        deps.logger.warn({ err, deliveryId: d.id }, 'workflow delivery failed unexpectedly');
        outcome = { ok: false, statusCode: null, error: 'internal error' };
      }
      await finish(deps, c, outcome);
    }
    total += attempted;
    // Another round while anything was attempted: a give-up may have queued a failure notice that is due now.
    // Failed attempts are due again only after their backoff, so this ends.
    if (attempted === 0) return total;
  }
}

/** One sample through one action of a workflow, now, once: the delivery is claimed by its creator. */
export async function sendTestDelivery(ctx: Context, workflow: ParsedWorkflow, actionIndex: number): Promise<SendOutcome> {
  const now = ctx.clock.now();
  const delivery = await ctx.db.$transaction(async (tx) => {
    const d = await tx.workflowDelivery.create({
      data: {
        workflowId: workflow.id,
        organizationId: workflow.organizationId,
        chain: `test:${randomUUID()}`,
        seq: 0,
        actionIndex,
        actionType: workflow.actions[actionIndex].type,
        trigger: workflow.trigger,
        status: 'SENDING',
        attempts: 1,
        maxAttempts: 1,
        nextAttemptAt: now,
        leaseUntil: new Date(now.getTime() + LEASE_MS),
        variables: JSON.stringify(sampleVariables(workflow.name, workflow.trigger as WorkflowTrigger)),
        test: true,
        createdAt: now,
      },
    });
    await tx.workflowDeliveryAttempt.create({ data: { deliveryId: d.id, number: 1, startedAt: now, outcome: 'SENDING' } });
    return d;
  });
  const claimed: Claimed = { delivery, workflow, attempt: 1 };
  let outcome: SendOutcome;
  try {
    outcome = await perform(ctx, claimed);
  } catch (err) {
    ctx.logger.warn({ err, deliveryId: delivery.id }, 'workflow test delivery failed unexpectedly');
    outcome = { ok: false, statusCode: null, error: 'internal error' };
  }
  await finish(ctx, claimed, outcome);
  return outcome;
}

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
  let running: Promise<WorkflowRun> = Promise.resolve({ matched: 0, sent: 0 });
  let queued = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const once = () => runWorkflowsOnce(deps);
  const runNow = () => {
    running = running.then(once, once);
    running.catch((error) => deps.logger.error({ err: error }, 'workflow run failed'));
    return running;
  };
  const wake = () => {
    if (stopped || queued) return;
    queued = true;
    void running.finally(() => {
      queued = false;
      if (!stopped) void runNow().catch(() => undefined);
    });
  };
  const loop = () => {
    if (stopped) return;
    void runNow()
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, intervalMs);
      });
  };
  let unsubscribe = () => {};
  if (intervalMs > 0) {
    const offAppended = deps.events.subscribe('audit.appended', (e) => {
      if (e.organizationId) wake();
    });
    // Other instances' notifications may have been missed (docs/outages.md): look now rather than at the next poll.
    const offResync = deps.events.subscribe('events.resync', wake);
    unsubscribe = () => {
      offAppended();
      offResync();
    };
    loop();
  }
  return {
    runNow,
    async stop() {
      stopped = true;
      unsubscribe();
      if (timer) clearTimeout(timer);
      await running.catch(() => undefined);
      mailers.get(deps.config)?.close();
      mailers.delete(deps.config);
    },
  };
}
