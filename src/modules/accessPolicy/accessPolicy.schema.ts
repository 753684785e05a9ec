import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder, type BuilderTypes } from '../../graphql/builder.ts';
import { ErrorInterface } from '../../graphql/errors.ts';
import { ValidationError } from '../../lib/errors.ts';
import type { Context } from '../../context.ts';
import type { Role } from '../../generated/prisma-sqlite/enums.ts';
import { RoleEnum } from '../organization/organization.schema.ts';
import { UserNode } from '../user/user.schema.ts';
import { CredentialNode } from '../credential/credential.types.ts';
import type { Step, Who } from '../accessRequest/accessRequest.state.ts';
import {
  createAccessPolicy,
  deleteAccessPolicy,
  parsePolicy,
  POLICY_RULES,
  PolicyViolationError,
  policiesCovering,
  RELEASABLE_FIELDS,
  updateAccessPolicy,
  type AccessPolicyInput,
  type AccessRequestType,
  type ParsedPolicy,
} from './accessPolicy.service.ts';
import { isIn } from '../accessRequest/accessRequest.state.ts';

export const ReleasableFieldEnum = builder.enumType('ReleasableField', {
  description: 'A secret field an access request can release.',
  values: {
    PASSWORD: { description: 'The password.' },
    OTP_CODE: { description: 'The current TOTP code (never the seed).' },
    API_KEY_SECRET: { description: 'API key client secrets.' },
    SSH_PRIVATE_KEY: { description: 'The SSH private key.' },
    PASSPHRASE: { description: 'The SSH key’s passphrase.' },
  } as const satisfies Record<(typeof RELEASABLE_FIELDS)[number], unknown>,
});

const PolicyRuleEnum = builder.enumType('PolicyRule', {
  description: 'Which rule of an access policy a request broke.',
  values: {
    NO_POLICY: { description: 'No enabled policy covers the credential.' },
    NOT_ELIGIBLE: { description: 'The policy does not name the requester (by user or role).' },
    NOT_RESTRICTED: { description: 'The credential is not restricted; reveal it directly.' },
    REASON_REQUIRED: { description: 'A reason is required.' },
    TICKET_REQUIRED: { description: 'A ticket number is required.' },
    TICKET_PATTERN: { description: 'The ticket number does not match the required pattern.' },
    DURATION_TOO_LONG: { description: 'The window is longer than the policy’s maximum.' },
    FIELD_NOT_RELEASABLE: { description: 'The policy does not release that field of this credential.' },
    WINDOW_CHANGE_NOT_ALLOWED: { description: 'Approvers may not change the window under this policy.' },
    START_IN_PAST: { description: 'The window would start in the past.' },
    CREDENTIAL_ARCHIVED: { description: 'The credential is archived.' },
    NOT_AN_ASSET_ACCOUNT: { description: 'A session needs a PASSWORD or SSH_KEY credential with a username that is an account of an asset.' },
  } as const satisfies Record<(typeof POLICY_RULES)[number], unknown>,
});

builder.objectType(PolicyViolationError, {
  name: 'PolicyViolationError',
  description: 'The request breaks a rule of the access policy; nothing was changed. `rule` says which.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ rule: t.field({ type: PolicyRuleEnum, description: 'The rule that failed.', resolve: (e) => e.rule }) }),
});

/** Users named by a policy, as the viewer may see them (members of the organization). */
async function usersOf(ctx: Context, ids: string[]) {
  if (ids.length === 0) return [];
  return ctx.db.user.findMany({ where: { id: { in: ids }, AND: [ctx.policy.readable('User')] }, orderBy: { email: 'asc' } });
}

const PeopleRef = builder.objectRef<Who>('AccessPrincipals').implement({
  description: 'A set of people: named users, and everyone holding one of the roles in the organization.',
  fields: (t) => ({
    users: t.field({ type: [UserNode], description: 'Named users.', resolve: (w, _a, ctx) => usersOf(ctx, w.userIds) }),
    roles: t.field({ type: [RoleEnum], description: 'Roles whose holders belong to the set.', resolve: (w) => w.roles as Role[] }),
  }),
});

export const ApprovalStepRef = builder.objectRef<Step & { index: number }>('ApprovalStep').implement({
  description: 'One step of approval: its approvers and how many distinct approvals it needs. Steps run in order.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Position, from 0.' }),
    approvers: t.field({ type: PeopleRef, description: 'Who may approve or deny at this step.', resolve: (s) => s.approvers }),
    requiredApprovals: t.exposeInt('requiredApprovals', { description: 'Distinct approvals needed to complete the step.' }),
  }),
});

