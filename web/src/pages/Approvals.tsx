import { useState } from 'react';
import { graphql } from '../gql';
import type { RequestMutationErrorFragment, RequestRowFieldsFragment } from '../gql/graphql';
import { ErrorText } from '../components/ErrorText';
import { ApiError, request, useQuery } from '../lib/api';
import { when, words } from '../lib/format';
import { useSubscription } from '../lib/live';
import { useOrg } from '../lib/org';
import { STATE_WORDS } from '../lib/requests';

const Queue = graphql(`
  query ApprovalPageQueue($organizationId: ID) {
    approvalQueue(organizationId: $organizationId, first: 10) {
      totalCount
      edges {
        node {
          ...RequestRowFields
          policy {
            id
            approversMayChangeWindow
            maxDurationMinutes
          }
        }
      }
    }
  }
`);

const Reviews = graphql(`
  query ApprovalPageReviews($organizationId: ID) {
    reviewQueue(organizationId: $organizationId, first: 10) {
      totalCount
      edges {
        node {
          ...RequestRowFields
          policy {
            id
            reviewCommentRequired
          }
        }
      }
    }
  }
`);

const PendingLive = graphql(`
  subscription ApprovalPageLive($organizationId: ID, $after: String) {
    approvalPending(organizationId: $organizationId, after: $after) {
      cursor
      accessRequest {
        id
        credentialName
      }
    }
  }
`);

const UpdatedLive = graphql(`
  subscription ApprovalPageUpdated($organizationId: ID, $after: String) {
    accessRequestUpdated(organizationId: $organizationId, after: $after) {
      cursor
      accessRequest {
        id
      }
    }
  }
`);

const Approve = graphql(`
  mutation ApproveFromQueue($input: ApproveAccessRequestInput!) {
    approveAccessRequest(input: $input) {
      __typename
      ... on ApproveAccessRequestPayload {
        accessRequest {
          id
          state
        }
      }
      ...RequestMutationError
    }
  }
`);

const Deny = graphql(`
  mutation DenyFromQueue($input: DenyAccessRequestInput!) {
    denyAccessRequest(input: $input) {
      __typename
      ... on DenyAccessRequestPayload {
        accessRequest {
          id
          state
        }
      }
      ...RequestMutationError
    }
  }
`);

const BulkApprove = graphql(`
  mutation BulkApprove($input: ApproveAccessRequestsInput!) {
    approveAccessRequests(input: $input) {
      __typename
      ... on ApproveAccessRequestsPayload {
        succeeded
        failed
        results {
          id
          error {
            ...RequestMutationError
          }
        }
      }
      ...RequestMutationError
    }
  }
`);

const BulkDeny = graphql(`
  mutation BulkDeny($input: DenyAccessRequestsInput!) {
    denyAccessRequests(input: $input) {
      __typename
      ... on DenyAccessRequestsPayload {
        succeeded
        failed
        results {
          id
          error {
            ...RequestMutationError
          }
        }
      }
      ...RequestMutationError
    }
  }
`);

const Review = graphql(`
  mutation ReviewFromQueue($input: ReviewAccessRequestsInput!) {
    reviewAccessRequests(input: $input) {
      __typename
      ... on ReviewAccessRequestsPayload {
        succeeded
        failed
        results {
          id
          error {
            ...RequestMutationError
          }
        }
      }
      ...RequestMutationError
    }
  }
`);

type Refusal = RequestMutationErrorFragment;
type Item = RequestRowFieldsFragment & { policy?: { id: string; approversMayChangeWindow?: boolean; maxDurationMinutes?: number; reviewCommentRequired?: boolean } | null };

