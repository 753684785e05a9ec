import { encodeGlobalID } from '@pothos/plugin-relay';
import { createHmac, randomUUID } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { AppDeps, Context } from '../../context.ts';
import type { WorkflowDelivery } from '../../generated/prisma-sqlite/client.ts';
import { recordWorkflowDelivery } from '../../lib/metrics.ts';
import { escapeSlack, render, retryDelayMs, sampleVariables, type Variables, type WorkflowTrigger } from './workflow.rules.ts';
import { openWorkflowValue, parseWorkflow, type ParsedWorkflow } from './workflow.definition.ts';
import { Mailer, postJson, type SendOutcome } from './workflow.transport.ts';

// Delivery: due deliveries are claimed by a conditional update (status, lease) so that several instances on one
// database send each attempt once; each attempt is written before the request leaves and completed after it.

const SEND_BATCH = 50;
/** How long a claimed delivery belongs to its sender; an instance that died mid-send loses it after this. */
const LEASE_MS = 60_000;

const mailers = new WeakMap<Config, Mailer>();
function mailerFor(config: Config): Mailer {
  let m = mailers.get(config);
  if (!m) {
    m = new Mailer(config.smtpUrl, config.smtpFrom);
    mailers.set(config, m);
  }
  return m;
}

/** Closes the SMTP pool of this configuration, if one was opened (the worker's stop()). */
export function closeMailer(config: Config): void {
  mailers.get(config)?.close();
  mailers.delete(config);
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
