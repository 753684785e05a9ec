import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { startTestServer, testDbKind, type TestServer } from '../support/harness.ts';
import { PASSWORD, addMember, createOrg, unique, type OrgFixture } from '../support/fixtures.ts';

/**
 * Abuse limits through the real endpoint (README "Rate limits"). The server trusts X-Forwarded-For, so each test
 * signs in from addresses of its own; time moves only with server.clock.
 */
const TIGHT = {
  TRUST_PROXY: 'true',
  RATE_LIMIT_SIGNIN_PER_ACCOUNT: '5',
  RATE_LIMIT_SIGNIN_PER_ACCOUNT_TOTAL: '10',
  RATE_LIMIT_SIGNIN_PER_ADDRESS: '30',
  RATE_LIMIT_SIGNIN_WINDOW_SECONDS: '900',
  RATE_LIMIT_LOCKOUT_SECONDS: '60',
  RATE_LIMIT_LOCKOUT_MAX_SECONDS: '3600',
  RATE_LIMIT_REVEAL_PER_MINUTE: '5',
  RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '5',
  // One document with many aliases must reach the resolvers: this file is about what happens there.
  QUERY_MAX_ALIASES: '50',
  QUERY_MAX_TOKENS: '20000',
  QUERY_MAX_COST: '1000000',
};

const SIGN_IN = /* GraphQL */ `
  mutation SignIn($input: SignInInput!) {
    signIn(input: $input) {
      __typename
      ... on SignInPayload { token }
      ... on Error { message }
      ... on RateLimitedError { retryAfterSeconds }
    }
  }
`;
const CREATE = /* GraphQL */ `
  mutation Create($input: CreateCredentialInput!) {
    createCredential(input: $input) { __typename ... on CreateCredentialPayload { credential { id } } }
  }
`;
const REVEAL = /* GraphQL */ `
  mutation Reveal($input: RevealCredentialInput!) {
    revealCredential(input: $input) {
      __typename
      ... on RevealCredentialPayload { value }
      ... on Error { message }
      ... on RateLimitedError { retryAfterSeconds }
    }
  }
`;
const RECORD = /* GraphQL */ `
  mutation Record($input: RecordCredentialAccessInput!) {
    recordCredentialAccess(input: $input) { __typename ... on RateLimitedError { retryAfterSeconds } }
  }
`;
const EXPORT = /* GraphQL */ `
  mutation Export($input: ExportCredentialsInput!) {
    exportCredentials(input: $input) { __typename ... on ExportCredentialsPayload { secretsExported } ... on RateLimitedError { retryAfterSeconds } }
  }
`;
const CREATE_API_KEY = /* GraphQL */ `
  mutation Key($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on CreateApiKeyPayload { key } } }
`;
const VIEWER = '{ viewer { kind } }';
const SECRET = 'Rate-Limited-Secret-4711!';

const from = (address: string, auth: { token?: string; apiKey?: string } = {}) => ({ ...auth, headers: { 'x-forwarded-for': address } });
const address = () => unique('203.0.113');
const nobody = () => `${unique('nobody')}@example.test`;

async function attempt(server: TestServer, email: string, password: string, addr: string) {
  return (await server.gql(SIGN_IN, { input: { email, password } }, from(addr))).data?.signIn;
}
const invalid = { __typename: 'InvalidCredentialsError', message: 'The email or password is not correct.' };
const limited = (retryAfterSeconds: number) => ({
  __typename: 'RateLimitedError',
  retryAfterSeconds,
  message: `Too many attempts. Try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`,
});

async function createSecret(server: TestServer, org: OrgFixture, actor: { token: string }) {
  const res = await server.gql(CREATE, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: unique('db'), password: SECRET } }, actor);
  if (res.data?.createCredential?.__typename !== 'CreateCredentialPayload') throw new Error(JSON.stringify(res));
  return res.data.createCredential.credential.id as string;
}

