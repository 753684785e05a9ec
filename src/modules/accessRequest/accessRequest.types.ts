import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.ts';
import { ErrorInterface } from '../../graphql/errors.ts';
import { ApprovalStepRef, ReleasableFieldEnum } from '../accessPolicy/accessPolicy.schema.ts';
import type { BulkItem } from './accessRequest.commands.ts';
import {
  AccessRequestNotFoundError,
  AlreadyDecidedError,
  InvalidRequestStateError,
  NotApproverError,
  SelfApprovalError,
} from './accessRequest.errors.ts';
import { factsOf, fieldsOfRow, snapshotOfRow, stateAt, viewerCan, type RequestWithDecisions } from './accessRequest.queries.ts';
import { needsReview, REQUEST_STATES, stepProgress, type LifecycleEvent, type RequestState, type Step } from './accessRequest.state.ts';

// The access-request object types: the request node, its steps, decisions and history, and the payloads
// of its mutations.

export const AccessRequestStateEnum = builder.enumType('AccessRequestState', {
  description: 'Where an access request is in its lifecycle. CHECKED_IN, EXPIRED, DENIED, REVOKED and CANCELLED are final.',
  values: {
    PENDING: { description: 'Waiting for the approvals of its current step.' },
    APPROVED: { description: 'Every step approved; the window has not started yet.' },
    AVAILABLE: { description: 'The window is open: the requester can reveal the released fields.' },
    CHECKED_IN: { description: 'The requester ended it early.' },
    EXPIRED: { description: 'The window ended, or it waited for approval too long.' },
    DENIED: { description: 'An approver denied it (possibly after approving).' },
    REVOKED: { description: 'An approver or administrator withdrew access.' },
    CANCELLED: { description: 'The requester withdrew it before it became available.' },
  } as const satisfies Record<(typeof REQUEST_STATES)[number], unknown>,
});

builder.objectType(InvalidRequestStateError, {
  name: 'InvalidRequestStateError',
  description: 'The request is not in a state that allows this; `state` is where it is now.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ state: t.field({ type: AccessRequestStateEnum, description: 'The request’s state now.', resolve: (e) => e.state }) }),
});
builder.objectType(SelfApprovalError, {
  name: 'SelfApprovalError',
  description: 'A requester never approves, denies or reviews their own request.',
  interfaces: [ErrorInterface],
});
builder.objectType(NotApproverError, {
  name: 'NotApproverError',
  description: 'The viewer sees the request but is not among the people who may do this now (approver of the current step, reviewer, or requester).',
  interfaces: [ErrorInterface],
});
builder.objectType(AlreadyDecidedError, {
  name: 'AlreadyDecidedError',
  description: 'The approver has already decided on this step.',
  interfaces: [ErrorInterface],
});
builder.objectType(AccessRequestNotFoundError, {
  name: 'AccessRequestNotFoundError',
  description: 'In a bulk result: no such request, or the viewer may not see it.',
  interfaces: [ErrorInterface],
});

builder.prismaObject('AccessApproval', {
  description: 'One approver’s decision on one step of a request.',
  fields: (t) => ({
    step: t.exposeInt('step', { description: 'The step (from 0).' }),
    decision: t.exposeString('decision', { description: 'APPROVE or DENY.' }),
    comment: t.exposeString('comment', { nullable: true, description: 'The approver’s comment.' }),
    at: t.expose('at', { type: 'DateTime', description: 'When.' }),
    approver: t.relation('approver', { description: 'Who decided.' }),
  }),
});

