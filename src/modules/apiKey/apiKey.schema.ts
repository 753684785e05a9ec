import { builder } from '../../graphql/builder.ts';
import { ValidationError } from '../../lib/errors.ts';
import { RoleEnum } from '../organization/organization.schema.ts';
import { createApiKey, revokeApiKey } from './apiKey.service.ts';
import type { ApiKey } from '../../generated/prisma-sqlite/client.ts';

export const ApiKeyNode = builder.prismaNode('ApiKey', {
  description: 'A machine credential for one organization and role, sent as the `x-api-key` header. The key itself is shown only once, at creation.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('ApiKey')] }),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'What the key is for.' }),
    role: t.expose('role', { type: RoleEnum, description: 'The role the key acts with inside its organization.' }),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to tell keys apart.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the key was created.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'When the key stops working; null for never.' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'When the key was last used (to the minute).' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true, description: 'When the key was revoked; null while usable.' }),
    createdBy: t.relation('createdBy', { nullable: true, description: 'Who created the key.' }),
    organization: t.relation('organization', { description: 'The organization the key acts in.' }),
  }),
});

builder.prismaObjectField('Organization', 'apiKeys', (t) =>
  t.relatedConnection('apiKeys', {
    description: 'The organization’s API keys, newest first. ADMIN only: anyone else gets a FORBIDDEN error, never an empty list.',
    authScopes: (org, _args, ctx) => ctx.policy.can('apiKey:read', { organizationId: org.id }),
    cursor: 'id',
    totalCount: true,
    query: (_args, ctx) => ({ where: ctx.policy.readable('ApiKey'), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
);

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  description: 'A new API key.',
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'Global id of the organization the key acts in.' }),
    name: t.string({ required: true, description: 'What the key is for, up to 200 characters.' }),
    role: t.field({ type: RoleEnum, required: true, description: 'The role the key acts with.' }),
    expiresAt: t.field({ type: 'DateTime', description: 'When the key stops working; omit for never.' }),
  }),
});
const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', {
  description: 'The key to revoke.',
  fields: (t) => ({ id: t.id({ required: true, description: 'Global id of the API key.' }) }),
});

const CreateApiKeyPayload = builder.objectRef<{ apiKey: ApiKey; key: string }>('CreateApiKeyPayload').implement({
  description: 'The new key. `key` is shown only here; store it now.',
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyNode, description: 'The key’s metadata.', resolve: (p) => p.apiKey }),
    key: t.exposeString('key', { description: 'The secret key, to send as the `x-api-key` header. Never shown again.' }),
  }),
});
const RevokeApiKeyPayload = builder.objectRef<{ apiKey: ApiKey }>('RevokeApiKeyPayload').implement({
  description: 'Result of revoking an API key.',
  fields: (t) => ({ apiKey: t.field({ type: ApiKeyNode, description: 'The revoked key.', resolve: (p) => p.apiKey }) }),
});

builder.mutationFields((t) => ({
  createApiKey: t.field({
    description: 'Creates an API key for an organization and role. ADMIN of the organization, signed in as a user.',
    authScopes: { can: 'apiKey:manage' },
    type: CreateApiKeyPayload,
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => createApiKey(ctx, { ...input, organizationId: String(input.organizationId) }),
  }),
  revokeApiKey: t.field({
    description: 'Revokes an API key at once. Revoking twice is harmless.',
    authScopes: { can: 'apiKey:manage' },
    type: RevokeApiKeyPayload,
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ apiKey: await revokeApiKey(ctx, { id: String(input.id) }) }),
  }),
}));

