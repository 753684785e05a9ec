import { appendAudit } from '../audit/audit.chain.ts';
import { z } from 'zod';
import type { Context } from '../../context.ts';
import type { TxClient } from '../../db/client.ts';
import { AlreadyExistsError, DomainError, ForbiddenError, ValidationError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { parseInput, text } from '../../lib/validate.ts';
import type { Folder } from '../../generated/prisma-sqlite/client.ts';

export const FOLDER_NAME_MAX = 100;

/** The folder still holds subfolders or credentials (archived ones included) and no target was given. */
export class FolderNotEmptyError extends DomainError {
  override name = 'FolderNotEmptyError';
  constructor(
    readonly folderCount: number,
    readonly credentialCount: number,
  ) {
    super('The folder is not empty; choose a folder to move its subfolders and credentials to.');
  }
}

/** One folder as the tree needs it. An organization's folders are few enough to hold in memory at once. */
export type FolderLink = { id: string; parentId: string | null; name: string };
export type FolderTree = Map<string, FolderLink>;

async function loadTree(tx: TxClient, organizationId: string): Promise<FolderTree> {
  const rows = await tx.folder.findMany({ where: { organizationId }, select: { id: true, parentId: true, name: true } });
  return new Map(rows.map((r) => [r.id, r]));
}

/** The folder and all its descendants, walked in memory; empty when the folder is not in the tree. */
function subtreeOf(tree: FolderTree, rootId: string): string[] {
  if (!tree.has(rootId)) return [];
  const children = new Map<string, string[]>();
  for (const f of tree.values()) {
    if (f.parentId === null) continue;
    const list = children.get(f.parentId);
    if (list) list.push(f.id);
    else children.set(f.parentId, [f.id]);
  }
  const ids = [rootId];
  for (let i = 0; i < ids.length; i++) {
    for (const child of children.get(ids[i]) ?? []) ids.push(child);
  }
  return ids;
}

/** Names of the folder's ancestors and its own, root first. */
function pathOf(tree: FolderTree, folderId: string): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  let current = tree.get(folderId);
  // `seen` only guards against a corrupted tree; moves refuse cycles.
  while (current && !seen.has(current.id)) {
    seen.add(current.id);
    names.push(current.name);
    current = current.parentId === null ? undefined : tree.get(current.parentId);
  }
  return names.reverse();
}

/**
 * The folder and all its descendants (for "in this folder, subfolders included" searches): one query for the
 * organization's folders, then a walk in memory. Empty when the folder is not in that organization.
 */
export async function folderSubtreeIds(tx: TxClient, organizationId: string, folderId: string): Promise<string[]> {
  return subtreeOf(await loadTree(tx, organizationId), folderId);
}

/**
 * Per-request cache of each organization's folder tree, so `path` on a list of folders costs one query per
 * organization instead of one per ancestor. Keyed by the request's context; writes below drop it, so a
 * mutation's payload sees the tree after the change.
 */
const treesByContext = new WeakMap<Context, Map<string, Promise<FolderTree>>>();

function cachedTree(ctx: Context, organizationId: string): Promise<FolderTree> {
  let trees = treesByContext.get(ctx);
  if (!trees) {
    trees = new Map();
    treesByContext.set(ctx, trees);
  }
  let tree = trees.get(organizationId);
  if (!tree) {
    tree = loadTree(ctx.db, organizationId);
    trees.set(organizationId, tree);
    tree.catch(() => trees.delete(organizationId));
  }
  return tree;
}

/** Names from the top-level folder down to this one. */
export async function folderPath(ctx: Context, folder: { id: string; organizationId: string }): Promise<string[]> {
  return pathOf(await cachedTree(ctx, folder.organizationId), folder.id);
}

async function write<T>(ctx: Context, work: (tx: TxClient) => Promise<T>): Promise<T> {
  try {
    return await ctx.db.$transaction(work);
  } finally {
    treesByContext.delete(ctx);
  }
}

