import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.ts';
import { ErrorInterface } from '../../graphql/errors.ts';
import { AlreadyExistsError, ValidationError } from '../../lib/errors.ts';
import '../organization/organization.schema.ts';
import {
  FolderNotEmptyError,
  createFolder,
  deleteFolder,
  folderPath,
  moveFolder,
  renameFolder,
  type DeleteFolderResult,
} from './folder.service.ts';
import type { Folder } from '../../generated/prisma-sqlite/client.ts';

export const FolderNode = builder.prismaNode('Folder', {
  description: 'A folder of an organization’s vault. Folders nest to any depth; credentials are filed in them.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('Folder')] }),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Display name, unique among its siblings (ignoring letter case).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the folder was created.' }),
    parent: t.relation('parent', { nullable: true, description: 'The folder this one is in; null at the top level.' }),
    children: t.relation('children', {
      description: 'The folders directly inside this one, by name.',
      query: (_args, ctx) => ({ where: ctx.policy.readable('Folder'), orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
    }),
    path: t.stringList({
      description: 'Names from the top-level folder down to this one (this folder’s own name last).',
      resolve: (folder, _args, ctx) => folderPath(ctx, folder),
    }),
    credentialCount: t.relationCount('credentials', {
      description: 'How many credentials directly in this folder (not in its subfolders) are not archived.',
      where: (_args, ctx) => ({ archivedAt: null, AND: [ctx.policy.readable('Credential')] }),
    }),
    organization: t.relation('organization', { description: 'The organization the folder belongs to.' }),
  }),
});

/** A local Folder id from an optional global one; an id of another type, or garbage, matches nothing. */
function parentFilter(parentId: string | number | null | undefined): { parentId: string | null } | { id: { in: [] } } {
  if (parentId == null) return { parentId: null };
  try {
    const decoded = decodeGlobalID(String(parentId));
    if (decoded.typename === 'Folder') return { parentId: decoded.id };
  } catch {
    // fall through
  }
  return { id: { in: [] } };
}

builder.prismaObjectField('Organization', 'folders', (t) =>
  t.relation('folders', {
    description: 'The organization’s folders directly under `parentId` (the top level when omitted), by name.',
    args: {
      parentId: t.arg.id({ description: 'Global id of the folder whose subfolders to list; omit or null for the top level.' }),
    },
    query: (args, ctx) => ({
      where: { AND: [ctx.policy.readable('Folder'), parentFilter(args.parentId)] },
      orderBy: [{ name: 'asc' }, { id: 'asc' }],
    }),
  }),
);

builder.objectType(FolderNotEmptyError, {
  name: 'FolderNotEmptyError',
  description:
    'The folder still holds subfolders or credentials; delete it with `moveContentsToId` to move them elsewhere first. Nothing was changed.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    folderCount: t.exposeInt('folderCount', { description: 'How many folders are directly inside it.' }),
    credentialCount: t.exposeInt('credentialCount', { description: 'How many credentials are directly inside it, archived ones included.' }),
  }),
});

const CreateFolderInput = builder.inputType('CreateFolderInput', {
  description: 'A new folder.',
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'Global id of the organization.' }),
    name: t.string({ required: true, description: 'Display name, up to 100 characters; unique among its siblings, ignoring letter case.' }),
    parentId: t.id({ description: 'Global id of the folder to create it in; omit for the top level.' }),
  }),
});
const RenameFolderInput = builder.inputType('RenameFolderInput', {
  description: 'A folder and its new name.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the folder.' }),
    name: t.string({ required: true, description: 'New display name, up to 100 characters.' }),
  }),
});
const MoveFolderInput = builder.inputType('MoveFolderInput', {
  description: 'A folder and where to move it, with everything inside it.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the folder to move.' }),
    parentId: t.id({
      description: 'Global id of the new parent folder, in the same organization; null or omitted moves it to the top level.',
    }),
  }),
});
const DeleteFolderInput = builder.inputType('DeleteFolderInput', {
  description: 'The folder to delete, and where its contents go.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the folder.' }),
    moveContentsToId: t.id({
      description:
        'Global id of a folder of the same organization, outside the one being deleted, to move its subfolders and credentials to first. Without it, only an empty folder is deleted.',
    }),
  }),
});

