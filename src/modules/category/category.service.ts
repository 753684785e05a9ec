import { appendAudit } from '../audit/audit.chain.ts';
import { z } from 'zod';
import type { Context } from '../../context.ts';
import { isUniqueViolation, type TxClient } from '../../db/client.ts';
import { AlreadyExistsError, DomainError, ForbiddenError, ValidationError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { parseInput, text } from '../../lib/validate.ts';

/** What every new organization starts with; managers add, rename and remove from there. */
export const DEFAULT_CATEGORIES = [
  'Administrative',
  'Application',
  'Network',
  'Service Account',
  'User',
  'Vendor',
  'Cloud',
] as const;

export const CATEGORY_NAME_MAX = 100;

/** A category still has credentials (archived ones included) and no category to move them to was given. */
export class CategoryInUseError extends DomainError {
  override name = 'CategoryInUseError';
  constructor(readonly credentialCount: number) {
    super(
      `The category is used by ${credentialCount} credential${credentialCount === 1 ? '' : 's'}; choose a category to move ${credentialCount === 1 ? 'it' : 'them'} to.`,
    );
  }
}

/** Creates the default categories of a new organization, inside the transaction that creates it. */
export async function seedCategories(tx: TxClient, organizationId: string): Promise<void> {
  await tx.category.createMany({ data: DEFAULT_CATEGORIES.map((name) => ({ organizationId, name })) });
}

const nameInput = z.object({ name: text(CATEGORY_NAME_MAX) });

/**
 * Category writes of one organization take its row lock (PostgreSQL; SQLite serialises writers anyway), so
 * the case-insensitive name check below cannot be raced by a concurrent create or rename.
 */
async function lockOrganization(ctx: Context, tx: TxClient, organizationId: string) {
  await tx.organization.update({ where: { id: organizationId }, data: { updatedAt: ctx.clock.now() } });
}

/**
 * Names differ by more than letter case: "network" next to "Network" would only confuse people picking one.
 * The database's unique index (exact match) is the backstop.
 */
async function assertNameFree(tx: TxClient, organizationId: string, name: string, exceptId?: string) {
  const wanted = name.toLowerCase();
  const existing = await tx.category.findMany({ where: { organizationId }, select: { id: true, name: true } });
  if (existing.some((c) => c.id !== exceptId && c.name.toLowerCase() === wanted)) {
    throw new AlreadyExistsError('A category with this name already exists.', 'name');
  }
}

function duplicateName(error: unknown): never {
  if (isUniqueViolation(error)) throw new AlreadyExistsError('A category with this name already exists.', 'name');
  throw error;
}

/** A category the viewer may manage; a foreign or missing id answers the same (FORBIDDEN). */
async function loadForManage(ctx: Context, tx: TxClient, globalId: string) {
  const category = await tx.category.findUnique({ where: { id: localId(globalId, 'Category') } });
  if (!category || !ctx.policy.can('category:manage', { organizationId: category.organizationId })) throw new ForbiddenError();
  return category;
}

export async function createCategory(ctx: Context, input: { organizationId: string; name: string }) {
  const organizationId = localId(input.organizationId, 'Organization');
  ctx.policy.assert('category:manage', { organizationId });
  const { name } = parseInput(nameInput, { name: input.name });
  return ctx.db
    .$transaction(async (tx) => {
      await lockOrganization(ctx, tx, organizationId);
      await assertNameFree(tx, organizationId, name);
      const category = await tx.category.create({ data: { organizationId, name, createdAt: ctx.clock.now() } });
      await appendAudit(tx, ctx, { organizationId, action: 'category.create', targetType: 'Category', targetId: category.id, data: { name } });
      return category;
    })
    .catch(duplicateName);
}

export async function renameCategory(ctx: Context, input: { id: string; name: string }) {
  const { name } = parseInput(nameInput, { name: input.name });
  return ctx.db
    .$transaction(async (tx) => {
      const category = await loadForManage(ctx, tx, input.id);
      await lockOrganization(ctx, tx, category.organizationId);
      await assertNameFree(tx, category.organizationId, name, category.id);
      const renamed = await tx.category.update({ where: { id: category.id }, data: { name } });
      await appendAudit(tx, ctx, { organizationId: category.organizationId, action: 'category.rename', targetType: 'Category', targetId: category.id, data: { from: category.name, to: name } });
      return renamed;
    })
    .catch(duplicateName);
}

/**
 * Deletes a category. While credentials use it (archived ones too: they keep their category when restored)
 * it is refused, unless `reassignToId` names another category of the same organization: the credentials
 * move there first, in the same transaction.
 */
export async function deleteCategory(ctx: Context, input: { id: string; reassignToId?: string | null }) {
  let categoryId: string | null = null;
  return ctx.db.$transaction(async (tx) => {
    const category = await loadForManage(ctx, tx, input.id);
    categoryId = category.id;
    let target: { id: string } | null = null;
    if (input.reassignToId != null) {
      const candidate = await loadForManage(ctx, tx, input.reassignToId);
      if (candidate.organizationId !== category.organizationId) throw new ForbiddenError();
      if (candidate.id === category.id) {
        throw ValidationError.field('input.reassignToId', 'must be another category than the one being deleted');
      }
      target = candidate;
    }
    await lockOrganization(ctx, tx, category.organizationId);
    let reassignedCredentialCount = 0;
    if (target) {
      const moved = await tx.credential.updateMany({ where: { categoryId: category.id }, data: { categoryId: target.id } });
      reassignedCredentialCount = moved.count;
    } else {
      const inUse = await tx.credential.count({ where: { categoryId: category.id } });
      if (inUse > 0) throw new CategoryInUseError(inUse);
    }
    await tx.category.delete({ where: { id: category.id } });
    await appendAudit(tx, ctx, {
      organizationId: category.organizationId,
      action: 'category.delete',
      targetType: 'Category',
      targetId: category.id,
      data: { name: category.name, reassignedTo: target?.id ?? null, reassignedCredentialCount },
    });
    return { category, reassignedCredentialCount };
  }).catch(async (error: unknown) => {
    // A credential written into the category after the count (credential writes do not take the lock).
    if (categoryId && isForeignKeyViolation(error)) {
      throw new CategoryInUseError(await ctx.db.credential.count({ where: { categoryId } }));
    }
    throw error;
  });
}

function isForeignKeyViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2003';
}
