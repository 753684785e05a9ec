import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder, type BuilderTypes } from '../../graphql/builder.ts';
import { ValidationError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import {
  FILTER_FIELDS,
  FILTER_OPERATORS,
  WORKFLOW_TRIGGERS,
  WORKFLOW_VARIABLES,
  type FilterField,
  type WorkflowFilter,
  type WorkflowTrigger,
  type WorkflowVariable,
} from './workflow.rules.ts';
import {
  createWorkflow,
  deleteWorkflow,
  setWorkflowEnabled,
  testWorkflowAction,
  updateWorkflow,
  type TestResult,
  type WorkflowInput,
} from './workflow.service.ts';
import { ACTION_TYPES, parseWorkflow, type ParsedWorkflow, type StoredAction } from './workflow.definition.ts';

const WorkflowTriggerEnum = builder.enumType('WorkflowTrigger', {
  description: 'What starts a workflow.',
  values: {
    PASSWORD_ACCESS: { description: 'A secret left the vault: reveal, copy, export, PDF export, autofill or print.' },
    ACCESS_REQUEST_PENDING: { description: 'An access request now waits for approvers (new, resubmitted, or its previous step completed).' },
    ACCESS_REQUEST_DECIDED: { description: 'An access request was approved (by people or automatically), denied or revoked.' },
    SESSION_STARTED: { description: 'An SSH session through the recording proxy started (the target accepted the vaulted account).' },
    SESSION_ENDED: { description: 'An SSH session through the recording proxy ended, with its reason.' },
  } as const satisfies Record<WorkflowTrigger, unknown>,
});

const FilterFieldEnum = builder.enumType('WorkflowFilterField', {
  description: 'What a workflow filter looks at.',
  values: {
    CREDENTIAL: { description: 'The credential (values: credential global ids; ANY_OF / NONE_OF).' },
    ORGANIZATION_STATUS: { description: 'The organization’s status (values: ACTIVE, INACTIVE; ANY_OF / NONE_OF).' },
    UPDATED_BY: { description: 'Who last updated the credential (values: user global ids; ANY_OF / NONE_OF).' },
    CATEGORY: { description: 'The credential’s category (values: category global ids; ANY_OF / NONE_OF).' },
    NAME: { description: 'The credential’s name (one text; CONTAINS, DOES_NOT_CONTAIN, STARTS_WITH, ENDS_WITH).' },
    USERNAME: { description: 'The credential’s username (one text; text operators).' },
    URL: { description: 'The credential’s URL (one text; text operators).' },
    NOTES: { description: 'The credential’s notes (one text; text operators).' },
  } as const satisfies Record<FilterField, unknown>,
});

const FilterOperatorEnum = builder.enumType('WorkflowFilterOperator', {
  description: 'How a filter compares. Text comparisons ignore case.',
  values: {
    ANY_OF: { description: 'The value is one of `values`.' },
    NONE_OF: { description: 'The value is none of `values` (a credential without a category is in none).' },
    CONTAINS: { description: 'The text contains the value.' },
    DOES_NOT_CONTAIN: { description: 'The text does not contain the value.' },
    STARTS_WITH: { description: 'The text starts with the value.' },
    ENDS_WITH: { description: 'The text ends with the value.' },
  } as const satisfies Record<(typeof FILTER_OPERATORS)[number], unknown>,
});

const ActionTypeEnum = builder.enumType('WorkflowActionType', {
  description: 'What a workflow action does.',
  values: {
    EMAIL: { description: 'Sends an email through SMTP_URL (HTML and text).' },
    WEBHOOK: { description: 'POSTs JSON signed with HMAC-SHA256 (header X-Vaultgate-Signature: t=<unix seconds>,v1=<hex of HMAC(secret, "<t>.<body>")>).' },
    SLACK: { description: 'Posts a message with blocks to a Slack incoming-webhook URL.' },
  } as const satisfies Record<(typeof ACTION_TYPES)[number], unknown>,
});

const GLOBAL_TYPE: Partial<Record<FilterField, string>> = { CREDENTIAL: 'Credential', CATEGORY: 'Category', UPDATED_BY: 'User' };

const FilterRef = builder.objectRef<WorkflowFilter>('WorkflowFilter').implement({
  description: 'One condition; a workflow runs only when all of its filters match.',
  fields: (t) => ({
    field: t.field({ type: FilterFieldEnum, description: 'What it looks at.', resolve: (f) => f.field }),
    operator: t.field({ type: FilterOperatorEnum, description: 'How it compares.', resolve: (f) => f.operator }),
    values: t.stringList({
      description: 'Global ids (credential, category, user), statuses, or the one text compared with.',
      resolve: (f) => (GLOBAL_TYPE[f.field] ? f.values.map((v) => encodeGlobalID(GLOBAL_TYPE[f.field]!, v)) : f.values),
    }),
  }),
});

const ActionRef = builder.objectRef<StoredAction & { index: number }>('WorkflowAction').implement({
  description: 'One thing a workflow does when it runs. Fields that do not apply to its type are null.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Position among the workflow’s actions, from 0 (testWorkflowAction takes it).' }),
    type: t.field({ type: ActionTypeEnum, description: 'What it does.', resolve: (a) => a.type }),
    recipients: t.stringList({ nullable: true, description: 'EMAIL: the addresses it is sent to.', resolve: (a) => (a.type === 'EMAIL' ? a.recipients : null) }),
    subject: t.string({ nullable: true, description: 'EMAIL: the subject template.', resolve: (a) => (a.type === 'EMAIL' ? a.subject : null) }),
    body: t.string({ nullable: true, description: 'EMAIL: the body template (plain text; sent as text and as escaped HTML).', resolve: (a) => (a.type === 'EMAIL' ? a.body : null) }),
    url: t.string({ nullable: true, description: 'WEBHOOK: the URL it POSTs to.', resolve: (a) => (a.type === 'WEBHOOK' ? a.url : null) }),
    slackUrlHint: t.string({ nullable: true, description: 'SLACK: the origin of the incoming-webhook URL (the full URL is a secret and never shown).', resolve: (a) => (a.type === 'SLACK' ? a.urlHint : null) }),
    message: t.string({ nullable: true, description: 'SLACK: the message template (mrkdwn; variable values are escaped).', resolve: (a) => (a.type === 'SLACK' ? a.message : null) }),
  }),
});

