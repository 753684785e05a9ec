import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, type OrgFixture } from '../support/fixtures.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { ACCESS_SCHEDULER_INTERVAL_MS: '0' } });
});
afterAll(async () => {
  await server?.stop();
});

type Actor = { token: string; userId?: string };
const SECRET = 'Restricted-Domain-Admin-7c1d!';

const CREATE_CREDENTIAL = /* GraphQL */ `
  mutation($input: CreateCredentialInput!) {
    createCredential(input: $input) { __typename ... on CreateCredentialPayload { credential { id } } ... on ValidationError { fieldErrors { path message } } }
  }
`;
const CREATE_POLICY = /* GraphQL */ `
  mutation($input: CreateAccessPolicyInput!) {
    createAccessPolicy(input: $input) {
      __typename
      ... on CreateAccessPolicyPayload { accessPolicy { id name steps { index requiredApprovals approvers { roles users { email } } } } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const REQUEST_FIELDS = `
  id state reason ticketNumber fields startsAt endsAt currentStep policyName reviewRequired needsReview reviewedAt reviewComment
  viewerCanApprove viewerCanDeny viewerCanRevoke viewerCanCancel viewerCanCheckIn viewerCanReview viewerCanReveal
  credential { id name } requester { email } resubmittedFrom { id }
  steps { approvalCount completed step { index requiredApprovals } }
  approvals { step decision comment approver { email } }
  history { seq action fromState toState comment actor { email } }
`;
const ERROR_FIELDS = `
  ... on Error { message }
  ... on PolicyViolationError { rule }
  ... on InvalidRequestStateError { state }
  ... on ValidationError { fieldErrors { path message } }
`;
const REQUEST = `mutation($input: RequestAccessInput!) { requestAccess(input: $input) { __typename ... on RequestAccessPayload { accessRequest { ${REQUEST_FIELDS} } } ${ERROR_FIELDS.replace('... on InvalidRequestStateError { state }', '')} } }`;
const act = (name: string, inputType: string) =>
  `mutation($input: ${inputType}!) { ${name}(input: $input) { __typename ... on ${name.charAt(0).toUpperCase()}${name.slice(1)}Payload { accessRequest { ${REQUEST_FIELDS} } } ${ERROR_FIELDS} } }`;
const APPROVE = act('approveAccessRequest', 'ApproveAccessRequestInput');
const DENY = act('denyAccessRequest', 'DenyAccessRequestInput');
const REVOKE = act('revokeAccessRequest', 'RevokeAccessRequestInput');
const CANCEL = act('cancelAccessRequest', 'CancelAccessRequestInput');
const CHECK_IN = act('checkInAccessRequest', 'CheckInAccessRequestInput');
const RESUBMIT = act('resubmitAccessRequest', 'ResubmitAccessRequestInput');
const REMOVE = act('removeAccessRequest', 'RemoveAccessRequestInput');
const bulk = (name: string, inputType: string) =>
  `mutation($input: ${inputType}!) { ${name}(input: $input) { __typename ... on ${name.charAt(0).toUpperCase()}${name.slice(1)}Payload { succeeded failed results { id accessRequest { id state } error { __typename message } } } ... on Error { message } } }`;
const REVIEW = bulk('reviewAccessRequests', 'ReviewAccessRequestsInput');
const APPROVE_MANY = bulk('approveAccessRequests', 'ApproveAccessRequestsInput');
const GET = `query($id: ID!) { accessRequest(id: $id) { ${REQUEST_FIELDS} } node(id: $id) { id } }`;
const REVEAL = /* GraphQL */ `
  mutation($input: RevealCredentialInput!) {
    revealCredential(input: $input) { __typename ... on RevealCredentialPayload { value version otp { code } } ... on Error { message } }
  }
