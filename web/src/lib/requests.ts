import { graphql } from '../gql';

/** The fields every request list on the dashboard shows. */
export const RequestRowFields = graphql(`
  fragment RequestRowFields on AccessRequest {
    id
    state
    credentialName
    credential {
      id
      name
      restricted
    }
    policyName
    requester {
      id
      email
      name
    }
    fields
    reason
    ticketNumber
    startsAt
    endsAt
    pendingExpiresAt
    currentStep
    createdAt
    needsReview
    reviewRequired
    viewerCanApprove
    viewerCanDeny
    viewerCanCancel
    viewerCanCheckIn
    viewerCanReview
    viewerCanReveal
    approvals {
      step
      decision
      comment
      at
      approver {
        id
        name
        email
      }
    }
    steps {
      approvalCount
      completed
      step {
        index
        requiredApprovals
      }
    }
  }
`);

export const RequestMutationError = graphql(`
  fragment RequestMutationError on Error {
    __typename
    message
    ... on ValidationError {
      fieldErrors {
        path
        message
      }
    }
    ... on InvalidRequestStateError {
      state
    }
    ... on PolicyViolationError {
      rule
    }
  }
`);

/** A request's state in words; the enum value itself is on data-state. */
export const STATE_WORDS: Record<string, string> = {
  PENDING: 'Pending',
  APPROVED: 'Approved',
  AVAILABLE: 'Available',
  CHECKED_IN: 'Checked in',
  DENIED: 'Denied',
  CANCELLED: 'Cancelled',
  EXPIRED: 'Expired',
  REVOKED: 'Revoked',
};
