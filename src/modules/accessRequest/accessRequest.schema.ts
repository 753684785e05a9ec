import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.ts';
import { ErrorInterface } from '../../graphql/errors.ts';
import { ValidationError, StepUpRequiredError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import type { Context } from '../../context.ts';
import { AccessRequestTypeEnum, ApprovalStepRef, ReleasableFieldEnum } from '../accessPolicy/accessPolicy.schema.ts';
import { PolicyViolationError, type ReleasableField } from '../accessPolicy/accessPolicy.service.ts';
import {
  AccessRequestNotFoundError,
  AlreadyDecidedError,
  approvalQueueWhere,
  approveAccessRequest,
  bulk,
  cancelAccessRequest,
  checkInAccessRequest,
  denyAccessRequest,
  factsOf,
  fieldsOfRow,
  InvalidRequestStateError,
  NotApproverError,
  removeAccessRequest,
  requestAccess,
  resubmitAccessRequest,
  reviewAccessRequest,
  encodeQueueCursor,
  queueCount,
  queuePage,
  reviewQueueWhere,
  revokeAccessRequest,
  SelfApprovalError,
  snapshotOfRow,
  stateAt,
  viewerCan,
  visibleRequestWhere,
  type BulkItem,
  type RequestWithDecisions,
} from './accessRequest.service.ts';
import { resolveCursorConnection } from '@pothos/plugin-relay';
import type { Prisma } from '../../generated/prisma-sqlite/client.ts';
import { needsReview, REQUEST_STATES, stateWhere, stepProgress, type LifecycleEvent, type RequestState } from './accessRequest.state.ts';
import type { AccessRequest } from '../../generated/prisma-sqlite/client.ts';

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

type StepProgress = { index: number; requiredApprovals: number; approvers: { userIds: string[]; roles: string[] }; request: RequestWithDecisions };

const RequestStepRef = builder.objectRef<StepProgress>('AccessRequestStep').implement({
  description: 'One approval step of a request and how far it has come.',
  fields: (t) => ({
    step: t.field({ type: ApprovalStepRef, description: 'The step as the policy defined it when the request was made.', resolve: (s) => s as never }),
    approvalCount: t.int({ description: 'Distinct approvals so far.', resolve: (s) => stepProgress(factsOf(s.request), s.index).approvalCount }),
    completed: t.boolean({
      description: 'Whether this step is done: it has the approvals it requires.',
      resolve: (s) => stepProgress(factsOf(s.request), s.index).completed,
    }),
  }),
});

const viewerCanField = (event: LifecycleEvent, description: string) => (t: PothosSchemaTypes.ObjectFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<never>, AccessRequest>) =>
  t.boolean({ description, select: { approvals: true } as never, resolve: (r: AccessRequest, _a: unknown, ctx: Context) => viewerCan(ctx, r as RequestWithDecisions, event) } as never);

export const AccessRequestNode = builder.prismaNode('AccessRequest', {
  description:
    'A request to use a restricted credential for a time window. Approvers see the request, the credential’s metadata, the requester, reason and ticket — never the secret.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [visibleRequestWhere(ctx)] }),
  fields: (t) => ({
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
      select: { approvals: true } as never,
      resolve: (r) => snapshotOfRow(r).steps.map((s, index) => ({ ...s, index, request: r as RequestWithDecisions })),
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
    viewerCanApprove: viewerCanField({ type: 'APPROVE' }, 'Whether the viewer may approve it now.')(t as never),
    viewerCanDeny: viewerCanField({ type: 'DENY' }, 'Whether the viewer may deny it now.')(t as never),
    viewerCanRevoke: viewerCanField({ type: 'REVOKE' }, 'Whether the viewer may revoke it now.')(t as never),
    viewerCanCancel: viewerCanField({ type: 'CANCEL' }, 'Whether the viewer (its requester) may cancel it now.')(t as never),
    viewerCanCheckIn: viewerCanField({ type: 'CHECK_IN' }, 'Whether the viewer (its requester) may check it in now.')(t as never),
    viewerCanReview: viewerCanField({ type: 'REVIEW', comment: 'probe' }, 'Whether the viewer may review it now.')(t as never),
    viewerCanReveal: t.boolean({
      description: 'Whether the viewer can reveal the released fields through it now (its requester, while available).',
      resolve: (r, _a, ctx) => r.requesterId === ctx.policy.userId && r.credentialId !== null && stateAt(r, ctx.clock.now()) === 'AVAILABLE',
    }),
  }),
});

builder.prismaObjectFields('Credential', (t) => ({
  accessRequests: t.relation('accessRequests', {
    description: 'Access requests for this credential that the viewer may see, newest first.',
    query: (_args, ctx) => ({ where: visibleRequestWhere(ctx), orderBy: { createdAt: 'desc' }, take: 100 }),
  }),
}));

// --- queries ---

const AccessRequestFilter = builder.inputType('AccessRequestFilter', {
  description: 'Which requests. All given conditions must match.',
  fields: (t) => ({
    states: t.field({ type: [AccessRequestStateEnum], description: 'Only requests in these states (as of now).' }),
    organizationId: t.id({ description: 'Only this organization’s requests.' }),
    credentialId: t.id({ description: 'Only requests for this credential.' }),
    requesterId: t.id({ description: 'Only this user’s requests.' }),
  }),
});

type Filter = { states?: RequestState[] | null; organizationId?: string | number | null; credentialId?: string | number | null; requesterId?: string | number | null } | null | undefined;

function filterWhere(ctx: Context, filter: Filter) {
  const and: object[] = [visibleRequestWhere(ctx)];
  if (filter?.states?.length) and.push(stateWhere(filter.states, ctx.clock.now()));
  if (filter?.organizationId) and.push({ organizationId: localId(String(filter.organizationId), 'Organization') });
  if (filter?.credentialId) and.push({ credentialId: localId(String(filter.credentialId), 'Credential') });
  if (filter?.requesterId) and.push({ requesterId: localId(String(filter.requesterId), 'User') });
  return { AND: and };
}

type QueueWhere = (ctx: Context, organizationId: string | null) => Prisma.AccessRequestWhereInput | null;
type QueuePage = Awaited<ReturnType<typeof resolveCursorConnection<Promise<RequestWithDecisions[]>>>> & { queueWhere: Prisma.AccessRequestWhereInput | null };

/**
 * A page of a work queue: filtered in the database (see `approvalQueueWhere`), keyset-paged oldest first (the
 * cursor carries the sort key), at most 100 per page.
 */
async function resolveQueue(whereOf: QueueWhere, args: { organizationId?: string | number | null; first?: number | null; last?: number | null; after?: string | null; before?: string | null }, ctx: Context): Promise<QueuePage> {
  const where = whereOf(ctx, args.organizationId ? localId(String(args.organizationId), 'Organization') : null);
  const page = await resolveCursorConnection<Promise<RequestWithDecisions[]>>({ args, defaultSize: 20, maxSize: 100, toCursor: (r: RequestWithDecisions) => encodeQueueCursor(r) }, (p): Promise<RequestWithDecisions[]> => queuePage(ctx, where, p));
  return { ...page, queueWhere: where };
}

builder.queryFields((t) => ({
  accessRequest: t.prismaField({
    type: 'AccessRequest',
    nullable: true,
    description: 'One access request with its steps, approvals and history; null when missing or not visible to the viewer.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _r, args, ctx) => {
      let id: string;
      try {
        id = localId(String(args.id), 'AccessRequest');
      } catch {
        return null;
      }
      return ctx.db.accessRequest.findFirst({ ...query, where: { id, AND: [visibleRequestWhere(ctx)] } });
    },
  }),
  myAccessRequests: t.prismaConnection({
    type: 'AccessRequest',
    cursor: 'id',
    description: 'The viewer’s own requests, newest first (without those they removed from the list).',
    authScopes: { can: 'accessRequest:create' },
    args: { filter: t.arg({ type: AccessRequestFilter, description: 'Which requests.' }) },
    totalCount: (_p, args, ctx) => ctx.db.accessRequest.count({ where: { requesterId: ctx.policy.userId!, hiddenByRequester: false, ...filterWhere(ctx, args.filter) } }),
    resolve: (query, _r, args, ctx) =>
      ctx.db.accessRequest.findMany({ ...query, where: { requesterId: ctx.policy.userId!, hiddenByRequester: false, ...filterWhere(ctx, args.filter) }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
  accessRequests: t.prismaConnection({
    type: 'AccessRequest',
    cursor: 'id',
    description: 'Every request of an organization (ADMIN, AUDITOR), newest first.',
    authScopes: { can: 'accessRequest:readAll' },
    args: {
      organizationId: t.arg.id({ required: true, description: 'Global id of the organization.' }),
      filter: t.arg({ type: AccessRequestFilter, description: 'Which requests.' }),
    },
    totalCount: (_p, args, ctx) => {
      const organizationId = localId(String(args.organizationId), 'Organization');
      ctx.policy.assert('accessRequest:readAll', { organizationId });
      return ctx.db.accessRequest.count({ where: { organizationId, ...filterWhere(ctx, args.filter) } });
    },
    resolve: (query, _r, args, ctx) => {
      const organizationId = localId(String(args.organizationId), 'Organization');
      ctx.policy.assert('accessRequest:readAll', { organizationId });
      return ctx.db.accessRequest.findMany({ ...query, where: { organizationId, ...filterWhere(ctx, args.filter) }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
    },
  }),
  approvalQueue: t.connection(
    {
      type: AccessRequestNode,
      description: 'Pending requests the viewer can decide now (approver of the current step, not their own, not yet decided), oldest first; pages of up to 100 (default 20).',
      authScopes: { can: 'accessRequest:decide' },
      args: { organizationId: t.arg.id({ description: 'Only this organization.' }) },
      resolve: (_r, args, ctx) => resolveQueue(approvalQueueWhere, args, ctx),
    },
    {
      fields: (c) => ({
        totalCount: c.int({ description: 'How many requests are in the queue now, across pages.', resolve: (parent, _a, ctx) => queueCount(ctx, (parent as QueuePage).queueWhere) }),
      }),
    },
  ),
  reviewQueue: t.connection(
    {
      type: AccessRequestNode,
      description: 'Finished requests waiting for a review the viewer may give, oldest first; pages of up to 100 (default 20).',
      authScopes: { can: 'accessRequest:decide' },
      args: { organizationId: t.arg.id({ description: 'Only this organization.' }) },
      resolve: (_r, args, ctx) => resolveQueue(reviewQueueWhere, args, ctx),
    },
    {
      fields: (c) => ({
        totalCount: c.int({ description: 'How many requests are in the queue now, across pages.', resolve: (parent, _a, ctx) => queueCount(ctx, (parent as QueuePage).queueWhere) }),
      }),
    },
  ),
}));

// --- mutations ---

const RequestAccessInput = builder.inputType('RequestAccessInput', {
  description: 'What to ask for.',
  fields: (t) => ({
    credentialId: t.id({ required: true, description: 'Global id of the restricted credential.' }),
    policyId: t.id({ description: 'The policy to request under (default: the strictest covering policy the viewer may use).' }),
    type: t.field({ type: AccessRequestTypeEnum, description: 'What to ask for: released fields (default) or a recorded SSH session to the credential’s asset (only SESSION policies apply).' }),
    fields: t.field({ type: [ReleasableFieldEnum], description: 'Fields to release (default: every field of the credential the policy releases). Not for SESSION requests.' }),
    reason: t.string({ description: 'Why (up to 2000 characters); the policy may require it.' }),
    ticketNumber: t.string({ description: 'The ticket it is for (up to 100 characters); the policy may require it and its form.' }),
    startsAt: t.field({ type: 'DateTime', description: 'When the window opens (default now).' }),
    durationMinutes: t.int({ description: 'Window length in minutes (default: the policy’s default; at most its maximum).' }),
  }),
});
const DecisionInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      id: t.id({ required: true, description: 'Global id of the request.' }),
      comment: t.string({ description: 'A comment for the history (up to 2000 characters).' }),
    }),
  });
const ApproveInput = builder.inputType('ApproveAccessRequestInput', {
  description: 'An approval, optionally changing the window (when the policy allows, within its maximum).',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the request.' }),
    comment: t.string({ description: 'A comment for the history.' }),
    startsAt: t.field({ type: 'DateTime', description: 'New start of the window.' }),
    durationMinutes: t.int({ description: 'New length of the window in minutes.' }),
  }),
});
const BulkInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      ids: t.idList({ required: true, description: 'Global ids of the requests (1–100).' }),
      comment: t.string({ description: 'A comment recorded with each.' }),
    }),
  });
