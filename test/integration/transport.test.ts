import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { PASSWORD, createOrg, unique } from '../support/fixtures.ts';
import {
  AcceptInvitationWithTokenDocument,
  InviteMemberDocument,
  CreateApiKeyDocument,
  OrganizationMembersDocument,
  SignInDocument,
  ViewerDocument,
  VaultgateRequestError,
  createVaultgateClient,
} from '../../src/sdk/client.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

// GraphQL over HTTP: with the graphql-response media type, requests that cannot execute get 4xx statuses.
const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body,
  });

function noInternals(text: string) {
  for (const leak of ['prisma', 'Prisma', 'SELECT', 'sqlite', 'at async', 'node_modules', '.ts:', 'stack']) {
    expect(text).not.toContain(leak);
  }
}

describe('bad input over HTTP', () => {
  it('answers malformed JSON, unknown fields, wrong types and missing arguments with clear errors and no internals', async () => {
    const cases: [string, number, RegExp][] = [
      ['{"query": "{ viewer { kind } "', 400, /JSON/i],
      [JSON.stringify({ query: '{ viewer { nope } }' }), 400, /Cannot query field/],
      [JSON.stringify({ query: 'mutation { signIn(input: {email: 1, password: "x"}) { __typename } }' }), 400, /String cannot represent/],
      [JSON.stringify({ query: 'mutation($i: SignInInput!) { signIn(input: $i) { __typename } }', variables: { i: { email: 'a@b.c' } } }), 400, /password/],
      [JSON.stringify({ query: 'mutation($i: SignInInput!) { signIn(input: $i) { __typename } }', variables: { i: { email: 'a@b.c', password: 'x', extra: 1 } } }), 400, /extra/],
      [JSON.stringify({ query: 'query { organization(id: 5) { name } }' }), 200, /.*/],
      [JSON.stringify({}), 400, /query/i],
    ];
    for (const [body, status, pattern] of cases) {
      const res = await post(body);
      const text = await res.text();
      expect(res.status, body).toBe(status);
      expect(text).toMatch(pattern);
      noInternals(text);
    }
  });

  it('refuses over-long strings and NUL bytes with a ValidationError naming the field, and writes nothing', async () => {
    const org = await createOrg(server, 'badinput');
    const res = await server.gql(
      'mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { __typename ... on ValidationError { fieldErrors { path message } } } }',
      { i: { name: 'a\u0000b' } },
      { token: org.admin.token },
    );
    expect(res.data.createOrganization).toEqual({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'name'], message: 'must not contain NUL characters' }] });
    const huge = await server.gql('mutation($i: SignInInput!) { signIn(input: $i) { __typename ... on ValidationError { fieldErrors { path } } } }', {
      i: { email: 'a@example.test', password: 'p'.repeat(100_000) },
    });
    expect(huge.data.signIn).toEqual({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'password'] }] });
    const orgs = await server.gql('{ organizations { totalCount } }', {}, { token: org.admin.token });
    expect(orgs.data.organizations.totalCount).toBe(1);
  });

  it('answers unknown global ids with null and malformed ones with a clear error, without internals', async () => {
    const org = await createOrg(server, 'ids');
    const unknown = await server.gql('{ nodes(ids: ["TWVtYmVyc2hpcDp4", "VXNlcjp4"]) { id } }', {}, { token: org.admin.token });
    expect(unknown.data.nodes).toEqual([null, null]);
    const malformed = await server.gql('{ nodes(ids: ["%%%"]) { id } }', {}, { token: org.admin.token });
    expect(malformed.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([['Invalid global ID.', 'INVALID_ID']]);
    // A raw database id (what AuditEvent.targetId used to hold) is malformed the same way, with the same code.
    const raw = await server.gql('{ node(id: "cmabc123rawid") { id } }', {}, { token: org.admin.token });
    expect(raw.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([['Invalid global ID.', 'INVALID_ID']]);
    noInternals(JSON.stringify([unknown, malformed]));
  });
});

describe('health, readiness and GraphiQL', () => {
  it('serves /healthz and /readyz', async () => {
    const base = server.url.replace('/graphql', '');
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', dependencies: { database: { up: true, since: expect.any(String), required: true } } });
  });

  it('opens GraphiQL in a browser outside production', async () => {
    const res = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('graphiql');
  });
});

describe('the typed SDK against the running server', () => {
  it('signs in, reads the viewer, invites a member and pages through members with generated documents', async () => {
    const org = await createOrg(server, 'sdk');
    const anon = createVaultgateClient({ url: server.url });
    const signedIn = await anon.request(SignInDocument, { input: { email: org.admin.email, password: PASSWORD } });
    if (signedIn.signIn.__typename !== 'SignInPayload') throw new Error('expected a session');
    const client = createVaultgateClient({ url: server.url, token: signedIn.signIn.token });

    const viewer = await client.request(ViewerDocument);
    expect(viewer.viewer?.user?.memberships.map((m) => m.organization.id)).toEqual([org.orgId]);

    const email = `${unique('sdk')}@example.test`;
    const invited = await client.request(InviteMemberDocument, { input: { organizationId: org.orgId, email, role: 'MEMBER' } });
    if (invited.inviteMember.__typename !== 'InviteMemberPayload') throw new Error('expected an invitation');
    const added = await anon.request(AcceptInvitationWithTokenDocument, { input: { token: invited.inviteMember.token, name: 'SDK user', password: PASSWORD } });
    expect(added.acceptInvitationWithToken.__typename).toBe('AcceptInvitationWithTokenPayload');
    const refused = await client.request(CreateApiKeyDocument, { input: { organizationId: org.orgId, name: '', role: 'MEMBER' } });
    expect(refused.createApiKey.__typename === 'ValidationError' && refused.createApiKey.fieldErrors[0].path).toEqual(['input', 'name']);

    const page = await client.request(OrganizationMembersDocument, { id: org.orgId, first: 1 });
    expect(page.organization?.members.totalCount).toBe(2);
    const next = await client.request(OrganizationMembersDocument, { id: org.orgId, first: 1, after: page.organization?.members.pageInfo.endCursor });
    expect(next.organization?.members.edges.map((e) => e.node.user.email)).toEqual([email]);

    await expect(createVaultgateClient({ url: server.url, token: 'vgs_' + 'a'.repeat(43) }).request(ViewerDocument)).rejects.toMatchObject({
      name: 'VaultgateRequestError',
      status: 401,
      code: 'UNAUTHENTICATED',
    } satisfies Partial<VaultgateRequestError>);
  });
});

describe('WebSocket on the same path', () => {
  const connect = (connectionParams: Record<string, unknown> | undefined) =>
    new Promise<{ closed?: number; result?: unknown }>((resolve) => {
      const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true,
        on: { closed: (e) => resolve({ closed: (e as { code: number }).code }) } });
      client.subscribe({ query: '{ viewer { kind user { email } } }' }, {
        next: (v) => {
          resolve({ result: v.data });
          void client.dispose();
        },
        error: () => {},
        complete: () => {},
      });
    });

  it('authenticates in connection_init and runs operations with the same policy as HTTP', async () => {
    const org = await createOrg(server, 'ws');
    expect(await connect({ token: org.admin.token })).toEqual({ result: { viewer: { kind: 'USER', user: { email: org.admin.email } } } });
  });

  it('refuses a connection with no or bad credentials with close code 4403', async () => {
    expect(await connect(undefined)).toEqual({ closed: 4403 });
    expect(await connect({ token: 'vgs_' + 'b'.repeat(43) })).toEqual({ closed: 4403 });
  });
});
