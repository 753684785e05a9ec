import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg } from '../support/fixtures.ts';
import { startSshTarget, type SshTarget } from '../support/sshTarget.ts';
import { CREATE_CREDENTIAL } from '../adversarial/support.ts';

let server: TestServer;
let target: SshTarget;
beforeAll(async () => {
  server = await startTestServer();
  target = await startSshTarget({ username: 'ops', password: 'target-password-1' });
});
afterAll(async () => {
  await target?.close();
  await server?.stop();
});

const CREATE = /* GraphQL */ `
  mutation CreateAsset($input: CreateAssetInput!) {
    createAsset(input: $input) {
      __typename
      ... on CreateAssetPayload { asset { id name host port protocol hostKeyFingerprint } }
      ... on AlreadyExistsError { field }
      ... on ValidationError { fieldErrors { path message } }
      ... on Error { message }
    }
  }
`;
const UPDATE = /* GraphQL */ `
  mutation UpdateAsset($input: UpdateAssetInput!) {
    updateAsset(input: $input) { __typename ... on UpdateAssetPayload { asset { id host port hostKeyFingerprint } } ... on Error { message } }
  }
`;
const PIN = /* GraphQL */ `
  mutation Pin($input: PinAssetHostKeyInput!) {
    pinAssetHostKey(input: $input) {
      __typename
      ... on PinAssetHostKeyPayload { asset { id hostKeyFingerprint hostKeyPinnedAt } }
      ... on HostKeyAlreadyPinnedError { pinned presented }
      ... on Error { message }
    }
  }
`;
const LINK = /* GraphQL */ `
  mutation Link($input: SetCredentialAssetInput!) {
    setCredentialAsset(input: $input) { __typename ... on SetCredentialAssetPayload { credential { id asset { id name } } } ... on Error { message } }
  }
`;
const LIST = /* GraphQL */ `
  query Assets($id: ID!) {
    organization(id: $id) { assets(first: 10) { totalCount edges { node { id name hostKeyFingerprint accounts { id username } } } } }
  }
`;
const AUDIT = /* GraphQL */ `
  query Audit($id: ID!) { auditEvents(filter: { organizationId: $id }, first: 50) { edges { node { action data } } } }
`;

describe('assets', () => {
  it('an ADMIN creates an asset, pins its host key on first use, and links an account; members read it', async () => {
    const org = await createOrg(server, 'assets');
    const member = await addMember(server, org, 'MEMBER');
    const created = await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'db-1', host: '127.0.0.1', port: target.port } }, org.admin);
    expect(created.data.createAsset.__typename, JSON.stringify(created)).toBe('CreateAssetPayload');
    const asset = created.data.createAsset.asset;
    expect(asset).toMatchObject({ protocol: 'SSH', port: target.port, hostKeyFingerprint: null });

    const dup = await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'db-1', host: '127.0.0.1' } }, org.admin);
    expect(dup.data.createAsset).toMatchObject({ __typename: 'AlreadyExistsError', field: 'name' });

    const pinned = await server.gql(PIN, { input: { id: asset.id } }, org.admin);
    expect(pinned.data.pinAssetHostKey.asset.hostKeyFingerprint).toBe(target.fingerprint);
    expect(target.logins).toHaveLength(0);

    const other = 'SHA256:' + 'A'.repeat(43);
    const refused = await server.gql(PIN, { input: { id: asset.id, fingerprint: other } }, org.admin);
    expect(refused.data.pinAssetHostKey).toMatchObject({ __typename: 'HostKeyAlreadyPinnedError', pinned: target.fingerprint, presented: other });
    const bad = await server.gql(PIN, { input: { id: asset.id, fingerprint: 'MD5:aa' } }, org.admin);
    expect(bad.data.pinAssetHostKey.__typename).toBe('ValidationError');

    const cred = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'ops on db-1', username: 'ops', password: 'target-password-1' } }, org.admin);
    const credentialId = cred.data.createCredential.credential.id;
    const linked = await server.gql(LINK, { input: { credentialId, assetId: asset.id } }, org.admin);
    expect(linked.data.setCredentialAsset.credential.asset).toEqual({ id: asset.id, name: 'db-1' });

    const noUser = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'nameless', password: 'x-Very-long-1' } }, org.admin);
    const refusedLink = await server.gql(LINK, { input: { credentialId: noUser.data.createCredential.credential.id, assetId: asset.id } }, org.admin);
    expect(refusedLink.data.setCredentialAsset.__typename).toBe('NotAnAccountError');

    const list = await server.gql(LIST, { id: org.orgId }, member);
    expect(list.data.organization.assets.totalCount).toBe(1);
    expect(list.data.organization.assets.edges[0].node).toMatchObject({ name: 'db-1', hostKeyFingerprint: target.fingerprint, accounts: [{ id: credentialId, username: 'ops' }] });

    // A member reads but never manages.
    const byMember = await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'db-2', host: '127.0.0.1' } }, member);
    expect(byMember.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    // Moving the asset unpins its key.
    const moved = await server.gql(UPDATE, { input: { id: asset.id, port: target.port + 1 } }, org.admin);
    expect(moved.data.updateAsset.asset).toMatchObject({ port: target.port + 1, hostKeyFingerprint: null });

    const audit = await server.gql(AUDIT, { id: org.orgId }, org.admin);
    const actions = audit.data.auditEvents.edges.map((e: { node: { action: string } }) => e.node.action);
    expect(actions).toEqual(expect.arrayContaining(['asset.create', 'asset.pin_host_key', 'credential.set_asset', 'asset.update']));
  });

  it('an unreachable host pins nothing; another organization cannot see or change the asset', async () => {
    const org = await createOrg(server, 'assets-b');
    const stranger = await createOrg(server, 'assets-c');
    // A port nothing listens on: the target's, after it moved.
    const closed = await startSshTarget({ username: 'x', password: 'y' });
    const closedPort = closed.port;
    await closed.close();
    const created = await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'gone', host: '127.0.0.1', port: closedPort } }, org.admin);
    const id = created.data.createAsset.asset.id;
    const pin = await server.gql(PIN, { input: { id } }, org.admin);
    expect(pin.data.pinAssetHostKey.__typename).toBe('AssetUnreachableError');
    const foreign = await server.gql(PIN, { input: { id, fingerprint: 'SHA256:' + 'B'.repeat(43) } }, stranger.admin);
    expect(foreign.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const node = await server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id }, stranger.admin);
    expect(node.data.node).toBeNull();
  });
});