`;

type World = {
  org: OrgFixture;
  admin: Actor;
  manager: Actor & { email: string };
  manager2: Actor & { email: string };
  member: Actor & { email: string };
  bystander: Actor;
  auditor: Actor & { email: string };
  credentialId: string;
};

async function createCredential(org: OrgFixture, actor: Actor, extra: Record<string, unknown> = {}) {
  const res = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'Domain admin', password: SECRET, otpSecret: 'JBSWY3DPEHPK3PXP', restricted: true, ...extra } }, actor);
  if (res.data?.createCredential?.__typename !== 'CreateCredentialPayload') throw new Error(JSON.stringify(res));
  return res.data.createCredential.credential.id as string;
}

async function createPolicy(w: Pick<World, 'org' | 'admin'>, input: Record<string, unknown>) {
  const res = await server.gql(CREATE_POLICY, { input: { organizationId: w.org.orgId, name: 'Tier 0', ...input } }, w.admin);
  if (res.data?.createAccessPolicy?.__typename !== 'CreateAccessPolicyPayload') throw new Error(JSON.stringify(res));
  return res.data.createAccessPolicy.accessPolicy as { id: string };
}

async function world(label: string): Promise<World> {
  const org = await createOrg(server, label);
  const [manager, manager2, member, bystander, auditor] = [
    await addMember(server, org, 'MANAGER'),
    await addMember(server, org, 'MANAGER'),
    await addMember(server, org, 'MEMBER'),
    await addMember(server, org, 'MEMBER'),
    await addMember(server, org, 'AUDITOR'),
  ];
  const admin = org.admin;
  const credentialId = await createCredential(org, admin);
  return { org, admin, manager, manager2, member, bystander, auditor, credentialId };
}

const standardPolicy = (w: World, extra: Record<string, unknown> = {}) =>
  createPolicy(w, {
    scope: { credentialIds: [w.credentialId] },
    requesters: { userIds: [w.member.userId], roles: [] },
    steps: [{ approvers: { roles: ['MANAGER'] }, requiredApprovals: 1 }],
    reviewRequired: true,
    reviewers: { roles: ['AUDITOR'] },
    reviewCommentRequired: true,
    ticketRequired: true,
    ticketPattern: 'INC-[0-9]+',
    defaultDurationMinutes: 60,
    maxDurationMinutes: 120,
    rotateOnCheckIn: true,
    ...extra,
  });

const requestAs = async (actor: Actor, input: Record<string, unknown>) => {
  const res = await server.gql(REQUEST, { input }, actor);
  if (!res.data?.requestAccess) throw new Error(JSON.stringify(res));
  return res.data.requestAccess;
};
const run = async (doc: string, actor: Actor, input: Record<string, unknown>) => {
  const res = await server.gql(doc, { input }, actor);
  const payload = res.data && Object.values(res.data)[0];
  if (!payload || res.errors) throw new Error(JSON.stringify(res) + server.logs.filter((l) => l.includes("\"level\":50")).slice(-2).join("\n"));
  return payload as any;
};
const reveal = async (actor: Actor, id: string, field = 'PASSWORD') => (await server.gql(REVEAL, { input: { id, field } }, actor)).data?.revealCredential;
const local = (id: string) => decodeGlobalID(id).id;
const nodes = (connection: { edges: { node: unknown }[] }) => connection.edges.map((e) => e.node);

describe('access requests: from ask to review', () => {
  it('walks one request through policy checks, approval, reveal, check-in with rotation, and review', async () => {
    const w = await world('walk');
    await standardPolicy(w);

    // Restricted: no reveal without a request, whatever the role.
    expect((await reveal(w.member, w.credentialId)).__typename).toBe('AccessRequestRequiredError');
    expect((await reveal(w.admin, w.credentialId)).__typename).toBe('AccessRequestRequiredError');

    // The policy's rules, each with the rule that failed.
    expect(await requestAs(w.member, { credentialId: w.credentialId, reason: 'patching' })).toMatchObject({ __typename: 'PolicyViolationError', rule: 'TICKET_REQUIRED' });
    expect(await requestAs(w.member, { credentialId: w.credentialId, reason: 'patching', ticketNumber: 'CHG-1' })).toMatchObject({ rule: 'TICKET_PATTERN' });
    expect(await requestAs(w.member, { credentialId: w.credentialId, ticketNumber: 'INC-42' })).toMatchObject({ rule: 'REASON_REQUIRED' });
    expect(await requestAs(w.member, { credentialId: w.credentialId, reason: 'x', ticketNumber: 'INC-42', durationMinutes: 121 })).toMatchObject({ rule: 'DURATION_TOO_LONG' });
    expect(await requestAs(w.bystander, { credentialId: w.credentialId, reason: 'x', ticketNumber: 'INC-42' })).toMatchObject({ rule: 'NOT_ELIGIBLE' });
    expect(await server.app.deps.db.accessRequest.count({ where: { organizationId: local(w.org.orgId) } })).toBe(0);

    const asked = await requestAs(w.member, { credentialId: w.credentialId, reason: 'Patch Tuesday', ticketNumber: 'INC-42' });
    expect(asked.__typename).toBe('RequestAccessPayload');
    const req = asked.accessRequest;
    expect(req).toMatchObject({
      state: 'PENDING',
      fields: ['PASSWORD', 'OTP_CODE'],
      policyName: 'Tier 0',
      currentStep: 0,
      viewerCanCancel: true,
      viewerCanApprove: false,
      requester: { email: w.member.email },
      history: [{ seq: 1, action: 'REQUEST', fromState: null, toState: 'PENDING', comment: 'Patch Tuesday', actor: { email: w.member.email } }],
    });
    expect(new Date(req.endsAt).getTime() - new Date(req.startsAt).getTime()).toBe(60 * 60_000);

    // The approver's queue: the request with the credential's metadata, requester, reason and ticket.
    const queue = await server.gql(`query { approvalQueue { totalCount edges { node { id reason ticketNumber credential { name restricted } requester { email } viewerCanApprove } } } }`, {}, w.manager);
    expect(queue.data.approvalQueue.totalCount).toBe(1);
    expect(nodes(queue.data.approvalQueue)).toEqual([
      { id: req.id, reason: 'Patch Tuesday', ticketNumber: 'INC-42', credential: { name: 'Domain admin', restricted: true }, requester: { email: w.member.email }, viewerCanApprove: true },
    ]);
    // Nobody else's queue has it, and a bystander cannot even see it.
    expect(nodes((await server.gql(`query { approvalQueue { edges { node { id } } } }`, {}, w.member)).data.approvalQueue)).toEqual([]);
    const hidden = await server.gql(GET, { id: req.id }, w.bystander);
    expect(hidden.data).toEqual({ accessRequest: null, node: null });
    const refused = await server.gql(APPROVE, { input: { id: req.id } }, w.bystander);
    expect(refused.errors?.[0]).toMatchObject({ message: 'Not found, or not allowed.', extensions: { code: 'FORBIDDEN' } });

    // Approve: the window has started, so it is available at once; the approver saw no secret on the way.
    const approved = await run(APPROVE, w.manager, { id: req.id, comment: 'ok for INC-42' });
    expect(approved.accessRequest).toMatchObject({
      state: 'AVAILABLE',
      approvals: [{ step: 0, decision: 'APPROVE', comment: 'ok for INC-42', approver: { email: w.manager.email } }],
      steps: [{ approvalCount: 1, completed: true, step: { index: 0, requiredApprovals: 1 } }],
    });
    expect(JSON.stringify(approved)).not.toContain(SECRET);
    expect((await run(APPROVE, w.manager2, { id: req.id })).__typename).toBe('InvalidRequestStateError');

    // Available: the requester reveals the released fields, only them, and nobody else does.
    const mine = (await server.gql(GET, { id: req.id }, w.member)).data.accessRequest;
    expect(mine).toMatchObject({ state: 'AVAILABLE', viewerCanReveal: true, viewerCanCheckIn: true, viewerCanCancel: false });
    expect(await reveal(w.member, w.credentialId)).toMatchObject({ __typename: 'RevealCredentialPayload', value: SECRET, version: 1 });
    expect((await reveal(w.member, w.credentialId, 'OTP_CODE')).otp.code).toMatch(/^\d{6}$/);
    expect((await reveal(w.member, w.credentialId, 'OTP_SECRET')).__typename).toBe('FieldNotAvailableError');
    expect((await reveal(w.bystander, w.credentialId)).__typename).toBe('AccessRequestRequiredError');
    expect((await reveal(w.manager, w.credentialId)).__typename).toBe('AccessRequestRequiredError');
    const canReveal = await server.gql(`query($id: ID!) { node(id: $id) { ... on Credential { viewerCanReveal } } }`, { id: w.credentialId }, w.member);
    expect(canReveal.data.node.viewerCanReveal).toBe(true);

    // Check in: the window closes and the policy rotates the password.
    const checkedIn = await run(CHECK_IN, w.member, { id: req.id, comment: 'done' });
    expect(checkedIn.accessRequest).toMatchObject({ state: 'CHECKED_IN', needsReview: true, viewerCanCheckIn: false });
    expect((await reveal(w.member, w.credentialId)).__typename).toBe('AccessRequestRequiredError');
    const credential = await server.app.deps.db.credential.findUniqueOrThrow({ where: { id: local(w.credentialId) } });
    expect(credential.currentVersion).toBe(2);
    const versions = await server.app.deps.db.credentialVersion.findMany({ where: { credentialId: credential.id }, orderBy: { version: 'asc' } });
    expect(versions[1].reason).toContain('ended (checked in)');

    // Review: the auditor's queue; a comment is required; the requester never reviews.
    const rq = await server.gql(`query { reviewQueue { edges { node { id needsReview } } } }`, {}, w.auditor);
    expect(nodes(rq.data.reviewQueue)).toEqual([{ id: req.id, needsReview: true }]);
    const noComment = await run(REVIEW, w.auditor, { ids: [req.id] });
    expect(noComment).toMatchObject({ succeeded: 0, failed: 1, results: [{ id: req.id, accessRequest: null, error: { __typename: 'ValidationError' } }] });
    const reviewed = await run(REVIEW, w.auditor, { ids: [req.id], comment: 'matches INC-42' });
    expect(reviewed).toMatchObject({ succeeded: 1, failed: 0, results: [{ id: req.id, accessRequest: { state: 'CHECKED_IN' }, error: null }] });
    expect(nodes((await server.gql(`query { reviewQueue { edges { node { id } } } }`, {}, w.auditor)).data.reviewQueue)).toEqual([]);
    const again = await run(REVIEW, w.auditor, { ids: [req.id], comment: 'twice' });
    expect(again.results[0].error.__typename).toBe('InvalidRequestStateError');

    // The whole story, in the request's history and in the audit log.
    const final = (await server.gql(GET, { id: req.id }, w.admin)).data.accessRequest;
    expect(final.history.map((h: { action: string; fromState: string | null; toState: string }) => [h.action, h.fromState, h.toState])).toEqual([
      ['REQUEST', null, 'PENDING'],
      ['APPROVE', 'PENDING', 'APPROVED'],
      ['START', 'APPROVED', 'AVAILABLE'],
      ['CHECK_IN', 'AVAILABLE', 'CHECKED_IN'],
      ['REVIEW', 'CHECKED_IN', 'CHECKED_IN'],
    ]);
    expect(final).toMatchObject({ reviewedAt: expect.any(String), reviewComment: 'matches INC-42', needsReview: false });
    const audit = await server.app.deps.db.auditEvent.findMany({ where: { targetId: local(req.id) }, orderBy: { seq: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['access_request.create', 'access_request.approve', 'access_request.check_in', 'access_request.review']);
    const accesses = await server.app.deps.db.accessRecord.count({ where: { credentialId: credential.id } });
    expect(accesses).toBe(2);
  });
});

describe('access requests: the other ways a request ends', () => {
  it('auto-approves without steps; an approver denies after approval; an ADMIN revokes; requesters cancel, resubmit and remove', async () => {
    const w = await world('ends');
    const auto = await createCredential(w.org, w.admin, { name: 'Break-glass' });
    await createPolicy(w, { name: 'Self-service', scope: { credentialIds: [auto] }, requesters: { roles: ['MEMBER'] }, steps: [], reasonRequired: false });
    const instant = await requestAs(w.member, { credentialId: auto, durationMinutes: 15 });
    expect(instant.accessRequest).toMatchObject({ state: 'AVAILABLE', history: [{ action: 'REQUEST' }, { action: 'AUTO_APPROVE', toState: 'APPROVED' }, { action: 'START', toState: 'AVAILABLE' }] });
    expect((await reveal(w.member, auto)).value).toBe(SECRET);

    await standardPolicy(w, { reviewRequired: false, rotateOnCheckIn: false });
    const ask = async () => (await requestAs(w.member, { credentialId: w.credentialId, reason: 'r', ticketNumber: 'INC-1' })).accessRequest.id as string;

    // Deny after approval, while available: reveal stops at once.
    const a = await ask();
    await run(APPROVE, w.manager, { id: a });
    expect((await reveal(w.member, w.credentialId)).value).toBe(SECRET);
    expect((await run(DENY, w.manager2, { id: a, comment: 'wrong ticket' })).accessRequest).toMatchObject({ state: 'DENIED' });
    expect((await reveal(w.member, w.credentialId)).__typename).toBe('AccessRequestRequiredError');
    expect((await run(APPROVE, w.manager, { id: a })).__typename).toBe('InvalidRequestStateError');

    // Resubmit the denied one: a new linked request with the same reason and ticket.
    const again = (await run(RESUBMIT, w.member, { id: a, reason: 'right ticket' })).accessRequest;
    expect(again).toMatchObject({ state: 'PENDING', reason: 'right ticket', ticketNumber: 'INC-1', resubmittedFrom: { id: a }, history: [{ action: 'RESUBMIT' }] });
    expect((await run(RESUBMIT, w.member, { id: again.id })).__typename).toBe('InvalidRequestStateError');

    // ADMIN revokes without being an approver; a bystander cannot.
    await run(APPROVE, w.manager, { id: again.id });
    const byBystander = await server.gql(REVOKE, { input: { id: again.id } }, w.bystander);
    expect(byBystander.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await run(REVOKE, w.admin, { id: again.id, comment: 'incident closed' })).accessRequest).toMatchObject({ state: 'REVOKED' });

    // Cancel while pending; only the requester; then remove it from the list (the record stays).
    const c = await ask();
    expect((await run(CANCEL, w.manager, { id: c })).__typename).toBe('NotApproverError');
    expect((await run(CANCEL, w.member, { id: c })).accessRequest.state).toBe('CANCELLED');
    const pendingOne = await ask();
    expect((await run(REMOVE, w.member, { id: pendingOne })).__typename).toBe('InvalidRequestStateError');
    await run(REMOVE, w.member, { id: c });
    const mine = await server.gql(`query($s: [AccessRequestState!]) { myAccessRequests(filter: { states: $s }) { totalCount edges { node { id state } } } }`, {}, w.member);
    expect(mine.data.myAccessRequests.edges.map((e: { node: { id: string } }) => e.node.id)).not.toContain(c);
    expect(mine.data.myAccessRequests.totalCount).toBe(4);
    const denied = await server.gql(`query($s: [AccessRequestState!]) { myAccessRequests(filter: { states: $s }) { edges { node { id } } } }`, { s: ['DENIED'] }, w.member);
    expect(denied.data.myAccessRequests.edges).toEqual([{ node: { id: a } }]);
    expect(await server.app.deps.db.accessRequest.count({ where: { id: local(c) } })).toBe(1);

    // The ADMIN sees all of the organization's requests; the bystander none of them.
    const all = await server.gql(`query($o: ID!) { accessRequests(organizationId: $o) { totalCount } }`, { o: w.org.orgId }, w.admin);
    expect(all.data.accessRequests.totalCount).toBe(5); // the removed one included
    const none = await server.gql(`query($o: ID!) { accessRequests(organizationId: $o) { totalCount } }`, { o: w.org.orgId }, w.bystander);
    expect(none.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    // A credential with an open request is not deleted.
    const del = await server.gql(`mutation($id: ID!) { deleteCredential(input: { id: $id }) { __typename } }`, { id: w.credentialId }, w.admin);
    expect(del.data.deleteCredential.__typename).toBe('CredentialHasOpenRequestsError');
  });

  it('refuses self-approval, runs steps in order, lets approvers change the window within the maximum, and reports bulk results per request', async () => {
    const w = await world('steps');
    await standardPolicy(w, {
      requesters: { roles: ['MANAGER', 'MEMBER'] },
      steps: [
        { approvers: { roles: ['MANAGER'] }, requiredApprovals: 2 },
        { approvers: { userIds: [w.admin.userId] }, requiredApprovals: 1 },
      ],
      approversMayChangeWindow: true,
      ticketRequired: false,
      reviewRequired: false,
    });
    // A manager asks; the other manager and the requester are step-one approvers, but the requester never counts.
    const own = (await requestAs(w.manager, { credentialId: w.credentialId, reason: 'r' })).accessRequest.id;
    expect((await run(APPROVE, w.manager, { id: own })).__typename).toBe('SelfApprovalError');

    const id = (await requestAs(w.member, { credentialId: w.credentialId, reason: 'r' })).accessRequest.id;
    expect((await run(APPROVE, w.admin, { id })).__typename).toBe('NotApproverError');
    const first = (await run(APPROVE, w.manager, { id })).accessRequest;
    expect(first).toMatchObject({ state: 'PENDING', currentStep: 0, steps: [{ approvalCount: 1, completed: false }, { approvalCount: 0, completed: false }] });
    expect((await run(APPROVE, w.manager, { id })).__typename).toBe('AlreadyDecidedError');
    const second = (await run(APPROVE, w.manager2, { id })).accessRequest;
    expect(second).toMatchObject({ state: 'PENDING', currentStep: 1, steps: [{ approvalCount: 2, completed: true }, { completed: false }] });
    expect(nodes((await server.gql(`query { approvalQueue { edges { node { id } } } }`, {}, w.admin)).data.approvalQueue)).toEqual([{ id }]);

    // The last approver shortens the window: allowed within the maximum, refused beyond it.
    const tooLong = await run(APPROVE, w.admin, { id, durationMinutes: 121 });
    expect(tooLong).toMatchObject({ __typename: 'PolicyViolationError', rule: 'DURATION_TOO_LONG' });
    const done = (await run(APPROVE, w.admin, { id, durationMinutes: 30 })).accessRequest;
    expect(done.state).toBe('AVAILABLE');
    expect(new Date(done.endsAt).getTime() - new Date(done.startsAt).getTime()).toBe(30 * 60_000);

    // Bulk: one succeeds, one is already decided, one is another organization's (answered like a missing one).
    const other = await world('steps-other');
    await standardPolicy(other, { ticketRequired: false });
    const foreign = (await requestAs(other.member, { credentialId: other.credentialId, reason: 'r' })).accessRequest.id;
    const fresh = (await requestAs(w.member, { credentialId: w.credentialId, reason: 'r2' })).accessRequest.id;
    const result = await run(APPROVE_MANY, w.manager, { ids: [fresh, id, foreign, encodeGlobalID('AccessRequest', 'nope')] });
    expect(result).toMatchObject({ succeeded: 1, failed: 3 });
    expect(result.results.map((r: { id: string; accessRequest: { state: string } | null; error: { __typename: string } | null }) => [r.id, r.accessRequest?.state ?? null, r.error?.__typename ?? null])).toEqual([
      [fresh, 'PENDING', null],
      [id, null, 'InvalidRequestStateError'],
      [foreign, null, 'AccessRequestNotFoundError'],
      [encodeGlobalID('AccessRequest', 'nope'), null, 'AccessRequestNotFoundError'],
    ]);
  });

  it('chooses among several covering policies: the one named if eligible, else the strictest', async () => {
    const w = await world('choose');
    const lenient = await createPolicy(w, { name: 'Lenient', scope: { credentialIds: [w.credentialId] }, requesters: { roles: ['MEMBER'] }, steps: [], reasonRequired: false });
    await createPolicy(w, { name: 'Strict', scope: { credentialIds: [w.credentialId] }, requesters: { roles: ['MEMBER'] }, steps: [{ approvers: { roles: ['MANAGER'] }, requiredApprovals: 2 }], reasonRequired: false });
    await createPolicy(w, { name: 'Managers only', scope: { credentialIds: [w.credentialId] }, requesters: { roles: ['MANAGER'] }, steps: [{ approvers: { roles: ['ADMIN'] }, requiredApprovals: 1 }, { approvers: { roles: ['ADMIN'] }, requiredApprovals: 1 }], reasonRequired: false });

    const listed = await server.gql(`query($id: ID!) { node(id: $id) { ... on Credential { requestablePolicies { name } } } }`, { id: w.credentialId }, w.member);
    expect(listed.data.node.requestablePolicies).toEqual([{ name: 'Strict' }, { name: 'Lenient' }]);
    const strict = await requestAs(w.member, { credentialId: w.credentialId });
    expect(strict.accessRequest).toMatchObject({ policyName: 'Strict', state: 'PENDING' });
    const named = await requestAs(w.member, { credentialId: w.credentialId, policyId: lenient.id });
    expect(named.accessRequest).toMatchObject({ policyName: 'Lenient', state: 'AVAILABLE' });
    const managersOnly = (await server.gql(`query($o: ID!) { organization(id: $o) { accessPolicies { id name } } }`, { o: w.org.orgId }, w.member)).data.organization.accessPolicies.find((p: { name: string }) => p.name === 'Managers only');
    expect(await requestAs(w.member, { credentialId: w.credentialId, policyId: managersOnly.id })).toMatchObject({ rule: 'NOT_ELIGIBLE' });

    // Folder scope covers subfolders; an unrestricted credential needs no request.
    const plain = await createCredential(w.org, w.admin, { name: 'Printer', restricted: false });
    expect(await requestAs(w.member, { credentialId: plain })).toMatchObject({ rule: 'NOT_RESTRICTED' });
  });
});
