import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { PASSWORD, createOrg } from '../support/fixtures.ts';

/** Issue 12 / 13: anonymous bootstrap does no password work once installed, is limited, and is local or token-bound. */
const BOOTSTRAP = /* GraphQL */ `
  mutation Bootstrap($input: BootstrapInput!) {
    bootstrap(input: $input) {
      __typename
      ... on BootstrapPayload { token user { email } }
      ... on RateLimitedError { retryAfterSeconds }
      ... on Error { message }
    }
  }
`;
const input = (extra: Record<string, unknown> = {}) => ({ email: 'first@example.test', name: 'First', password: PASSWORD, organizationName: 'Acme', ...extra });

const servers: TestServer[] = [];
const start = async (env: Record<string, string> = {}) => {
  const s = await startTestServer({ env });
  servers.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('bootstrap', () => {
  it('after installation answers BootstrapClosedError before reading the input, without hashing or querying again', async () => {
    const server = await start();
    await createOrg(server, 'installed');
    // Invalid input too: the installed check comes first (before it, a valid input was hashed with argon2 each time).
    const first = await server.gql(BOOTSTRAP, { input: input({ password: 'short' }) });
    expect(first.data.bootstrap.__typename).toBe('BootstrapClosedError');
    server.queries.length = 0;
    for (let i = 0; i < 3; i++) {
      expect((await server.gql(BOOTSTRAP, { input: input() })).data.bootstrap.__typename).toBe('BootstrapClosedError');
    }
    // Remembered in memory: no statement about users or the installation, no session, no audit.
    expect(server.queries.filter((q) => /"?(User|Installation|Session|AuditEvent)"?/i.test(q))).toEqual([]);
    expect(server.app.bootstrapToken).toBeNull();
  });

  it('limits attempts per client address', async () => {
    const server = await start({ RATE_LIMIT_BOOTSTRAP_PER_ADDRESS: '2' });
    const bad = input({ password: 'short' });
    expect((await server.gql(BOOTSTRAP, { input: bad })).data.bootstrap.__typename).toBe('ValidationError');
    expect((await server.gql(BOOTSTRAP, { input: bad })).data.bootstrap.__typename).toBe('ValidationError');
    const limited = (await server.gql(BOOTSTRAP, { input: input() })).data.bootstrap;
    expect(limited.__typename).toBe('RateLimitedError');
    expect(limited.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('from a remote address needs the one-time token printed at start; from the server itself it does not', async () => {
    const server = await start({ TRUST_PROXY: 'true' });
    const token = server.app.bootstrapToken;
    expect(token).toMatch(/^vgb_[A-Za-z0-9_-]{43}$/);
    // Logged once, at start.
    expect(server.logs.filter((l) => l.includes(token!))).toHaveLength(1);
    const remote = { headers: { 'x-forwarded-for': '203.0.113.7' } };
    const none = (await server.gql(BOOTSTRAP, { input: input() }, remote)).data.bootstrap;
    expect(none.__typename).toBe('BootstrapNotAllowedError');
    const wrong = (await server.gql(BOOTSTRAP, { input: input({ bootstrapToken: `vgb_${'A'.repeat(43)}` }) }, remote)).data.bootstrap;
    expect(wrong.__typename).toBe('BootstrapNotAllowedError');
    const ok = (await server.gql(BOOTSTRAP, { input: input({ bootstrapToken: token }) }, remote)).data.bootstrap;
    expect(ok.__typename).toBe('BootstrapPayload');
    expect(server.app.bootstrapToken).toBeNull();
    // Used up: the installation has its administrator.
    expect((await server.gql(BOOTSTRAP, { input: input({ email: 'second@example.test', bootstrapToken: token }) }, remote)).data.bootstrap.__typename).toBe('BootstrapClosedError');
  });

  it('a loopback peer behind an untrusted proxy header is not "the server itself"', async () => {
    const server = await start();
    const proxied = (await server.gql(BOOTSTRAP, { input: input() }, { headers: { 'x-forwarded-for': '203.0.113.7' } })).data.bootstrap;
    expect(proxied.__typename).toBe('BootstrapNotAllowedError');
    const local = (await server.gql(BOOTSTRAP, { input: input() })).data.bootstrap;
    expect(local.__typename).toBe('BootstrapPayload');
  });
});