export function ApprovalsPage() {
  const { org } = useOrg();
  const organizationId = org!.id;
  const pending = useQuery(Queue, { organizationId });
  const reviewing = useQuery(Reviews, { organizationId });
  const q = {
    error: pending.error ?? reviewing.error,
    data: pending.data && reviewing.data ? { approvalQueue: pending.data.approvalQueue, reviewQueue: reviewing.data.reviewQueue } : null,
    refetch: async () => {
      await Promise.all([pending.refetch(), reviewing.refetch()]);
    },
  };
  const [announce, setAnnounce] = useState('');
  useSubscription(
    PendingLive,
    { organizationId, after: null },
    (d) => {
      setAnnounce(`New request for ${d.approvalPending.accessRequest.credentialName}.`);
      void q.refetch();
    },
    (d) => d.approvalPending.cursor,
  );
  // Decisions by other approvers (or a cancel by the requester) take items off this queue.
  useSubscription(UpdatedLive, { organizationId, after: null }, () => void q.refetch(), (d) => d.accessRequestUpdated.cursor);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkComment, setBulkComment] = useState('');
  const [bulkResult, setBulkResult] = useState<string | null>(null);
  const [bulkErrors, setBulkErrors] = useState<{ id: string; error: Refusal }[]>([]);
  const [bulkError, setBulkError] = useState<Refusal | ApiError | null>(null);
  // The queues are connections; the page shows the oldest 10 of each (totalCount says how many wait).
  const queue = (q.data?.approvalQueue.edges.map((e) => e.node) ?? []) as Item[];
  const reviews = (q.data?.reviewQueue.edges.map((e) => e.node) ?? []) as Item[];
  const pick = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
  const bulk = async (kind: 'approve' | 'deny') => {
    const ids = queue.filter((r) => selected.has(r.id)).map((r) => r.id);
    if (ids.length === 0) return;
    try {
      const input = { ids, ...(bulkComment.trim() ? { comment: bulkComment.trim() } : {}) };
      const r = kind === 'approve' ? (await request(BulkApprove, { input })).approveAccessRequests : (await request(BulkDeny, { input })).denyAccessRequests;
      if ('succeeded' in r) {
        setBulkError(null);
        setBulkResult(`${r.succeeded} ${kind === 'approve' ? 'approved' : 'denied'}, ${r.failed} refused.`);
        setBulkErrors(r.results.flatMap((x) => (x.error ? [{ id: x.id, error: x.error }] : [])));
        setSelected(new Set());
      } else setBulkError(r as Refusal);
    } catch (e) {
      setBulkError(e instanceof ApiError ? e : new ApiError(String(e), null));
    }
    void q.refetch();
  };
  return (
    <section aria-labelledby="approvals-title">
      <h1 id="approvals-title">Approvals</h1>
      <p className="sr-only" role="status" aria-live="polite">
        {announce}
      </p>
      <ErrorText error={q.error} />
      <h2>Waiting for you ({queue.length})</h2>
      {queue.length === 0 && q.data && <p data-testid="approvals-empty">Nothing waits for your decision. New requests appear here as they arrive.</p>}
      {queue.length > 0 && (
        <div className="bulk card" aria-label="Decide several at once" role="group">
          <label>
            Comment for the selected requests
            <input value={bulkComment} onChange={(e) => setBulkComment(e.target.value)} />
          </label>
          <button type="button" data-testid="bulk-approve" disabled={selected.size === 0} onClick={() => bulk('approve')}>
            Approve selected ({selected.size})
          </button>
          <button type="button" className="danger" data-testid="bulk-deny" disabled={selected.size === 0} onClick={() => bulk('deny')}>
            Deny selected
          </button>
          {bulkResult && <p role="status">{bulkResult}</p>}
          {bulkErrors.map((b) => (
            <ErrorText key={b.id} error={b.error} />
          ))}
          <ErrorText error={bulkError} />
        </div>
      )}
      <ul className="rows">
        {queue.map((r) => (
          <ApprovalItem key={r.id} r={r} selected={selected.has(r.id)} onSelect={(on) => pick(r.id, on)} onDone={() => void q.refetch()} />
        ))}
      </ul>
      <h2>Reviews ({reviews.length})</h2>
      {reviews.length === 0 && q.data && <p>No finished request waits for your review.</p>}
      <ul className="rows">
        {reviews.map((r) => (
          <ReviewItem key={r.id} r={r} onDone={() => void q.refetch()} />
        ))}
      </ul>
    </section>
  );
}

function Context({ r }: { r: Item }) {
  return (
    <dl className="meta">
      <dt>Requester</dt>
      <dd>{r.requester.name ? `${r.requester.name} <${r.requester.email}>` : r.requester.email}</dd>
      <dt>Credential</dt>
      <dd>
        {r.credentialName} {r.credential?.restricted && <span className="badge">restricted</span>}
      </dd>
      <dt>Reason</dt>
      <dd>{r.reason ?? '—'}</dd>
      <dt>Ticket</dt>
      <dd>{r.ticketNumber ?? '—'}</dd>
      <dt>Window</dt>
      <dd>
        {when(r.startsAt)} – {when(r.endsAt)}
      </dd>
      <dt>Policy</dt>
      <dd>
        {r.policyName}
        {r.steps.length > 0 && ` · step ${r.currentStep + 1} of ${r.steps.length} (${r.steps[r.currentStep]?.approvalCount ?? 0}/${r.steps[r.currentStep]?.step.requiredApprovals ?? 0} approvals)`}
      </dd>
      {r.approvals.length > 0 && (
        <>
          <dt>Decisions so far</dt>
          <dd>
            <ul className="plain">
              {r.approvals.map((a, i) => (
                <li key={i}>
                  {a.approver?.name ?? a.approver?.email ?? 'someone'}: {words(a.decision)}
                  {a.comment ? ` — “${a.comment}”` : ''}
                </li>
              ))}
            </ul>
          </dd>
        </>
      )}
    </dl>
  );
}

