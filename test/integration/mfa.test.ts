import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { PASSWORD, addMember, createOrg, signIn, type OrgFixture } from '../support/fixtures.ts';
import { randomBytes } from 'node:crypto';
import { totpCode } from '../../src/lib/totp.ts';
import { masterKeyId } from '../../src/lib/crypto/envelope.ts';
import { rotateMasterKey } from '../../src/modules/keys/rotation.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const ERR = `... on Error { __typename message ... on ValidationError { fieldErrors { path message } } ... on RateLimitedError { retryAfterSeconds } ... on StepUpRequiredError { maxAgeSeconds } }`;
const SIGN_IN = `mutation($input: SignInInput!) { signIn(input: $input) { __typename ... on SignInPayload { token } ... on MfaRequired { challengeId methods expiresAt } ${ERR} } }`;
const COMPLETE = `mutation($input: CompleteSignInInput!) { completeSignIn(input: $input) { __typename ... on SignInPayload { token user { email } } ${ERR} } }`;
const ENROLL = `mutation { enrollTotp { factorId secret uri } }`;
const CONFIRM = `mutation($input: ConfirmTotpInput!) { confirmTotp(input: $input) { __typename ... on ConfirmTotpPayload { recoveryCodes } ${ERR} } }`;
const STEP_UP = `mutation($input: SecondFactorProofInput!) { stepUp(input: $input) { __typename ... on StepUpPayload { verifiedAt method } ${ERR} } }`;
const STATUS = `{ secondFactors { factors { id kind } recoveryCodesLeft enrollmentRequired sessionAuthMethod factorVerifiedAt } }`;
const SECURITY = `mutation($input: SetOrganizationSecurityInput!) { setOrganizationSecurity(input: $input) { id requireMfa requireStepUp } }`;
const RESET = `mutation($input: ResetUserSecondFactorsInput!) { resetUserSecondFactors(input: $input) { ok } }`;
const REGENERATE = `mutation { regenerateRecoveryCodes { __typename ... on RegenerateRecoveryCodesPayload { recoveryCodes } ${ERR} } }`;
const AUDIT = `query($org: ID!) { auditEvents(filter: { organizationId: $org }, first: 50) { edges { node { action } } } }`;

const code = (secret: string, offsetSeconds = 0) => totpCode(secret, new Date(server.clock.now().getTime() + offsetSeconds * 1000)).code;
/** Moves the test clock to the start of the next TOTP step, so a fresh code exists. */
const nextStep = () => server.clock.advance(30_000);

async function enroll(token: string): Promise<{ secret: string; recoveryCodes: string[] }> {
  const started = await server.gql(ENROLL, {}, { token });
  const { factorId, secret, uri } = started.data.enrollTotp;
  expect(uri).toMatch(/^otpauth:\/\/totp\/vaultgate%3A.+\?secret=[A-Z2-7]+&issuer=vaultgate/);
  const confirmed = await server.gql(CONFIRM, { input: { factorId, code: code(secret) } }, { token });
  expect(confirmed.data?.confirmTotp?.__typename, JSON.stringify(confirmed)).toBe('ConfirmTotpPayload');
  return { secret, recoveryCodes: confirmed.data.confirmTotp.recoveryCodes };
}

const signInRaw = (email: string) => server.gql(SIGN_IN, { input: { email, password: PASSWORD } });

