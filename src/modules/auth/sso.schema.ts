import { builder } from '../../graphql/builder.ts';
import { InvalidSsoCodeError, MfaRequired, ValidationError } from '../../lib/errors.ts';
import { SignInPayload } from './auth.schema.ts';
import { completeSsoSignIn, ssoEnabled } from './sso.service.ts';

const CompleteSsoSignInInput = builder.inputType('CompleteSsoSignInInput', {
  description: 'The one-time code single sign-on handed to the dashboard.',
  fields: (t) => ({
    code: t.string({ required: true, description: 'The `sso` value of the fragment /auth/oidc/callback redirected to (`/signin#sso=<code>`).' }),
  }),
});

builder.queryFields((t) => ({
  ssoEnabled: t.boolean({
    description: 'Whether single sign-on (OIDC) is configured: then GET /auth/oidc/start?next=<path> begins it.',
    authScopes: { public: true },
    resolve: (_root, _args, ctx) => ssoEnabled(ctx),
  }),
}));

builder.mutationFields((t) => ({
  completeSsoSignIn: t.field({
    description:
      'Exchanges the one-time code from a single-sign-on redirect for a session (the code works once, for 60 seconds). An account with its own second factors answers MfaRequired, finished with completeSignIn.',
    authScopes: { public: true },
    type: SignInPayload,
    errors: { types: [InvalidSsoCodeError, MfaRequired, ValidationError] },
    args: { input: t.arg({ type: CompleteSsoSignInInput, required: true }) },
    resolve: (_root, { input }, ctx) => completeSsoSignIn(ctx, input),
  }),
}));
