import { builder } from '../../graphql/builder.ts';
import { ErrorInterface } from '../../graphql/errors.ts';
import '../credential/credential.schema.ts';
import '../asset/asset.schema.ts';
import { CredentialNode } from '../credential/credential.types.ts';
import type { Credential } from '../../generated/prisma-sqlite/client.ts';
import { changeCredentialOnTarget, checkCredential, NoTargetError, TARGET_STATUSES, TargetOperationError } from './target.service.ts';

// Checking and changing a vaulted password on its target (docs/targets.md).

const TargetStatusEnum = builder.enumType('CredentialTargetStatus', {
  description: 'What the last check or change on the credential’s target found.',
  values: {
    OK: { description: 'The current password opened the target.' },
    DRIFT: { description: 'The target refused the current password: it was changed outside vaultgate.' },
    CHANGE_DUE: { description: 'A policy asked for a change on the target that has not succeeded yet; the scheduler retries it.' },
    CHANGE_FAILED: { description: 'The last change on the target failed; the previous password stays current.' },
  } as const satisfies Record<(typeof TARGET_STATUSES)[number], unknown>,
});

const TargetFailureEnum = builder.enumType('TargetFailureReason', {
  description: 'Why a target did not complete a check or change.',
  values: {
    AUTH_REJECTED: { description: 'The target refused the account with the stored password.' },
    HOST_KEY_MISMATCH: { description: 'The SSH host presented a key other than the one pinned for its asset; nothing was sent.' },
    UNREACHABLE: { description: 'The target could not be reached, or the protocol failed before authentication.' },
    CHANGE_REJECTED: { description: 'The target did not accept the new password.' },
    CHANGE_UNCONFIRMED: { description: 'The change was sent but its outcome is unknown; the new password is kept pending and tried first by the next change.' },
    UNSUPPORTED_SECRET: { description: 'The password cannot be set safely on this target.' },
    BUSY: { description: 'Another change of this credential is in progress.' },
  } as const,
});

builder.objectType(NoTargetError, {
  name: 'NoTargetError',
  description: 'The credential names no target: link it to an SSH asset with a pinned host key, or give it a postgresql://host:port/database URL.',
  interfaces: [ErrorInterface],
});

builder.objectType(TargetOperationError, {
  name: 'TargetOperationError',
  description: 'The target did not complete the check or change; the current password is unchanged.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ reason: t.field({ type: TargetFailureEnum, description: 'What went wrong.', resolve: (e) => e.reason }) }),
});

builder.prismaObjectFields('Credential', (t) => ({
  targetStatus: t.field({
    type: TargetStatusEnum,
    nullable: true,
    description: 'What the last check or change on the target found; null when never checked.',
    resolve: (c) => c.targetStatus as (typeof TARGET_STATUSES)[number] | null,
  }),
  targetCheckedAt: t.expose('targetCheckedAt', { type: 'DateTime', nullable: true, description: 'When the target was last checked or changed.' }),
  targetChangePending: t.boolean({
    description: 'Whether a new password is stored but not yet current, because the target has not confirmed it.',
    resolve: (c) => c.pendingVersion !== null,
  }),
}));

const TargetPayload = (name: string, description: string) =>
  builder.objectRef<{ credential: Credential }>(name).implement({
    description,
    fields: (t) => ({ credential: t.field({ type: CredentialNode, description: 'The credential after it.', resolve: (p) => p.credential }) }),
  });

const TargetInput = (name: string, description: string) =>
  builder.inputType(name, { description, fields: (t) => ({ id: t.id({ required: true, description: 'Global id of the credential.' }) }) });

builder.mutationFields((t) => ({
  checkCredential: t.field({
    description: 'Logs in to the credential’s target with its current password (the secret never leaves vaultgate); sets targetStatus to OK or DRIFT. Audited.',
    authScopes: { can: 'credential:checkOnTarget' },
    type: TargetPayload('CheckCredentialPayload', 'Result of a check on the target.'),
    errors: { types: [NoTargetError, TargetOperationError] },
    args: { input: t.arg({ type: TargetInput('CheckCredentialInput', 'Which credential to check.'), required: true }) },
    resolve: async (_root, { input }, ctx) => ({ credential: await checkCredential(ctx, String(input.id)) }),
  }),
  changeCredentialOnTarget: t.field({
    description: 'Changes the password on the target to a generated one now; the vault’s current version changes only after the target took it and a login with it passed. Audited.',
    authScopes: { can: 'credential:changeOnTarget' },
    type: TargetPayload('ChangeCredentialOnTargetPayload', 'Result of a change on the target.'),
    errors: { types: [NoTargetError, TargetOperationError] },
    args: { input: t.arg({ type: TargetInput('ChangeCredentialOnTargetInput', 'Which credential to change.'), required: true }) },
    resolve: async (_root, { input }, ctx) => ({ credential: await changeCredentialOnTarget(ctx, String(input.id)) }),
  }),
}));
