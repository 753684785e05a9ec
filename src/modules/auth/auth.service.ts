import { z } from 'zod';
import type { AppDeps, Context } from '../../context.ts';
import { isUniqueViolation } from '../../db/client.ts';
import {
  BootstrapClosedError,
  BootstrapNotAllowedError,
  InvalidCredentialsError,
  MfaRequired,
  PasswordSignInDisabledError,
  RateLimitedError,
  TooManyAuthFailuresError,
  UnauthenticatedError,
  ValidationError,
} from '../../lib/errors.ts';
import { retryAfterSeconds, type Decision, type LockoutRule } from '../../lib/rateLimit.ts';
import type { RateLimitConfig } from '../../config.ts';
import { hashPassword, verifyPassword, PASSWORD_MAX_LENGTH } from '../../lib/passwords.ts';
import { hashToken, looksLikeToken, newToken } from '../../lib/tokens.ts';
import { email, parseInput, passwordSchema, text } from '../../lib/validate.ts';
import { anonymousPolicy, Policy, type Principal } from '../../policy/policy.ts';
import type { AuthMethod, Role } from '../../generated/prisma-sqlite/enums.ts';
import { looksLikeEmail } from '../../lib/text.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { provisionOrganization } from '../organization/organization.provision.ts';

/** lastUsedAt is refreshed at most this often, so that authenticating is not a write on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Resolves presented credentials to a principal. No credentials → anonymous; a presented credential that is
 * malformed, unknown, expired, revoked, or belongs to a disabled user → UnauthenticatedError.
 */
export async function authenticate(
  deps: AppDeps,
  presented: { bearer: string | null; apiKey: string | null },
): Promise<Principal> {
  const now = deps.clock.now();
  if (presented.bearer !== null) {
    if (!looksLikeToken(presented.bearer, 'vgs')) throw new UnauthenticatedError();
    const tokenHash = hashToken(presented.bearer);
    return deps.principals.get(tokenHash, now.getTime(), async () => {
      const session = await deps.db.session.findUnique({
        where: { tokenHash },
        include: { user: { include: { memberships: { select: { organizationId: true, role: true } } } } },
      });
      if (!session || session.revokedAt || session.expiresAt <= now || session.user.disabledAt) {
        throw new UnauthenticatedError();
      }
      if (!session.lastUsedAt || now.getTime() - session.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
        await deps.db.session.updateMany({ where: { id: session.id }, data: { lastUsedAt: now } });
      }
      const memberships = new Map(session.user.memberships.map((m) => [m.organizationId, m.role as Role]));
      // Only a user without a second factor needs to know whether an organization of theirs requires one.
      const mfaEnrollmentRequired =
        !session.user.mfaEnabled &&
        memberships.size > 0 &&
        (await deps.db.organization.findFirst({ where: { id: { in: [...memberships.keys()] }, requireMfa: true }, select: { id: true } })) !== null;
      const principal: Principal = {
        kind: 'user',
        userId: session.userId,
        sessionId: session.id,
        isSystemAdmin: session.user.isSystemAdmin,
        memberships,
        authMethod: session.authMethod,
        factorVerifiedAt: session.factorVerifiedAt?.getTime() ?? null,
        mfaEnrollmentRequired,
      };
      return { principal, expiresAt: session.expiresAt.getTime() };
    });
  }
  if (presented.apiKey !== null) {
    if (!looksLikeToken(presented.apiKey, 'vgk')) throw new UnauthenticatedError();
    const keyHash = hashToken(presented.apiKey);
    return deps.principals.get(keyHash, now.getTime(), async () => {
      const key = await deps.db.apiKey.findUnique({ where: { keyHash } });
      if (!key || key.revokedAt || (key.expiresAt && key.expiresAt <= now)) throw new UnauthenticatedError();
      if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
        await deps.db.apiKey.updateMany({ where: { id: key.id }, data: { lastUsedAt: now } });
      }
      const principal: Principal = { kind: 'apiKey', apiKeyId: key.id, organizationId: key.organizationId, role: key.role as Role };
      return { principal, expiresAt: key.expiresAt?.getTime() ?? null };
    });
  }
  return { kind: 'anonymous' };
}

