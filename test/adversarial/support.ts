// Shared pieces of the adversarial suite: documents, a restricted-credential world, and a snapshot of everything
// an organization owns in the database (to prove that a refused attempt changed nothing).
import { expect } from 'vitest';
import { decodeGlobalID } from '@pothos/plugin-relay';
import type { TestServer } from '../support/harness.ts';
import { addMember, createOrg, type OrgFixture } from '../support/fixtures.ts';
import { verifyChain } from '../../src/modules/audit/audit.service.ts';

export const SECRET = 'Adv3rsarial-Secret-5a9c!';

/**
 * The environment of every adversarial server: rate limits off (0), since these attacks are about races, tenancy,
 * audit and crypto, not about volume (rate limits have their own suite); the scheduler only runs when told.
 */
export const ENV: Record<string, string> = {
  ACCESS_SCHEDULER_INTERVAL_MS: '0',
  RATE_LIMIT_SIGNIN_PER_ACCOUNT: '0',
  RATE_LIMIT_SIGNIN_PER_ACCOUNT_TOTAL: '0',
  RATE_LIMIT_SIGNIN_PER_ADDRESS: '0',
  RATE_LIMIT_REVEAL_PER_MINUTE: '0',
  RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '0',
};
export const MINUTE = 60_000;

export const CREATE_CREDENTIAL = /* GraphQL */ `
  mutation CreateCredential($input: CreateCredentialInput!) {
    createCredential(input: $input) {
      __typename
      ... on CreateCredentialPayload { credential { id restricted currentVersion apiKeys { id } } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
export const CREATE_POLICY = /* GraphQL */ `
  mutation CreatePolicy($input: CreateAccessPolicyInput!) {
    createAccessPolicy(input: $input) {
      __typename
      ... on CreateAccessPolicyPayload { accessPolicy { id } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
export const REQUEST = /* GraphQL */ `
  mutation RequestAccess($input: RequestAccessInput!) {
    requestAccess(input: $input) {
      __typename
      ... on RequestAccessPayload { accessRequest { id state startsAt endsAt } }
      ... on Error { message }
    }
  }
`;
export const APPROVE = /* GraphQL */ `
  mutation Approve($input: ApproveAccessRequestInput!) {
    approveAccessRequest(input: $input) {
      __typename
      ... on ApproveAccessRequestPayload { accessRequest { id state } }
      ... on InvalidRequestStateError { state }
      ... on Error { message }
    }
  }
`;
export const REVEAL = /* GraphQL */ `
  mutation Reveal($input: RevealCredentialInput!) {
    revealCredential(input: $input) {
      __typename
      ... on RevealCredentialPayload { field version value accessRecordId }
      ... on Error { message }
    }
  }
`;

export type Person = { token: string; userId: string; email: string };

export const localOf = (globalId: string) => decodeGlobalID(globalId).id;

/** Fixture setup only, at most `width` at a time; the attacks themselves are unbounded. */
export async function inBatches<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

export type World = { org: OrgFixture; requester: Person; approvers: Person[]; credentialId: string; policyId: string };

/**
 * An organization with a MEMBER requester, `approvers` MANAGERs, a restricted password credential and one policy
 * covering it: one step of `requiredApprovals` by role MANAGER, releasing PASSWORD.
 */
export async function restrictedWorld(
  s: TestServer,
  label: string,
  options: { approvers?: number; requiredApprovals?: number; policy?: Record<string, unknown> } = {},
): Promise<World> {
  const org = await createOrg(s, label);
  const requester = await addMember(s, org, 'MEMBER');
  const approvers = await inBatches(Array.from({ length: options.approvers ?? 1 }, (_, i) => i), 10, () => addMember(s, org, 'MANAGER'));
  const created = await s.gql(
    CREATE_CREDENTIAL,
    { input: { organizationId: org.orgId, kind: 'PASSWORD', name: `Break-glass ${label}`, username: 'root', password: SECRET, restricted: true } },
    org.admin,
  );
  expect(created.data?.createCredential?.__typename, JSON.stringify(created)).toBe('CreateCredentialPayload');
  const credentialId = created.data.createCredential.credential.id as string;
  const policy = await s.gql(
    CREATE_POLICY,
    {
      input: {
        organizationId: org.orgId,
        name: `Policy ${label}`,
        scope: { credentialIds: [credentialId] },
        requesters: { roles: ['MEMBER'] },
        steps: [{ approvers: { roles: ['MANAGER'] }, requiredApprovals: options.requiredApprovals ?? 1 }],
        releasableFields: ['PASSWORD'],
        reasonRequired: false,
        ...options.policy,
      },
    },
    org.admin,
  );
  expect(policy.data?.createAccessPolicy?.__typename, JSON.stringify(policy)).toBe('CreateAccessPolicyPayload');
  return { org, requester, approvers, credentialId, policyId: policy.data.createAccessPolicy.accessPolicy.id };
}

export async function requestAccess(s: TestServer, w: World, input: Record<string, unknown> = {}) {
  const res = await s.gql(REQUEST, { input: { credentialId: w.credentialId, ...input } }, w.requester);
  const payload = res.data?.requestAccess;
  if (payload?.__typename !== 'RequestAccessPayload') throw new Error(`requestAccess failed: ${JSON.stringify(res)}`);
  return payload.accessRequest as { id: string; state: string; startsAt: string; endsAt: string };
}

/** Everything the organization owns that an action could change, straight from the database. */
/** What audits a refused action (src/modules/audit/refusals.ts). */
export const REFUSAL_ACTIONS = ['access.refused', 'credential.reveal_refused'];

/** Since `before` (a chain head), the chain gained refusal entries only. */
export async function expectOnlyRefusalsSince(s: TestServer, chain: string, before: { seq: number } | null) {
  const added = await s.app.deps.db.auditEvent.findMany({ where: { chain, seq: { gt: before?.seq ?? 0 } }, select: { action: true } });
  expect(added.map((e) => e.action).filter((a) => !REFUSAL_ACTIONS.includes(a))).toEqual([]);
  return added.length;
}

export async function snapshotOrg(s: TestServer, orgGlobalId: string) {
  const db = s.app.deps.db;
  const organizationId = localOf(orgGlobalId);
  const requests = await db.accessRequest.findMany({ where: { organizationId }, orderBy: { id: 'asc' } });
  const ids = requests.map((r) => r.id);
  return JSON.parse(
    JSON.stringify({
      organization: await db.organization.findUnique({ where: { id: organizationId } }),
      requests,
      approvals: await db.accessApproval.findMany({ where: { requestId: { in: ids } }, orderBy: { id: 'asc' } }),
      history: await db.accessRequestHistory.findMany({ where: { requestId: { in: ids } }, orderBy: [{ requestId: 'asc' }, { seq: 'asc' }] }),
      credentials: await db.credential.findMany({ where: { organizationId }, orderBy: { id: 'asc' } }),
      secrets: await db.secretValue.findMany({ where: { credential: { organizationId } }, orderBy: { id: 'asc' } }),
      accessRecords: await db.accessRecord.findMany({ where: { organizationId }, orderBy: { id: 'asc' } }),
      // Refused actions are audited (docs/audit.md): a refusal adds its own entry and moves the head, and changes
      // nothing else. Everything but those entries must stay as it was.
      audit: await db.auditEvent.findMany({ where: { chain: organizationId, action: { notIn: REFUSAL_ACTIONS } }, orderBy: { seq: 'asc' } }),
      memberships: await db.membership.findMany({ where: { organizationId }, orderBy: { id: 'asc' } }),
    }),
  );
}

export async function expectAuditIntact(s: TestServer, orgGlobalId: string) {
  expect(await verifyChain(s.app.deps.db, localOf(orgGlobalId))).toMatchObject({ ok: true, problem: null });
}

/** Text that must never reach a client: ORM, stack frames, source paths, crypto internals. */
export const INTERNALS = /Prisma|\bat [\w.<>]+ \(|\bat \/|\.ts:\d+|\.js:\d+|stack|SQLITE|duplicate key|violates|better-sqlite3|node_modules|Decryption|Unsupported state|authenticate data/i;
