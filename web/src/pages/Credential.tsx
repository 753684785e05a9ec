import { useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import type { CredentialPageQuery, RequestAccessFromPageMutation, RevealFromPageMutation, RevealField } from '../gql/graphql';
import { ErrorText, fieldMessage, type TypedError } from '../components/ErrorText';
import { ApiError, request, useQuery } from '../lib/api';
import { duration, when, words } from '../lib/format';
import { Link } from '../lib/router';
import { useNow } from '../lib/useNow';

const CredentialPageDoc = graphql(`
  query CredentialPage($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Credential {
        name
        kind
        username
        url
        notes
        restricted
        hasOtp
        passwordStrength
        passwordUpdatedAt
        currentVersion
        archivedAt
        lastAccessedAt
        createdAt
        updatedAt
        viewerCanReveal
        resourceType
        resourceId
        publicKeyFingerprint
        asset {
          id
          name
          host
          port
          hostKeyFingerprint
        }
        category {
          id
          name
        }
        folder {
          id
          path
        }
        createdBy {
          id
          name
        }
        updatedBy {
          id
          name
        }
        versions {
          version
          changedAt
          reason
          changedBy {
            id
            name
          }
        }
        requestablePolicies {
          id
          name
          defaultDurationMinutes
          maxDurationMinutes
          reasonRequired
          ticketRequired
        }
        viewerCanSeeAccessRecords
      }
    }
  }
`);

// Access history is for ADMIN, MANAGER and AUDITOR (anyone else gets FORBIDDEN): read only when the viewer may.
const AccessHistoryDoc = graphql(`
  query CredentialAccessHistory($id: ID!, $first: Int, $after: String) {
    node(id: $id) {
      __typename
      id
      ... on Credential {
        accessRecords(first: $first, after: $after) {
          totalCount
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            node {
              id
              at
              field
              version
              surface
              purpose
              clientAddress
            }
          }
        }
      }
    }
  }
`);

const RevealFromPage = graphql(`
  mutation RevealFromPage($input: RevealCredentialInput!) {
    revealCredential(input: $input) {
      __typename
      ... on RevealCredentialPayload {
        accessRecordId
        field
        version
        value
        otp {
          code
          secondsRemaining
        }
      }
      ... on Error {
        message
      }
      ... on ValidationError {
        fieldErrors {
          path
          message
        }
      }
      ... on RateLimitedError {
        retryAfterSeconds
      }
    }
  }
`);

const RecordCopy = graphql(`
  mutation RecordCopy($input: RecordCredentialAccessInput!) {
    recordCredentialAccess(input: $input) {
      __typename
      ... on RecordCredentialAccessPayload {
        accessRecord {
          id
        }
      }
      ... on Error {
        message
      }
      ... on ValidationError {
        fieldErrors {
          path
          message
        }
      }
      ... on RateLimitedError {
        retryAfterSeconds
      }
    }
  }
`);

const RequestAccessFromPage = graphql(`
  mutation RequestAccessFromPage($input: RequestAccessInput!) {
    requestAccess(input: $input) {
      __typename
      ... on RequestAccessPayload {
        accessRequest {
          id
          state
        }
      }
      ... on Error {
        message
      }
      ... on ValidationError {
        fieldErrors {
          path
          message
        }
      }
      ... on PolicyViolationError {
        rule
      }
    }
  }
`);

type Credential = Extract<NonNullable<CredentialPageQuery['node']>, { __typename: 'Credential' }>;
type RevealRefusal = Exclude<RevealFromPageMutation['revealCredential'], { __typename: 'RevealCredentialPayload' }>;
type RequestRefusal = Exclude<RequestAccessFromPageMutation['requestAccess'], { __typename: 'RequestAccessPayload' }>;

const SECRET_FIELD: Record<Credential['kind'], RevealField> = { PASSWORD: 'PASSWORD', SSH_KEY: 'SSH_PRIVATE_KEY', API_KEY: 'API_KEY_SECRET' };

export function CredentialPage({ id }: { id: string }) {
  const [after, setAfter] = useState<string | null>(null);
  const q = useQuery(CredentialPageDoc, { id });
  const mayReadHistory = q.data?.node?.__typename === 'Credential' && q.data.node.viewerCanSeeAccessRecords;
  const history = useQuery(AccessHistoryDoc, mayReadHistory ? { id, first: 20, after } : null);
  if (q.error) return <ErrorText error={q.error} />;
  if (!q.data) return <p>Loading…</p>;
  const c = q.data.node;
  if (!c || c.__typename !== 'Credential') return <p role="alert">Not found, or you are not allowed to see it.</p>;
  const h = history.data?.node?.__typename === 'Credential' ? history.data.node.accessRecords : null;
  const records = h ? h.edges.map((e) => e.node).filter((n) => !!n) : [];
  return (
    <section aria-labelledby="credential-title" className="credential">
      <p>
        <Link to="/credentials">← Credentials</Link>
      </p>
      <h1 id="credential-title">
        {c.name} {c.restricted && <span className="badge">restricted</span>}
      </h1>
      <div className="cards">
        <div className="card">
          <h2>Secret</h2>
          {c.restricted && !c.viewerCanReveal ? (
            <RequestAccess credential={c} />
          ) : (
            <>
              <Secret credentialId={c.id} field={SECRET_FIELD[c.kind]} onAccess={() => void q.refetch()} />
              {c.hasOtp && <Totp credential={c} />}
            </>
          )}
        </div>
        <div className="card">
          <h2>Details</h2>
          <dl className="meta">
            <dt>Kind</dt>
            <dd>{words(c.kind)}</dd>
            <dt>Username</dt>
            <dd>{c.username ?? '—'}</dd>
            <dt>URL</dt>
            <dd>{c.url ?? '—'}</dd>
            <dt>Folder</dt>
            <dd>{c.folder?.path ?? '—'}</dd>
            <dt>Category</dt>
            <dd>{c.category?.name ?? '—'}</dd>
            <dt>Password strength</dt>
            <dd>{c.passwordStrength ?? '—'}</dd>
            <dt>Password changed</dt>
            <dd>{when(c.passwordUpdatedAt)}</dd>
            <dt>Last accessed</dt>
            <dd>{when(c.lastAccessedAt)}</dd>
            <dt>Created</dt>
            <dd>
              {when(c.createdAt)} {c.createdBy ? `by ${c.createdBy.name}` : ''}
            </dd>
            <dt>Updated</dt>
            <dd>
              {when(c.updatedAt)} {c.updatedBy ? `by ${c.updatedBy.name}` : ''}
            </dd>
            {c.resourceType && (
              <>
                <dt>Resource</dt>
                <dd>
                  {c.resourceType} {c.resourceId}
                </dd>
              </>
            )}
            {c.asset && (
              <>
                <dt>Account of</dt>
                <dd data-testid="credential-asset">
                  {c.asset.name}{' '}
                  <span className="muted mono">
                    {c.asset.host}:{c.asset.port}
                  </span>{' '}
                  {c.asset.hostKeyFingerprint ? (
                    <span className="muted small mono">host key {c.asset.hostKeyFingerprint}</span>
                  ) : (
                    <span className="badge soft">host key not pinned</span>
                  )}
                </dd>
              </>
            )}
            {c.publicKeyFingerprint && (
              <>
                <dt>Key fingerprint</dt>
                <dd className="mono">{c.publicKeyFingerprint}</dd>
              </>
            )}
          </dl>
          {c.notes && <p className="notes">{c.notes}</p>}
        </div>
      </div>
      <h2>Versions</h2>
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Versions">
        <table>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Changed</th>
              <th scope="col">By</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {c.versions.map((v) => (
              <tr key={v.version}>
                <td>{v.version === c.currentVersion ? `${v.version} (current)` : v.version}</td>
                <td>{when(v.changedAt)}</td>
                <td>{v.changedBy?.name ?? '—'}</td>
                <td>{v.reason ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Access history</h2>
      {!c.viewerCanSeeAccessRecords && <p className="muted">The access history is for administrators, managers and auditors.</p>}
      {history.error && <ErrorText error={history.error} />}
      {h && (
      <>
      <p className="muted">{h.totalCount} accesses</p>
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Access history">
        <table data-testid="access-history">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">How</th>
              <th scope="col">Field</th>
              <th scope="col" className="wide">From</th>
            </tr>
          </thead>
          <tbody>
            {records.map((r) => (
              <tr key={r.id}>
                <td>{when(r.at)}</td>
                <td>{words(r.surface)}</td>
                <td>
                  {words(r.field)} v{r.version}
                </td>
                <td className="wide">{r.clientAddress ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label="Access history pages">
        <button type="button" disabled={after === null} onClick={() => setAfter(null)}>
          Newest
        </button>
        <button type="button" disabled={!h.pageInfo.hasNextPage} onClick={() => setAfter(h.pageInfo.endCursor ?? null)}>
          Older
        </button>
      </nav>
      </>
      )}
    </section>
  );
}

export function Secret({ credentialId, field, onAccess }: { credentialId: string; field: RevealField; onAccess?: () => void }) {
  const [value, setValue] = useState<string | null>(null);
  const [shown, setShown] = useState(false);
  const [error, setError] = useState<RevealRefusal | ApiError | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const fetchValue = async (purpose: string): Promise<string | null> => {
    if (value !== null) return value;
    try {
      const { revealCredential: r } = await request(RevealFromPage, { input: { id: credentialId, field, purpose } });
      if (r.__typename !== 'RevealCredentialPayload') {
        setError(r);
        return null;
      }
      setError(null);
      setValue(r.value ?? '');
      return r.value ?? '';
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), null));
      return null;
    }
  };
  const reveal = async () => {
    if (shown) return setShown(false);
    const v = await fetchValue('dashboard reveal');
    if (v !== null) {
      setShown(true);
      onAccess?.();
    }
  };
  const copy = async () => {
    setCopied(null);
    const v = await fetchValue('dashboard copy');
    if (v === null) return;
    try {
      await navigator.clipboard.writeText(v);
    } catch {
      setCopied('The browser refused clipboard access; nothing was copied.');
      return;
    }
    try {
      const { recordCredentialAccess: r } = await request(RecordCopy, { input: { id: credentialId, surface: 'COPY', field } });
      if (r.__typename !== 'RecordCredentialAccessPayload') return setError(r);
      setCopied('Copied to the clipboard.');
      onAccess?.();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), null));
    }
  };
  return (
    <div>
      <div className="secret">
        <code data-testid="secret-value" data-masked={!shown} aria-label={shown ? `${words(field)} value` : `${words(field)} hidden`}>
          {shown && value !== null ? value : '••••••••••••'}
        </code>
        <button type="button" data-testid="reveal-button" onClick={reveal} aria-pressed={shown}>
          {shown ? 'Hide' : 'Reveal'}
        </button>
        <button type="button" data-testid="copy-button" onClick={copy}>
          Copy
        </button>
      </div>
      <p className="muted small" role="status">
        {copied ?? 'Every reveal and copy is recorded in the access history.'}
      </p>
      <ErrorText error={error} />
    </div>
  );
}

function Totp({ credential }: { credential: Credential }) {
  const [otp, setOtp] = useState<{ code: string; until: number } | null>(null);
  const [error, setError] = useState<RevealRefusal | ApiError | null>(null);
  const now = useNow(otp !== null);
  const show = async () => {
    try {
      const { revealCredential: r } = await request(RevealFromPage, { input: { id: credential.id, field: 'OTP_CODE', purpose: 'dashboard TOTP' } });
      if (r.__typename !== 'RevealCredentialPayload' || !r.otp) return setError(r.__typename === 'RevealCredentialPayload' ? null : r);
      setError(null);
      setOtp({ code: r.otp.code, until: Date.now() + r.otp.secondsRemaining * 1000 });
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), null));
    }
  };
  const left = otp ? otp.until - now : 0;
  return (
    <div className="totp">
      <h3>One-time code</h3>
      {otp && left > 0 ? (
        <p>
          <code data-testid="totp-code" className="big">
            {otp.code}
          </code>{' '}
          <span data-testid="totp-countdown" aria-live="off">
            {Math.ceil(left / 1000)} s left
          </span>
          <progress max={30} value={Math.ceil(left / 1000)} aria-label="Time left for this code" />
        </p>
      ) : (
        <button type="button" data-testid="totp-button" onClick={show}>
          {otp ? 'Show the next code' : 'Show code'}
        </button>
      )}
      <ErrorText error={error} />
    </div>
  );
}

