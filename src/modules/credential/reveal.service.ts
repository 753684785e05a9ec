import { assertStepUp } from '../auth/mfa.service.ts';
import type { Context } from '../../context.ts';
import type { AuthMethod } from '../../generated/prisma-sqlite/enums.ts';
import type { TxClient } from '../../db/client.ts';
import { DomainError, ValidationError } from '../../lib/errors.ts';
import { enforce } from '../../lib/rateLimit.ts';
import { totpCode, type OtpSecret } from '../../lib/totp.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { loadVisibleCredential } from './credential.service.ts';
import { openSecret } from './secrets.ts';
import type { AccessRecord, Credential } from '../../generated/prisma-sqlite/client.ts';
import { localId } from '../../lib/ids.ts';
import { DecryptionError } from '../../lib/crypto/envelope.ts';
import { releasingRequest } from '../accessRequest/accessRequest.queries.ts';
import { recordCredentialAccess as countCredentialAccess } from '../../lib/metrics.ts';
import type { ReleasableField } from '../accessPolicy/accessPolicy.service.ts';

/** What a client asks to see. OTP_CODE is the current TOTP code; OTP_SECRET the seed itself (ADMIN only). */
export const REVEAL_FIELDS = ['PASSWORD', 'OTP_CODE', 'OTP_SECRET', 'API_KEY_SECRET', 'SSH_PRIVATE_KEY', 'PASSPHRASE'] as const;
export type RevealField = (typeof REVEAL_FIELDS)[number];

/** Where a secret left the vault. REVEAL is the server's own reveal; the others are reported by clients or exports. */
export const ACCESS_SURFACES = ['REVEAL', 'COPY', 'EXPORT', 'EXPORT_PDF', 'AUTOFILL', 'PRINT'] as const;
export type AccessSurface = (typeof ACCESS_SURFACES)[number];

const STORED_FIELD: Record<RevealField, string> = {
  PASSWORD: 'PASSWORD',
  OTP_CODE: 'OTP_SECRET',
  OTP_SECRET: 'OTP_SECRET',
  API_KEY_SECRET: 'API_KEY_SECRET',
  SSH_PRIVATE_KEY: 'SSH_PRIVATE_KEY',
  PASSPHRASE: 'PASSPHRASE',
};

/** A restricted credential is released only through an access request that is Available for the viewer. */
export class AccessRequestRequiredError extends DomainError {
  override name = 'AccessRequestRequiredError';
  constructor(readonly credentialId: string) {
    super('This credential is restricted: request access, and reveal it while the request is available.');
  }
}

/**
 * The stored secret cannot be decrypted: it was altered or moved in the database, or the master key in use does
 * not wrap its data key. Nothing is revealed; the failure is audited and logged (without details that help an
 * attacker), and an administrator must investigate.
 */
export class SecretUnavailableError extends DomainError {
  override name = 'SecretUnavailableError';
  constructor() {
    super('This secret cannot be decrypted. It may have been tampered with; an administrator has been notified in the audit log.');
  }
}

/** Archived credentials keep their secrets but release none: restore the credential first (an audited change). */
export class CredentialArchivedError extends DomainError {
  override name = 'CredentialArchivedError';
  constructor() {
    super('This credential is archived: restore it before revealing or using its secret.');
  }
}

/** The credential has no such field (e.g. no OTP configured), or no such version or key. */
export class FieldNotAvailableError extends DomainError {
  override name = 'FieldNotAvailableError';
  constructor(message: string) {
    super(message);
  }
}

/** Which released field of an access request covers a reveal field; the OTP seed is never released. */
const RELEASED_AS: Record<RevealField, ReleasableField | null> = {
  PASSWORD: 'PASSWORD',
  OTP_CODE: 'OTP_CODE',
  OTP_SECRET: null,
  API_KEY_SECRET: 'API_KEY_SECRET',
  SSH_PRIVATE_KEY: 'SSH_PRIVATE_KEY',
  PASSPHRASE: 'PASSPHRASE',
};

/**
 * May the viewer take this field out of this credential? Organization role first (AUDITOR never); then, for a
 * restricted credential, an access request of the viewer's that releases the field and whose window is open
 * now — only for the current version. This is the one place that decides it.
 */