/**
 * Runs a change to sessions, users, memberships or API keys, then drops the principals cached here at once
 * and, through the event bus, on every other instance (also when the change failed: it may have committed
 * part of its work before it threw, and an emptied cache costs one lookup per caller).
 */
export async function principalsChanged<T>(deps: AppDeps, change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } finally {
    deps.principals.clear();
    deps.events.publish({ topic: 'auth.changed' });
  }
}

/**
 * Authenticates presented credentials, counting invalid ones per client address (unknown, expired or revoked
 * tokens and keys, malformed headers). Past RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS in the window, any presented
 * credential from that address is refused with HTTP 429 before it is looked up, so a refusal tells nothing about
 * the credential. Requests without credentials are not affected.
 */
export async function limitAuthFailures(
  deps: AppDeps,
  clientAddress: string | null,
  presenting: boolean,
  authenticateNow: () => Promise<Principal>,
): Promise<Principal> {
  if (!presenting) return authenticateNow();
  const subject = [clientAddress ?? 'unknown'];
  const rule = { limit: deps.config.rateLimits.authFailuresPerAddress, windowMs: deps.config.rateLimits.signInWindowMs };
  const blocked = await deps.limits.check('auth:failures', subject, rule);
  if (!blocked.allowed) {
    deps.logger.info({ event: 'auth.rate_limited', clientAddress }, 'credentials refused: too many invalid ones from this address');
    throw new TooManyAuthFailuresError(retryAfterSeconds(blocked));
  }
  try {
    return await authenticateNow();
  } catch (error) {
    if (error instanceof UnauthenticatedError) await deps.limits.take('auth:failures', subject, rule);
    throw error;
  }
}

/** How long an address an account signed in from is exempt from that account's all-addresses lockout. */
const KNOWN_ADDRESS_MS = 30 * 24 * 3_600_000;

export const signInLockout = (c: RateLimitConfig, threshold: number): LockoutRule => ({
  threshold,
  firstLockoutMs: c.lockoutMs,
  maxLockoutMs: c.lockoutMaxMs,
  forgetAfterMs: c.signInWindowMs,
});

/**
 * Admits one sign-in attempt under the limits of README "Rate limits", or throws RateLimitedError. It runs
 * before the user is even looked up, so a refused attempt costs no argon2 work and answers the same whether or
 * not the account exists. The attempt is counted as a failure up front (racing attempts cannot all slip through
 * before the first failure is recorded); the returned function takes that back when the password was right.
 */
async function admitSignIn(ctx: Context, email: string): Promise<() => Promise<void>> {
  const c = ctx.config.rateLimits;
  const from = ctx.request.clientAddress ?? 'unknown';
  const refuse = (scope: string, decision: Decision): never => {
    ctx.logger.info({ event: 'auth.sign_in_rate_limited', scope, requestId: ctx.request.requestId }, 'sign-in refused: too many attempts');
    throw new RateLimitedError(retryAfterSeconds(decision));
  };
  const perAddress = await ctx.limits.take('signin:address', [from], { limit: c.signInPerAddress, windowMs: c.signInWindowMs });
  if (!perAddress.allowed) refuse('address', perAddress);
  // Failures are counted per (account, address): someone guessing from one address locks out only themselves.
  const pair = [email, from];
  const perPair = await ctx.limits.attempt('signin:account-address', pair, signInLockout(c, c.signInPerAccount));
  if (!perPair.allowed) refuse('account-address', perPair);
  // Guessing spread over many addresses meets the account-wide lockout, which spares the addresses the account
  // signed in from lately: an attacker cannot lock the owner out from where they usually sign in.
  const known = await ctx.limits.remembers('signin:known-address', pair);
  if (!known) {
    const perAccount = await ctx.limits.attempt('signin:account', [email], signInLockout(c, c.signInPerAccountTotal));
    if (!perAccount.allowed) {
      await ctx.limits.release('signin:account-address', pair);
      refuse('account', perAccount);
    }
  }
  return async () => {
    await ctx.limits.clear('signin:account-address', pair);
    if (!known) await ctx.limits.release('signin:account', [email]);
    await ctx.limits.remember('signin:known-address', pair, KNOWN_ADDRESS_MS);
  };
}