describe('TOTP as a second factor', () => {
  let org: OrgFixture;
  let member: Awaited<ReturnType<typeof addMember>>;
  let secret: string;
  let recoveryCodes: string[];

  beforeAll(async () => {
    org = await createOrg(server, 'mfa');
    member = await addMember(server, org, 'MEMBER');
    ({ secret, recoveryCodes } = await enroll(member.token));
  });

  it('issues 10 distinct recovery codes once, and shows the setup without secrets', async () => {
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    const status = await server.gql(STATUS, {}, { token: member.token });
    expect(status.data.secondFactors).toMatchObject({ recoveryCodesLeft: 10, enrollmentRequired: false, sessionAuthMethod: 'PASSWORD' });
    expect(status.data.secondFactors.factors).toHaveLength(1);
    expect(JSON.stringify(status)).not.toContain(secret);
  });

  it('turns a right password into a challenge, and a code into a session', async () => {
    nextStep();
    const first = await signInRaw(member.email);
    expect(first.data.signIn.__typename).toBe('MfaRequired');
    expect(first.data.signIn.methods).toEqual(['TOTP', 'RECOVERY_CODE']);
    expect(first.data.signIn).not.toHaveProperty('token');
    const done = await server.gql(COMPLETE, { input: { challengeId: first.data.signIn.challengeId, code: code(secret) } });
    expect(done.data.completeSignIn.__typename).toBe('SignInPayload');
    const status = await server.gql(STATUS, {}, { token: done.data.completeSignIn.token });
    expect(status.data.secondFactors.sessionAuthMethod).toBe('TOTP');
    expect(status.data.secondFactors.factorVerifiedAt).not.toBeNull();
  });

  it('refuses a code used once already (replay inside its window) and a used challenge', async () => {
    nextStep();
    const used = code(secret);
    const a = await signInRaw(member.email);
    const ok = await server.gql(COMPLETE, { input: { challengeId: a.data.signIn.challengeId, code: used } });
    expect(ok.data.completeSignIn.__typename).toBe('SignInPayload');
    const b = await signInRaw(member.email);
    const replay = await server.gql(COMPLETE, { input: { challengeId: b.data.signIn.challengeId, code: used } });
    expect(replay.data.completeSignIn.__typename).toBe('InvalidSecondFactorError');
    // The same challenge twice: single use.
    nextStep();
    const again = await server.gql(COMPLETE, { input: { challengeId: a.data.signIn.challengeId, code: code(secret) } });
    expect(again.data.completeSignIn.__typename).toBe('InvalidSecondFactorError');
    // The challenge that saw the replay still works with a fresh code.
    const fresh = await server.gql(COMPLETE, { input: { challengeId: b.data.signIn.challengeId, code: code(secret) } });
    expect(fresh.data.completeSignIn.__typename).toBe('SignInPayload');
  });

  it('lets two racing requests with one code open one session at most', async () => {
    nextStep();
    const c = code(secret);
    const [x, y] = [await signInRaw(member.email), await signInRaw(member.email)];
    const results = await Promise.all([
      server.gql(COMPLETE, { input: { challengeId: x.data.signIn.challengeId, code: c } }),
      server.gql(COMPLETE, { input: { challengeId: y.data.signIn.challengeId, code: c } }),
    ]);
    expect(results.map((r) => r.data.completeSignIn.__typename).sort()).toEqual(['InvalidSecondFactorError', 'SignInPayload']);
  });

  it('accepts a recovery code once, however it is typed', async () => {
    const rc = recoveryCodes[0];
    const a = await signInRaw(member.email);
    const ok = await server.gql(COMPLETE, { input: { challengeId: a.data.signIn.challengeId, recoveryCode: ` ${rc.toUpperCase().replace('-', ' ')} ` } });
    expect(ok.data.completeSignIn.__typename).toBe('SignInPayload');
    const b = await signInRaw(member.email);
    const twice = await server.gql(COMPLETE, { input: { challengeId: b.data.signIn.challengeId, recoveryCode: rc } });
    expect(twice.data.completeSignIn.__typename).toBe('InvalidSecondFactorError');
  });

  it('expires a challenge after five minutes, and answers an unknown one the same way', async () => {
    const a = await signInRaw(member.email);
    server.clock.advance(5 * 60_000 + 1000);
    const late = await server.gql(COMPLETE, { input: { challengeId: a.data.signIn.challengeId, code: code(secret) } });
    expect(late.data.completeSignIn.__typename).toBe('InvalidSecondFactorError');
    const unknown = await server.gql(COMPLETE, { input: { challengeId: `vgc_${'A'.repeat(43)}`, code: '123456' } });
    expect(unknown.data.completeSignIn).toEqual({ __typename: late.data.completeSignIn.__typename, message: late.data.completeSignIn.message });
  });

  it('validates the input with field paths', async () => {
    const a = await signInRaw(member.email);
    const bad = await server.gql(COMPLETE, { input: { challengeId: a.data.signIn.challengeId, code: 'abc' } });
    expect(bad.data.completeSignIn.__typename).toBe('ValidationError');
    expect(bad.data.completeSignIn.fieldErrors[0].path).toEqual(['input', 'code']);
    const both = await server.gql(COMPLETE, { input: { challengeId: a.data.signIn.challengeId } });
    expect(both.data.completeSignIn.__typename).toBe('ValidationError');
  });

  it('meets the per-account lockout after five wrong codes, without checking the code', async () => {
    const other = await addMember(server, org, 'MEMBER');
    const { secret: s2 } = await enroll(other.token);
    nextStep();
    const wrong = code(s2) === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      const a = await signInRaw(other.email);
      const r = await server.gql(COMPLETE, { input: { challengeId: a.data.signIn.challengeId, code: wrong } });
      expect(r.data.completeSignIn.__typename).toBe('InvalidSecondFactorError');
    }
    const a = await signInRaw(other.email);
    const locked = await server.gql(COMPLETE, { input: { challengeId: a.data.signIn.challengeId, code: code(s2) } });
    expect(locked.data.completeSignIn.__typename).toBe('RateLimitedError');
    expect(locked.data.completeSignIn.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('audits enrollment, failures and recovery-code use on the system chain, never the codes', async () => {
    const entries = await server.app.deps.db.auditEvent.findMany({ where: { targetId: { in: [decodeUser(member.userId)] } }, select: { action: true, data: true } });
    const actions = entries.map((e) => e.action);
    expect(actions).toContain('mfa.totp_enrolled');
    expect(actions).toContain('mfa.recovery_code_used');
    expect(actions.filter((a) => a === 'auth.sign_in').length).toBeGreaterThan(0);
    expect(JSON.stringify(entries)).not.toContain(recoveryCodes[0]);
    expect(JSON.stringify(entries)).not.toContain(secret);
  });
});

const decodeUser = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1];

describe('enrollment under concurrency', () => {
  it('answers every one of many racing enrollments with a seed, and the last confirmed one wins', async () => {
    const org = await createOrg(server, 'mfa-race');
    const racer = await addMember(server, org, 'MEMBER');
    // Written as create-then-update, a racing enrollment deleted the new row between the two: "Unexpected error."
    const started = await Promise.all(Array.from({ length: 12 }, () => server.gql(ENROLL, {}, { token: racer.token })));
    for (const answer of started) {
      expect(answer.errors, JSON.stringify(answer)).toBeUndefined();
      expect(answer.data.enrollTotp.secret).toMatch(/^[A-Z2-7]{32}$/);
    }
    // Confirming races too: every answer is typed, and at most one TOTP factor is left.
    const confirms = await Promise.all(
      started.map(({ data }) => server.gql(CONFIRM, { input: { factorId: data.enrollTotp.factorId, code: code(data.enrollTotp.secret) } }, { token: racer.token })),
    );
    for (const answer of confirms) {
      expect(answer.errors, JSON.stringify(answer)).toBeUndefined();
      expect(['ConfirmTotpPayload', 'ValidationError', 'InvalidSecondFactorError', 'RateLimitedError', 'StepUpRequiredError']).toContain(answer.data.confirmTotp.__typename);
    }
    const status = await server.gql(STATUS, {}, { token: racer.token });
    expect(status.errors).toBeUndefined();
    expect(status.data.secondFactors.factors.filter((f: { kind: string }) => f.kind === 'TOTP').length).toBeLessThanOrEqual(1);
  });
});

describe('organization requireMfa', () => {
  it('lets a member without a factor only enroll, and everything else answers MFA_ENROLLMENT_REQUIRED', async () => {
    const org = await createOrg(server, 'require');
    const member = await addMember(server, org, 'MEMBER');
    const set = await server.gql(SECURITY, { input: { organizationId: org.orgId, requireMfa: true } }, { token: org.admin.token });
    expect(set.data.setOrganizationSecurity.requireMfa).toBe(true);

    const list = await server.gql(`query($org: ID!) { credentials(filter: { organizationId: $org }, first: 5) { totalCount } }`, { org: org.orgId }, { token: member.token });
    expect(list.errors?.[0]?.extensions?.code).toBe('MFA_ENROLLMENT_REQUIRED');
    const node = await server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: org.orgId }, { token: member.token });
    expect(node.errors?.[0]?.extensions?.code).toBe('MFA_ENROLLMENT_REQUIRED');
    const status = await server.gql(STATUS, {}, { token: member.token });
    expect(status.data.secondFactors.enrollmentRequired).toBe(true);

    await enroll(member.token);
    const after = await server.gql(`query($org: ID!) { credentials(filter: { organizationId: $org }, first: 5) { totalCount } }`, { org: org.orgId }, { token: member.token });
    expect(after.errors).toBeUndefined();
    expect(after.data.credentials.totalCount).toBe(0);
  });

  it('leaves API keys unaffected', async () => {
    const org = await createOrg(server, 'require-key');
    await server.gql(SECURITY, { input: { organizationId: org.orgId, requireMfa: true } }, { token: org.admin.token });
    // The admin has no factor either: creating a key is refused until they enroll.
    const refused = await server.gql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename } }`, { input: { organizationId: org.orgId, name: 'ci', role: 'MEMBER' } }, { token: org.admin.token });
    expect(refused.errors?.[0]?.extensions?.code).toBe('MFA_ENROLLMENT_REQUIRED');
    await enroll(org.admin.token);
    const created = await server.gql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on CreateApiKeyPayload { key } } }`, { input: { organizationId: org.orgId, name: 'ci', role: 'MEMBER' } }, { token: org.admin.token });
    const key = created.data.createApiKey.key as string;
    const viaKey = await server.gql(`query($org: ID!) { credentials(filter: { organizationId: $org }, first: 5) { totalCount } }`, { org: org.orgId }, { apiKey: key });
    expect(viaKey.errors).toBeUndefined();
  });
});