export async function assertMayReveal(ctx: Context, tx: TxClient, credential: Credential, field: RevealField, version: number): Promise<void> {
  ctx.policy.assert('credential:reveal', { organizationId: credential.organizationId });
  if (credential.archivedAt) throw new CredentialArchivedError();
  if (!credential.restricted) return;
  const released = RELEASED_AS[field];
  if (released === null) throw new FieldNotAvailableError('The OTP seed of a restricted credential is never released; reveal the current code.');
  const request = await releasingRequest(ctx, tx, credential, released);
  if (!request) {
    // Audited as a refusal in the credential's organization (its admins and auditors read it), after the operation.
    ctx.refusals.push({ organizationId: credential.organizationId, action: 'credential.reveal_refused', targetType: 'Credential', targetId: credential.id, data: { field, reason: 'no open access request' } });
    throw new AccessRequestRequiredError(credential.id);
  }
  if (version !== credential.currentVersion) throw new FieldNotAvailableError('An access request releases the current version only.');
  await assertStepUp(ctx, credential.organizationId, tx);
}

/**
 * Secrets leave the vault at a bounded pace: reveals, reported accesses and exports with secrets share one
 * budget per user or API key (RATE_LIMIT_REVEAL_PER_MINUTE). Counted per call — each alias of a document is one
 * — before anything is read, refused ones included, so probing is paced too. Throws RateLimitedError.
 */
export async function limitSecretAccess(ctx: Context): Promise<void> {
  const p = ctx.policy.principal;
  const who = p.kind === 'user' ? ['user', p.userId] : p.kind === 'apiKey' ? ['apiKey', p.apiKeyId] : null;
  if (!who) return;
  const decision = await ctx.limits.take('secret-access', who, { limit: ctx.config.rateLimits.revealPerMinute, windowMs: 60_000 });
  if (!decision.allowed) ctx.logger.info({ event: 'credential.rate_limited', requestId: ctx.request.requestId }, 'secret access refused: too many');
  enforce(decision);
}

type AccessRecordInput = { credential: Credential; field: string; version: number; surface: AccessSurface; purpose?: string | null };

/** Writes the access record and its audit entry; part of the caller's transaction (fail closed). */
export async function recordAccess(ctx: Context, tx: TxClient, a: AccessRecordInput) {
  const at = ctx.clock.now();
  const p = ctx.policy.principal;
  const data = {
    organizationId: a.credential.organizationId,
    credentialId: a.credential.id,
    credentialName: a.credential.name,
    field: a.field,
    version: a.version,
    surface: a.surface,
    actorUserId: p.kind === 'user' ? p.userId : null,
    actorApiKeyId: p.kind === 'apiKey' ? p.apiKeyId : null,
    purpose: a.purpose ?? null,
    clientAddress: ctx.request.clientAddress,
    userAgent: ctx.request.userAgent?.slice(0, 512) ?? null,
    requestId: ctx.request.requestId,
    authMethod: p.kind === 'apiKey' ? 'API_KEY' : p.kind === 'user' ? ((p.authMethod as AuthMethod | undefined) ?? 'PASSWORD') : null,
    stepUpVerified: p.kind === 'user' && p.factorVerifiedAt != null && at.getTime() - p.factorVerifiedAt <= ctx.config.stepUpMaxAgeMs,
    at,
  };
  // Only the generated id is read back: every other column is what was just written (reading and mapping the
  // whole row back cost CPU on every reveal; bench P3).
  const { id } = await tx.accessRecord.create({ data, select: { id: true } });
  const record: AccessRecord = { id, ...data, authMethod: data.authMethod as AuthMethod | null };
  countCredentialAccess(a.surface);
  // updateMany: nothing to read back (update would return, and map, the whole row).
  await tx.credential.updateMany({ where: { id: a.credential.id }, data: { lastAccessedAt: at } });
  await appendAudit(tx, ctx, {
    organizationId: a.credential.organizationId,
    action: `credential.${a.surface.toLowerCase()}`,
    targetType: 'Credential',
    targetId: a.credential.id,
    data: { field: a.field, version: a.version, surface: a.surface, accessRecordId: record.id, authMethod: record.authMethod, stepUpVerified: record.stepUpVerified },
  });
  return record;
}

export type RevealResult = {
  credential: Credential;
  field: RevealField;
  version: number;
  value: string | null;
  otp: { code: string; secondsRemaining: number } | null;
  accessRecordId: string;
};

/**
 * The audited reveal. In one transaction: authorize, decrypt, append the access record and audit entry. The
 * plaintext is returned only after that transaction commits; if the record cannot be written, nothing is
 * revealed.
 */
