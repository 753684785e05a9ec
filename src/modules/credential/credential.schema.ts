import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.ts';
import { ErrorInterface } from '../../graphql/errors.ts';
import { RateLimitedError, ValidationError, StepUpRequiredError, ConflictError } from '../../lib/errors.ts';
import { AuthMethodEnum } from '../auth/authMethod.ts';
import {
  CredentialHasOpenRequestsError,
  archiveCredential,
  createCredential,
  deleteCredential,
  restoreCredential,
  rotateCredential,
  updateCredential,
} from './credential.service.ts';
import { countByCategory, credentialKeysetOrder, credentialQueryWhere, type CredentialOrder } from './credential.query.ts';
import { keysetConnection } from '../../lib/keyset.ts';
import { queryFromInfo } from '@pothos/plugin-prisma';
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../../context.ts';
import {
  ACCESS_SURFACES,
  AccessRequestRequiredError,
  CredentialArchivedError,
  FieldNotAvailableError,
  REVEAL_FIELDS,
  SecretUnavailableError,
  recordCredentialAccess,
  revealCredential,
  type RevealResult,
} from './reveal.service.ts';
import { exportCredentials } from './export.service.ts';
import { releasedFields } from '../accessRequest/accessRequest.queries.ts';
import type { AccessRecord, Credential, Prisma } from '../../generated/prisma-sqlite/client.ts';

const CredentialKindEnum = builder.enumType('CredentialKind', {
  description: 'What kind of secret a credential holds.',
  values: {
    PASSWORD: { description: 'A password, optionally with a TOTP seed.' },
    API_KEY: { description: 'One or more API keys: client identifier, client secret, optional secret identifier.' },
    SSH_KEY: { description: 'An SSH private key, optionally with its passphrase.' },
  } as const,
});

const RevealFieldEnum = builder.enumType('RevealField', {
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

const CategoryMatchEnum = builder.enumType('CategoryMatch', {
  description: 'How categoryIds filter.',
  values: { ANY_OF: { description: 'In any of the categories.' }, NONE_OF: { description: 'In none of them (uncategorised included).' } } as const,
});
const CredentialOrderFieldEnum = builder.enumType('CredentialOrderField', {
  description: 'What to sort credentials by.',
  values: {
    NAME: { description: 'Name.' },
    CREATED_AT: { description: 'Creation time.' },
    UPDATED_AT: { description: 'Last change of any kind.' },
    PASSWORD_UPDATED_AT: { description: 'Last change of secret material.' },
  } as const,
});
const OrderDirectionEnum = builder.enumType('OrderDirection', {
  description: 'Sort direction.',
  values: { ASC: { description: 'Ascending.' }, DESC: { description: 'Descending.' } } as const,
});
const ExportFormatEnum = builder.enumType('ExportFormat', {
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

const CredentialFilterInput = builder.inputType('CredentialFilter', {
  description: 'Which credentials to list. All given conditions must match.',
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'Global id of the organization.' }),
    categoryIds: t.idList({ description: 'Categories to match (see categoryMatch).' }),
    categoryMatch: t.field({ type: CategoryMatchEnum, description: 'ANY_OF (default) or NONE_OF the categoryIds.' }),
    folderId: t.id({ description: 'Only credentials in this folder.' }),
    includeSubfolders: t.boolean({ description: 'With folderId: include every folder below it.' }),
    search: t.string({ description: 'Name, username, url or notes contains this (case-insensitive).' }),
    nameContains: t.string({ description: 'Name contains (case-insensitive).' }),
    usernameContains: t.string({ description: 'Username contains (case-insensitive).' }),
    urlContains: t.string({ description: 'URL contains (case-insensitive).' }),
    notesContains: t.string({ description: 'Notes contain (case-insensitive).' }),
    restricted: t.boolean({ description: 'Only restricted (true) or only ordinary (false).' }),
    kinds: t.field({ type: [CredentialKindEnum], description: 'Only these kinds.' }),
    archived: t.boolean({ description: 'True lists archived credentials instead of those in use.' }),
    staleDays: t.int({ description: 'Only credentials whose secret has not changed for this many days.' }),
  }),
});
const CredentialOrderInput = builder.inputType('CredentialOrder', {
  description: 'Sort order of a credential list.',
  fields: (t) => ({
    field: t.field({ type: CredentialOrderFieldEnum, required: true, description: 'What to sort by.' }),
    direction: t.field({ type: OrderDirectionEnum, required: true, description: 'Which way.' }),
  }),
});

