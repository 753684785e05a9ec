import { useState } from 'react';
import { graphql } from '../gql';
import type { AuditEventFilter } from '../gql/graphql';
import { ErrorText } from '../components/ErrorText';
import { ApiError, request, useQuery } from '../lib/api';
import { when } from '../lib/format';
import { useOrg } from '../lib/org';

const AuditPageEvents = graphql(`
  query AuditPageEvents($filter: AuditEventFilter!, $first: Int, $after: String) {
    auditEvents(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          seq
          at
          action
          actor {
            id
            email
          }
          actorApiKey {
            id
            name
          }
          targetType
          targetId
        }
      }
    }
  }
`);

const AuditPageMembers = graphql(`
  query AuditPageMembers($id: ID!) {
    organization(id: $id) {
      id
      members(first: 100) {
        edges {
          node {
            id
            user {
              id
              email
            }
          }
        }
      }
    }
  }
`);

const AuditPageVerify = graphql(`
  query AuditPageVerify($organizationId: ID!) {
    verifyAuditLog(organizationId: $organizationId) {
      ok
      checkedCount
      headSeq
      headHash
      problem
      firstBadSeq
      reason
    }
  }
`);

const AuditPageExport = graphql(`
  mutation AuditPageExport($input: ExportAuditLogInput!) {
    exportAuditLog(input: $input) {
      count
      headSeq
      headHash
      jsonLines
    }
  }
`);

const RotateFromAudit = graphql(`
  mutation RotateFromAudit($input: RotateCredentialInput!) {
    rotateCredential(input: $input) {
      __typename
      ... on RotateCredentialPayload {
        credential {
          id
          currentVersion
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
    }
  }
`);

export function AuditPage() {
  const { org } = useOrg();
  const organizationId = org!.id;
  const [actorId, setActorId] = useState('');
  const [prefix, setPrefix] = useState('');
  const [from, setFrom] = useState('');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [verify, setVerify] = useState(false);
  const [exportNote, setExportNote] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | { __typename?: string; message: string } | null>(null);
  const [rotated, setRotated] = useState<string | null>(null);
  const filter: AuditEventFilter = {
    organizationId,
    ...(actorId ? { actorId } : {}),
    ...(prefix ? { actionPrefix: prefix } : {}),
    ...(from ? { from: new Date(from).toISOString() } : {}),
  };
  const events = useQuery(AuditPageEvents, { filter, first: 50, after: cursors.at(-1) ?? null });
  const members = useQuery(AuditPageMembers, { id: organizationId });
  const verified = useQuery(AuditPageVerify, verify ? { organizationId } : null);
  const conn = events.data?.auditEvents;
  const rows = (conn?.edges ?? []).map((e) => e.node).filter((n) => !!n);
  const setFilter = (f: () => void) => {
    f();
    setCursors([null]);
  };
  // "What did X reveal since Y": the credentials among the rows, to rotate in one go.
  const revealed = prefix === 'credential.' && actorId ? [...new Set(rows.filter((r) => r.targetType === 'Credential' && r.targetId && /reveal|copy|export/.test(r.action)).map((r) => r.targetId!))] : [];
  const exportLog = async () => {
    try {
      const r = (await request(AuditPageExport, { input: { organizationId } })).exportAuditLog;
      const url = URL.createObjectURL(new Blob([r.jsonLines], { type: 'application/x-ndjson' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `audit-${org!.name}-${r.headSeq}.jsonl`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setExportNote(`Exported ${r.count} entries up to #${r.headSeq} (head ${r.headHash.slice(0, 12)}…).`);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), null));
    }
  };
  const rotateAll = async () => {
    let done = 0;
    for (const id of revealed.slice(0, 100)) {
      const r = (await request(RotateFromAudit, { input: { id, reason: 'Rotated from the audit page after review', generate: { length: 24 } } })).rotateCredential;
      if (r.__typename !== 'RotateCredentialPayload') {
        setError(r);
        break;
      }
      done++;
    }
    setRotated(`${done} credential${done === 1 ? '' : 's'} rotated.`);
  };
  const v = verified.data?.verifyAuditLog;
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <div className="card verify">
        <button type="button" data-testid="verify-audit" onClick={() => (verify ? void verified.refetch() : setVerify(true))}>
          Verify the hash chain
        </button>
        <button type="button" data-testid="export-audit" onClick={exportLog}>
          Export (JSON lines)
        </button>
        <span role="status" data-testid="verify-status">
          {verified.loading && 'Checking…'}
          {v && (v.ok ? `Intact: ${v.checkedCount} entries checked, head #${v.headSeq ?? 0}.` : `Broken at #${v.firstBadSeq ?? '?'}: ${v.problem ?? ''} ${v.reason ?? ''}`)}
        </span>
        {exportNote && <p role="status">{exportNote}</p>}
        <ErrorText error={verified.error} />
      </div>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Person
          <select value={actorId} onChange={(e) => setFilter(() => setActorId(e.target.value))}>
            <option value="">Anyone</option>
            {members.data?.organization?.members.edges.map((e) =>
              e.node ? (
                <option key={e.node.user.id} value={e.node.user.id}>
                  {e.node.user.email}
                </option>
              ) : null,
            )}
          </select>
        </label>
        <label>
          What
          <select value={prefix} onChange={(e) => setFilter(() => setPrefix(e.target.value))}>
            <option value="">Everything</option>
            <option value="credential.">Credential accesses and changes</option>
            <option value="auth.">Sign-ins</option>
            <option value="member.">Members</option>
            <option value="access_policy.">Access policies</option>
            <option value="api_key.">API keys</option>
            <option value="workflow.">Workflows</option>
          </select>
        </label>
        <label>
          Since
          <input type="datetime-local" value={from} onChange={(e) => setFilter(() => setFrom(e.target.value))} />
        </label>
      </form>
      {revealed.length > 0 && (
        <p className="card">
          This person accessed {revealed.length} credential{revealed.length === 1 ? '' : 's'} in this view.{' '}
          <button type="button" className="danger" onClick={rotateAll}>
            Rotate them now
          </button>{' '}
          {rotated && <span role="status">{rotated}</span>}
        </p>
      )}
      <ErrorText error={events.error ?? error} />
      <p className="muted">{conn ? `${conn.totalCount} entries` : ''}</p>
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Audit entries">
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">Who</th>
              <th scope="col" className="wide">Target</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-testid="audit-row">
                <td>{r.seq}</td>
                <td className="nowrap">{when(r.at)}</td>
                <td className="mono">{r.action}</td>
                <td>{r.actor?.email ?? (r.actorApiKey ? `key ${r.actorApiKey.name}` : 'system')}</td>
                <td className="wide mono small">{r.targetType ? `${r.targetType} ${r.targetId ?? ''}` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <button type="button" disabled={!conn?.pageInfo.hasNextPage} onClick={() => conn?.pageInfo.endCursor && setCursors([...cursors, conn.pageInfo.endCursor])}>
          Older
        </button>
      </nav>
    </section>
  );
}
