import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.ts';
import { ErrorInterface } from '../../graphql/errors.ts';
import {
  InvalidSecondFactorError,
  MfaRequired,
  RateLimitedError,
  StepUpRequiredError,
  ValidationError,
} from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { SignInPayload } from './auth.schema.ts';
import { AuthMethodEnum } from './authMethod.ts';
import {
  completeSignIn,
  confirmTotp,
  enrollTotp,
  regenerateRecoveryCodes,
  removeSecondFactors,
  resetUserFactors,
  secondFactorStatus,
  setOrganizationSecurity,
  stepUp,
} from './mfa.service.ts';

export const SecondFactorMethod = builder.enumType('SecondFactorMethod', {
  description: 'A way to prove the second factor.',
  values: {
    TOTP: { description: 'A 6-digit code from an authenticator app (RFC 6238).' },
    RECOVERY_CODE: { description: 'One of the single-use recovery codes issued when the factor was enrolled.' },
    WEBAUTHN: { description: 'A registered passkey (WebAuthn): startPasskeyAuthentication gives the options, the assertion goes in `webauthn`.' },
  } as const,
});

builder.objectType(MfaRequired, {
  name: 'MfaRequired',
  description:
    'The password (or single sign-on) was right and the account has a second factor: no session yet. Call completeSignIn with `challengeId` and a code, a recovery code or a passkey assertion (startPasskeyAuthentication) before `expiresAt`.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    challengeId: t.exposeString('challengeId', { description: 'Single-use id of this sign-in attempt; pass it to completeSignIn.' }),
    methods: t.field({ type: [SecondFactorMethod], description: 'The ways this account can finish.', resolve: (e) => e.methods as ('TOTP' | 'RECOVERY_CODE' | 'WEBAUTHN')[] }),
    expiresAt: t.field({ type: 'DateTime', description: 'When the challenge stops being accepted.', resolve: (e) => e.expiresAt }),
  }),
});

builder.objectType(StepUpRequiredError, {
  name: 'StepUpRequiredError',
  description: 'This action needs a second factor verified lately by this session: call stepUp with a code, then try again. Nothing was done.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    maxAgeSeconds: t.exposeInt('maxAgeSeconds', { description: 'How recent the verification must be.' }),
  }),
});

builder.objectType(InvalidSecondFactorError, {
  name: 'InvalidSecondFactorError',
  description: 'The code, recovery code or passkey assertion was not accepted (wrong, already used, answering other options, signed for another origin) or the sign-in challenge expired. Nothing changed.',
  interfaces: [ErrorInterface],
});

const WEBAUTHN_PROOF =
  'A passkey assertion: the JSON navigator.credentials.get() produced (as @simplewebauthn/browser\'s startAuthentication returns it) for the options of startPasskeyAuthentication.';

const SecondFactorProofInput = builder.inputType('SecondFactorProofInput', {
  description: 'A second factor: exactly one of a current code, a recovery code or a passkey assertion.',
  fields: (t) => ({
    code: t.string({ required: false, description: 'The 6 digits the authenticator app shows now.' }),
    recoveryCode: t.string({ required: false, description: 'One unused recovery code (spaces and dashes do not matter).' }),
    webauthn: t.field({ type: 'JSON', required: false, description: `${WEBAUTHN_PROOF} Start it without a challengeId (it is bound to this session).` }),
  }),
});

const CompleteSignInInput = builder.inputType('CompleteSignInInput', {
  description: 'The challenge signIn answered with, and the second factor.',
  fields: (t) => ({
    challengeId: t.string({ required: true, description: 'MfaRequired.challengeId.' }),
    code: t.string({ required: false, description: 'The 6 digits the authenticator app shows now.' }),
    recoveryCode: t.string({ required: false, description: 'One unused recovery code instead of a code.' }),
    webauthn: t.field({ type: 'JSON', required: false, description: `${WEBAUTHN_PROOF} Start it with this challengeId.` }),
  }),
});

