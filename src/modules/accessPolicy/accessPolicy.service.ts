import { z } from 'zod';
import { compileUserPattern, USER_PATTERN_MAX_LENGTH, UserPatternError } from '../../lib/userPattern.ts';
import type { Context } from '../../context.ts';
import type { TxClient } from '../../db/client.ts';
import { DomainError, ForbiddenError, ValidationError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { parseInput, text } from '../../lib/validate.ts';
import { ROLES } from '../../policy/actions.ts';
import type { AccessPolicy, Credential } from '../../generated/prisma-sqlite/client.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { isIn, type Actor, type Step, type Who } from '../accessRequest/accessRequest.state.ts';

/** Fields an access request can release. OTP_CODE releases the current code, never the seed. */
export const RELEASABLE_FIELDS = ['PASSWORD', 'OTP_CODE', 'API_KEY_SECRET', 'SSH_PRIVATE_KEY', 'PASSPHRASE'] as const;
export type ReleasableField = (typeof RELEASABLE_FIELDS)[number];

export const MAX_WINDOW_MINUTES = 30 * 24 * 60;
export const TICKET_MAX = 100;

/** The rule of a policy that a request broke; clients branch on it. */
export const POLICY_RULES = [
  'NO_POLICY',
  'NOT_ELIGIBLE',
  'NOT_RESTRICTED',
  'REASON_REQUIRED',
  'TICKET_REQUIRED',
  'TICKET_PATTERN',
  'DURATION_TOO_LONG',
  'FIELD_NOT_RELEASABLE',
  'WINDOW_CHANGE_NOT_ALLOWED',
  'START_IN_PAST',
  'CREDENTIAL_ARCHIVED',
  'NOT_AN_ASSET_ACCOUNT',
] as const;
export type PolicyRule = (typeof POLICY_RULES)[number];

export class PolicyViolationError extends DomainError {
  override name = 'PolicyViolationError';
  constructor(readonly rule: PolicyRule, message: string) {
    super(message);
  }
}

export type PolicyScope = { credentialIds: string[]; folderIds: string[]; categoryIds: string[] };

/** A policy row with its JSON parts parsed (and the row itself, for the schema to expose). */
export type ParsedPolicy = Omit<AccessPolicy, 'scope' | 'requesters' | 'steps' | 'reviewers' | 'releasableFields'> & {
  scope: PolicyScope;
  requesters: Who;
  steps: Step[];
  reviewers: Who;
  releasableFields: ReleasableField[];
  row: AccessPolicy;
};

export function parsePolicy(row: AccessPolicy): ParsedPolicy {
  return {
    ...row,
    row,
    scope: JSON.parse(row.scope) as PolicyScope,
    requesters: JSON.parse(row.requesters) as Who,
    steps: JSON.parse(row.steps) as Step[],
    reviewers: JSON.parse(row.reviewers) as Who,
    releasableFields: JSON.parse(row.releasableFields) as ReleasableField[],
  };
}

/** What a request keeps of its policy: the rules in force when it was made. */
export type PolicySnapshot = Pick<
  ParsedPolicy,
  'name' | 'steps' | 'reviewRequired' | 'reviewers' | 'reviewCommentRequired' | 'approversMayChangeWindow' | 'maxDurationMinutes' | 'rotateOnCheckIn' | 'changeOnTargetAfterCheckIn' | 'releasableFields'
> & {
  /** Absent from snapshots taken before it existed: no forwarding. */
  allowPortForwarding?: boolean;
};

export const snapshotOf = (p: ParsedPolicy): PolicySnapshot => ({
  name: p.name,
  steps: p.steps,
  reviewRequired: p.reviewRequired,
  reviewers: p.reviewers,
  reviewCommentRequired: p.reviewCommentRequired,
  approversMayChangeWindow: p.approversMayChangeWindow,
  maxDurationMinutes: p.maxDurationMinutes,
  rotateOnCheckIn: p.rotateOnCheckIn,
  changeOnTargetAfterCheckIn: p.changeOnTargetAfterCheckIn,
  releasableFields: p.releasableFields,
  allowPortForwarding: p.allowPortForwarding,
});

/**
 * How strict a policy is, for choosing between several that cover a credential when the requester names none:
 * more approvals, more steps, a review, a shorter maximum window — the strictest wins.
 */
export function strictness(p: ParsedPolicy): [number, number, number, number] {
  const approvals = p.steps.reduce((n, s) => n + s.requiredApprovals, 0);
  return [approvals, p.steps.length, p.reviewRequired ? 1 : 0, -p.maxDurationMinutes];
}

const compareStrictness = (a: ParsedPolicy, b: ParsedPolicy) => {
  const sa = strictness(a);
  const sb = strictness(b);
  for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) return sb[i] - sa[i];
  return a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id);
};

