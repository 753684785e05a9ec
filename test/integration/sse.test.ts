import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg, signIn, type OrgFixture } from '../support/fixtures.ts';

// Subscriptions over HTTP (SSE, as GraphiQL sends them): the same authentication, policy and revocation as
// over WebSocket.

let server: TestServer;
let org: OrgFixture;
beforeAll(async () => {
  server = await startTestServer();
  org = await createOrg(server, 'sse');
});
afterAll(async () => {
  await server?.stop();
});

const ACCESSED = 'subscription { passwordAccessed { cursor accessRecord { credentialName } } }';

/** An SSE subscription: the text received so far, and a promise of the stream's end. */
async function sse(token: string | null) {
  const controller = new AbortController();
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: ACCESSED }),
    signal: controller.signal,
  });
  const stream = { text: '', ended: false };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    for (;;) {
      const { value, done: end } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (end) break;
      stream.text += decoder.decode(value);
    }
    stream.ended = true;
  })();
  const waitFor = async (needle: string) => {
    for (let i = 0; i < 400 && !stream.text.includes(needle) && !stream.ended; i++) await new Promise((r) => setTimeout(r, 25));
    return stream.text;
  };
  return { res, stream, done, waitFor, abort: () => controller.abort() };
}

async function sseGauge(): Promise<number> {
  const text = await (await fetch(server.url.replace('/graphql', '/metrics'))).text();
  return Number(/vaultgate_active_subscriptions\{transport="sse"\} (\d+)/.exec(text)?.[1] ?? 0);
}

async function revealNew(name: string) {
  const created = await server.gql(
    `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { ... on CreateCredentialPayload { credential { id } } } }`,
    { input: { organizationId: org.orgId, kind: 'PASSWORD', name, password: 'Sse-Secret-Value-77!' } },
    org.admin,
  );
  const id = created.data.createCredential.credential.id;
  const reveal = await server.gql(`mutation($id: ID!) { revealCredential(input: { id: $id, field: PASSWORD }) { __typename } }`, { id }, org.admin);
  expect(reveal.data.revealCredential.__typename).toBe('RevealCredentialPayload');
}

describe('subscriptions over SSE', () => {
  it('refuses an anonymous subscriber', async () => {
    const s = await sse(null);
    await s.done;
    expect(s.stream.text).toContain('errors');
    expect(s.stream.text).not.toContain('"passwordAccessed":{');
  });

  it('delivers with the Authorization header, and ends the stream once the session is signed out', async () => {
    const token = await signIn(server, org.admin.email);
    const before = await sseGauge();
    const s = await sse(token);
    expect(s.res.headers.get('content-type')).toContain('text/event-stream');
    for (let i = 0; i < 400 && (await sseGauge()) === before; i++) await new Promise((r) => setTimeout(r, 25));
    await revealNew('First over SSE');
    expect(await s.waitFor('First over SSE')).toContain('"credentialName":"First over SSE"');

    const out = await server.gql('mutation { signOut }', {}, { token });
    expect(out.errors).toBeUndefined();
    await revealNew('After sign-out');
    await s.done;
    expect(s.stream.ended).toBe(true);
    expect(s.stream.text).not.toContain('After sign-out');
  });
});
