import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, type OrgFixture } from '../support/fixtures.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const FOLDERS = /* GraphQL */ `
  query Folders($id: ID!, $parentId: ID) {
    organization(id: $id) { folders(parentId: $parentId) { id name path credentialCount children { name } } }
  }
`;
const FOLDER = /* GraphQL */ `
  query Folder($id: ID!) {
    node(id: $id) {
      ... on Folder { id name path credentialCount parent { id name } children { id name path } organization { id } }
    }
  }
`;
const CREATE = /* GraphQL */ `
  mutation CreateFolder($input: CreateFolderInput!) {
    createFolder(input: $input) {
      __typename
      ... on CreateFolderPayload { folder { id name path parent { id } } }
      ... on Error { message }
      ... on AlreadyExistsError { field }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const RENAME = /* GraphQL */ `
  mutation RenameFolder($input: RenameFolderInput!) {
    renameFolder(input: $input) {
      __typename
      ... on RenameFolderPayload { folder { id name path children { path children { path } } } }
      ... on Error { message }
      ... on AlreadyExistsError { field }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const MOVE = /* GraphQL */ `
  mutation MoveFolder($input: MoveFolderInput!) {
    moveFolder(input: $input) {
      __typename
      ... on MoveFolderPayload { folder { id path parent { id } children { path } } }
      ... on Error { message }
      ... on AlreadyExistsError { field }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const DELETE = /* GraphQL */ `
  mutation DeleteFolder($input: DeleteFolderInput!) {
    deleteFolder(input: $input) {
      __typename
      ... on DeleteFolderPayload {
        deletedFolderId movedFolderCount movedCredentialCount
        movedContentsTo { id path credentialCount children { name path } }
        organization { folders { name } }
      }
      ... on Error { message }
      ... on FolderNotEmptyError { folderCount credentialCount }
      ... on AlreadyExistsError { field }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const CREDENTIALS = /* GraphQL */ `
  query Credentials($filter: CredentialFilter!) {
    credentials(filter: $filter, first: 50) { totalCount edges { node { name folder { name } } } }
  }
`;

const NOT_FOUND = { message: 'Not found, or not allowed.', extensions: { code: 'FORBIDDEN' } };
const local = (globalId: string) => decodeGlobalID(globalId).id;
const missingFolder = encodeGlobalID('Folder', '00000000-0000-0000-0000-000000000000');

type Auth = { token: string };
const adminOf = (org: OrgFixture): Auth => ({ token: org.admin.token });

/** Creates a folder through the endpoint and returns its global id; fails the test on any refusal. */
async function mkdir(org: OrgFixture, name: string, parentId: string | null = null, as: Auth = adminOf(org)): Promise<string> {
  const res = await server.gql(CREATE, { input: { organizationId: org.orgId, name, parentId } }, as);
  expect(res.errors).toBeUndefined();
  expect(res.data.createFolder.__typename).toBe('CreateFolderPayload');
  return res.data.createFolder.folder.id as string;
}

/** A chain of nested folders, outermost first; returns their ids in the same order. */
async function mkdirs(org: OrgFixture, names: string[], parentId: string | null = null): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) ids.push(await mkdir(org, name, ids.at(-1) ?? parentId));
  return ids;
}

async function folder(id: string, as: Auth) {
  const res = await server.gql(FOLDER, { id }, as);
  expect(res.errors).toBeUndefined();
  return res.data.node as {
    id: string;
    name: string;
    path: string[];
    credentialCount: number;
    parent: { id: string; name: string } | null;
    children: { id: string; name: string; path: string[] }[];
    organization: { id: string };
  } | null;
}

async function folders(org: OrgFixture, parentId: string | null = null, as: Auth = adminOf(org)) {
  const res = await server.gql(FOLDERS, { id: org.orgId, parentId }, as);
  expect(res.errors).toBeUndefined();
  return res.data.organization.folders as { id: string; name: string; path: string[]; credentialCount: number; children: { name: string }[] }[];
}

/** Every folder row of the organization as (id, parent, name), to prove a refusal changed nothing. */
async function snapshot(org: OrgFixture) {
  return server.app.deps.db.folder.findMany({
    where: { organizationId: local(org.orgId) },
    select: { id: true, parentId: true, name: true },
    orderBy: { id: 'asc' },
  });
}

async function credentialIn(org: OrgFixture, folderGlobalId: string | null, name: string, archived = false) {
  return server.app.deps.db.credential.create({
    data: {
      organizationId: local(org.orgId),
      kind: 'PASSWORD',
      name,
      folderId: folderGlobalId === null ? null : local(folderGlobalId),
      archivedAt: archived ? new Date() : null,
    },
  });
}

async function credentialNames(org: OrgFixture, folderId: string, includeSubfolders: boolean, as: Auth = adminOf(org)) {
  const res = await server.gql(CREDENTIALS, { filter: { organizationId: org.orgId, folderId, includeSubfolders } }, as);
  expect(res.errors).toBeUndefined();
  const list = res.data.credentials;
  expect(list.totalCount).toBe(list.edges.length);
  return (list.edges as { node: { name: string } }[]).map((e) => e.node.name);
}

describe('folders', () => {
  it('nests folders to any depth; path, parent and children follow the tree, and every role reads them', async () => {
    const org = await createOrg(server, 'folder-nest');
    const as = adminOf(org);
    const [a, b, c, d, e] = await mkdirs(org, ['Infra', 'Europe', 'Frankfurt', 'Rack 12', 'Switches']);
    const sibling = await mkdir(org, 'Asia', a);
    const top = await mkdir(org, 'Apps');

    const deepest = await folder(e, as);
    expect(deepest).toMatchObject({
      name: 'Switches',
      path: ['Infra', 'Europe', 'Frankfurt', 'Rack 12', 'Switches'],
      parent: { id: d, name: 'Rack 12' },
      children: [],
      organization: { id: org.orgId },
    });
    expect((await folder(c, as))!.children).toEqual([{ id: d, name: 'Rack 12', path: ['Infra', 'Europe', 'Frankfurt', 'Rack 12'] }]);
    expect((await folder(a, as))!.parent).toBeNull();

    // The top level by default, a folder's own children with parentId, both by name.
    expect((await folders(org)).map((f) => [f.id, f.path])).toEqual([[top, ['Apps']], [a, ['Infra']]]);
    expect((await folders(org, a)).map((f) => [f.id, f.name, f.children])).toEqual([
      [sibling, 'Asia', []],
      [b, 'Europe', [{ name: 'Frankfurt' }]],
    ]);
    expect(await folders(org, e)).toEqual([]);

    for (const role of ['MEMBER', 'AUDITOR'] as const) {
      const reader = await addMember(server, org, role);
      expect((await folder(e, reader))!.path).toEqual(['Infra', 'Europe', 'Frankfurt', 'Rack 12', 'Switches']);
      expect((await folders(org, b, reader)).map((f) => f.name)).toEqual(['Frankfurt']);
    }
  });

  it('names are trimmed, bounded, and unique among siblings ignoring letter case', async () => {
    const org = await createOrg(server, 'folder-names');
    const as = adminOf(org);
    const create = (name: string, parentId: string | null = null) =>
      server.gql(CREATE, { input: { organizationId: org.orgId, name, parentId } }, as);

    const trimmed = await create('  Network  ');
    expect(trimmed.data.createFolder).toMatchObject({ __typename: 'CreateFolderPayload', folder: { name: 'Network', path: ['Network'], parent: null } });
    const network = trimmed.data.createFolder.folder.id;

    expect((await create('NETWORK')).data.createFolder).toEqual({
      __typename: 'AlreadyExistsError',
      message: 'A folder named "Network" already exists there.',
      field: 'name',
    });
    // The same name is fine under another parent, and then taken there too.
    const inner = await create('network', network);
    expect(inner.data.createFolder).toMatchObject({ __typename: 'CreateFolderPayload', folder: { path: ['Network', 'network'], parent: { id: network } } });
    expect((await create('Network', network)).data.createFolder).toMatchObject({ __typename: 'AlreadyExistsError', field: 'name' });

    expect((await create('   ')).data.createFolder).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'name'], message: 'must not be empty' }],
    });
    expect((await create('x'.repeat(101), network)).data.createFolder).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'name'], message: 'must be at most 100 characters' }],
    });
    expect((await create('y'.repeat(100))).data.createFolder.__typename).toBe('CreateFolderPayload');

    const rename = (id: string, name: string) => server.gql(RENAME, { input: { id, name } }, as);
    const tooLong = await rename(network, 'z'.repeat(101));
    expect(tooLong.data.renameFolder).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'name'], message: 'must be at most 100 characters' }],
    });
    expect((await rename(inner.data.createFolder.folder.id, '')).data.renameFolder.__typename).toBe('ValidationError');
    expect((await folders(org)).map((f) => f.name)).toEqual(['Network', 'y'.repeat(100)]);
    expect((await folders(org, network)).map((f) => f.name)).toEqual(['network']);
  });

  it('renames a folder; paths below it follow, and sibling names stay unique', async () => {
    const org = await createOrg(server, 'folder-rename');
    const manager = await addMember(server, org, 'MANAGER');
    const [a, b, c] = await mkdirs(org, ['Infra', 'Europe', 'Frankfurt']);
    const d = await mkdir(org, 'Rack 1', c);
    await mkdir(org, 'Asia', a);

    const renamed = await server.gql(RENAME, { input: { id: b, name: '  EMEA ' } }, manager);
    // The payload is read after the change: the paths below it have the new name.
    expect(renamed.data.renameFolder).toEqual({
      __typename: 'RenameFolderPayload',
      folder: { id: b, name: 'EMEA', path: ['Infra', 'EMEA'], children: [{ path: ['Infra', 'EMEA', 'Frankfurt'], children: [{ path: ['Infra', 'EMEA', 'Frankfurt', 'Rack 1'] }] }] },
    });
    expect((await folder(d, manager))!.path).toEqual(['Infra', 'EMEA', 'Frankfurt', 'Rack 1']);

    const clash = await server.gql(RENAME, { input: { id: b, name: 'asia' } }, manager);
    expect(clash.data.renameFolder).toMatchObject({ __typename: 'AlreadyExistsError', field: 'name' });
    // Changing only the letter case of its own name is not a collision.
    const recased = await server.gql(RENAME, { input: { id: b, name: 'emea' } }, manager);
    expect(recased.data.renameFolder.folder.name).toBe('emea');
    expect((await folders(org, a)).map((f) => f.name)).toEqual(['Asia', 'emea']);
  });

  it('moves a folder with everything in it under another folder or to the top level', async () => {
    const org = await createOrg(server, 'folder-move');
    const as = adminOf(org);
    const [a, b, c, d] = await mkdirs(org, ['Infra', 'Europe', 'Frankfurt', 'Rack 1']);
    const x = await mkdir(org, 'Archive');
    await credentialIn(org, c, 'core router');
    await credentialIn(org, d, 'rack switch');
    await credentialIn(org, a, 'infra jump host');
    const move = (id: string, parentId?: string | null) => server.gql(MOVE, { input: { id, parentId } }, as);

    const underX = await move(b, x);
    expect(underX.data.moveFolder).toEqual({
      __typename: 'MoveFolderPayload',
      folder: { id: b, path: ['Archive', 'Europe'], parent: { id: x }, children: [{ path: ['Archive', 'Europe', 'Frankfurt'] }] },
    });
    expect((await folder(d, as))!.path).toEqual(['Archive', 'Europe', 'Frankfurt', 'Rack 1']);
    expect((await folder(a, as))!.children).toEqual([]);
    // Credentials travel with their folders; listing with subfolders follows the new tree.
    expect(await credentialNames(org, x, true)).toEqual(['core router', 'rack switch']);
    expect(await credentialNames(org, a, true)).toEqual(['infra jump host']);
    expect(await credentialNames(org, c, false)).toEqual(['core router']);

    // To the top level: parentId null, or omitted.
    const toRoot = await move(c, null);
    expect(toRoot.data.moveFolder).toMatchObject({ folder: { id: c, path: ['Frankfurt'], parent: null } });
    const omitted = await move(d);
    expect(omitted.data.moveFolder).toMatchObject({ folder: { id: d, path: ['Rack 1'], parent: null } });
    expect((await folders(org)).map((f) => f.name)).toEqual(['Archive', 'Frankfurt', 'Infra', 'Rack 1']);

    // Moving to where it already is changes nothing and is not an error.
    const before = await snapshot(org);
    expect((await move(b, x)).data.moveFolder).toMatchObject({ __typename: 'MoveFolderPayload', folder: { path: ['Archive', 'Europe'] } });
    expect(await snapshot(org)).toEqual(before);

    // A sibling with the same name (ignoring case) at the target is a collision on parentId.
    const dup = await mkdir(org, 'infra', x);
    const beforeClash = await snapshot(org);
    const clash = await move(dup, null);
    expect(clash.data.moveFolder).toMatchObject({ __typename: 'AlreadyExistsError', field: 'parentId' });
    expect(await snapshot(org)).toEqual(beforeClash);
    expect((await folder(dup, as))!.path).toEqual(['Archive', 'infra']);
  });

  it('several changes in one operation: each payload reads the tree after its own change', async () => {
    const org = await createOrg(server, 'folder-one-operation');
    const [a, b, c] = await mkdirs(org, ['Left', 'Middle', 'Leaf']);
    const right = await mkdir(org, 'Right');
    // Mutation fields run one after another in the same request, so each must see the one before it.
    const res = await server.gql(
      /* GraphQL */ `
        mutation Steps($b: ID!, $right: ID!) {
          first: renameFolder(input: { id: $b, name: "Centre" }) { ... on RenameFolderPayload { folder { path children { path } } } }
          second: moveFolder(input: { id: $b, parentId: $right }) { ... on MoveFolderPayload { folder { path children { path } } } }
          third: renameFolder(input: { id: $right, name: "East" }) { ... on RenameFolderPayload { folder { path children { path children { path } } } } }
          fourth: deleteFolder(input: { id: $b, moveContentsToId: $right }) { ... on DeleteFolderPayload { movedContentsTo { children { path } } } }
        }
      `,
      { b, right },
      adminOf(org),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      first: { folder: { path: ['Left', 'Centre'], children: [{ path: ['Left', 'Centre', 'Leaf'] }] } },
      second: { folder: { path: ['Right', 'Centre'], children: [{ path: ['Right', 'Centre', 'Leaf'] }] } },
      third: { folder: { path: ['East'], children: [{ path: ['East', 'Centre'], children: [{ path: ['East', 'Centre', 'Leaf'] }] }] } },
      fourth: { movedContentsTo: { children: [{ path: ['East', 'Leaf'] }] } },
    });
    expect((await folder(a, adminOf(org)))!.children).toEqual([]);
    expect((await folder(c, adminOf(org)))!.parent).toEqual({ id: right, name: 'East' });
  });

  it('refuses to move a folder into itself or below itself, with a field path, and changes nothing', async () => {
    const org = await createOrg(server, 'folder-cycle');
    const as = adminOf(org);
    const [a, b, c, d] = await mkdirs(org, ['One', 'Two', 'Three', 'Four']);
    const before = await snapshot(org);

    for (const [id, parentId] of [[a, a], [a, b], [a, d], [b, c], [c, d], [d, d]]) {
      const res = await server.gql(MOVE, { input: { id, parentId } }, as);
      expect(res.errors).toBeUndefined();
      expect(res.data.moveFolder).toEqual({
        __typename: 'ValidationError',
        message: 'Invalid input: input.parentId: must not be the folder itself or one of its subfolders',
        fieldErrors: [{ path: ['input', 'parentId'], message: 'must not be the folder itself or one of its subfolders' }],
      });
    }
    expect(await snapshot(org)).toEqual(before);
    expect((await folder(d, as))!.path).toEqual(['One', 'Two', 'Three', 'Four']);
  });

  it('lets only one of two opposing concurrent moves win, so no loop is ever made', async () => {
    const org = await createOrg(server, 'folder-race');
    const as = adminOf(org);
    const x = await mkdir(org, 'X');
    const y = await mkdir(org, 'Y');

    const results = await Promise.all([
      server.gql(MOVE, { input: { id: x, parentId: y } }, as),
      server.gql(MOVE, { input: { id: y, parentId: x } }, as),
    ]);
    const kinds = results.map((r) => r.data?.moveFolder?.__typename).sort();
    expect(kinds).toEqual(['MoveFolderPayload', 'ValidationError']);

    const rows = await snapshot(org);
    const parents = new Map(rows.map((r) => [r.id, r.parentId]));
    expect([parents.get(local(x)), parents.get(local(y))].filter((p) => p === null)).toHaveLength(1);
    expect((await folders(org)).map((f) => f.children.length)).toEqual([1]);
  });

  it('deletes an empty folder, and refuses one holding subfolders or credentials', async () => {
    const org = await createOrg(server, 'folder-delete');
    const as = adminOf(org);
    const [a, b] = await mkdirs(org, ['Vendors', 'Acme']);
    const leaf = await mkdir(org, 'Empty', a);
    await credentialIn(org, a, 'vendor portal');
    await credentialIn(org, a, 'old vendor portal', true);
    expect((await folder(a, as))!.credentialCount).toBe(1);

    const deleted = await server.gql(DELETE, { input: { id: leaf } }, as);
    expect(deleted.data.deleteFolder).toEqual({
      __typename: 'DeleteFolderPayload',
      deletedFolderId: leaf,
      movedFolderCount: 0,
      movedCredentialCount: 0,
      movedContentsTo: null,
      organization: { folders: [{ name: 'Vendors' }] },
    });
    expect(await folder(leaf, as)).toBeNull();
    expect((await server.gql(DELETE, { input: { id: leaf } }, as)).errors?.[0]).toMatchObject(NOT_FOUND);

    const before = await snapshot(org);
    const notEmpty = await server.gql(DELETE, { input: { id: a } }, as);
    expect(notEmpty.data.deleteFolder).toMatchObject({ __typename: 'FolderNotEmptyError', folderCount: 1, credentialCount: 2 });
    expect(notEmpty.data.deleteFolder.message).toMatch(/not empty/);
    // A folder holding only a subfolder is not empty either.
    await server.app.deps.db.credential.deleteMany({ where: { folderId: local(a) } });
    const onlySubfolder = await server.gql(DELETE, { input: { id: a } }, as);
    expect(onlySubfolder.data.deleteFolder).toMatchObject({ __typename: 'FolderNotEmptyError', folderCount: 1, credentialCount: 0 });
    expect(await snapshot(org)).toEqual(before);
    expect((await folder(b, as))!.path).toEqual(['Vendors', 'Acme']);
  });

  it('deletes with moveContentsToId: subfolders and credentials move there first, in one transaction', async () => {
    const org = await createOrg(server, 'folder-delete-move');
    const other = await createOrg(server, 'folder-delete-move-other');
    const as = adminOf(org);
    const [a, b, c] = await mkdirs(org, ['Projects', 'Alpha', 'Docs']);
    const bOther = await mkdir(org, 'Media', b);
    const target = await mkdir(org, 'Done');
    const clashing = await mkdir(org, 'docs', target);
    const direct = await credentialIn(org, b, 'alpha db');
    const archived = await credentialIn(org, b, 'alpha old db', true);
    const nested = await credentialIn(org, c, 'alpha wiki');
    const theirs = await mkdir(other, 'Theirs');
    const before = await snapshot(org);
    const del = (moveContentsToId: string) => server.gql(DELETE, { input: { id: b, moveContentsToId } }, as);

    // Into the folder itself or anywhere below it: a typed refusal on the field.
    for (const inside of [b, c, bOther]) {
      expect((await del(inside)).data.deleteFolder).toMatchObject({
        __typename: 'ValidationError',
        fieldErrors: [{ path: ['input', 'moveContentsToId'], message: 'must be a folder outside the one being deleted' }],
      });
    }
    // Another organization's folder answers exactly like a missing one.
    const [foreign, missing] = await Promise.all([del(theirs), del(missingFolder)]);
    expect(foreign.errors?.[0]).toMatchObject(NOT_FOUND);
    expect(foreign.errors).toEqual(missing.errors);
    // A subfolder whose name is taken at the target.
    expect((await del(target)).data.deleteFolder).toMatchObject({ __typename: 'AlreadyExistsError', field: 'moveContentsToId' });

    // Nothing half-written after the refusals.
    expect(await snapshot(org)).toEqual(before);
    const db = server.app.deps.db;
    const folderOf = async (id: string) => (await db.credential.findUniqueOrThrow({ where: { id }, select: { folderId: true } })).folderId;
    expect([await folderOf(direct.id), await folderOf(archived.id), await folderOf(nested.id)]).toEqual([local(b), local(b), local(c)]);

    await server.gql(RENAME, { input: { id: clashing, name: 'Docs (2023)' } }, as);
    const moved = await del(target);
    expect(moved.data.deleteFolder).toEqual({
      __typename: 'DeleteFolderPayload',
      deletedFolderId: b,
      movedFolderCount: 2,
      movedCredentialCount: 2,
      movedContentsTo: {
        id: target,
        path: ['Done'],
        credentialCount: 1,
        children: [
          { name: 'Docs', path: ['Done', 'Docs'] },
          { name: 'Docs (2023)', path: ['Done', 'Docs (2023)'] },
          { name: 'Media', path: ['Done', 'Media'] },
        ],
      },
      organization: { folders: [{ name: 'Done' }, { name: 'Projects' }] },
    });
    expect(await db.folder.count({ where: { id: local(b) } })).toBe(0);
    expect([await folderOf(direct.id), await folderOf(archived.id), await folderOf(nested.id)]).toEqual([local(target), local(target), local(c)]);
    expect(await credentialNames(org, target, true)).toEqual(['alpha db', 'alpha wiki']);
    expect((await folder(a, as))!.children).toEqual([]);
  });

  it('moving contents up into the parent may reuse the deleted folder’s own name', async () => {
    const org = await createOrg(server, 'folder-delete-up');
    const as = adminOf(org);
    const [parent, outer, inner] = await mkdirs(org, ['Clients', 'Acme', 'Acme']);
    await credentialIn(org, outer, 'acme portal');

    const res = await server.gql(DELETE, { input: { id: outer, moveContentsToId: parent } }, as);
    expect(res.data.deleteFolder).toMatchObject({
      __typename: 'DeleteFolderPayload',
      movedFolderCount: 1,
      movedCredentialCount: 1,
      movedContentsTo: { id: parent, children: [{ name: 'Acme', path: ['Clients', 'Acme'] }] },
    });
    expect((await folder(inner, as))!.parent).toEqual({ id: parent, name: 'Clients' });
  });

  it('lets ADMIN and MANAGER manage folders, refuses MEMBER and AUDITOR with FORBIDDEN', async () => {
    const org = await createOrg(server, 'folder-roles');
    const other = await createOrg(server, 'folder-roles-other');
    const [a, b] = await mkdirs(org, ['Shared', 'Team']);
    const target = await mkdir(org, 'Target');
    const attemptsBy = (who: Auth, label: string) =>
      Promise.all([
        server.gql(CREATE, { input: { organizationId: org.orgId, name: `By ${label}`, parentId: a } }, who),
        server.gql(RENAME, { input: { id: b, name: `Renamed by ${label}` } }, who),
        server.gql(MOVE, { input: { id: b, parentId: target } }, who),
        server.gql(MOVE, { input: { id: b, parentId: null } }, who),
        server.gql(DELETE, { input: { id: b } }, who),
        server.gql(DELETE, { input: { id: a, moveContentsToId: target } }, who),
      ]);
    const before = await snapshot(org);

    for (const role of ['MEMBER', 'AUDITOR'] as const) {
      const who = await addMember(server, org, role);
      for (const res of await attemptsBy(who, role)) {
        expect(res.errors?.[0]).toMatchObject(NOT_FOUND);
        expect(res.data).toBeNull();
      }
      // They still read the tree.
      expect((await folder(b, who))!.path).toEqual(['Shared', 'Team']);
    }
    // A manager of another organization may manage folders somewhere, but not here.
    const outsider = await addMember(server, other, 'MANAGER');
    for (const res of await attemptsBy(outsider, 'outsider')) expect(res.errors?.[0]).toMatchObject(NOT_FOUND);
    expect(await folder(b, outsider)).toBeNull();
    expect(await snapshot(org)).toEqual(before);

    const anonymous = await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'Anon' } });
    expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');

    const manager = await addMember(server, org, 'MANAGER');
    const created = await mkdir(org, 'By manager', b, manager);
    expect((await server.gql(RENAME, { input: { id: created, name: 'Managed' } }, manager)).data.renameFolder.__typename).toBe('RenameFolderPayload');
    expect((await server.gql(MOVE, { input: { id: created, parentId: target } }, manager)).data.moveFolder.__typename).toBe('MoveFolderPayload');
    expect((await server.gql(DELETE, { input: { id: created } }, manager)).data.deleteFolder.__typename).toBe('DeleteFolderPayload');
  });

  it('answers another organization’s folders exactly like missing ones', async () => {
    const mine = await createOrg(server, 'folder-tenant-a');
    const theirs = await createOrg(server, 'folder-tenant-b');
    const as = adminOf(mine);
    const [myTop, myChild] = await mkdirs(mine, ['Mine', 'Sub']);
    const [theirTop, theirChild] = await mkdirs(theirs, ['Theirs', 'Secret']);
    await credentialIn(theirs, theirChild, 'their secret');
    const missingOrg = encodeGlobalID('Organization', '00000000-0000-0000-0000-000000000000');
    const theirsBefore = await snapshot(theirs);
    const mineBefore = await snapshot(mine);

    expect(await folder(theirTop, as)).toBeNull();
    expect(await folder(missingFolder, as)).toBeNull();
    // Listing under their folder, or under garbage, is simply empty.
    expect(await folders(mine, theirTop)).toEqual([]);
    expect(await folders(mine, 'garbage')).toEqual([]);
    expect(await credentialNames(mine, theirChild, true)).toEqual([]);
    expect(await credentialNames(mine, theirTop, true)).toEqual([]);

    const categoryAsFolder = encodeGlobalID('Category', local(theirTop));
    const pairs = await Promise.all([
      Promise.all([
        server.gql(RENAME, { input: { id: theirTop, name: 'Mine now' } }, as),
        server.gql(RENAME, { input: { id: missingFolder, name: 'Mine now' } }, as),
      ]),
      Promise.all([server.gql(DELETE, { input: { id: theirChild } }, as), server.gql(DELETE, { input: { id: missingFolder } }, as)]),
      Promise.all([
        server.gql(MOVE, { input: { id: theirChild, parentId: null } }, as),
        server.gql(MOVE, { input: { id: missingFolder, parentId: null } }, as),
      ]),
      // My folder under theirs.
      Promise.all([
        server.gql(MOVE, { input: { id: myChild, parentId: theirTop } }, as),
        server.gql(MOVE, { input: { id: myChild, parentId: missingFolder } }, as),
      ]),
      Promise.all([
        server.gql(CREATE, { input: { organizationId: theirs.orgId, name: 'Planted' } }, as),
        server.gql(CREATE, { input: { organizationId: missingOrg, name: 'Planted' } }, as),
      ]),
      Promise.all([
        server.gql(CREATE, { input: { organizationId: mine.orgId, name: 'Planted', parentId: theirTop } }, as),
        server.gql(CREATE, { input: { organizationId: mine.orgId, name: 'Planted', parentId: missingFolder } }, as),
      ]),
      Promise.all([
        server.gql(DELETE, { input: { id: myTop, moveContentsToId: theirTop } }, as),
        server.gql(DELETE, { input: { id: myTop, moveContentsToId: missingFolder } }, as),
      ]),
      Promise.all([
        server.gql(RENAME, { input: { id: 'garbage', name: 'x' } }, as),
        server.gql(RENAME, { input: { id: categoryAsFolder, name: 'x' } }, as),
      ]),
    ]);
    for (const [foreign, missing] of pairs) {
      expect(foreign.errors?.[0]).toMatchObject(NOT_FOUND);
      expect(foreign.errors).toEqual(missing.errors);
      expect(foreign.data).toBeNull();
    }
    expect(await snapshot(theirs)).toEqual(theirsBefore);
    expect(await snapshot(mine)).toEqual(mineBefore);
    expect((await folder(theirChild, adminOf(theirs)))!.path).toEqual(['Theirs', 'Secret']);
  });

  it('reads paths of a whole list with a constant number of statements', async () => {
    const small = await createOrg(server, 'folder-stmts-small');
    const large = await createOrg(server, 'folder-stmts-large');
    await mkdirs(small, ['A', 'B', 'C']);
    const [root] = await mkdirs(large, ['A', 'B', 'C', 'D', 'E', 'F']);
    for (const name of ['G', 'H', 'I', 'J']) await mkdirs(large, [name, `${name}1`, `${name}2`], root);

    const PATHS = /* GraphQL */ `
      query Paths($id: ID!) { organization(id: $id) { folders { path children { path children { path children { path } } } } } }
    `;
    // Only statements on the Folder table: sessions and background work add others of their own.
    const statements = async (org: OrgFixture) => {
      server.queries.length = 0;
      const res = await server.gql(PATHS, { id: org.orgId }, adminOf(org));
      expect(res.errors).toBeUndefined();
      return { count: server.queries.filter((sql) => /[`"]Folder[`"]/.test(sql)).length, data: res.data.organization.folders };
    };
    const s = await statements(small);
    const l = await statements(large);
    expect(s.data[0].children[0].children[0].path).toEqual(['A', 'B', 'C']);
    expect(l.data[0].children.map((f: { path: string[] }) => f.path)).toEqual([['A', 'B'], ['A', 'G'], ['A', 'H'], ['A', 'I'], ['A', 'J']]);
    expect(l.data[0].children[1].children[0].children[0].path).toEqual(['A', 'G', 'G1', 'G2']);
    expect(s.count).toBeGreaterThan(0);
    expect(l.count).toBe(s.count);
  });
});
