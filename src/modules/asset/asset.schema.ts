import { builder } from '../../graphql/builder.ts';
import { ErrorInterface } from '../../graphql/errors.ts';
import { AlreadyExistsError, ValidationError } from '../../lib/errors.ts';
import '../organization/organization.schema.ts';
import '../credential/credential.schema.ts';
import '../folder/folder.schema.ts';
import type { Asset, Credential } from '../../generated/prisma-sqlite/client.ts';
import { AssetUnreachableError, HostKeyAlreadyPinnedError, NotAnAccountError, createAsset, pinAssetHostKey, setCredentialAsset, updateAsset } from './asset.service.ts';

export const AssetProtocolEnum = builder.enumType('AssetProtocol', {
  description: 'How vaultgate reaches an asset.',
  values: { SSH: { description: 'SSH, through vaultgate’s recording proxy.' } } as const,
});

export const AssetNode = builder.prismaNode('Asset', {
  description: 'A host reached through vaultgate’s recording SSH proxy. Its accounts are the credentials linked to it.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('Asset')] }),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Display name, unique within the organization.' }),
    host: t.exposeString('host', { description: 'Host name or IP address the proxy connects to.' }),
    port: t.exposeInt('port', { description: 'TCP port of the SSH server (22 by default).' }),
    protocol: t.expose('protocol', { type: AssetProtocolEnum, description: 'The protocol: SSH.' }),
    hostKeyFingerprint: t.exposeString('hostKeyFingerprint', {
      nullable: true,
      description: 'The pinned host key, as OpenSSH prints it (`SHA256:…`). The proxy refuses a target presenting another key; null until pinned (sessions are refused until then).',
    }),
    hostKeyPinnedAt: t.expose('hostKeyPinnedAt', { type: 'DateTime', nullable: true, description: 'When the host key was pinned.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the asset was created.' }),
    folder: t.relation('folder', { nullable: true, description: 'The folder the asset is filed in, if any.' }),
    organization: t.relation('organization', { description: 'The organization the asset belongs to.' }),
    accounts: t.relation('credentials', {
      description: 'The asset’s accounts: PASSWORD or SSH_KEY credentials with a username linked to it, by name.',
      query: (_args, ctx) => ({ where: { archivedAt: null, AND: [ctx.policy.readable('Credential')] }, orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
    }),
  }),
});

builder.prismaObjectField('Credential', 'asset', (t) =>
  t.relation('asset', { nullable: true, description: 'The asset this credential is an account of, if any.' }),
);

builder.prismaObjectField('Organization', 'assets', (t) =>
  t.relatedConnection('assets', {
    description: 'The organization’s assets, by name.',
    authScopes: (org, _args, ctx) => ctx.policy.can('asset:read', { organizationId: org.id }),
    cursor: 'id',
    totalCount: true,
    query: (_args, ctx) => ({ where: ctx.policy.readable('Asset'), orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
  }),
);

builder.objectType(AssetUnreachableError, {
  name: 'AssetUnreachableError',
  description: 'The asset did not present an SSH host key (unreachable, refused, not SSH, or too slow). Nothing was pinned.',
  interfaces: [ErrorInterface],
});
builder.objectType(HostKeyAlreadyPinnedError, {
  name: 'HostKeyAlreadyPinnedError',
  description: 'The asset already has another pinned host key; pin again with `replace: true` once the change is known to be legitimate. Nothing changed.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    pinned: t.exposeString('pinned', { description: 'The fingerprint pinned now.' }),
    presented: t.exposeString('presented', { nullable: true, description: 'The fingerprint the host presents, or that was given.' }),
  }),
});
builder.objectType(NotAnAccountError, {
  name: 'NotAnAccountError',
  description: 'Only PASSWORD or SSH_KEY credentials with a username can be an asset’s accounts. Nothing changed.',
  interfaces: [ErrorInterface],
});

