import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, PASSWORD, SIGN_IN, type OrgFixture } from '../support/fixtures.ts';
import { auditHash, GENESIS_HASH, SYSTEM_CHAIN } from '../../src/modules/audit/audit.chain.ts';
import { verifyChain } from '../../src/modules/audit/audit.service.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const EVENTS = /* GraphQL */ `
  query Events($filter: AuditEventFilter!, $first: Int, $after: String) {
    auditEvents(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id seq action at actorId actor { email } targetType targetId data prevHash hash } }
    }
  }
`;
const VERIFY = /* GraphQL */ `
  query Verify($organizationId: ID!, $expectedHead: AuditHeadInput) {
    verifyAuditLog(organizationId: $organizationId, expectedHead: $expectedHead) {
      ok checkedCount headSeq headHash firstBadSeq problem reason
    }
  }
`;
const EXPORT = /* GraphQL */ `
  mutation Export($input: ExportAuditLogInput!) {
    exportAuditLog(input: $input) { jsonLines headSeq headHash count }
  }
`;
const CREATE_CREDENTIAL = /* GraphQL */ `
  mutation Create($input: CreateCredentialInput!) {
    createCredential(input: $input) {
      __typename
      ... on CreateCredentialPayload { credential { id } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const REVEAL = /* GraphQL */ `
  mutation Reveal($input: RevealCredentialInput!) {
    revealCredential(input: $input) { __typename ... on RevealCredentialPayload { value accessRecordId } ... on Error { message } }
  }
`;
const RECORD_ACCESS = /* GraphQL */ `
  mutation Record($input: RecordCredentialAccessInput!) {
    recordCredentialAccess(input: $input) { __typename ... on RecordCredentialAccessPayload { accessRecord { id } } ... on Error { message } }
  }
`;
const ROTATE = /* GraphQL */ `
  mutation Rotate($input: RotateCredentialInput!) {
    rotateCredential(input: $input) { __typename ... on RotateCredentialPayload { credential { currentVersion } } ... on ValidationError { fieldErrors { path message } } }
  }
`;
const UPDATE_CREDENTIAL = `mutation($input: UpdateCredentialInput!) { updateCredential(input: $input) { __typename } }`;
const EXPORT_CREDENTIALS = `mutation($input: ExportCredentialsInput!) { exportCredentials(input: $input) { __typename ... on ExportCredentialsPayload { content secretsExported } } }`;
const DISABLE_USER = `mutation($input: DisableUserInput!) { disableUser(input: $input) { user { id } } }`;
const ENABLE_USER = `mutation($input: EnableUserInput!) { enableUser(input: $input) { user { id } } }`;
const ARCHIVE = `mutation($input: ArchiveCredentialInput!) { archiveCredential(input: $input) { credential { id } } }`;
const DELETE = `mutation($input: DeleteCredentialInput!) { deleteCredential(input: $input) { __typename ... on DeleteCredentialPayload { deletedCredentialId } } }`;
const UPDATE_ROLE = /* GraphQL */ `
  mutation Role($input: UpdateMemberRoleInput!) {
    updateMemberRole(input: $input) { __typename ... on UpdateMemberRolePayload { membership { role } } ... on Error { message } }
  }
`;
const REMOVE_MEMBER = /* GraphQL */ `
  mutation Remove($input: RemoveMemberInput!) {
    removeMember(input: $input) { __typename ... on RemoveMemberPayload { removedMembershipId } ... on Error { message } }
  }
`;
const CREATE_API_KEY = /* GraphQL */ `
  mutation Key($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { __typename ... on CreateApiKeyPayload { key apiKey { id } } ... on ValidationError { fieldErrors { path message } } }
  }
`;
const REVOKE_API_KEY = `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { id } } }`;
const UPDATE_ORG = /* GraphQL */ `
  mutation Org($input: UpdateOrganizationInput!) {
    updateOrganization(input: $input) { __typename ... on UpdateOrganizationPayload { organization { name } } }
  }
`;

type Actor = { token?: string; apiKey?: string };
type EventNode = {
  id: string;
  seq: number;
  action: string;
  at: string;
  actorId: string | null;
  actor: { email: string } | null;
  targetType: string | null;
  targetId: string | null;
  data: string;
  prevHash: string;
  hash: string;
};
type ExportLine = {
  chain: string;
  seq: number;
  organizationId: string | null;
  action: string;
  actorUserId: string | null;
  actorApiKeyId: string | null;
  targetType: string | null;
  targetId: string | null;
  data: string;
  at: string;
  prevHash: string;
  hash: string;
};

const SECRET = 'Audit-Secret-7c1d$never-logged';
const ZEROS = '0'.repeat(64);
const localOf = (globalId: string) => decodeGlobalID(globalId).id;
const db = () => server.app.deps.db;

async function createCredential(org: OrgFixture, actor: Actor, name = 'Domain admin', password = SECRET): Promise<string> {
  const res = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name, password } }, actor);
  const payload = res.data?.createCredential;
  if (payload?.__typename !== 'CreateCredentialPayload') throw new Error(`createCredential failed: ${JSON.stringify(res)}`);
  return payload.credential.id as string;
}

async function createApiKey(org: OrgFixture, role: 'ADMIN' | 'MANAGER' | 'MEMBER' | 'AUDITOR', name = `${role} key`) {
  const res = await server.gql(CREATE_API_KEY, { input: { organizationId: org.orgId, name, role } }, org.admin);
  const payload = res.data?.createApiKey;
  if (payload?.__typename !== 'CreateApiKeyPayload') throw new Error(`createApiKey failed: ${JSON.stringify(res)}`);
  return { key: payload.key as string, id: payload.apiKey.id as string };
}