const VariableRef = builder.objectRef<WorkflowVariable>('WorkflowVariable').implement({
  description: 'A variable templates may use as {{name}}. Values are metadata, never secrets.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Its name, e.g. credential.name.' }),
    description: t.exposeString('description', { description: 'What it holds.' }),
    triggers: t.field({ type: [WorkflowTriggerEnum], description: 'Triggers for which it has a value (empty text otherwise).', resolve: (v) => [...v.triggers] }),
  }),
});

builder.prismaObject('WorkflowDeliveryAttempt', {
  description: 'One try of a delivery: written before the request leaves, completed when the outcome is known.',
  fields: (t) => ({
    number: t.exposeInt('number', { description: 'Which attempt, from 1.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', description: 'When it started.' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true, description: 'When the outcome was known.' }),
    outcome: t.exposeString('outcome', { description: 'SENDING, DELIVERED, FAILED, or INTERRUPTED (the sender stopped before it knew).' }),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'HTTP status (webhook, Slack) or SMTP reply code, when there was one.' }),
    error: t.exposeString('error', { nullable: true, description: 'Why it failed (short; never a URL or secret).' }),
  }),
});

builder.prismaObject('WorkflowDelivery', {
  description: 'One action of a workflow for one event, with every attempt to deliver it.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Its id; webhooks carry it as X-Vaultgate-Delivery, so receivers can ignore repeats.' }),
    actionIndex: t.exposeInt('actionIndex', { description: 'Which action (index), or -1 for the failure notice.' }),
    actionType: t.exposeString('actionType', { description: 'EMAIL, WEBHOOK, SLACK or FAILURE_NOTICE.' }),
    trigger: t.field({ type: WorkflowTriggerEnum, description: 'The trigger that fired.', resolve: (d) => d.trigger as WorkflowTrigger }),
    status: t.exposeString('status', { description: 'PENDING, SENDING, DELIVERED, FAILED (given up) or CANCELLED (workflow disabled).' }),
    attemptCount: t.exposeInt('attempts', { description: 'Attempts made so far.' }),
    maxAttempts: t.exposeInt('maxAttempts', { description: 'Attempts before it is given up.' }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', description: 'When it is (or was) due next.' }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'Why the last attempt failed.' }),
    test: t.exposeBoolean('test', { description: 'Sent by testWorkflowAction with sample values.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the event was matched.' }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true, description: 'When it was delivered.' }),
    attempts: t.relation('attemptLog', { description: 'Every attempt, in order.', query: { orderBy: { number: 'asc' } } }),
  }),
});

