import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Context } from '../../context.ts';
import { isUniqueViolation } from '../../db/client.ts';
import { InvalidSecondFactorError, UnauthenticatedError, ValidationError } from '../../lib/errors.ts';
import { hashToken, looksLikeToken } from '../../lib/tokens.ts';
import { parseInput, text } from '../../lib/validate.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { MFA_CHALLENGE_TTL_MS, principalsChanged } from './auth.service.ts';
import { assertFreshFactor, CHALLENGE_MAX_FAILURES, issueRecoveryCodes } from './factors.ts';

/**
 * Passkeys (WebAuthn) as a second factor. Each ceremony's challenge is a WebAuthnChallenge row bound to what it is
 * for — the sign-in attempt (MfaChallenge) or the session that registers or steps up — and it is deleted when an
 * answer arrives, right or wrong, so an assertion cannot be replayed and a failed one needs new options. The
 * password stays the first factor: there is no passwordless sign-in (docs/identity.md says why).
 */

/** Passkeys per user: enough for a laptop, a phone and a few security keys; bounds the options' credential lists. */
export const MAX_PASSKEYS = 10;
/** How long a ceremony may take: the same as a sign-in challenge, so a slow person is not cut off mid-way. */
const CEREMONY_TTL_MS = MFA_CHALLENGE_TTL_MS;
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

export type CeremonyBinding = { mfaChallengeId: string; sessionId?: never } | { sessionId: string; mfaChallengeId?: never };

const b64url = z.string().max(16_384).regex(/^[A-Za-z0-9_-]*={0,2}$/, 'must be base64url');
const responseBase = {
  id: b64url.min(1).max(1366),
  rawId: b64url.min(1).max(1366),
  type: z.literal('public-key'),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
};
const registrationResponse = z.object({
  ...responseBase,
  response: z.object({
    clientDataJSON: b64url,
    attestationObject: b64url,
    transports: z.array(z.string().max(20)).max(10).optional(),
    authenticatorData: b64url.optional(),
    publicKey: b64url.optional(),
    publicKeyAlgorithm: z.number().int().optional(),
  }),
});
const authenticationResponse = z.object({
  ...responseBase,
  response: z.object({
    clientDataJSON: b64url,
    authenticatorData: b64url,
    signature: b64url,
    userHandle: b64url.optional(),
  }),
});

/** The challenge the browser says it answered (read from clientDataJSON), to find the ceremony; verified again by the library. */
function clientChallenge(clientDataJSON: string): string | null {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof data.challenge === 'string' && data.challenge.length > 0 && data.challenge.length <= 512 ? data.challenge : null;
  } catch {
    return null;
  }
}

const transportsOf = (stored: string | null): AuthenticatorTransportFuture[] | undefined =>
  stored ? (stored.split(',').filter((t) => TRANSPORTS.has(t)) as AuthenticatorTransportFuture[]) : undefined;

function signedInUser(ctx: Context): { userId: string; sessionId: string } {
  const p = ctx.policy.principal;
  if (p.kind !== 'user') throw new UnauthenticatedError('Only a signed-in user has passkeys.');
  ctx.policy.assert('mfa:manage', { userId: p.userId });
  return { userId: p.userId, sessionId: p.sessionId };
}

/** Stores a ceremony's challenge, replacing an unanswered one of the same binding (one at a time bounds the rows). */
async function openCeremony(ctx: Context, userId: string, purpose: 'REGISTRATION' | 'AUTHENTICATION', binding: CeremonyBinding, challenge: string) {
  const now = ctx.clock.now();
  await ctx.db.$transaction([
    ctx.db.webAuthnChallenge.deleteMany({ where: { userId, OR: [{ purpose, ...binding }, { expiresAt: { lte: now } }] } }),
    ctx.db.webAuthnChallenge.create({
      data: { id: randomUUID(), userId, purpose, challenge, ...binding, expiresAt: new Date(now.getTime() + CEREMONY_TTL_MS), createdAt: now },
    }),
  ]);
}