async function events(actor: Actor, filter: Record<string, unknown>, page: { first?: number; after?: string } = {}) {
  return server.gql(EVENTS, { filter, ...page }, actor);
}

/** Every event of the organization's log, oldest first. */
async function allEvents(org: OrgFixture, actor: Actor = org.admin): Promise<EventNode[]> {
  // Pages of 50: a variable page size is costed like a literal one (a page of 100 of this selection is over the cost limit).
  const all: EventNode[] = [];
  let after: string | undefined;
  for (;;) {
    const res = await events(actor, { organizationId: org.orgId }, { first: 50, after });
    if (!res.data) throw new Error(`auditEvents failed: ${JSON.stringify(res)}`);
    all.push(...(res.data.auditEvents.edges as { node: EventNode }[]).map((e) => e.node));
    if (!res.data.auditEvents.pageInfo.hasNextPage) return all.reverse();
    after = res.data.auditEvents.pageInfo.endCursor;
  }
}

async function verify(org: OrgFixture, expectedHead?: { seq: number; hash: string }, actor: Actor = org.admin) {
  const res = await server.gql(VERIFY, { organizationId: org.orgId, expectedHead }, actor);
  if (!res.data) throw new Error(`verifyAuditLog failed: ${JSON.stringify(res)}`);
  return res.data.verifyAuditLog as {
    ok: boolean;
    checkedCount: number;
    headSeq: number;
    headHash: string;
    firstBadSeq: number | null;
    problem: string | null;
    reason: string | null;
  };
}

async function exportLog(org: OrgFixture, actor: Actor = org.admin) {
  const res = await server.gql(EXPORT, { input: { organizationId: org.orgId } }, actor);
  if (!res.data) throw new Error(`exportAuditLog failed: ${JSON.stringify(res)}`);
  return res.data.exportAuditLog as { jsonLines: string; headSeq: number; headHash: string; count: number };
}

/** The export format's hash, recomputed from its documentation alone (not with the server's function). */
function recomputeHash(l: ExportLine): string {
  const canonical = JSON.stringify([
    'vaultgate/audit/v1', l.chain, l.seq, l.organizationId, l.action, l.actorUserId, l.actorApiKeyId, l.targetType, l.targetId, l.data, l.at, l.prevHash,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** Appends `count` events (credential creations) to the organization's chain. */
async function appendSome(org: OrgFixture, count: number) {
  for (let i = 0; i < count; i += 1) await createCredential(org, org.admin, `filler ${i}`, `filler-secret-${i}`);
}

const FORBIDDEN = expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) });