export const WorkflowNode = builder.prismaNode('Workflow', {
  description: 'When its trigger fires in its organization and all filters match, its actions run (email, signed webhook, Slack). Never carries a secret.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('Workflow')] }),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Display name.' }),
    enabled: t.exposeBoolean('enabled', { description: 'Disabled workflows match nothing; their unsent deliveries are cancelled.' }),
    trigger: t.field({ type: WorkflowTriggerEnum, description: 'What starts it.', resolve: (w) => w.trigger as WorkflowTrigger }),
    filters: t.field({ type: [FilterRef], description: 'Conditions that must all match.', resolve: (w) => parseWorkflow(w).filters }),
    actions: t.field({ type: [ActionRef], description: 'What it does, in order.', resolve: (w) => parseWorkflow(w).actions.map((a, index) => ({ ...a, index })) }),
    failureEmail: t.exposeString('failureEmail', { nullable: true, description: 'Told when deliveries keep failing.' }),
    failureThreshold: t.exposeInt('failureThreshold', { description: 'Deliveries given up in a row before failureEmail is told.' }),
    consecutiveFailures: t.exposeInt('consecutiveFailures', { description: 'Deliveries given up in a row so far (a success resets it).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it last changed.' }),
    organization: t.relation('organization', { description: 'The organization it belongs to.' }),
    deliveries: t.relation('deliveries', {
      description: 'Its delivery log, newest first.',
      args: { first: t.arg.int({ description: 'How many (default 50, at most 200).' }) },
      query: (args) => ({ orderBy: [{ createdAt: 'desc' }, { seq: 'desc' }, { actionIndex: 'asc' }], take: Math.min(Math.max(args.first ?? 50, 1), 200) }),
    }),
  }),
});

// --- input ---

const FilterInput = builder.inputType('WorkflowFilterInput', {
  description: 'One condition.',
  fields: (t) => ({
    field: t.field({ type: FilterFieldEnum, required: true, description: 'What it looks at.' }),
    operator: t.field({ type: FilterOperatorEnum, required: true, description: 'ANY_OF/NONE_OF for ids and statuses; CONTAINS, DOES_NOT_CONTAIN, STARTS_WITH or ENDS_WITH for text.' }),
    values: t.stringList({ required: true, description: 'Global ids, statuses, or exactly one text.' }),
  }),
});

const ActionInput = builder.inputType('WorkflowActionInput', {
  description: 'One action; give the fields its type needs. Templates use {{variable}} (see workflowVariables).',
  fields: (t) => ({
    type: t.field({ type: ActionTypeEnum, required: true, description: 'What it does.' }),
    recipients: t.stringList({ description: 'EMAIL: up to 20 addresses.' }),
    subject: t.string({ description: 'EMAIL: subject template.' }),
    body: t.string({ description: 'EMAIL: body template (plain text).' }),
    url: t.string({ description: 'WEBHOOK or SLACK: an http(s) URL; not link-local, metadata, loopback or private (unless the installation allows private addresses). SLACK on update: omit to keep the stored URL.' }),
    message: t.string({ description: 'SLACK: message template (mrkdwn).' }),
  }),
});

