import type { AppDeps, Context } from '../../context.ts';
import { DomainError, ForbiddenError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { generatePassword, passwordStrength } from '../../lib/passwordGen.ts';
import { announceAppended, appendAudit } from '../audit/audit.chain.ts';
import { openSecret, sealSecret } from '../credential/secrets.ts';
import type { Asset, Credential } from '../../generated/prisma-sqlite/client.ts';
import type { TargetConfig, TargetConnector, TargetFailureReason, TargetResult } from './connector.ts';
import { postgresConnector } from './postgres.connector.ts';
import { sshConnector } from './ssh.connector.ts';

// Checking and changing a vaulted password on the system it opens (docs/targets.md). The rule: the new value is
// written as a pending version first and becomes current only after the target accepted it and a login with it
// passed; no database transaction is held across a network call.

export const TARGET_STATUSES = ['OK', 'DRIFT', 'CHANGE_DUE', 'CHANGE_FAILED'] as const;
export type TargetStatus = (typeof TARGET_STATUSES)[number];

/** How long a failed policy-driven change waits before the scheduler tries again. */
export const CHANGE_RETRY_MS = 5 * 60_000;

/** The credential names no target vaultgate can reach (no SSH asset with a pinned key, no postgresql:// URL). */
export class NoTargetError extends DomainError {
  override name = 'NoTargetError';
  constructor() {
    super('This credential has no target to check or change: link it to an SSH asset with a pinned host key, or give it a postgresql://host:port/database URL.');
  }
}

/** The target could not be reached, refused the account, or did not take the new password. Nothing was promoted. */
export class TargetOperationError extends DomainError {
  override name = 'TargetOperationError';
  constructor(readonly reason: TargetFailureReason | 'BUSY') {
    super(`The target did not complete the operation (${reason}); the current secret is unchanged.`);
  }
}

type CredentialWithAsset = Credential & { asset: Asset | null };

/** Where a credential's account lives: its SSH asset (pinned), or a postgresql:// URL with the username as role. */
export function targetOf(c: CredentialWithAsset): { config: TargetConfig; connector: TargetConnector } | null {
  if (c.kind !== 'PASSWORD' || !c.username) return null;
  if (c.asset && c.asset.protocol === 'SSH' && c.asset.hostKeyFingerprint) {
    return { config: { protocol: 'SSH', host: c.asset.host, port: c.asset.port, hostKeyFingerprint: c.asset.hostKeyFingerprint }, connector: sshConnector };
  }
  if (c.url && /^postgres(ql)?:\/\//i.test(c.url)) {
    let url: URL;
    try {
      url = new URL(c.url);
    } catch {
      return null;
    }
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!host) return null;
    return { config: { protocol: 'POSTGRES', host, port: url.port ? Number(url.port) : 5432, database }, connector: postgresConnector };
  }
  return null;
}

async function loadAuthorized(ctx: Context, globalId: string, action: 'credential:checkOnTarget' | 'credential:changeOnTarget'): Promise<CredentialWithAsset> {
  const credential = await ctx.db.credential.findFirst({ where: { id: localId(globalId, 'Credential'), AND: [ctx.policy.readable('Credential')] }, include: { asset: true } });
  if (!credential || !ctx.policy.can(action, { organizationId: credential.organizationId })) throw new ForbiddenError();
  return credential;
}

/** The PASSWORD of one version, decrypted in a short read transaction. */
async function passwordOf(deps: AppDeps, c: Credential, version: number): Promise<string | null> {
  return deps.db.$transaction(async (tx) => {
    const row = await tx.secretValue.findFirst({ where: { credentialId: c.id, version, field: 'PASSWORD', keyRef: '' } });
    return row ? openSecret(tx, deps.keyring, c.organizationId, row) : null;
  });
}

async function audit(ctx: Context, c: Credential, action: string, data: Record<string, unknown>, status: TargetStatus | null) {
  await ctx.db.$transaction(async (tx) => {
    if (status) await tx.credential.update({ where: { id: c.id }, data: { targetStatus: status, targetCheckedAt: ctx.clock.now() } });
    await appendAudit(tx, ctx, { organizationId: c.organizationId, action, targetType: 'Credential', targetId: c.id, data });
  });
  announceAppended(ctx);
}

