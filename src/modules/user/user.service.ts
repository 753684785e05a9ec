import type { Context } from '../../context.ts';
import { ForbiddenError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { principalsChanged } from '../auth/auth.service.ts';

async function setDisabled(ctx: Context, userGlobalId: string, disabled: boolean) {
  const userId = localId(userGlobalId, 'User');
  ctx.policy.assert('user:disable', { userId: undefined });
  if (disabled && userId === ctx.policy.userId) throw new ForbiddenError();
  const now = ctx.clock.now();
  return principalsChanged(ctx, () => ctx.db.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: userId } });
    if (!user) throw new ForbiddenError();
    if (disabled) {
      // Disabling ends every session at once; authenticate() also refuses a disabled user's token.
      await tx.session.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now } });
    }
    const updated = await tx.user.update({ where: { id: userId }, data: { disabledAt: disabled ? (user.disabledAt ?? now) : null } });
    // Users are installation-wide, so this goes to the system chain.
    await appendAudit(tx, ctx, {
      organizationId: null,
      action: disabled ? 'user.disable' : 'user.enable',
      targetType: 'User',
      targetId: userId,
      data: { email: user.email, wasDisabled: user.disabledAt !== null },
    });
    return updated;
  }));
}

export const disableUser = (ctx: Context, userId: string) => setDisabled(ctx, userId, true);
export const enableUser = (ctx: Context, userId: string) => setDisabled(ctx, userId, false);
