import { createHash, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Context } from '../../context.ts';
import type { TxClient } from '../../db/client.ts';
import type { AuthMethod } from '../../generated/prisma-sqlite/enums.ts';
import {
  ForbiddenError,
  InvalidSecondFactorError,
  RateLimitedError,
  StepUpRequiredError,
  UnauthenticatedError,
  ValidationError,
} from '../../lib/errors.ts';
import { retryAfterSeconds } from '../../lib/rateLimit.ts';
import { hashToken, looksLikeToken } from '../../lib/tokens.ts';
import { base32Decode, base32Encode, hotp } from '../../lib/totp.ts';
import { parseInput } from '../../lib/validate.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { userFactorLabel } from '../keys/keyring.ts';
import { openSession, principalsChanged, signInLockout } from './auth.service.ts';
import { consumePasskey, type CeremonyBinding } from './passkey.service.ts';
import { assertFreshFactor, CHALLENGE_MAX_FAILURES, hashRecoveryCode, issueRecoveryCodes, normalizeRecoveryCode, RECOVERY_CODE_COUNT } from './factors.ts';

/**
 * Second factors: TOTP (RFC 6238, 6 digits, 30 s, SHA-1 — what every authenticator app reads from a QR code)
 * and single-use recovery codes. The rules: a code is accepted once (the last accepted time step is stored and
 * only later steps pass, with a conditional update, so two racing requests cannot both use one code); every
 * failure meets the per-account lockout of sign-ins; a sign-in challenge is single use, expires in minutes and
 * dies after a few wrong codes.
 */

const TOTP_PERIOD_S = 30;
const TOTP_DIGITS = 6;
/** One step either side of now: clocks of phones drift, and people type slowly. */
const TOTP_DRIFT_STEPS = 1;
const ISSUER = 'vaultgate';

/** One proof of a second factor: a TOTP code, a recovery code, or a passkey assertion (WebAuthn JSON). */
export type FactorProof = { code?: string | null; recoveryCode?: string | null; webauthn?: unknown };

const proofInput = z
  .object({
    code: z.string().trim().regex(/^[0-9]{6}$/, 'must be the 6 digits your authenticator shows').nullish(),
    recoveryCode: z.string().trim().max(64, 'must be at most 64 characters').nullish(),
    // Its shape is checked where it is verified (passkey.service.ts); here only that it is an object.
    webauthn: z.record(z.string(), z.unknown()).nullish(),
  })
  .refine((p) => [p.code, p.recoveryCode, p.webauthn].filter(Boolean).length === 1, {
    message: 'give exactly one of a code, a recovery code or a passkey assertion (webauthn)',
    path: ['code'],
  });

const userOf = (ctx: Context): { userId: string; sessionId: string } => {
  const p = ctx.policy.principal;
  if (p.kind !== 'user') throw new UnauthenticatedError('Only a signed-in user has second factors.');
  return { userId: p.userId, sessionId: p.sessionId };
};

const audit = (ctx: Context, userId: string, action: string, data: Record<string, unknown>) =>
  ctx.db.$transaction((tx) =>
    appendAudit(tx, ctx, { organizationId: null, action, targetType: 'User', targetId: userId, data: { ...data, clientAddress: ctx.request.clientAddress } }),
  );