/**
 * Opens a session and makes the rest of this request act as its user, so the sign-in payload (the user, their
 * memberships) is resolved with the new session's policy rather than the anonymous caller's.
 * The sign-in is audited on the system chain: a user may belong to many organizations, or to none.
 */
export async function openSession(ctx: Context, userId: string, method: AuthMethod = 'PASSWORD') {
  const token = newToken('vgs');
  const now = ctx.clock.now();
  // A password or the identity provider's word is not a second factor verified here (step-up asks for one).
  const factorVerifiedAt = method === 'PASSWORD' || method === 'SSO' ? null : now;
  const expiresAt = new Date(now.getTime() + ctx.config.sessionTtlMinutes * 60_000);
  const userAgent = ctx.request.userAgent?.slice(0, 512) ?? null;
  await ctx.db.$transaction(async (tx) => {
    const session = await tx.session.create({
      data: { userId, tokenHash: hashToken(token), createdAt: now, expiresAt, userAgent, clientAddress: ctx.request.clientAddress, authMethod: method, factorVerifiedAt },
    });
    await appendAudit(tx, { policy: ctx.policy, clock: ctx.clock, actor: { userId, apiKeyId: null } }, {
      organizationId: null,
      action: 'auth.sign_in',
      targetType: 'User',
      targetId: userId,
      data: { sessionId: session.id, clientAddress: ctx.request.clientAddress, userAgent, method },
    });
  });
  ctx.policy = new Policy(await authenticate(ctx, { bearer: token, apiKey: null }));
  return { token, expiresAt };
}

