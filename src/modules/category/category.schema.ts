import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.ts';
import { ErrorInterface } from '../../graphql/errors.ts';
import { AlreadyExistsError, ValidationError } from '../../lib/errors.ts';
import '../organization/organization.schema.ts';
import {
  CategoryInUseError,
  createCategory,
  deleteCategory,
  renameCategory,
} from './category.service.ts';
import type { Category } from '../../generated/prisma-sqlite/client.ts';

export const CategoryNode = builder.prismaNode('Category', {
  description: 'A kind of credential within one organization (e.g. Network, Vendor), used to file and filter them.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('Category')] }),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Display name, unique within the organization (ignoring letter case).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the category was created.' }),
    credentialCount: t.relationCount('credentials', {
      description: 'How many credentials in this category are not archived.',
      where: (_args, ctx) => ({ archivedAt: null, AND: [ctx.policy.readable('Credential')] }),
    }),
    organization: t.relation('organization', { description: 'The organization the category belongs to.' }),
  }),
});

builder.prismaObjectField('Organization', 'categories', (t) =>
  t.relation('categories', {
    description: 'The organization’s credential categories, by name.',
    query: (_args, ctx) => ({ where: ctx.policy.readable('Category'), orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
  }),
);

builder.objectType(CategoryInUseError, {
  name: 'CategoryInUseError',
  description:
    'The category still has credentials; delete it with `reassignToId` to move them to another category first. Nothing was changed.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    credentialCount: t.exposeInt('credentialCount', { description: 'How many credentials use the category, archived ones included.' }),
  }),
});

const CreateCategoryInput = builder.inputType('CreateCategoryInput', {
  description: 'A new category.',
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'Global id of the organization.' }),
    name: t.string({ required: true, description: 'Display name, up to 100 characters; unique in the organization, ignoring letter case.' }),
  }),
});
const RenameCategoryInput = builder.inputType('RenameCategoryInput', {
  description: 'A category and its new name.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the category.' }),
    name: t.string({ required: true, description: 'New display name, up to 100 characters.' }),
  }),
});
const DeleteCategoryInput = builder.inputType('DeleteCategoryInput', {
  description: 'The category to delete, and where its credentials go.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the category.' }),
    reassignToId: t.id({
      description: 'Global id of another category of the same organization to move the credentials to first. Without it, a category in use is not deleted.',
    }),
  }),
});

const CategoryPayload = (name: string, description: string) =>
  builder.objectRef<{ category: Category }>(name).implement({
    description,
    fields: (t) => ({
      category: t.field({ type: CategoryNode, description: 'The category after the change.', resolve: (p) => p.category }),
    }),
  });

const DeleteCategoryPayload = builder
  .objectRef<{ category: Category; reassignedCredentialCount: number }>('DeleteCategoryPayload')
  .implement({
    description: 'Result of deleting a category.',
    fields: (t) => ({
      deletedCategoryId: t.id({
        description: 'Global id of the category that no longer exists.',
        resolve: (p) => encodeGlobalID('Category', p.category.id),
      }),
      reassignedCredentialCount: t.exposeInt('reassignedCredentialCount', {
        description: 'How many credentials were moved to the `reassignToId` category (0 without it).',
      }),
      organization: t.prismaField({
        type: 'Organization',
        description: 'The organization the category belonged to.',
        resolve: (query, p, _args, ctx) => ctx.db.organization.findUniqueOrThrow({ ...query, where: { id: p.category.organizationId } }),
      }),
    }),
  });

builder.mutationFields((t) => ({
  createCategory: t.field({
    description: 'Adds a credential category to an organization. ADMIN or MANAGER of the organization.',
    authScopes: { can: 'category:manage' },
    type: CategoryPayload('CreateCategoryPayload', 'Result of creating a category.'),
    errors: { types: [ValidationError, AlreadyExistsError] },
    args: { input: t.arg({ type: CreateCategoryInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      category: await createCategory(ctx, { organizationId: String(input.organizationId), name: input.name }),
    }),
  }),
  renameCategory: t.field({
    description: 'Renames a category; its credentials stay in it. ADMIN or MANAGER of the organization.',
    authScopes: { can: 'category:manage' },
    type: CategoryPayload('RenameCategoryPayload', 'Result of renaming a category.'),
    errors: { types: [ValidationError, AlreadyExistsError] },
    args: { input: t.arg({ type: RenameCategoryInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      category: await renameCategory(ctx, { id: String(input.id), name: input.name }),
    }),
  }),
  deleteCategory: t.field({
    description:
      'Deletes a category. Refused while credentials use it, unless `reassignToId` is given: then they move there first, in the same transaction. ADMIN or MANAGER of the organization.',
    authScopes: { can: 'category:manage' },
    type: DeleteCategoryPayload,
    errors: { types: [CategoryInUseError, ValidationError] },
    args: { input: t.arg({ type: DeleteCategoryInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      deleteCategory(ctx, { id: String(input.id), reassignToId: input.reassignToId == null ? null : String(input.reassignToId) }),
  }),
}));