/**
 * `checkCredential`: logs in to the target with the current password. Accepted → OK (`target.check_ok`); refused →
 * DRIFT (`target.drift`). An unreachable target or a host key mismatch changes no status and is audited as
 * `target.check_failed`. Returns the credential as it is now, or throws TargetOperationError for the latter.
 */
export async function checkCredential(ctx: Context, globalId: string): Promise<Credential> {
  const credential = await loadAuthorized(ctx, globalId, 'credential:checkOnTarget');
  const outcome = await verifyOnTarget(ctx, credential);
  if (outcome === 'NO_TARGET') throw new NoTargetError();
  if (outcome !== 'OK' && outcome !== 'DRIFT') throw new TargetOperationError(outcome);
  return ctx.db.credential.findUniqueOrThrow({ where: { id: credential.id } });
}

/** One check of the current secret on its target, audited (OK, DRIFT, or why it could not be checked). */
async function verifyOnTarget(ctx: Context, credential: CredentialWithAsset): Promise<'OK' | 'DRIFT' | 'NO_TARGET' | TargetFailureReason> {
  const target = targetOf(credential);
  if (!target) return 'NO_TARGET';
  const secret = await passwordOf(ctx, credential, credential.currentVersion);
  if (secret === null) return 'NO_TARGET';
  const result = await target.connector.verify(target.config, { username: credential.username! }, secret);
  const base = { protocol: target.config.protocol, version: credential.currentVersion };
  if (result.ok) {
    await audit(ctx, credential, 'target.check_ok', base, 'OK');
    return 'OK';
  }
  if (result.reason === 'AUTH_REJECTED') {
    await audit(ctx, credential, 'target.drift', base, 'DRIFT');
    return 'DRIFT';
  }
  await audit(ctx, credential, 'target.check_failed', { ...base, reason: result.reason }, null);
  return result.reason;
}

/** How often the scheduled drift check looks for credentials to check, per database (one app). */
const CHECK_RUN_EVERY_MS = 5 * 60_000;
const lastCheckRun = new WeakMap<object, number>();

/**
 * The scheduled drift check (TARGET_CHECK_INTERVAL_HOURS): credentials with a target that were not checked within
 * the interval are checked, a few per run, each claimed with a conditional update on targetCheckedAt so that one
 * instance does it. A change that is due or pending is left to runDueTargetChanges.
 */
export async function runScheduledTargetChecks(ctx: Context, intervalMs: number, limit = 10): Promise<number> {
  if (intervalMs <= 0) return 0;
  const now = ctx.clock.now();
  // The scheduler ticks every second; looking for stale credentials (a query over the table) is worth it a few
  // times an hour, not at every tick.
  const last = lastCheckRun.get(ctx.db);
  if (last !== undefined && now.getTime() - last < CHECK_RUN_EVERY_MS) return 0;
  lastCheckRun.set(ctx.db, now.getTime());
  const staleBefore = new Date(now.getTime() - intervalMs);
  const candidates = await ctx.db.credential.findMany({
    where: {
      kind: 'PASSWORD',
      username: { not: null },
      archivedAt: null,
      pendingVersion: null,
      OR: [{ targetStatus: null }, { targetStatus: { in: ['OK', 'DRIFT', 'CHANGE_FAILED'] } }],
      AND: [
        { OR: [{ targetCheckedAt: null }, { targetCheckedAt: { lt: staleBefore } }] },
        { OR: [{ asset: { is: { hostKeyFingerprint: { not: null } } } }, { url: { startsWith: 'postgres' } }] },
      ],
    },
    include: { asset: true },
    orderBy: [{ targetCheckedAt: 'asc' }, { id: 'asc' }],
    take: limit,
  });
  let checked = 0;
  for (const c of candidates) {
    if (!targetOf(c)) continue;
    const { count } = await ctx.db.credential.updateMany({ where: { id: c.id, targetCheckedAt: c.targetCheckedAt, pendingVersion: null }, data: { targetCheckedAt: now } });
    if (count !== 1) continue;
    await verifyOnTarget(ctx, c);
    checked++;
  }
  return checked;
}

