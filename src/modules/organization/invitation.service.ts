import { z } from 'zod';
import type { AppDeps, Context } from '../../context.ts';
import { anonymousPolicy } from '../../policy/policy.ts';
import { isUniqueViolation, type TxClient } from '../../db/client.ts';
import { AlreadyExistsError, DomainError, ForbiddenError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { hashPassword } from '../../lib/passwords.ts';
import { hashToken, looksLikeToken, newToken } from '../../lib/tokens.ts';
import { email, parseInput, passwordSchema, text } from '../../lib/validate.ts';
import { ROLES } from '../../policy/actions.ts';
import type { Invitation, Membership } from '../../generated/prisma-sqlite/client.ts';
import type { Role } from '../../generated/prisma-sqlite/enums.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { principalsChanged } from '../auth/auth.service.ts';

/** How long an invitation can be accepted. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The invitation cannot be used: unknown token or id, not addressed to the caller, already accepted, declined,
 * revoked or expired — and, for a token used without signing in, an email that already has an account (that
 * person accepts signed in). One answer for all of them, so a token tells its holder nothing more.
 */
export class InvitationInvalidError extends DomainError {
  override name = 'InvitationInvalidError';
  constructor() {
    super('This invitation cannot be used. It may have expired or been used already; ask for a new one, or sign in and accept it from your invitations.');
  }
}

const inviteInput = z.object({ email, role: z.enum(ROLES) });

/** Pending = not accepted, declined or revoked, and not expired at `now`. */
const pendingWhere = (now: Date) => ({ acceptedAt: null, declinedAt: null, revokedAt: null, expiresAt: { gt: now } });

/**
 * Invites someone to an organization by email. The answer is the same whether or not the email has an account
 * anywhere in the installation: no user is looked up. It carries a one-time token for the ADMIN to pass on;
 * a person without an account sets their name and password with it, a person with an account sees the
 * invitation when signed in. Nobody becomes a member until they accept. An earlier pending invitation to the
 * same email here is revoked (its token stops working).
 */
export async function inviteMember(ctx: Context, input: { organizationId: string; email: string; role: Role }) {
  const organizationId = localId(input.organizationId, 'Organization');
  ctx.policy.assert('member:manage', { organizationId });
  const data = parseInput(inviteInput, { email: input.email, role: input.role });
  const now = ctx.clock.now();
  const token = newToken('vgi');
  const invitation = await ctx.db.$transaction(async (tx) => {
    // Members of this organization are visible to its ADMIN anyway, so saying so reveals nothing new.
    const member = await tx.membership.findFirst({ where: { organizationId, user: { email: data.email } }, select: { id: true } });
    if (member) throw new AlreadyExistsError('This person is already a member of the organization.', 'email');
    await tx.invitation.updateMany({ where: { organizationId, email: data.email, ...pendingWhere(now) }, data: { revokedAt: now } });
    const created = await tx.invitation.create({
      data: {
        organizationId,
        email: data.email,
        role: data.role,
        tokenHash: hashToken(token),
        invitedById: ctx.policy.userId,
        createdAt: now,
        expiresAt: new Date(now.getTime() + INVITATION_TTL_MS),
      },
    });
    await appendAudit(tx, ctx, {
      organizationId,
      action: 'member.invite',
      targetType: 'Invitation',
      targetId: created.id,
      data: { email: created.email, role: created.role, expiresAt: created.expiresAt.toISOString() },
    });
    return created;
  });
  return { invitation, token };
}

/** Withdraws a pending invitation. ADMIN of its organization; a foreign or missing id is FORBIDDEN. */
export async function revokeInvitation(ctx: Context, input: { invitationId: string }) {
  const id = localId(input.invitationId, 'Invitation');
  return ctx.db.$transaction(async (tx) => {
    const invitation = await tx.invitation.findUnique({ where: { id } });
    if (!invitation || !ctx.policy.can('member:manage', { organizationId: invitation.organizationId })) throw new ForbiddenError();
    const now = ctx.clock.now();
    const done = await tx.invitation.updateMany({ where: { id, ...pendingWhere(now) }, data: { revokedAt: now } });
    if (done.count !== 1) throw new InvitationInvalidError();
    await appendAudit(tx, ctx, { organizationId: invitation.organizationId, action: 'member.invite_revoke', targetType: 'Invitation', targetId: id, data: { email: invitation.email } });
    return tx.invitation.findUniqueOrThrow({ where: { id } });
  });
}

/** The signed-in user's pending invitations (matched by their email), newest first. */
export async function viewerInvitations(ctx: Context, query: { include?: object; select?: object } = {}): Promise<Invitation[]> {
  const userId = ctx.policy.userId;
  if (!userId) return [];
  const user = await ctx.db.user.findUnique({ where: { id: userId }, select: { email: true } });
  if (!user) return [];
  return ctx.db.invitation.findMany({
    ...(query as object),
    where: { email: user.email.toLowerCase(), ...pendingWhere(ctx.clock.now()) },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: 100,
  });
}

/**
 * Marks an invitation used, conditionally on it still being pending: of two racing acceptances (or an accept
 * racing a revoke) exactly one wins. Then the membership and its audit entry, in the same transaction.
 */
async function consume(ctx: Context, tx: TxClient, invitation: Invitation, userId: string, newUser: boolean): Promise<Membership> {
  const now = ctx.clock.now();
  const won = await tx.invitation.updateMany({ where: { id: invitation.id, ...pendingWhere(now) }, data: { acceptedAt: now, acceptedById: userId } });
  if (won.count !== 1) throw new InvitationInvalidError();
  let membership: Membership;
  try {
    membership = await tx.membership.create({ data: { organizationId: invitation.organizationId, userId, role: invitation.role } });
  } catch (error) {
    if (isUniqueViolation(error)) throw new InvitationInvalidError();
    throw error;
  }
  await appendAudit(tx, { ...ctx, actor: { userId, apiKeyId: null } }, {
    organizationId: invitation.organizationId,
    action: 'member.add',
    targetType: 'Membership',
    targetId: membership.id,
    data: { userId, email: invitation.email, role: invitation.role, invitationId: invitation.id, invitedById: invitation.invitedById, newUser },
  });
  return membership;
}

/** Finds an invitation by id or token; wrong shapes answer like unknown ones, without a query. */
async function findInvitation(tx: TxClient, ref: { invitationId?: string | null; token?: string | null }): Promise<Invitation | null> {
  if (ref.token != null) {
    if (!looksLikeToken(ref.token, 'vgi')) return null;
    return tx.invitation.findUnique({ where: { tokenHash: hashToken(ref.token) } });
  }
  if (ref.invitationId != null) {
    let id: string;
    try {
      id = localId(ref.invitationId, 'Invitation');
    } catch {
      return null;
    }
    return tx.invitation.findUnique({ where: { id } });
  }
  return null;
}

/**
 * A signed-in user accepts an invitation addressed to their email (by id, as listed in viewer.invitations, or by
 * its token). Consent is the acceptance itself.
 */
export async function acceptInvitation(ctx: Context, input: { invitationId?: string | null; token?: string | null }) {
  const userId = ctx.policy.userId;
  if (!userId) throw new ForbiddenError();
  return principalsChanged(ctx, () =>
    ctx.db.$transaction(async (tx) => {
      const invitation = await findInvitation(tx, input);
      const user = await tx.user.findUnique({ where: { id: userId }, select: { email: true } });
      if (!invitation || !user || invitation.email !== user.email.toLowerCase()) throw new InvitationInvalidError();
      return consume(ctx, tx, invitation, userId, false);
    }),
  );
}

/** The signed-in user turns an invitation down; it cannot be used afterwards. */
export async function declineInvitation(ctx: Context, input: { invitationId: string }) {
  const userId = ctx.policy.userId;
  if (!userId) throw new ForbiddenError();
  return ctx.db.$transaction(async (tx) => {
    const invitation = await findInvitation(tx, input);
    const user = await tx.user.findUnique({ where: { id: userId }, select: { email: true } });
    if (!invitation || !user || invitation.email !== user.email.toLowerCase()) throw new InvitationInvalidError();
    const now = ctx.clock.now();
    const done = await tx.invitation.updateMany({ where: { id: invitation.id, ...pendingWhere(now) }, data: { declinedAt: now } });
    if (done.count !== 1) throw new InvitationInvalidError();
    await appendAudit(tx, ctx, { organizationId: invitation.organizationId, action: 'member.invite_decline', targetType: 'Invitation', targetId: invitation.id, data: { email: invitation.email } });
    return tx.invitation.findUniqueOrThrow({ where: { id: invitation.id } });
  });
}

const newAccountInput = z.object({ token: z.string().max(128), name: text(200), password: passwordSchema });

/**
 * Someone without an account accepts with the token: the account is created with their name and password, and
 * the membership with it. An email that already has an account answers InvitationInvalidError like an unknown
 * token (that person accepts signed in); the password is hashed only once the token has proved valid.
 */
export async function acceptInvitationWithToken(ctx: Context, input: { token: string; name: string; password: string }) {
  const data = parseInput(newAccountInput, input);
  const now = ctx.clock.now();
  const probe = await findInvitation(ctx.db, { token: data.token });
  if (!probe || probe.acceptedAt || probe.declinedAt || probe.revokedAt || probe.expiresAt <= now) throw new InvitationInvalidError();
  const passwordHash = await hashPassword(data.password);
  return principalsChanged(ctx, () =>
    ctx.db.$transaction(async (tx) => {
      const invitation = await findInvitation(tx, { token: data.token });
      if (!invitation) throw new InvitationInvalidError();
      const existing = await tx.user.findUnique({ where: { email: invitation.email }, select: { id: true } });
      if (existing) throw new InvitationInvalidError();
      let userId: string;
      try {
        userId = (await tx.user.create({ data: { email: invitation.email, name: data.name, passwordHash }, select: { id: true } })).id;
      } catch (error) {
        if (isUniqueViolation(error)) throw new InvitationInvalidError();
        throw error;
      }
      await appendAudit(tx, { ...ctx, actor: { userId, apiKeyId: null } }, {
        organizationId: null,
        action: 'user.create',
        targetType: 'User',
        targetId: userId,
        data: { email: invitation.email, via: 'invitation', invitationId: invitation.id, organizationId: invitation.organizationId },
      });
      return consume(ctx, tx, invitation, userId, true);
    }),
  );
}

/**
 * For operators and test fixtures only (not exposed over GraphQL): creates a brand-new account directly in an
 * organization, as an ADMIN's invitation accepted with a token would, with one `member.add` entry acted by that
 * ADMIN. Refuses an email that already has an account — attaching existing accounts always takes their consent.
 */
export async function provisionNewMember(
  deps: AppDeps,
  input: { organizationId: string; email: string; name: string; password: string; role: Role; byUserId: string },
): Promise<Membership> {
  const passwordHash = await hashPassword(input.password);
  return principalsChanged(deps, () =>
    deps.db.$transaction(async (tx) => {
      const user = await tx.user.create({ data: { email: input.email.toLowerCase(), name: input.name, passwordHash } });
      const membership = await tx.membership.create({ data: { organizationId: input.organizationId, userId: user.id, role: input.role } });
      await appendAudit(tx, { policy: anonymousPolicy(), clock: deps.clock, actor: { userId: input.byUserId, apiKeyId: null } }, {
        organizationId: input.organizationId,
        action: 'member.add',
        targetType: 'Membership',
        targetId: membership.id,
        data: { userId: user.id, email: user.email, role: input.role, newUser: true },
      });
      return membership;
    }),
  );
}