describe('resetting a user’s factors', () => {
  it('is for an ADMIN of every organization of the user: it removes the factors and ends their sessions', async () => {
    const org = await createOrg(server, 'reset');
    const member = await addMember(server, org, 'MEMBER');
    await enroll(member.token);
    const peer = await addMember(server, org, 'MEMBER');
    const forbidden = await server.gql(RESET, { input: { userId: member.userId } }, { token: peer.token });
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const done = await server.gql(RESET, { input: { userId: member.userId } }, { token: org.admin.token });
    expect(done.data.resetUserSecondFactors.ok).toBe(true);
    const stale = await server.gql(STATUS, {}, { token: member.token });
    expect(stale.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // Password alone opens a session again.
    const token = await signIn(server, member.email);
    const status = await server.gql(STATUS, {}, { token });
    expect(status.data.secondFactors.factors).toEqual([]);
    const audit = await server.app.deps.db.auditEvent.findMany({ where: { action: 'mfa.factors_removed', targetId: decodeUser(member.userId) } });
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0].data as string)).toMatchObject({ by: 'admin' });
  });

  it('refuses an ADMIN of only one of the user’s organizations', async () => {
    const a = await createOrg(server, 'reset-a');
    const b = await createOrg(server, 'reset-b');
    const member = await addMember(server, a, 'MEMBER');
    // A membership in b too (made directly: how people join is not what this test is about).
    await server.app.deps.db.membership.create({ data: { userId: decodeUser(member.userId), organizationId: decodeUser(b.orgId), role: 'MEMBER' } });
    // Organization ADMINs who are not system administrators (the fixtures' first admins are).
    const adminA = await addMember(server, a, 'ADMIN');
    const adminB = await addMember(server, b, 'ADMIN');
    const r = await server.gql(RESET, { input: { userId: member.userId } }, { token: adminA.token });
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const other = await server.gql(RESET, { input: { userId: member.userId } }, { token: adminB.token });
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // ADMIN of both: allowed.
    await server.app.deps.db.membership.create({ data: { userId: decodeUser(adminA.userId), organizationId: decodeUser(b.orgId), role: 'ADMIN' } });
    server.app.deps.principals.clear();
    const ok = await server.gql(RESET, { input: { userId: member.userId } }, { token: adminA.token });
    expect(ok.data?.resetUserSecondFactors?.ok, JSON.stringify(ok)).toBe(true);
  });
});