/** Takes the ceremony an answer names, once: of two requests with one answer, one finds it gone. */
async function takeCeremony(ctx: Context, userId: string, purpose: 'REGISTRATION' | 'AUTHENTICATION', binding: CeremonyBinding, challenge: string | null) {
  if (!challenge) return null;
  const ceremony = await ctx.db.webAuthnChallenge.findFirst({ where: { challenge, userId, purpose, ...binding } });
  if (!ceremony) return null;
  const { count } = await ctx.db.webAuthnChallenge.deleteMany({ where: { id: ceremony.id } });
  if (count !== 1 || ceremony.expiresAt <= ctx.clock.now()) return null;
  return ceremony;
}

/** Options for navigator.credentials.create(): a new passkey for the viewer. Adding one to an account that has a factor needs a recent one. */
export async function startPasskeyRegistration(ctx: Context) {
  const { userId, sessionId } = signedInUser(ctx);
  const user = await ctx.db.user.findUniqueOrThrow({
    where: { id: userId },
    select: { email: true, name: true, mfaEnabled: true, factors: { where: { kind: 'WEBAUTHN', confirmedAt: { not: null } }, select: { credentialId: true, transports: true } } },
  });
  if (user.mfaEnabled) assertFreshFactor(ctx);
  if (user.factors.length >= MAX_PASSKEYS) throw ValidationError.field('input', `at most ${MAX_PASSKEYS} passkeys; remove one first`);
  const { rpId, rpName } = ctx.config.webauthn;
  const options = await generateRegistrationOptions({
    rpName,
    rpID: rpId,
    userName: user.email,
    userDisplayName: user.name,
    // The user handle is the user's id: stable, and not personal data.
    userID: new TextEncoder().encode(userId),
    attestationType: 'none',
    timeout: CEREMONY_TTL_MS,
    excludeCredentials: user.factors.map((f) => ({ id: f.credentialId!, transports: transportsOf(f.transports) })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
  await openCeremony(ctx, userId, 'REGISTRATION', { sessionId }, options.challenge);
  return options;
}

const finishInput = z.object({ name: text(100) });

const unverified = () => ValidationError.field('input.response', 'the passkey could not be verified; start again with startPasskeyRegistration');

/**
 * Verifies the browser's answer to startPasskeyRegistration and stores the passkey. Like confirming an
 * authenticator app, it counts as a factor verified by this session now, and issues recovery codes (once) when the
 * user has none.
 */
export async function finishPasskeyRegistration(ctx: Context, input: { name: string; response: unknown }) {
  const { userId, sessionId } = signedInUser(ctx);
  const { name } = parseInput(finishInput, { name: input.name });
  const parsed = registrationResponse.safeParse(input.response);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, ['input', 'response']);
  const response = parsed.data as RegistrationResponseJSON;
  const ceremony = await takeCeremony(ctx, userId, 'REGISTRATION', { sessionId }, clientChallenge(response.response.clientDataJSON));
  if (!ceremony) throw unverified();
  const { rpId, origins } = ctx.config.webauthn;
  let credential;
  try {
    const result = await verifyRegistrationResponse({ response, expectedChallenge: ceremony.challenge, expectedOrigin: origins, expectedRPID: rpId, requireUserVerification: false });
    if (!result.verified) throw unverified();
    credential = result.registrationInfo.credential;
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    // The library's message says what was wrong with the attestation; it stays in the log, never in the answer.
    ctx.logger.info({ event: 'mfa.passkey_registration_refused', reason: error instanceof Error ? error.message : 'unknown', requestId: ctx.request.requestId }, 'passkey registration refused');
    throw unverified();
  }
  const now = ctx.clock.now();
  const factorId = randomUUID();
  const transports = (credential.transports ?? response.response.transports ?? []).filter((t) => TRANSPORTS.has(t));
  const hadCodes = (await ctx.db.recoveryCode.count({ where: { userId, usedAt: null } })) > 0;
  try {
    await principalsChanged(ctx, () =>
      ctx.db.$transaction(async (tx) => {
        // The user's row first, as in confirmTotp: it orders concurrent factor changes of one user.
        await tx.user.update({ where: { id: userId }, data: { mfaEnabled: true } });
        const count = await tx.userFactor.count({ where: { userId, kind: 'WEBAUTHN' } });
        if (count >= MAX_PASSKEYS) throw ValidationError.field('input', `at most ${MAX_PASSKEYS} passkeys; remove one first`);
        await tx.userFactor.create({
          data: {
            id: factorId,
            userId,
            kind: 'WEBAUTHN',
            name,
            credentialId: credential.id,
            publicKey: Buffer.from(credential.publicKey).toString('base64url'),
            signCount: credential.counter,
            transports: transports.length ? transports.join(',') : null,
            confirmedAt: now,
            createdAt: now,
          },
        });
        await tx.session.update({ where: { id: sessionId }, data: { factorVerifiedAt: now } });
        await appendAudit(tx, ctx, { organizationId: null, action: 'mfa.passkey_enrolled', targetType: 'User', targetId: userId, data: { factorId, name } });
      }),
    );
  } catch (error) {
    if (isUniqueViolation(error)) throw ValidationError.field('input.response', 'this passkey is already registered');
    throw error;
  }
  const recoveryCodes = hadCodes ? [] : await issueRecoveryCodes(ctx, userId);
  const factor = await ctx.db.userFactor.findUniqueOrThrow({ where: { id: factorId } });
  return { factor, recoveryCodes };
}

const renameInput = z.object({ factorId: z.string().max(100), name: text(100) });

export async function renamePasskey(ctx: Context, input: { factorId: string; name: string }) {
  const { userId } = signedInUser(ctx);
  const data = parseInput(renameInput, input);
  const { count } = await ctx.db.userFactor.updateMany({ where: { id: data.factorId, userId, kind: 'WEBAUTHN', confirmedAt: { not: null } }, data: { name: data.name } });
  if (count !== 1) throw ValidationError.field('input.factorId', 'no passkey of yours has this id');
  return ctx.db.userFactor.findUniqueOrThrow({ where: { id: data.factorId } });
}

/**
 * Removes one of the viewer's passkeys; needs a recent second factor (stepUp), like every other weakening of the
 * account's protection. Removing the last factor turns second factors off (recovery codes go with it).
 */
export async function removePasskey(ctx: Context, input: { factorId: string }) {
  const { userId } = signedInUser(ctx);
  const { factorId } = parseInput(z.object({ factorId: z.string().max(100) }), input);
  assertFreshFactor(ctx);
  await principalsChanged(ctx, () =>
    ctx.db.$transaction(async (tx) => {
      await tx.user.update({ where: { id: userId }, data: { updatedAt: ctx.clock.now() } });
      const { count } = await tx.userFactor.deleteMany({ where: { id: factorId, userId, kind: 'WEBAUTHN' } });
      if (count !== 1) throw ValidationError.field('input.factorId', 'no passkey of yours has this id');
      const remaining = await tx.userFactor.count({ where: { userId, confirmedAt: { not: null } } });
      if (remaining === 0) {
        await tx.recoveryCode.deleteMany({ where: { userId } });
        await tx.mfaChallenge.deleteMany({ where: { userId } });
        await tx.webAuthnChallenge.deleteMany({ where: { userId } });
        await tx.user.update({ where: { id: userId }, data: { mfaEnabled: false } });
      }
      await appendAudit(tx, ctx, { organizationId: null, action: 'mfa.passkey_removed', targetType: 'User', targetId: userId, data: { factorId, remainingFactors: remaining } });
    }),
  );
  return true;
}

/**
 * Options for navigator.credentials.get(). With `challengeId` (from MfaRequired) it is the second factor of that
 * sign-in, for anyone holding the challenge; without, the signed-in viewer's step-up. Only the user's own passkeys
 * are allowed, so the browser offers nothing else.
 */
export async function startPasskeyAuthentication(ctx: Context, input: { challengeId?: string | null }) {
  let userId: string;
  let binding: CeremonyBinding;
  if (input.challengeId) {
    const challengeId = parseInput(z.string().max(100), input.challengeId, ['input', 'challengeId']);
    if (!looksLikeToken(challengeId, 'vgc')) throw new InvalidSecondFactorError();
    const challenge = await ctx.db.mfaChallenge.findUnique({ where: { tokenHash: hashToken(challengeId) } });
    if (!challenge || challenge.usedAt || challenge.expiresAt <= ctx.clock.now() || challenge.failures >= CHALLENGE_MAX_FAILURES) throw new InvalidSecondFactorError();
    userId = challenge.userId;
    binding = { mfaChallengeId: challenge.id };
  } else {
    const viewer = signedInUser(ctx);
    userId = viewer.userId;
    binding = { sessionId: viewer.sessionId };
  }
  const passkeys = await ctx.db.userFactor.findMany({
    where: { userId, kind: 'WEBAUTHN', confirmedAt: { not: null } },
    select: { credentialId: true, transports: true },
    take: MAX_PASSKEYS,
  });
  if (passkeys.length === 0) throw ValidationError.field('input', 'this account has no passkey');
  const options = await generateAuthenticationOptions({
    rpID: ctx.config.webauthn.rpId,
    allowCredentials: passkeys.map((p) => ({ id: p.credentialId!, transports: transportsOf(p.transports) })),
    userVerification: 'preferred',
    timeout: CEREMONY_TTL_MS,
  });
  await openCeremony(ctx, userId, 'AUTHENTICATION', binding, options.challenge);
  return options;
}

/**
 * Checks a passkey assertion of a user for the ceremony it answers (bound to `binding`) and consumes it: the
 * ceremony is gone afterwards and the signature counter has moved. Returns the factor's id, or null when anything
 * did not match; the caller counts that against the lockout.
 */
export async function consumePasskey(ctx: Context, userId: string, assertion: unknown, binding: CeremonyBinding): Promise<string | null> {
  const parsed = authenticationResponse.safeParse(assertion);
  if (!parsed.success) return null;
  const response = parsed.data as AuthenticationResponseJSON;
  const ceremony = await takeCeremony(ctx, userId, 'AUTHENTICATION', binding, clientChallenge(response.response.clientDataJSON));
  if (!ceremony) return null;
  const factor = await ctx.db.userFactor.findFirst({ where: { userId, kind: 'WEBAUTHN', credentialId: response.id, confirmedAt: { not: null } } });
  if (!factor?.publicKey) return null;
  const { rpId, origins } = ctx.config.webauthn;
  let newCounter: number;
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: ceremony.challenge,
      expectedOrigin: origins,
      expectedRPID: rpId,
      credential: { id: factor.credentialId!, publicKey: Buffer.from(factor.publicKey, 'base64url'), counter: factor.signCount, transports: transportsOf(factor.transports) },
      requireUserVerification: false,
    });
    if (!result.verified) return null;
    newCounter = result.authenticationInfo.newCounter;
  } catch (error) {
    ctx.logger.info({ event: 'mfa.passkey_refused', reason: error instanceof Error ? error.message : 'unknown', requestId: ctx.request.requestId }, 'passkey assertion refused');
    return null;
  }
  // Conditional on the counter read: of two assertions racing past the check, one moves it and the other fails.
  const { count } = await ctx.db.userFactor.updateMany({
    where: { id: factor.id, signCount: factor.signCount },
    data: { signCount: newCounter, lastUsedAt: ctx.clock.now() },
  });
  return count === 1 ? factor.id : null;
}
