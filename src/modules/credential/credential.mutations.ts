// The credential part of the schema, 4 of 4: mutations and their payloads.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.ts';
import { RateLimitedError, ValidationError, StepUpRequiredError, ConflictError } from '../../lib/errors.ts';
import { CredentialHasOpenRequestsError, archiveCredential, createCredential, deleteCredential, restoreCredential, rotateCredential, updateCredential } from './credential.service.ts';
import { AccessRequestRequiredError, CredentialArchivedError, FieldNotAvailableError, SecretUnavailableError, recordCredentialAccess, revealCredential, type RevealResult } from './reveal.service.ts';
import { exportCredentials } from './export.service.ts';
import type { AccessRecord, Credential } from '../../generated/prisma-sqlite/client.ts';
import { AccessRecordRef, CredentialNode, ExportFormatEnum, RevealFieldEnum } from './credential.types.ts';
import { CreateCredentialInput, CredentialIdInput, ExportCredentialsInput, RecordCredentialAccessInput, RevealCredentialInput, RotateCredentialInput, UpdateCredentialInput } from './credential.inputs.ts';

const PasswordStrengthNote = 'zxcvbn score (0–4) of the password just set; null when no password changed.';

const CredentialPayload = (name: string, description: string, withStrength = false) =>
  builder.objectRef<{ credential: Credential; strength?: number | null }>(name).implement({
    description,
    fields: (t) => ({
      credential: t.field({ type: CredentialNode, description: 'The credential after the change.', resolve: (p) => p.credential }),
      ...(withStrength
        ? { passwordStrength: t.int({ nullable: true, description: PasswordStrengthNote, resolve: (p) => p.strength ?? null }) }
        : {}),
    }),
  });

const OtpCode = builder.objectRef<{ code: string; secondsRemaining: number }>('OtpCode').implement({
  description: 'A current TOTP code.',
  fields: (t) => ({
    code: t.exposeString('code', { description: 'The code.' }),
    secondsRemaining: t.exposeInt('secondsRemaining', { description: 'Seconds until it changes.' }),
  }),
});

const RevealCredentialPayload = builder.objectRef<RevealResult>('RevealCredentialPayload').implement({
  description: 'The revealed secret. Handle with care: do not log or cache it.',
  fields: (t) => ({
    field: t.field({ type: RevealFieldEnum, description: 'Which field.', resolve: (r) => r.field }),
    version: t.exposeInt('version', { description: 'Which version it came from.' }),
    value: t.exposeString('value', { nullable: true, description: 'The secret; null for OTP_CODE (see otp).' }),
    otp: t.field({ type: OtpCode, nullable: true, description: 'For OTP_CODE: the current code.', resolve: (r) => r.otp }),
    accessRecordId: t.id({ description: 'Global id of the access record written for this reveal.', resolve: (r) => encodeGlobalID('AccessRecord', r.accessRecordId) }),
    credential: t.field({ type: CredentialNode, description: 'The credential.', resolve: (r) => r.credential }),
  }),
});

const RecordCredentialAccessPayload = builder.objectRef<AccessRecord>('RecordCredentialAccessPayload').implement({
  description: 'The recorded access.',
  fields: (t) => ({ accessRecord: t.field({ type: AccessRecordRef, description: 'What was recorded.', resolve: (a) => a }) }),
});

const ExportCredentialsPayload = builder
  .objectRef<{ format: 'CSV' | 'JSON'; content: string; count: number; secretsExported: number }>('ExportCredentialsPayload')
  .implement({
    description: 'The export file’s content.',
    fields: (t) => ({
      format: t.field({ type: ExportFormatEnum, description: 'Its format.', resolve: (e) => e.format }),
      content: t.exposeString('content', { description: 'The file content (CSV or JSON text).' }),
      count: t.exposeInt('count', { description: 'Credentials exported.' }),
      secretsExported: t.exposeInt('secretsExported', { description: 'Credentials whose secrets were included (each recorded as an access).' }),
    }),
  });

const DeleteCredentialPayload = builder.objectRef<Credential>('DeleteCredentialPayload').implement({
  description: 'The credential is gone; its audit trail stays.',
  fields: (t) => ({
    deletedCredentialId: t.id({ description: 'Global id of the deleted credential.', resolve: (c) => encodeGlobalID('Credential', c.id) }),
  }),
});

