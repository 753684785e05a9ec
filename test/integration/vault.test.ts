// Regressions from the outside testing of issue 12 (vault and organization items).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, testDbKind, type TestServer } from '../support/harness.ts';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { ACCEPT_INVITATION, ACCEPT_INVITATION_WITH_TOKEN, INVITE_MEMBER, PASSWORD, addMember, createOrg, invite, signIn, unique, type OrgFixture } from '../support/fixtures.ts';

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

describe('invitations: joining an organization needs the invitee’s consent', () => {
  const MINE = `{ viewer { invitations { id email role state organizationName } user { memberships { role organization { id } } } } }`;
  const DECLINE = `mutation($input: DeclineInvitationInput!) { declineInvitation(input: $input) { __typename ... on DeclineInvitationPayload { invitation { state } } } }`;
  const auditActions = async (org: OrgFixture) =>
    (await server.app.deps.db.auditEvent.findMany({ where: { chain: decodeGlobalID(org.orgId).id }, orderBy: { seq: 'asc' } })).map((e) => e.action);

  it('answers inviteMember the same whether or not the email has an account, and adds nobody', async () => {
    const org = await createOrg(server, 'inviter');
    const other = await createOrg(server, 'elsewhere');
    const existingEmail = other.admin.email;
    const newEmail = `${unique('nobody')}@example.test`;
    const normalise = (res: unknown, email: string) =>
      JSON.stringify(res)
        .replaceAll(email, '<email>')
        .replace(/vgi_[A-Za-z0-9_-]{43}/g, '<token>')
        .replace(/"id":"[^"]+"/g, '"id":"<id>"');
    const ask = (email: string) => server.gql(INVITE_MEMBER, { input: { organizationId: org.orgId, email, role: 'MEMBER' } }, org.admin);
    const [forExisting, forNew] = [await ask(existingEmail), await ask(newEmail)];
    expect(forExisting.data.inviteMember.__typename).toBe('InviteMemberPayload');
    expect(normalise(forExisting, existingEmail)).toBe(normalise(forNew, newEmail));
    // Nobody joined: the existing user's memberships are unchanged until they accept.
    const members = await server.gql(`query($id: ID!) { organization(id: $id) { members { totalCount } } }`, { id: org.orgId }, org.admin);
    expect(members.data.organization.members.totalCount).toBe(1);
    const theirs = await server.gql(MINE, {}, other.admin);
    expect(theirs.data.viewer.user.memberships).toHaveLength(1);
    expect(theirs.data.viewer.invitations).toMatchObject([{ email: existingEmail, role: 'MEMBER', state: 'PENDING' }]);
    expect(await auditActions(org)).toEqual(['organization.create', 'member.invite', 'member.invite']);
    // The audit entries of both invitations carry the same fields (no "newUser" flag).
    const data = (await server.app.deps.db.auditEvent.findMany({ where: { chain: decodeGlobalID(org.orgId).id, action: 'member.invite' } })).map((e) => Object.keys(JSON.parse(e.data)).sort().join());
    expect(data[0]).toBe(data[1]);
  });

  it('lets an existing user accept or decline while signed in; the token never creates a second account', async () => {
    const org = await createOrg(server, 'accepting');
    const person = await createOrg(server, 'person');
    const { token, invitation } = await invite(server, org, person.admin.email, 'AUDITOR');
    // The token without signing in is refused for an existing account, exactly like an unknown token.
    const withToken = await server.gql(ACCEPT_INVITATION_WITH_TOKEN, { input: { token, name: 'Mallory', password: PASSWORD } });
    const unknown = await server.gql(ACCEPT_INVITATION_WITH_TOKEN, { input: { token: `vgi_${'A'.repeat(43)}`, name: 'Mallory', password: PASSWORD } });
    expect(withToken.data.acceptInvitationWithToken.__typename).toBe('InvitationInvalidError');
    expect(withToken).toEqual(unknown);
    expect(await signIn(server, person.admin.email)).toMatch(/^vgs_/);
    // Someone else cannot accept it.
    const stranger = await addMember(server, await createOrg(server, 'stranger'), 'MEMBER');
    const stolen = await server.gql(ACCEPT_INVITATION, { input: { invitationId: invitation.id } }, stranger);
    expect(stolen.data.acceptInvitation.__typename).toBe('InvitationInvalidError');
    const accepted = await server.gql(ACCEPT_INVITATION, { input: { invitationId: invitation.id } }, person.admin);
    expect(accepted.data.acceptInvitation).toMatchObject({ __typename: 'AcceptInvitationPayload', membership: { role: 'AUDITOR' } });
    const again = await server.gql(ACCEPT_INVITATION, { input: { token } }, person.admin);
    expect(again.data.acceptInvitation.__typename).toBe('InvitationInvalidError');
    const mine = await server.gql(MINE, {}, person.admin);
    expect(mine.data.viewer.invitations).toEqual([]);
    expect(mine.data.viewer.user.memberships.map((m: { organization: { id: string } }) => m.organization.id)).toContain(org.orgId);
    expect(await auditActions(org)).toEqual(['organization.create', 'member.invite', 'member.add']);

    const org2 = await createOrg(server, 'declined');
    const second = await invite(server, org2, person.admin.email, 'MEMBER');
    const declined = await server.gql(DECLINE, { input: { invitationId: second.invitation.id } }, person.admin);
    expect(declined.data.declineInvitation).toEqual({ __typename: 'DeclineInvitationPayload', invitation: { state: 'DECLINED' } });
    const late = await server.gql(ACCEPT_INVITATION, { input: { invitationId: second.invitation.id } }, person.admin);
    expect(late.data.acceptInvitation.__typename).toBe('InvitationInvalidError');
    expect(await auditActions(org2)).toEqual(['organization.create', 'member.invite', 'member.invite_decline']);
  });

  it('creates a new account from the token once; expired and revoked invitations are refused', async () => {
    const org = await createOrg(server, 'newcomer');
    const email = `${unique('newcomer')}@example.test`;
    const { token } = await invite(server, org, email, 'MEMBER');
    const weak = await server.gql(ACCEPT_INVITATION_WITH_TOKEN, { input: { token, name: 'New', password: 'short' } });
    expect(weak.data.acceptInvitationWithToken.__typename).toBe('ValidationError');
    const ok = await server.gql(ACCEPT_INVITATION_WITH_TOKEN, { input: { token, name: 'New', password: PASSWORD } });
    expect(ok.data.acceptInvitationWithToken).toMatchObject({ membership: { role: 'MEMBER', user: { email } } });
    const reuse = await server.gql(ACCEPT_INVITATION_WITH_TOKEN, { input: { token, name: 'Again', password: PASSWORD } });
    expect(reuse.data.acceptInvitationWithToken.__typename).toBe('InvitationInvalidError');
    expect(await signIn(server, email)).toMatch(/^vgs_/);

    const lateEmail = `${unique('late')}@example.test`;
    const expiring = await invite(server, org, lateEmail, 'MEMBER');
    server.clock.advance(8 * 24 * 60 * 60 * 1000);
    org.admin.token = await signIn(server, org.admin.email); // sessions end too
    const expired = await server.gql(ACCEPT_INVITATION_WITH_TOKEN, { input: { token: expiring.token, name: 'Late', password: PASSWORD } });
    expect(expired.data.acceptInvitationWithToken.__typename).toBe('InvitationInvalidError');

    const revoked = await invite(server, org, lateEmail, 'MEMBER');
    const replaced = await invite(server, org, lateEmail, 'MANAGER');
    const old = await server.gql(ACCEPT_INVITATION_WITH_TOKEN, { input: { token: revoked.token, name: 'Late', password: PASSWORD } });
    expect(old.data.acceptInvitationWithToken.__typename).toBe('InvitationInvalidError');
    const REVOKE = `mutation($input: RevokeInvitationInput!) { revokeInvitation(input: $input) { __typename } }`;
    const other = await createOrg(server, 'other-revoker');
    const foreign = await server.gql(REVOKE, { input: { invitationId: replaced.invitation.id } }, other.admin);
    const missing = await server.gql(REVOKE, { input: { invitationId: replaced.invitation.id.slice(0, -2) + 'xx' } }, other.admin);
    expect(foreign.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(foreign.errors).toEqual(missing.errors);
    expect((await server.gql(REVOKE, { input: { invitationId: replaced.invitation.id } }, org.admin)).data.revokeInvitation.__typename).toBe('RevokeInvitationPayload');
    const afterRevoke = await server.gql(ACCEPT_INVITATION_WITH_TOKEN, { input: { token: replaced.token, name: 'Late', password: PASSWORD } });
    expect(afterRevoke.data.acceptInvitationWithToken.__typename).toBe('InvitationInvalidError');
    const listed = await server.gql(`query($id: ID!) { organization(id: $id) { invitations { totalCount edges { node { state } } } } }`, { id: org.orgId }, org.admin);
    expect(listed.data.organization.invitations.edges.map((e: { node: { state: string } }) => e.node.state).sort()).toEqual(['ACCEPTED', 'EXPIRED', 'REVOKED', 'REVOKED']);
  });
});

describe('credential cursors are positions, not rows', () => {
  const PAGE = `query Page($filter: CredentialFilter!, $orderBy: CredentialOrder, $first: Int, $after: String) {
    credentials(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name } }
    }
  }`;
  type Page = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { cursor: string; node: { id: string; name: string } }[] };
  const page = async (org: OrgFixture, vars: Record<string, unknown>): Promise<Page> => {
    const res = await server.gql(PAGE, { filter: { organizationId: org.orgId }, ...vars }, org.admin);
    if (!res.data?.credentials) throw new Error(JSON.stringify(res));
    return res.data.credentials;
  };
  const rest = async (org: OrgFixture, orderBy: unknown, after: string) => {
    const names: string[] = [];
    for (let p = await page(org, { orderBy, first: 2, after }); ; p = await page(org, { orderBy, first: 2, after: p.pageInfo.endCursor })) {
      names.push(...p.edges.map((e) => e.node.name));
      if (!p.pageInfo.hasNextPage) return names;
    }
  };
  const DELETE = `mutation($input: DeleteCredentialInput!) { deleteCredential(input: $input) { __typename } }`;
  const UPDATE = `mutation($input: UpdateCredentialInput!) { updateCredential(input: $input) { __typename } }`;

  it('continues after the cursor’s credential is deleted or renamed, in every order', async () => {
    const org = await createOrg(server, 'cursor');
    for (let i = 1; i <= 12; i++) {
      await create(org, org.admin, { kind: 'PASSWORD', name: `c${String(i).padStart(2, '0')}`, password: 'a secret value 1' });
      server.clock.advance(1000);
    }
    const orders = ['NAME', 'CREATED_AT', 'UPDATED_AT', 'PASSWORD_UPDATED_AT'].flatMap((field) => ['ASC', 'DESC'].map((direction) => ({ field, direction })));
    let renames = 0;
    for (const orderBy of orders) {
      for (const change of ['delete', 'rename'] as const) {
        const label = `${orderBy.field} ${orderBy.direction} after ${change}`;
        const all = (await page(org, { orderBy, first: 100 })).edges.map((e) => e.node.name);
        const first = await page(org, { orderBy, first: 2 });
        const at = first.edges[1].node;
        let renamed: string | null = null;
        if (change === 'delete') {
          expect((await server.gql(DELETE, { input: { id: at.id } }, org.admin)).data.deleteCredential.__typename).toBe('DeleteCredentialPayload');
        } else {
          // Renamed to sort first by name (and its updatedAt moves to now).
          renamed = `a${String(renames++).padStart(2, '0')}`;
          expect((await server.gql(UPDATE, { input: { id: at.id, name: renamed } }, org.admin)).data.updateCredential.__typename).toBe('UpdateCredentialPayload');
        }
        const following = await rest(org, orderBy, first.pageInfo.endCursor);
        // Everything after the cursor, once, in order; the renamed row may show up again at its new place.
        expect(following.filter((n) => n !== renamed), label).toEqual(all.slice(2));
      }
    }
  }, 180_000);

  it('answers a cursor from another organization’s row like a missing one, and refuses malformed cursors', async () => {
    const mine = await createOrg(server, 'cursor-mine');
    const theirs = await createOrg(server, 'cursor-theirs');
    for (const name of ['Alpha', 'Bravo', 'Xray', 'Yankee']) await create(mine, mine.admin, { kind: 'PASSWORD', name, password: 'a secret value 1' });
    const gone = await create(mine, mine.admin, { kind: 'PASSWORD', name: 'Mike', password: 'a secret value 1' });
    await create(theirs, theirs.admin, { kind: 'PASSWORD', name: 'Mike', password: 'a secret value 1' });
    const cursorOf = async (org: OrgFixture) => (await page(org, { first: 100 })).edges.find((e) => e.node.name === 'Mike')!.cursor;
    const missingCursor = await cursorOf(mine);
    await server.gql(DELETE, { input: { id: gone.id } }, mine.admin);
    const foreignCursor = await cursorOf(theirs);
    const afterMissing = await page(mine, { first: 10, after: missingCursor });
    const afterForeign = await page(mine, { first: 10, after: foreignCursor });
    expect(afterMissing.edges.map((e) => e.node.name)).toEqual(['Xray', 'Yankee']);
    expect(afterForeign.edges.map((e) => e.node.name)).toEqual(['Xray', 'Yankee']);
    expect(afterForeign.totalCount).toBe(4);

    for (const bad of ['garbage', 'k1:' + Buffer.from('["NAME",1,2]').toString('base64url'), Buffer.from('GPC:S:x').toString('base64')]) {
      const res = await server.gql(PAGE, { filter: { organizationId: mine.orgId }, first: 2, after: bad }, mine.admin);
      expect(res.errors?.[0].extensions?.code, bad).toBe('BAD_USER_INPUT');
    }
    // A cursor of one order is refused by another.
    const byName = (await page(mine, { first: 1 })).pageInfo.endCursor;
    const crossed = await server.gql(PAGE, { filter: { organizationId: mine.orgId }, orderBy: { field: 'CREATED_AT', direction: 'ASC' }, first: 1, after: byName }, mine.admin);
    expect(crossed.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('large exports', () => {
  it('stream in batches: records become visible before the export ends, other writes interleave, the audit is complete', async () => {
    const org = await createOrg(server, 'bigexport');
    const orgId = decodeGlobalID(org.orgId).id;
    const total = 260;
    for (let i = 0; i < total; i += 4) {
      await Promise.all(
        Array.from({ length: 4 }, (_, j) => create(org, org.admin, { kind: 'PASSWORD', name: `e${String(i + j).padStart(4, '0')}`, password: 'a secret value 1' })),
      );
    }
    const EXPORT = `mutation($input: ExportCredentialsInput!) { exportCredentials(input: $input) { __typename ... on ExportCredentialsPayload { count secretsExported } } }`;
    let exportDone = false;
    const exporting = server
      .gql(EXPORT, { input: { organizationId: org.orgId, format: 'JSON', includeSecrets: true } }, org.admin)
      .finally(() => (exportDone = true));
    // PostgreSQL (several connections, row locks): the first committed view of the export's access records is
    // part of them, and an audited write meanwhile is not held until the export ends. SQLite has one writer
    // connection, whose queue decides the order; there only the audit's completeness is checked below.
    if (testDbKind() === 'postgres') {
      let seen = 0;
      while (!exportDone && seen === 0) {
        seen = await server.app.deps.db.accessRecord.count({ where: { organizationId: orgId, surface: 'EXPORT' } });
        if (seen === 0) await new Promise((r) => setTimeout(r, 10));
      }
      expect(exportDone).toBe(false);
      expect(seen).toBeGreaterThan(0);
      expect(seen).toBeLessThan(total);
      let createdFirst = false;
      await create(org, org.admin, { kind: 'PASSWORD', name: 'meanwhile', password: 'a secret value 1' }).then(() => (createdFirst = !exportDone));
      expect(createdFirst).toBe(true);
    }
    const res = await exporting;
    // The credential created meanwhile (named after all others) may be included: it was committed before the last batch.
    const exported = res.data.exportCredentials;
    expect(exported.__typename).toBe('ExportCredentialsPayload');
    expect([total, total + 1]).toContain(exported.count);
    expect(exported.secretsExported).toBe(exported.count);
    const actions = await server.app.deps.db.auditEvent.groupBy({ by: ['action'], where: { chain: orgId }, _count: { _all: true } });
    const count = (a: string) => actions.find((x) => x.action === a)?._count._all ?? 0;
    expect(count('credential.export')).toBe(exported.count);
    expect(count('credential.export_list')).toBe(1);
    const verified = await server.gql(`query($id: ID!) { verifyAuditLog(organizationId: $id) { ok } }`, { id: org.orgId }, org.admin);
    expect(verified.data?.verifyAuditLog?.ok ?? verified).toBe(true);
  }, 180_000);
});

describe('leftovers: archived credentials, folder and category audit', () => {
  it('refuses to reveal an archived credential with CredentialArchivedError until it is restored', async () => {
    const org = await createOrg(server, 'archived');
    const c = await create(org, org.admin, { kind: 'PASSWORD', name: 'Old router', password: 'a secret value 1' });
    await server.gql(`mutation($id: ID!) { archiveCredential(input: { id: $id }) { __typename } }`, { id: c.id }, org.admin);
    const refused = await server.gql(REVEAL, { input: { id: c.id, field: 'PASSWORD' } }, org.admin);
    expect(refused.data.revealCredential.__typename).toBe('CredentialArchivedError');
    const copy = await server.gql(
      `mutation($input: RecordCredentialAccessInput!) { recordCredentialAccess(input: $input) { __typename } }`,
      { input: { id: c.id, surface: 'COPY' } },
      org.admin,
    );
    expect(copy.data.recordCredentialAccess.__typename).toBe('CredentialArchivedError');
    expect(await server.app.deps.db.accessRecord.count({ where: { credentialId: decodeGlobalID(c.id).id } })).toBe(0);
    await server.gql(`mutation($id: ID!) { restoreCredential(input: { id: $id }) { __typename } }`, { id: c.id }, org.admin);
    const shown = await server.gql(REVEAL, { input: { id: c.id, field: 'PASSWORD' } }, org.admin);
    expect(shown.data.revealCredential.value).toBe('a secret value 1');
  });

  it('audits folder and category changes', async () => {
    const org = await createOrg(server, 'placeaudit');
    const orgId = decodeGlobalID(org.orgId).id;
    const folder = await server.gql(`mutation { createFolder(input: { organizationId: "${org.orgId}", name: "Servers" }) { __typename ... on CreateFolderPayload { folder { id } } } }`, {}, org.admin);
    const folderId = folder.data.createFolder.folder.id;
    await server.gql(`mutation($id: ID!) { renameFolder(input: { id: $id, name: "Hosts" }) { __typename } }`, { id: folderId }, org.admin);
    await server.gql(`mutation($id: ID!) { deleteFolder(input: { id: $id }) { __typename } }`, { id: folderId }, org.admin);
    const category = await server.gql(`mutation { createCategory(input: { organizationId: "${org.orgId}", name: "Printers" }) { __typename ... on CreateCategoryPayload { category { id } } } }`, {}, org.admin);
    const categoryId = category.data.createCategory.category.id;
    await server.gql(`mutation($id: ID!) { renameCategory(input: { id: $id, name: "Printing" }) { __typename } }`, { id: categoryId }, org.admin);
    await server.gql(`mutation($id: ID!) { deleteCategory(input: { id: $id }) { __typename } }`, { id: categoryId }, org.admin);
    const actions = (await server.app.deps.db.auditEvent.findMany({ where: { chain: orgId }, orderBy: { seq: 'asc' } })).map((e) => e.action);
    expect(actions.slice(1)).toEqual(['folder.create', 'folder.rename', 'folder.delete', 'category.create', 'category.rename', 'category.delete']);
  });
});

describe('the system audit chain over GraphQL', () => {
  it('lists and verifies the system chain for system administrators only', async () => {
    const org = await createOrg(server, 'sysaudit'); // its admin is a system administrator, as the bootstrap user is
    const member = await addMember(server, org, 'MEMBER'); // signs in: an auth.sign_in entry on the system chain
    const LIST = `{ systemAuditEvents(first: 5) { totalCount edges { node { seq action } } } verifySystemAuditLog { ok headSeq } }`;
    const res = await server.gql(LIST, {}, org.admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.systemAuditEvents.totalCount).toBeGreaterThan(0);
    expect(res.data.systemAuditEvents.edges.map((e: { node: { action: string } }) => e.node.action)).toContain('auth.sign_in');
    expect(res.data.verifySystemAuditLog.ok).toBe(true);
    const refused = await server.gql(LIST, {}, member);
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});
