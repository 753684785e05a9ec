import { builder } from '../../graphql/builder.ts';
import { ErrorInterface } from '../../graphql/errors.ts';
import { ValidationError } from '../../lib/errors.ts';
import { CredentialNode } from './credential.types.ts';
import { PasswordGeneratorInput } from './credential.inputs.ts';
import {
  CredentialNotAvailableError,
  EXPOSURE_MAX,
  ROTATE_MAX_IDS,
  exposureReport,
  rotateCredentials,
  type BulkRotateItem,
  type ExposureEntry,
  type ExposureReport,
} from './exposure.service.ts';

const ExposureEntryRef = builder.objectRef<ExposureEntry>('ExposureEntry').implement({
  description: 'One credential a person saw in the period: how, how often, when last, and whether its secret changed since.',
  fields: (t) => ({
    credential: t.field({ type: CredentialNode, description: 'The credential (metadata only).', resolve: (e) => e.credential! }),
    surfaces: t.stringList({
      description: 'How it left the vault: REVEAL, COPY, EXPORT, EXPORT_PDF, AUTOFILL, PRINT (access records), REQUEST (released through an access request).',
      resolve: (e) => e.surfaces,
    }),
    accessCount: t.exposeInt('accessCount', { description: 'Access records in the period (a release through a request counts none by itself).' }),
    releasedByRequest: t.exposeBoolean('releasedByRequest', { description: 'Whether an access request of theirs released it during the period.' }),
    lastExposedAt: t.expose('lastExposedAt', { type: 'DateTime', description: 'The last access in the period, or the end of a request’s window (at most now).' }),
    lastVersionSeen: t.exposeInt('lastVersionSeen', { nullable: true, description: 'The newest secret version they accessed; null when only released through a request.' }),
    rotatedSince: t.exposeBoolean('rotatedSince', { description: 'Whether the secret changed (rotation) after lastExposedAt: if false, what they saw still works.' }),
  }),
});

const ExposureReportRef = builder.objectRef<ExposureReport>('ExposureReport').implement({
  description: 'What one person saw in a period, per credential, newest exposure first.',
  fields: (t) => ({
    actor: t.prismaField({
      type: 'User',
      nullable: true,
      description: 'The person; null when the account no longer exists.',
      resolve: (query, r, _args, ctx) => ctx.db.user.findUnique({ ...query, where: { id: r.actorId } }),
    }),
    since: t.expose('since', { type: 'DateTime', description: 'Start of the period.' }),
    until: t.expose('until', { type: 'DateTime', description: 'End of the period (now when not given).' }),
    entries: t.field({ type: [ExposureEntryRef], description: `The credentials, at most first (${EXPOSURE_MAX} at most).`, resolve: (r) => r.entries }),
    truncated: t.exposeBoolean('truncated', { description: 'Whether more credentials matched than are listed (narrow the period).' }),
    notRotatedCount: t.int({ description: 'How many listed credentials were not rotated since.', resolve: (r) => r.entries.filter((e) => !e.rotatedSince).length }),
  }),
});

builder.queryFields((t) => ({
  exposureReport: t.field({
    description: `The exposure response's first question: every credential one person revealed, copied, exported or had released through an access request since a date, with the last time and whether it was rotated since. ADMIN, MANAGER and AUDITOR, over the organizations where they hold exposure:read. At most ${EXPOSURE_MAX} credentials.`,
    authScopes: { can: 'exposure:read' },
    type: ExposureReportRef,
    args: {
      actorId: t.arg.id({ required: true, description: 'Global id of the person (User).' }),
      since: t.arg({ type: 'DateTime', required: true, description: 'Start of the period.' }),
      until: t.arg({ type: 'DateTime', description: 'End of the period (default now).' }),
      first: t.arg.int({ description: `How many credentials to list, 1 to ${EXPOSURE_MAX} (default ${EXPOSURE_MAX}).` }),
    },
    resolve: (_root, args, ctx) => exposureReport(ctx, { actorId: String(args.actorId), since: args.since, until: args.until, first: args.first }),
  }),
}));

builder.objectType(CredentialNotAvailableError, {
  name: 'CredentialNotAvailableError',
  description: 'No such credential, or the viewer may not rotate it: the same answer for both, so ids reveal nothing.',
  interfaces: [ErrorInterface],
});

const RotateCredentialsItemRef = builder.objectRef<BulkRotateItem>('RotateCredentialsItem').implement({
  description: 'The outcome for one id: the rotated credential, or the typed error that refused it.',
  fields: (t) => ({
    id: t.id({ description: 'The id as given.', resolve: (i) => i.id }),
    credential: t.field({ type: CredentialNode, nullable: true, description: 'The credential after rotation; null when refused.', resolve: (i) => i.credential }),
    passwordStrength: t.int({ nullable: true, description: 'zxcvbn score (0–4) of the new password.', resolve: (i) => i.strength }),
    error: t.field({
      type: ErrorInterface,
      nullable: true,
      description: 'Why this one was not rotated (ValidationError, ConflictError, CredentialNotAvailableError…); null on success.',
      // graphql-js treats a returned Error instance as a thrown one, so the refusal travels as a plain copy.
      resolve: (i) => (i.error ? ({ ...i.error, name: i.error.name, message: i.error.message } as Error) : null),
    }),
  }),
});

const RotateCredentialsPayload = builder.objectRef<{ items: BulkRotateItem[] }>('RotateCredentialsPayload').implement({
  description: 'One result per id, in the order given.',
  fields: (t) => ({
    results: t.field({ type: [RotateCredentialsItemRef], description: 'Each id’s outcome, in the order given.', resolve: (p) => p.items }),
    succeeded: t.int({ description: 'How many were rotated.', resolve: (p) => p.items.filter((i) => i.credential).length }),
    failed: t.int({ description: 'How many were refused (see each result’s error).', resolve: (p) => p.items.filter((i) => !i.credential).length }),
  }),
});

const RotateCredentialsInput = builder.inputType('RotateCredentialsInput', {
  description: `Many credentials to give new generated passwords (PASSWORD credentials only), at most ${ROTATE_MAX_IDS}.`,
  fields: (t) => ({
    ids: t.idList({ required: true, description: `Global ids of the credentials, at most ${ROTATE_MAX_IDS}, each once.` }),
    generate: t.field({ type: PasswordGeneratorInput, description: 'Generator options (default: 24 characters of every class).' }),
    reason: t.string({ required: true, description: 'Why they are rotated (kept with every new version).' }),
  }),
});

builder.mutationFields((t) => ({
  rotateCredentials: t.field({
    description:
      'Rotates many credentials at once, each exactly as rotateCredential would (restricted ones need ADMIN or MANAGER; archived ones are refused), with one result per id, one audit entry per credential and one (credential.rotate_batch) per organization. Requests still available on a rotated credential release the new value.',
    authScopes: { can: 'credential:write' },
    type: RotateCredentialsPayload,
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: RotateCredentialsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      items: await rotateCredentials(ctx, { ids: input.ids.map(String), generate: input.generate ?? null, reason: input.reason }),
    }),
  }),
}));

