import { builder } from '../../graphql/builder.ts';
import { BootstrapClosedError, BootstrapNotAllowedError, InvalidCredentialsError, MfaRequired, PasswordSignInDisabledError, RateLimitedError, ValidationError } from '../../lib/errors.ts';
import { bootstrap, changePassword, signIn, signOut } from './auth.service.ts';

const ViewerKind = builder.enumType('ViewerKind', {
  description: 'What kind of credential the request was made with.',
  values: {
    USER: { description: 'A signed-in person (session token).' },
    API_KEY: { description: 'A machine (API key).' },
  } as const,
});

type ViewerShape = { kind: 'USER' | 'API_KEY'; userId: string | null; apiKeyId: string | null };

export const Viewer = builder.objectRef<ViewerShape>('Viewer').implement({
  description: 'Who is making the request.',
  fields: (t) => ({
    kind: t.field({ type: ViewerKind, description: 'Session or API key.', resolve: (v) => v.kind }),
    user: t.prismaField({
      type: 'User',
      nullable: true,
      description: 'The signed-in user; null for API keys.',
      resolve: (query, v, _args, ctx) => (v.userId ? ctx.db.user.findUnique({ ...query, where: { id: v.userId } }) : null),
    }),
    apiKey: t.prismaField({
      type: 'ApiKey',
      nullable: true,
      description: 'The API key in use; null for users.',
      resolve: (query, v, _args, ctx) => (v.apiKeyId ? ctx.db.apiKey.findUnique({ ...query, where: { id: v.apiKeyId } }) : null),
    }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    description: 'Who is making the request; null when no credential was sent.',
    authScopes: { public: true },
    type: Viewer,
    nullable: true,
    resolve: (_root, _args, ctx): ViewerShape | null => {
      const p = ctx.policy.principal;
      if (p.kind === 'user') return { kind: 'USER', userId: p.userId, apiKeyId: null };
      if (p.kind === 'apiKey') return { kind: 'API_KEY', userId: null, apiKeyId: p.apiKeyId };
      return null;
    },
  }),
}));

type SessionShape = { token: string; expiresAt: Date; userId: string };

const SignInInput = builder.inputType('SignInInput', {
  description: 'Email and password.',
  fields: (t) => ({
    email: t.string({ required: true, description: 'The account’s email address.' }),
    password: t.string({ required: true, description: 'The account’s password (at most 256 characters).' }),
  }),
});

const sessionFields = <T extends SessionShape>(name: string, description: string) =>
  builder.objectRef<T>(name).implement({
    description,
    fields: (t) => ({
      token: t.string({
        description: 'Opaque session token: send it as `Authorization: Bearer <token>`. Shown only here.',
        resolve: (s) => s.token,
      }),
      expiresAt: t.field({ type: 'DateTime', description: 'When the session ends.', resolve: (s) => s.expiresAt }),
      user: t.prismaField({
        type: 'User',
        description: 'The signed-in user.',
        resolve: (query, s, _args, ctx) => ctx.db.user.findUniqueOrThrow({ ...query, where: { id: s.userId } }),
      }),
    }),
  });

export const SignInPayload = sessionFields<SessionShape>('SignInPayload', 'A new session.');

const BootstrapInput = builder.inputType('BootstrapInput', {
  description: 'The first administrator and their organization.',
  fields: (t) => ({
    email: t.string({ required: true, description: 'The administrator’s email address.' }),
    name: t.string({ required: true, description: 'The administrator’s display name.' }),
    password: t.string({ required: true, description: 'Their password, 12 to 256 characters.' }),
    organizationName: t.string({ required: true, description: 'Name of the first organization.' }),
    bootstrapToken: t.string({
      description: 'The one-time token the server logged at start (needed unless the request comes from the server itself, on a loopback address).',
    }),
  }),
});

const BootstrapPayload = sessionFields<SessionShape & { organizationId: string }>(
  'BootstrapPayload',
  'The first administrator, signed in.',
);
builder.objectField(BootstrapPayload, 'organization', (t) =>
  t.prismaField({
    type: 'Organization',
    description: 'The first organization; the administrator is its ADMIN.',
    resolve: (query, s, _args, ctx) => ctx.db.organization.findUniqueOrThrow({ ...query, where: { id: s.organizationId } }),
  }),
);

const ChangePasswordInput = builder.inputType('ChangePasswordInput', {
  description: 'The current password and the new one.',
  fields: (t) => ({
    currentPassword: t.string({ required: true, description: 'The password in use now.' }),
    newPassword: t.string({ required: true, description: 'The new password, 12 to 256 characters.' }),
  }),
});
const ChangePasswordPayload = builder.objectRef<{ ok: true }>('ChangePasswordPayload').implement({
  description: 'The password was changed; every other session of the user was revoked.',
  fields: (t) => ({ ok: t.boolean({ description: 'Always true.', resolve: () => true }) }),
});

builder.mutationFields((t) => ({
  signIn: t.field({
    description:
      'Opens a session, or answers MfaRequired when the account has a second factor (then call completeSignIn). An unknown email, a wrong password and a disabled account all answer InvalidCredentialsError. Too many failures for an account from one address, for an account from any address, or too many attempts from one address answer RateLimitedError, without checking the password (README "Rate limits"). A member of an organization that switched passwords off (allowPasswordSignIn) gets PasswordSignInDisabledError after a right password (system administrators excepted, as the way back in).',
    authScopes: { public: true },
    type: SignInPayload,
    errors: { types: [InvalidCredentialsError, MfaRequired, PasswordSignInDisabledError, RateLimitedError, ValidationError] },
    args: { input: t.arg({ type: SignInInput, required: true }) },
    resolve: (_root, { input }, ctx) => signIn(ctx, input),
  }),
  signOut: t.boolean({
    description: 'Revokes the session this request was made with. True when done.',
    authScopes: { can: 'session:manage' },
    resolve: (_root, _args, ctx) => signOut(ctx),
  }),
  bootstrap: t.field({
    description:
      'Creates the first administrator (a system administrator) and the first organization, and signs them in. Works only while the installation has no users (else BootstrapClosedError, without any password work), from the server itself or with the one-time `bootstrapToken` (else BootstrapNotAllowedError), and a limited number of times per client address (RateLimitedError).',
    authScopes: { public: true },
    type: BootstrapPayload,
    errors: { types: [BootstrapClosedError, BootstrapNotAllowedError, RateLimitedError, ValidationError] },
    args: { input: t.arg({ type: BootstrapInput, required: true }) },
    resolve: (_root, { input }, ctx) => bootstrap(ctx, input),
  }),
  changePassword: t.field({
    description:
      'Changes the viewer’s password and revokes their other sessions. Wrong current passwords meet the same per-account lockout as sign-ins (RateLimitedError, without checking the password).',
    authScopes: { can: 'session:manage' },
    type: ChangePasswordPayload,
    errors: { types: [InvalidCredentialsError, RateLimitedError, ValidationError] },
    args: { input: t.arg({ type: ChangePasswordInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await changePassword(ctx, input);
      return { ok: true as const };
    },
  }),
}));

