import { z } from 'zod';
import type { Context } from '../../context.ts';
import type { TxClient } from '../../db/client.ts';
import { ForbiddenError, LastAdminError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { parseInput, text } from '../../lib/validate.ts';
import { ROLES } from '../../policy/actions.ts';
import type { Role } from '../../generated/prisma-sqlite/enums.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { provisionOrganization } from './organization.provision.ts';
import { principalsChanged } from '../auth/auth.service.ts';

const role = z.enum(ROLES);

export async function createOrganization(ctx: Context, input: { name: string }) {
  ctx.policy.assert('organization:create');
  const data = parseInput(z.object({ name: text(200) }), input);
  const userId = ctx.policy.userId!;
  // The creator administers the new organization; nobody else gets access implicitly.
  const organization = await principalsChanged(ctx, () => ctx.db.$transaction(async (tx) => {
    const org = await tx.organization.create({
      data: { name: data.name, memberships: { create: { userId, role: 'ADMIN' } } },
    });
    await provisionOrganization(ctx, tx, org.id);
    await appendAudit(tx, ctx, {
      organizationId: org.id,
      action: 'organization.create',
      targetType: 'Organization',
      targetId: org.id,
      data: { name: org.name, adminUserId: userId },
    });
    return org;
  }));
  ctx.policy = ctx.policy.withMembership(organization.id, 'ADMIN');
  return organization;
}

export async function updateOrganization(
  ctx: Context,
  input: { id: string; name?: string | null; status?: 'ACTIVE' | 'INACTIVE' | null },
) {
  const id = localId(input.id, 'Organization');
  ctx.policy.assert('organization:manage', { organizationId: id });
  const data = parseInput(
    z.object({ name: text(200).optional(), status: z.enum(['ACTIVE', 'INACTIVE']).optional() }),
    { name: input.name ?? undefined, status: input.status ?? undefined },
  );
  return ctx.db.$transaction(async (tx) => {
    const before = await tx.organization.findUniqueOrThrow({ where: { id } });
    const organization = await tx.organization.update({ where: { id }, data });
    const changes: Record<string, { from: string; to: string }> = {};
    if (data.name !== undefined && data.name !== before.name) changes.name = { from: before.name, to: data.name };
    if (data.status !== undefined && data.status !== before.status) changes.status = { from: before.status, to: data.status };
    await appendAudit(tx, ctx, { organizationId: id, action: 'organization.update', targetType: 'Organization', targetId: id, data: { changes } });
    return organization;
  });
}

async function loadMembershipForManage(ctx: Context, tx: TxClient, membershipGlobalId: string) {
  const id = localId(membershipGlobalId, 'Membership');
  const membership = await tx.membership.findUnique({ where: { id } });
  // Checked against the membership's own organization; a foreign or missing id answers the same.
  if (!membership || !ctx.policy.can('member:manage', { organizationId: membership.organizationId })) {
    throw new ForbiddenError();
  }
  return membership;
}

/** Refuses a change that would leave the organization with no ADMIN; run inside the changing transaction. */
async function assertAdminRemains(tx: TxClient, organizationId: string, leavingMembershipId: string) {
  // Touching the organization row first takes its row lock (PostgreSQL), so two admins demoting each other at
  // once are serialised and the second sees the first's change. SQLite serialises writers anyway.
  await tx.organization.update({ where: { id: organizationId }, data: { updatedAt: new Date() } });
  const admins = await tx.membership.count({ where: { organizationId, role: 'ADMIN', id: { not: leavingMembershipId } } });
  if (admins === 0) throw new LastAdminError();
}

export async function updateMemberRole(ctx: Context, input: { membershipId: string; role: Role }) {
  const newRole = parseInput(z.object({ role }), { role: input.role }).role;
  return principalsChanged(ctx, () => ctx.db.$transaction(async (tx) => {
    const membership = await loadMembershipForManage(ctx, tx, input.membershipId);
    if (membership.role === 'ADMIN' && newRole !== 'ADMIN') await assertAdminRemains(tx, membership.organizationId, membership.id);
    const updated = await tx.membership.update({ where: { id: membership.id }, data: { role: newRole } });
    await appendAudit(tx, ctx, {
      organizationId: membership.organizationId,
      action: 'member.role_change',
      targetType: 'Membership',
      targetId: membership.id,
      data: { userId: membership.userId, from: membership.role, to: newRole },
    });
    return updated;
  }));
}

export async function removeMember(ctx: Context, input: { membershipId: string }) {
  return principalsChanged(ctx, () => ctx.db.$transaction(async (tx) => {
    const membership = await loadMembershipForManage(ctx, tx, input.membershipId);
    if (membership.role === 'ADMIN') await assertAdminRemains(tx, membership.organizationId, membership.id);
    await tx.membership.delete({ where: { id: membership.id } });
    await appendAudit(tx, ctx, {
      organizationId: membership.organizationId,
      action: 'member.remove',
      targetType: 'Membership',
      targetId: membership.id,
      data: { userId: membership.userId, role: membership.role },
    });
    return membership;
  }));
}