describe('step-up', () => {
  it('asks for a recent second factor before regenerating recovery codes', async () => {
    const org = await createOrg(server, 'regen');
    const { secret } = await enroll(org.admin.token);
    server.clock.advance(10 * 60_000);
    const stale = await server.gql(REGENERATE, {}, { token: org.admin.token });
    expect(stale.data.regenerateRecoveryCodes.__typename).toBe('StepUpRequiredError');
    expect(stale.data.regenerateRecoveryCodes.maxAgeSeconds).toBe(300);
    const up = await server.gql(STEP_UP, { input: { code: code(secret) } }, { token: org.admin.token });
    expect(up.data.stepUp.__typename).toBe('StepUpPayload');
    expect(up.data.stepUp.method).toBe('TOTP');
    const fresh = await server.gql(REGENERATE, {}, { token: org.admin.token });
    expect(fresh.data.regenerateRecoveryCodes.recoveryCodes).toHaveLength(10);
    const audit = await server.gql(AUDIT, { org: org.orgId }, { token: org.admin.token });
    expect(audit.errors).toBeUndefined();
  });

  it('asks for a recent second factor before an authenticator app replaces the one the account has', async () => {
    const org = await createOrg(server, 'replace-totp');
    const { secret } = await enroll(org.admin.token);
    server.clock.advance(10 * 60_000);
    // A session whose factor is stale (a stolen one, say) cannot swap the app for another.
    const started = await server.gql(ENROLL, {}, { token: org.admin.token });
    const other = started.data.enrollTotp;
    const refused = await server.gql(CONFIRM, { input: { factorId: other.factorId, code: code(other.secret) } }, { token: org.admin.token });
    expect(refused.data.confirmTotp.__typename).toBe('StepUpRequiredError');
    // The account's app still works: nothing was replaced.
    nextStep();
    const up = await server.gql(STEP_UP, { input: { code: code(secret) } }, { token: org.admin.token });
    expect(up.data.stepUp.__typename).toBe('StepUpPayload');
    const replaced = await server.gql(CONFIRM, { input: { factorId: other.factorId, code: code(other.secret) } }, { token: org.admin.token });
    expect(replaced.data.confirmTotp.__typename, JSON.stringify(replaced)).toBe('ConfirmTotpPayload');
    const status = await server.gql(STATUS, {}, { token: org.admin.token });
    expect(status.data.secondFactors.factors.filter((f: { kind: string }) => f.kind === 'TOTP')).toHaveLength(1);
  });

  it('guards restricted reveals and approvals where the organization requires it', async () => {
    const org = await createOrg(server, 'stepup');
    const manager = await addMember(server, org, 'MANAGER');
    const member = await addMember(server, org, 'MEMBER');
    const { secret: managerSecret } = await enroll(manager.token);
    const { secret: memberSecret } = await enroll(member.token);
    const cred = await server.gql(
      `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { __typename ... on CreateCredentialPayload { credential { id } } } }`,
      { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'Domain admin', password: 'S3cret-domain-admin!', restricted: true } },
      { token: org.admin.token },
    );
    const credentialId = cred.data.createCredential.credential.id;
    const policy = await server.gql(
      `mutation($input: CreateAccessPolicyInput!) { createAccessPolicy(input: $input) { __typename ... on CreateAccessPolicyPayload { accessPolicy { id } } ... on Error { message } } }`,
      {
        input: {
          organizationId: org.orgId,
          name: 'Tier 0',
          scope: { credentialIds: [credentialId] },
          requesters: { userIds: [member.userId], roles: [] },
          steps: [{ approvers: { roles: ['MANAGER'] }, requiredApprovals: 1 }],
          defaultDurationMinutes: 60,
          maxDurationMinutes: 120,
        },
      },
      { token: org.admin.token },
    );
    expect(policy.data.createAccessPolicy.__typename).toBe('CreateAccessPolicyPayload');
    await server.gql(SECURITY, { input: { organizationId: org.orgId, requireStepUp: true } }, { token: org.admin.token });

    const requested = await server.gql(
      `mutation($input: RequestAccessInput!) { requestAccess(input: $input) { __typename ... on RequestAccessPayload { accessRequest { id state } } ... on Error { message } } }`,
      { input: { credentialId, reason: 'Patch the domain controller', fields: ['PASSWORD'] } },
      { token: member.token },
    );
    expect(requested.data.requestAccess.__typename).toBe('RequestAccessPayload');
    const requestId = requested.data.requestAccess.accessRequest.id;

    server.clock.advance(10 * 60_000);
    const APPROVE = `mutation($input: ApproveAccessRequestInput!) { approveAccessRequest(input: $input) { __typename ... on ApproveAccessRequestPayload { accessRequest { state } } ${ERR} } }`;
    const refused = await server.gql(APPROVE, { input: { id: requestId } }, { token: manager.token });
    expect(refused.data.approveAccessRequest.__typename).toBe('StepUpRequiredError');
    const still = await server.app.deps.db.accessRequest.findUnique({ where: { id: decodeUser(requestId) }, select: { state: true } });
    expect(still?.state).toBe('PENDING');
    await server.gql(STEP_UP, { input: { code: code(managerSecret) } }, { token: manager.token });
    const approved = await server.gql(APPROVE, { input: { id: requestId } }, { token: manager.token });
    expect(approved.data.approveAccessRequest.accessRequest.state).toBe('AVAILABLE');

    const REVEAL = `mutation($input: RevealCredentialInput!) { revealCredential(input: $input) { __typename ... on RevealCredentialPayload { value } ${ERR} } }`;
    const noFactor = await server.gql(REVEAL, { input: { id: credentialId, field: 'PASSWORD' } }, { token: member.token });
    expect(noFactor.data.revealCredential.__typename).toBe('StepUpRequiredError');
    await server.gql(STEP_UP, { input: { code: code(memberSecret) } }, { token: member.token });
    const revealed = await server.gql(REVEAL, { input: { id: credentialId, field: 'PASSWORD' } }, { token: member.token });
    expect(revealed.data.revealCredential.value).toBe('S3cret-domain-admin!');
    const record = await server.app.deps.db.accessRecord.findFirst({ where: { credentialId: decodeUser(credentialId) }, orderBy: { at: 'desc' } });
    // The member signed in with a password (fixtures) and then stepped up: both are on the record.
    expect(record).toMatchObject({ authMethod: 'PASSWORD', stepUpVerified: true });
    // Five minutes later the verification is stale again.
    server.clock.advance(5 * 60_000 + 1000);
    const stale = await server.gql(REVEAL, { input: { id: credentialId, field: 'PASSWORD' } }, { token: member.token });
    expect(stale.data.revealCredential.__typename).toBe('StepUpRequiredError');
  });
});

describe('master-key rotation', () => {
  it('reseals second-factor seeds, so codes keep working under the new key', async () => {
    const org = await createOrg(server, 'rotate');
    const { secret } = await enroll(org.admin.token);
    const keyring = server.app.deps.keyring as unknown as { master: { key: Buffer; id: string } };
    const from = keyring.master;
    const toKey = randomBytes(32);
    const to = { key: toKey, id: masterKeyId(toKey) };
    await rotateMasterKey(server.app.deps.db, { from, to });
    server.app.deps.keyring.useMasterKey(to);
    const row = await server.app.deps.db.userFactor.findFirst({ where: { userId: decodeUser(org.admin.userId) } });
    expect(row?.masterKeyId).toBe(to.id);
    nextStep();
    const up = await server.gql(STEP_UP, { input: { code: code(secret) } }, { token: org.admin.token });
    expect(up.data.stepUp.__typename).toBe('StepUpPayload');
    // Back to the first key for the rest of the file (other factors were resealed too).
    await rotateMasterKey(server.app.deps.db, { from: to, to: from });
    server.app.deps.keyring.useMasterKey(from);
  });
});