function RequestAccess({ credential }: { credential: Credential }) {
  const policies = credential.requestablePolicies;
  const [policyId, setPolicyId] = useState('');
  const [minutes, setMinutes] = useState('');
  const [reason, setReason] = useState('');
  const [ticket, setTicket] = useState('');
  const [error, setError] = useState<RequestRefusal | ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState(false);
  const policy = policies.find((p) => p.id === policyId) ?? (policies.length === 1 ? policies[0] : undefined);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const { requestAccess: r } = await request(RequestAccessFromPage, {
        input: {
          credentialId: credential.id,
          ...(policyId ? { policyId } : {}),
          ...(minutes ? { durationMinutes: Number(minutes) } : {}),
          ...(reason.trim() ? { reason: reason.trim() } : {}),
          ...(ticket.trim() ? { ticketNumber: ticket.trim() } : {}),
        },
      });
      if (r.__typename === 'RequestAccessPayload') {
        setError(null);
        setDone(`Requested: ${words(r.accessRequest.state)}.`);
      } else setError(r);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(String(err), null));
    } finally {
      setBusy(false);
    }
  };
  const typed = error && !(error instanceof ApiError) ? (error as TypedError) : null;
  if (done)
    return (
      <div role="status" data-testid="request-done">
        <p>{done}</p>
        <p>
          Follow it on <Link to="/requests">My requests</Link>.
        </p>
      </div>
    );
  if (!open)
    return (
      <div>
        <p>This credential is restricted: ask for a time window to use it.</p>
        <button type="button" data-testid="request-access-button" onClick={() => setOpen(true)}>
          Request access
        </button>
      </div>
    );
  return (
    <form onSubmit={submit} className="stack" aria-label="Request access">
      <p>This credential is restricted: ask for a time window to use it.</p>
      {policies.length > 1 && (
        <label>
          Policy
          <select value={policyId} onChange={(e) => setPolicyId(e.target.value)}>
            <option value="">Suggested by the server</option>
            {policies.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
      )}
      {policies.length === 0 && <p className="muted">No access policy lets you request this credential.</p>}
      <label>
        Window (minutes){policy ? ` — default ${policy.defaultDurationMinutes}, at most ${policy.maxDurationMinutes}` : ''}
        <input type="number" min={1} value={minutes} onChange={(e) => setMinutes(e.target.value)} aria-invalid={!!fieldMessage(typed, 'durationMinutes')} />
      </label>
      <label>
        Reason{policy?.reasonRequired ? ' (required)' : ''}
        <textarea data-testid="request-reason" value={reason} onChange={(e) => setReason(e.target.value)} rows={2} aria-invalid={!!fieldMessage(typed, 'reason')} />
      </label>
      <label>
        Ticket{policy?.ticketRequired ? ' (required)' : ''}
        <input data-testid="request-ticket" value={ticket} onChange={(e) => setTicket(e.target.value)} aria-invalid={!!fieldMessage(typed, 'ticketNumber')} />
      </label>
      <ErrorText error={error} />
      <button type="submit" data-testid="request-submit" disabled={busy}>
        Send request
      </button>
    </form>
  );
}