const FolderPayload = (name: string, description: string) =>
  builder.objectRef<{ folder: Folder }>(name).implement({
    description,
    fields: (t) => ({
      folder: t.field({ type: FolderNode, description: 'The folder after the change.', resolve: (p) => p.folder }),
    }),
  });

const DeleteFolderPayload = builder.objectRef<DeleteFolderResult>('DeleteFolderPayload').implement({
  description: 'Result of deleting a folder.',
  fields: (t) => ({
    deletedFolderId: t.id({
      description: 'Global id of the folder that no longer exists.',
      resolve: (p) => encodeGlobalID('Folder', p.folder.id),
    }),
    movedContentsTo: t.prismaField({
      type: 'Folder',
      nullable: true,
      description: 'The folder the contents were moved to; null when none was given.',
      resolve: (query, p, _args, ctx) => (p.movedTo ? ctx.db.folder.findUnique({ ...query, where: { id: p.movedTo.id } }) : null),
    }),
    movedFolderCount: t.exposeInt('movedFolderCount', { description: 'How many subfolders were moved (with their contents).' }),
    movedCredentialCount: t.exposeInt('movedCredentialCount', { description: 'How many credentials were moved.' }),
    organization: t.prismaField({
      type: 'Organization',
      description: 'The organization the folder belonged to.',
      resolve: (query, p, _args, ctx) => ctx.db.organization.findUniqueOrThrow({ ...query, where: { id: p.folder.organizationId } }),
    }),
  }),
});

const optionalId = (id: string | number | null | undefined) => (id == null ? null : String(id));

builder.mutationFields((t) => ({
  createFolder: t.field({
    description: 'Creates a folder, at the top level or inside another. ADMIN or MANAGER of the organization.',
    authScopes: { can: 'folder:manage' },
    type: FolderPayload('CreateFolderPayload', 'Result of creating a folder.'),
    errors: { types: [ValidationError, AlreadyExistsError] },
    args: { input: t.arg({ type: CreateFolderInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      folder: await createFolder(ctx, {
        organizationId: String(input.organizationId),
        name: input.name,
        parentId: optionalId(input.parentId),
      }),
    }),
  }),
  renameFolder: t.field({
    description: 'Renames a folder. ADMIN or MANAGER of the organization.',
    authScopes: { can: 'folder:manage' },
    type: FolderPayload('RenameFolderPayload', 'Result of renaming a folder.'),
    errors: { types: [ValidationError, AlreadyExistsError] },
    args: { input: t.arg({ type: RenameFolderInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ folder: await renameFolder(ctx, { id: String(input.id), name: input.name }) }),
  }),
  moveFolder: t.field({
    description:
      'Moves a folder, with its subfolders and credentials, under another folder or to the top level. Refused with a `ValidationError` on `parentId` when the target is the folder itself or inside it. ADMIN or MANAGER of the organization.',
    authScopes: { can: 'folder:manage' },
    type: FolderPayload('MoveFolderPayload', 'Result of moving a folder.'),
    errors: { types: [ValidationError, AlreadyExistsError] },
    args: { input: t.arg({ type: MoveFolderInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      folder: await moveFolder(ctx, { id: String(input.id), parentId: optionalId(input.parentId) }),
    }),
  }),
  deleteFolder: t.field({
    description:
      'Deletes a folder. Refused while it holds subfolders or credentials, unless `moveContentsToId` is given: then they move there first, in the same transaction. ADMIN or MANAGER of the organization.',
    authScopes: { can: 'folder:manage' },
    type: DeleteFolderPayload,
    errors: { types: [FolderNotEmptyError, AlreadyExistsError, ValidationError] },
    args: { input: t.arg({ type: DeleteFolderInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      deleteFolder(ctx, { id: String(input.id), moveContentsToId: optionalId(input.moveContentsToId) }),
  }),
}));