const ScopeRef = builder.objectRef<ParsedPolicy['scope'] & { organizationId: string }>('AccessPolicyScope').implement({
  description: 'The credentials a policy covers: named ones, everything in the folders (and their subfolders), and everything in the categories.',
  fields: (t) => ({
    credentials: t.prismaField({
      type: ['Credential'],
      description: 'Named credentials.',
      resolve: (query, s, _a, ctx) => ctx.db.credential.findMany({ ...query, where: { id: { in: s.credentialIds }, AND: [ctx.policy.readable('Credential')] }, orderBy: { name: 'asc' } }),
    }),
    folders: t.prismaField({
      type: ['Folder'],
      description: 'Folders, subfolders included.',
      resolve: (query, s, _a, ctx) => ctx.db.folder.findMany({ ...query, where: { id: { in: s.folderIds }, organizationId: s.organizationId, AND: [ctx.policy.readable('Folder')] }, orderBy: { name: 'asc' } }),
    }),
    categories: t.prismaField({
      type: ['Category'],
      description: 'Categories.',
      resolve: (query, s, _a, ctx) => ctx.db.category.findMany({ ...query, where: { id: { in: s.categoryIds }, organizationId: s.organizationId, AND: [ctx.policy.readable('Category')] }, orderBy: { name: 'asc' } }),
    }),
  }),
});

export const AccessRequestTypeEnum = builder.enumType('AccessRequestType', {
  description: 'What an access request grants.',
  values: {
    FIELD_RELEASE: { description: 'revealCredential releases the request’s fields during its window.' },
    SESSION: { description: 'An SSH session to the credential’s asset through vaultgate’s recording proxy (startSession); the secret is never released.' },
  } as const,
});

export const AccessPolicyNode = builder.prismaNode('AccessPolicy', {
  description:
    'Who may request which restricted credentials, who approves in which steps, whether a review follows, and the rules every request must meet.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('AccessPolicy')] }),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Display name.' }),
    description: t.exposeString('description', { nullable: true, description: 'What the policy is for.' }),
    enabled: t.exposeBoolean('enabled', { description: 'Disabled policies cover nothing; requests made under them keep their rules.' }),
    scope: t.field({ type: ScopeRef, description: 'The credentials it covers.', resolve: (p) => ({ ...parsePolicy(p).scope, organizationId: p.organizationId }) }),
    requesters: t.field({ type: PeopleRef, description: 'Who may request.', resolve: (p) => parsePolicy(p).requesters }),
    steps: t.field({
      type: [ApprovalStepRef],
      description: 'Approval steps in order; none means requests are approved automatically.',
      resolve: (p) => parsePolicy(p).steps.map((s, index) => ({ ...s, index })),
    }),
    reviewRequired: t.exposeBoolean('reviewRequired', { description: 'Whether finished requests (that were available) need a review.' }),
    reviewers: t.field({ type: PeopleRef, description: 'Who reviews.', resolve: (p) => parsePolicy(p).reviewers }),
    reviewCommentRequired: t.exposeBoolean('reviewCommentRequired', { description: 'Whether a review needs a comment.' }),
    reasonRequired: t.exposeBoolean('reasonRequired', { description: 'Whether requests need a reason.' }),
    ticketRequired: t.exposeBoolean('ticketRequired', { description: 'Whether requests need a ticket number.' }),
    ticketPattern: t.exposeString('ticketPattern', { nullable: true, description: 'A regular expression (RE2 syntax: no backreferences or lookaround; matched in linear time) the whole ticket number must match.' }),
    defaultDurationMinutes: t.exposeInt('defaultDurationMinutes', { description: 'Window length when the requester gives none.' }),
    maxDurationMinutes: t.exposeInt('maxDurationMinutes', { description: 'Longest window a requester may ask for or an approver may set.' }),
    pendingTimeoutMinutes: t.exposeInt('pendingTimeoutMinutes', { description: 'How long a request may wait for approval before it expires.' }),
    approversMayChangeWindow: t.exposeBoolean('approversMayChangeWindow', { description: 'Whether approvers may move or shorten/lengthen the window (within the maximum).' }),
    rotateOnCheckIn: t.exposeBoolean('rotateOnCheckIn', { description: 'Whether a PASSWORD credential gets a new generated password when a request ends.' }),
    changeOnTargetAfterCheckIn: t.exposeBoolean('changeOnTargetAfterCheckIn', { description: 'Whether, when a checked-out request ends, the password is changed on the target (SSH asset or PostgreSQL role) and the vault, so the released password stops working there.' }),
    releasableFields: t.field({ type: [ReleasableFieldEnum], description: 'Fields requests may release.', resolve: (p) => parsePolicy(p).releasableFields }),
    requestType: t.field({ type: AccessRequestTypeEnum, description: 'What its requests grant: released fields, or a recorded SSH session.', resolve: (p) => p.requestType as AccessRequestType }),
    allowPortForwarding: t.boolean({ description: 'SESSION policies: sessions may forward ports (ssh -L) through the proxy to the target’s side.', resolve: (p) => p.allowPortForwarding }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When its rules last changed.' }),
    organization: t.relation('organization', { description: 'The organization it belongs to.' }),
  }),
});

