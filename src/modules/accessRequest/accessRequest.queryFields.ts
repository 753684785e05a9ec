import { resolveCursorConnection } from '@pothos/plugin-relay';
import type { Context } from '../../context.ts';
import type { Prisma } from '../../generated/prisma-sqlite/client.ts';
import { builder } from '../../graphql/builder.ts';
import { localId } from '../../lib/ids.ts';
import {
  approvalQueueWhere,
  encodeQueueCursor,
  queueCount,
  queuePage,
  reviewQueueWhere,
  type RequestWithDecisions,
} from './accessRequest.queries.ts';
import { stateWhere } from './accessRequest.state.ts';
import { AccessRequestFilter, type Filter } from './accessRequest.inputs.ts';
import { AccessRequestNode } from './accessRequest.types.ts';

// The access-request root query fields: one request, the viewer's own, an organization's, the work queues.

function filterWhere(ctx: Context, filter: Filter) {
  const and: object[] = [ctx.policy.readable('AccessRequest')];
  if (filter?.states?.length) and.push(stateWhere(filter.states, ctx.clock.now()));
  if (filter?.organizationId) and.push({ organizationId: localId(String(filter.organizationId), 'Organization') });
  if (filter?.credentialId) and.push({ credentialId: localId(String(filter.credentialId), 'Credential') });
  if (filter?.requesterId) and.push({ requesterId: localId(String(filter.requesterId), 'User') });
  return { AND: and };
}

type QueueWhere = (ctx: Context, organizationId: string | null) => Prisma.AccessRequestWhereInput | null;
type QueuePage = Awaited<ReturnType<typeof resolveCursorConnection<Promise<RequestWithDecisions[]>>>> & { queueWhere: Prisma.AccessRequestWhereInput | null };

/**
 * A page of a work queue: filtered in the database (see `approvalQueueWhere`), keyset-paged oldest first (the
 * cursor carries the sort key), at most 100 per page.
 */
async function resolveQueue(whereOf: QueueWhere, args: { organizationId?: string | number | null; first?: number | null; last?: number | null; after?: string | null; before?: string | null }, ctx: Context): Promise<QueuePage> {
  const where = whereOf(ctx, args.organizationId ? localId(String(args.organizationId), 'Organization') : null);
  const page = await resolveCursorConnection<Promise<RequestWithDecisions[]>>({ args, defaultSize: 20, maxSize: 100, toCursor: (r: RequestWithDecisions) => encodeQueueCursor(r) }, (p): Promise<RequestWithDecisions[]> => queuePage(ctx, where, p));
  return { ...page, queueWhere: where };
}

builder.queryFields((t) => ({
  accessRequest: t.prismaField({
    type: 'AccessRequest',
    nullable: true,
    description: 'One access request with its steps, approvals and history; null when missing or not visible to the viewer.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _r, args, ctx) => {
      let id: string;
      try {
        id = localId(String(args.id), 'AccessRequest');
      } catch {
        return null;
      }
      return ctx.db.accessRequest.findFirst({ ...query, where: { id, AND: [ctx.policy.readable('AccessRequest')] } });
    },
  }),
  myAccessRequests: t.prismaConnection({
    type: 'AccessRequest',
    cursor: 'id',
    description: 'The viewer’s own requests, newest first (without those they removed from the list).',
    authScopes: { can: 'accessRequest:create' },
    args: { filter: t.arg({ type: AccessRequestFilter, description: 'Which requests.' }) },
    totalCount: (_p, args, ctx) => ctx.db.accessRequest.count({ where: { requesterId: ctx.policy.userId!, hiddenByRequester: false, ...filterWhere(ctx, args.filter) } }),
    resolve: (query, _r, args, ctx) =>
      ctx.db.accessRequest.findMany({ ...query, where: { requesterId: ctx.policy.userId!, hiddenByRequester: false, ...filterWhere(ctx, args.filter) }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
  accessRequests: t.prismaConnection({
    type: 'AccessRequest',
    cursor: 'id',
    description: 'Every request of an organization (ADMIN, AUDITOR), newest first.',
    authScopes: { can: 'accessRequest:readAll' },
    args: {
      organizationId: t.arg.id({ required: true, description: 'Global id of the organization.' }),
      filter: t.arg({ type: AccessRequestFilter, description: 'Which requests.' }),
    },
    totalCount: (_p, args, ctx) => {
      const organizationId = localId(String(args.organizationId), 'Organization');
      ctx.policy.assert('accessRequest:readAll', { organizationId });
      return ctx.db.accessRequest.count({ where: { organizationId, ...filterWhere(ctx, args.filter) } });
    },
    resolve: (query, _r, args, ctx) => {
      const organizationId = localId(String(args.organizationId), 'Organization');
      ctx.policy.assert('accessRequest:readAll', { organizationId });
      return ctx.db.accessRequest.findMany({ ...query, where: { organizationId, ...filterWhere(ctx, args.filter) }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
    },
  }),
  approvalQueue: t.connection(
    {
      type: AccessRequestNode,
      description: 'Pending requests the viewer can decide now (approver of the current step, not their own, not yet decided), oldest first; pages of up to 100 (default 20).',
      authScopes: { can: 'accessRequest:decide' },
      args: { organizationId: t.arg.id({ description: 'Only this organization.' }) },
      resolve: (_r, args, ctx) => resolveQueue(approvalQueueWhere, args, ctx),
    },
    {
      fields: (c) => ({
        totalCount: c.int({ description: 'How many requests are in the queue now, across pages.', resolve: (parent, _a, ctx) => queueCount(ctx, (parent as QueuePage).queueWhere) }),
      }),
    },
  ),
  reviewQueue: t.connection(
    {
      type: AccessRequestNode,
      description: 'Finished requests waiting for a review the viewer may give, oldest first; pages of up to 100 (default 20).',
      authScopes: { can: 'accessRequest:decide' },
      args: { organizationId: t.arg.id({ description: 'Only this organization.' }) },
      resolve: (_r, args, ctx) => resolveQueue(reviewQueueWhere, args, ctx),
    },
    {
      fields: (c) => ({
        totalCount: c.int({ description: 'How many requests are in the queue now, across pages.', resolve: (parent, _a, ctx) => queueCount(ctx, (parent as QueuePage).queueWhere) }),
      }),
    },
  ),
}));