const CategoryCount = builder.objectRef<{ categoryId: string | null; count: number }>('CategoryCount').implement({
  description: 'How many credentials (not archived) are in one category.',
  fields: (t) => ({
    category: t.prismaField({
      type: 'Category',
      nullable: true,
      description: 'The category; null for uncategorised credentials.',
      resolve: (query, g, _args, ctx) => (g.categoryId ? ctx.db.category.findUnique({ ...query, where: { id: g.categoryId } }) : null),
    }),
    count: t.exposeInt('count', { description: 'Number of credentials.' }),
  }),
});

type Counted = { totalCount: () => Promise<number> };

/**
 * One keyset page of credentials (lib/keyset.ts). The nodes are read with the selection the query asks for below
 * edges.node, in the page's one findMany; totalCount is counted only when asked.
 */
async function credentialPage(
  ctx: Context,
  info: GraphQLResolveInfo,
  args: { first?: number | null; last?: number | null; after?: string | null; before?: string | null },
  where: Prisma.CredentialWhereInput,
  orderBy: CredentialOrder | null | undefined,
) {
  const selection = queryFromInfo({ context: ctx, info, path: ['edges', 'node'], typeName: 'Credential' });
  const page = await keysetConnection(args, credentialKeysetOrder(orderBy), (p) =>
    ctx.db.credential.findMany({ ...(selection as object), where: { AND: [where, p.where as Prisma.CredentialWhereInput] }, orderBy: p.orderBy, take: p.take }),
  );
  let counted: Promise<number> | null = null;
  return { ...page, totalCount: () => (counted ??= ctx.db.credential.count({ where })) };
}

builder.queryFields((t) => ({
  credentials: t.connection(
    {
      description:
        'Credentials of one organization, filtered and sorted (name by default). Archived ones only when asked. Cursors are positions (sort value and id), so paging continues correctly when a listed credential is renamed or deleted; a cursor of another order, or malformed, is refused with BAD_USER_INPUT.',
      authScopes: { can: 'credential:read' },
      type: CredentialNode,
      args: {
        filter: t.arg({ type: CredentialFilterInput, required: true, description: 'Which credentials.' }),
        orderBy: t.arg({ type: CredentialOrderInput, description: 'Sort order (default: name ascending).' }),
      },
      resolve: async (_root, args, ctx, info) => {
        const where = await credentialQueryWhere(ctx, { ...args.filter, organizationId: String(args.filter.organizationId) });
        return credentialPage(ctx, info, args, where, args.orderBy);
      },
    },
    { description: 'A page of credentials.', fields: (c) => ({ totalCount: c.int({ description: 'How many credentials match, on every page.', resolve: (p) => (p as unknown as Counted).totalCount() }) }) },
    { description: 'One credential in a page, with its cursor.' },
  ),
  staleCredentials: t.connection(
    {
      description: 'The stale-password report: credentials whose secret has not changed for `days` days (default 90), oldest first. Cursors are positions, as for credentials.',
      authScopes: { can: 'credential:read' },
      type: CredentialNode,
      args: {
        organizationId: t.arg.id({ required: true, description: 'Global id of the organization.' }),
        days: t.arg.int({ description: 'Age in days (default 90).' }),
      },
      resolve: async (_root, args, ctx, info) => {
        const where = await credentialQueryWhere(ctx, { organizationId: String(args.organizationId), staleDays: args.days ?? 90 });
        return credentialPage(ctx, info, args, where, { field: 'PASSWORD_UPDATED_AT', direction: 'ASC' });
      },
    },
    { description: 'A page of stale credentials.', fields: (c) => ({ totalCount: c.int({ description: 'How many credentials are stale, on every page.', resolve: (p) => (p as unknown as Counted).totalCount() }) }) },
    { description: 'One stale credential in a page, with its cursor.' },
  ),
  credentialCountsByCategory: t.field({
    description: 'How many credentials (not archived) each category holds.',
    authScopes: { can: 'credential:read' },
    type: [CategoryCount],
    args: { organizationId: t.arg.id({ required: true, description: 'Global id of the organization.' }) },
    resolve: (_root, args, ctx) => countByCategory(ctx, String(args.organizationId)),
  }),
}));

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