const CreateAssetInput = builder.inputType('CreateAssetInput', {
  description: 'A new asset.',
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'Global id of the organization.' }),
    name: t.string({ required: true, description: 'Display name, up to 200 characters; unique in the organization.' }),
    host: t.string({ required: true, description: 'Host name or IP address.' }),
    port: t.int({ description: 'SSH port; 22 when omitted.' }),
    folderId: t.id({ description: 'Global id of a folder of the organization to file it in.' }),
    hostKeyFingerprint: t.string({ description: 'The host key to pin up front (`SHA256:…`, as `ssh-keygen -lf` prints it); else pin it later with pinAssetHostKey.' }),
  }),
});
const UpdateAssetInput = builder.inputType('UpdateAssetInput', {
  description: 'Changes to an asset; omitted fields stay. A new host or port unpins the host key.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the asset.' }),
    name: t.string({ description: 'New display name.' }),
    host: t.string({ description: 'New host name or IP address (unpins the host key).' }),
    port: t.int({ description: 'New SSH port (unpins the host key).' }),
    folderId: t.id({ description: 'Global id of the folder to move it to; null for none.' }),
  }),
});
const PinAssetHostKeyInput = builder.inputType('PinAssetHostKeyInput', {
  description: 'Which host key to pin.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the asset.' }),
    fingerprint: t.string({ description: 'The fingerprint to pin (`SHA256:…`). Omitted: vaultgate connects once and pins the key the host presents (trust on first use).' }),
    replace: t.boolean({ description: 'Replace a different key pinned before.' }),
  }),
});
const SetCredentialAssetInput = builder.inputType('SetCredentialAssetInput', {
  description: 'Which credential becomes an account of which asset.',
  fields: (t) => ({
    credentialId: t.id({ required: true, description: 'Global id of the credential (PASSWORD or SSH_KEY, with a username).' }),
    assetId: t.id({ description: 'Global id of an asset of the same organization; null to unlink.' }),
  }),
});

const AssetPayload = (name: string, description: string) =>
  builder.objectRef<{ asset: Asset }>(name).implement({
    description,
    fields: (t) => ({ asset: t.field({ type: AssetNode, description: 'The asset after the change.', resolve: (p) => p.asset }) }),
  });

const SetCredentialAssetPayload = builder.objectRef<{ credential: Credential }>('SetCredentialAssetPayload').implement({
  description: 'Result of linking a credential to an asset.',
  fields: (t) => ({
    credential: t.prismaField({
      type: 'Credential',
      description: 'The credential after the change.',
      resolve: (query, p, _args, ctx) => ctx.db.credential.findUniqueOrThrow({ ...query, where: { id: p.credential.id } }),
    }),
  }),
});

builder.mutationFields((t) => ({
  createAsset: t.field({
    description: 'Adds an asset (an SSH host) to an organization. ADMIN of the organization.',
    authScopes: { can: 'asset:manage' },
    type: AssetPayload('CreateAssetPayload', 'Result of creating an asset.'),
    errors: { types: [ValidationError, AlreadyExistsError] },
    args: { input: t.arg({ type: CreateAssetInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      asset: await createAsset(ctx, { ...input, organizationId: String(input.organizationId), folderId: input.folderId == null ? null : String(input.folderId) }),
    }),
  }),
  updateAsset: t.field({
    description: 'Renames, moves or re-addresses an asset. A new host or port unpins its host key. ADMIN of the organization.',
    authScopes: { can: 'asset:manage' },
    type: AssetPayload('UpdateAssetPayload', 'Result of changing an asset.'),
    errors: { types: [ValidationError, AlreadyExistsError] },
    args: { input: t.arg({ type: UpdateAssetInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      asset: await updateAsset(ctx, { ...input, id: String(input.id), folderId: input.folderId === undefined ? undefined : input.folderId === null ? null : String(input.folderId) }),
    }),
  }),
  pinAssetHostKey: t.field({
    description: 'Pins the host key the proxy will accept for an asset: the fingerprint given, or the key the host presents now (vaultgate connects once; trust on first use). Audited. ADMIN of the organization.',
    authScopes: { can: 'asset:manage' },
    type: AssetPayload('PinAssetHostKeyPayload', 'Result of pinning a host key.'),
    errors: { types: [ValidationError, AssetUnreachableError, HostKeyAlreadyPinnedError] },
    args: { input: t.arg({ type: PinAssetHostKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ asset: await pinAssetHostKey(ctx, { id: String(input.id), fingerprint: input.fingerprint, replace: input.replace }) }),
  }),
  setCredentialAsset: t.field({
    description: 'Makes a credential an account of an asset, or unlinks it (assetId null). ADMIN of the organization.',
    authScopes: { can: 'asset:manage' },
    type: SetCredentialAssetPayload,
    errors: { types: [NotAnAccountError] },
    args: { input: t.arg({ type: SetCredentialAssetInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      credential: await setCredentialAsset(ctx, { credentialId: String(input.credentialId), assetId: input.assetId == null ? null : String(input.assetId) }),
    }),
  }),
}));