builder.prismaObject('AccessRequestHistory', {
  description: 'One entry of a request’s history: a transition or decision, who made it, and why.',
  fields: (t) => ({
    seq: t.exposeInt('seq', { description: 'Position in the history, from 1.' }),
    action: t.exposeString('action', {
      description: 'REQUEST, RESUBMIT, AUTO_APPROVE, APPROVE, STEP_COMPLETED, DENY, REVOKE, CANCEL, CHECK_IN, REVIEW, START, END or PENDING_TIMEOUT.',
    }),
    comment: t.exposeString('comment', { nullable: true, description: 'The comment or reason given.' }),
    fromState: t.field({ type: AccessRequestStateEnum, nullable: true, description: 'State before (null for the request itself).', resolve: (h) => h.fromState as RequestState | null }),
    toState: t.field({ type: AccessRequestStateEnum, description: 'State after.', resolve: (h) => h.toState as RequestState }),
    at: t.expose('at', { type: 'DateTime', description: 'When.' }),
    actor: t.prismaField({
      type: 'User',
      nullable: true,
      description: 'Who acted; null for the scheduler (start, end, pending timeout) and automatic approval.',
      resolve: (query, h, _a, ctx) => (h.actorUserId ? ctx.db.user.findUnique({ ...query, where: { id: h.actorUserId } }) : null),
    }),
  }),
});

type StepProgress = Step & { index: number; request: RequestWithDecisions };

const RequestStepRef = builder.objectRef<StepProgress>('AccessRequestStep').implement({
  description: 'One approval step of a request and how far it has come.',
  fields: (t) => ({
    step: t.field({ type: ApprovalStepRef, description: 'The step as the policy defined it when the request was made.', resolve: (s) => s }),
    approvalCount: t.int({ description: 'Distinct approvals so far.', resolve: (s) => stepProgress(factsOf(s.request), s.index).approvalCount }),
    completed: t.boolean({
      description: 'Whether this step is done: it has the approvals it requires.',
      resolve: (s) => stepProgress(factsOf(s.request), s.index).completed,
    }),
  }),
});

export const AccessRequestNode = builder.prismaNode('AccessRequest', {
  description:
    'A request to use a restricted credential for a time window. Approvers see the request, the credential’s metadata, the requester, reason and ticket — never the secret.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('AccessRequest')] }),
  fields: (t) => {
    // The same rule that acting uses (viewerCan), over the request with its decisions.
    const viewerCanField = (event: LifecycleEvent, description: string) =>
      t.boolean({ description, select: { approvals: true }, resolve: (r, _a, ctx) => viewerCan(ctx, r, event) });
    return {
      state: t.field({
        type: AccessRequestStateEnum,
        description: 'The state now (the clock is applied on read: a request never shows a state its times contradict).',
        resolve: (r, _a, ctx) => stateAt(r, ctx.clock.now()),
      }),
      credential: t.relation('credential', { nullable: true, description: 'The credential (metadata only); null after it was deleted.' }),
      credentialName: t.exposeString('credentialName', { description: 'The credential’s name when requested.' }),
      policy: t.relation('policy', { nullable: true, description: 'The policy it was made under; null after the policy was deleted.' }),
      policyName: t.string({ description: 'The policy’s name when the request was made.', resolve: (r) => snapshotOfRow(r).name }),
      requester: t.relation('requester', { description: 'Who asked.' }),
      fields: t.field({ type: [ReleasableFieldEnum], description: 'The fields released while available.', resolve: (r) => fieldsOfRow(r) }),
      reason: t.exposeString('reason', { nullable: true, description: 'Why access is needed.' }),
      ticketNumber: t.exposeString('ticketNumber', { nullable: true, description: 'The ticket it is for.' }),
      startsAt: t.expose('startsAt', { type: 'DateTime', description: 'When the window opens.' }),
      endsAt: t.expose('endsAt', { type: 'DateTime', description: 'When the window closes.' }),
      pendingExpiresAt: t.expose('pendingExpiresAt', { type: 'DateTime', description: 'When it expires if still pending.' }),
      availableAt: t.expose('availableAt', { type: 'DateTime', nullable: true, description: 'When it became available.' }),
      closedAt: t.expose('closedAt', { type: 'DateTime', nullable: true, description: 'When it reached a final state.' }),
      createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was made.' }),
      currentStep: t.exposeInt('currentStep', { description: 'The approval step it waits for (from 0) while pending.' }),
      steps: t.field({
        type: [RequestStepRef],
        description: 'Its approval steps (as the policy had them), with the approvals so far.',
        select: { approvals: true },
        resolve: (r) => snapshotOfRow(r).steps.map((s, index) => ({ ...s, index, request: r })),
      }),
      approvals: t.relation('approvals', { description: 'Every decision so far, oldest first.', query: { orderBy: { at: 'asc' } } }),
      history: t.relation('history', { description: 'Every transition and decision, in order.', query: { orderBy: { seq: 'asc' } } }),
      reviewRequired: t.exposeBoolean('reviewRequired', { description: 'Whether the policy asks for a review once it is finished.' }),
      needsReview: t.boolean({
        description: 'Whether it waits for a review now: the policy asks for one, nobody gave it yet, and it finished after having been available.',
        resolve: (r, _a, ctx) => needsReview({ ...r, state: r.state as RequestState }, ctx.clock.now()),
      }),
      reviewedAt: t.expose('reviewedAt', { type: 'DateTime', nullable: true, description: 'When it was reviewed.' }),
      reviewedBy: t.relation('reviewedBy', { nullable: true, description: 'Who reviewed it.' }),
      reviewComment: t.exposeString('reviewComment', { nullable: true, description: 'The review’s comment.' }),
      resubmittedFrom: t.relation('resubmittedFrom', { nullable: true, description: 'The denied, revoked or expired request this one was resubmitted from.' }),
      viewerCanApprove: viewerCanField({ type: 'APPROVE' }, 'Whether the viewer may approve it now.'),
      viewerCanDeny: viewerCanField({ type: 'DENY' }, 'Whether the viewer may deny it now.'),
      viewerCanRevoke: viewerCanField({ type: 'REVOKE' }, 'Whether the viewer may revoke it now.'),
      viewerCanCancel: viewerCanField({ type: 'CANCEL' }, 'Whether the viewer (its requester) may cancel it now.'),
      viewerCanCheckIn: viewerCanField({ type: 'CHECK_IN' }, 'Whether the viewer (its requester) may check it in now.'),
      viewerCanReview: viewerCanField({ type: 'REVIEW', comment: 'probe' }, 'Whether the viewer may review it now.'),
      viewerCanReveal: t.boolean({
        description: 'Whether the viewer can reveal the released fields through it now (its requester, while available).',
        resolve: (r, _a, ctx) => r.requesterId === ctx.policy.userId && r.credentialId !== null && stateAt(r, ctx.clock.now()) === 'AVAILABLE',
      }),
    };
  },
});