/**
 * Folder writes of one organization take its row lock (PostgreSQL; SQLite serialises writers anyway), so two
 * concurrent moves cannot each pass the cycle check and together make a loop, and sibling names stay unique.
 */
async function lockOrganization(ctx: Context, tx: TxClient, organizationId: string) {
  await tx.organization.update({ where: { id: organizationId }, data: { updatedAt: ctx.clock.now() } });
}

/** Sibling names differ by more than letter case. The database cannot enforce it (nullable parent). */
function assertNameFree(tree: FolderTree, parentId: string | null, name: string, exceptId: string | null, field = 'name') {
  const wanted = name.toLowerCase();
  for (const f of tree.values()) {
    if (f.parentId === parentId && f.id !== exceptId && f.name.toLowerCase() === wanted) {
      throw new AlreadyExistsError(`A folder named "${f.name}" already exists there.`, field);
    }
  }
}

/** A folder the viewer may manage; a foreign or missing id answers the same (FORBIDDEN). */
async function loadForManage(ctx: Context, tx: TxClient, globalId: string): Promise<Folder> {
  const folder = await tx.folder.findUnique({ where: { id: localId(globalId, 'Folder') } });
  if (!folder || !ctx.policy.can('folder:manage', { organizationId: folder.organizationId })) throw new ForbiddenError();
  return folder;
}

/**
 * The folder's own link in the tree read under the lock: it was loaded before the lock was taken, so a
 * concurrent delete may have removed it since, and that answers like a missing id.
 */
function lockedLink(tree: FolderTree, folder: Folder): FolderLink {
  const link = tree.get(folder.id);
  if (!link) throw new ForbiddenError();
  return link;
}

/** Another folder of the same organization, from the locked tree; anything else answers like a missing id. */
function sameOrganizationFolder(tree: FolderTree, globalId: string): FolderLink {
  const folder = tree.get(localId(globalId, 'Folder'));
  if (!folder) throw new ForbiddenError();
  return folder;
}

const nameInput = z.object({ name: text(FOLDER_NAME_MAX) });

export async function createFolder(ctx: Context, input: { organizationId: string; name: string; parentId?: string | null }) {
  const organizationId = localId(input.organizationId, 'Organization');
  ctx.policy.assert('folder:manage', { organizationId });
  const { name } = parseInput(nameInput, { name: input.name });
  return write(ctx, async (tx) => {
    await lockOrganization(ctx, tx, organizationId);
    const tree = await loadTree(tx, organizationId);
    const parentId = input.parentId == null ? null : sameOrganizationFolder(tree, input.parentId).id;
    assertNameFree(tree, parentId, name, null);
    const folder = await tx.folder.create({ data: { organizationId, parentId, name, createdAt: ctx.clock.now() } });
    await appendAudit(tx, ctx, { organizationId, action: 'folder.create', targetType: 'Folder', targetId: folder.id, data: { name, parentId } });
    return folder;
  });
}

export async function renameFolder(ctx: Context, input: { id: string; name: string }) {
  const { name } = parseInput(nameInput, { name: input.name });
  return write(ctx, async (tx) => {
    const folder = await loadForManage(ctx, tx, input.id);
    await lockOrganization(ctx, tx, folder.organizationId);
    const tree = await loadTree(tx, folder.organizationId);
    assertNameFree(tree, lockedLink(tree, folder).parentId, name, folder.id);
    const renamed = await tx.folder.update({ where: { id: folder.id }, data: { name } });
    await appendAudit(tx, ctx, { organizationId: folder.organizationId, action: 'folder.rename', targetType: 'Folder', targetId: folder.id, data: { from: folder.name, to: name } });
    return renamed;
  });
}