describe('audit log: what is recorded', () => {
  it('appends every security-relevant action in order, seq 1..n, each linked to the hash before it, never with secrets', async () => {
    const org = await createOrg(server, 'audit-chain');
    const orgLocal = localOf(org.orgId);
    const member = await addMember(server, org, 'MEMBER');
    const leaver = await addMember(server, org, 'MEMBER');
    const auditor = await addMember(server, org, 'AUDITOR');

    const promoted = await server.gql(UPDATE_ROLE, { input: { membershipId: member.membershipId, role: 'MANAGER' } }, org.admin);
    expect(promoted.data.updateMemberRole).toEqual({ __typename: 'UpdateMemberRolePayload', membership: { role: 'MANAGER' } });
    const removed = await server.gql(REMOVE_MEMBER, { input: { membershipId: leaver.membershipId } }, org.admin);
    expect(removed.data.removeMember.__typename).toBe('RemoveMemberPayload');

    const credentialId = await createCredential(org, member);
    const revealed = await server.gql(REVEAL, { input: { id: credentialId, field: 'PASSWORD', purpose: 'ticket 17' } }, member);
    expect(revealed.data.revealCredential).toMatchObject({ __typename: 'RevealCredentialPayload', value: SECRET });
    const copied = await server.gql(RECORD_ACCESS, { input: { id: credentialId, field: 'PASSWORD', surface: 'COPY' } }, member);
    expect(copied.data.recordCredentialAccess.__typename).toBe('RecordCredentialAccessPayload');
    const updated = await server.gql(UPDATE_CREDENTIAL, { input: { id: credentialId, name: 'Domain admin (old)' } }, member);
    expect(updated.data.updateCredential.__typename).toBe('UpdateCredentialPayload');
    const rotated = await server.gql(ROTATE, { input: { id: credentialId, newSecret: { password: `${SECRET}-v2` }, reason: 'offboarding' } }, member);
    expect(rotated.data.rotateCredential).toEqual({ __typename: 'RotateCredentialPayload', credential: { currentVersion: 2 } });
    const bulk = await server.gql(EXPORT_CREDENTIALS, { input: { organizationId: org.orgId, format: 'JSON', includeSecrets: true } }, org.admin);
    expect(bulk.data.exportCredentials).toMatchObject({ __typename: 'ExportCredentialsPayload', secretsExported: 1 });
    expect(bulk.data.exportCredentials.content).toContain(`${SECRET}-v2`);
    expect((await server.gql(ARCHIVE, { input: { id: credentialId } }, member)).data.archiveCredential.credential.id).toBe(credentialId);
    expect((await server.gql(DELETE, { input: { id: credentialId } }, org.admin)).data.deleteCredential.deletedCredentialId).toBe(credentialId);

    const apiKey = await createApiKey(org, 'AUDITOR', 'siem export');
    expect((await server.gql(REVOKE_API_KEY, { input: { id: apiKey.id } }, org.admin)).data.revokeApiKey.apiKey.id).toBe(apiKey.id);
    const renamed = await server.gql(UPDATE_ORG, { input: { id: org.orgId, name: 'Renamed org' } }, org.admin);
    expect(renamed.data.updateOrganization.organization.name).toBe('Renamed org');

    const res = await events(auditor, { organizationId: org.orgId }, { first: 50 });
    expect(res.errors).toBeUndefined();
    expect(res.data.auditEvents.totalCount).toBe(18);
    const log = (res.data.auditEvents.edges as { node: EventNode }[]).map((e) => e.node);
    // Newest first.
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 18 }, (_, i) => 18 - i));
    const asc = [...log].reverse();
    expect(asc.map((e) => e.action)).toEqual([
      'organization.create',
      'member.add',
      'member.add',
      'member.add',
      'member.role_change',
      'member.remove',
      'credential.create',
      'credential.reveal',
      'credential.copy',
      'credential.update',
      'credential.rotate',
      'credential.export',
      'credential.export_list',
      'credential.archive',
      'credential.delete',
      'api_key.create',
      'api_key.revoke',
      'organization.update',
    ]);
    expect(asc[0].prevHash).toBe(ZEROS);
    for (const [i, e] of asc.entries()) {
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      if (i > 0) expect(e.prevHash).toBe(asc[i - 1].hash);
    }
    expect(new Set(asc.map((e) => e.hash)).size).toBe(asc.length);

    // Who acted on what.
    const bySeq = (seq: number) => asc[seq - 1];
    expect(bySeq(1)).toMatchObject({ actorId: null, targetType: 'Organization', targetId: org.orgId });
    expect(bySeq(2)).toMatchObject({ actorId: org.admin.userId, actor: { email: org.admin.email }, targetType: 'Membership', targetId: member.membershipId });
    expect(JSON.parse(bySeq(5).data)).toEqual({ userId: localOf(member.userId), from: 'MEMBER', to: 'MANAGER' });
    expect(bySeq(6)).toMatchObject({ action: 'member.remove', targetId: leaver.membershipId });
    for (const seq of [7, 8, 9, 10, 11, 14]) expect(bySeq(seq)).toMatchObject({ actorId: member.userId, targetType: 'Credential', targetId: credentialId });
    for (const seq of [12, 15]) expect(bySeq(seq)).toMatchObject({ actorId: org.admin.userId, targetType: 'Credential', targetId: credentialId });
    expect(bySeq(13)).toMatchObject({ actorId: org.admin.userId, targetType: 'Organization', targetId: org.orgId });
    expect(JSON.parse(bySeq(8).data)).toMatchObject({ field: 'PASSWORD', version: 1, surface: 'REVEAL', accessRecordId: localOf(revealed.data.revealCredential.accessRecordId) });
    expect(JSON.parse(bySeq(11).data)).toMatchObject({ version: 2, reason: 'offboarding' });
    expect(JSON.parse(bySeq(13).data)).toMatchObject({ includeSecrets: true, secretsExported: 1 });
    expect(bySeq(16)).toMatchObject({ targetType: 'ApiKey', targetId: apiKey.id });
    expect(JSON.parse(bySeq(18).data)).toEqual({ changes: { name: { from: expect.any(String), to: 'Renamed org' } } });

    // No secret material anywhere a reader or an operator sees: not the passwords, the API key, the initial password.
    const exported = await exportLog(org, auditor);
    const everything = [JSON.stringify(res), exported.jsonLines, JSON.stringify(await db().auditEvent.findMany({ where: { chain: orgLocal } }))];
    for (const text of everything) {
      for (const secret of [SECRET, `${SECRET}-v2`, apiKey.key, apiKey.key.slice(0, 12), PASSWORD]) expect(text).not.toContain(secret);
    }
    const logs = server.logs.join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [SECRET, `${SECRET}-v2`, apiKey.key]) expect(logs).not.toContain(secret);

    expect(await verify(org)).toMatchObject({ ok: true, checkedCount: 19, headSeq: 19, firstBadSeq: null, problem: null });
  });

  it('records sign-ins on the system chain, never in an organization log, and never the password tried', async () => {
    const org = await createOrg(server, 'audit-signin');
    const member = await addMember(server, org, 'MEMBER');
    const before = await allEvents(org);
    const wrong = 'Wr0ng-Password-Attempt-4711';
    const failed = await server.gql(SIGN_IN, { input: { email: member.email, password: wrong } });
    expect(failed.data.signIn.__typename).not.toBe('SignInPayload');
    const ok = await server.gql(SIGN_IN, { input: { email: member.email, password: PASSWORD } });
    expect(ok.data.signIn.__typename).toBe('SignInPayload');

    expect((await server.gql(DISABLE_USER, { input: { userId: member.userId } }, org.admin)).data.disableUser.user.id).toBe(member.userId);
    expect((await server.gql(ENABLE_USER, { input: { userId: member.userId } }, org.admin)).data.enableUser.user.id).toBe(member.userId);

    expect(await allEvents(org)).toEqual(before);
    const system = await db().auditEvent.findMany({ where: { chain: SYSTEM_CHAIN, targetId: localOf(member.userId) }, orderBy: { seq: 'asc' } });
    expect(system.map((e) => e.action)).toEqual(['auth.sign_in', 'auth.sign_in_failed', 'auth.sign_in', 'user.disable', 'user.enable']);
    expect(system[3]).toMatchObject({ actorUserId: localOf(org.admin.userId), targetType: 'User' });
    expect(system.every((e) => e.organizationId === null)).toBe(true);
    expect(JSON.parse(system[1].data)).toMatchObject({ reason: 'wrong_password', email: member.email });
    expect(JSON.stringify(system)).not.toContain(wrong);
    expect(server.logs.join('')).not.toContain(wrong);
    expect(await verifyChain(db(), SYSTEM_CHAIN)).toMatchObject({ ok: true, problem: null });
  });

  it('keeps seq contiguous and the chain intact under concurrent appends', async () => {
    const org = await createOrg(server, 'audit-concurrent');
    const member = await addMember(server, org, 'MEMBER');
    const credentialId = await createCredential(org, member);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => server.gql(REVEAL, { input: { id: credentialId, field: 'PASSWORD' } }, member)),
    );
    for (const r of results) expect(r.data?.revealCredential?.__typename).toBe('RevealCredentialPayload');
    const log = await allEvents(org);
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(log.filter((e) => e.action === 'credential.reveal')).toHaveLength(8);
    expect(await verify(org)).toMatchObject({ ok: true, checkedCount: 11 });
  });
});

