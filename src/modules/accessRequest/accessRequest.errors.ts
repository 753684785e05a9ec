import { DomainError, ValidationError } from '../../lib/errors.ts';
import { PolicyViolationError } from '../accessPolicy/accessPolicy.service.ts';
import type { RefusalReason, RequestState } from './accessRequest.state.ts';

// The typed refusals of the access-request lifecycle: outcomes a client branches on by __typename.

// --- typed refusals ---

/** The request is not in a state that allows this (e.g. approving a request that is already approved). */
export class InvalidRequestStateError extends DomainError {
  override name = 'InvalidRequestStateError';
  constructor(readonly state: RequestState, message = `The request is ${state.toLowerCase().replace('_', ' ')}; that is not possible now.`) {
    super(message);
  }
}
/** Requesters never approve, deny or review their own requests. */
export class SelfApprovalError extends DomainError {
  override name = 'SelfApprovalError';
  constructor() {
    super('You cannot decide on or review your own request.');
  }
}
/** The viewer sees the request but is not one of the people who may do this now. */
export class NotApproverError extends DomainError {
  override name = 'NotApproverError';
  constructor(message = 'You are not an approver of the current step of this request.') {
    super(message);
  }
}
/** One decision per approver per step. */
export class AlreadyDecidedError extends DomainError {
  override name = 'AlreadyDecidedError';
  constructor() {
    super('You have already decided on this step of the request.');
  }
}

export function refusalError(reason: RefusalReason, state: RequestState): Error {
  switch (reason) {
    case 'INVALID_STATE':
      return new InvalidRequestStateError(state);
    case 'SELF_DECISION':
      return new SelfApprovalError();
    case 'NOT_APPROVER':
      return new NotApproverError();
    case 'ALREADY_DECIDED':
      return new AlreadyDecidedError();
    case 'NOT_REQUESTER':
      return new NotApproverError('Only the requester can do this.');
    case 'NOT_REVIEWER':
      return new NotApproverError('You are not a reviewer of this request.');
    case 'REVIEW_NOT_NEEDED':
      return new InvalidRequestStateError(state, 'This request does not need a review (any more).');
    case 'COMMENT_REQUIRED':
      return ValidationError.field('input.comment', 'the policy requires a comment with the review');
    case 'WINDOW_CHANGE_NOT_ALLOWED':
      return new PolicyViolationError('WINDOW_CHANGE_NOT_ALLOWED', 'The policy does not let approvers change the window.');
    case 'WINDOW_TOO_LONG':
      return new PolicyViolationError('DURATION_TOO_LONG', 'The window is longer than the policy’s maximum.');
    case 'WINDOW_INVALID':
      return ValidationError.field('input.durationMinutes', 'the window must be positive and end in the future');
  }
}

/** In a bulk result: the request does not exist or the viewer may not see it (the same answer for both). */
export class AccessRequestNotFoundError extends DomainError {
  override name = 'AccessRequestNotFoundError';
  constructor() {
    super('Not found, or not allowed.');
  }
}
