import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.ts';
import { ErrorInterface } from '../../graphql/errors.ts';
import { AlreadyExistsError, ValidationError } from '../../lib/errors.ts';
import type { Invitation, Membership } from '../../generated/prisma-sqlite/client.ts';
import {
  acceptInvitation,
  acceptInvitationWithToken,
  declineInvitation,
  InvitationInvalidError,
  inviteMember,
  revokeInvitation,
  viewerInvitations,
} from './invitation.service.ts';
import { RoleEnum } from './organization.schema.ts';
import { Viewer } from '../auth/auth.schema.ts';

builder.objectType(InvitationInvalidError, {
  name: 'InvitationInvalidError',
  description:
    'The invitation cannot be used: unknown, not addressed to you, already used, declined, revoked or expired; or, used with a token without signing in, for an email that already has an account (sign in and accept it from viewer.invitations). One answer for all.',
  interfaces: [ErrorInterface],
});

const InvitationStateEnum = builder.enumType('InvitationState', {
  description: 'Where an invitation stands.',
  values: {
    PENDING: { description: 'Waiting for the invitee.' },
    ACCEPTED: { description: 'Accepted: the invitee is a member.' },
    DECLINED: { description: 'Turned down by the invitee.' },
    REVOKED: { description: 'Withdrawn by an ADMIN, or replaced by a newer invitation to the same email.' },
    EXPIRED: { description: 'Not accepted in time.' },
  } as const,
});

export const InvitationNode = builder.prismaNode('Invitation', {
  description: 'An invitation to join an organization with a role; the invitee becomes a member only by accepting it.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  // As a node, for the organization's ADMINs; the invitee reads theirs through viewer.invitations.
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('Invitation')] }),
  fields: (t) => ({
    email: t.exposeString('email', { description: 'Who is invited (lower-case).' }),
    role: t.expose('role', { type: RoleEnum, description: 'The role they get on accepting.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was sent.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'Until when it can be accepted.' }),
    state: t.field({
      type: InvitationStateEnum,
      description: 'Where it stands now.',
      resolve: (i, _args, ctx) =>
        i.acceptedAt ? 'ACCEPTED' : i.declinedAt ? 'DECLINED' : i.revokedAt ? 'REVOKED' : i.expiresAt <= ctx.clock.now() ? 'EXPIRED' : 'PENDING',
    }),
    organizationId: t.id({ description: 'Global id of the organization.', resolve: (i) => encodeGlobalID('Organization', i.organizationId) }),
    organizationName: t.string({
      description: 'Name of the organization, so the invitee knows who invites them.',
      select: { organization: { select: { name: true } } },
      resolve: (i) => (i as Invitation & { organization: { name: string } }).organization.name,
    }),
  }),
});

builder.prismaObjectField('Organization', 'invitations', (t) =>
  t.relatedConnection('invitations', {
    description: 'Invitations sent, newest first, in every state. ADMIN only: anyone else gets a FORBIDDEN error.',
    authScopes: (org, _args, ctx) => ctx.policy.can('member:manage', { organizationId: org.id }),
    cursor: 'id',
    totalCount: true,
    query: (_args, ctx) => ({ where: ctx.policy.readable('Invitation'), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
);

builder.objectField(Viewer, 'invitations', (t) =>
  t.prismaField({
    type: ['Invitation'],
    description: 'Pending invitations addressed to the signed-in user’s email, newest first (at most 100); empty for API keys.',
    resolve: (query, _v, _args, ctx) => viewerInvitations(ctx, query),
  }),
);

const InviteMemberInput = builder.inputType('InviteMemberInput', {
  description: 'Who to invite, and with which role.',
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'Global id of the organization.' }),
    email: t.string({ required: true, description: 'The person’s email address.' }),
    role: t.field({ type: RoleEnum, required: true, description: 'Their role once they accept.' }),
  }),
});
const InvitationRefInput = (name: string, description: string) =>
  builder.inputType(name, { description, fields: (t) => ({ invitationId: t.id({ required: true, description: 'Global id of the invitation.' }) }) });
const AcceptInvitationInput = builder.inputType('AcceptInvitationInput', {
  description: 'The invitation to accept, signed in as its invitee: by id (from viewer.invitations) or by its token.',
  fields: (t) => ({
    invitationId: t.id({ description: 'Global id of the invitation.' }),
    token: t.string({ description: 'The invitation’s token, instead of its id.' }),
  }),
});
const AcceptInvitationWithTokenInput = builder.inputType('AcceptInvitationWithTokenInput', {
  description: 'A new account from an invitation token: the invitee’s name and password.',
  fields: (t) => ({
    token: t.string({ required: true, description: 'The token the inviting ADMIN passed on.' }),
    name: t.string({ required: true, description: 'Display name, up to 200 characters.' }),
    password: t.string({ required: true, description: 'Password (12 to 256 characters).' }),
  }),
});

