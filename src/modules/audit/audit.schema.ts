import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.ts';
import { SYSTEM_CHAIN } from './audit.chain.ts';
import '../user/user.schema.ts';
import '../apiKey/apiKey.schema.ts';
import {
  auditActorApiKey,
  auditActorUser,
  countAuditEvents,
  exportAuditLog,
  KNOWN_TARGET_TYPES,
  listAuditEvents,
  verifyAuditLog,
  verifySystemAuditLog,
  type AuditEventFilter,
  type AuditExport,
  type AuditVerification,
} from './audit.service.ts';

export const AuditEventNode = builder.prismaNode('AuditEvent', {
  description:
    'One entry of an organization’s tamper-evident audit log. Entries form a hash chain: each `hash` covers the entry and the `prevHash` before it, so editing, removing or reordering entries is detected by `verifyAuditLog`.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('AuditEvent')] }),
  fields: (t) => ({
    seq: t.exposeInt('seq', { description: 'Position in the organization’s chain: 1, 2, 3… without gaps.' }),
    action: t.exposeString('action', { description: 'What happened, as a dotted verb, e.g. `member.add`, `credential.reveal`, `audit.export`.' }),
    at: t.expose('at', { type: 'DateTime', description: 'When it happened (server time).' }),
    actorId: t.id({
      nullable: true,
      description: 'Global id of who acted: a User or an ApiKey. Kept even when the actor is no longer visible to the viewer; null for the system.',
      resolve: (e) =>
        e.actorUserId ? encodeGlobalID('User', e.actorUserId) : e.actorApiKeyId ? encodeGlobalID('ApiKey', e.actorApiKeyId) : null,
    }),
    actor: t.prismaField({
      type: 'User',
      nullable: true,
      description: 'The user who acted; null for API keys, the system, or a user the viewer may no longer see (see `actorId`).',
      resolve: (query, e, _args, ctx) => (e.actorUserId ? auditActorUser(ctx, query, e.actorUserId) : null),
    }),
    actorApiKey: t.prismaField({
      type: 'ApiKey',
      nullable: true,
      description: 'The API key that acted; null for users, or when the viewer may not see API keys (see `actorId`).',
      resolve: (query, e, _args, ctx) => (e.actorApiKeyId ? auditActorApiKey(ctx, query, e.actorApiKeyId) : null),
    }),
    targetType: t.exposeString('targetType', {
      nullable: true,
      description: 'The kind of object acted on, e.g. `Credential`, `Membership`, `User`, `ApiKey`, `Organization`.',
    }),
    targetId: t.id({
      nullable: true,
      description: 'The object acted on: a global id for the known target types (usable with `node`), the raw id otherwise.',
      resolve: (e) => (e.targetId === null ? null : e.targetType && KNOWN_TARGET_TYPES.has(e.targetType) ? encodeGlobalID(e.targetType, e.targetId) : e.targetId),
    }),
    data: t.exposeString('data', { description: 'Details of the action as a JSON object (never secrets), exactly as hashed.' }),
    prevHash: t.exposeString('prevHash', { description: 'SHA-256 (hex) of the entry before this one; 64 zeros for the first entry.' }),
    hash: t.exposeString('hash', { description: 'SHA-256 (hex) of this entry’s content and `prevHash`.' }),
  }),
});

const AuditEventFilterInput = builder.inputType('AuditEventFilter', {
  description: 'Which audit events to list. All given conditions must hold.',
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'Global id of the organization whose log to read.' }),
    actorId: t.id({ description: 'Only actions by this user or API key (global id).' }),
    credentialId: t.id({ description: 'Only actions on this credential (global id).' }),
    action: t.string({ description: 'Only this exact action, e.g. `member.add`.' }),
    actionPrefix: t.string({ description: 'Only actions starting with this, e.g. `credential.`.' }),
    from: t.field({ type: 'DateTime', description: 'Only events at or after this instant.' }),
    to: t.field({ type: 'DateTime', description: 'Only events before this instant (exclusive).' }),
  }),
});

const AuditHeadInput = builder.inputType('AuditHeadInput', {
  description: 'The head of a chain as seen earlier, e.g. returned by `exportAuditLog` and kept outside vaultgate.',
  fields: (t) => ({
    seq: t.int({ required: true, description: 'The last entry’s seq at that time.' }),
    hash: t.string({ required: true, description: 'The last entry’s hash at that time (64 hexadecimal characters).' }),
  }),
});

const AuditProblemEnum = builder.enumType('AuditProblem', {
  description: 'What verification found wrong with a chain.',
  values: {
    HASH_MISMATCH: { description: 'An entry’s content no longer matches its hash: it was edited.' },
    BROKEN_LINK: { description: 'An entry does not link to the one before it: entries were replaced or reordered.' },
    MISSING_ENTRY: { description: 'A seq is missing: an entry was deleted.' },
    EXTRA_ENTRY: { description: 'An entry exists outside the sequence the head describes.' },
    HEAD_MISMATCH: { description: 'The chain head does not match the last entry.' },
    TRUNCATED: { description: 'The log is shorter than an earlier export saw it: its tail was removed.' },
    REWRITTEN: { description: 'An entry differs from what an earlier export saw: the log was rewritten.' },
  } as const,
});