/** The folder and its ancestors, so a policy on a folder covers its subfolders. */
async function folderLineage(tx: TxClient, organizationId: string, folderId: string | null): Promise<Set<string>> {
  const lineage = new Set<string>();
  if (!folderId) return lineage;
  const folders = await tx.folder.findMany({ where: { organizationId }, select: { id: true, parentId: true } });
  const parent = new Map(folders.map((f) => [f.id, f.parentId]));
  for (let id: string | null | undefined = folderId; id && !lineage.has(id); id = parent.get(id)) lineage.add(id);
  return lineage;
}

/** Enabled policies whose scope covers the credential (explicitly, by folder or subfolder, or by category). */
export async function policiesCovering(tx: TxClient, credential: Credential): Promise<ParsedPolicy[]> {
  const rows = await tx.accessPolicy.findMany({ where: { organizationId: credential.organizationId, enabled: true } });
  const lineage = await folderLineage(tx, credential.organizationId, credential.folderId);
  return rows
    .map(parsePolicy)
    .filter(
      (p) =>
        p.scope.credentialIds.includes(credential.id) ||
        p.scope.folderIds.some((f) => lineage.has(f)) ||
        (credential.categoryId !== null && p.scope.categoryIds.includes(credential.categoryId)),
    )
    .sort(compareStrictness);
}

/**
 * The policy a request is made under. Rule (documented in README): the requester may name any covering policy
 * they are eligible for; without a name, the strictest covering policy they are eligible for applies.
 */
export async function choosePolicy(tx: TxClient, credential: Credential, actor: Actor, policyId: string | null, requestType: AccessRequestType = 'FIELD_RELEASE'): Promise<ParsedPolicy> {
  // A field release and a session are different grants: only policies of the asked-for type apply.
  const covering = (await policiesCovering(tx, credential)).filter((p) => p.requestType === requestType);
  if (covering.length === 0) throw new PolicyViolationError('NO_POLICY', 'No enabled access policy covers this credential; ask an administrator to add one.');
  const eligible = covering.filter((p) => isIn(p.requesters, actor));
  if (policyId) {
    const named = covering.find((p) => p.id === policyId);
    if (!named) throw ValidationError.field('input.policyId', 'this policy does not cover the credential, or is disabled');
    if (!eligible.includes(named)) throw new PolicyViolationError('NOT_ELIGIBLE', 'This policy does not let you request this credential.');
    return named;
  }
  if (eligible.length === 0) throw new PolicyViolationError('NOT_ELIGIBLE', 'No access policy lets you request this credential.');
  return eligible[0];
}

/** What a request grants: the release of fields (revealCredential), or an SSH session through the proxy (docs/sessions.md). */
export const ACCESS_REQUEST_TYPES = ['FIELD_RELEASE', 'SESSION'] as const;
export type AccessRequestType = (typeof ACCESS_REQUEST_TYPES)[number];

// --- management ---

const who = z
  .object({ userIds: z.array(z.string()).max(100).default([]), roles: z.array(z.enum(ROLES)).max(4).default([]) })
  .default({ userIds: [], roles: [] });

