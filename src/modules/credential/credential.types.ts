// The credential part of the schema, 1 of 4: enums, object types (Credential, versions, access records) and the typed errors.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.ts';
import { ErrorInterface } from '../../graphql/errors.ts';
import { AuthMethodEnum } from '../auth/authMethod.ts';
import { CredentialHasOpenRequestsError } from './credential.service.ts';
import { ACCESS_SURFACES, AccessRequestRequiredError, CredentialArchivedError, FieldNotAvailableError, REVEAL_FIELDS, SecretUnavailableError } from './reveal.service.ts';
import { releasedFields } from '../accessRequest/accessRequest.queries.ts';

export const CredentialKindEnum = builder.enumType('CredentialKind', {
  description: 'What kind of secret a credential holds.',
  values: {
    PASSWORD: { description: 'A password, optionally with a TOTP seed.' },
    API_KEY: { description: 'One or more API keys: client identifier, client secret, optional secret identifier.' },
    SSH_KEY: { description: 'An SSH private key, optionally with its passphrase.' },
  } as const,
});

export const RevealFieldEnum = builder.enumType('RevealField', {
  description: 'Which secret of a credential to reveal.',
  values: {
    PASSWORD: { description: 'The password.' },
    OTP_CODE: { description: 'The current TOTP code and the seconds it stays valid (never the seed).' },
    OTP_SECRET: { description: 'The TOTP seed itself, in base32. ADMIN only.' },
    API_KEY_SECRET: { description: 'The client secret of one API key (say which with keyId when there are several).' },
    SSH_PRIVATE_KEY: { description: 'The SSH private key.' },
    PASSPHRASE: { description: 'The SSH key’s passphrase.' },
  } as const satisfies Record<(typeof REVEAL_FIELDS)[number], unknown>,
});

export const AccessSurfaceEnum = builder.enumType('AccessSurface', {
  description: 'How a secret left the vault.',
  values: {
    REVEAL: { description: 'Shown by revealCredential.' },
    COPY: { description: 'Copied to the clipboard (reported by the client).' },
    EXPORT: { description: 'Included in an export with secrets.' },
    EXPORT_PDF: { description: 'Exported to PDF (reported by the client).' },
    AUTOFILL: { description: 'Filled into a login form (reported by the client).' },
    PRINT: { description: 'Printed (reported by the client).' },
  } as const satisfies Record<(typeof ACCESS_SURFACES)[number], unknown>,
});

export const CategoryMatchEnum = builder.enumType('CategoryMatch', {
  description: 'How categoryIds filter.',
  values: { ANY_OF: { description: 'In any of the categories.' }, NONE_OF: { description: 'In none of them (uncategorised included).' } } as const,
});
export const CredentialOrderFieldEnum = builder.enumType('CredentialOrderField', {
  description: 'What to sort credentials by.',
  values: {
    NAME: { description: 'Name.' },
    CREATED_AT: { description: 'Creation time.' },
    UPDATED_AT: { description: 'Last change of any kind.' },
    PASSWORD_UPDATED_AT: { description: 'Last change of secret material.' },
  } as const,
});
export const OrderDirectionEnum = builder.enumType('OrderDirection', {
  description: 'Sort direction.',
  values: { ASC: { description: 'Ascending.' }, DESC: { description: 'Descending.' } } as const,
});
export const ExportFormatEnum = builder.enumType('ExportFormat', {
  description: 'File format of an export.',
  values: { CSV: { description: 'Comma-separated values (RFC 4180), one row per credential.' }, JSON: { description: 'A JSON array.' } } as const,
});

const AutofillSelector = builder.objectRef<{ field: string; selector: string }>('AutofillSelector').implement({
  description: 'Where a browser extension should fill a value on the credential’s site.',
  fields: (t) => ({
    field: t.exposeString('field', { description: 'What to fill, e.g. "username" or "password".' }),
    selector: t.exposeString('selector', { description: 'A CSS selector for the input.' }),
  }),
});

builder.prismaObject('CredentialApiKey', {
  description: 'One key of an API_KEY credential. The client secret is revealed separately (field API_KEY_SECRET, keyId).',
  fields: (t) => ({
    id: t.id({ description: 'Global id; pass it as keyId to reveal this key’s secret.', resolve: (k) => encodeGlobalID('CredentialApiKey', k.id) }),
    clientIdentifier: t.exposeString('clientIdentifier', { description: 'The client id (not secret).' }),
    secretIdentifier: t.exposeString('secretIdentifier', { nullable: true, description: 'The secret’s own identifier, when the provider has one.' }),
  }),
});