const AuditVerificationRef = builder.objectRef<AuditVerification>('AuditVerification').implement({
  description: 'The result of checking an audit chain. Verification stops at the first problem.',
  fields: (t) => ({
    ok: t.exposeBoolean('ok', { description: 'Whether the chain is intact (and matches `expectedHead`, when given).' }),
    checkedCount: t.exposeInt('checkedCount', { description: 'How many entries were read and checked.' }),
    headSeq: t.exposeInt('headSeq', { description: 'The seq of the chain head as recorded; 0 for an empty chain.' }),
    headHash: t.exposeString('headHash', { description: 'The hash of the chain head as recorded; keep it to detect later truncation.' }),
    firstBadSeq: t.exposeInt('firstBadSeq', { nullable: true, description: 'The first seq found wrong (or missing); null when ok.' }),
    problem: t.field({ type: AuditProblemEnum, nullable: true, description: 'What was found wrong; null when ok.', resolve: (v) => v.problem }),
    reason: t.exposeString('reason', { nullable: true, description: 'The problem in words; null when ok.' }),
  }),
});

const ExportAuditLogInput = builder.inputType('ExportAuditLogInput', {
  description: 'Which organization’s audit log to export.',
  fields: (t) => ({ organizationId: t.id({ required: true, description: 'Global id of the organization.' }) }),
});

const ExportAuditLogPayload = builder.objectRef<AuditExport>('ExportAuditLogPayload').implement({
  description: 'The audit log up to its head. The export itself is recorded as the next entry (`audit.export`).',
  fields: (t) => ({
    jsonLines: t.exposeString('jsonLines', {
      description:
        'One JSON object per line, in seq order, with raw ids and every hashed field: `hash` is the SHA-256 (hex) of the UTF-8 JSON array ["vaultgate/audit/v1", chain, seq, organizationId, action, actorUserId, actorApiKeyId, targetType, targetId, data, at, prevHash].',
    }),
    headSeq: t.exposeInt('headSeq', { description: 'The seq of the last exported entry; pass it back as `expectedHead` to detect truncation.' }),
    headHash: t.exposeString('headHash', { description: 'The hash of the last exported entry (64 zeros when there are none).' }),
    count: t.exposeInt('count', { description: 'How many entries were exported.' }),
  }),
});

const toFilter = (f: typeof AuditEventFilterInput.$inferInput): AuditEventFilter => ({
  ...f,
  organizationId: String(f.organizationId),
  actorId: f.actorId == null ? null : String(f.actorId),
  credentialId: f.credentialId == null ? null : String(f.credentialId),
});

builder.queryFields((t) => ({
  auditEvents: t.prismaConnection({
    description: 'An organization’s audit log, newest first. ADMIN and AUDITOR of the organization.',
    authScopes: { can: 'audit:read' },
    type: 'AuditEvent',
    cursor: 'chain_seq',
    args: { filter: t.arg({ type: AuditEventFilterInput, required: true, description: 'Which events to list.' }) },
    totalCount: (_parent, args, ctx) => countAuditEvents(ctx, toFilter(args.filter)),
    resolve: (query, _root, args, ctx) => listAuditEvents(ctx, toFilter(args.filter), query),
  }),
  verifyAuditLog: t.field({
    description:
      'Checks an organization’s audit chain end to end: hashes, links, gaps and the head; with `expectedHead`, also truncation or rewriting since then. Reads only. ADMIN and AUDITOR.',
    authScopes: { can: 'audit:read' },
    type: AuditVerificationRef,
    args: {
      organizationId: t.arg.id({ required: true, description: 'Global id of the organization.' }),
      expectedHead: t.arg({ type: AuditHeadInput, description: 'A head kept from an earlier export, to compare against.' }),
    },
    resolve: (_root, args, ctx) =>
      verifyAuditLog(ctx, { organizationId: String(args.organizationId), expectedHead: args.expectedHead ?? null }),
  }),
}));

builder.queryFields((t) => ({
  systemAuditEvents: t.prismaConnection({
    description:
      'The installation-wide (system) audit chain, newest first: sign-ins, account changes, key rotation. System administrators only.',
    authScopes: { can: 'audit:readSystem' },
    type: 'AuditEvent',
    cursor: 'chain_seq',
    totalCount: (_parent, _args, ctx) => ctx.db.auditEvent.count({ where: { chain: SYSTEM_CHAIN } }),
    resolve: (query, _root, _args, ctx) => ctx.db.auditEvent.findMany({ ...query, where: { chain: SYSTEM_CHAIN }, orderBy: [{ seq: 'desc' }] }),
  }),
  verifySystemAuditLog: t.field({
    description: 'Checks the system audit chain end to end, like verifyAuditLog. Reads only. System administrators only.',
    authScopes: { can: 'audit:readSystem' },
    type: AuditVerificationRef,
    args: { expectedHead: t.arg({ type: AuditHeadInput, description: 'A head kept from an earlier check, to compare against.' }) },
    resolve: (_root, args, ctx) => verifySystemAuditLog(ctx, args.expectedHead ?? null),
  }),
}));

builder.mutationFields((t) => ({
  exportAuditLog: t.field({
    description: 'Exports an organization’s audit log as JSON lines with its head, and records the export. ADMIN and AUDITOR.',
    authScopes: { can: 'audit:read' },
    type: ExportAuditLogPayload,
    args: { input: t.arg({ type: ExportAuditLogInput, required: true }) },
    resolve: (_root, { input }, ctx) => exportAuditLog(ctx, { organizationId: String(input.organizationId) }),
  }),
}));