const EnrollTotpPayload = builder
  .objectRef<{ factorId: string; secret: string; uri: string }>('EnrollTotpPayload')
  .implement({
    description: 'A pending authenticator-app enrollment: add it to the app (scan `uri` as a QR code), then confirmTotp with a code.',
    fields: (t) => ({
      factorId: t.id({ description: 'Pass it to confirmTotp.', resolve: (p) => encodeGlobalID('UserFactor', p.factorId) }),
      secret: t.exposeString('secret', { description: 'The base32 seed, shown only here, for typing into the app by hand.' }),
      uri: t.exposeString('uri', { description: 'An otpauth:// URI with the seed, for a QR code. Shown only here.' }),
    }),
  });

const ConfirmTotpInput = builder.inputType('ConfirmTotpInput', {
  description: 'The pending enrollment and a code from the app.',
  fields: (t) => ({
    factorId: t.id({ required: true, description: 'EnrollTotpPayload.factorId.' }),
    code: t.string({ required: true, description: 'The 6 digits the app shows now.' }),
  }),
});

const RecoveryCodesPayload = (name: string, description: string) =>
  builder.objectRef<{ recoveryCodes: string[] }>(name).implement({
    description,
    fields: (t) => ({
      recoveryCodes: t.exposeStringList('recoveryCodes', {
        description: 'Single-use recovery codes, shown only here: keep them somewhere safe. Empty when the user already had unused ones.',
      }),
    }),
  });

const ConfirmTotpPayload = RecoveryCodesPayload('ConfirmTotpPayload', 'The authenticator app is now the account’s second factor.');
const RegenerateRecoveryCodesPayload = RecoveryCodesPayload('RegenerateRecoveryCodesPayload', 'New recovery codes; the earlier ones no longer work.');

const StepUpPayload = builder.objectRef<{ verifiedAt: Date; method: string }>('StepUpPayload').implement({
  description: 'This session verified its second factor now.',
  fields: (t) => ({
    verifiedAt: t.field({ type: 'DateTime', description: 'When.', resolve: (p) => p.verifiedAt }),
    method: t.field({ type: AuthMethodEnum, description: 'With what.', resolve: (p) => p.method as 'TOTP' }),
  }),
});

const OkPayload = (name: string, description: string) =>
  builder.objectRef<{ ok: true }>(name).implement({
    description,
    fields: (t) => ({ ok: t.boolean({ description: 'Always true.', resolve: () => true }) }),
  });
const RemoveSecondFactorsPayload = OkPayload('RemoveSecondFactorsPayload', 'The viewer’s second factors and recovery codes were removed.');
const ResetUserSecondFactorsPayload = OkPayload(
  'ResetUserSecondFactorsPayload',
  'The user’s second factors and recovery codes were removed and their sessions ended; they sign in with their password and enroll again.',
);

const ResetUserSecondFactorsInput = builder.inputType('ResetUserSecondFactorsInput', {
  description: 'Whose second factors to remove.',
  fields: (t) => ({ userId: t.id({ required: true, description: 'The user (global id).' }) }),
});

const SetOrganizationSecurityInput = builder.inputType('SetOrganizationSecurityInput', {
  description: 'Sign-in rules of an organization; a missing field keeps its value.',
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'The organization.' }),
    requireMfa: t.boolean({ required: false, description: 'Members must have a second factor; until they enroll one they can do nothing else (API keys are unaffected).' }),
    requireStepUp: t.boolean({ required: false, description: 'Revealing a restricted credential and approving or denying an access request need a second factor verified within STEP_UP_MAX_AGE_SECONDS.' }),
    allowPasswordSignIn: t.boolean({
      required: false,
      description: 'false: members sign in only through single sign-on; a password sign-in of a member answers PasswordSignInDisabledError (system administrators excepted). Default true.',
    }),
  }),
});

