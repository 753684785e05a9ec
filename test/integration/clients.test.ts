import { print } from 'graphql';
import { GraphQLClient } from 'graphql-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateCredentialDocument,
  CredentialsDocument,
  PasswordAccessedDocument,
  ViewerDocument,
  type PasswordAccessedSubscription,
} from '../../src/sdk/index.ts';
import { accessUntilDelivered, apolloClient, urqlClient, wsClientFor } from '../support/clients.ts';
import { createOrg, type OrgFixture } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/harness.ts';

// The clients people bring, set up as docs/clients.md shows, against the real endpoint: a query, a mutation
// refused with a typed error whose `message` is read, and a subscription, with each.

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const INVALID = (organizationId: string) => ({ input: { organizationId, kind: 'PASSWORD' as const, name: '' } });

async function credentialIn(org: OrgFixture, name: string): Promise<string> {
  const res = await server.gql(print(CreateCredentialDocument), { input: { organizationId: org.orgId, kind: 'PASSWORD', name, password: 'a long enough example password' } }, org.admin);
  expect(res.data.createCredential.__typename).toBe('CreateCredentialPayload');
  return res.data.createCredential.credential.id;
}

describe('Apollo Client (InMemoryCache with the SDK possibleTypes, GraphQLWsLink, relayStylePagination)', () => {
  it('reads a typed error’s message, which the cache drops without possibleTypes', async () => {
    const org = await createOrg(server, 'apollo-err');
    const apollo = apolloClient(server, org.admin.token);
    const bare = apolloClient(server, org.admin.token, { possibleTypes: false });
    try {
      const { data } = await apollo.client.mutate({ mutation: CreateCredentialDocument, variables: INVALID(org.orgId) });
      const result = data!.createCredential;
      expect(result.__typename).toBe('ValidationError');
      if (result.__typename !== 'ValidationError') return;
      expect(result.message).toMatch(/\S/);
      expect(result.fieldErrors.map((e) => e.path.join('.'))).toContain('input.name');

      // What users met before the SDK shipped possibleTypes: `... on Error { message }` silently missing.
      const without = (await bare.client.mutate({ mutation: CreateCredentialDocument, variables: INVALID(org.orgId) })).data!.createCredential;
      expect(without.__typename).toBe('ValidationError');
      expect((without as { message?: string }).message).toBeUndefined();
    } finally {
      await apollo.close();
      await bare.close();
    }
  });

  it('runs a query and pages a connection into one cached list', async () => {
    const org = await createOrg(server, 'apollo-page');
    for (const name of ['Alpha', 'Bravo', 'Charlie']) await credentialIn(org, name);
    const apollo = apolloClient(server, org.admin.token);
    try {
      expect((await apollo.client.query({ query: ViewerDocument })).data?.viewer?.user?.email).toBe(org.admin.email);
      const filter = { organizationId: org.orgId };
      const first = await apollo.client.query({ query: CredentialsDocument, variables: { filter, first: 2 } });
      expect(first.data?.credentials.edges).toHaveLength(2);
      expect(first.data?.credentials.pageInfo.hasNextPage).toBe(true);
      await apollo.client.query({ query: CredentialsDocument, variables: { filter, first: 2, after: first.data!.credentials.pageInfo.endCursor }, fetchPolicy: 'network-only' });
      const merged = apollo.client.readQuery({ query: CredentialsDocument, variables: { filter } });
      expect(merged?.credentials.edges.map((e) => e.node.name).sort()).toEqual(['Alpha', 'Bravo', 'Charlie']);
      expect(merged?.credentials.pageInfo.hasNextPage).toBe(false);
    } finally {
      await apollo.close();
    }
  });

  it('receives a subscription over GraphQLWsLink', async () => {
    const org = await createOrg(server, 'apollo-sub');
    const credentialId = await credentialIn(org, 'Watched');
    const apollo = apolloClient(server, org.admin.token);
    const received: PasswordAccessedSubscription[] = [];
    const sub = apollo.client.subscribe({ query: PasswordAccessedDocument, variables: { filter: { credentialId } } }).subscribe({
      next: (result) => {
        if (result.data) received.push(result.data as PasswordAccessedSubscription);
      },
    });
    try {
      await accessUntilDelivered(server, org, credentialId, received);
      expect(received[0]?.passwordAccessed).toMatchObject({ credential: { id: credentialId }, accessRecord: { surface: 'COPY' } });
    } finally {
      sub.unsubscribe();
      await apollo.close();
    }
  });
});

describe('urql (@urql/core with subscriptionExchange over graphql-ws)', () => {
  it('runs a query, reads a typed error’s message and receives a subscription', async () => {
    const org = await createOrg(server, 'urql');
    const credentialId = await credentialIn(org, 'Watched');
    const urql = urqlClient(server, org.admin.token);
    const received: PasswordAccessedSubscription[] = [];
    const sub = urql.client.subscription(PasswordAccessedDocument, { filter: { credentialId } }).subscribe((result) => {
      if (result.data) received.push(result.data);
    });
    try {
      const viewer = await urql.client.query(ViewerDocument, {}).toPromise();
      expect(viewer.error).toBeUndefined();
      expect(viewer.data?.viewer?.user?.email).toBe(org.admin.email);

      const refused = await urql.client.mutation(CreateCredentialDocument, INVALID(org.orgId)).toPromise();
      const result = refused.data!.createCredential;
      expect(result.__typename).toBe('ValidationError');
      if (result.__typename === 'ValidationError') expect(result.message).toMatch(/\S/);

      await accessUntilDelivered(server, org, credentialId, received);
      expect(received[0]?.passwordAccessed).toMatchObject({ credential: { id: credentialId }, accessRecord: { surface: 'COPY' } });
    } finally {
      sub.unsubscribe();
      await urql.close();
    }
  });
});

describe('graphql-request (with graphql-ws for subscriptions)', () => {
  it('runs a query, reads a typed error’s message and receives a subscription', async () => {
    const org = await createOrg(server, 'gqlreq');
    const credentialId = await credentialIn(org, 'Watched');
    const client = new GraphQLClient(server.url, { headers: { authorization: `Bearer ${org.admin.token}` } });
    const ws = wsClientFor(server, org.admin.token);
    const received: PasswordAccessedSubscription[] = [];
    const unsubscribe = ws.subscribe<PasswordAccessedSubscription>(
      { query: print(PasswordAccessedDocument), variables: { filter: { credentialId } } },
      { next: (result) => void (result.data && received.push(result.data)), error: () => undefined, complete: () => undefined },
    );
    try {
      expect((await client.request(ViewerDocument)).viewer?.user?.email).toBe(org.admin.email);
      const result = (await client.request(CreateCredentialDocument, INVALID(org.orgId))).createCredential;
      expect(result.__typename).toBe('ValidationError');
      if (result.__typename === 'ValidationError') expect(result.message).toMatch(/\S/);

      await accessUntilDelivered(server, org, credentialId, received);
      expect(received[0]?.passwordAccessed).toMatchObject({ credential: { id: credentialId }, accessRecord: { surface: 'COPY' } });
    } finally {
      unsubscribe();
      await ws.dispose();
    }
  });
});