builder.mutationFields((t) => ({
  createCredential: t.field({
    description: 'Stores a new credential; its secret is encrypted at rest. MEMBER and up (API keys of such roles too).',
    authScopes: { can: 'credential:write' },
    type: CredentialPayload('CreateCredentialPayload', 'The new credential.', true),
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: CreateCredentialInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const r = await createCredential(ctx, { ...input, organizationId: String(input.organizationId), categoryId: input.categoryId as string | null | undefined, folderId: input.folderId as string | null | undefined });
      return { credential: r.credential, strength: r.strength };
    },
  }),
  updateCredential: t.field({
    description: 'Edits a credential’s metadata.',
    authScopes: { can: 'credential:write' },
    type: CredentialPayload('UpdateCredentialPayload', 'The updated credential.'),
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: UpdateCredentialInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      credential: await updateCredential(ctx, { ...input, id: String(input.id), categoryId: input.categoryId as string | null | undefined, folderId: input.folderId as string | null | undefined }),
    }),
  }),
  rotateCredential: t.field({
    description: 'Stores new secret material (given or generated) as the next version, with a reason; earlier versions stay revealable.',
    authScopes: { can: 'credential:write' },
    type: CredentialPayload('RotateCredentialPayload', 'The rotated credential.', true),
    errors: { types: [ConflictError, ValidationError] },
    args: { input: t.arg({ type: RotateCredentialInput, required: true }) },
    resolve: (_root, { input }, ctx) => rotateCredential(ctx, { ...input, id: String(input.id) }),
  }),
  archiveCredential: t.field({
    description: 'Archives a credential: hidden from default lists, reversible.',
    authScopes: { can: 'credential:write' },
    type: CredentialPayload('ArchiveCredentialPayload', 'The archived credential.'),
    args: { input: t.arg({ type: CredentialIdInput('ArchiveCredentialInput', 'The credential to archive.'), required: true }) },
    resolve: async (_root, { input }, ctx) => ({ credential: await archiveCredential(ctx, String(input.id)) }),
  }),
  restoreCredential: t.field({
    description: 'Brings an archived credential back.',
    authScopes: { can: 'credential:write' },
    type: CredentialPayload('RestoreCredentialPayload', 'The restored credential.'),
    args: { input: t.arg({ type: CredentialIdInput('RestoreCredentialInput', 'The credential to restore.'), required: true }) },
    resolve: async (_root, { input }, ctx) => ({ credential: await restoreCredential(ctx, String(input.id)) }),
  }),
  deleteCredential: t.field({
    description: 'Deletes a credential and its secrets for good (ADMIN). The audit log and access records stay.',
    authScopes: { can: 'credential:delete' },
    type: DeleteCredentialPayload,
    errors: { types: [CredentialHasOpenRequestsError] },
    args: { input: t.arg({ type: CredentialIdInput('DeleteCredentialInput', 'The credential to delete.'), required: true }) },
    resolve: (_root, { input }, ctx) => deleteCredential(ctx, String(input.id)),
  }),
  revealCredential: t.field({
    description:
      'Reveals one secret field. Authorised, decrypted and recorded (access record + audit entry) in one transaction: if the record cannot be written, nothing is revealed. AUDITOR never reveals; restricted credentials need an available access request. Reveals, reported accesses and exports with secrets share a per-minute budget per user or API key (RateLimitedError).',
    authScopes: { can: 'credential:reveal' },
    type: RevealCredentialPayload,
    errors: { types: [AccessRequestRequiredError, CredentialArchivedError, FieldNotAvailableError, RateLimitedError, SecretUnavailableError, StepUpRequiredError, ValidationError] },
    args: { input: t.arg({ type: RevealCredentialInput, required: true }) },
    resolve: (_root, { input }, ctx) => revealCredential(ctx, { ...input, id: String(input.id), keyId: input.keyId == null ? null : String(input.keyId) }),
  }),
  recordCredentialAccess: t.field({
    description: 'Records a client-side use of a secret (copy to clipboard, autofill, PDF export, print). Counts against the same per-minute budget as revealCredential.',
    authScopes: { can: 'credential:reveal' },
    type: RecordCredentialAccessPayload,
    errors: { types: [AccessRequestRequiredError, CredentialArchivedError, FieldNotAvailableError, RateLimitedError, StepUpRequiredError, ValidationError] },
    args: { input: t.arg({ type: RecordCredentialAccessInput, required: true }) },
    resolve: (_root, { input }, ctx) => recordCredentialAccess(ctx, { ...input, id: String(input.id) }),
  }),
  exportCredentials: t.field({
    description: 'Exports credentials as CSV or JSON: metadata (ADMIN, MANAGER, AUDITOR) or with secrets (ADMIN; each recorded as an access; one call against the revealCredential budget).',
    authScopes: { can: 'credential:export' },
    type: ExportCredentialsPayload,
    errors: { types: [RateLimitedError, ValidationError] },
    args: { input: t.arg({ type: ExportCredentialsInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const { organizationId: _ignored, ...filter } = input.filter ?? { organizationId: input.organizationId };
      return exportCredentials(ctx, { organizationId: String(input.organizationId), filter, format: input.format, includeSecrets: input.includeSecrets });
    },
  }),
}));