/** Moves a folder, with everything in it, under another folder of the organization (null: to the top level). */
export async function moveFolder(ctx: Context, input: { id: string; parentId?: string | null }) {
  return write(ctx, async (tx) => {
    const folder = await loadForManage(ctx, tx, input.id);
    await lockOrganization(ctx, tx, folder.organizationId);
    const tree = await loadTree(tx, folder.organizationId);
    const current = lockedLink(tree, folder);
    const parentId = input.parentId == null ? null : sameOrganizationFolder(tree, input.parentId).id;
    if (parentId !== null && subtreeOf(tree, folder.id).includes(parentId)) {
      throw ValidationError.field('input.parentId', 'must not be the folder itself or one of its subfolders');
    }
    if (current.parentId === parentId) return folder;
    assertNameFree(tree, parentId, current.name, folder.id, 'parentId');
    const moved = await tx.folder.update({ where: { id: folder.id }, data: { parentId } });
    await appendAudit(tx, ctx, { organizationId: folder.organizationId, action: 'folder.move', targetType: 'Folder', targetId: folder.id, data: { from: current.parentId, to: parentId } });
    return moved;
  });
}

export type DeleteFolderResult = {
  folder: Folder;
  movedTo: FolderLink | null;
  movedFolderCount: number;
  movedCredentialCount: number;
};

/**
 * Deletes a folder. An empty one goes at once; one with subfolders or credentials (archived ones too) only
 * with `moveContentsToId`, another folder of the organization outside this one: its direct subfolders (with
 * their contents) and its credentials move there first, in the same transaction.
 */
export async function deleteFolder(ctx: Context, input: { id: string; moveContentsToId?: string | null }): Promise<DeleteFolderResult> {
  let folderId: string | null = null;
  try {
    return await write(ctx, async (tx) => {
      const folder = await loadForManage(ctx, tx, input.id);
      folderId = folder.id;
      await lockOrganization(ctx, tx, folder.organizationId);
      const tree = await loadTree(tx, folder.organizationId);
      lockedLink(tree, folder);
      const target = input.moveContentsToId == null ? null : sameOrganizationFolder(tree, input.moveContentsToId);
      const subfolders = [...tree.values()].filter((f) => f.parentId === folder.id);
      const credentialCount = await tx.credential.count({ where: { folderId: folder.id } });
      let movedFolderCount = 0;
      let movedCredentialCount = 0;
      if (!target) {
        if (subfolders.length > 0 || credentialCount > 0) throw new FolderNotEmptyError(subfolders.length, credentialCount);
      } else {
        if (subtreeOf(tree, folder.id).includes(target.id)) {
          throw ValidationError.field('input.moveContentsToId', 'must be a folder outside the one being deleted');
        }
        // The folder being deleted frees its own name: its subfolders may move up into its parent.
        const remaining = new Map(tree);
        remaining.delete(folder.id);
        for (const sub of subfolders) assertNameFree(remaining, target.id, sub.name, sub.id, 'moveContentsToId');
        movedFolderCount = (await tx.folder.updateMany({ where: { parentId: folder.id }, data: { parentId: target.id } })).count;
        movedCredentialCount = (await tx.credential.updateMany({ where: { folderId: folder.id }, data: { folderId: target.id } })).count;
      }
      await tx.folder.delete({ where: { id: folder.id } });
      await appendAudit(tx, ctx, {
        organizationId: folder.organizationId,
        action: 'folder.delete',
        targetType: 'Folder',
        targetId: folder.id,
        data: { name: folder.name, movedTo: target?.id ?? null, movedFolderCount, movedCredentialCount },
      });
      return { folder, movedTo: target, movedFolderCount, movedCredentialCount };
    });
  } catch (error) {
    // A credential or subfolder written into the folder after the count (credential writes do not take the lock).
    if (folderId && isForeignKeyViolation(error)) {
      const [folders, credentials] = await Promise.all([
        ctx.db.folder.count({ where: { parentId: folderId } }),
        ctx.db.credential.count({ where: { folderId } }),
      ]);
      throw new FolderNotEmptyError(folders, credentials);
    }
    throw error;
  }
}

function isForeignKeyViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2003';
}
