import { gql } from '@apollo/client';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/graphql/persisted.ts';
import { CreateCredentialDocument, PasswordAccessedDocument, ViewerDocument, type PasswordAccessedSubscription } from '../../src/sdk/index.ts';
import { accessUntilDelivered, apolloClient, urqlClient, wsClientFor } from '../support/clients.ts';
import { createOrg, type OrgFixture } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/harness.ts';

// Persisted operations as clients speak them: automatic persisted queries (Apollo's protocol, urql's exchange) in
// the default mode, and the SDK's operations with __typename added by Apollo and urql in PERSISTED_OPERATIONS=only.

let server: TestServer;
let only: TestServer;
let tight: TestServer;
let org: OrgFixture;

beforeAll(async () => {
  server = await startTestServer();
  only = await startTestServer({ shareWith: server, env: { PERSISTED_OPERATIONS: 'only' } });
  tight = await startTestServer({ shareWith: server, env: { APQ_MAX_ENTRIES: '2' } });
  org = await createOrg(server, 'apq');
});
afterAll(async () => {
  await tight?.stop();
  await only?.stop();
  await server?.stop();
});

const post = async (target: TestServer, body: unknown) => {
  const res = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${org.admin.token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
};
const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

/** A document no SDK operation has: only registration can make its hash known. */
const OWN = `query OwnViewer${Math.random().toString(36).slice(2, 8)} { viewer { kind user { email } } }`;

describe('automatic persisted queries (default mode)', () => {
  it('answers an unknown hash PersistedQueryNotFound, registers hash + text, then runs the hash alone', async () => {
    const missing = await post(server, { extensions: apq(sha256Hex(OWN)) });
    expect(missing.body.data).toBeUndefined();
    expect(missing.body.errors?.[0]).toMatchObject({ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });

    const registered = await post(server, { query: OWN, extensions: apq(sha256Hex(OWN)) });
    expect(registered.body.data.viewer.user.email).toBe(org.admin.email);
    const byHash = await post(server, { extensions: apq(sha256Hex(OWN)) });
    expect(byHash.body.data.viewer.user.email).toBe(org.admin.email);
  });

  it('knows the SDK operations up front, and refuses a hash that is not the text’s', async () => {
    expect((await post(server, { extensions: apq(sha256Hex(print(ViewerDocument))) })).body.data.viewer.kind).toBe('USER');
    const other = `query Other${Math.random().toString(36).slice(2, 8)} { viewer { kind } }`;
    const lying = await post(server, { query: other, extensions: apq(sha256Hex(OWN)) });
    expect(lying.body.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_HASH_MISMATCH');
    const wrongShape = await post(server, { query: other, extensions: { persistedQuery: { version: 1, sha256Hash: 'not a hash' } } });
    expect(wrongShape.body.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_INVALID');
    // Nothing was registered under the lying hash's name for the other text.
    expect((await post(server, { extensions: apq(sha256Hex(other)) })).body.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('keeps at most APQ_MAX_ENTRIES registered documents, the least recently used evicted first', async () => {
    const texts = [0, 1, 2].map((n) => `query Bounded${n}${Math.random().toString(36).slice(2, 8)} { viewer { kind } }`);
    for (const text of texts) expect((await post(tight, { query: text, extensions: apq(sha256Hex(text)) })).body.data.viewer.kind).toBe('USER');
    const known = await Promise.all(texts.map(async (text) => (await post(tight, { extensions: apq(sha256Hex(text)) })).body.data !== undefined));
    expect(known).toEqual([false, true, true]);
  });

  it('works over graphql-ws too: hash and text, then the hash alone', async () => {
    const ws = wsClientFor(server, org.admin.token);
    const run = (payload: { query: string; extensions: Record<string, unknown> }) =>
      new Promise<{ data?: any; errors?: any }>((resolve) => {
        let result: { data?: any; errors?: any } = {};
        ws.subscribe(payload, { next: (r) => void (result = r), error: (e) => resolve({ errors: e }), complete: () => resolve(result) });
      });
    try {
      const text = `query OverWs${Math.random().toString(36).slice(2, 8)} { viewer { kind } }`;
      const missing = await run({ query: '', extensions: apq(sha256Hex(text)) });
      expect(JSON.stringify(missing.errors)).toContain('PERSISTED_QUERY_NOT_FOUND');
      expect((await run({ query: text, extensions: apq(sha256Hex(text)) })).data.viewer.kind).toBe('USER');
      expect((await run({ query: '', extensions: apq(sha256Hex(text)) })).data.viewer.kind).toBe('USER');
    } finally {
      await ws.dispose();
    }
  });

  it('with Apollo’s persisted-query link: hash, PersistedQueryNotFound, hash + text; later the hash alone', async () => {
    const apollo = apolloClient(server, org.admin.token, { persisted: true });
    const query = gql(OWN.replace('OwnViewer', 'ApolloOwn'));
    try {
      expect((await apollo.client.query({ query })).data).toMatchObject({ viewer: { user: { email: org.admin.email } } });
      expect(apollo.bodies.map((b) => [b.query !== undefined, b.extensions?.persistedQuery !== undefined])).toEqual([
        [false, true],
        [true, true],
      ]);
      expect((await apollo.client.query({ query, fetchPolicy: 'network-only' })).data).toMatchObject({ viewer: { kind: 'USER' } });
      expect(apollo.bodies[2]).toMatchObject({ extensions: { persistedQuery: { sha256Hash: apollo.bodies[0]!.extensions!.persistedQuery!.sha256Hash } } });
      expect(apollo.bodies[2]!.query).toBeUndefined();
    } finally {
      await apollo.close();
    }
  });

  it('with urql’s persisted exchange: the same round trips, and a typed error’s message', async () => {
    const urql = urqlClient(server, org.admin.token, { persisted: true });
    const query = OWN.replace('OwnViewer', 'UrqlOwn');
    try {
      const first = await urql.client.query(query, {}).toPromise();
      expect(first.error).toBeUndefined();
      expect(first.data.viewer.user.email).toBe(org.admin.email);
      expect(urql.bodies.map((b) => [b.query !== undefined, b.extensions?.persistedQuery !== undefined])).toEqual([
        [false, true],
        [true, true],
      ]);
      expect((await urql.client.query(query, {}).toPromise()).data.viewer.kind).toBe('USER');
      expect(urql.bodies[2]!.query).toBeUndefined();

      const refused = await urql.client.mutation(CreateCredentialDocument, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: '' } }).toPromise();
      const result = refused.data!.createCredential;
      expect(result.__typename).toBe('ValidationError');
      if (result.__typename === 'ValidationError') expect(result.message).toMatch(/\S/);
    } finally {
      await urql.close();
    }
  });
});

describe('PERSISTED_OPERATIONS=only with Apollo and urql', () => {
  it('Apollo: the SDK’s operations with __typename added, by hash alone and by text; anything else refused', async () => {
    const persisted = apolloClient(only, org.admin.token, { persisted: true });
    const plain = apolloClient(only, org.admin.token);
    try {
      expect((await persisted.client.query({ query: ViewerDocument })).data?.viewer?.user?.email).toBe(org.admin.email);
      expect(persisted.bodies).toHaveLength(1);
      expect(persisted.bodies[0]!.query).toBeUndefined();

      expect((await plain.client.query({ query: ViewerDocument })).data?.viewer?.kind).toBe('USER');
      expect(plain.bodies[0]!.query).toContain('__typename');
      const refused = (await plain.client.mutate({ mutation: CreateCredentialDocument, variables: { input: { organizationId: org.orgId, kind: 'PASSWORD', name: '' } } })).data!.createCredential;
      expect(refused.__typename).toBe('ValidationError');
      if (refused.__typename === 'ValidationError') expect(refused.message).toMatch(/\S/);

      // (network-only: the cache could answer it from what the Viewer query stored.)
      await expect(plain.client.query({ query: gql(OWN), fetchPolicy: 'network-only' })).rejects.toMatchObject({ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'PERSISTED_OPERATION_NOT_FOUND' }) })] });
    } finally {
      await persisted.close();
      await plain.close();
    }
  });

  it('urql: the SDK’s operations with __typename added, by hash alone and by text; anything else refused', async () => {
    const persisted = urqlClient(only, org.admin.token, { persisted: true });
    const plain = urqlClient(only, org.admin.token);
    try {
      const byHash = await persisted.client.query(ViewerDocument, {}).toPromise();
      expect(byHash.error).toBeUndefined();
      expect(byHash.data?.viewer?.user?.email).toBe(org.admin.email);
      expect(persisted.bodies).toHaveLength(1);
      expect(persisted.bodies[0]!.query).toBeUndefined();

      const byText = await plain.client.query(ViewerDocument, {}).toPromise();
      expect(byText.error).toBeUndefined();
      expect(byText.data?.viewer?.kind).toBe('USER');
      expect(plain.bodies[0]!.query).toContain('__typename');

      const other = await plain.client.query(OWN, {}).toPromise();
      expect(other.error?.graphQLErrors[0]?.extensions?.code).toBe('PERSISTED_OPERATION_NOT_FOUND');
    } finally {
      await persisted.close();
      await plain.close();
    }
  });
});

