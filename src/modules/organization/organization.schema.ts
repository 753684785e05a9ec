import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.ts';
import { LastAdminError, ValidationError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import '../user/user.schema.ts';
import {
  createOrganization,
  removeMember,
  updateMemberRole,
  updateOrganization,
} from './organization.service.ts';
import type { Membership, Organization } from '../../generated/prisma-sqlite/client.ts';

export const RoleEnum = builder.enumType('Role', {
  description: 'A member’s role in one organization.',
  values: {
    ADMIN: { description: 'Manages members, API keys and everything in the organization.' },
    MANAGER: { description: 'Manages credentials, folders, categories and access policies.' },
    MEMBER: { description: 'Uses the vault: reveals ordinary credentials, requests restricted ones.' },
    AUDITOR: { description: 'Reads metadata and the audit log; never reveals secrets.' },
  } as const,
});

const OrganizationStatusEnum = builder.enumType('OrganizationStatus', {
  description: 'Whether an organization is in active use.',
  values: {
    ACTIVE: { description: 'In use.' },
    INACTIVE: { description: 'Kept for reference; e.g. a former client.' },
  } as const,
});

export const OrganizationNode = builder.prismaNode('Organization', {
  description: 'A tenant: one client organization whose credentials are kept in the vault.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('Organization')] }),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Display name.' }),
    status: t.expose('status', { type: OrganizationStatusEnum, description: 'Whether the organization is in active use.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the organization was created.' }),
    viewerRole: t.field({
      type: RoleEnum,
      nullable: true,
      description: 'The viewer’s role here; for an API key, the key’s role.',
      resolve: (org, _args, ctx) => {
        const p = ctx.policy.principal;
        if (p.kind === 'apiKey') return p.organizationId === org.id ? p.role : null;
        if (p.kind === 'user') return p.memberships.get(org.id) ?? null;
        return null;
      },
    }),
    members: t.relatedConnection('memberships', {
      description: 'Members and their roles, oldest first.',
      cursor: 'id',
      totalCount: true,
      query: (_args, ctx) => ({ where: ctx.policy.readable('Membership'), orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
    }),
  }),
});

export const MembershipNode = builder.prismaNode('Membership', {
  description: 'A user’s membership in an organization, with their role there.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('Membership')] }),
  fields: (t) => ({
    role: t.expose('role', { type: RoleEnum, description: 'The role in this organization.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the user joined the organization.' }),
    user: t.relation('user', { description: 'The member.' }),
    organization: t.relation('organization', { description: 'The organization.' }),
  }),
});

builder.queryFields((t) => ({
  organizations: t.prismaConnection({
    description: 'The organizations the viewer belongs to (for an API key, its own), by name.',
    authScopes: { authenticated: true },
    type: 'Organization',
    cursor: 'id',
    totalCount: (_parent, _args, ctx) =>
      ctx.db.organization.count({ where: ctx.policy.readable('Organization') }),
    resolve: (query, _root, _args, ctx) =>
      ctx.db.organization.findMany({
        ...query,
        where: ctx.policy.readable('Organization'),
        orderBy: [{ name: 'asc' }, { id: 'asc' }],
      }),
  }),
  organization: t.prismaField({
    description: 'One organization by global id; null when it does not exist or the viewer is not in it.',
    authScopes: { authenticated: true },
    type: 'Organization',
    nullable: true,
    args: { id: t.arg.id({ required: true, description: 'Global id of the organization.' }) },
    resolve: (query, _root, args, ctx) => {
      let id: string;
      try {
        id = localId(String(args.id), 'Organization');
      } catch {
        return null;
      }
      return ctx.db.organization.findFirst({ ...query, where: { id, AND: [ctx.policy.readable('Organization')] } });
    },
  }),
}));

const CreateOrganizationInput = builder.inputType('CreateOrganizationInput', {
  description: 'A new organization.',
  fields: (t) => ({ name: t.string({ required: true, description: 'Display name, up to 200 characters.' }) }),
});
const UpdateOrganizationInput = builder.inputType('UpdateOrganizationInput', {
  description: 'Changes to an organization; omitted fields stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the organization.' }),
    name: t.string({ description: 'New display name.' }),
    status: t.field({ type: OrganizationStatusEnum, description: 'New status.' }),
  }),
});
const UpdateMemberRoleInput = builder.inputType('UpdateMemberRoleInput', {
  description: 'A membership and its new role.',
  fields: (t) => ({
    membershipId: t.id({ required: true, description: 'Global id of the membership.' }),
    role: t.field({ type: RoleEnum, required: true, description: 'The new role.' }),
  }),
});
const RemoveMemberInput = builder.inputType('RemoveMemberInput', {
  description: 'The membership to end.',
  fields: (t) => ({ membershipId: t.id({ required: true, description: 'Global id of the membership.' }) }),
});

const OrganizationPayload = (name: string, description: string) =>
  builder.objectRef<{ organization: Organization }>(name).implement({
    description,
    fields: (t) => ({
      organization: t.field({ type: OrganizationNode, description: 'The organization after the change.', resolve: (p) => p.organization }),
    }),
  });
const MembershipPayload = (name: string, description: string) =>
  builder.objectRef<{ membership: Membership }>(name).implement({
    description,
    fields: (t) => ({
      membership: t.field({ type: MembershipNode, description: 'The membership after the change.', resolve: (p) => p.membership }),
    }),
  });

const RemoveMemberPayload = builder.objectRef<{ membership: Membership }>('RemoveMemberPayload').implement({
  description: 'Result of removing a member.',
  fields: (t) => ({
    removedMembershipId: t.id({
      description: 'Global id of the membership that no longer exists.',
      resolve: (p) => encodeGlobalID('Membership', p.membership.id),
    }),
    organization: t.prismaField({
      type: 'Organization',
      description: 'The organization the member left.',
      resolve: (query, p, _args, ctx) => ctx.db.organization.findUniqueOrThrow({ ...query, where: { id: p.membership.organizationId } }),
    }),
  }),
});

builder.mutationFields((t) => ({
  createOrganization: t.field({
    description: 'Creates an organization; the creator becomes its ADMIN. System administrators only.',
    authScopes: { can: 'organization:create' },
    type: OrganizationPayload('CreateOrganizationPayload', 'Result of creating an organization.'),
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: CreateOrganizationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ organization: await createOrganization(ctx, input) }),
  }),
  updateOrganization: t.field({
    description: 'Renames an organization or changes its status. ADMIN of the organization.',
    authScopes: { can: 'organization:manage' },
    type: OrganizationPayload('UpdateOrganizationPayload', 'Result of updating an organization.'),
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: UpdateOrganizationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      organization: await updateOrganization(ctx, { ...input, id: String(input.id) }),
    }),
  }),
  updateMemberRole: t.field({
    description: 'Changes a member’s role. Refused when it would leave the organization without an ADMIN.',
    authScopes: { can: 'member:manage' },
    type: MembershipPayload('UpdateMemberRolePayload', 'Result of changing a member’s role.'),
    errors: { types: [ValidationError, LastAdminError] },
    args: { input: t.arg({ type: UpdateMemberRoleInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      membership: await updateMemberRole(ctx, { membershipId: String(input.membershipId), role: input.role }),
    }),
  }),
  removeMember: t.field({
    description: 'Removes a member from an organization; takes effect on their next request. Refused for the last ADMIN.',
    authScopes: { can: 'member:manage' },
    type: RemoveMemberPayload,
    errors: { types: [LastAdminError] },
    args: { input: t.arg({ type: RemoveMemberInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ membership: await removeMember(ctx, { membershipId: String(input.membershipId) }) }),
  }),
}));
