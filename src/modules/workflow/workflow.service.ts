import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Context } from '../../context.ts';
import type { TxClient } from '../../db/client.ts';
import { ForbiddenError, ValidationError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { email, parseInput, text } from '../../lib/validate.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import {
  FILTER_FIELDS,
  FILTER_OPERATORS,
  ID_FILTER_FIELDS,
  operatorFits,
  unknownVariables,
  WORKFLOW_TRIGGERS,
  type WorkflowFilter,
} from './workflow.rules.ts';
import { urlRefusal } from './workflow.transport.ts';
import { sendTestDelivery } from './workflow.delivery.ts';
import { ACTION_TYPES, parseWorkflow, sealWorkflowValue, type ActionType, type ParsedWorkflow, type StoredAction } from './workflow.definition.ts';

// --- input ---

const template = (max: number) => text(max).superRefine((t, zc) => {
  const unknown = unknownVariables(t);
  if (unknown.length > 0) zc.addIssue({ code: 'custom', message: `unknown variable${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (see workflowVariables)` });
});

const actionInput = z.object({
  type: z.enum(ACTION_TYPES),
  recipients: z.array(email).max(20).nullish(),
  subject: template(300).nullish(),
  body: template(10_000).nullish(),
  url: z.string().trim().max(2000).nullish(),
  message: template(3000).nullish(),
});

const workflowInput = z.object({
  name: text(200),
  enabled: z.boolean().default(true),
  trigger: z.enum(WORKFLOW_TRIGGERS),
  filters: z
    .array(z.object({ field: z.enum(FILTER_FIELDS), operator: z.enum(FILTER_OPERATORS), values: z.array(z.string().trim().min(1).max(500)).min(1).max(200) }))
    .max(20)
    .default([]),
  actions: z.array(actionInput).min(1, 'add at least one action').max(10),
  failureEmail: email.nullish(),
  failureThreshold: z.number().int().min(1).max(100).default(1),
});

export type WorkflowInput = z.input<typeof workflowInput>;

const present = (v: string | null | undefined): v is string => typeof v === 'string' && v.trim().length > 0;

/** Checks filters against the organization and turns global ids into local ids; paths name the bad entry. */
async function resolveFilters(tx: TxClient, organizationId: string, filters: z.infer<typeof workflowInput>['filters']): Promise<WorkflowFilter[]> {
  const out: WorkflowFilter[] = [];
  for (const [i, f] of filters.entries()) {
    const path = `input.filters.${i}`;
    if (!operatorFits(f.field, f.operator)) {
      throw ValidationError.field(`${path}.operator`, (ID_FILTER_FIELDS as readonly string[]).includes(f.field) ? 'use ANY_OF or NONE_OF with this field' : 'use CONTAINS, DOES_NOT_CONTAIN, STARTS_WITH or ENDS_WITH with this field');
    }
    let values = [...new Set(f.values)];
    const ids = async (typename: string, found: (ids: string[]) => Promise<{ id: string }[]>) => {
      const local = values.map((g, j) => {
        try {
          return localId(g, typename);
        } catch {
          throw ValidationError.field(`${path}.values.${j}`, `not a ${typename} id`);
        }
      });
      const have = new Set((await found(local)).map((r) => r.id));
      const missing = local.findIndex((id) => !have.has(id));
      if (missing >= 0) throw ValidationError.field(`${path}.values.${missing}`, 'not found in this organization');
      return local;
    };
    switch (f.field) {
      case 'CREDENTIAL':
        values = await ids('Credential', (v) => tx.credential.findMany({ where: { organizationId, id: { in: v } }, select: { id: true } }));
        break;
      case 'CATEGORY':
        values = await ids('Category', (v) => tx.category.findMany({ where: { organizationId, id: { in: v } }, select: { id: true } }));
        break;
      case 'UPDATED_BY':
        values = await ids('User', (v) => tx.membership.findMany({ where: { organizationId, userId: { in: v } }, select: { userId: true } }).then((m) => m.map((x) => ({ id: x.userId }))));
        break;
      case 'ORGANIZATION_STATUS': {
        const bad = values.findIndex((v) => v !== 'ACTIVE' && v !== 'INACTIVE');
        if (bad >= 0) throw ValidationError.field(`${path}.values.${bad}`, 'must be ACTIVE or INACTIVE');
        break;
      }
      default:
        if (values.length !== 1) throw ValidationError.field(`${path}.values`, 'give exactly one text');
    }
    out.push({ field: f.field, operator: f.operator, values });
  }
  return out;
}