const workflowFields = (t: PothosSchemaTypes.InputFieldBuilder<BuilderTypes, 'InputObject'>) => ({
  name: t.string({ required: true, description: 'Display name (up to 200 characters).' }),
  enabled: t.boolean({ description: 'Default true.' }),
  trigger: t.field({ type: WorkflowTriggerEnum, required: true, description: 'What starts it.' }),
  filters: t.field({ type: [FilterInput], description: 'Conditions that must all match (up to 20; none = every event of the trigger).' }),
  actions: t.field({ type: [ActionInput], required: true, description: 'What it does (1 to 10 actions).' }),
  failureEmail: t.string({ description: 'An address told when deliveries keep failing.' }),
  failureThreshold: t.int({ description: 'Deliveries given up in a row before failureEmail is told (default 1).' }),
});

const CreateWorkflowInput = builder.inputType('CreateWorkflowInput', {
  description: 'A new workflow.',
  fields: (t) => ({ organizationId: t.id({ required: true, description: 'Global id of the organization.' }), ...workflowFields(t) }),
});
const UpdateWorkflowInput = builder.inputType('UpdateWorkflowInput', {
  description: 'The full new definition of a workflow (its signing secret stays).',
  fields: (t) => ({ id: t.id({ required: true, description: 'Global id of the workflow.' }), ...workflowFields(t) }),
});
const SetWorkflowEnabledInput = builder.inputType('SetWorkflowEnabledInput', {
  description: 'Turns a workflow on or off.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the workflow.' }),
    enabled: t.boolean({ required: true, description: 'On or off. Turned on, it matches events from now on only.' }),
  }),
});
const DeleteWorkflowInput = builder.inputType('DeleteWorkflowInput', {
  description: 'The workflow to delete.',
  fields: (t) => ({ id: t.id({ required: true, description: 'Global id of the workflow.' }) }),
});
const TestWorkflowActionInput = builder.inputType('TestWorkflowActionInput', {
  description: 'Which workflow (and action) to test.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the workflow.' }),
    actionIndex: t.int({ description: 'Which action; omitted = each action.' }),
  }),
});

/** GraphQL gives null for omitted optional fields; the service's defaults apply to undefined. */
function toServiceInput(input: Record<string, unknown>): WorkflowInput {
  const clean = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null && x !== undefined).map(([k, x]) => [k, clean(x)]));
    return v;
  };
  return clean(input) as WorkflowInput;
}

const WorkflowPayload = (name: string, description: string) =>
  builder.objectRef<{ workflow: ParsedWorkflow }>(name).implement({
    description,
    fields: (t) => ({ workflow: t.field({ type: WorkflowNode, description: 'The workflow after the change.', resolve: (p) => p.workflow.row }) }),
  });

const CreateWorkflowPayload = builder.objectRef<{ workflow: ParsedWorkflow; signingSecret: string }>('CreateWorkflowPayload').implement({
  description: 'The new workflow, and its webhook signing secret: shown this once, store it with the receiver.',
  fields: (t) => ({
    workflow: t.field({ type: WorkflowNode, description: 'The new workflow.', resolve: (p) => p.workflow.row }),
    signingSecret: t.exposeString('signingSecret', { description: 'HMAC-SHA256 key of its webhook signatures. Shown only here.' }),
  }),
});

const TestResultRef = builder.objectRef<TestResult>('WorkflowActionTestResult').implement({
  description: 'The outcome of one test delivery.',
  fields: (t) => ({
    actionIndex: t.exposeInt('actionIndex', { description: 'Which action.' }),
    type: t.field({ type: ActionTypeEnum, description: 'Its type.', resolve: (r) => r.type }),
    delivered: t.exposeBoolean('delivered', { description: 'Whether the receiver accepted it.' }),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'HTTP status or SMTP reply code, when there was one.' }),
    error: t.exposeString('error', { nullable: true, description: 'Why it was not delivered.' }),
  }),
});

const TestWorkflowActionPayload = builder.objectRef<{ results: TestResult[] }>('TestWorkflowActionPayload').implement({
  description: 'What the test sent and whether it arrived.',
  fields: (t) => ({
    delivered: t.boolean({ description: 'Whether every tested action was delivered.', resolve: (p) => p.results.every((r) => r.delivered) }),
    results: t.field({ type: [TestResultRef], description: 'One result per tested action.', resolve: (p) => p.results }),
  }),
});