describe('audit log: refused actions', () => {
  /** Refusals are written after the answer (it never waits for them): read until they are there. */
  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    for (let i = 0; ; i++) {
      const value = await read();
      if (done(value) || i >= 100) return value;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const refusedBy = (userId: string) =>
    db().auditEvent.findMany({ where: { chain: SYSTEM_CHAIN, action: 'access.refused', actorUserId: localOf(userId) }, orderBy: { seq: 'asc' } });

  it('records a FORBIDDEN answer to a signed-in caller on the system chain: who, what, from where; never for anonymous callers', async () => {
    const home = await createOrg(server, 'refused-home');
    const other = await createOrg(server, 'refused-other');
    const prober = await addMember(server, home, 'MEMBER');
    const foreign = await createCredential(other, other.admin, 'Foreign domain admin');
    const before = await db().auditEvent.count({ where: { chain: SYSTEM_CHAIN, action: 'access.refused' } });

    const refused = await server.gql(REVEAL, { input: { id: foreign, field: 'PASSWORD' } }, prober);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await server.gql(REVEAL, { input: { id: foreign, field: 'PASSWORD' } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const entries = await eventually(() => refusedBy(prober.userId), (e) => e.length >= 1);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ organizationId: null, actorUserId: localOf(prober.userId) });
    expect(JSON.parse(entries[0].data)).toMatchObject({ operation: 'Reveal', paths: ['revealCredential'], count: 1, clientAddress: expect.any(String) });
    // Nothing about the foreign organization's chain, and the anonymous attempt wrote nothing.
    expect(await db().auditEvent.count({ where: { organizationId: localOf(other.orgId), actorUserId: localOf(prober.userId) } })).toBe(0);
    expect(await db().auditEvent.count({ where: { chain: SYSTEM_CHAIN, action: 'access.refused' } })).toBe(before + 1);
    expect(await verifyChain(db(), SYSTEM_CHAIN)).toMatchObject({ ok: true });
  });

  it('records a restricted reveal without an open request in the organization’s own chain', async () => {
    const org = await createOrg(server, 'refused-restricted');
    const member = await addMember(server, org, 'MEMBER');
    const res = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'Vaulted', password: SECRET, restricted: true } }, org.admin);
    const credentialId = res.data.createCredential.credential.id as string;
    const answer = await server.gql(REVEAL, { input: { id: credentialId, field: 'PASSWORD' } }, member);
    expect(answer.data.revealCredential.__typename).toBe('AccessRequestRequiredError');
    const log = await eventually(() => allEvents(org), (l) => l.some((e) => e.action === 'credential.reveal_refused'));
    const entry = log.find((e) => e.action === 'credential.reveal_refused');
    expect(entry).toMatchObject({ actorId: member.userId, targetType: 'Credential', targetId: credentialId });
    expect(JSON.parse(entry!.data)).toMatchObject({ field: 'PASSWORD', reason: 'no open access request' });
    expect(JSON.stringify(log)).not.toContain(SECRET);
    expect(await verify(org)).toMatchObject({ ok: true });
  });

  it('writes at most ten refusals per caller a minute and reports how many it left out on the next one', async () => {
    const home = await createOrg(server, 'refused-flood');
    const other = await createOrg(server, 'refused-flood-other');
    const prober = await addMember(server, home, 'MEMBER');
    const foreign = await createCredential(other, other.admin, 'Flood target');
    for (let i = 0; i < 25; i++) {
      const r = await server.gql(REVEAL, { input: { id: foreign, field: 'PASSWORD' } }, prober);
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const first = await eventually(() => refusedBy(prober.userId), (e) => e.length >= 10);
    await new Promise((r) => setTimeout(r, 100));
    expect(await refusedBy(prober.userId)).toHaveLength(first.length);
    expect(first).toHaveLength(10);
    server.clock.advance(61_000);
    await server.gql(REVEAL, { input: { id: foreign, field: 'PASSWORD' } }, prober);
    const after = await eventually(() => refusedBy(prober.userId), (e) => e.length >= 11);
    expect(after).toHaveLength(11);
    expect(JSON.parse(after[10].data)).toMatchObject({ suppressed: 15 });
  });
});

