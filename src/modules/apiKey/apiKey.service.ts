import { z } from 'zod';
import type { Context } from '../../context.ts';
import { ForbiddenError, ValidationError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { hashToken, newToken } from '../../lib/tokens.ts';
import { parseInput, text } from '../../lib/validate.ts';
import { ROLES } from '../../policy/actions.ts';
import type { Role } from '../../generated/prisma-sqlite/enums.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { principalsChanged } from '../auth/auth.service.ts';

/**
 * Creates an API key for an organization and role. The key is returned once, here; only its SHA-256 and a
 * short prefix (to tell keys apart) are stored.
 */
export async function createApiKey(
  ctx: Context,
  input: { organizationId: string; name: string; role: Role; expiresAt?: Date | null },
) {
  const organizationId = localId(input.organizationId, 'Organization');
  ctx.policy.assert('apiKey:manage', { organizationId });
  const data = parseInput(z.object({ name: text(200), role: z.enum(ROLES) }), { name: input.name, role: input.role });
  const now = ctx.clock.now();
  if (input.expiresAt && input.expiresAt <= now) throw ValidationError.field('input.expiresAt', 'must be in the future');
  const key = newToken('vgk');
  const apiKey = await ctx.db.$transaction(async (tx) => {
    const created = await tx.apiKey.create({
      data: {
        organizationId,
        name: data.name,
        role: data.role,
        prefix: key.slice(0, 12),
        keyHash: hashToken(key),
        createdById: ctx.policy.userId,
        createdAt: now,
        expiresAt: input.expiresAt ?? null,
      },
    });
    // Neither the key nor its prefix: the audit log is read by people who must never hold key material.
    await appendAudit(tx, ctx, {
      organizationId,
      action: 'api_key.create',
      targetType: 'ApiKey',
      targetId: created.id,
      data: { name: created.name, role: created.role, expiresAt: created.expiresAt?.toISOString() ?? null },
    });
    return created;
  });
  return { apiKey, key };
}

export async function revokeApiKey(ctx: Context, input: { id: string }) {
  const id = localId(input.id, 'ApiKey');
  const apiKey = await ctx.db.apiKey.findUnique({ where: { id } });
  if (!apiKey || !ctx.policy.can('apiKey:manage', { organizationId: apiKey.organizationId })) throw new ForbiddenError();
  if (apiKey.revokedAt) return apiKey;
  return principalsChanged(ctx, () => ctx.db.$transaction(async (tx) => {
    // Conditional, so that of two racing revocations only one records an entry.
    const { count } = await tx.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: ctx.clock.now() } });
    if (count === 1) {
      await appendAudit(tx, ctx, {
        organizationId: apiKey.organizationId,
        action: 'api_key.revoke',
        targetType: 'ApiKey',
        targetId: id,
        data: { name: apiKey.name, role: apiKey.role },
      });
    }
    return tx.apiKey.findUniqueOrThrow({ where: { id } });
  }));
}
