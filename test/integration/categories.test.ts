import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, type OrgFixture } from '../support/fixtures.ts';
import { DEFAULT_CATEGORIES } from '../../src/modules/category/category.service.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const CATEGORIES = /* GraphQL */ `
  query Categories($id: ID!) {
    organization(id: $id) { categories { id name credentialCount organization { id } } }
  }
`;
const CREATE = /* GraphQL */ `
  mutation CreateCategory($input: CreateCategoryInput!) {
    createCategory(input: $input) {
      __typename
      ... on CreateCategoryPayload { category { id name credentialCount } }
      ... on Error { message }
      ... on AlreadyExistsError { field }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const RENAME = /* GraphQL */ `
  mutation RenameCategory($input: RenameCategoryInput!) {
    renameCategory(input: $input) {
      __typename
      ... on RenameCategoryPayload { category { id name } }
      ... on Error { message }
      ... on AlreadyExistsError { field }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const DELETE = /* GraphQL */ `
  mutation DeleteCategory($input: DeleteCategoryInput!) {
    deleteCategory(input: $input) {
      __typename
      ... on DeleteCategoryPayload { deletedCategoryId reassignedCredentialCount organization { categories { name credentialCount } } }
      ... on Error { message }
      ... on CategoryInUseError { credentialCount }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;

const local = (globalId: string) => decodeGlobalID(globalId).id;
const missingCategory = encodeGlobalID('Category', '00000000-0000-0000-0000-000000000000');

/** A new organization: the defaults are seeded as it is created (provisionOrganization). */
const orgWithCategories = (label: string): Promise<OrgFixture> => createOrg(server, label);

async function categories(org: OrgFixture, token = org.admin.token) {
  const res = await server.gql(CATEGORIES, { id: org.orgId }, { token });
  expect(res.errors).toBeUndefined();
  return res.data.organization.categories as { id: string; name: string; credentialCount: number; organization: { id: string } }[];
}

async function categoryId(org: OrgFixture, name: string): Promise<string> {
  const found = (await categories(org)).find((c) => c.name === name);
  if (!found) throw new Error(`no category ${name}`);
  return found.id;
}

async function credentialIn(org: OrgFixture, categoryGlobalId: string, name: string, archived = false) {
  return server.app.deps.db.credential.create({
    data: {
      organizationId: local(org.orgId),
      kind: 'PASSWORD',
      name,
      categoryId: local(categoryGlobalId),
      archivedAt: archived ? new Date() : null,
    },
  });
}

describe('categories', () => {
  it('gives a new organization the seven default categories, listed by name', async () => {
    const org = await orgWithCategories('cat-defaults');
    const list = await categories(org);
    expect(list.map((c) => c.name)).toEqual([...DEFAULT_CATEGORIES].sort());
    expect(list.map((c) => c.name)).toEqual(['Administrative', 'Application', 'Cloud', 'Network', 'Service Account', 'User', 'Vendor']);
    expect(list.every((c) => c.credentialCount === 0 && c.organization.id === org.orgId)).toBe(true);

    // Every role may read them; node() finds them.
    const auditor = await addMember(server, org, 'AUDITOR');
    expect((await categories(org, auditor.token)).map((c) => c.name)).toHaveLength(7);
    const node = await server.gql(`query($id: ID!) { node(id: $id) { ... on Category { name } } }`, { id: list[0].id }, { token: auditor.token });
    expect(node.data.node).toEqual({ name: 'Administrative' });
  });

  it('creates, renames and deletes categories; names are trimmed, bounded and unique ignoring case', async () => {
    const org = await orgWithCategories('cat-crud');
    const manager = await addMember(server, org, 'MANAGER');
    const as = { token: manager.token };

    const created = await server.gql(CREATE, { input: { organizationId: org.orgId, name: '  Database  ' } }, as);
    expect(created.data.createCategory).toMatchObject({ __typename: 'CreateCategoryPayload', category: { name: 'Database', credentialCount: 0 } });
    const id = created.data.createCategory.category.id;

    const dupExact = await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'Database' } }, as);
    expect(dupExact.data.createCategory).toEqual({ __typename: 'AlreadyExistsError', message: 'A category with this name already exists.', field: 'name' });
    const dupCase = await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'NETWORK' } }, as);
    expect(dupCase.data.createCategory.__typename).toBe('AlreadyExistsError');

    const blank = await server.gql(CREATE, { input: { organizationId: org.orgId, name: '   ' } }, as);
    expect(blank.data.createCategory).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'name'], message: 'must not be empty' }] });
    const long = await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'x'.repeat(101) } }, as);
    expect(long.data.createCategory.fieldErrors).toEqual([{ path: ['input', 'name'], message: 'must be at most 100 characters' }]);
    const longest = await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'y'.repeat(100) } }, as);
    expect(longest.data.createCategory.__typename).toBe('CreateCategoryPayload');

    const renamed = await server.gql(RENAME, { input: { id, name: 'Databases' } }, as);
    expect(renamed.data.renameCategory).toEqual({ __typename: 'RenameCategoryPayload', category: { id, name: 'Databases' } });
    // Changing only the letter case of its own name is not a collision.
    const recased = await server.gql(RENAME, { input: { id, name: 'DATABASES' } }, as);
    expect(recased.data.renameCategory.category.name).toBe('DATABASES');
    const clash = await server.gql(RENAME, { input: { id, name: 'vendor' } }, as);
    expect(clash.data.renameCategory).toMatchObject({ __typename: 'AlreadyExistsError', field: 'name' });
    const badRename = await server.gql(RENAME, { input: { id, name: '' } }, as);
    expect(badRename.data.renameCategory.__typename).toBe('ValidationError');
    expect((await categories(org)).filter((c) => c.id === id).map((c) => c.name)).toEqual(['DATABASES']);

    const deleted = await server.gql(DELETE, { input: { id } }, as);
    expect(deleted.data.deleteCategory).toMatchObject({ __typename: 'DeleteCategoryPayload', deletedCategoryId: id, reassignedCredentialCount: 0 });
    expect(deleted.data.deleteCategory.organization.categories.map((c: any) => c.name)).not.toContain('DATABASES');
    const again = await server.gql(DELETE, { input: { id } }, as);
    expect(again.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses to delete a category in use, and with reassignToId moves its credentials first', async () => {
    const org = await orgWithCategories('cat-inuse');
    const other = await orgWithCategories('cat-inuse-other');
    const network = await categoryId(org, 'Network');
    const vendor = await categoryId(org, 'Vendor');
    const a = await credentialIn(org, network, 'router');
    const b = await credentialIn(org, network, 'switch');
    const archived = await credentialIn(org, network, 'old firewall', true);
    await credentialIn(org, vendor, 'supplier portal');

    const counts = Object.fromEntries((await categories(org)).map((c) => [c.name, c.credentialCount]));
    expect(counts).toMatchObject({ Network: 2, Vendor: 1, Cloud: 0 });

    const refused = await server.gql(DELETE, { input: { id: network } }, { token: org.admin.token });
    expect(refused.data.deleteCategory).toMatchObject({ __typename: 'CategoryInUseError', credentialCount: 3 });
    expect(refused.data.deleteCategory.message).toMatch(/used by 3 credentials/);

    const toItself = await server.gql(DELETE, { input: { id: network, reassignToId: network } }, { token: org.admin.token });
    expect(toItself.data.deleteCategory).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'reassignToId'] }] });

    // Another organization's category answers like a missing one, and nothing moves.
    const foreignTarget = await categoryId(other, 'Cloud');
    const [foreign, missing] = await Promise.all([
      server.gql(DELETE, { input: { id: network, reassignToId: foreignTarget } }, { token: org.admin.token }),
      server.gql(DELETE, { input: { id: network, reassignToId: missingCategory } }, { token: org.admin.token }),
    ]);
    expect(foreign.errors?.[0]).toMatchObject({ message: 'Not found, or not allowed.', extensions: { code: 'FORBIDDEN' } });
    expect(foreign.errors).toEqual(missing.errors);

    // Nothing half-written after the refusals.
    const db = server.app.deps.db;
    const stillThere = await db.credential.findMany({ where: { id: { in: [a.id, b.id, archived.id] } }, select: { categoryId: true } });
    expect(stillThere.every((c) => c.categoryId === local(network))).toBe(true);
    expect((await categories(org)).map((c) => c.name)).toContain('Network');

    const moved = await server.gql(DELETE, { input: { id: network, reassignToId: vendor } }, { token: org.admin.token });
    expect(moved.data.deleteCategory).toMatchObject({ __typename: 'DeleteCategoryPayload', deletedCategoryId: network, reassignedCredentialCount: 3 });
    const after = moved.data.deleteCategory.organization.categories;
    expect(after.map((c: any) => c.name)).not.toContain('Network');
    expect(after.find((c: any) => c.name === 'Vendor').credentialCount).toBe(3);
    expect(await db.credential.count({ where: { categoryId: local(vendor) } })).toBe(4);
    expect(await db.category.count({ where: { id: local(network) } })).toBe(0);
  });

  it('lets ADMIN and MANAGER manage categories, refuses MEMBER and AUDITOR with FORBIDDEN', async () => {
    const org = await orgWithCategories('cat-roles');
    const cloud = await categoryId(org, 'Cloud');
    for (const role of ['MEMBER', 'AUDITOR'] as const) {
      const who = await addMember(server, org, role);
      const attempts = await Promise.all([
        server.gql(CREATE, { input: { organizationId: org.orgId, name: `By ${role}` } }, { token: who.token }),
        server.gql(RENAME, { input: { id: cloud, name: `Renamed by ${role}` } }, { token: who.token }),
        server.gql(DELETE, { input: { id: cloud } }, { token: who.token }),
      ]);
      for (const res of attempts) {
        expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
        expect(res.data).toBeNull();
      }
      // They still read the categories.
      expect((await categories(org, who.token)).map((c) => c.name)).toEqual([
        'Administrative', 'Application', 'Cloud', 'Network', 'Service Account', 'User', 'Vendor',
      ]);
    }
    const anonymous = await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'Anon' } });
    expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers another organization’s categories exactly like missing ones', async () => {
    const mine = await orgWithCategories('cat-tenant-a');
    const theirs = await orgWithCategories('cat-tenant-b');
    const theirCloud = await categoryId(theirs, 'Cloud');
    const missingOrg = encodeGlobalID('Organization', '00000000-0000-0000-0000-000000000000');
    const as = { token: mine.admin.token };

    const node = (id: string) => server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id }, as);
    expect((await node(theirCloud)).data.node).toBeNull();
    expect((await node(missingCategory)).data.node).toBeNull();

    const pairs = await Promise.all([
      Promise.all([
        server.gql(RENAME, { input: { id: theirCloud, name: 'Mine now' } }, as),
        server.gql(RENAME, { input: { id: missingCategory, name: 'Mine now' } }, as),
      ]),
      Promise.all([server.gql(DELETE, { input: { id: theirCloud } }, as), server.gql(DELETE, { input: { id: missingCategory } }, as)]),
      Promise.all([
        server.gql(CREATE, { input: { organizationId: theirs.orgId, name: 'Planted' } }, as),
        server.gql(CREATE, { input: { organizationId: missingOrg, name: 'Planted' } }, as),
      ]),
      Promise.all([
        server.gql(RENAME, { input: { id: 'garbage', name: 'x' } }, as),
        server.gql(RENAME, { input: { id: encodeGlobalID('Folder', local(theirCloud)), name: 'x' } }, as),
      ]),
    ]);
    for (const [foreign, missing] of pairs) {
      expect(foreign.errors?.[0]).toMatchObject({ message: 'Not found, or not allowed.', extensions: { code: 'FORBIDDEN' } });
      expect(foreign.errors).toEqual(missing.errors);
    }
    // Their categories are untouched.
    expect((await categories(theirs)).map((c) => c.name)).toEqual([
      'Administrative', 'Application', 'Cloud', 'Network', 'Service Account', 'User', 'Vendor',
    ]);
  });
});