// ---- mutations ----

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

const ApiKeySecretInput = builder.inputType('ApiKeySecretInput', {
  description: 'One API key of an API_KEY credential.',
  fields: (t) => ({
    clientIdentifier: t.string({ required: true, description: 'The client id.' }),
    clientSecret: t.string({ required: true, description: 'The client secret (stored encrypted).' }),
    secretIdentifier: t.string({ description: 'The secret’s own identifier, if any.' }),
  }),
});
const AutofillSelectorInput = builder.inputType('AutofillSelectorInput', {
  description: 'An autofill hint.',
  fields: (t) => ({
    field: t.string({ required: true, description: 'What to fill.' }),
    selector: t.string({ required: true, description: 'CSS selector of the input.' }),
  }),
});
export const PasswordGeneratorInput = builder.inputType('PasswordGeneratorInput', {
  description: 'Options for a generated password (cryptographically random).',
  fields: (t) => ({
    length: t.int({ description: '8 to 256 characters (default 24).' }),
    symbols: t.boolean({ description: 'Include symbols (default true).' }),
    digits: t.boolean({ description: 'Include digits (default true).' }),
    uppercase: t.boolean({ description: 'Include upper-case letters (default true).' }),
    lowercase: t.boolean({ description: 'Include lower-case letters (default true).' }),
    excludeAmbiguous: t.boolean({ description: 'Leave out look-alikes such as l, 1, O and 0 (default false).' }),
  }),
});
const SecretInputType = builder.inputType('SecretInput', {
  description: 'Secret material; which parts apply depends on the credential’s kind.',
  fields: (t) => ({
    password: t.string({ description: 'PASSWORD: the password.' }),
    otpSecret: t.string({ description: 'PASSWORD: a TOTP seed in base32, or an otpauth:// URI.' }),
    apiKeys: t.field({ type: [ApiKeySecretInput], description: 'API_KEY: the keys (replaces the whole set).' }),
    privateKey: t.string({ description: 'SSH_KEY: the private key (OpenSSH or PEM).' }),
    passphrase: t.string({ description: 'SSH_KEY: the key’s passphrase.' }),
  }),
});

