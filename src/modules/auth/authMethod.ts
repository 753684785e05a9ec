import { builder } from '../../graphql/builder.ts';

/** Shared by sessions (SecondFactorStatus) and access records, so a module that records accesses need not load the MFA schema. */
export const AuthMethodEnum = builder.enumType('AuthMethod', {
  description: 'How a caller proved who they are.',
  values: {
    PASSWORD: { description: 'Password only.' },
    TOTP: { description: 'Password and an authenticator code.' },
    RECOVERY_CODE: { description: 'Password and a recovery code.' },
    PASSKEY: { description: 'A passkey (WebAuthn).' },
    SSO: { description: 'Single sign-on through an identity provider.' },
    API_KEY: { description: 'An API key (machines).' },
  } as const,
});