describe('rate limits (one instance, in memory)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: TIGHT });
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('sign-in', () => {
    it('locks an account out for one address after 5 failures, doubles the lockout per further failure, and resets on success', async () => {
      const org = await createOrg(server, 'lockout');
      const email = org.admin.email;
      const addr = address();
      for (let i = 0; i < 5; i++) expect(await attempt(server, email, `wrong password ${i}`, addr)).toEqual(invalid);
      // Locked: even the right password is refused, because it is not checked.
      expect(await attempt(server, email, PASSWORD, addr)).toEqual(limited(60));
      server.clock.advance(59_000);
      expect(await attempt(server, email, PASSWORD, addr)).toEqual(limited(1));
      server.clock.advance(1_000);
      expect(await attempt(server, email, 'wrong again', addr)).toEqual(invalid);
      expect(await attempt(server, email, PASSWORD, addr)).toEqual(limited(120));
      server.clock.advance(120_000);
      expect(await attempt(server, email, 'and again', addr)).toEqual(invalid);
      expect(await attempt(server, email, PASSWORD, addr)).toEqual(limited(240));
      server.clock.advance(240_000);
      expect((await attempt(server, email, PASSWORD, addr)).__typename).toBe('SignInPayload');
      // The success ended the streak: five fresh failures, then the first lockout again (not the fourth).
      for (let i = 0; i < 5; i++) expect(await attempt(server, email, `wrong password ${i}`, addr)).toEqual(invalid);
      expect(await attempt(server, email, PASSWORD, addr)).toEqual(limited(60));
      // Only this address is locked out: the owner signs in from theirs (the fixture's, 127.0.0.1).
      expect((await server.gql(SIGN_IN, { input: { email, password: PASSWORD } })).data.signIn.__typename).toBe('SignInPayload');
    });

    it('locks changePassword after 5 wrong current passwords, refuses even the right one while locked, and resets on success', async () => {
      const org = await createOrg(server, 'pwchange');
      const CHANGE = `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { __typename ... on RateLimitedError { retryAfterSeconds } } }`;
      const change = async (currentPassword: string, newPassword = 'a brand new passphrase 2026') =>
        (await server.gql(CHANGE, { input: { currentPassword, newPassword } }, { token: org.admin.token })).data.changePassword;
      for (let i = 0; i < 5; i++) expect((await change(`wrong password ${i}`)).__typename).toBe('InvalidCredentialsError');
      expect(await change(PASSWORD)).toEqual({ __typename: 'RateLimitedError', retryAfterSeconds: 60 });
      server.clock.advance(60_000);
      expect((await change(PASSWORD)).__typename).toBe('ChangePasswordPayload');
      // The success cleared the streak: the next wrong one is just wrong.
      expect((await change('still wrong', 'another new passphrase 2027')).__typename).toBe('InvalidCredentialsError');
    });

    it('answers an unknown email exactly like a real account, and a locked attempt does no work at all', async () => {
      const org = await createOrg(server, 'enumeration');
      const addr = address();
      const run = async (email: string) => {
        const answers = [];
        for (let i = 0; i < 7; i++) answers.push(await attempt(server, email, 'not the password', addr));
        return answers;
      };
      const known = await run(org.admin.email);
      const unknown = await run(nobody());
      expect(unknown).toEqual(known);
      expect(known).toEqual([invalid, invalid, invalid, invalid, invalid, limited(60), limited(60)]);

      const lockedEmail = nobody();
      for (let i = 0; i < 5; i++) await attempt(server, lockedEmail, 'not the password', addr);
      server.queries.length = 0;
      const logged = server.logs.length;
      expect(await attempt(server, lockedEmail, PASSWORD, addr)).toEqual(limited(60));
      expect(await attempt(server, org.admin.email, PASSWORD, addr)).toEqual(limited(60));
      // Not a single SQL statement: no user was looked up, so no password was verified (no argon2 work).
      expect(server.queries).toEqual([]);
      const lines = server.logs.slice(logged).join('');
      expect(lines.match(/auth\.sign_in_rate_limited/g)).toHaveLength(2);
      expect(lines).not.toContain('auth.sign_in_failed');
    });

    it('spreads guessing over many addresses into an account-wide lockout that spares the owner’s usual address', async () => {
      const org = await createOrg(server, 'distributed');
      const email = org.admin.email;
      const [a, b, c] = [address(), address(), address()];
      for (let i = 0; i < 5; i++) expect(await attempt(server, email, 'guess', a)).toEqual(invalid);
      for (let i = 0; i < 5; i++) expect(await attempt(server, email, 'guess', b)).toEqual(invalid);
      // Ten failures in all: a new address is refused, right password or not.
      expect(await attempt(server, email, PASSWORD, c)).toEqual(limited(60));
      // The owner signed in from 127.0.0.1 before (the fixture did): that address is not locked out.
      expect((await server.gql(SIGN_IN, { input: { email, password: PASSWORD } })).data.signIn.__typename).toBe('SignInPayload');
      server.clock.advance(60_000);
      expect((await attempt(server, email, PASSWORD, c)).__typename).toBe('SignInPayload');
    });

    it('limits attempts per client address across accounts', async () => {
      const addr = address();
      for (let i = 0; i < 30; i++) expect(await attempt(server, nobody(), 'password', addr)).toEqual(invalid);
      const refused = await attempt(server, nobody(), 'password', addr);
      expect(refused.__typename).toBe('RateLimitedError');
      expect(refused.retryAfterSeconds).toBeGreaterThan(0);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(2 * 900);
      expect(await attempt(server, nobody(), 'password', address())).toEqual(invalid);
      server.clock.advance((refused.retryAfterSeconds - 1) * 1000);
      expect((await attempt(server, nobody(), 'password', addr)).__typename).toBe('RateLimitedError');
      server.clock.advance(1000);
      expect(await attempt(server, nobody(), 'password', addr)).toEqual(invalid);
    });

    it('counts each aliased signIn of one document as one attempt', async () => {
      const org = await createOrg(server, 'aliases');
      const fields = Array.from({ length: 20 }, (_, i) => `a${i}: signIn(input: { email: $email, password: "wrong password ${i}" }) { ...R }`);
      const document = `mutation Many($email: String!) { ${fields.join('\n')} }
        fragment R on SignInResult { __typename ... on Error { message } ... on RateLimitedError { retryAfterSeconds } }`;
      const logged = server.logs.length;
      const res = await server.gql(document, { email: org.admin.email }, from(address()));
      expect(res.errors).toBeUndefined();
      const answers = fields.map((_, i) => res.data[`a${i}`]);
      expect(answers.slice(0, 5)).toEqual(Array(5).fill(invalid));
      expect(answers.slice(5)).toEqual(Array(15).fill(limited(60)));
      expect(server.logs.slice(logged).join('').match(/"event":"auth\.sign_in_failed"/g)).toHaveLength(5);
    });
  });

  describe('secrets', () => {
    it('limits reveals, reported accesses and exports with secrets per user, with a retry-after that holds', async () => {
      const org = await createOrg(server, 'reveal-limit');
      const member = await addMember(server, org, 'MEMBER');
      const id = await createSecret(server, org, member);
      for (let i = 0; i < 4; i++) expect((await server.gql(REVEAL, { input: { id, field: 'PASSWORD' } }, member)).data.revealCredential.value).toBe(SECRET);
      expect((await server.gql(RECORD, { input: { id, surface: 'COPY' } }, member)).data.recordCredentialAccess.__typename).toBe('RecordCredentialAccessPayload');
      const refused = (await server.gql(REVEAL, { input: { id, field: 'PASSWORD' } }, member)).data.revealCredential;
      expect(refused).toMatchObject({ __typename: 'RateLimitedError' });
      expect(refused).toEqual(limited(refused.retryAfterSeconds));
      expect(refused.retryAfterSeconds).toBeGreaterThan(0);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(120);
      expect((await server.gql(RECORD, { input: { id, surface: 'COPY' } }, member)).data.recordCredentialAccess.__typename).toBe('RateLimitedError');
      // Another user has a budget of their own.
      expect((await server.gql(REVEAL, { input: { id, field: 'PASSWORD' } }, org.admin)).data.revealCredential.value).toBe(SECRET);
      server.clock.advance((refused.retryAfterSeconds - 1) * 1000);
      expect((await server.gql(REVEAL, { input: { id, field: 'PASSWORD' } }, member)).data.revealCredential.__typename).toBe('RateLimitedError');
      server.clock.advance(1000);
      expect((await server.gql(REVEAL, { input: { id, field: 'PASSWORD' } }, member)).data.revealCredential.value).toBe(SECRET);

      // An export with secrets is one call against the same budget; one without secrets is not counted.
      const admin = await addMember(server, org, 'ADMIN');
      const exportIt = (includeSecrets: boolean) =>
        server.gql(EXPORT, { input: { organizationId: org.orgId, format: 'JSON', includeSecrets } }, admin).then((r) => r.data.exportCredentials);
      for (let i = 0; i < 5; i++) expect(await exportIt(true)).toMatchObject({ __typename: 'ExportCredentialsPayload', secretsExported: 1 });
      expect((await exportIt(true)).__typename).toBe('RateLimitedError');
      expect((await exportIt(false)).__typename).toBe('ExportCredentialsPayload');
      expect((await server.gql(REVEAL, { input: { id, field: 'PASSWORD' } }, admin)).data.revealCredential.__typename).toBe('RateLimitedError');
    });

    it('counts each aliased revealCredential of one document, and the refused ones reveal and record nothing', async () => {
      const org = await createOrg(server, 'reveal-aliases');
      const member = await addMember(server, org, 'MEMBER');
      const id = await createSecret(server, org, member);
      const fields = Array.from({ length: 8 }, (_, i) => `r${i}: revealCredential(input: { id: $id, field: PASSWORD }) { ...R }`);
      const document = `mutation Many($id: ID!) { ${fields.join('\n')} }
        fragment R on RevealCredentialResult { __typename ... on RevealCredentialPayload { value } ... on RateLimitedError { retryAfterSeconds } }`;
      const res = await server.gql(document, { id }, member);
      expect(res.errors).toBeUndefined();
      const answers = fields.map((_, i) => res.data[`r${i}`]);
      expect(answers.slice(0, 5)).toEqual(Array(5).fill({ __typename: 'RevealCredentialPayload', value: SECRET }));
      for (const a of answers.slice(5)) expect(a).toMatchObject({ __typename: 'RateLimitedError', retryAfterSeconds: expect.any(Number) });
      expect(JSON.stringify(answers.slice(5))).not.toContain(SECRET);
      expect(await server.app.deps.db.accessRecord.count({ where: { credentialId: decodeGlobalID(id).id, surface: 'REVEAL' } })).toBe(5);
    });
  });

  describe('invalid credentials per client address', () => {
    const post = (addr: string, headers: Record<string, string>, query = VIEWER) =>
      fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': addr, ...headers },
        body: JSON.stringify({ query }),
      });

    it('answers unknown API keys 401, then 429 RATE_LIMITED with Retry-After for any key from that address', async () => {
      const org = await createOrg(server, 'api-key-failures');
      const created = await server.gql(CREATE_API_KEY, { input: { organizationId: org.orgId, name: 'ci', role: 'MEMBER' } }, org.admin);
      const key = created.data.createApiKey.key as string;
      const addr = address();
      for (let i = 0; i < 5; i++) {
        const res = await post(addr, { 'x-api-key': `vgk_${'x'.repeat(42)}${i}` });
        expect(res.status).toBe(401);
        expect((await res.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
      }
      const refused = await post(addr, { 'x-api-key': `vgk_${'y'.repeat(43)}` });
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect((await refused.json()).errors[0]).toMatchObject({ extensions: { code: 'RATE_LIMITED', retryAfterSeconds: retryAfter } });
      // Refused before the lookup: a valid key from that address gets the same answer, so it cannot serve as an oracle.
      server.queries.length = 0;
      expect((await post(addr, { 'x-api-key': key })).status).toBe(429);
      expect(server.queries).toEqual([]);
      // Requests without credentials, and other addresses, are not affected.
      expect(await (await post(addr, {})).json()).toEqual({ data: { viewer: null } });
      expect((await post(address(), { 'x-api-key': key })).status).toBe(200);
      server.clock.advance((retryAfter - 1) * 1000);
      expect((await post(addr, { 'x-api-key': key })).status).toBe(429);
      server.clock.advance(1000);
      expect(await (await post(addr, { 'x-api-key': key })).json()).toEqual({ data: { viewer: { kind: 'API_KEY' } } });
    });

    it('does the same for invalid and malformed bearer tokens', async () => {
      const addr = address();
      for (let i = 0; i < 4; i++) expect((await post(addr, { authorization: `Bearer vgs_${'z'.repeat(42)}${i}` })).status).toBe(401);
      expect((await post(addr, { authorization: 'Token nope' })).status).toBe(401);
      const refused = await post(addr, { authorization: `Bearer vgs_${'z'.repeat(43)}` });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await refused.json()).errors[0].extensions.code).toBe('RATE_LIMITED');
    });
  });
});