const CreateCredentialInput = builder.inputType('CreateCredentialInput', {
  description: 'A new credential with its first version of secret material.',
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'Global id of the organization.' }),
    kind: t.field({ type: CredentialKindEnum, required: true, description: 'What it holds.' }),
    name: t.string({ required: true, description: 'Name, up to 255 characters.' }),
    username: t.string({ description: 'User name.' }),
    url: t.string({ description: 'URL or host.' }),
    notes: t.string({ description: 'Notes as HTML; scripts and event handlers are refused, other markup sanitised.' }),
    categoryId: t.id({ description: 'Category (same organization).' }),
    folderId: t.id({ description: 'Folder (same organization).' }),
    restricted: t.boolean({ description: 'Reveal only through access requests (default false).' }),
    resourceType: t.string({ description: 'Type of the resource it is embedded in.' }),
    resourceId: t.string({ description: 'Id of that resource.' }),
    autofillSelectors: t.field({ type: [AutofillSelectorInput], description: 'Autofill hints.' }),
    password: t.string({ description: 'PASSWORD: the password (or use generate).' }),
    otpSecret: t.string({ description: 'PASSWORD: a TOTP seed in base32, or an otpauth:// URI.' }),
    apiKeys: t.field({ type: [ApiKeySecretInput], description: 'API_KEY: one or more keys.' }),
    privateKey: t.string({ description: 'SSH_KEY: the private key.' }),
    passphrase: t.string({ description: 'SSH_KEY: its passphrase.' }),
    generate: t.field({ type: PasswordGeneratorInput, description: 'PASSWORD: generate the password instead of giving one.' }),
  }),
});
const UpdateCredentialInput = builder.inputType('UpdateCredentialInput', {
  description: 'Metadata changes; omitted fields stay, null clears. Secret material changes through rotateCredential.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the credential.' }),
    name: t.string({ description: 'New name.' }),
    username: t.string({ description: 'New user name.' }),
    url: t.string({ description: 'New URL.' }),
    notes: t.string({ description: 'New notes (HTML).' }),
    categoryId: t.id({ description: 'New category; null for none.' }),
    folderId: t.id({ description: 'New folder; null for the top level.' }),
    restricted: t.boolean({ description: 'Restricted or not.' }),
    resourceType: t.string({ description: 'Embedding resource type.' }),
    resourceId: t.string({ description: 'Embedding resource id.' }),
    autofillSelectors: t.field({ type: [AutofillSelectorInput], description: 'Autofill hints (replaces all).' }),
  }),
});
const RotateCredentialInput = builder.inputType('RotateCredentialInput', {
  description: 'New secret material (or a generated password) stored as the next version.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the credential.' }),
    newSecret: t.field({ type: SecretInputType, description: 'The parts that change; the rest carries forward.' }),
    generate: t.field({ type: PasswordGeneratorInput, description: 'PASSWORD: generate a new password.' }),
    reason: t.string({ required: true, description: 'Why it is rotated (kept with the version).' }),
  }),
});
const CredentialIdInput = (name: string, description: string) =>
  builder.inputType(name, { description, fields: (t) => ({ id: t.id({ required: true, description: 'Global id of the credential.' }) }) });
const RevealCredentialInput = builder.inputType('RevealCredentialInput', {
  description: 'Which secret to reveal. Every reveal is recorded.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the credential.' }),
    field: t.field({ type: RevealFieldEnum, required: true, description: 'Which secret.' }),
    version: t.int({ description: 'An earlier version (default: current).' }),
    keyId: t.id({ description: 'API_KEY_SECRET: which key (needed when there are several).' }),
    purpose: t.string({ description: 'Why, for the record (up to 500 characters).' }),
  }),
});
const RecordCredentialAccessInput = builder.inputType('RecordCredentialAccessInput', {
  description: 'A client-side access to report (copy, autofill, PDF export, print).',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the credential.' }),
    surface: t.field({ type: AccessSurfaceEnum, required: true, description: 'How the secret was used (not REVEAL or EXPORT: the server records those).' }),
    field: t.field({ type: RevealFieldEnum, description: 'Which secret (default PASSWORD).' }),
    version: t.int({ description: 'Which version (default current).' }),
  }),
});
const ExportCredentialsInput = builder.inputType('ExportCredentialsInput', {
  description: 'What to export.',
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'Global id of the organization.' }),
    filter: t.field({ type: CredentialFilterInput, description: 'Which credentials (its organizationId must match).' }),
    format: t.field({ type: ExportFormatEnum, required: true, description: 'CSV or JSON.' }),
    includeSecrets: t.boolean({ required: true, description: 'Include secrets (ADMIN only; each one recorded as an EXPORT access).' }),
  }),
});

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