export type FactorRow = { id: string; kind: string; name: string; confirmedAt: Date | null; lastUsedAt: Date | null; transports: string | null };
export const SecondFactor = builder.objectRef<FactorRow>('SecondFactor').implement({
  description: 'A second factor of the viewer (never its secret).',
  fields: (t) => ({
    id: t.id({ description: 'Global id.', resolve: (f) => encodeGlobalID('UserFactor', f.id) }),
    kind: t.exposeString('kind', { description: 'TOTP (authenticator app) or WEBAUTHN (a passkey).' }),
    name: t.exposeString('name', { description: 'A label for people (passkeys: the name given at registration, renamePasskey changes it).' }),
    transports: t.stringList({
      description: 'Passkeys: how the browser said it reaches the authenticator (internal, usb, hybrid, nfc, ble); empty for other kinds.',
      resolve: (f) => (f.transports ? f.transports.split(',') : []),
    }),
    enrolledAt: t.field({ type: 'DateTime', description: 'When it was confirmed.', resolve: (f) => f.confirmedAt! }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it was last accepted (a code, or a passkey assertion).', resolve: (f) => f.lastUsedAt }),
  }),
});

const SecondFactorStatus = builder
  .objectRef<{ userId: string; mfaEnrollmentRequired: boolean; authMethod: string; factorVerifiedAt: number | null }>('SecondFactorStatus')
  .implement({
    description: 'The viewer’s second-factor setup and this session’s standing.',
    fields: (t) => ({
      factors: t.field({
        type: [SecondFactor],
        description: 'Confirmed second factors.',
        resolve: async (s, _a, ctx) => (await secondFactorStatus(ctx, s.userId)).factors,
      }),
      recoveryCodesLeft: t.int({ description: 'Unused recovery codes.', resolve: async (s, _a, ctx) => (await secondFactorStatus(ctx, s.userId)).recoveryCodesLeft }),
      enrollmentRequired: t.boolean({
        description: 'An organization of the viewer requires a second factor and none is enrolled: only enrollment works until then.',
        resolve: (s) => s.mfaEnrollmentRequired,
      }),
      sessionAuthMethod: t.field({ type: AuthMethodEnum, description: 'How this session was opened.', resolve: (s) => s.authMethod as 'PASSWORD' }),
      factorVerifiedAt: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When this session last verified a second factor (sign-in or stepUp); null if never.',
        resolve: (s) => (s.factorVerifiedAt === null ? null : new Date(s.factorVerifiedAt)),
      }),
    }),
  });

builder.queryFields((t) => ({
  secondFactors: t.field({
    description: 'The viewer’s second factors and this session’s verification (signed-in users only).',
    authScopes: { can: 'mfa:manage' },
    type: SecondFactorStatus,
    resolve: (_root, _args, ctx) => {
      const p = ctx.policy.principal;
      if (p.kind !== 'user') throw new Error('unreachable: mfa:manage is for users');
      return { userId: p.userId, mfaEnrollmentRequired: p.mfaEnrollmentRequired === true, authMethod: p.authMethod ?? 'PASSWORD', factorVerifiedAt: p.factorVerifiedAt ?? null };
    },
  }),
}));

