import { useState } from 'react';
import { graphql } from '../gql';
import type { RequestRowFieldsFragment, RequestMutationErrorFragment } from '../gql/graphql';
import { ErrorText } from '../components/ErrorText';
import { ApiError, request, useQuery } from '../lib/api';
import { duration, when, words } from '../lib/format';
import { useSubscription } from '../lib/live';
import { STATE_WORDS } from '../lib/requests';
import { Link } from '../lib/router';
import { useNow } from '../lib/useNow';
import { Secret } from './Credential';

const MyRequests = graphql(`
  query MyRequests($first: Int, $after: String) {
    myAccessRequests(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...RequestRowFields
        }
      }
    }
  }
`);

const MyRequestUpdated = graphql(`
  subscription MyRequestUpdated($after: String) {
    accessRequestUpdated(after: $after) {
      cursor
      toState
      accessRequest {
        id
        state
      }
    }
  }
`);

const MyRequestAvailable = graphql(`
  subscription MyRequestAvailable($after: String) {
    requestAvailable(after: $after) {
      cursor
      accessRequest {
        id
        state
        credentialName
      }
    }
  }
`);

const CheckIn = graphql(`
  mutation CheckInFromRequests($input: CheckInAccessRequestInput!) {
    checkInAccessRequest(input: $input) {
      __typename
      ... on CheckInAccessRequestPayload {
        accessRequest {
          id
          state
        }
      }
      ...RequestMutationError
    }
  }
`);
const Cancel = graphql(`
  mutation CancelFromRequests($input: CancelAccessRequestInput!) {
    cancelAccessRequest(input: $input) {
      __typename
      ... on CancelAccessRequestPayload {
        accessRequest {
          id
          state
        }
      }
      ...RequestMutationError
    }
  }
`);
const Resubmit = graphql(`
  mutation ResubmitFromRequests($input: ResubmitAccessRequestInput!) {
    resubmitAccessRequest(input: $input) {
      __typename
      ... on ResubmitAccessRequestPayload {
        accessRequest {
          id
          state
        }
      }
      ...RequestMutationError
    }
  }
`);
const Remove = graphql(`
  mutation RemoveFromRequests($input: RemoveAccessRequestInput!) {
    removeAccessRequest(input: $input) {
      __typename
      ... on RemoveAccessRequestPayload {
        accessRequest {
          id
          state
        }
      }
      ...RequestMutationError
    }
  }
`);

const CLOSED = new Set(['DENIED', 'CANCELLED', 'EXPIRED', 'REVOKED', 'CHECKED_IN']);

export function RequestsPage() {
  const [after, setAfter] = useState<string | null>(null);
  const q = useQuery(MyRequests, { first: 25, after });
  const [announce, setAnnounce] = useState('');
  // Any transition of one of my requests: re-read the list (states, windows and permissions move together).
  useSubscription(MyRequestUpdated, { after: null }, () => void q.refetch(), (d) => d.accessRequestUpdated.cursor);
  useSubscription(
    MyRequestAvailable,
    { after: null },
    (d) => {
      setAnnounce(`${d.requestAvailable.accessRequest.credentialName} is available now.`);
      void q.refetch();
    },
    (d) => d.requestAvailable.cursor,
  );
  const rows = (q.data?.myAccessRequests.edges ?? []).map((e) => e.node).filter((n): n is RequestRowFieldsFragment => !!n);
  return (
    <section aria-labelledby="requests-title">
      <h1 id="requests-title">My requests</h1>
      <p className="sr-only" role="status" aria-live="polite">
        {announce}
      </p>
      <ErrorText error={q.error} />
      {q.data && rows.length === 0 && <p>You have not requested access to anything yet. Restricted credentials offer a “Request access” button.</p>}
      <ul className="rows">
        {rows.map((r) => (
          <RequestRow key={r.id} r={r} onChange={() => void q.refetch()} />
        ))}
      </ul>
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={after === null} onClick={() => setAfter(null)}>
          Newest
        </button>
        <button type="button" disabled={!q.data?.myAccessRequests.pageInfo.hasNextPage} onClick={() => setAfter(q.data?.myAccessRequests.pageInfo.endCursor ?? null)}>
          Older
        </button>
      </nav>
    </section>
  );
}

