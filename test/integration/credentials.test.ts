import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, signIn, type OrgFixture } from '../support/fixtures.ts';
import { totpCode, parseOtpSecret } from '../../src/lib/totp.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateCredentialInput!) {
    createCredential(input: $input) {
      __typename
      ... on CreateCredentialPayload { passwordStrength credential { id name kind restricted currentVersion publicKeyFingerprint hasOtp apiKeys { id clientIdentifier } } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const REVEAL = /* GraphQL */ `
  mutation Reveal($input: RevealCredentialInput!) {
    revealCredential(input: $input) {
      __typename
      ... on RevealCredentialPayload { field version value otp { code secondsRemaining } accessRecordId }
      ... on Error { message }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const ROTATE = /* GraphQL */ `
  mutation Rotate($input: RotateCredentialInput!) {
    rotateCredential(input: $input) {
      __typename
      ... on RotateCredentialPayload { passwordStrength credential { currentVersion versions { version reason changedBy { email } } } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const LIST = /* GraphQL */ `
  query List($filter: CredentialFilter!, $first: Int, $after: String, $orderBy: CredentialOrder) {
    credentials(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name category { name } folder { name } lastAccessedAt } }
    }
  }
`;

type Actor = { token: string };
const PASSWORD_VALUE = 'Tr1cky-Vault-Secret-9f3e!';

async function create(org: OrgFixture, actor: Actor, input: Record<string, unknown>) {
  const res = await server.gql(CREATE, { input: { organizationId: org.orgId, ...input } }, actor);
  return res.data?.createCredential ?? res;
}
async function createPassword(org: OrgFixture, actor: Actor, extra: Record<string, unknown> = {}) {
  const r = await create(org, actor, { kind: 'PASSWORD', name: 'Domain admin', username: 'administrator', password: PASSWORD_VALUE, ...extra });
  if (r.__typename !== 'CreateCredentialPayload') throw new Error(JSON.stringify(r));
  return r.credential as { id: string; apiKeys: { id: string }[] };
}
const reveal = (actor: Actor, input: Record<string, unknown>) => server.gql(REVEAL, { input }, actor);
const localOf = (globalId: string) => decodeGlobalID(globalId).id;

describe('credentials: store and reveal', () => {
  it('stores a password encrypted at rest and reveals it, recording who, what, when and from where', async () => {
    const org = await createOrg(server, 'reveal');
    const member = await addMember(server, org, 'MEMBER');
    const created = await create(org, member, { kind: 'PASSWORD', name: 'Domain admin', username: 'administrator', password: PASSWORD_VALUE });
    expect(created.__typename).toBe('CreateCredentialPayload');
    expect(created.credential).toMatchObject({ kind: 'PASSWORD', restricted: false, currentVersion: 1, hasOtp: false });
    expect(typeof created.passwordStrength).toBe('number');

    // Nothing in the database holds the plaintext.
    const rows = await server.app.deps.db.secretValue.findMany({ where: { credentialId: localOf(created.credential.id) } });
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(PASSWORD_VALUE);

    // Metadata reads never include the secret.
    const read = await server.gql(`query($id: ID!) { node(id: $id) { ... on Credential { name username notes versions { version } apiKeys { id } } } }`, { id: created.credential.id }, member);
    expect(read.data.node.name).toBe('Domain admin');
    expect(JSON.stringify(read)).not.toContain(PASSWORD_VALUE);

    const res = await reveal(member, { id: created.credential.id, field: 'PASSWORD', purpose: 'ticket 4711' });
    expect(res.data.revealCredential).toMatchObject({ __typename: 'RevealCredentialPayload', field: 'PASSWORD', version: 1, value: PASSWORD_VALUE });
    const record = await server.app.deps.db.accessRecord.findUniqueOrThrow({ where: { id: localOf(res.data.revealCredential.accessRecordId) } });
    expect(record).toMatchObject({ surface: 'REVEAL', field: 'PASSWORD', version: 1, purpose: 'ticket 4711', actorUserId: localOf(member.userId), clientAddress: expect.stringMatching(/127\.0\.0\.1/) });
    const audit = await server.app.deps.db.auditEvent.findMany({ where: { targetId: localOf(created.credential.id) }, orderBy: { seq: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['credential.create', 'credential.reveal']);
    expect(JSON.stringify(audit)).not.toContain(PASSWORD_VALUE);
    expect(server.logs.join('')).not.toContain(PASSWORD_VALUE);
  });

  it('generates strong passwords, and rotation keeps every earlier version revealable', async () => {
    const org = await createOrg(server, 'rotate');
    const member = await addMember(server, org, 'MEMBER');
    const gen = await create(org, member, { kind: 'PASSWORD', name: 'Generated', generate: { length: 32 } });
    expect(gen.passwordStrength).toBe(4);
    const first = (await reveal(member, { id: gen.credential.id, field: 'PASSWORD' })).data.revealCredential.value;
    expect(first).toHaveLength(32);

    server.clock.advance(60_000);
    const rotated = await server.gql(ROTATE, { input: { id: gen.credential.id, newSecret: { password: 'password' }, reason: 'offboarding' } }, member);
    expect(rotated.data.rotateCredential.passwordStrength).toBe(0);
    const byGen = await server.gql(ROTATE, { input: { id: gen.credential.id, generate: { length: 20, symbols: false }, reason: 'weak' } }, member);
    expect(byGen.data.rotateCredential.credential.currentVersion).toBe(3);
    expect(byGen.data.rotateCredential.credential.versions).toEqual([
      { version: 3, reason: 'weak', changedBy: { email: member.email } },
      { version: 2, reason: 'offboarding', changedBy: { email: member.email } },
      { version: 1, reason: null, changedBy: { email: member.email } },
    ]);
    const v1 = await reveal(member, { id: gen.credential.id, field: 'PASSWORD', version: 1 });
    const v2 = await reveal(member, { id: gen.credential.id, field: 'PASSWORD', version: 2 });
    const v3 = await reveal(member, { id: gen.credential.id, field: 'PASSWORD' });
    expect([v1.data.revealCredential.value, v2.data.revealCredential.value]).toEqual([first, 'password']);
    expect(v3.data.revealCredential.value).toMatch(/^[A-Za-z0-9]{20}$/);
    const v9 = await reveal(member, { id: gen.credential.id, field: 'PASSWORD', version: 9 });
    expect(v9.data.revealCredential.__typename).toBe('FieldNotAvailableError');

    const noReason = await server.gql(ROTATE, { input: { id: gen.credential.id, generate: {}, reason: ' ' } }, member);
    expect(noReason.data.rotateCredential.fieldErrors).toEqual([{ path: ['input', 'reason'], message: 'must not be empty' }]);
  });

  it('keeps a TOTP seed: reveals the current code, and the seed itself only to an ADMIN', async () => {
    const org = await createOrg(server, 'otp');
    const member = await addMember(server, org, 'MEMBER');
    const seed = 'JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP';
    const c = await createPassword(org, member, { otpSecret: seed });
    const code = await reveal(member, { id: c.id, field: 'OTP_CODE' });
    expect(code.data.revealCredential.value).toBeNull();
    expect(code.data.revealCredential.otp).toEqual(totpCode(parseOtpSecret(seed), server.clock.now()));
    const bySeedMember = await reveal(member, { id: c.id, field: 'OTP_SECRET' });
    expect(bySeedMember.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const bySeedAdmin = await reveal(org.admin, { id: c.id, field: 'OTP_SECRET' });
    expect(bySeedAdmin.data.revealCredential.value).toBe(parseOtpSecret(seed).secretBase32);
    const bad = await create(org, member, { kind: 'PASSWORD', name: 'x', password: 'p', otpSecret: 'not base32 at all!' });
    expect(bad.fieldErrors.map((e: { path: string[] }) => e.path.join('.'))).toEqual(['input.otpSecret']);
    const none = await reveal(member, { id: (await createPassword(org, member)).id, field: 'OTP_CODE' });
    expect(none.data.revealCredential.__typename).toBe('FieldNotAvailableError');
  });

  it('holds several API keys per credential and reveals the one asked for', async () => {
    const org = await createOrg(server, 'apikeys');
    const member = await addMember(server, org, 'MEMBER');
    const r = await create(org, member, {
      kind: 'API_KEY',
      name: 'Azure app',
      apiKeys: [
        { clientIdentifier: 'client-a', clientSecret: 'secret-a', secretIdentifier: 'sid-a' },
        { clientIdentifier: 'client-b', clientSecret: 'secret-b' },
      ],
    });
    expect(r.credential.apiKeys.map((k: { clientIdentifier: string }) => k.clientIdentifier)).toEqual(['client-a', 'client-b']);
    const ambiguous = await reveal(member, { id: r.credential.id, field: 'API_KEY_SECRET' });
    expect(ambiguous.data.revealCredential.fieldErrors).toEqual([{ path: ['input', 'keyId'], message: 'this credential holds several keys: say which one' }]);
    const b = await reveal(member, { id: r.credential.id, field: 'API_KEY_SECRET', keyId: r.credential.apiKeys[1].id });
    expect(b.data.revealCredential.value).toBe('secret-b');
    const wrongKind = await create(org, member, { kind: 'API_KEY', name: 'x', password: 'nope' });
    expect(wrongKind.fieldErrors.map((e: { path: string[] }) => e.path.join('.')).sort()).toEqual(['input.apiKeys', 'input.password']);
  });

  it('stores SSH keys with the public key fingerprint computed, and refuses malformed keys', async () => {
    const org = await createOrg(server, 'ssh');
    const member = await addMember(server, org, 'MEMBER');
    const { privateKey } = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const r = await create(org, member, { kind: 'SSH_KEY', name: 'deploy', privateKey, passphrase: 'pp' });
    expect(r.credential.publicKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect((await reveal(member, { id: r.credential.id, field: 'SSH_PRIVATE_KEY' })).data.revealCredential.value).toBe(privateKey);
    expect((await reveal(member, { id: r.credential.id, field: 'PASSPHRASE' })).data.revealCredential.value).toBe('pp');
    const bad = await create(org, member, { kind: 'SSH_KEY', name: 'broken', privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----' });
    expect(bad.fieldErrors[0].path).toEqual(['input', 'privateKey']);
    expect(JSON.stringify(bad)).not.toContain('AAAA');
  });
});

describe('credentials: who may reveal', () => {
  it('refuses AUDITORs, refuses restricted credentials with AccessRequestRequiredError, and treats foreign ids as missing', async () => {
    const org = await createOrg(server, 'who');
    const member = await addMember(server, org, 'MEMBER');
    const auditor = await addMember(server, org, 'AUDITOR');
    const plain = await createPassword(org, member);
    // Restricted credentials are kept by ADMIN and MANAGER: a MEMBER can neither create one nor lift the flag
    // (which would release it without a request), nor rotate it to a value of their choosing.
    const byMember = await server.gql(CREATE, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'x', password: 'p', restricted: true } }, member);
    expect(byMember.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const restricted = await createPassword(org, org.admin, { name: 'Break-glass', restricted: true });
    const lift = await server.gql(`mutation($id: ID!) { updateCredential(input: {id: $id, restricted: false}) { __typename } }`, { id: restricted.id }, member);
    expect(lift.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const rotate = await server.gql(ROTATE, { input: { id: restricted.id, newSecret: { password: 'chosen by member' }, reason: 'x' } }, member);
    expect(rotate.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await reveal(member, { id: restricted.id, field: 'PASSWORD' })).data.revealCredential.__typename).toBe('AccessRequestRequiredError');
    const relax = await server.gql(`mutation($id: ID!) { updateCredential(input: {id: $id, restricted: false}) { __typename } }`, { id: plain.id }, member);
    expect(relax.data.updateCredential.__typename).toBe('UpdateCredentialPayload');

    const byAuditor = await reveal(auditor, { id: plain.id, field: 'PASSWORD' });
    expect(byAuditor.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const listed = await server.gql(LIST, { filter: { organizationId: org.orgId } }, auditor);
    expect(listed.data.credentials.totalCount).toBe(2);

    const r = await reveal(org.admin, { id: restricted.id, field: 'PASSWORD' });
    expect(r.data.revealCredential).toMatchObject({ __typename: 'AccessRequestRequiredError' });
    const meta = await server.gql(`query($id: ID!) { node(id: $id) { ... on Credential { name restricted viewerCanReveal } } }`, { id: restricted.id }, org.admin);
    expect(meta.data.node).toEqual({ name: 'Break-glass', restricted: true, viewerCanReveal: false });

    const other = await createOrg(server, 'who-other');
    const foreign = await reveal(other.admin, { id: plain.id, field: 'PASSWORD' });
    const missing = await reveal(other.admin, { id: encodeGlobalID('Credential', '00000000-0000-0000-0000-000000000000'), field: 'PASSWORD' });
    expect(foreign.errors).toEqual(missing.errors);
    expect(foreign.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const foreignList = await server.gql(LIST, { filter: { organizationId: org.orgId } }, other.admin);
    expect(foreignList.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // No access record was written for any refused attempt.
    expect(await server.app.deps.db.accessRecord.count({ where: { credentialId: { in: [localOf(plain.id), localOf(restricted.id)] } } })).toBe(0);
  });

  it('fails closed: when the access record cannot be written, nothing is revealed', async () => {
    const org = await createOrg(server, 'failclosed');
    const c = await createPassword(org, org.admin);
    const db = server.app.deps.db;
    const pg = server.db.kind === 'postgres';
    if (pg) {
      await db.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION vg_refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit store unavailable'; END $$ LANGUAGE plpgsql`);
      await db.$executeRawUnsafe(`CREATE TRIGGER vg_refuse_access BEFORE INSERT ON "AccessRecord" FOR EACH ROW EXECUTE FUNCTION vg_refuse()`);
    } else {
      await db.$executeRawUnsafe(`CREATE TRIGGER vg_refuse_access BEFORE INSERT ON "AccessRecord" BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END`);
    }
    try {
      const res = await reveal(org.admin, { id: c.id, field: 'PASSWORD' });
      expect(res.data).toBeNull();
      expect(res.errors?.[0].message).toBe('Unexpected error.');
      expect(JSON.stringify(res)).not.toContain(PASSWORD_VALUE);
      expect(JSON.stringify(res)).not.toContain('audit store');
    } finally {
      await db.$executeRawUnsafe(pg ? `DROP TRIGGER vg_refuse_access ON "AccessRecord"` : `DROP TRIGGER vg_refuse_access`);
    }
    expect(await db.accessRecord.count({ where: { credentialId: localOf(c.id) } })).toBe(0);
    expect((await reveal(org.admin, { id: c.id, field: 'PASSWORD' })).data.revealCredential.value).toBe(PASSWORD_VALUE);
  });

  it('refuses to decrypt a ciphertext moved to another credential', async () => {
    const org = await createOrg(server, 'swap');
    const a = await createPassword(org, org.admin, { name: 'A' });
    const b = await createPassword(org, org.admin, { name: 'B', password: 'other secret value' });
    const db = server.app.deps.db;
    const rowA = await db.secretValue.findFirstOrThrow({ where: { credentialId: localOf(a.id) } });
    await db.secretValue.updateMany({ where: { credentialId: localOf(b.id) }, data: { sealed: rowA.sealed } });
    const res = await reveal(org.admin, { id: b.id, field: 'PASSWORD' });
    expect(res.data.revealCredential.__typename).toBe('SecretUnavailableError');
    expect(JSON.stringify(res)).not.toContain(PASSWORD_VALUE);
    expect(await db.auditEvent.count({ where: { targetId: localOf(b.id), action: 'credential.decrypt_failed' } })).toBe(1);
    expect(await db.accessRecord.count({ where: { credentialId: localOf(b.id) } })).toBe(0);
  });
});

describe('credentials: notes, metadata, archive and delete', () => {
  it('sanitises notes and refuses scripts with the field path, writing nothing', async () => {
    const org = await createOrg(server, 'notes');
    const before = await server.app.deps.db.credential.count();
    const evil = await create(org, org.admin, { kind: 'PASSWORD', name: 'x', password: 'p', notes: '<p>hi</p><img src=x onerror=alert(1)>' });
    expect(evil.fieldErrors).toEqual([{ path: ['input', 'notes'], message: 'must not contain scripts, event handlers or javascript: URLs' }]);
    expect(await server.app.deps.db.credential.count()).toBe(before);
    const ok = await createPassword(org, org.admin, { notes: '<p>Rack <b>4</b> <custom-tag>x</custom-tag></p>' });
    const read = await server.gql(`query($id: ID!) { node(id: $id) { ... on Credential { notes } } }`, { id: ok.id }, org.admin);
    expect(read.data.node.notes).toBe('<p>Rack <b>4</b> x</p>');
    const long = await create(org, org.admin, { kind: 'PASSWORD', name: 'n'.repeat(256), password: 'p' });
    expect(long.fieldErrors).toEqual([{ path: ['input', 'name'], message: 'must be at most 255 characters' }]);
  });

  it('archives (hidden by default, reversible) and deletes (ADMIN only, access records kept)', async () => {
    const org = await createOrg(server, 'archive');
    const member = await addMember(server, org, 'MEMBER');
    const c = await createPassword(org, member);
    await reveal(member, { id: c.id, field: 'PASSWORD' });
    await server.gql(`mutation($id: ID!) { archiveCredential(input: {id: $id}) { credential { archivedAt } } }`, { id: c.id }, member);
    expect((await server.gql(LIST, { filter: { organizationId: org.orgId } }, member)).data.credentials.totalCount).toBe(0);
    expect((await server.gql(LIST, { filter: { organizationId: org.orgId, archived: true } }, member)).data.credentials.totalCount).toBe(1);
    await server.gql(`mutation($id: ID!) { restoreCredential(input: {id: $id}) { credential { archivedAt } } }`, { id: c.id }, member);
    expect((await server.gql(LIST, { filter: { organizationId: org.orgId } }, member)).data.credentials.totalCount).toBe(1);

    const DELETE = `mutation($id: ID!) { deleteCredential(input: {id: $id}) { ... on DeleteCredentialPayload { deletedCredentialId } } }`;
    expect((await server.gql(DELETE, { id: c.id }, member)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await server.gql(DELETE, { id: c.id }, org.admin)).data.deleteCredential.deletedCredentialId).toBe(c.id);
    const db = server.app.deps.db;
    expect(await db.credential.count({ where: { id: localOf(c.id) } })).toBe(0);
    expect(await db.secretValue.count({ where: { credentialId: localOf(c.id) } })).toBe(0);
    const kept = await db.accessRecord.findMany({ where: { organizationId: decodeGlobalID(org.orgId).id } });
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ credentialId: null, credentialName: 'Domain admin' });
    expect(await db.auditEvent.count({ where: { targetId: localOf(c.id), action: 'credential.delete' } })).toBe(1);
  });

  it('records client-reported copies as accesses', async () => {
    const org = await createOrg(server, 'copy');
    const c = await createPassword(org, org.admin);
    const res = await server.gql(`mutation($id: ID!) { recordCredentialAccess(input: {id: $id, surface: COPY}) { __typename ... on RecordCredentialAccessPayload { accessRecord { surface field version } } } }`, { id: c.id }, org.admin);
    expect(res.data.recordCredentialAccess.accessRecord).toEqual({ surface: 'COPY', field: 'PASSWORD', version: 1 });
    const records = await server.gql(`query($id: ID!) { node(id: $id) { ... on Credential { lastAccessedAt accessRecords { totalCount edges { node { surface } } } } } }`, { id: c.id }, org.admin);
    expect(records.data.node.accessRecords).toEqual({ totalCount: 1, edges: [{ node: { surface: 'COPY' } }] });
    expect(records.data.node.lastAccessedAt).toBe(server.clock.now().toISOString());
  });
});

describe('credentials: finding things', () => {
  it('filters by category, folder (with subfolders), text, kind, restricted and staleness, with stable paging', async () => {
    const org = await createOrg(server, 'find');
    const orgId = decodeGlobalID(org.orgId).id;
    const db = server.app.deps.db;
    const network = await db.category.create({ data: { organizationId: orgId, name: `Network-${orgId.slice(0, 4)}` } });
    const cloud = await db.category.create({ data: { organizationId: orgId, name: `Cloud-${orgId.slice(0, 4)}` } });
    const top = await db.folder.create({ data: { organizationId: orgId, name: 'Clients' } });
    const sub = await db.folder.create({ data: { organizationId: orgId, name: 'Acme', parentId: top.id } });
    const cat = (c: { id: string }) => encodeGlobalID('Category', c.id);
    const fol = (f: { id: string }) => encodeGlobalID('Folder', f.id);
    await createPassword(org, org.admin, { name: 'Core switch', username: 'netadmin', categoryId: cat(network), folderId: fol(top) });
    await createPassword(org, org.admin, { name: 'Firewall', url: 'https://FW.acme.example', categoryId: cat(network), folderId: fol(sub) });
    await createPassword(org, org.admin, { name: 'AWS root', categoryId: cat(cloud), restricted: true });
    await create(org, org.admin, { kind: 'API_KEY', name: 'Graph API', apiKeys: [{ clientIdentifier: 'id', clientSecret: 's' }] });
    let auth = org.admin;
    const names = async (filter: Record<string, unknown>) =>
      (await server.gql(LIST, { filter: { organizationId: org.orgId, ...filter } }, auth)).data.credentials.edges.map((e: { node: { name: string } }) => e.node.name);

    expect(await names({})).toEqual(['AWS root', 'Core switch', 'Firewall', 'Graph API']);
    expect(await names({ categoryIds: [cat(network)] })).toEqual(['Core switch', 'Firewall']);
    expect(await names({ categoryIds: [cat(network)], categoryMatch: 'NONE_OF' })).toEqual(['AWS root', 'Graph API']);
    expect(await names({ folderId: fol(top) })).toEqual(['Core switch']);
    expect(await names({ folderId: fol(top), includeSubfolders: true })).toEqual(['Core switch', 'Firewall']);
    expect(await names({ search: 'fw.ACME' })).toEqual(['Firewall']);
    expect(await names({ usernameContains: 'NETADMIN' })).toEqual(['Core switch']);
    expect(await names({ restricted: true })).toEqual(['AWS root']);
    expect(await names({ kinds: ['API_KEY'] })).toEqual(['Graph API']);

    server.clock.advance(91 * 86_400_000);
    auth = { ...org.admin, token: await signIn(server, org.admin.email) }; // the first session expired meanwhile
    const fw = (await server.gql(LIST, { filter: { organizationId: org.orgId, nameContains: 'Firewall' } }, auth)).data.credentials.edges[0].node.id;
    await server.gql(ROTATE, { input: { id: fw, generate: {}, reason: 'quarterly' } }, auth);
    expect(await names({ staleDays: 90 })).toEqual(['AWS root', 'Core switch', 'Graph API']);
    const report = await server.gql(`query($id: ID!) { staleCredentials(organizationId: $id) { totalCount } credentialCountsByCategory(organizationId: $id) { category { name } count } }`, { id: org.orgId }, auth);
    expect(report.data.staleCredentials.totalCount).toBe(3);
    expect(report.data.credentialCountsByCategory.map((g: { category: { name: string } | null; count: number }) => [g.category?.name ?? null, g.count]).sort()).toEqual(
      [[cloud.name, 1], [network.name, 2], [null, 1]].sort(),
    );

    const page1 = (await server.gql(LIST, { filter: { organizationId: org.orgId }, first: 3, orderBy: { field: 'NAME', direction: 'DESC' } }, auth)).data.credentials;
    expect(page1.totalCount).toBe(4);
    expect(page1.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(['Graph API', 'Firewall', 'Core switch']);
    const page2 = (await server.gql(LIST, { filter: { organizationId: org.orgId }, first: 3, after: page1.pageInfo.endCursor, orderBy: { field: 'NAME', direction: 'DESC' } }, auth)).data.credentials;
    expect(page2.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(['AWS root']);
  });

  it('pages forwards and backwards through repeated names in either order, each credential exactly once', async () => {
    const org = await createOrg(server, 'paging');
    for (const name of ['Bravo', 'Alpha', 'Bravo', 'Charlie', 'Bravo', 'Delta', 'Delta']) await createPassword(org, org.admin, { name });
    const PAGE = `query Page($filter: CredentialFilter!, $orderBy: CredentialOrder, $first: Int, $after: String, $last: Int, $before: String) {
      credentials(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
        pageInfo { startCursor endCursor } edges { node { id name } }
      }
    }`;
    type Page = { pageInfo: { startCursor: string | null; endCursor: string | null }; edges: { node: { id: string; name: string } }[] };
    const page = async (vars: Record<string, unknown>): Promise<Page> =>
      (await server.gql(PAGE, { filter: { organizationId: org.orgId }, ...vars }, org.admin)).data.credentials;
    for (const direction of ['ASC', 'DESC']) {
      const orderBy = { field: 'NAME', direction };
      const all = (await page({ orderBy, first: 100 })).edges.map((e) => e.node.id);
      expect(all).toHaveLength(7);
      // Pages of two break inside each run of equal names: the cursor's id decides there.
      const forwards: string[] = [];
      for (let p = await page({ orderBy, first: 2 }); p.edges.length; p = await page({ orderBy, first: 2, after: p.pageInfo.endCursor })) {
        forwards.push(...p.edges.map((e) => e.node.id));
      }
      expect(forwards).toEqual(all);
      const backwards: string[] = [];
      for (let p = await page({ orderBy, last: 2 }); p.edges.length; p = await page({ orderBy, last: 2, before: p.pageInfo.startCursor })) {
        backwards.unshift(...p.edges.map((e) => e.node.id));
      }
      expect(backwards).toEqual(all);
    }
  });

  it('lists with a constant number of SQL statements whatever the page size', async () => {
    const org = await createOrg(server, 'n1');
    const orgId = decodeGlobalID(org.orgId).id;
    const category = await server.app.deps.db.category.create({ data: { organizationId: orgId, name: 'N1' } });
    const folder = await server.app.deps.db.folder.create({ data: { organizationId: orgId, name: 'F' } });
    for (let i = 0; i < 30; i++) {
      await createPassword(org, org.admin, { name: `cred ${String(i).padStart(2, '0')}`, categoryId: encodeGlobalID('Category', category.id), folderId: encodeGlobalID('Folder', folder.id) });
    }
    const statementsFor = async (first: number) => {
      // A first request warms the session's lastUsedAt bookkeeping so both measured requests do the same work.
      await server.gql(LIST, { filter: { organizationId: org.orgId }, first }, org.admin);
      server.queries.length = 0;
      const res = await server.gql(LIST, { filter: { organizationId: org.orgId }, first }, org.admin);
      expect(res.data.credentials.edges).toHaveLength(first);
      return server.queries.length;
    };
    const small = await statementsFor(5);
    const large = await statementsFor(30);
    expect(large).toBe(small);
    expect(small).toBeLessThanOrEqual(8);
  });
});

describe('credentials: export', () => {
  it('exports metadata for managers, secrets only for admins, one EXPORT access per credential, restricted ones withheld', async () => {
    const org = await createOrg(server, 'export');
    const manager = await addMember(server, org, 'MANAGER');
    await createPassword(org, org.admin, { name: '=cmd|calc', username: 'a,b' });
    await createPassword(org, org.admin, { name: 'Vault root', restricted: true });
    const EXPORT = `mutation($input: ExportCredentialsInput!) { exportCredentials(input: $input) { __typename ... on ExportCredentialsPayload { content count secretsExported } } }`;
    const meta = await server.gql(EXPORT, { input: { organizationId: org.orgId, format: 'CSV', includeSecrets: false } }, manager);
    const csv: string = meta.data.exportCredentials.content;
    expect(csv.split('\r\n')[0]).toBe('id,kind,name,username,url,category,folder,restricted,passwordUpdatedAt,archivedAt');
    expect(csv).toContain(`'=cmd|calc,"a,b"`);
    expect(csv).not.toContain(PASSWORD_VALUE);

    const denied = await server.gql(EXPORT, { input: { organizationId: org.orgId, format: 'JSON', includeSecrets: true } }, manager);
    expect(denied.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const full = await server.gql(EXPORT, { input: { organizationId: org.orgId, format: 'JSON', includeSecrets: true } }, org.admin);
    expect(full.data.exportCredentials).toMatchObject({ count: 2, secretsExported: 1 });
    const rows = JSON.parse(full.data.exportCredentials.content) as { name: string; password: string | null }[];
    expect(rows.map((r) => [r.name, r.password])).toEqual([['=cmd|calc', PASSWORD_VALUE], ['Vault root', null]]);
    const records = await server.app.deps.db.accessRecord.findMany({ where: { organizationId: decodeGlobalID(org.orgId).id } });
    expect(records.map((r) => r.surface)).toEqual(['EXPORT']);
  });
});