const InviteMemberPayload = builder.objectRef<{ invitation: Invitation; token: string }>('InviteMemberPayload').implement({
  description: 'The invitation and its one-time token. The same answer whether or not the email has an account.',
  fields: (t) => ({
    invitation: t.field({ type: InvitationNode, description: 'The invitation.', resolve: (p) => p.invitation }),
    token: t.string({
      description:
        'Shown only here: pass it to the invitee. Someone without an account uses it with acceptInvitationWithToken; someone with an account signs in and accepts (viewer.invitations). It works once, until expiresAt.',
      resolve: (p) => p.token,
    }),
  }),
});
const InvitationPayload = (name: string, description: string) =>
  builder.objectRef<Invitation>(name).implement({
    description,
    fields: (t) => ({ invitation: t.field({ type: InvitationNode, description: 'The invitation after the change.', resolve: (i) => i }) }),
  });
const AcceptPayload = (name: string, description: string) =>
  builder.objectRef<Membership>(name).implement({
    description,
    fields: (t) => ({
      // Read with the selection, not through the node's loader: a new account's caller is not signed in yet.
      membership: t.prismaField({
        type: 'Membership',
        description: 'The new membership.',
        resolve: (query, m, _args, ctx) => ctx.db.membership.findUniqueOrThrow({ ...query, where: { id: m.id } }),
      }),
    }),
  });

builder.mutationFields((t) => ({
  inviteMember: t.field({
    description:
      'Invites someone by email to join with a role. Nobody is added until they accept; the answer does not depend on whether the email has an account. ADMIN only.',
    authScopes: { can: 'member:manage' },
    type: InviteMemberPayload,
    errors: { types: [ValidationError, AlreadyExistsError] },
    args: { input: t.arg({ type: InviteMemberInput, required: true }) },
    resolve: (_root, { input }, ctx) => inviteMember(ctx, { ...input, organizationId: String(input.organizationId) }),
  }),
  revokeInvitation: t.field({
    description: 'Withdraws a pending invitation; its token stops working. ADMIN only.',
    authScopes: { can: 'member:manage' },
    type: InvitationPayload('RevokeInvitationPayload', 'Result of revoking an invitation.'),
    errors: { types: [InvitationInvalidError] },
    args: { input: t.arg({ type: InvitationRefInput('RevokeInvitationInput', 'The invitation to withdraw.'), required: true }) },
    resolve: (_root, { input }, ctx) => revokeInvitation(ctx, { invitationId: String(input.invitationId) }),
  }),
  acceptInvitation: t.field({
    description: 'Accepts an invitation addressed to the signed-in user’s email: they become a member with its role.',
    authScopes: { can: 'invitation:respond' },
    type: AcceptPayload('AcceptInvitationPayload', 'Result of accepting an invitation.'),
    errors: { types: [InvitationInvalidError] },
    args: { input: t.arg({ type: AcceptInvitationInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      acceptInvitation(ctx, { invitationId: input.invitationId == null ? null : String(input.invitationId), token: input.token }),
  }),
  declineInvitation: t.field({
    description: 'Turns down an invitation addressed to the signed-in user’s email.',
    authScopes: { can: 'invitation:respond' },
    type: InvitationPayload('DeclineInvitationPayload', 'Result of declining an invitation.'),
    errors: { types: [InvitationInvalidError] },
    args: { input: t.arg({ type: InvitationRefInput('DeclineInvitationInput', 'The invitation to turn down.'), required: true }) },
    resolve: (_root, { input }, ctx) => declineInvitation(ctx, { invitationId: String(input.invitationId) }),
  }),
  acceptInvitationWithToken: t.field({
    description:
      'Creates the invitee’s account (name and password) and membership from an invitation token; then sign in. For an email that already has an account it answers InvitationInvalidError: sign in and use acceptInvitation.',
    authScopes: { public: true },
    type: AcceptPayload('AcceptInvitationWithTokenPayload', 'Result of accepting an invitation with a new account.'),
    errors: { types: [InvitationInvalidError, ValidationError] },
    args: { input: t.arg({ type: AcceptInvitationWithTokenInput, required: true }) },
    resolve: (_root, { input }, ctx) => acceptInvitationWithToken(ctx, input),
  }),
}));