type Refusal = RequestMutationErrorFragment;

function RequestRow({ r, onChange }: { r: RequestRowFieldsFragment; onChange: () => void }) {
  const now = useNow(r.state === 'AVAILABLE' || r.state === 'PENDING' || r.state === 'APPROVED');
  const [error, setError] = useState<Refusal | ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const act = async (run: () => Promise<{ __typename: string }>) => {
    setBusy(true);
    try {
      const result = await run();
      if (result.__typename && result.__typename.endsWith('Payload')) setError(null);
      else setError(result as unknown as Refusal);
      onChange();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), null));
    } finally {
      setBusy(false);
    }
  };
  const left =
    r.state === 'AVAILABLE' ? Date.parse(r.endsAt) - now : r.state === 'APPROVED' ? Date.parse(r.startsAt) - now : r.state === 'PENDING' ? Date.parse(r.pendingExpiresAt) - now : 0;
  const label = `${r.credentialName}`;
  const field = r.fields.includes('PASSWORD') ? 'PASSWORD' : r.fields.includes('SSH_PRIVATE_KEY') ? 'SSH_PRIVATE_KEY' : r.fields.includes('API_KEY_SECRET') ? 'API_KEY_SECRET' : null;
  return (
    <li className="row card" data-testid="request-row" data-request-id={r.id}>
      <div className="row-head">
        <h2 className="h3">
          {r.credential ? <Link to={`/credentials/${encodeURIComponent(r.credential.id)}`}>{label}</Link> : label}
        </h2>
        <span className={`state state-${r.state.toLowerCase()}`} data-testid="request-state" data-request-id={r.id} data-state={r.state}>
          {STATE_WORDS[r.state] ?? words(r.state)}
        </span>
      </div>
      <p className="muted small">
        {r.policyName} · asked {when(r.createdAt)}
        {r.ticketNumber ? ` · ticket ${r.ticketNumber}` : ''}
        {r.reason ? ` · “${r.reason}”` : ''}
      </p>
      <p className="small" data-testid="request-window">
        Window {when(r.startsAt)} – {when(r.endsAt)}
        {left > 0 && (
          <>
            {' '}
            ·{' '}
            <span data-testid="request-countdown">
              {r.state === 'AVAILABLE' ? 'closes in' : r.state === 'APPROVED' ? 'opens in' : 'expires unanswered in'} {duration(left)}
            </span>
          </>
        )}
      </p>
      {r.state === 'AVAILABLE' && r.viewerCanReveal && r.credential && field && <Secret credentialId={r.credential.id} field={field} />}
      <div className="actions">
        {r.viewerCanCheckIn && (
          <button type="button" data-testid="checkin-button" disabled={busy} onClick={() => act(async () => (await request(CheckIn, { input: { id: r.id } })).checkInAccessRequest)}>
            Check in
          </button>
        )}
        {r.viewerCanCancel && (
          <button type="button" data-testid="cancel-button" disabled={busy} onClick={() => act(async () => (await request(Cancel, { input: { id: r.id } })).cancelAccessRequest)}>
            Cancel request
          </button>
        )}
        {CLOSED.has(r.state) && (
          <>
            <button type="button" data-testid="resubmit-button" disabled={busy} onClick={() => act(async () => (await request(Resubmit, { input: { id: r.id } })).resubmitAccessRequest)}>
              Ask again
            </button>
            <button type="button" data-testid="remove-button" disabled={busy} onClick={() => act(async () => (await request(Remove, { input: { id: r.id } })).removeAccessRequest)}>
              Remove from list
            </button>
          </>
        )}
      </div>
      <ErrorText error={error} />
    </li>
  );
}
