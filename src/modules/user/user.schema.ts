import { builder } from '../../graphql/builder.ts';
import { disableUser, enableUser } from './user.service.ts';
import type { User } from '../../generated/prisma-sqlite/client.ts';

export const UserNode = builder.prismaNode('User', {
  description: 'A person who signs in. One user may belong to several organizations, with a role in each.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('User')] }),
  fields: (t) => ({
    email: t.exposeString('email', { description: 'Sign-in address, lower-cased.' }),
    name: t.exposeString('name', { description: 'Display name.' }),
    isSystemAdmin: t.exposeBoolean('isSystemAdmin', {
      description: 'System administrators create organizations and disable users; they have no implicit access inside organizations.',
    }),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true, description: 'When the user was disabled; null while active.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the user was created.' }),
    memberships: t.relation('memberships', {
      description: 'The user’s memberships in organizations the viewer may see.',
      query: (_args, ctx) => ({
        where: ctx.policy.readable('Membership'),
        orderBy: { createdAt: 'asc' },
      }),
    }),
  }),
});

const UserIdInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({ userId: t.id({ required: true, description: 'Global id of the user.' }) }),
  });

const UserPayload = (name: string, description: string) =>
  builder.objectRef<{ user: User }>(name).implement({
    description,
    fields: (t) => ({ user: t.field({ type: UserNode, description: 'The user after the change.', resolve: (p) => p.user }) }),
  });

const DisableUserInput = UserIdInput('DisableUserInput', 'Which user to disable.');
const EnableUserInput = UserIdInput('EnableUserInput', 'Which user to enable again.');
const DisableUserPayload = UserPayload('DisableUserPayload', 'Result of disabling a user.');
const EnableUserPayload = UserPayload('EnableUserPayload', 'Result of enabling a user.');

builder.mutationFields((t) => ({
  disableUser: t.field({
    description: 'Disables a user installation-wide and revokes all their sessions at once. System administrators only.',
    authScopes: { can: 'user:disable' },
    type: DisableUserPayload,
    args: { input: t.arg({ type: DisableUserInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ user: await disableUser(ctx, String(input.userId)) }),
  }),
  enableUser: t.field({
    description: 'Lets a disabled user sign in again (their old sessions stay revoked). System administrators only.',
    authScopes: { can: 'user:disable' },
    type: EnableUserPayload,
    args: { input: t.arg({ type: EnableUserInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ user: await enableUser(ctx, String(input.userId)) }),
  }),
}));
