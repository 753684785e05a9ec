import { GraphQLError } from 'graphql';
import type { Context } from '../../context.ts';
import { ValidationError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { folderSubtreeIds } from '../folder/folder.service.ts';
import type { Prisma } from '../../generated/prisma-sqlite/client.ts';
import type { KeysetOrder } from '../../lib/keyset.ts';

export type CredentialFilter = {
  organizationId: string;
  categoryIds?: string[] | null;
  categoryMatch?: 'ANY_OF' | 'NONE_OF' | null;
  folderId?: string | null;
  includeSubfolders?: boolean | null;
  search?: string | null;
  nameContains?: string | null;
  usernameContains?: string | null;
  urlContains?: string | null;
  notesContains?: string | null;
  restricted?: boolean | null;
  kinds?: ('PASSWORD' | 'API_KEY' | 'SSH_KEY')[] | null;
  archived?: boolean | null;
  staleDays?: number | null;
};

export type CredentialOrder = { field: 'NAME' | 'CREATED_AT' | 'UPDATED_AT' | 'PASSWORD_UPDATED_AT'; direction: 'ASC' | 'DESC' };

const ORDER_COLUMN = { NAME: 'name', CREATED_AT: 'createdAt', UPDATED_AT: 'updatedAt', PASSWORD_UPDATED_AT: 'passwordUpdatedAt' } as const;

function optionalId(globalId: string, typename: string, path: string): string {
  try {
    return localId(globalId, typename);
  } catch {
    throw ValidationError.field(path, `is not a ${typename} id`);
  }
}

/**
 * Turns a filter into a Prisma `where` for one organization the viewer may read. Text matching is
 * case-insensitive on both databases (SQLite's LIKE already is, for ASCII; PostgreSQL needs `mode`).
 */
export async function credentialWhere(ctx: Context, filter: CredentialFilter): Promise<Prisma.CredentialWhereInput> {
  const organizationId = localId(filter.organizationId, 'Organization');
  ctx.policy.assert('credential:read', { organizationId });
  const contains = (value: string, path: string) => {
    if (value.length > 255) throw ValidationError.field(path, 'must be at most 255 characters');
    // PostgreSQL refuses NUL in text; nothing stored contains one, so it is refused as input.
    if (value.includes('\u0000')) throw ValidationError.field(path, 'must not contain NUL characters');
    return { contains: value, ...(ctx.config.databaseProvider === 'postgresql' ? { mode: 'insensitive' as const } : {}) } as Prisma.StringFilter;
  };
  const and: Prisma.CredentialWhereInput[] = [{ organizationId }];
  and.push(filter.archived ? { archivedAt: { not: null } } : { archivedAt: null });
  if (filter.categoryIds?.length) {
    const ids = filter.categoryIds.map((id, i) => optionalId(id, 'Category', `filter.categoryIds.${i}`));
    and.push(
      filter.categoryMatch === 'NONE_OF'
        ? { OR: [{ categoryId: null }, { categoryId: { notIn: ids } }] }
        : { categoryId: { in: ids } },
    );
  }
  if (filter.folderId) {
    const folderId = optionalId(filter.folderId, 'Folder', 'filter.folderId');
    and.push({
      folderId: filter.includeSubfolders ? { in: await folderSubtreeIds(ctx.db, organizationId, folderId) } : folderId,
    });
  }
  if (filter.search) {
    const c = contains(filter.search, 'filter.search');
    and.push({ OR: [{ name: c }, { username: c }, { url: c }, { notes: c }] });
  }
  if (filter.nameContains) and.push({ name: contains(filter.nameContains, 'filter.nameContains') });
  if (filter.usernameContains) and.push({ username: contains(filter.usernameContains, 'filter.usernameContains') });
  if (filter.urlContains) and.push({ url: contains(filter.urlContains, 'filter.urlContains') });
  if (filter.notesContains) and.push({ notes: contains(filter.notesContains, 'filter.notesContains') });
  if (filter.restricted != null) and.push({ restricted: filter.restricted });
  if (filter.kinds?.length) and.push({ kind: { in: filter.kinds } });
  if (filter.staleDays != null) {
    if (filter.staleDays < 1 || filter.staleDays > 36_500) throw ValidationError.field('filter.staleDays', 'must be between 1 and 36500');
    and.push({ passwordUpdatedAt: { lt: new Date(ctx.clock.now().getTime() - filter.staleDays * 86_400_000) } });
  }
  return { AND: and };
}

/**
 * credentialWhere for query fields, which have no union of typed errors: a refused filter becomes a GraphQL error
 * with code BAD_USER_INPUT (and the field errors) instead of being masked as an unexpected error.
 */
export async function credentialQueryWhere(ctx: Context, filter: CredentialFilter): Promise<Prisma.CredentialWhereInput> {
  try {
    return await credentialWhere(ctx, filter);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT', fieldErrors: error.fieldErrors } });
  }
}

export function credentialOrderBy(order?: CredentialOrder | null): Prisma.CredentialOrderByWithRelationInput[] {
  const o = order ?? { field: 'NAME', direction: 'ASC' };
  const dir = o.direction === 'DESC' ? 'desc' : 'asc';
  return [{ [ORDER_COLUMN[o.field]]: dir }, { id: dir }];
}

/** The keyset order (lib/keyset.ts) of a credential list: the sort column, then id, both in the given direction. */
export function credentialKeysetOrder(order?: CredentialOrder | null): KeysetOrder {
  const o = order ?? { field: 'NAME', direction: 'ASC' };
  return { tag: o.field, column: ORDER_COLUMN[o.field], direction: o.direction === 'DESC' ? 'desc' : 'asc', kind: o.field === 'NAME' ? 'string' : 'date' };
}

/** Non-archived credentials per category of one organization (null category = uncategorised). */
export async function countByCategory(ctx: Context, organizationGlobalId: string) {
  const organizationId = localId(organizationGlobalId, 'Organization');
  ctx.policy.assert('credential:read', { organizationId });
  const groups = await ctx.db.credential.groupBy({
    by: ['categoryId'],
    where: { organizationId, archivedAt: null },
    _count: { _all: true },
  });
  return groups.map((g) => ({ categoryId: g.categoryId, count: g._count._all }));
}
