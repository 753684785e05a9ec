import * as oidc from 'openid-client';
import { randomUUID } from 'node:crypto';
import { decodeGlobalID } from '@pothos/plugin-relay';
import type { Context } from '../../context.ts';
import type { TxClient } from '../../db/client.ts';
import type { OidcConfig } from '../../config.ts';
import type { Role } from '../../generated/prisma-sqlite/enums.ts';
import { InvalidSsoCodeError, RateLimitedError } from '../../lib/errors.ts';
import { retryAfterSeconds } from '../../lib/rateLimit.ts';
import { hashToken, looksLikeToken, newToken } from '../../lib/tokens.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { openSession, principalsChanged, startMfaChallenge } from './auth.service.ts';

/**
 * Single sign-on with OpenID Connect: authorization code flow with PKCE (S256), state and nonce, through
 * openid-client. The state, nonce and code verifier stay server-side (an OidcLogin row keyed by the state's hash),
 * so several instances behind a load balancer work and nothing needs signing into a cookie. The callback ends in a
 * one-time handoff code in the redirect's fragment (never sent to a server, never in a log or Referer); the
 * dashboard exchanges it with completeSsoSignIn for an ordinary session.
 */

/** The time a person may spend at the identity provider. */
const LOGIN_TTL_MS = 10 * 60_000;
/** The handoff code only has to survive one redirect and one request. */
const HANDOFF_TTL_MS = 60_000;
const RANK: Record<Role, number> = { AUDITOR: 1, MEMBER: 2, MANAGER: 3, ADMIN: 4 };

/** Why a single-sign-on attempt was refused: the `sso_error` the dashboard shows in words. */
export type SsoRefusal = 'not_configured' | 'expired' | 'provider_error' | 'email_not_verified' | 'domain_not_allowed' | 'user_disabled';

export class SsoRefused extends Error {
  constructor(readonly reason: SsoRefusal) {
    super(`single sign-on refused: ${reason}`);
  }
}

const discovered = new WeakMap<OidcConfig, Promise<oidc.Configuration>>();

/** The provider's metadata, read at the first use and kept; a failed read is tried again next time. */
function provider(c: OidcConfig): Promise<oidc.Configuration> {
  let found = discovered.get(c);
  if (!found) {
    const issuer = new URL(c.issuer);
    // Plain http only for a provider on this machine (development, tests); openid-client refuses it otherwise.
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
    found = oidc.discovery(issuer, c.clientId, undefined, oidc.ClientSecretBasic(c.clientSecret), {
      execute: issuer.protocol === 'http:' && loopback ? [oidc.allowInsecureRequests] : [],
      timeout: 10,
    });
    found.catch(() => discovered.delete(c));
    discovered.set(c, found);
  }
  return found;
}

const safeNext = (next: string | null | undefined) =>
  next && next.length <= 2000 && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : null;