describe('audit log: reading', () => {
  it('filters by actor, credential, action and time range', async () => {
    const org = await createOrg(server, 'audit-filter');
    const member = await addMember(server, org, 'MEMBER'); // seq 2
    const auditor = await addMember(server, org, 'AUDITOR'); // seq 3
    const key = await createApiKey(org, 'MEMBER'); // seq 4

    server.clock.advance(60 * 60_000);
    const windowStart = server.clock.now();
    const a = await createCredential(org, member, 'A'); // seq 5
    const b = await createCredential(org, member, 'B'); // seq 6
    await server.gql(REVEAL, { input: { id: a, field: 'PASSWORD' } }, member); // seq 7
    server.clock.advance(60 * 60_000);
    const windowEnd = server.clock.now();
    await server.gql(REVEAL, { input: { id: a, field: 'PASSWORD' } }, { apiKey: key.key }); // seq 8
    await server.gql(REVEAL, { input: { id: b, field: 'PASSWORD' } }, member); // seq 9

    const seqs = async (filter: Record<string, unknown>) => {
      const res = await events(auditor, { organizationId: org.orgId, ...filter }, { first: 50 });
      expect(res.errors).toBeUndefined();
      const nodes = (res.data.auditEvents.edges as { node: EventNode }[]).map((e) => e.node);
      expect(res.data.auditEvents.totalCount).toBe(nodes.length);
      return nodes.map((n) => n.seq);
    };

    expect(await seqs({})).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(await seqs({ actorId: member.userId })).toEqual([9, 7, 6, 5]);
    expect(await seqs({ actorId: key.id })).toEqual([8]);
    expect(await seqs({ actorId: org.admin.userId })).toEqual([4, 3, 2]);
    expect(await seqs({ credentialId: a })).toEqual([8, 7, 5]);
    expect(await seqs({ credentialId: b })).toEqual([9, 6]);
    expect(await seqs({ action: 'credential.reveal' })).toEqual([9, 8, 7]);
    expect(await seqs({ action: 'credential' })).toEqual([]);
    expect(await seqs({ actionPrefix: 'member.' })).toEqual([3, 2]);
    expect(await seqs({ actionPrefix: 'MEMBER.' })).toEqual([]);
    expect(await seqs({ actionPrefix: '%' })).toEqual([]);
    expect(await seqs({ actionPrefix: 'api_key' })).toEqual([4]);
    expect(await seqs({ actionPrefix: 'api_' })).toEqual([4]);
    expect(await seqs({ actionPrefix: 'api%' })).toEqual([]);
    expect(await seqs({ actionPrefix: '_pi' })).toEqual([]);
    expect(await seqs({ credentialId: a, action: 'credential.reveal' })).toEqual([8, 7]);
    // `from` is inclusive, `to` exclusive.
    expect(await seqs({ from: windowStart.toISOString() })).toEqual([9, 8, 7, 6, 5]);
    expect(await seqs({ from: windowStart.toISOString(), to: windowEnd.toISOString() })).toEqual([7, 6, 5]);
    expect(await seqs({ to: windowStart.toISOString() })).toEqual([4, 3, 2, 1]);
    expect(await seqs({ from: windowEnd.toISOString(), actorId: member.userId })).toEqual([9]);

    const actorOfKey = await events(auditor, { organizationId: org.orgId, actorId: key.id }, { first: 1 });
    expect(actorOfKey.data.auditEvents.edges[0].node).toMatchObject({ actorId: key.id, actor: null, action: 'credential.reveal' });
  });

  it('pages with first/after through the whole log, newest first, with a stable totalCount', async () => {
    const org = await createOrg(server, 'audit-pages');
    await appendSome(org, 6); // seq 2..7
    const seen: number[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const res = await events(org.admin, { organizationId: org.orgId }, { first: 3, after });
      expect(res.errors).toBeUndefined();
      const conn = res.data.auditEvents;
      expect(conn.totalCount).toBe(7);
      seen.push(...conn.edges.map((e: { node: EventNode }) => e.node.seq));
      pages += 1;
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
      expect(pages).toBeLessThan(10);
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);

    // Pagination composes with a filter.
    const first = await events(org.admin, { organizationId: org.orgId, action: 'credential.create' }, { first: 4 });
    expect(first.data.auditEvents.totalCount).toBe(6);
    expect(first.data.auditEvents.edges.map((e: { node: EventNode }) => e.node.seq)).toEqual([7, 6, 5, 4]);
    const second = await events(org.admin, { organizationId: org.orgId, action: 'credential.create' }, { first: 4, after: first.data.auditEvents.pageInfo.endCursor });
    expect(second.data.auditEvents.edges.map((e: { node: EventNode }) => e.node.seq)).toEqual([3, 2]);
    expect(second.data.auditEvents.pageInfo.hasNextPage).toBe(false);

    // Backwards: the oldest entries, still newest first within the page.
    const oldest = await server.gql(`query($filter: AuditEventFilter!) { auditEvents(filter: $filter, last: 2) { pageInfo { hasPreviousPage } edges { node { seq } } } }`, { filter: { organizationId: org.orgId } }, org.admin);
    expect(oldest.data.auditEvents.edges.map((e: { node: EventNode }) => e.node.seq)).toEqual([2, 1]);
    expect(oldest.data.auditEvents.pageInfo.hasPreviousPage).toBe(true);
  });

  it('lists with a constant number of SQL statements whatever the page size, actors included', async () => {
    const org = await createOrg(server, 'audit-n1');
    const members = [];
    for (let i = 0; i < 4; i += 1) members.push(await addMember(server, org, 'MEMBER'));
    const keys = [await createApiKey(org, 'MEMBER', 'k1'), await createApiKey(org, 'MEMBER', 'k2')];
    for (let i = 0; i < 20; i += 1) await createCredential(org, members[i % 4], `more ${i}`);
    for (const [i, m] of members.entries()) await createCredential(org, m, `by member ${i}`);
    // The newest entries, so that the small page has both kinds of actor too.
    for (const [i, k] of keys.entries()) await createCredential(org, { apiKey: k.key }, `by key ${i}`);
    const QUERY = `query($filter: AuditEventFilter!, $first: Int) { auditEvents(filter: $filter, first: $first) { totalCount edges { node { seq actor { email } actorApiKey { name } } } } }`;
    const statementsFor = async (first: number) => {
      await server.gql(QUERY, { filter: { organizationId: org.orgId }, first }, org.admin);
      server.queries.length = 0;
      const res = await server.gql(QUERY, { filter: { organizationId: org.orgId }, first }, org.admin);
      expect(res.data.auditEvents.edges).toHaveLength(first);
      return { count: server.queries.length, nodes: res.data.auditEvents.edges.map((e: { node: unknown }) => e.node) };
    };
    const small = await statementsFor(3);
    const large = await statementsFor(30);
    expect(large.nodes.filter((n: { actorApiKey: unknown }) => n.actorApiKey).length).toBe(2);
    expect(new Set(large.nodes.map((n: { actor: { email: string } | null }) => n.actor?.email).filter(Boolean)).size).toBe(5);
    expect(large.count).toBe(small.count);
    expect(small.count).toBeLessThanOrEqual(8);
  });

  it('lets only ADMIN and AUDITOR read, verify and export; a foreign organization answers like a missing one', async () => {
    const org = await createOrg(server, 'audit-authz');
    const member = await addMember(server, org, 'MEMBER');
    const manager = await addMember(server, org, 'MANAGER');
    const auditor = await addMember(server, org, 'AUDITOR');
    const auditorKey = await createApiKey(org, 'AUDITOR');
    const memberKey = await createApiKey(org, 'MEMBER');
    const filter = { organizationId: org.orgId };

    for (const reader of [org.admin, auditor, { apiKey: auditorKey.key }]) {
      const res = await events(reader, filter, { first: 1 });
      expect(res.errors).toBeUndefined();
      expect(res.data.auditEvents.totalCount).toBeGreaterThanOrEqual(6);
      expect((await verify(org, undefined, reader)).ok).toBe(true);
    }
    const headBefore = (await verify(org)).headSeq;

    for (const refused of [member, manager, { apiKey: memberKey.key }]) {
      const list = await events(refused, filter);
      expect(list.data?.auditEvents ?? null).toBeNull();
      expect(list.errors).toEqual([FORBIDDEN]);
      const check = await server.gql(VERIFY, { organizationId: org.orgId }, refused);
      expect(check.errors).toEqual([FORBIDDEN]);
      const exp = await server.gql(EXPORT, { input: { organizationId: org.orgId } }, refused);
      expect(exp.errors).toEqual([FORBIDDEN]);
    }
    // Refused exports record nothing.
    expect((await verify(org)).headSeq).toBe(headBefore);

    // An ADMIN elsewhere: the organization is not theirs, and it looks exactly like one that does not exist.
    const other = await createOrg(server, 'audit-authz-other');
    const missing = encodeGlobalID('Organization', '00000000-0000-0000-0000-000000000000');
    const strip = (r: { errors?: unknown[]; data?: unknown }) => ({ errors: r.errors, data: r.data });
    const foreignList = await events(other.admin, filter);
    const missingList = await events(other.admin, { organizationId: missing });
    expect(foreignList.errors).toEqual([FORBIDDEN]);
    expect(strip(foreignList)).toEqual(strip(missingList));
    const foreignVerify = await server.gql(VERIFY, { organizationId: org.orgId }, other.admin);
    expect(foreignVerify.errors).toEqual([FORBIDDEN]);
    expect(strip(foreignVerify)).toEqual(strip(await server.gql(VERIFY, { organizationId: missing }, other.admin)));
    const foreignExport = await server.gql(EXPORT, { input: { organizationId: org.orgId } }, other.admin);
    expect(foreignExport.errors).toEqual([FORBIDDEN]);
    expect(strip(foreignExport)).toEqual(strip(await server.gql(EXPORT, { input: { organizationId: missing } }, other.admin)));

    // Filtering by an id from another organization leaks nothing either; node() hides foreign entries.
    const own = await allEvents(org);
    const node = await server.gql(`query($id: ID!) { node(id: $id) { id ... on AuditEvent { seq } } }`, { id: own[0].id }, other.admin);
    expect(node.data.node).toBeNull();
    const mine = await server.gql(`query($id: ID!) { node(id: $id) { id ... on AuditEvent { seq } } }`, { id: own[0].id }, auditor);
    expect(mine.data.node).toEqual({ id: own[0].id, seq: 1 });
    const byMember = await server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: own[0].id }, member);
    expect(byMember.data.node).toBeNull();
    expect((await events(other.admin, { organizationId: other.orgId, actorId: auditor.userId })).data.auditEvents.totalCount).toBe(0);

    // The actor stays identified by id after leaving; only who may still see them sees them.
    const credentialId = await createCredential(org, member, 'left behind');
    expect((await server.gql(REMOVE_MEMBER, { input: { membershipId: member.membershipId } }, org.admin)).data.removeMember.__typename).toBe('RemoveMemberPayload');
    const ACTORS = `query($filter: AuditEventFilter!) { auditEvents(filter: $filter, first: 5) { edges { node { action actorId actor { email } again: actor { id } } } } }`;
    const byCredential = { organizationId: org.orgId, credentialId };
    const seenByAuditor = await server.gql(ACTORS, { filter: byCredential }, auditor);
    expect(seenByAuditor.data.auditEvents.edges).toEqual([{ node: { action: 'credential.create', actorId: member.userId, actor: null, again: null } }]);
    const seenByAdmin = await server.gql(ACTORS, { filter: byCredential }, org.admin);
    expect(seenByAdmin.data.auditEvents.edges).toEqual([{ node: { action: 'credential.create', actorId: member.userId, actor: { email: member.email }, again: { id: member.userId } } }]);
  });
});