/** Validates the actions; Slack URLs are sealed (an omitted URL on update keeps the one stored at that position). */
async function resolveActions(
  ctx: Context,
  tx: TxClient,
  organizationId: string,
  workflowId: string,
  actions: z.infer<typeof workflowInput>['actions'],
  previous: StoredAction[],
): Promise<StoredAction[]> {
  const allowPrivate = ctx.config.workflowAllowPrivateWebhooks;
  const out: StoredAction[] = [];
  for (const [i, a] of actions.entries()) {
    const path = `input.actions.${i}`;
    const need = (name: 'recipients' | 'subject' | 'body' | 'url' | 'message') => ValidationError.field(`${path}.${name}`, `required for a ${a.type} action`);
    if (a.type === 'EMAIL') {
      if (!a.recipients || a.recipients.length === 0) throw need('recipients');
      if (!present(a.subject)) throw need('subject');
      if (!present(a.body)) throw need('body');
      out.push({ type: 'EMAIL', recipients: [...new Set(a.recipients)], subject: a.subject, body: a.body });
      continue;
    }
    const url = present(a.url) ? a.url : null;
    if (url) {
      const refused = urlRefusal(url, allowPrivate);
      if (refused) throw ValidationError.field(`${path}.url`, refused);
    }
    if (a.type === 'WEBHOOK') {
      if (!url) throw need('url');
      out.push({ type: 'WEBHOOK', url });
      continue;
    }
    if (!present(a.message)) throw need('message');
    const kept = previous[i]?.type === 'SLACK' ? (previous[i] as Extract<StoredAction, { type: 'SLACK' }>) : null;
    if (!url && !kept) throw need('url');
    out.push({
      type: 'SLACK',
      sealedUrl: url ? await sealWorkflowValue(tx, ctx.keyring, organizationId, workflowId, 'SLACK_URL', url) : kept!.sealedUrl,
      urlHint: url ? new URL(url).origin : kept!.urlHint,
      message: a.message,
    });
  }
  return out;
}

/** The audit record of a workflow: what it does, never its secret or a Slack URL. */
const auditShape = (w: ParsedWorkflow) => ({
  name: w.name,
  enabled: w.enabled,
  trigger: w.trigger,
  filters: w.filters,
  actions: w.actions.map((a) => (a.type === 'SLACK' ? { type: a.type, urlHint: a.urlHint } : a.type === 'WEBHOOK' ? { type: a.type, url: a.url } : { type: a.type, recipients: a.recipients })),
  failureEmail: w.failureEmail,
  failureThreshold: w.failureThreshold,
});

export const newSigningSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

export async function createWorkflow(ctx: Context, input: WorkflowInput & { organizationId: string }) {
  const organizationId = localId(input.organizationId, 'Organization');
  ctx.policy.assert('workflow:manage', { organizationId });
  const { organizationId: _o, ...rest } = input;
  const data = parseInput(workflowInput, rest);
  const signingSecret = newSigningSecret();
  const workflow = await ctx.db.$transaction(async (tx) => {
    const id = randomUUID();
    const filters = await resolveFilters(tx, organizationId, data.filters);
    const actions = await resolveActions(ctx, tx, organizationId, id, data.actions, []);
    const now = ctx.clock.now();
    const row = await tx.workflow.create({
      data: {
        id,
        organizationId,
        name: data.name,
        enabled: data.enabled,
        trigger: data.trigger,
        filters: JSON.stringify(filters),
        actions: JSON.stringify(actions),
        signingSecret: await sealWorkflowValue(tx, ctx.keyring, organizationId, id, 'SIGNING_SECRET', signingSecret),
        failureEmail: data.failureEmail ?? null,
        failureThreshold: data.failureThreshold,
        startSeq: 0,
        createdAt: now,
        updatedAt: now,
        createdById: ctx.policy.userId,
      },
    });
    const parsed = parseWorkflow(row);
    const { seq } = await appendAudit(tx, ctx, { organizationId, action: 'workflow.create', targetType: 'Workflow', targetId: id, data: auditShape(parsed) });
    return parseWorkflow(await tx.workflow.update({ where: { id }, data: { startSeq: seq } }));
  });
  return { workflow, signingSecret };
}

async function loadForManage(ctx: Context, tx: TxClient, globalId: string) {
  const row = await tx.workflow.findUnique({ where: { id: localId(globalId, 'Workflow') } });
  if (!row || !ctx.policy.can('workflow:manage', { organizationId: row.organizationId })) throw new ForbiddenError();
  return row;
}

