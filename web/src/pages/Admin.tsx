import { useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import type { Role, WorkflowActionType, WorkflowTrigger } from '../gql/graphql';
import { ErrorText, type TypedError } from '../components/ErrorText';
import { ApiError, request, useQuery } from '../lib/api';
import { when, words } from '../lib/format';
import { useOrg } from '../lib/org';
import { SignInRules } from '../components/SignInRules';

const AdminMembers = graphql(`
  query AdminMembers($id: ID!) {
    organization(id: $id) {
      id
      members(first: 50) {
        totalCount
        edges {
          node {
            id
            role
            user {
              id
              email
              name
              disabledAt
            }
          }
        }
      }
    }
  }
`);

const AdminKeys = graphql(`
  query AdminKeys($id: ID!) {
    organization(id: $id) {
      id
      apiKeys(first: 50) {
        edges {
          node {
            id
            name
            role
            prefix
            createdAt
            expiresAt
            lastUsedAt
            revokedAt
          }
        }
      }
    }
  }
`);

const AdminSettings = graphql(`
  query AdminSettings($id: ID!) {
    organization(id: $id) {
      id
      accessPolicies {
        id
        name
        enabled
        defaultDurationMinutes
        maxDurationMinutes
        reasonRequired
        ticketRequired
        reviewRequired
        steps {
          index
          requiredApprovals
        }
      }
      categories {
        id
        name
        credentialCount
      }
      folders {
        id
        name
        credentialCount
      }
    }
    workflows(organizationId: $id) {
      id
      name
      enabled
      trigger
      consecutiveFailures
      actions {
        index
        type
      }
    }
  }
`);

const AdminInviteMember = graphql(`
  mutation AdminInviteMember($input: InviteMemberInput!) {
    inviteMember(input: $input) {
      __typename
      ... on InviteMemberPayload {
        token
        invitation {
          id
          email
          expiresAt
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
      ... on AlreadyExistsError {
        field
      }
    }
  }
`);

const AdminSetRole = graphql(`
  mutation AdminSetRole($input: UpdateMemberRoleInput!) {
    updateMemberRole(input: $input) {
      __typename
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

const AdminCreateKey = graphql(`
  mutation AdminCreateKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      __typename
      ... on CreateApiKeyPayload {
        key
        apiKey {
          id
          name
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

const AdminRevokeKey = graphql(`
  mutation AdminRevokeKey($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) {
      apiKey {
        id
        revokedAt
      }
    }
  }
`);

const AdminTestWorkflow = graphql(`
  mutation AdminTestWorkflow($input: TestWorkflowActionInput!) {
    testWorkflowAction(input: $input) {
      __typename
      ... on TestWorkflowActionPayload {
        delivered
        results {
          actionIndex
          type
          delivered
          error
          statusCode
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

const AdminCreateCategory = graphql(`
  mutation AdminCreateCategory($input: CreateCategoryInput!) {
    createCategory(input: $input) {
      __typename
      ... on Error {
        message
      }
      ... on ValidationError {
        fieldErrors {
          path
          message
        }
      }
      ... on AlreadyExistsError {
        field
      }
    }
  }
`);

const AdminCreateFolder = graphql(`
  mutation AdminCreateFolder($input: CreateFolderInput!) {
    createFolder(input: $input) {
      __typename
      ... on Error {
        message
      }
      ... on ValidationError {
        fieldErrors {
          path
          message
        }
      }
      ... on AlreadyExistsError {
        field
      }
    }
  }
`);

const AdminCreatePolicy = graphql(`
  mutation AdminCreatePolicy($input: CreateAccessPolicyInput!) {
    createAccessPolicy(input: $input) {
      __typename
      ... on CreateAccessPolicyPayload {
        accessPolicy {
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
    }
  }
`);

const AdminCreateWorkflow = graphql(`
  mutation AdminCreateWorkflow($input: CreateWorkflowInput!) {
    createWorkflow(input: $input) {
      __typename
      ... on CreateWorkflowPayload {
        signingSecret
        workflow {
          id
          name
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

const AdminSetWorkflowEnabled = graphql(`
  mutation AdminSetWorkflowEnabled($input: SetWorkflowEnabledInput!) {
    setWorkflowEnabled(input: $input) {
      workflow {
        id
        enabled
      }
    }
  }
`);

const TRIGGERS: WorkflowTrigger[] = ['PASSWORD_ACCESS', 'ACCESS_REQUEST_PENDING', 'ACCESS_REQUEST_DECIDED', 'SESSION_STARTED', 'SESSION_ENDED'];
/** A starting text per trigger (editable); only variables that trigger offers (workflowVariables). */
const TEMPLATES: Record<WorkflowTrigger, { subject: string; body: string }> = {
  PASSWORD_ACCESS: { subject: '{{actor.email}} accessed {{credential.name}}', body: '{{actor.email}}: {{surface}} of {{credential.name}} at {{accessedAt}}.' },
  ACCESS_REQUEST_PENDING: { subject: 'Access request waiting: {{credential.name}}', body: '{{request.requester.email}} asks for {{credential.name}}: {{request.reason}}' },
  ACCESS_REQUEST_DECIDED: { subject: 'Access request {{request.state}}: {{credential.name}}', body: 'The request of {{request.requester.email}} for {{credential.name}} is {{request.state}}.' },
  SESSION_STARTED: { subject: 'SSH session started: {{credential.name}}', body: '{{session.user.email}} opened {{session.host}} as {{credential.name}} at {{occurredAt}}.' },
  SESSION_ENDED: { subject: 'SSH session ended: {{credential.name}}', body: 'The session of {{session.user.email}} on {{session.host}} ended ({{session.endReason}}) at {{occurredAt}}.' },
};
const ACTION_TYPES: WorkflowActionType[] = ['EMAIL', 'WEBHOOK', 'SLACK'];

/** What the new-policy form holds; turned into CreateAccessPolicyInput on submit. */
type PolicyForm = {
  name: string;
  folderIds: string[];
  categoryIds: string[];
  requesterRoles: Role[];
  approverRoles: Role[];
  requiredApprovals: number;
  defaultDurationMinutes: number;
  maxDurationMinutes: number;
  reasonRequired: boolean;
  ticketRequired: boolean;
  ticketPattern: string;
  reviewRequired: boolean;
};
const NEW_POLICY: PolicyForm = {
  name: '',
  folderIds: [],
  categoryIds: [],
  requesterRoles: ['MEMBER'],
  approverRoles: ['ADMIN', 'MANAGER'],
  requiredApprovals: 1,
  defaultDurationMinutes: 60,
  maxDurationMinutes: 240,
  reasonRequired: true,
  ticketRequired: false,
  ticketPattern: '',
  reviewRequired: false,
};

/** Checkboxes for a set of roles (keyboard-usable: each is a labelled checkbox). */
function RoleChecks({ legend, value, onChange, testId }: { legend: string; value: Role[]; onChange: (v: Role[]) => void; testId: string }) {
  return (
    <fieldset data-testid={testId}>
      <legend>{legend}</legend>
      {ROLES.map((r) => (
        <label key={r} className="check">
          <input type="checkbox" checked={value.includes(r)} onChange={(e) => onChange(e.target.checked ? [...value, r] : value.filter((x) => x !== r))} /> {words(r)}
        </label>
      ))}
    </fieldset>
  );
}

const ROLES: Role[] = ['ADMIN', 'MANAGER', 'MEMBER', 'AUDITOR'];
type Outcome = TypedError | ApiError | null;

/** Runs a mutation whose answer is a payload or a typed error; returns the error to show, if any. */
async function attempt(run: () => Promise<{ __typename?: string }>): Promise<Outcome> {
  try {
    const r = await run();
    return r.__typename?.endsWith('Payload') ? null : (r as TypedError);
  } catch (e) {
    return e instanceof ApiError ? e : new ApiError(String(e), null);
  }
}

export function AdminPage() {
  const { org } = useOrg();
  const id = org!.id;
  const membersQ = useQuery(AdminMembers, { id });
  const keysQ = useQuery(AdminKeys, { id });
  const settingsQ = useQuery(AdminSettings, { id });
  const q = {
    error: membersQ.error ?? keysQ.error ?? settingsQ.error,
    data: settingsQ.data,
    refetch: async () => {
      await Promise.all([membersQ.refetch(), keysQ.refetch(), settingsQ.refetch()]);
    },
  };
  const [error, setError] = useState<Outcome>(null);
  const [newKey, setNewKey] = useState<{ name: string; key: string } | null>(null);
  const [tested, setTested] = useState<string | null>(null);
  const [member, setMember] = useState({ email: '', role: 'MEMBER' as Role });
  const [invitation, setInvitation] = useState<{ email: string; token: string } | null>(null);
  const [keyForm, setKeyForm] = useState({ name: '', role: 'MEMBER' as Role });
  const [category, setCategory] = useState('');
  const [folder, setFolder] = useState('');
  const [policy, setPolicy] = useState<PolicyForm>(NEW_POLICY);
  const [signing, setSigning] = useState<{ name: string; signingSecret: string } | null>(null);
  const [workflow, setWorkflow] = useState({ name: '', trigger: 'PASSWORD_ACCESS' as WorkflowTrigger, type: 'EMAIL' as WorkflowActionType, target: '', ...TEMPLATES.PASSWORD_ACCESS });
  const o = settingsQ.data?.organization;
  const members = membersQ.data?.organization?.members.edges ?? [];
  const keys = keysQ.data?.organization?.apiKeys.edges ?? [];
  const done = async (e: Outcome) => {
    setError(e);
    if (!e) await q.refetch();
    return !e;
  };
  const addMember = async (ev: FormEvent) => {
    ev.preventDefault();
    try {
      const r = (await request(AdminInviteMember, { input: { organizationId: id, email: member.email, role: member.role } })).inviteMember;
      if (r.__typename === 'InviteMemberPayload') {
        setInvitation({ email: r.invitation.email, token: r.token });
        setMember({ email: '', role: 'MEMBER' });
        await done(null);
      } else setError(r);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), null));
    }
  };
  const createKey = async (ev: FormEvent) => {
    ev.preventDefault();
    try {
      const r = (await request(AdminCreateKey, { input: { organizationId: id, name: keyForm.name, role: keyForm.role } })).createApiKey;
      if (r.__typename === 'CreateApiKeyPayload') {
        setNewKey({ name: r.apiKey.name, key: r.key });
        setKeyForm({ name: '', role: 'MEMBER' });
        await done(null);
      } else setError(r);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), null));
    }
  };
  const createPolicy = async (ev: FormEvent) => {
    ev.preventDefault();
    const input = {
      organizationId: id,
      name: policy.name,
      scope: { folderIds: policy.folderIds, categoryIds: policy.categoryIds },
      requesters: { roles: policy.requesterRoles },
      // No approvals needed: the policy approves automatically (no steps).
      steps: policy.requiredApprovals > 0 ? [{ approvers: { roles: policy.approverRoles }, requiredApprovals: policy.requiredApprovals }] : [],
      defaultDurationMinutes: policy.defaultDurationMinutes,
      maxDurationMinutes: policy.maxDurationMinutes,
      reasonRequired: policy.reasonRequired,
      ticketRequired: policy.ticketRequired,
      ticketPattern: policy.ticketPattern.trim() || null,
      reviewRequired: policy.reviewRequired,
      reviewers: policy.reviewRequired ? { roles: policy.approverRoles } : undefined,
    };
    if (await done(await attempt(async () => (await request(AdminCreatePolicy, { input })).createAccessPolicy))) setPolicy(NEW_POLICY);
  };
  const createWorkflow = async (ev: FormEvent) => {
    ev.preventDefault();
    const target = workflow.target.trim();
    const action =
      workflow.type === 'EMAIL'
        ? { type: workflow.type, recipients: target.split(/[\s,]+/).filter(Boolean).slice(0, 50), subject: workflow.subject, body: workflow.body }
        : workflow.type === 'SLACK'
        ? { type: workflow.type, url: target, message: workflow.body }
        : { type: workflow.type, url: target };
    const input = { organizationId: id, name: workflow.name, trigger: workflow.trigger, actions: [action] };
    let created: { name: string; signingSecret: string } | null = null;
    const outcome = await attempt(async () => {
      const r = (await request(AdminCreateWorkflow, { input })).createWorkflow;
      if (r.__typename === 'CreateWorkflowPayload') created = { name: r.workflow.name, signingSecret: r.signingSecret };
      return r;
    });
    if (await done(outcome)) {
      setWorkflow({ ...workflow, name: '', target: '' });
      // Webhook receivers check signatures with it; like an API key it is shown once.
      if (workflow.type === 'WEBHOOK') setSigning(created);
    }
  };
  const multi = (ev: { target: HTMLSelectElement }) => Array.from(ev.target.selectedOptions, (o) => o.value);
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Administration</h1>
      <ErrorText error={q.error ?? error} />
      <SignInRules organizationId={id} />
      <h2>Members and roles</h2>
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Members">
        <table>
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Role</th>
            </tr>
          </thead>
          <tbody>
            {members.map((e) =>
              e.node ? (
                <tr key={e.node.id}>
                  <td>
                    {e.node.user.name ?? '—'} <span className="muted">{e.node.user.email}</span>
                    {e.node.user.disabledAt && <span className="badge soft">disabled</span>}
                  </td>
                  <td>
                    <select
                      aria-label={`Role of ${e.node.user.email}`}
                      value={e.node.role}
                      onChange={async (ev) => {
                        const membershipId = e.node!.id;
                        const role = ev.target.value as Role;
                        await done(await attempt(async () => (await request(AdminSetRole, { input: { membershipId, role } })).updateMemberRole));
                      }}
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {words(r)}
                        </option>
                      ))}
                    </select>
                  </td>
                </tr>
              ) : null,
            )}
          </tbody>
        </table>
      </div>
      <form className="filters card" onSubmit={addMember} aria-label="Invite a member">
        <label>
          Email
          <input type="email" required value={member.email} onChange={(e) => setMember({ ...member, email: e.target.value })} />
        </label>
        <label>
          Role
          <select value={member.role} onChange={(e) => setMember({ ...member, role: e.target.value as Role })}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {words(r)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Invite member</button>
      </form>
      {invitation && (
        <div className="card notice" role="status" data-testid="new-invitation">
          <p>
            Invitation for <strong>{invitation.email}</strong>. Pass this one-time token to them (shown once): someone with an
            account accepts it after signing in; someone new sets their name and password with it.
          </p>
          <code className="mono break">{invitation.token}</code>
          <button type="button" onClick={() => setInvitation(null)}>
            Done
          </button>
        </div>
      )}

      <h2>API keys</h2>
      {newKey && (
        <div className="card notice" role="status" data-testid="new-api-key">
          <p>
            The key <strong>{newKey.name}</strong> is shown once. Store it now:
          </p>
          <code className="mono break">{newKey.key}</code>
          <button type="button" onClick={() => setNewKey(null)}>
            I have stored it
          </button>
        </div>
      )}
      <div className="table-wrap" tabIndex={0} role="region" aria-label="API keys">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col" className="wide">Last used</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {keys.map((e) =>
              e.node ? (
                <tr key={e.node.id}>
                  <td>
                    {e.node.name} <span className="muted mono">{e.node.prefix}…</span>
                  </td>
                  <td>{words(e.node.role)}</td>
                  <td className="wide">{when(e.node.lastUsedAt)}</td>
                  <td>
                    {e.node.revokedAt ? (
                      `revoked ${when(e.node.revokedAt)}`
                    ) : (
                      <button
                        type="button"
                        className="danger"
                        onClick={async () => {
                          const keyId = e.node!.id;
                          await done(await attempt(async () => ({ __typename: 'RevokePayload', ...(await request(AdminRevokeKey, { input: { id: keyId } })) })));
                        }}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ) : null,
            )}
          </tbody>
        </table>
      </div>
      <form className="filters card" onSubmit={createKey} aria-label="Create an API key">
        <label>
          Name
          <input required value={keyForm.name} onChange={(e) => setKeyForm({ ...keyForm, name: e.target.value })} />
        </label>
        <label>
          Role
          <select value={keyForm.role} onChange={(e) => setKeyForm({ ...keyForm, role: e.target.value as Role })}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {words(r)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Create key</button>
      </form>

      <h2>Access policies</h2>
      <ul className="plain">
        {o?.accessPolicies.map((p) => (
          <li key={p.id} className="card">
            <strong>{p.name}</strong> {!p.enabled && <span className="badge soft">disabled</span>}
            <div className="muted small">
              {p.steps.length === 0 ? 'approved automatically' : p.steps.map((s) => `step ${s.index + 1}: ${s.requiredApprovals} approval(s)`).join(' → ')} · window{' '}
              {p.defaultDurationMinutes} min (max {p.maxDurationMinutes}) {p.reasonRequired ? '· reason required ' : ''}
              {p.ticketRequired ? '· ticket required ' : ''}
              {p.reviewRequired ? '· reviewed afterwards' : ''}
            </div>
          </li>
        ))}
      </ul>

      <form className="card stack" onSubmit={createPolicy} aria-label="New access policy" data-testid="policy-form">
        <h3>New access policy</h3>
        <label>
          Name
          <input required maxLength={200} value={policy.name} onChange={(e) => setPolicy({ ...policy, name: e.target.value })} data-testid="policy-name" />
        </label>
        <div className="cards">
          <label>
            Folders it covers (with their subfolders)
            <select multiple value={policy.folderIds} onChange={(e) => setPolicy({ ...policy, folderIds: multi(e) })} data-testid="policy-folders">
              {o?.folders.map((f) => (
                <option key={f.id} value={f.id}>
                  {f.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Categories it covers
            <select multiple value={policy.categoryIds} onChange={(e) => setPolicy({ ...policy, categoryIds: multi(e) })} data-testid="policy-categories">
              {o?.categories.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
        </div>
        <p className="muted small">It applies to the restricted credentials in those folders and categories.</p>
        <RoleChecks legend="Who may ask" value={policy.requesterRoles} onChange={(v) => setPolicy({ ...policy, requesterRoles: v })} testId="policy-requesters" />
        <RoleChecks legend="Who approves" value={policy.approverRoles} onChange={(v) => setPolicy({ ...policy, approverRoles: v })} testId="policy-approvers" />
        <div className="cards">
          <label>
            Approvals needed (0: approved automatically)
            <input type="number" min={0} max={10} value={policy.requiredApprovals} onChange={(e) => setPolicy({ ...policy, requiredApprovals: Number(e.target.value) })} data-testid="policy-approvals" />
          </label>
          <label>
            Default window (minutes)
            <input type="number" min={1} value={policy.defaultDurationMinutes} onChange={(e) => setPolicy({ ...policy, defaultDurationMinutes: Number(e.target.value) })} />
          </label>
          <label>
            Longest window (minutes)
            <input type="number" min={1} value={policy.maxDurationMinutes} onChange={(e) => setPolicy({ ...policy, maxDurationMinutes: Number(e.target.value) })} />
          </label>
        </div>
        <label className="check">
          <input type="checkbox" checked={policy.reasonRequired} onChange={(e) => setPolicy({ ...policy, reasonRequired: e.target.checked })} /> A reason is required
        </label>
        <label className="check">
          <input type="checkbox" checked={policy.ticketRequired} onChange={(e) => setPolicy({ ...policy, ticketRequired: e.target.checked })} /> A ticket is required
        </label>
        <label>
          Ticket pattern (optional, RE2 syntax, e.g. INC-[0-9]+)
          <input value={policy.ticketPattern} maxLength={200} onChange={(e) => setPolicy({ ...policy, ticketPattern: e.target.value })} />
        </label>
        <label className="check">
          <input type="checkbox" checked={policy.reviewRequired} onChange={(e) => setPolicy({ ...policy, reviewRequired: e.target.checked })} /> Reviewed afterwards by the approvers
        </label>
        <button type="submit" data-testid="policy-submit">
          Create policy
        </button>
      </form>

      <h2>Workflows</h2>
      {tested && (
        <p role="status" className="notice">
          {tested}
        </p>
      )}
      <ul className="plain">
        {q.data?.workflows.map((w) => (
          <li key={w.id} className="card">
            <strong>{w.name}</strong> <span className="muted">on {words(w.trigger)}</span> {!w.enabled && <span className="badge soft">disabled</span>}
            <div className="actions">
              <span className="muted small">{w.actions.map((a) => words(a.type)).join(', ')}</span>
              <button
                type="button"
                onClick={async () => {
                  const workflowId = w.id;
                  const enabled = !w.enabled;
                  await done(await attempt(async () => ({ __typename: 'SetWorkflowEnabledPayload', ...(await request(AdminSetWorkflowEnabled, { input: { id: workflowId, enabled } })) })));
                }}
              >
                {w.enabled ? 'Disable' : 'Enable'}
              </button>
              <button
                type="button"
                onClick={async () => {
                  try {
                    const r = (await request(AdminTestWorkflow, { input: { id: w.id } })).testWorkflowAction;
                    if (r.__typename !== 'TestWorkflowActionPayload') return setError(r);
                    setTested(
                      `${w.name}: ` + r.results.map((x) => `${words(x.type)} ${x.delivered ? 'delivered' : `failed${x.statusCode ? ` (${x.statusCode})` : ''}${x.error ? `: ${x.error}` : ''}`}`).join('; '),
                    );
                  } catch (e) {
                    setError(e instanceof ApiError ? e : new ApiError(String(e), null));
                  }
                }}
              >
                Test
              </button>
            </div>
          </li>
        ))}
      </ul>

      {signing && (
        <div className="card notice" role="status" data-testid="new-signing-secret">
          <p>
            Webhook signatures of <strong>{signing.name}</strong> use this secret (HMAC-SHA256, header X-Vaultgate-Signature). It is
            shown once:
          </p>
          <code className="mono break">{signing.signingSecret}</code>
          <button type="button" onClick={() => setSigning(null)}>
            I have stored it
          </button>
        </div>
      )}
      <form className="filters card" onSubmit={createWorkflow} aria-label="New workflow" data-testid="workflow-form">
        <label>
          Name
          <input required maxLength={200} value={workflow.name} onChange={(e) => setWorkflow({ ...workflow, name: e.target.value })} data-testid="workflow-name" />
        </label>
        <label>
          When
          <select value={workflow.trigger} onChange={(e) => setWorkflow({ ...workflow, trigger: e.target.value as WorkflowTrigger, ...TEMPLATES[e.target.value as WorkflowTrigger] })}>
            {TRIGGERS.map((t) => (
              <option key={t} value={t}>
                {words(t)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Send
          <select value={workflow.type} onChange={(e) => setWorkflow({ ...workflow, type: e.target.value as WorkflowActionType })}>
            {ACTION_TYPES.map((t) => (
              <option key={t} value={t}>
                {words(t)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {workflow.type === 'EMAIL' ? 'To (addresses, comma-separated)' : workflow.type === 'SLACK' ? 'Slack incoming-webhook URL' : 'Webhook URL'}
          <input required value={workflow.target} onChange={(e) => setWorkflow({ ...workflow, target: e.target.value })} data-testid="workflow-target" />
        </label>
        {workflow.type === 'EMAIL' && (
          <label>
            Subject
            <input required value={workflow.subject} onChange={(e) => setWorkflow({ ...workflow, subject: e.target.value })} />
          </label>
        )}
        {workflow.type !== 'WEBHOOK' && (
          <label>
            {workflow.type === 'EMAIL' ? 'Text' : 'Message'} ({'{{variables}}'} are filled in; never secrets)
            <input required value={workflow.body} onChange={(e) => setWorkflow({ ...workflow, body: e.target.value })} />
          </label>
        )}
        <button type="submit" data-testid="workflow-submit">
          Create workflow
        </button>
      </form>

      <h2>Categories and folders</h2>
      <div className="cards">
        <form
          className="card stack"
          aria-label="Add a category"
          onSubmit={async (ev) => {
            ev.preventDefault();
            if (await done(await attempt(async () => (await request(AdminCreateCategory, { input: { organizationId: id, name: category } })).createCategory))) setCategory('');
          }}
        >
          <p>{o?.categories.map((c) => `${c.name} (${c.credentialCount})`).join(', ') || 'No categories yet.'}</p>
          <label>
            New category
            <input required value={category} onChange={(e) => setCategory(e.target.value)} />
          </label>
          <button type="submit">Add category</button>
        </form>
        <form
          className="card stack"
          aria-label="Add a top-level folder"
          onSubmit={async (ev) => {
            ev.preventDefault();
            if (await done(await attempt(async () => (await request(AdminCreateFolder, { input: { organizationId: id, name: folder } })).createFolder))) setFolder('');
          }}
        >
          <p>{o?.folders.map((f) => `${f.name} (${f.credentialCount})`).join(', ') || 'No folders yet.'}</p>
          <label>
            New top-level folder
            <input required value={folder} onChange={(e) => setFolder(e.target.value)} />
          </label>
          <button type="submit">Add folder</button>
        </form>
      </div>
    </section>
  );
}
