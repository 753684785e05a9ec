// Adversarial 2: approving one's own request, and reaching into another organization with its raw ids (and with
// hand-built or malformed ids): refused, answered exactly like an id that does not exist, and nothing changes.
//
// Refusals are not audited: a FORBIDDEN answer writes no audit entry anywhere (the victim's chain, the attacker's
// chain and the system chain stay as they were), which the assertions below pin down.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, type OrgFixture } from '../support/fixtures.ts';
import { SYSTEM_CHAIN } from '../../src/modules/audit/audit.chain.ts';
import {
  ENV,
  APPROVE,
  CREATE_CREDENTIAL,
  expectAuditIntact,
  expectOnlyRefusalsSince,
  INTERNALS,
  localOf,
  REVEAL,
  requestAccess,
  restrictedWorld,
  SECRET,
  snapshotOrg,
  type Person,
  type World,
} from './support.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: ENV });
});
afterAll(async () => {
  await server?.stop();
});

const DENY = /* GraphQL */ `
  mutation Deny($input: DenyAccessRequestInput!) {
    denyAccessRequest(input: $input) { __typename ... on DenyAccessRequestPayload { accessRequest { id state } } ... on Error { message } }
  }
`;
const REVOKE = /* GraphQL */ `
  mutation Revoke($input: RevokeAccessRequestInput!) {
    revokeAccessRequest(input: $input) { __typename ... on RevokeAccessRequestPayload { accessRequest { id state } } ... on Error { message } }
  }
`;
const BULK_APPROVE = /* GraphQL */ `
  mutation ApproveMany($input: ApproveAccessRequestsInput!) {
    approveAccessRequests(input: $input) {
      __typename
      ... on ApproveAccessRequestsPayload { succeeded failed results { accessRequest { id } error { __typename message } } }
      ... on Error { message }
    }
  }
`;
const RECORD_ACCESS = /* GraphQL */ `
  mutation Record($input: RecordCredentialAccessInput!) {
    recordCredentialAccess(input: $input) { __typename ... on Error { message } }
  }
`;
const READ_REQUEST = /* GraphQL */ `query Read($id: ID!) { accessRequest(id: $id) { id state } }`;
const READ_NODE = /* GraphQL */ `query Node($id: ID!) { node(id: $id) { id } }`;

/** The answer as a client sees it: status, data and errors, all of it. */
const body = (r: { status: number; data?: unknown; errors?: unknown }) => ({ status: r.status, data: r.data ?? null, errors: r.errors ?? null });

async function systemChainHead() {
  return server.app.deps.db.auditHead.findUnique({ where: { chain: SYSTEM_CHAIN } });
}

describe('adversarial: self-approval', () => {
  it('a requester who is also an approver cannot approve or deny their own request, alone or in bulk; nothing changes', async () => {
    const w = await restrictedWorld(server, 'adv-self', { approvers: 2, policy: { requesters: { roles: ['MEMBER', 'MANAGER'] } } });
    const [self, other] = w.approvers;
    const mine: World = { ...w, requester: self };
    const r = await requestAccess(server, mine);
    expect(r.state).toBe('PENDING');
    const before = await snapshotOrg(server, w.org.orgId);

    const approved = await server.gql(APPROVE, { input: { id: r.id } }, self);
    expect(approved).toMatchObject({ status: 200, data: { approveAccessRequest: { __typename: 'SelfApprovalError' } } });
    expect(approved.errors).toBeUndefined();
    const windowed = await server.gql(APPROVE, { input: { id: r.id, durationMinutes: 30 } }, self);
    expect(windowed.data?.approveAccessRequest?.__typename).toMatch(/SelfApprovalError|PolicyViolationError/);
    const denied = await server.gql(DENY, { input: { id: r.id } }, self);
    expect(denied.data.denyAccessRequest.__typename).toBe('SelfApprovalError');
    const bulk = await server.gql(BULK_APPROVE, { input: { ids: [r.id, r.id] } }, self);
    expect(bulk.data.approveAccessRequests).toMatchObject({ succeeded: 0, failed: 1, results: [{ accessRequest: null, error: { __typename: 'SelfApprovalError' } }] });
    // In parallel too: no interleaving gets one through.
    const burst = await Promise.all(Array.from({ length: 20 }, () => server.gql(APPROVE, { input: { id: r.id } }, self)));
    for (const b of burst) expect(b.data.approveAccessRequest.__typename).toBe('SelfApprovalError');
    expect((await server.gql(REVEAL, { input: { id: w.credentialId, field: 'PASSWORD' } }, self)).data.revealCredential.__typename).toBe('AccessRequestRequiredError');

    expect(await snapshotOrg(server, w.org.orgId)).toEqual(before);

    // The other approver can, and it is recorded as theirs.
    expect((await server.gql(APPROVE, { input: { id: r.id } }, other)).data.approveAccessRequest.accessRequest.state).toBe('AVAILABLE');
    const approvals = await server.app.deps.db.accessApproval.findMany({ where: { requestId: localOf(r.id) } });
    expect(approvals.map((a) => a.approverId)).toEqual([localOf(other.userId)]);
    await expectAuditIntact(server, w.org.orgId);
  });
});