const policyInput = z
  .object({
    name: text(200),
    description: text(2000).nullish(),
    enabled: z.boolean().default(true),
    scope: z
      .object({
        credentialIds: z.array(z.string()).max(500).default([]),
        folderIds: z.array(z.string()).max(200).default([]),
        categoryIds: z.array(z.string()).max(100).default([]),
      })
      .refine((s) => s.credentialIds.length + s.folderIds.length + s.categoryIds.length > 0, 'name at least one credential, folder or category'),
    requesters: who.refine((w) => w.userIds.length + w.roles.length > 0, 'name at least one user or role'),
    steps: z
      .array(z.object({ approvers: who.refine((w) => w.userIds.length + w.roles.length > 0, 'name at least one user or role'), requiredApprovals: z.number().int().min(1).max(100).default(1) }))
      .max(10)
      .default([]),
    reviewRequired: z.boolean().default(false),
    reviewers: who,
    reviewCommentRequired: z.boolean().default(false),
    reasonRequired: z.boolean().default(true),
    ticketRequired: z.boolean().default(false),
    ticketPattern: z
      .string()
      .max(USER_PATTERN_MAX_LENGTH)
      .superRefine((p, zc) => {
        try {
          compileUserPattern(p);
        } catch (error) {
          zc.addIssue({ code: 'custom', message: error instanceof UserPatternError ? error.message : 'must be a regular expression' });
        }
      })
      .nullish(),
    defaultDurationMinutes: z.number().int().min(1).max(MAX_WINDOW_MINUTES).default(60),
    maxDurationMinutes: z.number().int().min(1).max(MAX_WINDOW_MINUTES).default(8 * 60),
    pendingTimeoutMinutes: z.number().int().min(1).max(MAX_WINDOW_MINUTES).default(24 * 60),
    approversMayChangeWindow: z.boolean().default(false),
    rotateOnCheckIn: z.boolean().default(false),
    changeOnTargetAfterCheckIn: z.boolean().default(false),
    releasableFields: z.array(z.enum(RELEASABLE_FIELDS)).min(1).max(RELEASABLE_FIELDS.length).default(['PASSWORD', 'OTP_CODE', 'API_KEY_SECRET', 'SSH_PRIVATE_KEY', 'PASSPHRASE']),
    requestType: z.enum(ACCESS_REQUEST_TYPES).default('FIELD_RELEASE'),
    allowPortForwarding: z.boolean().default(false),
  })
  .superRefine((p, zc) => {
    if (p.defaultDurationMinutes > p.maxDurationMinutes) zc.addIssue({ code: 'custom', path: ['defaultDurationMinutes'], message: 'must not exceed maxDurationMinutes' });
    if (p.reviewRequired && p.reviewers.userIds.length + p.reviewers.roles.length === 0) zc.addIssue({ code: 'custom', path: ['reviewers'], message: 'name who reviews when a review is required' });
    p.steps.forEach((s, i) => {
      if (s.approvers.roles.length === 0 && s.requiredApprovals > new Set(s.approvers.userIds).size) {
        zc.addIssue({ code: 'custom', path: ['steps', String(i), 'requiredApprovals'], message: 'more approvals than named approvers: the step could never complete' });
      }
    });
  });

export type AccessPolicyInput = z.input<typeof policyInput>;

/** Global ids → local ids of this organization; anything else is a validation error at its path. */
async function resolveReferences(tx: TxClient, organizationId: string, data: z.infer<typeof policyInput>) {
  const local = (ids: string[], typename: string, path: string): string[] =>
    ids.map((g, i) => {
      try {
        return localId(g, typename);
      } catch {
        throw ValidationError.field(`${path}.${i}`, `not a ${typename} id`);
      }
    });
  const check = async (ids: string[], found: (ids: string[]) => Promise<{ id: string }[]>, path: string) => {
    const unique = [...new Set(ids)];
    const have = new Set((await found(unique)).map((r) => r.id));
    const missing = ids.findIndex((id) => !have.has(id));
    if (missing >= 0) throw ValidationError.field(`${path}.${missing}`, 'not found in this organization');
    return unique;
  };
  const members = (ids: string[], path: string) =>
    check(local(ids, 'User', path), (u) => tx.membership.findMany({ where: { organizationId, userId: { in: u } }, select: { userId: true } }).then((m) => m.map((x) => ({ id: x.userId }))), path);
  const scope = {
    credentialIds: await check(local(data.scope.credentialIds, 'Credential', 'input.scope.credentialIds'), (ids) => tx.credential.findMany({ where: { organizationId, id: { in: ids } }, select: { id: true } }), 'input.scope.credentialIds'),
    folderIds: await check(local(data.scope.folderIds, 'Folder', 'input.scope.folderIds'), (ids) => tx.folder.findMany({ where: { organizationId, id: { in: ids } }, select: { id: true } }), 'input.scope.folderIds'),
    categoryIds: await check(local(data.scope.categoryIds, 'Category', 'input.scope.categoryIds'), (ids) => tx.category.findMany({ where: { organizationId, id: { in: ids } }, select: { id: true } }), 'input.scope.categoryIds'),
  };
  const requesters = { userIds: await members(data.requesters.userIds, 'input.requesters.userIds'), roles: [...new Set(data.requesters.roles)] };
  const steps: Step[] = [];
  for (const [i, s] of data.steps.entries()) {
    steps.push({ approvers: { userIds: await members(s.approvers.userIds, `input.steps.${i}.approvers.userIds`), roles: [...new Set(s.approvers.roles)] }, requiredApprovals: s.requiredApprovals });
  }
  const reviewers = { userIds: await members(data.reviewers.userIds, 'input.reviewers.userIds'), roles: [...new Set(data.reviewers.roles)] };
  return { scope, requesters, steps, reviewers };
}