builder.prismaObjectFields('Organization', (t) => ({
  accessPolicies: t.relation('accessPolicies', {
    description: 'The organization’s access policies, by name.',
    query: (_args, ctx) => ({ where: ctx.policy.readable('AccessPolicy'), orderBy: { name: 'asc' } }),
  }),
}));

builder.prismaObjectFields('Credential', (t) => ({
  requestablePolicies: t.prismaField({
    type: ['AccessPolicy'],
    description: 'For a restricted credential: the enabled policies that cover it and let the viewer request it, strictest first (the one used when requestAccess names none).',
    resolve: async (_query, c, _a, ctx) => {
      if (!c.restricted || !ctx.policy.userId || !ctx.policy.can('accessRequest:create', { organizationId: c.organizationId })) return [];
      const actor = { userId: ctx.policy.userId, role: ctx.policy.roleIn(c.organizationId) };
      return (await policiesCovering(ctx.db, c)).filter((p) => isIn(p.requesters, actor)).map((p) => p.row);
    },
  }),
}));

// --- input ---

const PeopleInput = builder.inputType('AccessPrincipalsInput', {
  description: 'Named users (global ids of members) and/or roles.',
  fields: (t) => ({
    userIds: t.idList({ description: 'Global ids of users who are members of the organization.' }),
    roles: t.field({ type: [RoleEnum], description: 'Roles whose holders are included.' }),
  }),
});
const StepInput = builder.inputType('ApprovalStepInput', {
  description: 'One approval step.',
  fields: (t) => ({
    approvers: t.field({ type: PeopleInput, required: true, description: 'Who may approve at this step.' }),
    requiredApprovals: t.int({ description: 'Distinct approvals needed (default 1).' }),
  }),
});
const ScopeInput = builder.inputType('AccessPolicyScopeInput', {
  description: 'Which credentials the policy covers (at least one entry).',
  fields: (t) => ({
    credentialIds: t.idList({ description: 'Global ids of credentials.' }),
    folderIds: t.idList({ description: 'Global ids of folders (subfolders included).' }),
    categoryIds: t.idList({ description: 'Global ids of categories.' }),
  }),
});

const policyFields = (t: PothosSchemaTypes.InputFieldBuilder<BuilderTypes, 'InputObject'>) => ({
  name: t.string({ required: true, description: 'Display name (up to 200 characters).' }),
  description: t.string({ description: 'What the policy is for.' }),
  enabled: t.boolean({ description: 'Default true.' }),
  scope: t.field({ type: ScopeInput, required: true, description: 'Which credentials it covers.' }),
  requesters: t.field({ type: PeopleInput, required: true, description: 'Who may request.' }),
  steps: t.field({ type: [StepInput], description: 'Approval steps in order; empty or omitted = approve automatically.' }),
  reviewRequired: t.boolean({ description: 'Finished requests need a review (default false).' }),
  reviewers: t.field({ type: PeopleInput, description: 'Who reviews (required when reviewRequired).' }),
  reviewCommentRequired: t.boolean({ description: 'A review needs a comment (default false).' }),
  reasonRequired: t.boolean({ description: 'Requests need a reason (default true).' }),
  ticketRequired: t.boolean({ description: 'Requests need a ticket number (default false).' }),
  ticketPattern: t.string({ description: 'A regular expression (RE2 syntax: no backreferences or lookaround; matched in linear time) the whole ticket number must match.' }),
  defaultDurationMinutes: t.int({ description: 'Default window length (default 60).' }),
  maxDurationMinutes: t.int({ description: 'Longest window (default 480, at most 43200).' }),
  pendingTimeoutMinutes: t.int({ description: 'How long a request may wait for approval (default 1440).' }),
  approversMayChangeWindow: t.boolean({ description: 'Approvers may change the window (default false).' }),
  rotateOnCheckIn: t.boolean({ description: 'Generate a new password when a request ends (default false).' }),
  changeOnTargetAfterCheckIn: t.boolean({ description: 'Change the password on the target, not only in the vault, when a checked-out request ends (default false; replaces rotateOnCheckIn for credentials with a target).' }),
  releasableFields: t.field({ type: [ReleasableFieldEnum], description: 'Fields requests may release (default all). Ignored by SESSION policies, which release none.' }),
  requestType: t.field({ type: AccessRequestTypeEnum, description: 'What its requests grant (default FIELD_RELEASE).' }),
  allowPortForwarding: t.boolean({ description: 'SESSION policies: sessions may forward ports to the target’s side (ssh -L; default false). Ignored by FIELD_RELEASE policies.' }),
});