describe('audit log: verification', () => {
  /** An organization with a chain of 7 entries and its admin. */
  async function chainOf7(label: string) {
    const org = await createOrg(server, label);
    await appendSome(org, 6);
    const check = await verify(org);
    expect(check).toMatchObject({ ok: true, checkedCount: 7, headSeq: 7, firstBadSeq: null, problem: null, reason: null });
    return { org, chain: localOf(org.orgId), head: check };
  }

  it('detects an edited entry and names it', async () => {
    const { org, chain } = await chainOf7('audit-edit');
    const changed = await db().$executeRaw`UPDATE "AuditEvent" SET "data" = ${'{"name":"innocent"}'} WHERE "chain" = ${chain} AND "seq" = ${4}`;
    expect(changed).toBe(1);
    expect(await verify(org)).toMatchObject({ ok: false, firstBadSeq: 4, problem: 'HASH_MISMATCH', checkedCount: 4 });
  });

  it('detects an edited entry whose own hash was recomputed, at the link after it', async () => {
    const { org, chain } = await chainOf7('audit-rehash');
    const row = await db().auditEvent.findUniqueOrThrow({ where: { chain_seq: { chain, seq: 3 } } });
    const forged = { ...row, actorUserId: null, data: '{}' };
    await db().auditEvent.update({ where: { id: row.id }, data: { actorUserId: null, data: '{}', hash: auditHash(forged) } });
    expect(await verify(org)).toMatchObject({ ok: false, firstBadSeq: 4, problem: 'BROKEN_LINK' });
  });

  it('detects a deleted middle entry', async () => {
    const { org, chain } = await chainOf7('audit-delete');
    await db().auditEvent.delete({ where: { chain_seq: { chain, seq: 5 } } });
    expect(await verify(org)).toMatchObject({ ok: false, firstBadSeq: 5, problem: 'MISSING_ENTRY', checkedCount: 4 });
  });

  it('detects reordered entries and reports the earlier position', async () => {
    const { org, chain } = await chainOf7('audit-reorder');
    const swap = async (a: number, b: number) => {
      await db().auditEvent.update({ where: { chain_seq: { chain, seq: a } }, data: { seq: -1 } });
      await db().auditEvent.update({ where: { chain_seq: { chain, seq: b } }, data: { seq: a } });
      await db().auditEvent.update({ where: { chain_seq: { chain, seq: -1 } }, data: { seq: b } });
    };
    await swap(3, 6);
    const result = await verify(org);
    expect(result).toMatchObject({ ok: false, firstBadSeq: 3 });
    expect(['HASH_MISMATCH', 'BROKEN_LINK']).toContain(result.problem);
    await swap(3, 6);
    expect((await verify(org)).ok).toBe(true);
  });

  it('reports the first of several problems', async () => {
    const { org, chain } = await chainOf7('audit-first');
    await db().auditEvent.delete({ where: { chain_seq: { chain, seq: 6 } } });
    await db().auditEvent.update({ where: { chain_seq: { chain, seq: 2 } }, data: { action: 'credential.view' } });
    expect(await verify(org)).toMatchObject({ ok: false, firstBadSeq: 2, problem: 'HASH_MISMATCH' });
  });

  it('detects a cut-off tail: by the head alone, and against an exported head once the head is rolled back too', async () => {
    const { org, chain } = await chainOf7('audit-truncate');
    const exported = await exportLog(org); // appends audit.export as seq 8
    expect(exported).toMatchObject({ headSeq: 7, count: 7 });
    const kept = { seq: exported.headSeq, hash: exported.headHash };
    expect(await verify(org, kept)).toMatchObject({ ok: true, headSeq: 8 });

    // The tail removed, the head left: the head names an entry that is gone.
    await db().auditEvent.deleteMany({ where: { chain, seq: { gte: 7 } } });
    expect(await verify(org)).toMatchObject({ ok: false, firstBadSeq: 7, problem: 'MISSING_ENTRY' });

    // The head rolled back as well: the chain is consistent in itself, only the kept head tells.
    const last = await db().auditEvent.findUniqueOrThrow({ where: { chain_seq: { chain, seq: 6 } } });
    await db().auditHead.update({ where: { chain }, data: { seq: 6, hash: last.hash } });
    expect(await verify(org)).toMatchObject({ ok: true, headSeq: 6 });
    expect(await verify(org, kept)).toMatchObject({ ok: false, firstBadSeq: 7, problem: 'TRUNCATED' });
  });

  it('detects a rewritten chain against an exported head', async () => {
    const { org, chain } = await chainOf7('audit-rewrite');
    const exported = await exportLog(org);
    const kept = { seq: exported.headSeq, hash: exported.headHash.toUpperCase() };
    // Rewrite from entry 5 on, recomputing every hash and the head (a thorough forger with database access).
    const rows = await db().auditEvent.findMany({ where: { chain }, orderBy: { seq: 'asc' } });
    let prevHash = rows[3].hash;
    for (const row of rows.slice(4)) {
      const fields = { ...row, prevHash, data: row.seq === 5 ? '{"name":"forged"}' : row.data };
      const hash = auditHash(fields);
      await db().auditEvent.update({ where: { id: row.id }, data: { data: fields.data, prevHash, hash } });
      prevHash = hash;
    }
    await db().auditHead.update({ where: { chain }, data: { hash: prevHash } });
    expect(await verify(org)).toMatchObject({ ok: true });
    expect(await verify(org, kept)).toMatchObject({ ok: false, firstBadSeq: 7, problem: 'REWRITTEN' });
    // An older kept head, before the rewrite point, still matches.
    expect(await verify(org, { seq: 4, hash: rows[3].hash })).toMatchObject({ ok: true });
  });

  it('detects a head that does not match the last entry, and entries beyond the head', async () => {
    const { org, chain } = await chainOf7('audit-head');
    await db().auditHead.update({ where: { chain }, data: { hash: 'f'.repeat(64) } });
    expect(await verify(org)).toMatchObject({ ok: false, firstBadSeq: 7, problem: 'HEAD_MISMATCH' });
    const last = await db().auditEvent.findUniqueOrThrow({ where: { chain_seq: { chain, seq: 6 } } });
    await db().auditHead.update({ where: { chain }, data: { seq: 6, hash: last.hash } });
    expect(await verify(org)).toMatchObject({ ok: false, firstBadSeq: 7, problem: 'EXTRA_ENTRY' });
  });

  it('refuses a malformed expected head as bad input', async () => {
    const { org } = await chainOf7('audit-badhead');
    const res = await server.gql(VERIFY, { organizationId: org.orgId, expectedHead: { seq: 3, hash: 'nope' } }, org.admin);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const negative = await server.gql(VERIFY, { organizationId: org.orgId, expectedHead: { seq: -1, hash: ZEROS } }, org.admin);
    expect(negative.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('verifies a long chain across several batches', async () => {
    const { org, chain } = await chainOf7('audit-batches');
    expect((await verifyChain(db(), chain, { batchSize: 2 })).ok).toBe(true);
    await db().auditEvent.delete({ where: { chain_seq: { chain, seq: 5 } } });
    expect(await verifyChain(db(), chain, { batchSize: 2 })).toMatchObject({ ok: false, firstBadSeq: 5, problem: 'MISSING_ENTRY' });
    expect((await verify(org)).firstBadSeq).toBe(5);
  });
});

describe('audit log: export', () => {
  it('exports one JSON line per entry, each hash recomputable, ending at the head; the export itself is recorded', async () => {
    const org = await createOrg(server, 'audit-export');
    const auditor = await addMember(server, org, 'AUDITOR');
    await appendSome(org, 3);
    const before = await verify(org);
    expect(before.headSeq).toBe(5);

    const exported = await exportLog(org, auditor);
    expect(exported.jsonLines.endsWith('\n')).toBe(true);
    const lines = exported.jsonLines.trimEnd().split('\n').map((l) => JSON.parse(l) as ExportLine);
    expect(lines).toHaveLength(5);
    expect(exported).toMatchObject({ count: 5, headSeq: 5, headHash: before.headHash });
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5]);
    let prev = ZEROS;
    for (const l of lines) {
      expect(l.chain).toBe(localOf(org.orgId));
      expect(l.organizationId).toBe(localOf(org.orgId));
      expect(l.prevHash).toBe(prev);
      expect(recomputeHash(l)).toBe(l.hash);
      prev = l.hash;
    }
    expect(prev).toBe(exported.headHash);
    expect(lines.map((l) => l.action)).toEqual(['organization.create', 'member.add', 'credential.create', 'credential.create', 'credential.create']);
    expect(lines[1]).toMatchObject({ actorUserId: localOf(org.admin.userId), targetType: 'Membership', targetId: localOf(auditor.membershipId) });

    // The lines are the same entries auditEvents shows.
    const shown = await allEvents(org);
    expect(shown.slice(0, 5).map((e) => e.hash)).toEqual(lines.map((l) => l.hash));

    // The export is the next entry, by the auditor, naming the head it handed out; the chain stays intact.
    expect(shown).toHaveLength(6);
    expect(shown[5]).toMatchObject({ seq: 6, action: 'audit.export', actorId: auditor.userId, prevHash: exported.headHash, targetType: 'Organization', targetId: org.orgId });
    expect(JSON.parse(shown[5].data)).toEqual({ headSeq: 5, headHash: exported.headHash, count: 5 });
    expect(await verify(org, { seq: exported.headSeq, hash: exported.headHash })).toMatchObject({ ok: true, headSeq: 6, headHash: shown[5].hash });

    const again = await exportLog(org);
    expect(again).toMatchObject({ count: 6, headSeq: 6, headHash: shown[5].hash });
    expect(again.jsonLines.startsWith(exported.jsonLines)).toBe(true);
  });

  it('hands out the last exported entry as the head, also when the chain is damaged', async () => {
    const org = await createOrg(server, 'audit-export-damaged');
    const chain = localOf(org.orgId);
    await appendSome(org, 4);
    await db().auditEvent.delete({ where: { chain_seq: { chain, seq: 5 } } });
    expect(await verify(org)).toMatchObject({ ok: false, problem: 'MISSING_ENTRY', firstBadSeq: 5, headSeq: 5 });
    const exported = await exportLog(org);
    const lines = exported.jsonLines.trimEnd().split('\n').map((l) => JSON.parse(l) as ExportLine);
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect(exported).toMatchObject({ count: 4, headSeq: 4, headHash: lines[3].hash });
  });

  it('exports a one-entry chain whose head is its first entry', async () => {
    const org = await createOrg(server, 'audit-export-1');
    const exported = await exportLog(org);
    expect(exported.count).toBe(1);
    const [line] = exported.jsonLines.trimEnd().split('\n').map((l) => JSON.parse(l) as ExportLine);
    expect(line.prevHash).toBe(GENESIS_HASH);
    expect(line.hash).toBe(exported.headHash);
  });
});