/** `changeCredentialOnTarget`: authorizes, then changes the password on the target now (see changeOnTarget). */
export async function changeCredentialOnTarget(ctx: Context, globalId: string): Promise<Credential> {
  const credential = await loadAuthorized(ctx, globalId, 'credential:changeOnTarget');
  const result = await changeOnTarget(ctx, credential.id, 'changed on the target on request');
  if (!result.ok) throw result.reason === 'NO_TARGET' ? new NoTargetError() : new TargetOperationError(result.reason);
  return ctx.db.credential.findUniqueOrThrow({ where: { id: credential.id } });
}

type ChangeOutcome = { ok: true; version: number } | { ok: false; reason: TargetFailureReason | 'NO_TARGET' | 'BUSY' };

/**
 * Changes the password on the target to a generated one, without ever losing the working secret:
 * 1. a pending version left by an earlier, unconfirmed attempt is tried first: if it opens the target it is
 *    promoted (the target had taken it), else discarded;
 * 2. the new password is sealed as version current+1 and marked pending (`pendingVersion`) — committed before any
 *    network call, so a crash after the target took it still leaves it in the vault;
 * 3. the target changes it (logged in with the current password), then a login with the new one must pass;
 * 4. only then is the pending version promoted to current (`target.change_succeeded`). A refusal before the change
 *    was applied discards the pending version; a change whose verification failed keeps it pending and flagged
 *    (CHANGE_FAILED) for step 1 of the next attempt. Failures are audited as `target.change_failed`.
 * Callers have authorized; the scheduler calls this with its system context.
 */
export async function changeOnTarget(ctx: Context, credentialId: string, reason: string): Promise<ChangeOutcome> {
  let credential = await ctx.db.credential.findUnique({ where: { id: credentialId }, include: { asset: true } });
  if (!credential || credential.archivedAt) return { ok: false, reason: 'NO_TARGET' };
  const target = targetOf(credential);
  if (!target) return { ok: false, reason: 'NO_TARGET' };
  const account = { username: credential.username! };

  if (credential.pendingVersion !== null) {
    const stale = credential.pendingVersion;
    const pending = await passwordOf(ctx, credential, stale);
    const works = pending !== null && (await target.connector.verify(target.config, account, pending)).ok;
    if (works && (await promote(ctx, credential, stale, reason, pending, true))) return { ok: true, version: stale };
    await discard(ctx, credential, stale);
    credential = await ctx.db.credential.findUnique({ where: { id: credentialId }, include: { asset: true } });
    if (!credential) return { ok: false, reason: 'NO_TARGET' };
  }

  const current = credential.currentVersion;
  const oldSecret = await passwordOf(ctx, credential, current);
  if (oldSecret === null) return { ok: false, reason: 'NO_TARGET' };
  const newSecret = generatePassword({});
  const version = current + 1;
  const claimed = await ctx.db.$transaction(async (tx) => {
    const { count } = await tx.credential.updateMany({ where: { id: credential.id, currentVersion: current, pendingVersion: null }, data: { pendingVersion: version } });
    if (count !== 1) return false;
    const carried = await tx.secretValue.findMany({ where: { credentialId: credential.id, version: current, NOT: { field: 'PASSWORD' } } });
    const rows = [await sealSecret(tx, ctx.keyring, credential.organizationId, { credentialId: credential.id, version, field: 'PASSWORD', plaintext: newSecret })];
    for (const row of carried) {
      const plaintext = await openSecret(tx, ctx.keyring, credential.organizationId, row);
      rows.push(await sealSecret(tx, ctx.keyring, credential.organizationId, { credentialId: credential.id, version, field: row.field as 'OTP_SECRET', keyRef: row.keyRef, plaintext }));
    }
    await tx.secretValue.createMany({ data: rows });
    return true;
  });
  if (!claimed) return { ok: false, reason: 'BUSY' };

  const changed = await target.connector.change(target.config, account, oldSecret, newSecret);
  const base = { protocol: target.config.protocol, version, reason };
  if (!changed.ok && changed.reason === 'CHANGE_UNCONFIRMED') {
    await audit(ctx, credential, 'target.change_failed', { ...base, stage: 'change', failure: changed.reason, pendingKept: true }, 'CHANGE_FAILED');
    return { ok: false, reason: changed.reason };
  }
  if (!changed.ok) {
    await discard(ctx, credential, version);
    await audit(ctx, credential, 'target.change_failed', { ...base, stage: 'change', failure: changed.reason }, changed.reason === 'AUTH_REJECTED' ? 'DRIFT' : 'CHANGE_FAILED');
    return { ok: false, reason: changed.reason };
  }
  const verified: TargetResult = await target.connector.verify(target.config, account, newSecret);
  if (!verified.ok) {
    await audit(ctx, credential, 'target.change_failed', { ...base, stage: 'verify', failure: verified.reason, pendingKept: true }, 'CHANGE_FAILED');
    return { ok: false, reason: verified.reason };
  }
  if (!(await promote(ctx, credential, version, reason, newSecret, false))) return { ok: false, reason: 'BUSY' };
  return { ok: true, version };
}