function sameCode(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * The TOTP step a code matches, among the steps around now that are later than `after`; null when none does.
 * Every candidate is compared, so the time taken does not depend on which one matched.
 */
function matchingStep(secretBase32: string, code: string, nowMs: number, after: number): number | null {
  const key = base32Decode(secretBase32);
  const current = Math.floor(nowMs / 1000 / TOTP_PERIOD_S);
  let found: number | null = null;
  for (let step = current - TOTP_DRIFT_STEPS; step <= current + TOTP_DRIFT_STEPS; step++) {
    const ok = sameCode(hotp(key, BigInt(step), TOTP_DIGITS, 'SHA1'), code);
    if (ok && step > after && found === null) found = step;
  }
  return found;
}

/**
 * Checks a second factor of a user and consumes it (a TOTP step, or a recovery code). Returns how the user
 * proved it, or null when nothing matched. Failures are counted against the account's lockout by the caller.
 */
async function consumeFactor(ctx: Context, userId: string, proof: FactorProof, binding: CeremonyBinding): Promise<AuthMethod | null> {
  const now = ctx.clock.now();
  if (proof.webauthn) {
    const factorId = await consumePasskey(ctx, userId, proof.webauthn, binding);
    if (!factorId) return null;
    await audit(ctx, userId, 'mfa.passkey_used', { factorId });
    return 'PASSKEY';
  }
  if (proof.code) {
    const factors = await ctx.db.userFactor.findMany({ where: { userId, kind: 'TOTP', confirmedAt: { not: null } }, take: 5 });
    for (const factor of factors) {
      const secret = ctx.keyring.openForInstallation(factor.sealedSecret!, userFactorLabel(factor.id));
      const step = matchingStep(secret, proof.code, now.getTime(), factor.lastUsedStep);
      if (step === null) continue;
      // Conditional: of two requests with the same code, one moves the step and the other finds it moved.
      const { count } = await ctx.db.userFactor.updateMany({
        where: { id: factor.id, lastUsedStep: { lt: step } },
        data: { lastUsedStep: step, lastUsedAt: now },
      });
      if (count === 1) return 'TOTP';
    }
    return null;
  }
  if (proof.recoveryCode) {
    const { count } = await ctx.db.recoveryCode.updateMany({
      where: { userId, codeHash: hashRecoveryCode(proof.recoveryCode), usedAt: null },
      data: { usedAt: now },
    });
    if (count === 1) {
      const left = await ctx.db.recoveryCode.count({ where: { userId, usedAt: null } });
      await audit(ctx, userId, 'mfa.recovery_code_used', { remaining: left });
      return 'RECOVERY_CODE';
    }
  }
  return null;
}

/** Checks a proof under the per-account lockout (the sign-in one): a guesser gets five tries, then waits. */
async function verifyUnderLockout(ctx: Context, userId: string, proof: FactorProof, binding: CeremonyBinding): Promise<AuthMethod> {
  const c = ctx.config.rateLimits;
  const admitted = await ctx.limits.attempt('mfa', [userId], signInLockout(c, c.signInPerAccount));
  if (!admitted.allowed) throw new RateLimitedError(retryAfterSeconds(admitted));
  const method = await consumeFactor(ctx, userId, proof, binding);
  if (!method) {
    await audit(ctx, userId, 'mfa.failed', {});
    throw new InvalidSecondFactorError();
  }
  await ctx.limits.clear('mfa', [userId]);
  return method;
}

const completeInput = z.object({ challengeId: z.string().max(100) });

/** Finishes a sign-in: the challenge from signIn plus a code or a recovery code opens the session. */
export async function completeSignIn(ctx: Context, input: { challengeId: string } & FactorProof) {
  const { challengeId } = parseInput(completeInput, { challengeId: input.challengeId });
  const proof = parseInput(proofInput, { code: input.code, recoveryCode: input.recoveryCode, webauthn: input.webauthn });
  if (!looksLikeToken(challengeId, 'vgc')) throw new InvalidSecondFactorError();
  const now = ctx.clock.now();
  const challenge = await ctx.db.mfaChallenge.findUnique({ where: { tokenHash: hashToken(challengeId) } });
  if (!challenge || challenge.usedAt || challenge.expiresAt <= now || challenge.failures >= CHALLENGE_MAX_FAILURES) {
    throw new InvalidSecondFactorError();
  }
  const user = await ctx.db.user.findUnique({ where: { id: challenge.userId }, select: { disabledAt: true } });
  if (!user || user.disabledAt) throw new InvalidSecondFactorError();
  let method: AuthMethod;
  try {
    method = await verifyUnderLockout(ctx, challenge.userId, proof, { mfaChallengeId: challenge.id });
  } catch (error) {
    if (error instanceof InvalidSecondFactorError) {
      await ctx.db.mfaChallenge.update({ where: { id: challenge.id }, data: { failures: { increment: 1 } } });
    }
    throw error;
  }
  // Single use, also when two requests race with two valid codes.
  const { count } = await ctx.db.mfaChallenge.updateMany({ where: { id: challenge.id, usedAt: null }, data: { usedAt: now } });
  if (count !== 1) throw new InvalidSecondFactorError();
  const session = await openSession(ctx, challenge.userId, method);
  ctx.logger.info({ event: 'auth.sign_in', userId: challenge.userId, method, requestId: ctx.request.requestId }, 'signed in');
  return { ...session, userId: challenge.userId };
}

/** Starts a TOTP enrollment: a new seed, shown once here (and as an otpauth:// URI for a QR code). */
export async function enrollTotp(ctx: Context) {
  const { userId } = userOf(ctx);
  ctx.policy.assert('mfa:manage', { userId });
  const user = await ctx.db.user.findUniqueOrThrow({ where: { id: userId }, select: { email: true } });
  const secret = base32Encode(randomBytes(20));
  // The id is chosen here so the seed is sealed before the row exists: the row is written once, whole. (Written as
  // create-then-update, a second enrollment racing this one deleted the new row between the two statements.)
  const factorId = randomUUID();
  const sealed = ctx.keyring.sealForInstallation(secret, userFactorLabel(factorId));
  // One pending enrollment at a time: a new one replaces an unconfirmed one.
  await ctx.db.$transaction([
    ctx.db.userFactor.deleteMany({ where: { userId, kind: 'TOTP', confirmedAt: null } }),
    ctx.db.userFactor.create({
      data: { id: factorId, userId, kind: 'TOTP', name: 'Authenticator app', sealedSecret: sealed.sealed, masterKeyId: sealed.masterKeyId },
      select: { id: true },
    }),
  ]);
  const factor = { id: factorId };
  const label = encodeURIComponent(`${ISSUER}:${user.email}`);
  const uri = `otpauth://totp/${label}?secret=${secret}&issuer=${ISSUER}&algorithm=SHA1&digits=${TOTP_DIGITS}&period=${TOTP_PERIOD_S}`;
  return { factorId: factor.id, secret, uri };
}


/**
 * Activates a pending TOTP enrollment with a code from the app. It replaces an earlier TOTP factor, marks this
 * session as having verified a factor now, and issues recovery codes when the user has none left (shown once).
 */
export async function confirmTotp(ctx: Context, input: { factorId: string; code: string }) {
  const { userId, sessionId } = userOf(ctx);
  ctx.policy.assert('mfa:manage', { userId });
  const data = parseInput(z.object({ factorId: z.string().max(100), code: z.string().trim().regex(/^[0-9]{6}$/, 'must be the 6 digits your authenticator shows') }), input);
  const factor = await ctx.db.userFactor.findFirst({ where: { id: data.factorId, userId, kind: 'TOTP', confirmedAt: null } });
  if (!factor?.sealedSecret) throw ValidationError.field('input.factorId', 'no pending enrollment with this id; start again with enrollTotp');
  // Replacing or adding to factors the account already has needs one of them, verified lately (as for passkeys):
  // a stolen session alone must not swap the authenticator app for the thief's.
  const existing = await ctx.db.userFactor.count({ where: { userId, confirmedAt: { not: null } } });
  if (existing > 0) assertFreshFactor(ctx);
  const c = ctx.config.rateLimits;
  const admitted = await ctx.limits.attempt('mfa', [userId], signInLockout(c, c.signInPerAccount));
  if (!admitted.allowed) throw new RateLimitedError(retryAfterSeconds(admitted));
  const secret = ctx.keyring.openForInstallation(factor.sealedSecret, userFactorLabel(factor.id));
  const now = ctx.clock.now();
  const step = matchingStep(secret, data.code, now.getTime(), 0);
  if (step === null) throw new InvalidSecondFactorError();
  await ctx.limits.clear('mfa', [userId]);
  const hadCodes = (await ctx.db.recoveryCode.count({ where: { userId, usedAt: null } })) > 0;
  await principalsChanged(ctx, () =>
    ctx.db.$transaction(async (tx) => {
      // The user's row first: it is the lock that orders two confirmations of one user (each deletes the other's
      // factor; taken in the other order they deadlocked on PostgreSQL). Then a conditional update: an enrollment
      // that replaced or confirmed this pending one meanwhile makes this confirmation a typed refusal.
      await tx.user.update({ where: { id: userId }, data: { mfaEnabled: true } });
      const confirmed = await tx.userFactor.updateMany({ where: { id: factor.id, userId, confirmedAt: null }, data: { confirmedAt: now, lastUsedStep: step, lastUsedAt: now } });
      if (confirmed.count !== 1) throw ValidationError.field('input.factorId', 'no pending enrollment with this id; start again with enrollTotp');
      await tx.userFactor.deleteMany({ where: { userId, kind: 'TOTP', id: { not: factor.id } } });
      await tx.session.update({ where: { id: sessionId }, data: { factorVerifiedAt: now } });
      await appendAudit(tx, ctx, { organizationId: null, action: 'mfa.totp_enrolled', targetType: 'User', targetId: userId, data: { factorId: factor.id } });
    }),
  );
  const recoveryCodes = hadCodes ? [] : await issueRecoveryCodes(ctx, userId);
  return { recoveryCodes };
}

/** New recovery codes (the old ones stop working). Needs a second factor verified lately by this session. */
export async function regenerateRecoveryCodes(ctx: Context) {
  const { userId } = userOf(ctx);
  ctx.policy.assert('mfa:manage', { userId });
  assertFreshFactor(ctx);
  const user = await ctx.db.user.findUniqueOrThrow({ where: { id: userId }, select: { mfaEnabled: true } });
  if (!user.mfaEnabled) throw ValidationError.field('input', 'enroll a second factor first');
  const codes = await issueRecoveryCodes(ctx, userId);
  await audit(ctx, userId, 'mfa.recovery_codes_generated', { count: codes.length });
  return codes;
}

/** Refreshes this session's factor time: for actions that need a recent second factor (step-up). */
export async function stepUp(ctx: Context, input: FactorProof) {
  const { userId, sessionId } = userOf(ctx);
  ctx.policy.assert('mfa:manage', { userId });
  const proof = parseInput(proofInput, input);
  const method = await verifyUnderLockout(ctx, userId, proof, { sessionId });
  const now = ctx.clock.now();
  await principalsChanged(ctx, () =>
    ctx.db.$transaction(async (tx) => {
      await tx.session.update({ where: { id: sessionId }, data: { factorVerifiedAt: now } });
      await appendAudit(tx, ctx, { organizationId: null, action: 'mfa.step_up', targetType: 'User', targetId: userId, data: { method } });
    }),
  );
  return { verifiedAt: now, method };
}

/** Removes the viewer's own second factors; they prove one of them first (a stolen session cannot do it). */
export async function removeSecondFactors(ctx: Context, input: FactorProof) {
  const { userId, sessionId } = userOf(ctx);
  ctx.policy.assert('mfa:manage', { userId });
  const proof = parseInput(proofInput, input);
  await verifyUnderLockout(ctx, userId, proof, { sessionId });
  await dropFactors(ctx, userId, { by: 'self' });
  return true;
}

async function dropFactors(ctx: Context, userId: string, data: Record<string, unknown>) {
  await principalsChanged(ctx, () =>
    ctx.db.$transaction(async (tx) => {
      await tx.userFactor.deleteMany({ where: { userId } });
      await tx.recoveryCode.deleteMany({ where: { userId } });
      await tx.mfaChallenge.deleteMany({ where: { userId } });
      await tx.webAuthnChallenge.deleteMany({ where: { userId } });
      await tx.user.update({ where: { id: userId }, data: { mfaEnabled: false } });
      await appendAudit(tx, ctx, { organizationId: null, action: 'mfa.factors_removed', targetType: 'User', targetId: userId, data });
    }),
  );
}

/**
 * For a user who lost their factors: an ADMIN of every organization the user belongs to, or a system
 * administrator, removes them and ends the user's sessions (they sign in with the password and enroll again).
 * An ADMIN of only one of the user's organizations may not: that would weaken the user's access elsewhere.
 */
export async function resetUserFactors(ctx: Context, targetUserId: string) {
  const actor = userOf(ctx);
  const target = await ctx.db.user.findUnique({ where: { id: targetUserId }, select: { id: true, memberships: { select: { organizationId: true } } } });
  if (!target) throw new ForbiddenError();
  const orgs = target.memberships.map((m) => m.organizationId);
  const allowed = ctx.policy.can('mfa:reset') || (orgs.length > 0 && orgs.every((organizationId) => ctx.policy.can('mfa:reset', { organizationId })));
  if (!allowed || target.id === actor.userId) throw new ForbiddenError();
  await dropFactors(ctx, target.id, { by: 'admin', adminUserId: actor.userId });
  await principalsChanged(ctx, () =>
    ctx.db.session.updateMany({ where: { userId: target.id, revokedAt: null }, data: { revokedAt: ctx.clock.now() } }),
  );
  return true;
}


/**
 * Step-up where an organization asks for it (`requireStepUp`): revealing a restricted credential and deciding
 * an access request need a second factor verified lately. API keys cannot step up, so they are refused there.
 */
export async function assertStepUp(ctx: Context, organizationId: string, db: Pick<TxClient, 'organization'> = ctx.db): Promise<void> {
  const org = await db.organization.findUnique({ where: { id: organizationId }, select: { requireStepUp: true } });
  if (org?.requireStepUp) assertFreshFactor(ctx);
}

/** What the viewer's second-factor setup looks like (never a secret). */
export async function secondFactorStatus(ctx: Context, userId: string) {
  const [factors, recoveryCodesLeft] = await Promise.all([
    ctx.db.userFactor.findMany({ where: { userId, confirmedAt: { not: null } }, select: { id: true, kind: true, name: true, confirmedAt: true, lastUsedAt: true, transports: true }, orderBy: { confirmedAt: 'asc' }, take: 20 }),
    ctx.db.recoveryCode.count({ where: { userId, usedAt: null } }),
  ]);
  return { factors, recoveryCodesLeft };
}

/** Sets an organization's second-factor rules. Cached principals are dropped: enrollment may now be required. */
export async function setOrganizationSecurity<Q extends object>(
  ctx: Context,
  query: Q,
  input: { organizationId: string; requireMfa?: boolean; requireStepUp?: boolean; allowPasswordSignIn?: boolean },
) {
  ctx.policy.assert('organization:manage', { organizationId: input.organizationId });
  const data = { requireMfa: input.requireMfa, requireStepUp: input.requireStepUp, allowPasswordSignIn: input.allowPasswordSignIn };
  return principalsChanged(ctx, () =>
    ctx.db.$transaction(async (tx) => {
      await tx.organization.update({ where: { id: input.organizationId }, data });
      await appendAudit(tx, ctx, {
        organizationId: input.organizationId,
        action: 'organization.security_update',
        targetType: 'Organization',
        targetId: input.organizationId,
        data: { requireMfa: input.requireMfa ?? null, requireStepUp: input.requireStepUp ?? null, allowPasswordSignIn: input.allowPasswordSignIn ?? null },
      });
      return tx.organization.findUniqueOrThrow({ ...query, where: { id: input.organizationId } });
    }),
  );
}