const signInInput = z.object({
  // The email is only normalised here, not validated as an address: a malformed one is simply not found,
  // and answers exactly like a wrong password.
  email: z.string().trim().toLowerCase().max(254, 'must be at most 254 characters'),
  password: z.string().max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`),
});

/**
 * Records a failed sign-in on the system chain. There is no change to commit it with, so it is its own
 * transaction. The password is never recorded; the entered email only when it is a known user's or looks like one.
 */
async function auditSignInFailure(ctx: Context, address: string, user: { id: string; disabled: boolean } | null) {
  const known = user !== null;
  await ctx.db.$transaction((tx) =>
    appendAudit(tx, { policy: ctx.policy, clock: ctx.clock, actor: { userId: null, apiKeyId: null } }, {
      organizationId: null,
      action: 'auth.sign_in_failed',
      targetType: known ? 'User' : null,
      targetId: user?.id ?? null,
      data: {
        // People type passwords into the email field; only something shaped like an address is worth keeping.
        email: known || looksLikeEmail(address) ? address : null,
        reason: !user ? 'unknown_user' : user.disabled ? 'user_disabled' : 'wrong_password',
        clientAddress: ctx.request.clientAddress,
      },
    }),
  );
}

/** How long the challenge of a sign-in waiting for its second factor lives. */
export const MFA_CHALLENGE_TTL_MS = 5 * 60_000;

/** After a right password for a user with a second factor: a challenge for completeSignIn, no session yet. */
export async function startMfaChallenge(ctx: Context, userId: string): Promise<MfaRequired> {
  const token = newToken('vgc');
  const expiresAt = new Date(ctx.clock.now().getTime() + MFA_CHALLENGE_TTL_MS);
  await ctx.db.mfaChallenge.create({ data: { userId, tokenHash: hashToken(token), expiresAt, createdAt: ctx.clock.now() } });
  const [recovery, kinds] = await Promise.all([
    ctx.db.recoveryCode.count({ where: { userId, usedAt: null } }),
    ctx.db.userFactor.findMany({ where: { userId, confirmedAt: { not: null } }, select: { kind: true }, distinct: ['kind'] }),
  ]);
  const has = new Set(kinds.map((k) => k.kind));
  const methods = [...(has.has('TOTP') ? ['TOTP'] : []), ...(has.has('WEBAUTHN') ? ['WEBAUTHN'] : []), ...(recovery > 0 ? ['RECOVERY_CODE'] : [])];
  return new MfaRequired(token, methods, expiresAt);
}

export async function signIn(ctx: Context, input: { email: string; password: string }) {
  const { email: address, password } = parseInput(signInInput, input);
  const succeeded = await admitSignIn(ctx, address);
  // No stored email holds a NUL (and PostgreSQL refuses one in a query): such an address is simply not found.
  const user = address.includes('\u0000') ? null : await ctx.db.user.findUnique({ where: { email: address } });
  const usable = user && !user.disabledAt ? user : null;
  const ok = await verifyPassword(usable?.passwordHash ?? null, password);
  if (!usable || !ok) {
    ctx.logger.info({ event: 'auth.sign_in_failed', requestId: ctx.request.requestId }, 'sign-in failed');
    await auditSignInFailure(ctx, address, user ? { id: user.id, disabled: user.disabledAt !== null } : null);
    throw new InvalidCredentialsError();
  }
  await succeeded();
  // Checked only after a right password, so that it tells nothing to someone guessing. System administrators keep
  // their password as the way back in when the identity provider is down or misconfigured.
  if (!usable.isSystemAdmin) {
    const ssoOnly = await ctx.db.membership.findFirst({ where: { userId: usable.id, organization: { allowPasswordSignIn: false } }, select: { id: true } });
    if (ssoOnly) {
      ctx.logger.info({ event: 'auth.password_sign_in_disabled', userId: usable.id, requestId: ctx.request.requestId }, 'password sign-in refused: SSO only');
      throw new PasswordSignInDisabledError();
    }
  }
  // A second factor turns a right password into a challenge, not a session.
  if (usable.mfaEnabled) throw await startMfaChallenge(ctx, usable.id);
  const session = await openSession(ctx, usable.id);
  ctx.logger.info({ event: 'auth.sign_in', userId: usable.id, requestId: ctx.request.requestId }, 'signed in');
  return { ...session, userId: usable.id };
}

/** Revokes the session the request was made with. */
export async function signOut(ctx: Context): Promise<boolean> {
  const p = ctx.policy.principal;
  if (p.kind !== 'user') throw new UnauthenticatedError('Only a signed-in user can sign out.');
  ctx.policy.assert('session:manage', { userId: p.userId });
  await principalsChanged(ctx, () =>
    ctx.db.session.updateMany({ where: { id: p.sessionId, revokedAt: null }, data: { revokedAt: ctx.clock.now() } }),
  );
  return true;
}

const newUserInput = z.object({
  email,
  name: text(200),
  password: passwordSchema,
  organizationName: text(200),
});

/**
 * Creates a system administrator, an organization and the ADMIN membership between them, in one transaction.
 * With `onlyIfFirst`, the Installation row (primary key 1) makes this succeed once per installation even when
 * two callers race; the CLI path may add further administrators.
 * Audited as `user.create` (system chain, appended first: chains are always taken system before organization, so
 * two transactions never wait on each other's heads) and `organization.create` (the organization's chain). The
 * actor is the installation itself: bootstrap is anonymous, and the CLI runs on the server.
 */
export async function createAdministrator(
  deps: AppDeps,
  input: { email: string; name: string; password: string; organizationName: string },
  options: { onlyIfFirst: boolean },
) {
  const data = parseInput(newUserInput, input);
  const passwordHash = await hashPassword(data.password);
  try {
    return await deps.db.$transaction(async (tx) => {
      if (options.onlyIfFirst) {
        if ((await tx.user.count()) > 0) throw new BootstrapClosedError();
        await tx.installation.create({ data: { id: 1 } });
      } else {
        await tx.installation.upsert({ where: { id: 1 }, create: { id: 1 }, update: {} });
      }
      const user = await tx.user.create({
        data: { email: data.email, name: data.name, passwordHash, isSystemAdmin: true },
      });
      const organization = await tx.organization.create({ data: { name: data.organizationName } });
      await tx.membership.create({ data: { userId: user.id, organizationId: organization.id, role: 'ADMIN' } });
      await provisionOrganization(deps, tx, organization.id);
      const audit = { policy: anonymousPolicy(), clock: deps.clock, actor: { userId: null, apiKeyId: null } };
      const via = options.onlyIfFirst ? 'bootstrap' : 'cli';
      await appendAudit(tx, audit, {
        organizationId: null,
        action: 'user.create',
        targetType: 'User',
        targetId: user.id,
        data: { email: user.email, isSystemAdmin: true, via },
      });
      await appendAudit(tx, audit, {
        organizationId: organization.id,
        action: 'organization.create',
        targetType: 'Organization',
        targetId: organization.id,
        data: { name: organization.name, adminUserId: user.id, via },
      });
      return { user, organization };
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      if (options.onlyIfFirst) throw new BootstrapClosedError();
      throw ValidationError.field('input.email', 'a user with this email already exists');
    }
    throw error;
  }
}

/**
 * The first administrator, from anyone not signed in. Everything cheap comes before the password is hashed:
 * an installed installation answers BootstrapClosedError from memory (or one indexed read, once); attempts are
 * limited per client address; and only a request from this host or one carrying the one-time bootstrap token
 * (app.start()) gets as far as argon2.
 */
export async function bootstrap(
  ctx: Context,
  input: { email: string; name: string; password: string; organizationName: string; bootstrapToken?: string | null },
) {
  if (ctx.installation.installed) throw new BootstrapClosedError();
  if (await ctx.db.installation.findUnique({ where: { id: 1 }, select: { id: true } })) {
    ctx.installation.markInstalled();
    throw new BootstrapClosedError();
  }
  const c = ctx.config.rateLimits;
  const admitted = await ctx.limits.take('bootstrap:address', [ctx.request.clientAddress ?? 'unknown'], { limit: c.bootstrapPerAddress, windowMs: c.signInWindowMs });
  if (!admitted.allowed) {
    ctx.logger.info({ event: 'auth.bootstrap_rate_limited', requestId: ctx.request.requestId }, 'bootstrap refused: too many attempts');
    throw new RateLimitedError(retryAfterSeconds(admitted));
  }
  if (!ctx.request.fromLoopback && !ctx.installation.tokenMatches(input.bootstrapToken)) {
    ctx.logger.info({ event: 'auth.bootstrap_refused', clientAddress: ctx.request.clientAddress, requestId: ctx.request.requestId }, 'bootstrap refused: remote, without the bootstrap token');
    throw new BootstrapNotAllowedError();
  }
  const { user, organization } = await createAdministrator(ctx, input, { onlyIfFirst: true });
  ctx.installation.markInstalled();
  ctx.logger.info({ event: 'auth.bootstrap', userId: user.id, organizationId: organization.id }, 'installation bootstrapped');
  const session = await openSession(ctx, user.id);
  return { ...session, userId: user.id, organizationId: organization.id };
}

export async function changePassword(ctx: Context, input: { currentPassword: string; newPassword: string }) {
  const userId = ctx.policy.userId;
  if (!userId) throw new UnauthenticatedError('Only a signed-in user can change a password.');
  ctx.policy.assert('session:manage', { userId });
  const data = parseInput(z.object({ currentPassword: z.string().max(PASSWORD_MAX_LENGTH), newPassword: passwordSchema }), input);
  // A stolen session must not become a way to guess the password (each guess an argon2 verify): wrong current
  // passwords meet the sign-in lockout for the account (RATE_LIMIT_SIGNIN_PER_ACCOUNT, doubling), counted up
  // front like sign-ins and cleared by the right one.
  const c = ctx.config.rateLimits;
  const admitted = await ctx.limits.attempt('password-change', [userId], signInLockout(c, c.signInPerAccount));
  if (!admitted.allowed) {
    ctx.logger.info({ event: 'auth.password_change_rate_limited', requestId: ctx.request.requestId }, 'password change refused: too many wrong passwords');
    throw new RateLimitedError(retryAfterSeconds(admitted));
  }
  const user = await ctx.db.user.findUniqueOrThrow({ where: { id: userId } });
  if (!(await verifyPassword(user.passwordHash, data.currentPassword))) throw new InvalidCredentialsError();
  await ctx.limits.clear('password-change', [userId]);
  const passwordHash = await hashPassword(data.newPassword);
  const principal = ctx.policy.principal;
  const keepSession = principal.kind === 'user' ? principal.sessionId : '';
  // A new password ends every other session: whoever knew the old one is signed out.
  await principalsChanged(ctx, () =>
    ctx.db.$transaction([
      ctx.db.user.update({ where: { id: userId }, data: { passwordHash } }),
      ctx.db.session.updateMany({
        where: { userId, revokedAt: null, id: { not: keepSession } },
        data: { revokedAt: ctx.clock.now() },
      }),
    ]),
  );
  return true;
}