async function promote(ctx: Context, c: Credential, version: number, reason: string, password: string, recovered: boolean): Promise<boolean> {
  const strength = passwordStrength(password, [c.name, c.username ?? ''].filter(Boolean)).score;
  const now = ctx.clock.now();
  const done = await ctx.db.$transaction(async (tx) => {
    const { count } = await tx.credential.updateMany({
      where: { id: c.id, pendingVersion: version, currentVersion: version - 1 },
      data: { currentVersion: version, pendingVersion: null, passwordUpdatedAt: now, passwordStrength: strength, targetStatus: 'OK', targetCheckedAt: now, updatedById: ctx.policy.userId },
    });
    if (count !== 1) return false;
    await tx.credentialVersion.create({ data: { credentialId: c.id, version, changedById: ctx.policy.userId, changedAt: now, reason } });
    await appendAudit(tx, ctx, { organizationId: c.organizationId, action: 'target.change_succeeded', targetType: 'Credential', targetId: c.id, data: { version, reason, recovered } });
    return true;
  });
  if (done) announceAppended(ctx);
  return done;
}

async function discard(ctx: Context, c: Credential, version: number) {
  await ctx.db.$transaction(async (tx) => {
    const { count } = await tx.credential.updateMany({ where: { id: c.id, pendingVersion: version }, data: { pendingVersion: null } });
    if (count === 1) await tx.secretValue.deleteMany({ where: { credentialId: c.id, version } });
  });
}

/**
 * The scheduler's part: changes flagged CHANGE_DUE by the access-request lifecycle (policies with
 * changeOnTargetAfterCheckIn) are attempted, each taken with a conditional update on targetCheckedAt so that one
 * instance does it; a failure stays CHANGE_DUE and is retried after CHANGE_RETRY_MS.
 */
export async function runDueTargetChanges(ctx: Context, limit = 20): Promise<number> {
  const now = ctx.clock.now();
  const retryBefore = new Date(now.getTime() - CHANGE_RETRY_MS);
  const due = await ctx.db.credential.findMany({
    where: { targetStatus: 'CHANGE_DUE', OR: [{ targetCheckedAt: null }, { targetCheckedAt: { lt: retryBefore } }] },
    select: { id: true, targetCheckedAt: true },
    take: limit,
  });
  let changed = 0;
  for (const d of due) {
    const { count } = await ctx.db.credential.updateMany({ where: { id: d.id, targetStatus: 'CHANGE_DUE', targetCheckedAt: d.targetCheckedAt }, data: { targetCheckedAt: now } });
    if (count !== 1) continue;
    const outcome = await changeOnTarget(ctx, d.id, 'changed on the target when an access request ended');
    if (outcome.ok) changed++;
    else if (outcome.reason === 'NO_TARGET') await ctx.db.credential.update({ where: { id: d.id }, data: { targetStatus: 'CHANGE_FAILED', targetCheckedAt: now } });
    else await ctx.db.credential.update({ where: { id: d.id }, data: { targetStatus: 'CHANGE_DUE', targetCheckedAt: now } });
  }
  return changed;
}