function ApprovalItem({ r, selected, onSelect, onDone }: { r: Item; selected: boolean; onSelect: (on: boolean) => void; onDone: () => void }) {
  const [comment, setComment] = useState('');
  const [minutes, setMinutes] = useState('');
  const [error, setError] = useState<Refusal | ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const decide = async (kind: 'approve' | 'deny') => {
    setBusy(true);
    try {
      const c = comment.trim() ? { comment: comment.trim() } : {};
      const result =
        kind === 'approve'
          ? (await request(Approve, { input: { id: r.id, ...c, ...(minutes ? { durationMinutes: Number(minutes) } : {}) } })).approveAccessRequest
          : (await request(Deny, { input: { id: r.id, ...c } })).denyAccessRequest;
      if (result.__typename === 'ApproveAccessRequestPayload' || result.__typename === 'DenyAccessRequestPayload') {
        setError(null);
        onDone();
      } else setError(result as Refusal);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), null));
    } finally {
      setBusy(false);
    }
  };
  const commentId = `comment-${r.id}`;
  return (
    <li className="row card" data-testid="approval-item" data-request-id={r.id}>
      <div className="row-head">
        <label className="check">
          <input type="checkbox" checked={selected} onChange={(e) => onSelect(e.target.checked)} aria-label={`Select the request for ${r.credentialName} by ${r.requester.email}`} />
          <span className="h3">
            {r.credentialName} <span className="muted">for {r.requester.email}</span>
          </span>
        </label>
        <span className={`state state-${r.state.toLowerCase()}`}>{STATE_WORDS[r.state]}</span>
      </div>
      <Context r={r} />
      <label htmlFor={commentId}>Comment</label>
      <textarea id={commentId} data-testid="decision-comment" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
      {r.policy?.approversMayChangeWindow && (
        <label>
          Change the window (minutes, at most {r.policy.maxDurationMinutes})
          <input type="number" min={1} value={minutes} onChange={(e) => setMinutes(e.target.value)} />
        </label>
      )}
      <div className="actions">
        <button type="button" data-testid="approve-button" disabled={busy || !r.viewerCanApprove} onClick={() => decide('approve')}>
          Approve
        </button>
        <button type="button" className="danger" data-testid="deny-button" disabled={busy || !r.viewerCanDeny} onClick={() => decide('deny')}>
          Deny
        </button>
      </div>
      <ErrorText error={error} />
    </li>
  );
}

function ReviewItem({ r, onDone }: { r: Item; onDone: () => void }) {
  const [comment, setComment] = useState('');
  const [error, setError] = useState<Refusal | ApiError | null>(null);
  const review = async () => {
    try {
      const res = (await request(Review, { input: { ids: [r.id], ...(comment.trim() ? { comment: comment.trim() } : {}) } })).reviewAccessRequests;
      if (res.__typename !== 'ReviewAccessRequestsPayload') return setError(res as Refusal);
      const failed = res.results.find((x) => x.error)?.error;
      if (failed) return setError(failed);
      setError(null);
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), null));
    }
  };
  const commentId = `review-${r.id}`;
  return (
    <li className="row card" data-testid="review-item" data-request-id={r.id}>
      <div className="row-head">
        <span className="h3">
          {r.credentialName} <span className="muted">used by {r.requester.email}</span>
        </span>
        <span className={`state state-${r.state.toLowerCase()}`}>{STATE_WORDS[r.state]}</span>
      </div>
      <Context r={r} />
      <label htmlFor={commentId}>Review comment{r.policy?.reviewCommentRequired ? ' (required)' : ''}</label>
      <textarea id={commentId} rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
      <div className="actions">
        <button type="button" disabled={!r.viewerCanReview} onClick={review}>
          Mark reviewed
        </button>
      </div>
      <ErrorText error={error} />
    </li>
  );
}