describe('adversarial: another organization’s ids', () => {
  let victim: World;
  let ordinaryId: string;
  let attackerOrg: OrgFixture;
  let attackers: Record<string, Person | OrgFixture['admin']>;
  let pendingId: string;
  let availableId: string;

  beforeAll(async () => {
    victim = await restrictedWorld(server, 'adv-victim', { approvers: 1 });
    const ordinary = await server.gql(
      CREATE_CREDENTIAL,
      { input: { organizationId: victim.org.orgId, kind: 'PASSWORD', name: 'Ordinary', password: SECRET } },
      victim.org.admin,
    );
    ordinaryId = ordinary.data.createCredential.credential.id;
    pendingId = (await requestAccess(server, victim)).id;
    availableId = (await requestAccess(server, victim)).id;
    expect((await server.gql(APPROVE, { input: { id: availableId } }, victim.approvers[0])).data.approveAccessRequest.accessRequest.state).toBe('AVAILABLE');

    // The attacker's organization has a policy too, so the attacker's roles can decide and reveal there.
    const home = await restrictedWorld(server, 'adv-attacker', { approvers: 1 });
    attackerOrg = home.org;
    attackers = { admin: home.org.admin, manager: home.approvers[0], member: home.requester, auditor: await addMember(server, home.org, 'AUDITOR') };
  });

  /** The ids an attacker might try for `kind`, besides the real one: hand-built, of other types, malformed. */
  function forgedIds(kind: 'AccessRequest' | 'Credential', real: string) {
    const raw = localOf(real);
    const other = kind === 'AccessRequest' ? 'Credential' : 'AccessRequest';
    return {
      real,
      'raw database id': raw,
      'type swapped': encodeGlobalID(other, kind === 'AccessRequest' ? localOf(victim.credentialId) : localOf(pendingId)),
      'right id, wrong type': encodeGlobalID(other, raw),
      'organization id': victim.org.orgId,
      'user id': victim.requester.userId,
      'upper-cased': encodeGlobalID(kind, raw.toUpperCase()),
      'trailing space': encodeGlobalID(kind, `${raw} `),
      'LIKE wildcard': encodeGlobalID(kind, '%'),
      'SQL injection': encodeGlobalID(kind, `' OR '1'='1`),
      'no type': Buffer.from(`:${raw}`).toString('base64'),
      'empty id': encodeGlobalID(kind, ''),
      'too long': encodeGlobalID(kind, 'x'.repeat(65)),
      'not base64': '!!!not-an-id!!!',
      empty: '',
      'NUL byte': encodeGlobalID(kind, `${raw}\u0000`),
    };
  }

  it('approve, deny, revoke and bulk-approve with the victim’s request ids answer exactly like a missing id, for every role', async () => {
    const before = await snapshotOrg(server, victim.org.orgId);
    const attackerBefore = await snapshotOrg(server, attackerOrg.orgId);
    const systemBefore = await systemChainHead();
    const missing = encodeGlobalID('AccessRequest', randomUUID());

    for (const [role, attacker] of Object.entries(attackers)) {
      for (const [doc, name, extra] of [
        [APPROVE, 'approve', {}],
        [APPROVE, 'approve with window', { durationMinutes: 30 }],
        [DENY, 'deny', {}],
        [REVOKE, 'revoke', {}],
      ] as const) {
        const expected = body(await server.gql(doc, { input: { id: missing, ...extra } }, attacker));
        expect(expected.errors, `${role} ${name}`).toMatchObject([{ extensions: { code: 'FORBIDDEN' } }]);
        expect(expected.data).toBeNull();
        for (const target of [pendingId, availableId]) {
          for (const [label, id] of Object.entries(forgedIds('AccessRequest', target))) {
            const got = body(await server.gql(doc, { input: { id, ...extra } }, attacker));
            expect(got, `${role} ${name} ${label}`).toEqual(expected);
          }
        }
      }
      const bulkExpected = body(await server.gql(BULK_APPROVE, { input: { ids: [missing] } }, attacker));
      const bulkGot = body(await server.gql(BULK_APPROVE, { input: { ids: [pendingId] } }, attacker));
      expect(bulkGot, `${role} bulk`).toEqual(bulkExpected);
      // Reading: null, like a missing one.
      expect(body(await server.gql(READ_REQUEST, { id: pendingId }, attacker))).toEqual(body(await server.gql(READ_REQUEST, { id: missing }, attacker)));
      // node(id): the same answer as for the same forgery built from an id that does not exist.
      for (const kind of ['AccessRequest', 'Credential'] as const) {
        const real = kind === 'AccessRequest' ? pendingId : victim.credentialId;
        const fake = encodeGlobalID(kind, randomUUID());
        const forged = Object.entries(forgedIds(kind, real));
        const control = Object.values(forgedIds(kind, fake));
        for (const [i, [label, id]] of forged.entries()) {
          // The fixture's ADMIN is a system administrator, who sees every user by design (to disable them).
          if (label === 'user id' && role === 'admin') continue;
          // Errors may quote the id that was sent (e.g. "Invalid global ID: …"): that is the caller's own input.
          const shown = (r: unknown, sent: string, g: string) =>
            JSON.stringify(r).replaceAll(JSON.stringify(sent).slice(1, -1), 'SENT').replaceAll(localOf(g), 'RAW').replaceAll(localOf(g).toUpperCase(), 'RAW');
          const got = body(await server.gql(READ_NODE, { id }, attacker));
          expect(got.data, `${role} node ${label}`).toEqual({ node: null });
          const controlled = body(await server.gql(READ_NODE, { id: control[i] }, attacker));
          expect(shown(got, id, real), `${role} node ${label}`).toBe(shown(controlled, control[i], fake));
          expect(JSON.stringify(got)).not.toMatch(INTERNALS);
        }
      }
    }

    // In parallel as well (a burst that might slip between a check and a write).
    const burst = await Promise.all(Array.from({ length: 20 }, () => server.gql(APPROVE, { input: { id: pendingId } }, attackers.manager)));
    for (const b of burst) expect(b.errors).toMatchObject([{ extensions: { code: 'FORBIDDEN' } }]);

    expect(await snapshotOrg(server, victim.org.orgId)).toEqual(before);
    expect(await snapshotOrg(server, attackerOrg.orgId)).toEqual(attackerBefore);
    // Refused, so audited on the system chain (and nothing else was written there).
    expect(await expectOnlyRefusalsSince(server, SYSTEM_CHAIN, systemBefore)).toBeGreaterThan(0);
    await expectAuditIntact(server, victim.org.orgId);
  });

  it('reveal and recordCredentialAccess with the victim’s credential ids answer exactly like a missing id; no record, no audit', async () => {
    const before = await snapshotOrg(server, victim.org.orgId);
    const attackerBefore = await snapshotOrg(server, attackerOrg.orgId);
    const systemBefore = await systemChainHead();
    const missing = encodeGlobalID('Credential', randomUUID());

    for (const [role, attacker] of Object.entries(attackers)) {
      for (const [doc, name, extra] of [
        [REVEAL, 'reveal', { field: 'PASSWORD' }],
        [REVEAL, 'reveal v1', { field: 'PASSWORD', version: 1 }],
        [REVEAL, 'reveal OTP seed', { field: 'OTP_SECRET' }],
        [RECORD_ACCESS, 'record copy', { surface: 'COPY' }],
      ] as const) {
        const expected = body(await server.gql(doc, { input: { id: missing, ...extra } }, attacker));
        expect(expected.errors, `${role} ${name}`).toMatchObject([{ extensions: { code: 'FORBIDDEN' } }]);
        for (const target of [ordinaryId, victim.credentialId]) {
          for (const [label, id] of Object.entries(forgedIds('Credential', target))) {
            const got = body(await server.gql(doc, { input: { id, ...extra } }, attacker));
            expect(got, `${role} ${name} ${label}`).toEqual(expected);
            expect(JSON.stringify(got)).not.toContain(SECRET);
          }
        }
      }
    }
    const burst = await Promise.all(Array.from({ length: 20 }, () => server.gql(REVEAL, { input: { id: ordinaryId, field: 'PASSWORD' } }, attackers.admin)));
    for (const b of burst) {
      expect(b.errors).toMatchObject([{ extensions: { code: 'FORBIDDEN' } }]);
      expect(JSON.stringify(b)).not.toContain(SECRET);
    }

    expect(await snapshotOrg(server, victim.org.orgId)).toEqual(before);
    expect(await snapshotOrg(server, attackerOrg.orgId)).toEqual(attackerBefore);
    // Nothing but refusals on the system chain (these attackers used up their ten a minute in the test above).
    await expectOnlyRefusalsSince(server, SYSTEM_CHAIN, systemBefore);

    // The victim's own people still work as before (the ids were real).
    expect((await server.gql(REVEAL, { input: { id: victim.credentialId, field: 'PASSWORD' } }, victim.requester)).data.revealCredential.value).toBe(SECRET);
    expect((await server.gql(REVEAL, { input: { id: ordinaryId, field: 'PASSWORD' } }, victim.requester)).data.revealCredential.value).toBe(SECRET);
  });
});