const CreateAccessPolicyInput = builder.inputType('CreateAccessPolicyInput', {
  description: 'A new access policy.',
  fields: (t) => ({ organizationId: t.id({ required: true, description: 'Global id of the organization.' }), ...policyFields(t) }),
});
const UpdateAccessPolicyInput = builder.inputType('UpdateAccessPolicyInput', {
  description: 'The full new rules of a policy (omitted optional fields take their defaults). Requests already made keep their rules.',
  fields: (t) => ({ id: t.id({ required: true, description: 'Global id of the policy.' }), ...policyFields(t) }),
});
const DeleteAccessPolicyInput = builder.inputType('DeleteAccessPolicyInput', {
  description: 'The policy to delete.',
  fields: (t) => ({ id: t.id({ required: true, description: 'Global id of the policy.' }) }),
});

/** GraphQL gives null for omitted optional fields; the service's defaults apply to undefined. */
function toServiceInput(input: Record<string, unknown>): AccessPolicyInput {
  const clean = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object' && !(v instanceof Date)) {
      return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null && x !== undefined).map(([k, x]) => [k, clean(x)]));
    }
    return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' ? v : String(v);
  };
  return clean(input) as AccessPolicyInput;
}

const PolicyPayload = (name: string, description: string) =>
  builder.objectRef<{ policy: ParsedPolicy }>(name).implement({
    description,
    fields: (t) => ({
      accessPolicy: t.field({
        type: AccessPolicyNode,
        description: 'The policy after the change.',
        resolve: (p) => p.policy.row,
      }),
    }),
  });

const DeleteAccessPolicyPayload = builder.objectRef<{ id: string }>('DeleteAccessPolicyPayload').implement({
  description: 'The policy is gone; requests made under it keep their rules and history.',
  fields: (t) => ({ deletedAccessPolicyId: t.id({ description: 'Global id of the deleted policy.', resolve: (p) => encodeGlobalID('AccessPolicy', p.id) }) }),
});

builder.mutationFields((t) => ({
  createAccessPolicy: t.field({
    description: 'Creates an access policy (ADMIN, MANAGER).',
    authScopes: { can: 'accessPolicy:manage' },
    type: PolicyPayload('CreateAccessPolicyPayload', 'The new policy.'),
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: CreateAccessPolicyInput, required: true }) },
    resolve: async (_r, { input }, ctx) => ({ policy: await createAccessPolicy(ctx, { ...toServiceInput(input), organizationId: String(input.organizationId) }) }),
  }),
  updateAccessPolicy: t.field({
    description: 'Replaces the rules of an access policy (ADMIN, MANAGER). Requests already made keep the rules they were made under.',
    authScopes: { can: 'accessPolicy:manage' },
    type: PolicyPayload('UpdateAccessPolicyPayload', 'The updated policy.'),
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: UpdateAccessPolicyInput, required: true }) },
    resolve: async (_r, { input }, ctx) => ({ policy: await updateAccessPolicy(ctx, { ...toServiceInput(input), id: String(input.id) }) }),
  }),
  deleteAccessPolicy: t.field({
    description: 'Deletes an access policy (ADMIN, MANAGER). Open requests made under it continue under their recorded rules.',
    authScopes: { can: 'accessPolicy:manage' },
    type: DeleteAccessPolicyPayload,
    args: { input: t.arg({ type: DeleteAccessPolicyInput, required: true }) },
    resolve: (_r, { input }, ctx) => deleteAccessPolicy(ctx, String(input.id)),
  }),
}));

export { CredentialNode };