builder.mutationFields((t) => ({
  completeSignIn: t.field({
    description:
      'Finishes a sign-in that answered MfaRequired: the challenge and a code (or a recovery code, or a passkey assertion) open the session. Wrong codes meet the per-account lockout (RateLimitedError); a challenge is single use and dies after 5 wrong codes or 5 minutes.',
    authScopes: { public: true },
    type: SignInPayload,
    errors: { types: [InvalidSecondFactorError, RateLimitedError, ValidationError] },
    args: { input: t.arg({ type: CompleteSignInInput, required: true }) },
    resolve: (_root, { input }, ctx) => completeSignIn(ctx, input),
  }),
  enrollTotp: t.field({
    description: 'Starts enrolling an authenticator app as the viewer’s second factor (replacing a pending one). Finish with confirmTotp.',
    authScopes: { can: 'mfa:manage' },
    type: EnrollTotpPayload,
    resolve: (_root, _args, ctx) => enrollTotp(ctx),
  }),
  confirmTotp: t.field({
    description:
      'Activates the pending authenticator app with a code from it. It replaces an earlier one; recovery codes are issued (once) when the viewer has none. When the account already has a second factor, one of them must have been verified lately (stepUp), else StepUpRequiredError.',
    authScopes: { can: 'mfa:manage' },
    type: ConfirmTotpPayload,
    errors: { types: [InvalidSecondFactorError, RateLimitedError, StepUpRequiredError, ValidationError] },
    args: { input: t.arg({ type: ConfirmTotpInput, required: true }) },
    resolve: (_root, { input }, ctx) => confirmTotp(ctx, { factorId: localId(String(input.factorId), 'UserFactor'), code: input.code }),
  }),
  regenerateRecoveryCodes: t.field({
    description: 'Issues 10 new recovery codes; the earlier ones stop working. Needs a recent second factor (stepUp).',
    authScopes: { can: 'mfa:manage' },
    type: RegenerateRecoveryCodesPayload,
    errors: { types: [StepUpRequiredError, ValidationError] },
    resolve: async (_root, _args, ctx) => ({ recoveryCodes: await regenerateRecoveryCodes(ctx) }),
  }),
  stepUp: t.field({
    description: 'Verifies the viewer’s second factor now (a code, a recovery code or a passkey assertion), for actions that need a recent one (StepUpRequiredError). Wrong codes meet the per-account lockout.',
    authScopes: { can: 'mfa:manage' },
    type: StepUpPayload,
    errors: { types: [InvalidSecondFactorError, RateLimitedError, ValidationError] },
    args: { input: t.arg({ type: SecondFactorProofInput, required: true }) },
    resolve: (_root, { input }, ctx) => stepUp(ctx, input),
  }),
  removeSecondFactors: t.field({
    description: 'Removes the viewer’s second factors and recovery codes, after proving one of them.',
    authScopes: { can: 'mfa:manage' },
    type: RemoveSecondFactorsPayload,
    errors: { types: [InvalidSecondFactorError, RateLimitedError, ValidationError] },
    args: { input: t.arg({ type: SecondFactorProofInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await removeSecondFactors(ctx, input);
      return { ok: true as const };
    },
  }),
  resetUserSecondFactors: t.field({
    description:
      'For a user who lost their second factor: removes their factors and recovery codes and ends their sessions. A system administrator, or an ADMIN of every organization the user belongs to. Audited.',
    authScopes: { can: 'mfa:reset' },
    type: ResetUserSecondFactorsPayload,
    args: { input: t.arg({ type: ResetUserSecondFactorsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await resetUserFactors(ctx, localId(String(input.userId), 'User'));
      return { ok: true as const };
    },
  }),
  setOrganizationSecurity: t.prismaField({
    description: 'Sets an organization’s sign-in rules (requireMfa, requireStepUp, allowPasswordSignIn). ADMIN. Audited.',
    authScopes: { can: 'organization:manage' },
    type: 'Organization',
    args: { input: t.arg({ type: SetOrganizationSecurityInput, required: true }) },
    resolve: (query, _root, { input }, ctx) =>
      setOrganizationSecurity(ctx, query, {
        organizationId: localId(String(input.organizationId), 'Organization'),
        requireMfa: input.requireMfa ?? undefined,
        requireStepUp: input.requireStepUp ?? undefined,
        allowPasswordSignIn: input.allowPasswordSignIn ?? undefined,
      }),
  }),
}));

builder.prismaObjectField('Organization', 'requireMfa', (t) =>
  t.exposeBoolean('requireMfa', { description: 'Members must have a second factor (only enrollment works until they do).' }),
);
builder.prismaObjectField('Organization', 'requireStepUp', (t) =>
  t.exposeBoolean('requireStepUp', { description: 'Restricted reveals and access-request decisions need a recently verified second factor.' }),
);
builder.prismaObjectField('Organization', 'allowPasswordSignIn', (t) =>
  t.exposeBoolean('allowPasswordSignIn', { description: 'Members may sign in with a password; false: only through single sign-on.' }),
);
