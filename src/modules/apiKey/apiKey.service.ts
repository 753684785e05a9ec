import { z } from 'zod';
import type { Context } from '../../context.ts';
import { ForbiddenError, ValidationError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { hashToken, newToken } from '../../lib/tokens.ts';
import { parseInput, text } from '../../lib/validate.ts';
import { ROLES } from '../../policy/actions.ts';
import type { Role } from '../../generated/prisma-sqlite/enums.ts';

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
  const apiKey = await ctx.db.apiKey.create({
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
  return { apiKey, key };
}

export async function revokeApiKey(ctx: Context, input: { id: string }) {
  const id = localId(input.id, 'ApiKey');
  const apiKey = await ctx.db.apiKey.findUnique({ where: { id } });
  if (!apiKey || !ctx.policy.can('apiKey:manage', { organizationId: apiKey.organizationId })) throw new ForbiddenError();
  if (apiKey.revokedAt) return apiKey;
  return ctx.db.apiKey.update({ where: { id }, data: { revokedAt: ctx.clock.now() } });
}
