// The credential part of the schema, 3 of 4: root query fields (lists, counts, export).
import { builder } from '../../graphql/builder.ts';
import { countByCategory, credentialKeysetOrder, credentialQueryWhere, type CredentialOrder } from './credential.query.ts';
import { keysetConnection } from '../../lib/keyset.ts';
import { queryFromInfo } from '@pothos/plugin-prisma';
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../../context.ts';
import type { Prisma } from '../../generated/prisma-sqlite/client.ts';
import { CredentialNode } from './credential.types.ts';
import { CredentialFilterInput, CredentialOrderInput } from './credential.inputs.ts';

const CategoryCount = builder.objectRef<{ categoryId: string | null; count: number }>('CategoryCount').implement({
  description: 'How many credentials (not archived) are in one category.',
  fields: (t) => ({
    category: t.prismaField({
      type: 'Category',
      nullable: true,
      description: 'The category; null for uncategorised credentials.',
      resolve: (query, g, _args, ctx) => (g.categoryId ? ctx.db.category.findUnique({ ...query, where: { id: g.categoryId } }) : null),
    }),
    count: t.exposeInt('count', { description: 'Number of credentials.' }),
  }),
});

type Counted = { totalCount: () => Promise<number> };

/**
 * One keyset page of credentials (lib/keyset.ts). The nodes are read with the selection the query asks for below
 * edges.node, in the page's one findMany; totalCount is counted only when asked.
 */
async function credentialPage(
  ctx: Context,
  info: GraphQLResolveInfo,
  args: { first?: number | null; last?: number | null; after?: string | null; before?: string | null },
  where: Prisma.CredentialWhereInput,
  orderBy: CredentialOrder | null | undefined,
) {
  const selection = queryFromInfo({ context: ctx, info, path: ['edges', 'node'], typeName: 'Credential' });
  const page = await keysetConnection(args, credentialKeysetOrder(orderBy), (p) =>
    ctx.db.credential.findMany({ ...(selection as object), where: { AND: [where, p.where as Prisma.CredentialWhereInput] }, orderBy: p.orderBy, take: p.take }),
  );
  let counted: Promise<number> | null = null;
  return { ...page, totalCount: () => (counted ??= ctx.db.credential.count({ where })) };
}

builder.queryFields((t) => ({
  credentials: t.connection(
    {
      description:
        'Credentials of one organization, filtered and sorted (name by default). Archived ones only when asked. Cursors are positions (sort value and id), so paging continues correctly when a listed credential is renamed or deleted; a cursor of another order, or malformed, is refused with BAD_USER_INPUT.',
      authScopes: { can: 'credential:read' },
      type: CredentialNode,
      args: {
        filter: t.arg({ type: CredentialFilterInput, required: true, description: 'Which credentials.' }),
        orderBy: t.arg({ type: CredentialOrderInput, description: 'Sort order (default: name ascending).' }),
      },
      resolve: async (_root, args, ctx, info) => {
        const where = await credentialQueryWhere(ctx, { ...args.filter, organizationId: String(args.filter.organizationId) });
        return credentialPage(ctx, info, args, where, args.orderBy);
      },
    },
    { description: 'A page of credentials.', fields: (c) => ({ totalCount: c.int({ description: 'How many credentials match, on every page.', resolve: (p) => (p as unknown as Counted).totalCount() }) }) },
    { description: 'One credential in a page, with its cursor.' },
  ),
  staleCredentials: t.connection(
    {
      description: 'The stale-password report: credentials whose secret has not changed for `days` days (default 90), oldest first. Cursors are positions, as for credentials.',
      authScopes: { can: 'credential:read' },
      type: CredentialNode,
      args: {
        organizationId: t.arg.id({ required: true, description: 'Global id of the organization.' }),
        days: t.arg.int({ description: 'Age in days (default 90).' }),
      },
      resolve: async (_root, args, ctx, info) => {
        const where = await credentialQueryWhere(ctx, { organizationId: String(args.organizationId), staleDays: args.days ?? 90 });
        return credentialPage(ctx, info, args, where, { field: 'PASSWORD_UPDATED_AT', direction: 'ASC' });
      },
    },
    { description: 'A page of stale credentials.', fields: (c) => ({ totalCount: c.int({ description: 'How many credentials are stale, on every page.', resolve: (p) => (p as unknown as Counted).totalCount() }) }) },
    { description: 'One stale credential in a page, with its cursor.' },
  ),
  credentialCountsByCategory: t.field({
    description: 'How many credentials (not archived) each category holds.',
    authScopes: { can: 'credential:read' },
    type: [CategoryCount],
    args: { organizationId: t.arg.id({ required: true, description: 'Global id of the organization.' }) },
    resolve: (_root, args, ctx) => countByCategory(ctx, String(args.organizationId)),
  }),
}));
