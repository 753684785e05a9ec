import { createHash } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { AppDeps, Context } from '../../context.ts';
import type { AccessSession } from '../../generated/prisma-sqlite/client.ts';
import { DecryptionError } from '../../lib/crypto/envelope.ts';
import { DomainError, ForbiddenError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { hashToken, newToken } from '../../lib/tokens.ts';
import { anonymousPolicy } from '../../policy/policy.ts';
import { appendAudit, type AuditEntry } from '../audit/audit.chain.ts';
import { InvalidRequestStateError } from '../accessRequest/accessRequest.errors.ts';
import { loadVisibleRequest, snapshotOfRow, stateAt, viewerCan } from '../accessRequest/accessRequest.queries.ts';
import { openSecret } from '../credential/secrets.ts';
import { readRecording } from './recording.ts';

/** How long a startSession token may wait for its connection. */
export const SESSION_TOKEN_TTL_MS = 5 * 60_000;

/** The request does not grant a session (it is a field release). */
export class NotASessionRequestError extends DomainError {
  override name = 'NotASessionRequestError';
  constructor() {
    super('This request releases fields; sessions need a request made under a SESSION policy.');
  }
}

/** The credential's asset cannot be reached safely: no asset any more, or no pinned host key. */
export class AssetNotReadyError extends DomainError {
  override name = 'AssetNotReadyError';
  constructor(message = 'The credential is not an account of an asset with a pinned host key; ask an administrator to pin it.') {
    super(message);
  }
}

/** The recording is missing chunks or a chunk failed authentication: nothing of it is returned. */
export class RecordingUnavailableError extends DomainError {
  override name = 'RecordingUnavailableError';
  constructor() {
    super('The recording cannot be read: it is incomplete, or it was altered.');
  }
}

/** Audits outside a GraphQL request (the proxy): the session's user acts, and followers of the chain are told. */
export async function auditForSession(deps: AppDeps, actorUserId: string | null, entry: AuditEntry): Promise<void> {
  await deps.db.$transaction((tx) => appendAudit(tx, { policy: anonymousPolicy(), clock: deps.clock, actor: { userId: actorUserId, apiKeyId: null } }, entry));
  deps.events.publish({ topic: 'audit.appended', organizationId: entry.organizationId });
}

/**
 * A short-lived, single-use token with which the requester opens one SSH session through the proxy, while their
 * SESSION request is Available. Only its hash is stored; the token is the SSH user name.
 */
export async function startSession(ctx: Context, input: { requestId: string }) {
  const userId = ctx.policy.userId;
  const token = newToken('vgt');
  const session = await ctx.db.$transaction(async (tx) => {
    const r = await loadVisibleRequest(ctx, tx, input.requestId);
    if (!userId || r.requesterId !== userId) throw new ForbiddenError();
    if (r.requestType !== 'SESSION') throw new NotASessionRequestError();
    const now = ctx.clock.now();
    const state = stateAt(r, now);
    if (state !== 'AVAILABLE') throw new InvalidRequestStateError(state, 'A session can start only while the request is available.');
    const credential = r.credentialId ? await tx.credential.findUnique({ where: { id: r.credentialId }, include: { asset: true } }) : null;
    if (!credential?.asset?.hostKeyFingerprint) throw new AssetNotReadyError();
    const created = await tx.accessSession.create({
      data: {
        organizationId: r.organizationId,
        requestId: r.id,
        userId,
        assetId: credential.asset.id,
        credentialId: credential.id,
        tokenHash: hashToken(token),
        tokenExpiresAt: new Date(now.getTime() + SESSION_TOKEN_TTL_MS),
        createdAt: now,
      },
    });
    await appendAudit(tx, ctx, { organizationId: r.organizationId, action: 'session.token_issued', targetType: 'AccessSession', targetId: created.id, data: { requestId: r.id, assetId: credential.asset.id, credentialId: credential.id, expiresAt: created.tokenExpiresAt.toISOString() } });
    return created;
  });
  return { token, session };
}

export type ClaimedSession = {
  session: AccessSession;
  asset: { id: string; name: string; host: string; port: number; hostKeyFingerprint: string };
  username: string;
  /** The request's policy (as snapshotted when requested) lets the session forward ports (ssh -L). */
  allowPortForwarding: boolean;
};

/** Why the proxy refuses a token (audited as `session.refused`, never told in more detail than "refused"). */
export type ClaimRefusal = 'UNKNOWN_TOKEN' | 'TOKEN_USED_OR_EXPIRED' | 'REQUEST_NOT_AVAILABLE' | 'USER_DISABLED' | 'ASSET_NOT_READY';

/**
 * Uses a token, once: the conditional update lets exactly one connection claim it. Then the request must still be
 * Available, its user enabled and its asset pinned. The token's shape is checked before any database work.
 */
export async function claimSessionToken(deps: AppDeps, token: string, clientAddress: string | null): Promise<{ ok: true; claimed: ClaimedSession } | { ok: false; reason: ClaimRefusal; session: AccessSession | null }> {
  if (!/^vgt_[A-Za-z0-9_-]{43}$/.test(token)) return { ok: false, reason: 'UNKNOWN_TOKEN', session: null };
  const tokenHash = hashToken(token);
  const now = deps.clock.now();
  const { count } = await deps.db.accessSession.updateMany({
    where: { tokenHash, tokenUsedAt: null, state: 'ISSUED', tokenExpiresAt: { gt: now } },
    data: { tokenUsedAt: now, state: 'ACTIVE', startedAt: now, clientAddress },
  });
  const session = await deps.db.accessSession.findUnique({ where: { tokenHash } });
  if (!session) return { ok: false, reason: 'UNKNOWN_TOKEN', session: null };
  if (count === 0) return { ok: false, reason: 'TOKEN_USED_OR_EXPIRED', session };
  const refusal = await sessionEndReason(deps, session);
  if (refusal) {
    await deps.db.accessSession.update({ where: { id: session.id }, data: { state: 'ENDED', endedAt: now, endReason: refusal } });
    return { ok: false, reason: refusal === 'USER_DISABLED' ? 'USER_DISABLED' : 'REQUEST_NOT_AVAILABLE', session };
  }
  const credential = session.credentialId ? await deps.db.credential.findUnique({ where: { id: session.credentialId }, include: { asset: true } }) : null;
  const asset = credential?.asset;
  if (!credential?.username || !asset?.hostKeyFingerprint || asset.id !== session.assetId) {
    await deps.db.accessSession.update({ where: { id: session.id }, data: { state: 'ENDED', endedAt: now, endReason: 'ASSET_NOT_READY' } });
    return { ok: false, reason: 'ASSET_NOT_READY', session };
  }
  const request = await deps.db.accessRequest.findUnique({ where: { id: session.requestId } });
  const allowPortForwarding = request ? snapshotOfRow(request).allowPortForwarding === true : false;
  return { ok: true, claimed: { session, username: credential.username, allowPortForwarding, asset: { id: asset.id, name: asset.name, host: asset.host, port: asset.port, hostKeyFingerprint: asset.hostKeyFingerprint } } };
}

/**
 * Why a running session must end now, or null: its request is no longer Available (window over, revoked, checked
 * in — by the clock, whether or not the scheduler has written it), its user is disabled or left the organization,
 * or someone terminated it. Each proxy session asks this about every 250 ms and on every request event.
 */
export async function sessionEndReason(deps: AppDeps, session: Pick<AccessSession, 'id' | 'requestId' | 'userId' | 'organizationId'>): Promise<string | null> {
  const row = await deps.db.accessSession.findUnique({
    where: { id: session.id },
    select: { endReason: true, request: true },
  });
  if (!row) return 'TERMINATED';
  if (row.endReason === 'TERMINATED') return 'TERMINATED';
  const now = deps.clock.now();
  const state = stateAt(row.request, now);
  if (state !== 'AVAILABLE') return state === 'EXPIRED' ? 'WINDOW_ENDED' : 'REQUEST_ENDED';
  const user = await deps.db.user.findUnique({ where: { id: session.userId }, select: { disabledAt: true, memberships: { where: { organizationId: session.organizationId }, select: { id: true } } } });
  if (!user || user.disabledAt || user.memberships.length === 0) return 'USER_DISABLED';
  return null;
}

/** The vaulted secret the proxy signs in to the target with. Decrypted here, used only by the proxy, never sent on. */
export async function targetSecret(deps: AppDeps, session: AccessSession): Promise<{ password?: string; privateKey?: string; passphrase?: string }> {
  return deps.db.$transaction(async (tx) => {
    const credential = await tx.credential.findUniqueOrThrow({ where: { id: session.credentialId! } });
    const rows = await tx.secretValue.findMany({ where: { credentialId: credential.id, version: credential.currentVersion, field: { in: ['PASSWORD', 'SSH_PRIVATE_KEY', 'PASSPHRASE'] }, keyRef: '' } });
    const out: { password?: string; privateKey?: string; passphrase?: string } = {};
    for (const row of rows) {
      const value = await openSecret(tx, deps.keyring, credential.organizationId, row);
      if (row.field === 'PASSWORD') out.password = value;
      if (row.field === 'SSH_PRIVATE_KEY') out.privateKey = value;
      if (row.field === 'PASSPHRASE') out.passphrase = value;
    }
    return out;
  });
}

/** Records the end of a session: its reason, its recording's size and hash, and `session.ended` in the chain. */
export async function recordSessionEnd(
  deps: AppDeps,
  session: AccessSession,
  end: { reason: string; recording: { sha256: string; bytes: number; chunks: number; width: number; height: number; complete: boolean } | null; startedAudited: boolean },
): Promise<void> {
  const now = deps.clock.now();
  await deps.db.$transaction(async (tx) => {
    await tx.accessSession.update({
      where: { id: session.id },
      data: {
        state: 'ENDED',
        endedAt: now,
        // A termination recorded by terminateSession keeps its reason (and who did it).
        endReason: (await tx.accessSession.findUnique({ where: { id: session.id }, select: { endReason: true } }))?.endReason ?? end.reason,
        recordingSha256: end.recording?.sha256 ?? null,
        recordingBytes: end.recording?.bytes ?? 0,
        recordingChunks: end.recording?.chunks ?? 0,
        recordingWidth: end.recording?.width ?? null,
        recordingHeight: end.recording?.height ?? null,
      },
    });
    if (end.startedAudited) {
      await appendAudit(tx, { policy: anonymousPolicy(), clock: deps.clock, actor: { userId: session.userId, apiKeyId: null } }, {
        organizationId: session.organizationId,
        action: 'session.ended',
        targetType: 'AccessSession',
        targetId: session.id,
        data: { requestId: session.requestId, assetId: session.assetId, reason: end.reason, recordingSha256: end.recording?.sha256 ?? null, recordingBytes: end.recording?.bytes ?? 0, recordingComplete: end.recording?.complete ?? false },
      });
    }
  });
  deps.events.publish({ topic: 'audit.appended', organizationId: session.organizationId });
}

/** A session the viewer may see: one of a request they may see. */
async function loadVisibleSession(ctx: Context, globalId: string) {
  const session = await ctx.db.accessSession.findUnique({ where: { id: localId(globalId, 'AccessSession') } });
  if (!session) throw new ForbiddenError();
  await ctx.db.$transaction((tx) => loadVisibleRequest(ctx, tx, encodeGlobalID('AccessRequest', session.requestId)));
  return session;
}

/**
 * Ends a running session: whoever may revoke its request (its approvers, an ADMIN) — the same rule as revoking. The
 * proxy sees it within about a second and closes both connections.
 */
export async function terminateSession(ctx: Context, input: { id: string }) {
  const session = await loadVisibleSession(ctx, input.id);
  const updated = await ctx.db.$transaction(async (tx) => {
    const r = await loadVisibleRequest(ctx, tx, encodeGlobalID('AccessRequest', session.requestId));
    if (!viewerCan(ctx, r, { type: 'REVOKE' })) throw new ForbiddenError();
    if (session.state === 'ENDED') throw new InvalidRequestStateError(stateAt(r, ctx.clock.now()), 'The session has already ended.');
    const updated = await tx.accessSession.update({ where: { id: session.id }, data: { endReason: 'TERMINATED', terminatedById: ctx.policy.userId, ...(session.state === 'ISSUED' ? { state: 'ENDED', endedAt: ctx.clock.now() } : {}) } });
    await appendAudit(tx, ctx, { organizationId: session.organizationId, action: 'session.terminate', targetType: 'AccessSession', targetId: session.id, data: { requestId: session.requestId } });
    return updated;
  });
  // Never connected: no proxy will announce the end to its watchers (a running one does, once closed).
  if (session.state === 'ISSUED') ctx.events.publish({ topic: 'session.activity', sessionId: session.id, organizationId: session.organizationId, events: [], end: 'TERMINATED' });
  return updated;
}

/** The asciicast text of a finished session, checked against its recorded hash; reading it is audited. */
export async function readSessionRecording(ctx: Context, input: { id: string }) {
  const session = await ctx.db.accessSession.findUnique({ where: { id: localId(input.id, 'AccessSession') } });
  if (!session || !ctx.policy.can('accessSession:readRecording', { organizationId: session.organizationId })) throw new ForbiddenError();
  if (session.state !== 'ENDED' || !session.recordingSha256) throw new RecordingUnavailableError();
  return ctx.db.$transaction(async (tx) => {
    let text: string;
    try {
      text = await readRecording(ctx, tx, session.organizationId, session.id);
    } catch (error) {
      if (error instanceof DecryptionError) throw new RecordingUnavailableError();
      throw error;
    }
    const sha256 = createHash('sha256').update(text, 'utf8').digest('hex');
    if (sha256 !== session.recordingSha256) throw new RecordingUnavailableError();
    await appendAudit(tx, ctx, { organizationId: session.organizationId, action: 'session.recording_read', targetType: 'AccessSession', targetId: session.id, data: { requestId: session.requestId, recordingSha256: sha256 } });
    return { session, asciicast: text, sha256 };
  });
}