describe.runIf(testDbKind() === 'postgres')('rate limits across instances (Redis)', () => {
  it('two instances share sign-in lockouts, reveal budgets and invalid-credential counts', async () => {
    const env = { ...TIGHT, REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', RATE_LIMIT_REDIS_PREFIX: `${unique('vaultgate-test')}:` };
    const a = await startTestServer({ env });
    const b = await startTestServer({ env, shareWith: a });
    try {
      const org = await createOrg(a, 'redis');
      const addr = address();
      for (let i = 0; i < 3; i++) expect(await attempt(a, org.admin.email, 'wrong', addr)).toEqual(invalid);
      for (let i = 0; i < 2; i++) expect(await attempt(b, org.admin.email, 'wrong', addr)).toEqual(invalid);
      expect(await attempt(a, org.admin.email, PASSWORD, addr)).toEqual(limited(60));
      expect(await attempt(b, org.admin.email, PASSWORD, addr)).toEqual(limited(60));
      a.clock.advance(60_000);
      expect((await attempt(b, org.admin.email, PASSWORD, addr)).__typename).toBe('SignInPayload');

      const id = await createSecret(a, org, org.admin);
      const reveal = (s: TestServer) => s.gql(REVEAL, { input: { id, field: 'PASSWORD' } }, org.admin).then((r) => r.data.revealCredential);
      for (const s of [a, b, a, b, a]) expect((await reveal(s)).value).toBe(SECRET);
      expect((await reveal(b)).__typename).toBe('RateLimitedError');
      expect((await reveal(a)).__typename).toBe('RateLimitedError');

      const badKey = from(address(), { apiKey: `vgk_${'q'.repeat(43)}` });
      for (const s of [a, b, a, b, a]) expect((await s.gql(VIEWER, {}, badKey)).status).toBe(401);
      expect((await b.gql(VIEWER, {}, badKey)).status).toBe(429);
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});