function rowData(data: z.infer<typeof policyInput>, refs: Awaited<ReturnType<typeof resolveReferences>>) {
  return {
    name: data.name,
    description: data.description ?? null,
    enabled: data.enabled,
    scope: JSON.stringify(refs.scope),
    requesters: JSON.stringify(refs.requesters),
    steps: JSON.stringify(refs.steps),
    reviewRequired: data.reviewRequired,
    reviewers: JSON.stringify(refs.reviewers),
    reviewCommentRequired: data.reviewCommentRequired,
    reasonRequired: data.reasonRequired,
    ticketRequired: data.ticketRequired,
    ticketPattern: data.ticketPattern ?? null,
    defaultDurationMinutes: data.defaultDurationMinutes,
    maxDurationMinutes: data.maxDurationMinutes,
    pendingTimeoutMinutes: data.pendingTimeoutMinutes,
    approversMayChangeWindow: data.approversMayChangeWindow,
    rotateOnCheckIn: data.rotateOnCheckIn,
    changeOnTargetAfterCheckIn: data.changeOnTargetAfterCheckIn,
    releasableFields: JSON.stringify([...new Set(data.releasableFields)]),
    requestType: data.requestType,
    allowPortForwarding: data.allowPortForwarding,
  };
}

/** The audit record of a policy: its rules, not its JSON columns verbatim. */
const auditShape = (p: ParsedPolicy) => ({
  name: p.name,
  enabled: p.enabled,
  scope: p.scope,
  requesters: p.requesters,
  steps: p.steps,
  reviewRequired: p.reviewRequired,
  maxDurationMinutes: p.maxDurationMinutes,
  releasableFields: p.releasableFields,
  rotateOnCheckIn: p.rotateOnCheckIn,
  changeOnTargetAfterCheckIn: p.changeOnTargetAfterCheckIn,
  requestType: p.requestType,
  allowPortForwarding: p.allowPortForwarding,
});

export async function createAccessPolicy(ctx: Context, input: AccessPolicyInput & { organizationId: string }) {
  const organizationId = localId(input.organizationId, 'Organization');
  ctx.policy.assert('accessPolicy:manage', { organizationId });
  const { organizationId: _o, ...rest } = input;
  const data = parseInput(policyInput, rest);
  return ctx.db.$transaction(async (tx) => {
    const refs = await resolveReferences(tx, organizationId, data);
    const now = ctx.clock.now();
    const row = await tx.accessPolicy.create({ data: { organizationId, ...rowData(data, refs), createdAt: now, updatedAt: now, createdById: ctx.policy.userId } });
    const parsed = parsePolicy(row);
    await appendAudit(tx, ctx, { organizationId, action: 'access_policy.create', targetType: 'AccessPolicy', targetId: row.id, data: auditShape(parsed) });
    return parsed;
  });
}

async function loadForManage(ctx: Context, tx: TxClient, globalId: string) {
  const row = await tx.accessPolicy.findUnique({ where: { id: localId(globalId, 'AccessPolicy') } });
  if (!row || !ctx.policy.can('accessPolicy:manage', { organizationId: row.organizationId })) throw new ForbiddenError();
  return row;
}

/** Replaces a policy's rules. Requests already made keep the rules they were made under (their snapshot). */
export async function updateAccessPolicy(ctx: Context, input: AccessPolicyInput & { id: string }) {
  const { id, ...rest } = input;
  const data = parseInput(policyInput, rest);
  return ctx.db.$transaction(async (tx) => {
    const current = await loadForManage(ctx, tx, id);
    const refs = await resolveReferences(tx, current.organizationId, data);
    const row = await tx.accessPolicy.update({ where: { id: current.id }, data: { ...rowData(data, refs), updatedAt: ctx.clock.now() } });
    const parsed = parsePolicy(row);
    await appendAudit(tx, ctx, { organizationId: row.organizationId, action: 'access_policy.update', targetType: 'AccessPolicy', targetId: row.id, data: auditShape(parsed) });
    return parsed;
  });
}

/** Deletes a policy. Its requests stay (with their snapshot); open ones keep running under the rules they had. */
export async function deleteAccessPolicy(ctx: Context, globalId: string) {
  return ctx.db.$transaction(async (tx) => {
    const current = await loadForManage(ctx, tx, globalId);
    await tx.accessPolicy.delete({ where: { id: current.id } });
    await appendAudit(tx, ctx, { organizationId: current.organizationId, action: 'access_policy.delete', targetType: 'AccessPolicy', targetId: current.id, data: { name: current.name } });
    return current;
  });
}