const ResubmitInput = builder.inputType('ResubmitAccessRequestInput', {
  description: 'A new request from a denied, revoked or expired one; omitted fields are taken from it.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the earlier request.' }),
    reason: t.string({ description: 'A new reason.' }),
    ticketNumber: t.string({ description: 'A new ticket number.' }),
    startsAt: t.field({ type: 'DateTime', description: 'When the new window opens (default now).' }),
    durationMinutes: t.int({ description: 'New window length in minutes.' }),
  }),
});
const RemoveInput = builder.inputType('RemoveAccessRequestInput', {
  description: 'The finished request to hide from the viewer’s list.',
  fields: (t) => ({ id: t.id({ required: true, description: 'Global id of the request.' }) }),
});

const RequestPayload = (name: string, description: string) =>
  builder.objectRef<RequestWithDecisions>(name).implement({
    description,
    fields: (t) => ({ accessRequest: t.field({ type: AccessRequestNode, description: 'The request after the change.', resolve: (r) => r }) }),
  });

const BulkItemRef = builder.objectRef<BulkItem>('AccessRequestBulkItem').implement({
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
const BulkPayload = (name: string, description: string) =>
  builder.objectRef<BulkItem[]>(name).implement({
    description,
    fields: (t) => ({
      results: t.field({ type: [BulkItemRef], description: 'One outcome per distinct id, in the order given.', resolve: (items) => items }),
      succeeded: t.int({ description: 'How many succeeded.', resolve: (items) => items.filter((i) => i.request).length }),
      failed: t.int({ description: 'How many were refused.', resolve: (items) => items.filter((i) => i.error).length }),
    }),
  });

const TRANSITION_ERRORS = [InvalidRequestStateError, SelfApprovalError, NotApproverError, AlreadyDecidedError, PolicyViolationError, StepUpRequiredError, ValidationError];

builder.mutationFields((t) => ({
  requestAccess: t.field({
    description: 'Asks for a restricted credential for a time window. The policy decides who may ask, the rules, and who approves (none: approved at once).',
    authScopes: { can: 'accessRequest:create' },
    type: RequestPayload('RequestAccessPayload', 'The new request.'),
    errors: { types: [PolicyViolationError, ValidationError] },
    args: { input: t.arg({ type: RequestAccessInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      requestAccess(ctx, {
        credentialId: String(input.credentialId),
        policyId: input.policyId == null ? null : String(input.policyId),
        type: input.type,
        fields: input.fields as ReleasableField[] | null,
        reason: input.reason,
        ticketNumber: input.ticketNumber,
        startsAt: input.startsAt,
        durationMinutes: input.durationMinutes,
      }),
  }),
  approveAccessRequest: t.field({
    description: 'Approves the current step of a pending request (an approver of that step; never one’s own request).',
    authScopes: { can: 'accessRequest:decide' },
    type: RequestPayload('ApproveAccessRequestPayload', 'The request after the approval.'),
    errors: { types: TRANSITION_ERRORS },
    args: { input: t.arg({ type: ApproveInput, required: true }) },
    resolve: (_r, { input }, ctx) => approveAccessRequest(ctx, { ...input, id: String(input.id) }),
  }),
  denyAccessRequest: t.field({
    description: 'Denies a request: while pending (an approver of the current step), or after approval until check-in (any of its approvers). Deny wins.',
    authScopes: { can: 'accessRequest:decide' },
    type: RequestPayload('DenyAccessRequestPayload', 'The denied request.'),
    errors: { types: TRANSITION_ERRORS },
    args: { input: t.arg({ type: DecisionInput('DenyAccessRequestInput', 'The request to deny.'), required: true }) },
    resolve: (_r, { input }, ctx) => denyAccessRequest(ctx, { ...input, id: String(input.id) }),
  }),
  revokeAccessRequest: t.field({
    description: 'Withdraws access from an approved or available request (any of its approvers, or an ADMIN).',
    authScopes: { can: 'accessRequest:decide' },
    type: RequestPayload('RevokeAccessRequestPayload', 'The revoked request.'),
    errors: { types: TRANSITION_ERRORS },
    args: { input: t.arg({ type: DecisionInput('RevokeAccessRequestInput', 'The request to revoke.'), required: true }) },
    resolve: (_r, { input }, ctx) => revokeAccessRequest(ctx, { ...input, id: String(input.id) }),
  }),
  cancelAccessRequest: t.field({
    description: 'The requester withdraws a pending or approved request.',
    authScopes: { can: 'accessRequest:create' },
    type: RequestPayload('CancelAccessRequestPayload', 'The cancelled request.'),
    errors: { types: TRANSITION_ERRORS },
    args: { input: t.arg({ type: DecisionInput('CancelAccessRequestInput', 'The request to cancel.'), required: true }) },
    resolve: (_r, { input }, ctx) => cancelAccessRequest(ctx, { ...input, id: String(input.id) }),
  }),
  checkInAccessRequest: t.field({
    description: 'The requester ends an available request early (rotating the credential when the policy says so).',
    authScopes: { can: 'accessRequest:create' },
    type: RequestPayload('CheckInAccessRequestPayload', 'The checked-in request.'),
    errors: { types: TRANSITION_ERRORS },
    args: { input: t.arg({ type: DecisionInput('CheckInAccessRequestInput', 'The request to check in.'), required: true }) },
    resolve: (_r, { input }, ctx) => checkInAccessRequest(ctx, { ...input, id: String(input.id) }),
  }),
  resubmitAccessRequest: t.field({
    description: 'Makes a new request from a denied, revoked or expired one of the viewer’s, linked to it.',
    authScopes: { can: 'accessRequest:create' },
    type: RequestPayload('ResubmitAccessRequestPayload', 'The new request.'),
    errors: { types: TRANSITION_ERRORS },
    args: { input: t.arg({ type: ResubmitInput, required: true }) },
    resolve: (_r, { input }, ctx) => resubmitAccessRequest(ctx, { ...input, id: String(input.id) }),
  }),
  removeAccessRequest: t.field({
    description: 'Hides one of the viewer’s finished requests from myAccessRequests; the record and its history stay.',
    authScopes: { can: 'accessRequest:create' },
    type: RequestPayload('RemoveAccessRequestPayload', 'The hidden request.'),
    errors: { types: TRANSITION_ERRORS },
    args: { input: t.arg({ type: RemoveInput, required: true }) },
    resolve: (_r, { input }, ctx) => removeAccessRequest(ctx, { id: String(input.id) }),
  }),
  approveAccessRequests: t.field({
    description: 'Approves several requests; each succeeds or fails on its own (results per request).',
    authScopes: { can: 'accessRequest:decide' },
    type: BulkPayload('ApproveAccessRequestsPayload', 'One outcome per request.'),
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: BulkInput('ApproveAccessRequestsInput', 'The requests to approve.'), required: true }) },
    resolve: (_r, { input }, ctx) => bulk(input.ids.map(String), (id) => approveAccessRequest(ctx, { id, comment: input.comment })),
  }),
  denyAccessRequests: t.field({
    description: 'Denies several requests; each succeeds or fails on its own (results per request).',
    authScopes: { can: 'accessRequest:decide' },
    type: BulkPayload('DenyAccessRequestsPayload', 'One outcome per request.'),
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: BulkInput('DenyAccessRequestsInput', 'The requests to deny.'), required: true }) },
    resolve: (_r, { input }, ctx) => bulk(input.ids.map(String), (id) => denyAccessRequest(ctx, { id, comment: input.comment })),
  }),
  reviewAccessRequests: t.field({
    description: 'Reviews finished requests (a reviewer named by the policy; never one’s own); results per request.',
    authScopes: { can: 'accessRequest:decide' },
    type: BulkPayload('ReviewAccessRequestsPayload', 'One outcome per request.'),
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: BulkInput('ReviewAccessRequestsInput', 'The requests to review and the review’s comment.'), required: true }) },
    resolve: (_r, { input }, ctx) => bulk(input.ids.map(String), (id) => reviewAccessRequest(ctx, { id, comment: input.comment })),
  }),
}));

export const accessRequestGlobalId = (id: string) => encodeGlobalID('AccessRequest', id);
