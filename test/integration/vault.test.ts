// Regressions from the outside testing of issue 12 (vault and organization items).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, type OrgFixture } from '../support/fixtures.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

type Actor = { token: string };

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateCredentialInput!) {
    createCredential(input: $input) {
      __typename
      ... on CreateCredentialPayload { credential { id name apiKeys { id clientIdentifier secretIdentifier } } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const REVEAL = /* GraphQL */ `
  mutation Reveal($input: RevealCredentialInput!) {
    revealCredential(input: $input) {
      __typename
      ... on RevealCredentialPayload { field version value }
      ... on Error { message }
    }
  }
`;

async function create(org: OrgFixture, actor: Actor, input: Record<string, unknown>) {
  const res = await server.gql(CREATE, { input: { organizationId: org.orgId, ...input } }, actor);
  const payload = res.data?.createCredential;
  if (payload?.__typename !== 'CreateCredentialPayload') throw new Error(JSON.stringify(res));
  return payload.credential as { id: string; name: string; apiKeys: { id: string; clientIdentifier: string; secretIdentifier: string | null }[] };
}

describe('API_KEY rotation keeps the key metadata of earlier versions', () => {
  it('lists each version’s keys and reveals an earlier key by its id and version', async () => {
    const org = await createOrg(server, 'apikeyrot');
    const member = await addMember(server, org, 'MEMBER');
    const c = await create(org, member, {
      kind: 'API_KEY',
      name: 'Graph app',
      apiKeys: [{ clientIdentifier: 'client-v1', clientSecret: 'secret-v1', secretIdentifier: 'sid-v1' }],
    });
    const rotated = await server.gql(
      `mutation($input: RotateCredentialInput!) { rotateCredential(input: $input) { __typename } }`,
      { input: { id: c.id, reason: 'yearly', newSecret: { apiKeys: [{ clientIdentifier: 'client-v2', clientSecret: 'secret-v2' }] } } },
      member,
    );
    expect(rotated.data.rotateCredential.__typename).toBe('RotateCredentialPayload');
    const read = await server.gql(
      `query($id: ID!) { node(id: $id) { ... on Credential { apiKeys { clientIdentifier } versions { version apiKeys { id clientIdentifier secretIdentifier } } } } }`,
      { id: c.id },
      member,
    );
    const node = read.data.node;
    expect(node.apiKeys).toEqual([{ clientIdentifier: 'client-v2' }]);
    const byVersion = Object.fromEntries(node.versions.map((v: { version: number; apiKeys: unknown[] }) => [v.version, v.apiKeys]));
    expect(byVersion[1]).toEqual([{ id: c.apiKeys[0].id, clientIdentifier: 'client-v1', secretIdentifier: 'sid-v1' }]);
    expect((byVersion[2] as { clientIdentifier: string }[]).map((k) => k.clientIdentifier)).toEqual(['client-v2']);
    // The old key still exists in the database, and its secret is revealable for version 1 only.
    const rows = await server.app.deps.db.credentialApiKey.findMany({ where: { clientIdentifier: 'client-v1' } });
    expect(rows).toHaveLength(1);
    const old = await server.gql(REVEAL, { input: { id: c.id, field: 'API_KEY_SECRET', version: 1, keyId: c.apiKeys[0].id } }, member);
    expect(old.data.revealCredential).toMatchObject({ __typename: 'RevealCredentialPayload', value: 'secret-v1', version: 1 });
    const oldInNew = await server.gql(REVEAL, { input: { id: c.id, field: 'API_KEY_SECRET', version: 2, keyId: c.apiKeys[0].id } }, member);
    expect(oldInNew.data.revealCredential.__typename).toBe('FieldNotAvailableError');
  });
});

describe('fields refuse instead of answering empty', () => {
  it('shows access records to ADMIN, MANAGER and AUDITOR; a MEMBER gets FORBIDDEN, not totalCount 0', async () => {
    const org = await createOrg(server, 'records');
    const [manager, member, auditor] = [await addMember(server, org, 'MANAGER'), await addMember(server, org, 'MEMBER'), await addMember(server, org, 'AUDITOR')];
    const c = await create(org, member, { kind: 'PASSWORD', name: 'Router', password: 'a secret value 1' });
    const shown = await server.gql(REVEAL, { input: { id: c.id, field: 'PASSWORD' } }, member);
    expect(shown.data.revealCredential.__typename).toBe('RevealCredentialPayload');
    const RECORDS = `query($id: ID!) { node(id: $id) { ... on Credential { viewerCanSeeAccessRecords accessRecords { totalCount edges { node { surface } } } } } }`;
    for (const who of [org.admin, manager, auditor]) {
      const res = await server.gql(RECORDS, { id: c.id }, who);
      expect(res.errors).toBeUndefined();
      expect(res.data.node).toEqual({ viewerCanSeeAccessRecords: true, accessRecords: { totalCount: 1, edges: [{ node: { surface: 'REVEAL' } }] } });
    }
    const refused = await server.gql(RECORDS, { id: c.id }, member);
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(refused.data)).not.toContain('totalCount');
    const may = await server.gql(`query($id: ID!) { node(id: $id) { ... on Credential { viewerCanSeeAccessRecords } } }`, { id: c.id }, member);
    expect(may.data.node.viewerCanSeeAccessRecords).toBe(false);
  });

  it('refuses an organization’s API keys to non-ADMINs instead of listing none', async () => {
    const org = await createOrg(server, 'keylist');
    const manager = await addMember(server, org, 'MANAGER');
    const KEYS = `query($id: ID!) { organization(id: $id) { apiKeys { totalCount } } }`;
    const admin = await server.gql(KEYS, { id: org.orgId }, org.admin);
    expect(admin.data.organization.apiKeys.totalCount).toBe(0);
    const refused = await server.gql(KEYS, { id: org.orgId }, manager);
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});