builder.prismaObject('CredentialVersion', {
  description: 'One version of a credential’s secret material: who changed it, when and why.',
  fields: (t) => ({
    version: t.exposeInt('version', { description: 'Version number, from 1.' }),
    changedAt: t.expose('changedAt', { type: 'DateTime', description: 'When this version was stored.' }),
    reason: t.exposeString('reason', { nullable: true, description: 'Why it was changed (rotation reason); null for the first version.' }),
    apiKeys: t.prismaField({
      type: ['CredentialApiKey'],
      description: 'For API_KEY credentials: the keys this version holds (without secrets); pass a key’s id with this version to reveal its secret.',
      select: { credentialId: true, version: true },
      resolve: (query, v, _args, ctx) =>
        ctx.db.credentialApiKey.findMany({
          ...query,
          where: { credentialId: v.credentialId, firstVersion: { lte: v.version }, OR: [{ retiredInVersion: null }, { retiredInVersion: { gt: v.version } }] },
          orderBy: { position: 'asc' },
        }),
    }),
    changedBy: t.prismaField({
      type: 'User',
      nullable: true,
      description: 'Who stored it; null for API keys and removed users.',
      select: { changedById: true },
      resolve: (query, v, _args, ctx) => (v.changedById ? ctx.db.user.findUnique({ ...query, where: { id: v.changedById } }) : null),
    }),
  }),
});