/** GET /auth/oidc/start: a new attempt, and the provider's authorization URL to send the browser to. */
export async function startSso(ctx: Context, next: string | null): Promise<URL> {
  const c = ctx.config.oidc;
  if (!c) throw new SsoRefused('not_configured');
  const limits = ctx.config.rateLimits;
  const admitted = await ctx.limits.take('sso:address', [ctx.request.clientAddress ?? 'unknown'], { limit: limits.signInPerAddress, windowMs: limits.signInWindowMs });
  if (!admitted.allowed) throw new RateLimitedError(retryAfterSeconds(admitted));
  let config: oidc.Configuration;
  try {
    config = await provider(c);
  } catch (error) {
    ctx.logger.warn({ event: 'auth.sso_discovery_failed', reason: error instanceof Error ? error.message : 'unknown' }, 'single sign-on: the provider could not be read');
    throw new SsoRefused('provider_error');
  }
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const now = ctx.clock.now();
  await ctx.db.$transaction([
    ctx.db.oidcLogin.deleteMany({ where: { expiresAt: { lte: new Date(now.getTime() - LOGIN_TTL_MS) } } }),
    ctx.db.oidcLogin.create({
      data: { id: randomUUID(), stateHash: hashToken(state), nonce, codeVerifier, next: safeNext(next), expiresAt: new Date(now.getTime() + LOGIN_TTL_MS), createdAt: now },
    }),
  ]);
  return oidc.buildAuthorizationUrl(config, {
    redirect_uri: c.redirectUrl,
    scope: c.scopes,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
}

type Claims = Record<string, unknown> & { iss: string; sub: string };

/** The organization roles the claims grant, by organization id: the highest per organization. */
function grantedRoles(c: OidcConfig, claims: Claims): Map<string, Role> {
  const raw = claims[c.roleClaim];
  const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string').slice(0, 200);
  const granted = new Map<string, Role>();
  for (const value of values) {
    for (const grant of c.roleMap[value] ?? []) {
      const org = organizationId(grant.org);
      const had = granted.get(org);
      if (!had || RANK[grant.role] > RANK[had]) granted.set(org, grant.role);
    }
  }
  return granted;
}

/** OIDC_ROLE_MAP names organizations by id, as stored or as the API's global id. */
function organizationId(ref: string): string {
  try {
    const decoded = decodeGlobalID(ref);
    if (decoded.typename === 'Organization') return decoded.id;
  } catch {
    // not a global id
  }
  return ref;
}

/** Every organization OIDC_ROLE_MAP names: their memberships follow the provider; others are managed locally. */
const managedOrganizations = (c: OidcConfig) => [...new Set(Object.values(c.roleMap).flat().map((g) => organizationId(g.org)))];

/**
 * GET /auth/oidc/callback: checks the provider's answer (state, PKCE, ID token with nonce), provisions or finds
 * the user, sets their roles from the claims, and returns where to send the browser (the dashboard, with a
 * handoff code in the fragment). Refusals come back as SsoRefused.
 */
export async function finishSso(ctx: Context, callbackUrl: URL): Promise<{ handoff: string; next: string | null }> {
  const c = ctx.config.oidc;
  if (!c) throw new SsoRefused('not_configured');
  const state = callbackUrl.searchParams.get('state');
  if (!state || state.length > 200) throw new SsoRefused('expired');
  const now = ctx.clock.now();
  const login = await ctx.db.oidcLogin.findUnique({ where: { stateHash: hashToken(state) } });
  if (!login || login.usedAt || login.expiresAt <= now) throw new SsoRefused('expired');
  // Single use: a replayed callback URL finds the attempt used.
  const { count } = await ctx.db.oidcLogin.updateMany({ where: { id: login.id, usedAt: null }, data: { usedAt: now } });
  if (count !== 1) throw new SsoRefused('expired');

  let claims: Claims;
  try {
    const config = await provider(c);
    // The URL the provider redirected to, as registered (the request's own host may differ behind a proxy).
    const current = new URL(c.redirectUrl);
    current.search = callbackUrl.search;
    const tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: login.codeVerifier, expectedState: state, expectedNonce: login.nonce, idTokenExpected: true });
    claims = { ...(tokens.claims() as Claims) };
    if (typeof claims.email !== 'string' && config.serverMetadata().userinfo_endpoint) {
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      claims = { ...info, ...claims };
    }
  } catch (error) {
    // The library's reason (a provider error, a bad signature, a wrong nonce) goes to the log only.
    ctx.logger.info({ event: 'auth.sso_refused', reason: error instanceof Error ? error.message : 'unknown', requestId: ctx.request.requestId }, 'single sign-on refused by the token exchange');
    throw new SsoRefused('provider_error');
  }

  const refuse = async (reason: SsoRefusal, email: string | null): Promise<never> => {
    await ctx.db.$transaction((tx) =>
      appendAudit(tx, ctx, {
        organizationId: null,
        action: 'auth.sso_refused',
        targetType: null,
        targetId: null,
        data: { issuer: claims.iss, subject: claims.sub, email, reason, clientAddress: ctx.request.clientAddress },
      }),
    );
    throw new SsoRefused(reason);
  };
  const email = typeof claims.email === 'string' && claims.email.length <= 254 ? claims.email.trim().toLowerCase() : null;
  if (!email || claims.email_verified !== true) return refuse('email_not_verified', email);
  const domain = email.slice(email.lastIndexOf('@') + 1);
  if (c.allowedEmailDomains && !c.allowedEmailDomains.includes(domain)) return refuse('domain_not_allowed', email);

  const granted = grantedRoles(c, claims);
  const managed = managedOrganizations(c);
  const name = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 200) : email;
  const result = await principalsChanged(ctx, () =>
    ctx.db.$transaction(async (tx) => {
      const identity = await tx.externalIdentity.findUnique({ where: { issuer_subject: { issuer: claims.iss, subject: claims.sub } }, include: { user: true } });
      let user = identity?.user ?? (await tx.user.findUnique({ where: { email } }));
      const provisioned = !user;
      // Just in time: an account without a password (passwordHash empty never verifies); it signs in through SSO.
      user ??= await tx.user.create({ data: { email, name, passwordHash: '' } });
      if (identity) await tx.externalIdentity.update({ where: { id: identity.id }, data: { email, lastSignInAt: now } });
      else await tx.externalIdentity.create({ data: { issuer: claims.iss, subject: claims.sub, userId: user.id, email, createdAt: now, lastSignInAt: now } });
      if (user.disabledAt) return { user, provisioned, disabled: true, changes: [] };
      const changes = await syncMemberships(ctx, tx, user.id, managed, granted);
      await appendAudit(tx, ctx, {
        organizationId: null,
        action: 'auth.sso_sign_in',
        targetType: 'User',
        targetId: user.id,
        data: { issuer: claims.iss, subject: claims.sub, email, provisioned, roles: changes, clientAddress: ctx.request.clientAddress },
      });
      return { user, provisioned, disabled: false, changes };
    }),
  );
  if (result.disabled) return refuse('user_disabled', email);
  const handoff = newToken('vgo');
  await ctx.db.oidcLogin.update({ where: { id: login.id }, data: { handoffHash: hashToken(handoff), userId: result.user.id, handoffExpiresAt: new Date(now.getTime() + HANDOFF_TTL_MS) } });
  ctx.logger.info({ event: 'auth.sso_sign_in', userId: result.user.id, provisioned: result.provisioned, requestId: ctx.request.requestId }, 'single sign-on verified');
  return { handoff, next: login.next };
}