export async function revealCredential(
  ctx: Context,
  input: { id: string; field: RevealField; version?: number | null; keyId?: string | null; purpose?: string | null },
): Promise<RevealResult> {
  await limitSecretAccess(ctx);
  if (input.purpose && input.purpose.length > 500) throw ValidationError.field('input.purpose', 'must be at most 500 characters');
  const attempted: { credential?: Credential; version?: number } = {};
  try {
    return await revealInTransaction(ctx, input, attempted);
  } catch (error) {
    if (!(error instanceof DecryptionError) || !attempted.credential) throw error;
    // Authorised, but the ciphertext did not open: record that (its own transaction: the reveal's rolled back).
    const { credential, version } = attempted;
    ctx.logger.warn({ event: 'credential.decrypt_failed', credentialId: credential.id, field: input.field, version, requestId: ctx.request.requestId }, 'a stored secret failed to decrypt');
    await ctx.db.$transaction((tx) =>
      appendAudit(tx, ctx, {
        organizationId: credential.organizationId,
        action: 'credential.decrypt_failed',
        targetType: 'Credential',
        targetId: credential.id,
        data: { field: input.field, version: version ?? null },
      }),
    );
    throw new SecretUnavailableError();
  }
}

async function revealInTransaction(
  ctx: Context,
  input: { id: string; field: RevealField; version?: number | null; keyId?: string | null; purpose?: string | null },
  attempted: { credential?: Credential; version?: number },
): Promise<RevealResult> {
  return ctx.db.$transaction(async (tx) => {
    const credential = await loadVisibleCredential(ctx, tx, input.id);
    const version = input.version ?? credential.currentVersion;
    await assertMayReveal(ctx, tx, credential, input.field, version);
    if (input.field === 'OTP_SECRET') ctx.policy.assert('credential:revealOtpSecret', { organizationId: credential.organizationId });
    if (!Number.isInteger(version) || version < 1 || version > credential.currentVersion) {
      throw new FieldNotAvailableError(`Version ${version} does not exist; the current version is ${credential.currentVersion}.`);
    }
    const stored = STORED_FIELD[input.field];
    let keyRef = '';
    if (stored === 'API_KEY_SECRET') {
      const keys = await tx.secretValue.findMany({ where: { credentialId: credential.id, version, field: stored }, select: { keyRef: true } });
      if (input.keyId) {
        let wanted: string;
        try {
          wanted = localId(input.keyId, 'CredentialApiKey');
        } catch {
          throw new FieldNotAvailableError('No such key in this version of the credential.');
        }
        if (!keys.some((k) => k.keyRef === wanted)) throw new FieldNotAvailableError('No such key in this version of the credential.');
        keyRef = wanted;
      } else if (keys.length === 1) keyRef = keys[0].keyRef;
      else if (keys.length > 1) throw ValidationError.field('input.keyId', 'this credential holds several keys: say which one');
    }
    const row = await tx.secretValue.findUnique({
      where: { credentialId_version_field_keyRef: { credentialId: credential.id, version, field: stored, keyRef } },
    });
    if (!row) throw new FieldNotAvailableError(`This credential has no ${input.field.replaceAll('_', ' ').toLowerCase()} in version ${version}.`);
    attempted.credential = credential;
    attempted.version = version;
    const plaintext = await openSecret(tx, ctx.keyring, credential.organizationId, row);
    const record = await recordAccess(ctx, tx, { credential, field: input.field, version, surface: 'REVEAL', purpose: input.purpose });
    if (input.field === 'OTP_CODE') {
      const otp = totpCode(JSON.parse(plaintext) as OtpSecret, ctx.clock.now());
      return { credential, field: input.field, version, value: null, otp, accessRecordId: record.id };
    }
    const value = input.field === 'OTP_SECRET' ? (JSON.parse(plaintext) as OtpSecret).secretBase32 : plaintext;
    return { credential, field: input.field, version, value, otp: null, accessRecordId: record.id };
  });
}

/**
 * A client reports that a secret left the vault another way (copied to the clipboard, autofilled, printed).
 * Only someone who may reveal the credential can report; the record is audited like a reveal.
 */
export async function recordCredentialAccess(
  ctx: Context,
  input: { id: string; surface: AccessSurface; field?: RevealField | null; version?: number | null },
) {
  if (input.surface === 'REVEAL' || input.surface === 'EXPORT') {
    throw ValidationError.field('input.surface', 'reveals and exports are recorded by the server itself');
  }
  await limitSecretAccess(ctx);
  return ctx.db.$transaction(async (tx) => {
    const credential = await loadVisibleCredential(ctx, tx, input.id);
    const version = input.version ?? credential.currentVersion;
    await assertMayReveal(ctx, tx, credential, input.field ?? 'PASSWORD', version);
    if (version < 1 || version > credential.currentVersion) throw new FieldNotAvailableError(`Version ${version} does not exist.`);
    return recordAccess(ctx, tx, { credential, field: input.field ?? 'PASSWORD', version, surface: input.surface });
  });
}