const DeleteWorkflowPayload = builder.objectRef<{ id: string }>('DeleteWorkflowPayload').implement({
  description: 'The workflow and its delivery log are gone.',
  fields: (t) => ({ deletedWorkflowId: t.id({ description: 'Global id of the deleted workflow.', resolve: (p) => encodeGlobalID('Workflow', p.id) }) }),
});

builder.queryFields((t) => ({
  workflows: t.prismaField({
    type: ['Workflow'],
    description: 'The workflows of an organization, by name (ADMIN, MANAGER, AUDITOR).',
    authScopes: { can: 'workflow:read' },
    args: { organizationId: t.arg.id({ required: true, description: 'Global id of the organization.' }) },
    resolve: (query, _r, args, ctx) => {
      const organizationId = localId(String(args.organizationId), 'Organization');
      ctx.policy.assert('workflow:read', { organizationId });
      return ctx.db.workflow.findMany({ ...query, where: { organizationId, AND: [ctx.policy.readable('Workflow')] }, orderBy: { name: 'asc' } });
    },
  }),
  workflowVariables: t.field({
    type: [VariableRef],
    description: 'The variables workflow templates may use, optionally only those with a value for one trigger.',
    authScopes: { can: 'workflow:read' },
    args: { trigger: t.arg({ type: WorkflowTriggerEnum, description: 'Only variables with a value for this trigger.' }) },
    resolve: (_r, args) => WORKFLOW_VARIABLES.filter((v) => !args.trigger || v.triggers.includes(args.trigger)),
  }),
}));

builder.mutationFields((t) => ({
  createWorkflow: t.field({
    description: 'Creates a workflow (ADMIN, MANAGER). The payload shows its webhook signing secret once.',
    authScopes: { can: 'workflow:manage' },
    type: CreateWorkflowPayload,
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: CreateWorkflowInput, required: true }) },
    resolve: (_r, { input }, ctx) => createWorkflow(ctx, { ...toServiceInput(input), organizationId: String(input.organizationId) }),
  }),
  updateWorkflow: t.field({
    description: 'Replaces a workflow’s definition (ADMIN, MANAGER).',
    authScopes: { can: 'workflow:manage' },
    type: WorkflowPayload('UpdateWorkflowPayload', 'The updated workflow.'),
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: UpdateWorkflowInput, required: true }) },
    resolve: async (_r, { input }, ctx) => ({ workflow: await updateWorkflow(ctx, { ...toServiceInput(input), id: String(input.id) }) }),
  }),
  setWorkflowEnabled: t.field({
    description: 'Turns a workflow on or off (ADMIN, MANAGER).',
    authScopes: { can: 'workflow:manage' },
    type: WorkflowPayload('SetWorkflowEnabledPayload', 'The workflow after the change.'),
    args: { input: t.arg({ type: SetWorkflowEnabledInput, required: true }) },
    resolve: async (_r, { input }, ctx) => ({ workflow: await setWorkflowEnabled(ctx, { id: String(input.id), enabled: input.enabled }) }),
  }),
  deleteWorkflow: t.field({
    description: 'Deletes a workflow and its delivery log (ADMIN, MANAGER).',
    authScopes: { can: 'workflow:manage' },
    type: DeleteWorkflowPayload,
    args: { input: t.arg({ type: DeleteWorkflowInput, required: true }) },
    resolve: (_r, { input }, ctx) => deleteWorkflow(ctx, String(input.id)),
  }),
  testWorkflowAction: t.field({
    description: 'Sends one sample (sample values for every variable) through an action, or each action, now and once, and says whether it arrived (ADMIN, MANAGER).',
    authScopes: { can: 'workflow:manage' },
    type: TestWorkflowActionPayload,
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: TestWorkflowActionInput, required: true }) },
    resolve: async (_r, { input }, ctx) => ({ results: await testWorkflowAction(ctx, { id: String(input.id), actionIndex: input.actionIndex }) }),
  }),
}));
