import { builder } from '../../graphql/builder.ts';
import { StepUpRequiredError, ValidationError } from '../../lib/errors.ts';
import { PolicyViolationError, type ReleasableField } from '../accessPolicy/accessPolicy.service.ts';
import {
  approveAccessRequest,
  bulk,
  cancelAccessRequest,
  checkInAccessRequest,
  denyAccessRequest,
  removeAccessRequest,
  requestAccess,
  resubmitAccessRequest,
  reviewAccessRequest,
  revokeAccessRequest,
} from './accessRequest.commands.ts';
import { AlreadyDecidedError, InvalidRequestStateError, NotApproverError, SelfApprovalError } from './accessRequest.errors.ts';
import { ApproveInput, BulkInput, DecisionInput, RemoveInput, RequestAccessInput, ResubmitInput } from './accessRequest.inputs.ts';
import { BulkPayload, RequestPayload } from './accessRequest.types.ts';

// The access-request mutations: each parses its input and calls accessRequest.commands.ts.

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