/**
 * Sets the user's memberships in the organizations OIDC_ROLE_MAP names to what the claims grant: added, changed,
 * or removed when no claim grants one any more. The last ADMIN of an organization is never demoted or removed this
 * way (the organization would be left without one); that is logged and audited as kept.
 */
async function syncMemberships(ctx: Context, tx: TxClient, userId: string, managed: string[], granted: Map<string, Role>) {
  if (managed.length === 0) return [];
  const existing = await tx.membership.findMany({ where: { userId, organizationId: { in: managed } } });
  const orgs = new Set((await tx.organization.findMany({ where: { id: { in: managed } }, select: { id: true } })).map((o) => o.id));
  const changes: { organizationId: string; from: Role | null; to: Role | null; kept?: true }[] = [];
  for (const organizationId of managed) {
    if (!orgs.has(organizationId)) {
      ctx.logger.warn({ event: 'auth.sso_unknown_organization', organizationId }, 'OIDC_ROLE_MAP names an organization that does not exist');
      continue;
    }
    const have = existing.find((m) => m.organizationId === organizationId);
    const want = granted.get(organizationId) ?? null;
    if (have?.role === want || (!have && !want)) continue;
    const audit = (action: string, targetId: string, data: Record<string, unknown>) =>
      appendAudit(tx, ctx, { organizationId, action, targetType: 'Membership', targetId, data: { userId, ...data, via: 'sso' } });
    if (!have) {
      const created = await tx.membership.create({ data: { organizationId, userId, role: want! } });
      await audit('member.add', created.id, { role: want });
      changes.push({ organizationId, from: null, to: want });
      continue;
    }
    if (have.role === 'ADMIN') {
      await tx.organization.update({ where: { id: organizationId }, data: { updatedAt: ctx.clock.now() } });
      const others = await tx.membership.count({ where: { organizationId, role: 'ADMIN', id: { not: have.id } } });
      if (others === 0) {
        ctx.logger.warn({ event: 'auth.sso_role_kept', userId, organizationId }, 'single sign-on: the last ADMIN keeps the role');
        changes.push({ organizationId, from: have.role, to: have.role, kept: true });
        continue;
      }
    }
    if (want) {
      await tx.membership.update({ where: { id: have.id }, data: { role: want } });
      await audit('member.role_change', have.id, { from: have.role, to: want });
    } else {
      await tx.membership.delete({ where: { id: have.id } });
      await audit('member.remove', have.id, { role: have.role });
    }
    changes.push({ organizationId, from: have.role, to: want });
  }
  return changes;
}

/**
 * The dashboard's exchange of the handoff code for a session (once, within 60 s). An account with second factors
 * of its own still proves one here: the answer is then MfaRequired, as after a password.
 */
export async function completeSsoSignIn(ctx: Context, input: { code: string }) {
  const code = input.code.trim();
  if (!looksLikeToken(code, 'vgo')) throw new InvalidSsoCodeError();
  const now = ctx.clock.now();
  const login = await ctx.db.oidcLogin.findUnique({ where: { handoffHash: hashToken(code) } });
  if (!login?.userId || login.handoffUsedAt || !login.handoffExpiresAt || login.handoffExpiresAt <= now) throw new InvalidSsoCodeError();
  const { count } = await ctx.db.oidcLogin.updateMany({ where: { id: login.id, handoffUsedAt: null }, data: { handoffUsedAt: now } });
  if (count !== 1) throw new InvalidSsoCodeError();
  const user = await ctx.db.user.findUnique({ where: { id: login.userId }, select: { id: true, disabledAt: true, mfaEnabled: true } });
  if (!user || user.disabledAt) throw new InvalidSsoCodeError();
  if (user.mfaEnabled) throw await startMfaChallenge(ctx, user.id);
  const session = await openSession(ctx, user.id, 'SSO');
  return { ...session, userId: user.id };
}

/** Whether single sign-on is configured (the dashboard shows its button). */
export const ssoEnabled = (ctx: Context) => ctx.config.oidc !== undefined;