export const CredentialNode = builder.prismaNode('Credential', {
  description:
    'A credential kept in the vault. Everything here is metadata: secret material is never a field; it is released only by revealCredential, which is audited.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('Credential')] }),
  fields: (t) => ({
    kind: t.expose('kind', { type: CredentialKindEnum, description: 'What kind of secret it holds.' }),
    name: t.exposeString('name', { description: 'Name (IT Glue’s "description").' }),
    username: t.exposeString('username', { nullable: true, description: 'User name or account.' }),
    url: t.exposeString('url', { nullable: true, description: 'Where it is used.' }),
    notes: t.exposeString('notes', { nullable: true, description: 'Notes as sanitised HTML.' }),
    restricted: t.exposeBoolean('restricted', { description: 'Whether revealing needs an approved access request.' }),
    resourceType: t.exposeString('resourceType', { nullable: true, description: 'Type of the resource it is embedded in (e.g. "Configuration", "Document").' }),
    resourceId: t.exposeString('resourceId', { nullable: true, description: 'Id of that resource in its own system.' }),
    autofillSelectors: t.field({
      type: [AutofillSelector],
      description: 'Autofill hints for browser extensions.',
      select: { autofillSelectors: true },
      resolve: (c) => (c.autofillSelectors ? (JSON.parse(c.autofillSelectors) as { field: string; selector: string }[]) : []),
    }),
    publicKeyFingerprint: t.exposeString('publicKeyFingerprint', { nullable: true, description: 'For SSH keys: SHA256 fingerprint of the public key, computed on write.' }),
    passwordStrength: t.exposeInt('passwordStrength', { nullable: true, description: 'zxcvbn score (0 weakest … 4 strongest) of the current password.' }),
    currentVersion: t.exposeInt('currentVersion', { description: 'Number of the current version of the secret material.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'Last change of any kind.' }),
    passwordUpdatedAt: t.expose('passwordUpdatedAt', { type: 'DateTime', description: 'Last change of the secret material (staleness).' }),
    lastAccessedAt: t.expose('lastAccessedAt', { type: 'DateTime', nullable: true, description: 'Last reveal, copy or export.' }),
    archivedAt: t.expose('archivedAt', { type: 'DateTime', nullable: true, description: 'When it was archived; null while in use.' }),
    hasOtp: t.boolean({
      description: 'Whether a TOTP seed is stored (reveal OTP_CODE for the current code).',
      select: { currentVersion: true, secrets: { where: { field: 'OTP_SECRET' }, select: { version: true } } },
      resolve: (c) => c.secrets.some((s) => s.version === c.currentVersion),
    }),
    viewerCanReveal: t.boolean({
      description: 'Whether the viewer may reveal its current secret now: by role for ordinary credentials, through an available access request of theirs for restricted ones.',
      resolve: async (c, _args, ctx) => {
        if (!ctx.policy.can('credential:reveal', { organizationId: c.organizationId })) return false;
        return !c.restricted || ((await releasedFields(ctx)).get(c.id)?.size ?? 0) > 0;
      },
    }),
    category: t.relation('category', { nullable: true, description: 'Its category.' }),
    folder: t.relation('folder', { nullable: true, description: 'Its folder.' }),
    organization: t.relation('organization', { description: 'The organization it belongs to.' }),
    apiKeys: t.relation('apiKeys', {
      description: 'For API_KEY credentials: the keys of the current version (without secrets). Earlier versions list theirs under versions.apiKeys.',
      query: { where: { retiredInVersion: null }, orderBy: { position: 'asc' } },
    }),
    versions: t.relation('versions', { description: 'Every version of the secret material, newest first.', query: { orderBy: { version: 'desc' } } }),
    createdBy: t.relation('createdBy', { nullable: true, description: 'Who created it.' }),
    updatedBy: t.relation('updatedBy', { nullable: true, description: 'Who changed it last.' }),
  }),
});

export const AccessRecordRef = builder.prismaObject('AccessRecord', {
  description: 'One reveal, copy or export of a secret: who, what, when and from where. Never the secret.',
  fields: (t) => ({
    id: t.id({ description: 'Global id.', resolve: (a) => encodeGlobalID('AccessRecord', a.id) }),
    field: t.exposeString('field', { description: 'Which field left the vault (ALL for exports).' }),
    version: t.exposeInt('version', { description: 'Which version of the secret.' }),
    surface: t.field({ type: AccessSurfaceEnum, description: 'How.', resolve: (a) => a.surface as (typeof ACCESS_SURFACES)[number] }),
    at: t.expose('at', { type: 'DateTime', description: 'When.' }),
    purpose: t.exposeString('purpose', { nullable: true, description: 'The purpose the viewer gave.' }),
    clientAddress: t.exposeString('clientAddress', { nullable: true, description: 'The client’s network address.' }),
    userAgent: t.exposeString('userAgent', { nullable: true, description: 'The client’s user agent.' }),
    credentialName: t.exposeString('credentialName', { description: 'The credential’s name at the time.' }),
    authMethod: t.field({
      type: AuthMethodEnum,
      nullable: true,
      description: 'How the actor had authenticated (password, a second factor, an API key); null on records made before this was kept.',
      resolve: (a) => a.authMethod,
    }),
    stepUpVerified: t.exposeBoolean('stepUpVerified', { description: 'Whether the actor’s session had verified a second factor within the step-up age.' }),
  }),
});

builder.prismaObjectFields('Credential', (t) => ({
  // Refused, never emptied: an empty list would read as "never accessed" (see viewerCanSeeAccessRecords).
  accessRecords: t.relatedConnection('accesses', {
    description:
      'Who revealed, copied or exported this credential, newest first. ADMIN, MANAGER and AUDITOR (action accessRecord:read); anyone else gets a FORBIDDEN error, never an empty list. Check viewerCanSeeAccessRecords first.',
    authScopes: (c, _args, ctx) => ctx.policy.can('accessRecord:read', { organizationId: c.organizationId }),
    cursor: 'id',
    totalCount: true,
    query: () => ({ orderBy: [{ at: 'desc' }, { id: 'desc' }] }),
  }),
  viewerCanSeeAccessRecords: t.boolean({
    description: 'Whether the viewer may read accessRecords here (ADMIN, MANAGER, AUDITOR).',
    select: { organizationId: true },
    resolve: (c, _args, ctx) => ctx.policy.can('accessRecord:read', { organizationId: c.organizationId }),
  }),
}));

builder.objectType(AccessRequestRequiredError, {
  name: 'AccessRequestRequiredError',
  description: 'The credential is restricted: reveal it through an access request that is available to you.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    credentialId: t.id({ description: 'Global id of the credential to request.', resolve: (e) => encodeGlobalID('Credential', e.credentialId) }),
  }),
});
builder.objectType(CredentialHasOpenRequestsError, {
  name: 'CredentialHasOpenRequestsError',
  description: 'The credential has pending, approved or available access requests; it cannot be deleted now.',
  interfaces: [ErrorInterface],
});

builder.objectType(SecretUnavailableError, {
  name: 'SecretUnavailableError',
  description: 'The stored secret failed to decrypt (altered or moved in the database, or a master key that does not wrap its data key). Nothing was revealed; the failure is in the audit log.',
  interfaces: [ErrorInterface],
});

builder.objectType(CredentialArchivedError, {
  name: 'CredentialArchivedError',
  description: 'The credential is archived: its secrets are kept but not released. Restore it first (restoreCredential).',
  interfaces: [ErrorInterface],
});

builder.objectType(FieldNotAvailableError, {
  name: 'FieldNotAvailableError',
  description: 'The credential has no such field, version or key.',
  interfaces: [ErrorInterface],
});