builder.prismaObjectFields('Credential', (t) => ({
  accessRequests: t.relation('accessRequests', {
    description: 'Access requests for this credential that the viewer may see, newest first.',
    query: (_args, ctx) => ({ where: ctx.policy.readable('AccessRequest'), orderBy: { createdAt: 'desc' }, take: 100 }),
  }),
}));

export const RequestPayload = (name: string, description: string) =>
  builder.objectRef<RequestWithDecisions>(name).implement({
    description,
    fields: (t) => ({ accessRequest: t.field({ type: AccessRequestNode, description: 'The request after the change.', resolve: (r) => r }) }),
  });

export const BulkItemRef = builder.objectRef<BulkItem>('AccessRequestBulkItem').implement({
  description: 'The outcome for one request of a bulk action: the request, or the typed error it was refused with.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The global id as given.' }),
    accessRequest: t.field({ type: AccessRequestNode, nullable: true, description: 'The request after the change; null when refused.', resolve: (i) => i.request }),
    error: t.field({
      type: ErrorInterface,
      nullable: true,
      description: 'Why this one was refused (branch on __typename); null on success.',
      // graphql-js treats a returned Error instance as a thrown one, so the refusal travels as a plain copy.
      resolve: (i) => (i.error ? ({ ...i.error, name: i.error.name, message: i.error.message } as Error) : null),
    }),
  }),
});
export const BulkPayload = (name: string, description: string) =>
  builder.objectRef<BulkItem[]>(name).implement({
    description,
    fields: (t) => ({
      results: t.field({ type: [BulkItemRef], description: 'One outcome per distinct id, in the order given.', resolve: (items) => items }),
      succeeded: t.int({ description: 'How many succeeded.', resolve: (items) => items.filter((i) => i.request).length }),
      failed: t.int({ description: 'How many were refused.', resolve: (items) => items.filter((i) => i.error).length }),
    }),
  });

export const accessRequestGlobalId = (id: string) => encodeGlobalID('AccessRequest', id);