/** Replaces a workflow's definition (the signing secret stays). Turning it on starts from now: no backlog. */
export async function updateWorkflow(ctx: Context, input: WorkflowInput & { id: string }) {
  const { id, ...rest } = input;
  const data = parseInput(workflowInput, rest);
  return ctx.db.$transaction(async (tx) => {
    const current = parseWorkflow(await loadForManage(ctx, tx, id));
    const filters = await resolveFilters(tx, current.organizationId, data.filters);
    const actions = await resolveActions(ctx, tx, current.organizationId, current.id, data.actions, current.actions);
    const reenabled = data.enabled && !current.enabled;
    const row = await tx.workflow.update({
      where: { id: current.id },
      data: {
        name: data.name,
        enabled: data.enabled,
        trigger: data.trigger,
        filters: JSON.stringify(filters),
        actions: JSON.stringify(actions),
        failureEmail: data.failureEmail ?? null,
        failureThreshold: data.failureThreshold,
        ...(reenabled ? { consecutiveFailures: 0 } : {}),
        updatedAt: ctx.clock.now(),
      },
    });
    const { seq } = await appendAudit(tx, ctx, { organizationId: row.organizationId, action: 'workflow.update', targetType: 'Workflow', targetId: row.id, data: auditShape(parseWorkflow(row)) });
    return parseWorkflow(reenabled ? await tx.workflow.update({ where: { id: row.id }, data: { startSeq: seq } }) : row);
  });
}

/** Turns a workflow on or off. Off: nothing more is matched and its unsent deliveries are cancelled. */
export async function setWorkflowEnabled(ctx: Context, input: { id: string; enabled: boolean }) {
  return ctx.db.$transaction(async (tx) => {
    const current = await loadForManage(ctx, tx, input.id);
    if (current.enabled === input.enabled) return parseWorkflow(current);
    const row = await tx.workflow.update({ where: { id: current.id }, data: { enabled: input.enabled, consecutiveFailures: 0, updatedAt: ctx.clock.now() } });
    const { seq } = await appendAudit(tx, ctx, { organizationId: row.organizationId, action: input.enabled ? 'workflow.enable' : 'workflow.disable', targetType: 'Workflow', targetId: row.id, data: { name: row.name } });
    if (input.enabled) return parseWorkflow(await tx.workflow.update({ where: { id: row.id }, data: { startSeq: seq } }));
    await tx.workflowDelivery.updateMany({ where: { workflowId: row.id, status: 'PENDING' }, data: { status: 'CANCELLED', lastError: 'workflow disabled' } });
    return parseWorkflow(row);
  });
}

/** Deletes a workflow with its delivery log; the audit log keeps that it existed. */
export async function deleteWorkflow(ctx: Context, globalId: string) {
  return ctx.db.$transaction(async (tx) => {
    const current = await loadForManage(ctx, tx, globalId);
    await tx.workflow.delete({ where: { id: current.id } });
    await appendAudit(tx, ctx, { organizationId: current.organizationId, action: 'workflow.delete', targetType: 'Workflow', targetId: current.id, data: { name: current.name } });
    return current;
  });
}

export type TestResult = { actionIndex: number; type: ActionType; delivered: boolean; statusCode: number | null; error: string | null };

/**
 * Sends one sample (sample values for every variable) through one action, or through each: now, once, no
 * retry. The attempt is kept in the delivery log, marked as a test; it never counts as a workflow failure.
 */
export async function testWorkflowAction(ctx: Context, input: { id: string; actionIndex?: number | null }): Promise<TestResult[]> {
  const workflow = parseWorkflow(await ctx.db.$transaction((tx) => loadForManage(ctx, tx, input.id)));
  const indexes = input.actionIndex === null || input.actionIndex === undefined ? workflow.actions.map((_a, i) => i) : [input.actionIndex];
  if (indexes.some((i) => !Number.isInteger(i) || i < 0 || i >= workflow.actions.length)) {
    throw ValidationError.field('input.actionIndex', `must be from 0 to ${workflow.actions.length - 1}`);
  }
  const results: TestResult[] = [];
  for (const i of indexes) {
    const outcome = await sendTestDelivery(ctx, workflow, i);
    results.push({ actionIndex: i, type: workflow.actions[i].type, delivered: outcome.ok, statusCode: outcome.statusCode, error: outcome.error });
  }
  await ctx.db.$transaction((tx) =>
    appendAudit(tx, ctx, { organizationId: workflow.organizationId, action: 'workflow.test', targetType: 'Workflow', targetId: workflow.id, data: { results: results.map((r) => ({ actionIndex: r.actionIndex, delivered: r.delivered })) } }),
  );
  return results;
}
