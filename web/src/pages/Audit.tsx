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

const AuditPageExposure = graphql(`
  query AuditPageExposure($actorId: ID!, $since: DateTime!) {
    exposureReport(actorId: $actorId, since: $since) {
      truncated
      notRotatedCount
      entries {
        surfaces
        accessCount
        lastExposedAt
        rotatedSince
        credential {
          id
          name
          kind
        }
      }
    }
  }
`);

const RotateExposed = graphql(`
  mutation RotateExposed($input: RotateCredentialsInput!) {
    rotateCredentials(input: $input) {
      __typename
      ... on RotateCredentialsPayload {
        succeeded
        failed
        results {
          id
          error {
            __typename
            message
          }
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export function AuditPage() {
  const { org } = useOrg();
  const organizationId = org!.id;
  const mayRotate = org!.viewerRole === 'ADMIN' || org!.viewerRole === 'MANAGER';
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
  // "What did X see since Y": exposureReport, whatever the action filter; rotate what still works in one call.
  const exposure = useQuery(AuditPageExposure, actorId && from ? { actorId, since: new Date(from).toISOString() } : null);
  const exposed = exposure.data?.exposureReport;
  const stillValid = (exposed?.entries ?? []).filter((e) => !e.rotatedSince && e.credential.kind === 'PASSWORD').map((e) => e.credential.id);
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
    const r = (await request(RotateExposed, { input: { ids: stillValid.slice(0, 100), reason: 'Exposure response from the audit page', generate: { length: 24 } } })).rotateCredentials;
    if (r.__typename !== 'RotateCredentialsPayload') {
      setError(r);
      return;
    }
    const refused = r.results.find((x) => x.error)?.error;
    setRotated(`${r.succeeded} rotated${r.failed ? `, ${r.failed} refused (${refused?.message ?? ''})` : ''}.`);
    await exposure.refetch();
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
      {actorId && !from && <p className="muted">Pick a date under “Since” to see what this person saw since then.</p>}
      {exposed && (
        <div className="card" data-testid="exposure-report">
          <p>
            Since then this person saw {exposed.entries.length}
            {exposed.truncated ? '+' : ''} credential{exposed.entries.length === 1 ? '' : 's'}; {exposed.notRotatedCount} not rotated since.{' '}
            {mayRotate && stillValid.length > 0 && (
              <button type="button" className="danger" data-testid="rotate-exposed" onClick={rotateAll}>
                Rotate all of these ({Math.min(stillValid.length, 100)})
              </button>
            )}{' '}
            {rotated && <span role="status">{rotated}</span>}
          </p>
          <ul data-testid="exposure-list">
            {exposed.entries.map((e) => (
              <li key={e.credential.id}>
                {e.credential.name} — {e.surfaces.join(', ').toLowerCase()}, last {when(e.lastExposedAt)}
                {e.rotatedSince ? ' (rotated since)' : ''}
              </li>
            ))}
          </ul>
          <ErrorText error={exposure.error} />
        </div>
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