describe('PERSISTED_OPERATIONS=only: subscriptions as Apollo and urql send them over graphql-ws', () => {
  it.each([['Apollo'], ['urql']])('%s', async (name) => {
    const created = await server.gql(print(CreateCredentialDocument), { input: { organizationId: org.orgId, kind: 'PASSWORD', name: `Only ${name}`, password: 'a long enough example password' } }, org.admin);
    const credentialId: string = created.data.createCredential.credential.id;
    const received: PasswordAccessedSubscription[] = [];
    const errors: unknown[] = [];
    const variables = { filter: { credentialId } };
    let stop: () => void;
    let close: () => void | Promise<void>;
    if (name === 'Apollo') {
      const apollo = apolloClient(only, org.admin.token);
      const sub = apollo.client.subscribe({ query: PasswordAccessedDocument, variables }).subscribe({
        next: (r) => (r.data ? received.push(r.data as PasswordAccessedSubscription) : errors.push(r.error)),
        error: (e) => errors.push(e),
      });
      stop = () => sub.unsubscribe();
      close = () => apollo.close();
    } else {
      const urql = urqlClient(only, org.admin.token);
      const sub = urql.client.subscription(PasswordAccessedDocument, variables).subscribe((r) => (r.data ? received.push(r.data) : errors.push(r.error)));
      stop = () => sub.unsubscribe();
      close = () => urql.close();
    }
    try {
      await accessUntilDelivered(only, org, credentialId, received);
      expect(errors).toEqual([]);
      expect(received[0]?.passwordAccessed).toMatchObject({ credential: { id: credentialId } });
    } finally {
      stop();
      await close();
    }
  });
});
