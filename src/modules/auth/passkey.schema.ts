import { builder } from '../../graphql/builder.ts';
import { InvalidSecondFactorError, StepUpRequiredError, ValidationError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { SecondFactor, type FactorRow } from './mfa.schema.ts';
import {
  finishPasskeyRegistration,
  removePasskey,
  renamePasskey,
  startPasskeyAuthentication,
  startPasskeyRegistration,
} from './passkey.service.ts';

const PasskeyOptionsPayload = builder.objectRef<{ options: unknown }>('PasskeyOptionsPayload').implement({
  description: 'Options for a passkey ceremony in the browser; they hold a single-use challenge that expires in 5 minutes.',
  fields: (t) => ({
    options: t.field({
      type: 'JSON',
      description:
        'PublicKeyCredentialCreationOptionsJSON or PublicKeyCredentialRequestOptionsJSON (WebAuthn Level 3): pass it to @simplewebauthn/browser (startRegistration / startAuthentication as `optionsJSON`) or to PublicKeyCredential.parse…OptionsFromJSON.',
      resolve: (p) => p.options,
    }),
  }),
});

const FinishPasskeyRegistrationInput = builder.inputType('FinishPasskeyRegistrationInput', {
  description: 'The browser’s answer to startPasskeyRegistration, and a name for the passkey.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'A label for people, e.g. “Work laptop” (1 … 100 characters).' }),
    response: t.field({
      type: 'JSON',
      required: true,
      description: 'The RegistrationResponseJSON navigator.credentials.create() produced (as @simplewebauthn/browser’s startRegistration returns it).',
    }),
  }),
});

const FinishPasskeyRegistrationPayload = builder
  .objectRef<{ factor: FactorRow; recoveryCodes: string[] }>('FinishPasskeyRegistrationPayload')
  .implement({
    description: 'The passkey is registered and is now a second factor of the viewer.',
    fields: (t) => ({
      factor: t.field({ type: SecondFactor, description: 'The new passkey.', resolve: (p) => p.factor }),
      recoveryCodes: t.exposeStringList('recoveryCodes', {
        description: 'Single-use recovery codes, shown only here: keep them somewhere safe. Empty when the user already had unused ones.',
      }),
    }),
  });

const RenamePasskeyInput = builder.inputType('RenamePasskeyInput', {
  description: 'Which passkey, and its new name.',
  fields: (t) => ({
    factorId: t.id({ required: true, description: 'SecondFactor.id of the passkey.' }),
    name: t.string({ required: true, description: 'The new label (1 … 100 characters).' }),
  }),
});

const RenamePasskeyPayload = builder.objectRef<{ factor: FactorRow }>('RenamePasskeyPayload').implement({
  description: 'The passkey has its new name.',
  fields: (t) => ({ factor: t.field({ type: SecondFactor, description: 'The renamed passkey.', resolve: (p) => p.factor }) }),
});

const RemovePasskeyInput = builder.inputType('RemovePasskeyInput', {
  description: 'Which passkey to remove.',
  fields: (t) => ({ factorId: t.id({ required: true, description: 'SecondFactor.id of the passkey.' }) }),
});

const RemovePasskeyPayload = builder.objectRef<{ ok: true }>('RemovePasskeyPayload').implement({
  description: 'The passkey was removed; with it gone, an account without other factors has second factors turned off.',
  fields: (t) => ({ ok: t.boolean({ description: 'Always true.', resolve: () => true }) }),
});

const StartPasskeyAuthenticationInput = builder.inputType('StartPasskeyAuthenticationInput', {
  description: 'What the passkey assertion will be for.',
  fields: (t) => ({
    challengeId: t.string({
      required: false,
      description: 'MfaRequired.challengeId, to finish that sign-in (completeSignIn). Leave it out when signed in, to step up (stepUp).',
    }),
  }),
});

const factorId = (id: string | number) => localId(String(id), 'UserFactor');

builder.mutationFields((t) => ({
  startPasskeyRegistration: t.field({
    description:
      'Starts registering a passkey for the viewer: options for navigator.credentials.create(). Finish with finishPasskeyRegistration within 5 minutes. When the account already has a second factor, adding one needs a recent one (stepUp). At most 10 passkeys.',
    authScopes: { can: 'mfa:manage' },
    type: PasskeyOptionsPayload,
    errors: { types: [StepUpRequiredError, ValidationError] },
    resolve: async (_root, _args, ctx) => ({ options: await startPasskeyRegistration(ctx) }),
  }),
  finishPasskeyRegistration: t.field({
    description:
      'Verifies the browser’s answer to startPasskeyRegistration and registers the passkey under `name`. It counts as a second factor verified by this session now; recovery codes are issued (once) when the viewer has none. Audited (mfa.passkey_enrolled).',
    authScopes: { can: 'mfa:manage' },
    type: FinishPasskeyRegistrationPayload,
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: FinishPasskeyRegistrationInput, required: true }) },
    resolve: (_root, { input }, ctx) => finishPasskeyRegistration(ctx, { name: input.name, response: input.response }),
  }),
  renamePasskey: t.field({
    description: 'Renames one of the viewer’s passkeys.',
    authScopes: { can: 'mfa:manage' },
    type: RenamePasskeyPayload,
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: RenamePasskeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ factor: await renamePasskey(ctx, { factorId: factorId(input.factorId), name: input.name }) }),
  }),
  removePasskey: t.field({
    description:
      'Removes one of the viewer’s passkeys. Needs a recent second factor (stepUp). Removing the last factor turns second factors off and deletes the recovery codes. Audited (mfa.passkey_removed).',
    authScopes: { can: 'mfa:manage' },
    type: RemovePasskeyPayload,
    errors: { types: [StepUpRequiredError, ValidationError] },
    args: { input: t.arg({ type: RemovePasskeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await removePasskey(ctx, { factorId: factorId(input.factorId) });
      return { ok: true as const };
    },
  }),
  startPasskeyAuthentication: t.field({
    description:
      'Options for navigator.credentials.get() with the account’s passkeys: for a sign-in that answered MfaRequired (give its challengeId; then completeSignIn with `webauthn`), or, signed in, for stepUp. A new call replaces the previous options; each is answered once.',
    authScopes: { public: true },
    type: PasskeyOptionsPayload,
    errors: { types: [InvalidSecondFactorError, ValidationError] },
    args: { input: t.arg({ type: StartPasskeyAuthenticationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ options: await startPasskeyAuthentication(ctx, { challengeId: input.challengeId }) }),
  }),
}));
