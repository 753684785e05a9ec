import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { PASSWORD, addMember, createOrg, type OrgFixture } from '../support/fixtures.ts';
import { SoftPasskey, type Options } from '../support/webauthn.ts';

/**
 * Passkeys (WebAuthn) as a second factor, through the endpoint, with a software authenticator: registration,
 * sign-in, step-up, refusals of replayed, foreign and late assertions, the lockout, rename and removal.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const ERR = `... on Error { __typename message ... on ValidationError { fieldErrors { path message } } ... on RateLimitedError { retryAfterSeconds } ... on StepUpRequiredError { maxAgeSeconds } }`;
const SIGN_IN = `mutation($input: SignInInput!) { signIn(input: $input) { __typename ... on SignInPayload { token } ... on MfaRequired { challengeId methods } ${ERR} } }`;
const COMPLETE = `mutation($input: CompleteSignInInput!) { completeSignIn(input: $input) { __typename ... on SignInPayload { token } ${ERR} } }`;
const START_REG = `mutation { startPasskeyRegistration { __typename ... on PasskeyOptionsPayload { options } ${ERR} } }`;
const FINISH_REG = `mutation($input: FinishPasskeyRegistrationInput!) { finishPasskeyRegistration(input: $input) { __typename ... on FinishPasskeyRegistrationPayload { factor { id kind name transports } recoveryCodes } ${ERR} } }`;
const START_AUTH = `mutation($input: StartPasskeyAuthenticationInput!) { startPasskeyAuthentication(input: $input) { __typename ... on PasskeyOptionsPayload { options } ${ERR} } }`;
const STEP_UP = `mutation($input: SecondFactorProofInput!) { stepUp(input: $input) { __typename ... on StepUpPayload { method } ${ERR} } }`;
const RENAME = `mutation($input: RenamePasskeyInput!) { renamePasskey(input: $input) { __typename ... on RenamePasskeyPayload { factor { id name } } ${ERR} } }`;
const REMOVE = `mutation($input: RemovePasskeyInput!) { removePasskey(input: $input) { __typename ... on RemovePasskeyPayload { ok } ${ERR} } }`;
const STATUS = `{ secondFactors { factors { id kind name transports lastUsedAt } recoveryCodesLeft sessionAuthMethod } }`;

type Person = { email: string; token: string; userId: string };

async function register(person: Person, key: SoftPasskey, name: string) {
  const started = await server.gql(START_REG, {}, { token: person.token });
  expect(started.data?.startPasskeyRegistration?.__typename, JSON.stringify(started)).toBe('PasskeyOptionsPayload');
  const options = started.data.startPasskeyRegistration.options as Options;
  const done = await server.gql(FINISH_REG, { input: { name, response: key.register(options) } }, { token: person.token });
  return { options: started.data.startPasskeyRegistration.options, result: done.data?.finishPasskeyRegistration ?? done };
}

async function challenge(email: string) {
  const res = await server.gql(SIGN_IN, { input: { email, password: PASSWORD } });
  expect(res.data.signIn.__typename).toBe('MfaRequired');
  return res.data.signIn as { challengeId: string; methods: string[] };
}

async function authOptions(input: { challengeId?: string }, token?: string): Promise<Options & { allowCredentials: { id: string }[] }> {
  const res = await server.gql(START_AUTH, { input }, { token });
  expect(res.data?.startPasskeyAuthentication?.__typename, JSON.stringify(res)).toBe('PasskeyOptionsPayload');
  return res.data.startPasskeyAuthentication.options;
}

async function signInWithPasskey(email: string, key: SoftPasskey) {
  const { challengeId } = await challenge(email);
  const options = await authOptions({ challengeId });
  return server.gql(COMPLETE, { input: { challengeId, webauthn: key.assert(options) } });
}

const auditActions = async (userGlobalId: string) =>
  (await server.app.deps.db.auditEvent.findMany({ where: { targetId: decodeGlobalID(userGlobalId).id }, orderBy: { seq: 'asc' } })).map((e) => e.action);

describe('passkeys as a second factor', () => {
  let org: OrgFixture;
  let member: Person;
  const laptop = new SoftPasskey();

  beforeAll(async () => {
    org = await createOrg(server, 'passkeys');
    member = await addMember(server, org, 'MEMBER');
  });

  it('registers a passkey: options for this relying party and user, then a named WEBAUTHN factor and recovery codes', async () => {
    const { options, result } = await register(member, laptop, 'Work laptop');
    expect(options).toMatchObject({
      rp: { id: 'localhost', name: 'vaultgate' },
      user: { name: member.email },
      attestation: 'none',
      excludeCredentials: [],
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(result.__typename).toBe('FinishPasskeyRegistrationPayload');
    expect(result.factor).toMatchObject({ kind: 'WEBAUTHN', name: 'Work laptop', transports: ['internal'] });
    expect(result.recoveryCodes).toHaveLength(10);
    const status = await server.gql(STATUS, {}, { token: member.token });
    expect(status.data.secondFactors.factors).toEqual([expect.objectContaining({ kind: 'WEBAUTHN', name: 'Work laptop' })]);
    expect(await auditActions(member.userId)).toContain('mfa.passkey_enrolled');
  });

  it('refuses a registration answer that is replayed, or made for another origin', async () => {
    const other = new SoftPasskey();
    const started = await server.gql(START_REG, {}, { token: member.token });
    const options = started.data.startPasskeyRegistration.options;
    const foreign = await server.gql(FINISH_REG, { input: { name: 'Phish', response: other.register(options, { origin: 'https://evil.example' }) } }, { token: member.token });
    expect(foreign.data.finishPasskeyRegistration.__typename).toBe('ValidationError');
    expect(foreign.data.finishPasskeyRegistration.fieldErrors[0].path).toEqual(['input', 'response']);
    // That answer used the ceremony up: the right answer to the same options is refused too.
    const late = await server.gql(FINISH_REG, { input: { name: 'Again', response: other.register(options) } }, { token: member.token });
    expect(late.data.finishPasskeyRegistration.__typename).toBe('ValidationError');
    expect(JSON.stringify(late)).not.toMatch(/origin|attestation|Error:/i);
  });

  it('lists WEBAUTHN in MfaRequired and finishes the sign-in with an assertion', async () => {
    const { challengeId, methods } = await challenge(member.email);
    expect(methods).toEqual(['WEBAUTHN', 'RECOVERY_CODE']);
    const options = await authOptions({ challengeId });
    expect(options.rpId).toBe('localhost');
    expect(options.allowCredentials.map((c) => c.id)).toEqual([laptop.id]);
    const done = await server.gql(COMPLETE, { input: { challengeId, webauthn: laptop.assert(options) } });
    expect(done.data.completeSignIn.__typename, JSON.stringify(done)).toBe('SignInPayload');
    const status = await server.gql(STATUS, {}, { token: done.data.completeSignIn.token });
    expect(status.data.secondFactors.sessionAuthMethod).toBe('PASSKEY');
    expect(status.data.secondFactors.factors[0].lastUsedAt).not.toBeNull();
    const actions = await auditActions(member.userId);
    expect(actions).toContain('mfa.passkey_used');
  });

  it('refuses a replayed assertion, one for another sign-in attempt, another origin, or after the challenge expired', async () => {
    const first = await challenge(member.email);
    const options = await authOptions({ challengeId: first.challengeId });
    const assertion = laptop.assert(options);
    const ok = await server.gql(COMPLETE, { input: { challengeId: first.challengeId, webauthn: assertion } });
    expect(ok.data.completeSignIn.__typename).toBe('SignInPayload');

    // The same assertion again, on a new sign-in attempt with its own options: the ceremony it answered is gone.
    const second = await challenge(member.email);
    await authOptions({ challengeId: second.challengeId });
    const replay = await server.gql(COMPLETE, { input: { challengeId: second.challengeId, webauthn: assertion } });
    expect(replay.data.completeSignIn.__typename).toBe('InvalidSecondFactorError');

    // Options of one attempt do not finish another.
    const third = await challenge(member.email);
    const fourth = await challenge(member.email);
    const thirdOptions = await authOptions({ challengeId: third.challengeId });
    const crossed = await server.gql(COMPLETE, { input: { challengeId: fourth.challengeId, webauthn: laptop.assert(thirdOptions) } });
    expect(crossed.data.completeSignIn.__typename).toBe('InvalidSecondFactorError');

    // Signed for another site: refused, and the failed answer used the options up.
    const fifth = await challenge(member.email);
    const fifthOptions = await authOptions({ challengeId: fifth.challengeId });
    const phished = await server.gql(COMPLETE, { input: { challengeId: fifth.challengeId, webauthn: laptop.assert(fifthOptions, { origin: 'https://evil.example' }) } });
    expect(phished.data.completeSignIn.__typename).toBe('InvalidSecondFactorError');
    const retry = await server.gql(COMPLETE, { input: { challengeId: fifth.challengeId, webauthn: laptop.assert(fifthOptions) } });
    expect(retry.data.completeSignIn.__typename).toBe('InvalidSecondFactorError');
    // New options for the same attempt work.
    const fresh = await server.gql(COMPLETE, { input: { challengeId: fifth.challengeId, webauthn: laptop.assert(await authOptions({ challengeId: fifth.challengeId })) } });
    expect(fresh.data.completeSignIn.__typename).toBe('SignInPayload');

    // Late: the ceremony (and the sign-in attempt) live five minutes.
    const sixth = await challenge(member.email);
    const sixthOptions = await authOptions({ challengeId: sixth.challengeId });
    server.clock.advance(5 * 60_000 + 1000);
    const late = await server.gql(COMPLETE, { input: { challengeId: sixth.challengeId, webauthn: laptop.assert(sixthOptions) } });
    expect(late.data.completeSignIn.__typename).toBe('InvalidSecondFactorError');
    expect(JSON.stringify(late)).not.toMatch(/signature|origin|counter|Error:/i);
  });

  it('refuses malformed assertions as typed errors, and an unknown challenge like a wrong one', async () => {
    const { challengeId } = await challenge(member.email);
    const both = await server.gql(COMPLETE, { input: { challengeId, code: '123456', webauthn: { id: 'x' } } });
    expect(both.data.completeSignIn.__typename).toBe('ValidationError');
    const garbage = await server.gql(COMPLETE, { input: { challengeId, webauthn: { id: 'not a credential', response: 42 } } });
    expect(garbage.data.completeSignIn.__typename).toBe('InvalidSecondFactorError');
    const unknown = await server.gql(START_AUTH, { input: { challengeId: 'vgc_nothing' } });
    expect(unknown.data.startPasskeyAuthentication.__typename).toBe('InvalidSecondFactorError');
  });

  it('steps up with a passkey, and needs a recent factor to add another or to remove one', async () => {
    const signedIn = await signInWithPasskey(member.email, laptop);
    const token = signedIn.data.completeSignIn.token as string;
    const person = { ...member, token };
    server.clock.advance(10 * 60_000); // older than STEP_UP_MAX_AGE_SECONDS
    const stale = await server.gql(START_REG, {}, { token });
    expect(stale.data.startPasskeyRegistration).toMatchObject({ __typename: 'StepUpRequiredError', maxAgeSeconds: 300 });

    const stepped = await server.gql(STEP_UP, { input: { webauthn: laptop.assert(await authOptions({}, token)) } }, { token });
    expect(stepped.data.stepUp).toEqual({ __typename: 'StepUpPayload', method: 'PASSKEY' });

    const phone = new SoftPasskey();
    const second = await register(person, phone, 'Phone');
    expect(second.options.excludeCredentials.map((c: { id: string }) => c.id)).toEqual([laptop.id]);
    expect(second.result).toMatchObject({ __typename: 'FinishPasskeyRegistrationPayload', recoveryCodes: [] });
    const again = await register(person, phone, 'Phone twice');
    expect(again.result.__typename).toBe('ValidationError');

    // Either passkey finishes a sign-in; the options name both.
    const { challengeId } = await challenge(member.email);
    const options = await authOptions({ challengeId });
    expect(options.allowCredentials.map((c) => c.id).sort()).toEqual([laptop.id, phone.id].sort());
    const withPhone = await server.gql(COMPLETE, { input: { challengeId, webauthn: phone.assert(options) } });
    expect(withPhone.data.completeSignIn.__typename).toBe('SignInPayload');

    const renamed = await server.gql(RENAME, { input: { factorId: second.result.factor.id, name: 'Old phone' } }, { token });
    expect(renamed.data.renamePasskey.factor).toMatchObject({ id: second.result.factor.id, name: 'Old phone' });
    const outsider = await addMember(server, org, 'MEMBER');
    const notYours = await server.gql(RENAME, { input: { factorId: second.result.factor.id, name: 'Mine' } }, { token: outsider.token });
    expect(notYours.data.renamePasskey.__typename).toBe('ValidationError');
    const notYoursRemoved = await server.gql(REMOVE, { input: { factorId: second.result.factor.id } }, { token: outsider.token });
    expect(notYoursRemoved.data.removePasskey.__typename).toBe('StepUpRequiredError');

    server.clock.advance(10 * 60_000);
    const staleRemove = await server.gql(REMOVE, { input: { factorId: second.result.factor.id } }, { token });
    expect(staleRemove.data.removePasskey.__typename).toBe('StepUpRequiredError');
    await server.gql(STEP_UP, { input: { webauthn: laptop.assert(await authOptions({}, token)) } }, { token });
    const removed = await server.gql(REMOVE, { input: { factorId: second.result.factor.id } }, { token });
    expect(removed.data.removePasskey).toEqual({ __typename: 'RemovePasskeyPayload', ok: true });
    const status = await server.gql(STATUS, {}, { token });
    expect(status.data.secondFactors.factors.map((f: { name: string }) => f.name)).toEqual(['Work laptop']);
    expect(await auditActions(member.userId)).toEqual(expect.arrayContaining(['mfa.step_up', 'mfa.passkey_removed']));

    // The removed passkey no longer signs in.
    const gone = await signInWithPasskey(member.email, phone);
    expect(gone.data.completeSignIn.__typename).toBe('InvalidSecondFactorError');
  });

  it('removing the last passkey turns second factors off', async () => {
    const person = await addMember(server, org, 'MEMBER');
    const key = new SoftPasskey();
    const { result } = await register(person, key, 'Only key');
    const removed = await server.gql(REMOVE, { input: { factorId: result.factor.id } }, { token: person.token });
    expect(removed.data.removePasskey.__typename).toBe('RemovePasskeyPayload');
    const res = await server.gql(SIGN_IN, { input: { email: person.email, password: PASSWORD } });
    expect(res.data.signIn.__typename).toBe('SignInPayload');
    const status = await server.gql(STATUS, {}, { token: person.token });
    expect(status.data.secondFactors).toMatchObject({ factors: [], recoveryCodesLeft: 0 });
  });

  it('can be registered where an organization requires a factor, and is removed by an admin reset', async () => {
    const strict = await createOrg(server, 'passkeys-strict');
    const person = await addMember(server, strict, 'MEMBER');
    await server.gql(`mutation($input: SetOrganizationSecurityInput!) { setOrganizationSecurity(input: $input) { id } }`, { input: { organizationId: strict.orgId, requireMfa: true } }, { token: strict.admin.token });
    const blocked = await server.gql(`{ organizations(first: 5) { edges { node { id } } } }`, {}, { token: person.token });
    expect(blocked.errors?.[0].extensions?.code).toBe('MFA_ENROLLMENT_REQUIRED');
    const key = new SoftPasskey();
    const { result } = await register(person, key, 'First key');
    expect(result.__typename).toBe('FinishPasskeyRegistrationPayload');
    const allowed = await server.gql(`{ organizations(first: 5) { edges { node { id } } } }`, {}, { token: person.token });
    expect(allowed.errors).toBeUndefined();

    // A system administrator (strict's own ADMIN has no factor yet, so the rule holds them at enrollment too).
    const reset = await server.gql(`mutation($input: ResetUserSecondFactorsInput!) { resetUserSecondFactors(input: $input) { ok } }`, { input: { userId: person.userId } }, { token: org.admin.token });
    expect(reset.data.resetUserSecondFactors.ok).toBe(true);
    const fresh = await server.gql(SIGN_IN, { input: { email: person.email, password: PASSWORD } });
    expect(fresh.data.signIn.__typename).toBe('SignInPayload');
    const status = await server.gql(STATUS, {}, { token: fresh.data.signIn.token });
    expect(status.data.secondFactors.factors).toEqual([]);
  });

  it('meets the per-account lockout after five refused assertions', async () => {
    const person = await addMember(server, org, 'MEMBER');
    const key = new SoftPasskey();
    await register(person, key, 'Key');
    const results: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { challengeId } = await challenge(person.email);
      const options = await authOptions({ challengeId });
      const bad = await server.gql(COMPLETE, { input: { challengeId, webauthn: key.assert(options, { origin: 'https://evil.example' }) } });
      results.push(bad.data.completeSignIn.__typename);
    }
    expect(results.slice(0, 5)).toEqual(Array(5).fill('InvalidSecondFactorError'));
    expect(results[5]).toBe('RateLimitedError');
  });
});
