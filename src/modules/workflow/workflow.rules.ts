// The pure part of workflows: which audit entries fire which trigger, which filters match, and how templates
// render for each target. No database, no network: table-tested in test/unit/workflow.rules.test.ts.

export const WORKFLOW_TRIGGERS = ['PASSWORD_ACCESS', 'ACCESS_REQUEST_PENDING', 'ACCESS_REQUEST_DECIDED', 'SESSION_STARTED', 'SESSION_ENDED'] as const;
export type WorkflowTrigger = (typeof WORKFLOW_TRIGGERS)[number];

export const ID_FILTER_FIELDS = ['CREDENTIAL', 'ORGANIZATION_STATUS', 'UPDATED_BY', 'CATEGORY'] as const;
export const TEXT_FILTER_FIELDS = ['NAME', 'USERNAME', 'URL', 'NOTES'] as const;
export const FILTER_FIELDS = [...ID_FILTER_FIELDS, ...TEXT_FILTER_FIELDS] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

export const SET_OPERATORS = ['ANY_OF', 'NONE_OF'] as const;
export const TEXT_OPERATORS = ['CONTAINS', 'DOES_NOT_CONTAIN', 'STARTS_WITH', 'ENDS_WITH'] as const;
export const FILTER_OPERATORS = [...SET_OPERATORS, ...TEXT_OPERATORS] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/** One filter; `values` are local ids (CREDENTIAL, UPDATED_BY, CATEGORY), statuses, or one text. */
export type WorkflowFilter = { field: FilterField; operator: FilterOperator; values: string[] };

/** Audit actions of the access surfaces (reveal.service recordAccess: `credential.${surface.toLowerCase()}`). */
export const ACCESS_ACTIONS: Record<string, string> = {
  'credential.reveal': 'REVEAL',
  'credential.copy': 'COPY',
  'credential.export': 'EXPORT',
  'credential.export_pdf': 'EXPORT_PDF',
  'credential.autofill': 'AUTOFILL',
  'credential.print': 'PRINT',
};

const DECIDED_STATES = new Set(['APPROVED', 'AVAILABLE', 'DENIED', 'REVOKED']);

/**
 * The trigger an audit entry fires, if any. Requests: created or resubmitted while PENDING, or a step approved
 * with the request still pending (the next step's approvers are now asked) → PENDING; an approval that
 * completes the last step, a denial, a revocation, or a request approved automatically by its policy → DECIDED.
 */
export function triggerOf(action: string, data: Record<string, unknown>): WorkflowTrigger | null {
  if (action in ACCESS_ACTIONS) return 'PASSWORD_ACCESS';
  if (action === 'access_request.create' || action === 'access_request.resubmit') {
    if (data.state === 'PENDING') return 'ACCESS_REQUEST_PENDING';
    return typeof data.state === 'string' && DECIDED_STATES.has(data.state) ? 'ACCESS_REQUEST_DECIDED' : null;
  }
  if (action === 'access_request.approve') return data.to === 'PENDING' ? 'ACCESS_REQUEST_PENDING' : 'ACCESS_REQUEST_DECIDED';
  if (action === 'access_request.deny' || action === 'access_request.revoke') return 'ACCESS_REQUEST_DECIDED';
  // SSH sessions through the recording proxy (docs/sessions.md).
  if (action === 'session.started') return 'SESSION_STARTED';
  if (action === 'session.ended') return 'SESSION_ENDED';
  return null;
}

/** What filters are evaluated against: the credential as it is when the entry is matched. */
export type Subject = {
  credentialId: string | null;
  organizationStatus: string;
  updatedById: string | null;
  categoryId: string | null;
  name: string;
  username: string | null;
  url: string | null;
  notes: string | null;
};

function setValue(s: Subject, field: (typeof ID_FILTER_FIELDS)[number]): string | null {
  switch (field) {
    case 'CREDENTIAL':
      return s.credentialId;
    case 'ORGANIZATION_STATUS':
      return s.organizationStatus;
    case 'UPDATED_BY':
      return s.updatedById;
    case 'CATEGORY':
      return s.categoryId;
  }
}

function textValue(s: Subject, field: (typeof TEXT_FILTER_FIELDS)[number]): string {
  switch (field) {
    case 'NAME':
      return s.name;
    case 'USERNAME':
      return s.username ?? '';
    case 'URL':
      return s.url ?? '';
    case 'NOTES':
      return s.notes ?? '';
  }
}

/** Every filter must match (AND). Text comparisons ignore case; a missing value is the empty text. */
export function matchesFilters(filters: readonly WorkflowFilter[], s: Subject): boolean {
  return filters.every((f) => {
    if ((ID_FILTER_FIELDS as readonly string[]).includes(f.field)) {
      const v = setValue(s, f.field as (typeof ID_FILTER_FIELDS)[number]);
      const hit = v !== null && f.values.includes(v);
      return f.operator === 'ANY_OF' ? hit : f.operator === 'NONE_OF' ? !hit : false;
    }
    const hay = textValue(s, f.field as (typeof TEXT_FILTER_FIELDS)[number]).toLowerCase();
    const needle = (f.values[0] ?? '').toLowerCase();
    switch (f.operator) {
      case 'CONTAINS':
        return hay.includes(needle);
      case 'DOES_NOT_CONTAIN':
        return !hay.includes(needle);
      case 'STARTS_WITH':
        return hay.startsWith(needle);
      case 'ENDS_WITH':
        return hay.endsWith(needle);
      default:
        return false;
    }
  });
}

/** Whether an operator applies to a field: sets for ids and statuses, text operators for text. */
export function operatorFits(field: FilterField, operator: FilterOperator): boolean {
  const isSetField = (ID_FILTER_FIELDS as readonly string[]).includes(field);
  return isSetField === (SET_OPERATORS as readonly string[]).includes(operator);
}

// --- template variables ---

export type WorkflowVariable = { name: string; description: string; triggers: readonly WorkflowTrigger[]; sample: string };

const ALL = WORKFLOW_TRIGGERS;
const REQUESTS = ['ACCESS_REQUEST_PENDING', 'ACCESS_REQUEST_DECIDED'] as const;
const SESSIONS = ['SESSION_STARTED', 'SESSION_ENDED'] as const;

/** Every variable a subject, body or message may use. Values are metadata only: never a secret. */
export const WORKFLOW_VARIABLES: readonly WorkflowVariable[] = [
  { name: 'workflow.name', description: 'The workflow’s name.', triggers: ALL, sample: 'Sample workflow' },
  { name: 'event', description: 'The trigger: PASSWORD_ACCESS, ACCESS_REQUEST_PENDING, ACCESS_REQUEST_DECIDED, SESSION_STARTED or SESSION_ENDED.', triggers: ALL, sample: 'PASSWORD_ACCESS' },
  { name: 'occurredAt', description: 'When it happened (ISO 8601, UTC).', triggers: ALL, sample: '2026-01-01T00:00:00.000Z' },
  { name: 'organization.name', description: 'The organization’s name.', triggers: ALL, sample: 'Example Org' },
  { name: 'organization.status', description: 'The organization’s status (ACTIVE or INACTIVE).', triggers: ALL, sample: 'ACTIVE' },
  { name: 'actor.email', description: 'Email of the user who acted (empty for API keys and the scheduler).', triggers: ALL, sample: 'someone@example.com' },
  { name: 'actor.name', description: 'Name of the user who acted, or of the API key.', triggers: ALL, sample: 'Some One' },
  { name: 'credential.name', description: 'The credential’s name.', triggers: ALL, sample: 'Sample credential' },
  { name: 'credential.username', description: 'The credential’s username.', triggers: ALL, sample: 'admin' },
  { name: 'credential.url', description: 'The credential’s URL.', triggers: ALL, sample: 'https://example.com' },
  { name: 'credential.category', description: 'The credential’s category name.', triggers: ALL, sample: 'Servers' },
  { name: 'credential.id', description: 'The credential’s global id.', triggers: ALL, sample: 'Q3JlZGVudGlhbDpzYW1wbGU=' },
  { name: 'surface', description: 'How the secret left the vault: REVEAL, COPY, EXPORT, EXPORT_PDF, AUTOFILL or PRINT.', triggers: ['PASSWORD_ACCESS'], sample: 'REVEAL' },
  { name: 'field', description: 'Which secret field was accessed (e.g. PASSWORD).', triggers: ['PASSWORD_ACCESS'], sample: 'PASSWORD' },
  { name: 'accessedAt', description: 'When the secret was accessed (ISO 8601, UTC).', triggers: ['PASSWORD_ACCESS'], sample: '2026-01-01T00:00:00.000Z' },
  { name: 'request.id', description: 'The access request’s global id.', triggers: REQUESTS, sample: 'QWNjZXNzUmVxdWVzdDpzYW1wbGU=' },
  { name: 'request.state', description: 'The request’s state after the change (e.g. PENDING, APPROVED, DENIED).', triggers: REQUESTS, sample: 'PENDING' },
  { name: 'request.reason', description: 'The requester’s reason.', triggers: REQUESTS, sample: 'Sample reason' },
  { name: 'request.ticketNumber', description: 'The request’s ticket number.', triggers: REQUESTS, sample: 'TICKET-1' },
  { name: 'request.requester.email', description: 'Email of the requester.', triggers: REQUESTS, sample: 'requester@example.com' },
  { name: 'request.comment', description: 'The approver’s comment on the decision.', triggers: REQUESTS, sample: 'Sample comment' },
  { name: 'request.startsAt', description: 'Start of the requested window (ISO 8601, UTC).', triggers: REQUESTS, sample: '2026-01-01T00:00:00.000Z' },
  { name: 'request.endsAt', description: 'End of the requested window (ISO 8601, UTC).', triggers: REQUESTS, sample: '2026-01-01T01:00:00.000Z' },
  { name: 'session.id', description: 'The SSH session’s global id (sessionRecording, sessionActivity).', triggers: SESSIONS, sample: 'QWNjZXNzU2Vzc2lvbjpzYW1wbGU=' },
  { name: 'session.user.email', description: 'Email of the person in the session.', triggers: SESSIONS, sample: 'someone@example.com' },
  { name: 'session.host', description: 'The target host and port the session opened.', triggers: SESSIONS, sample: 'server.example.com:22' },
  { name: 'session.endReason', description: 'Why the session ended (e.g. CLIENT_CLOSED, WINDOW_ENDED, TERMINATED); empty when it started.', triggers: SESSIONS, sample: 'CLIENT_CLOSED' },
];

const KNOWN = new Set(WORKFLOW_VARIABLES.map((v) => v.name));
const PLACEHOLDER = /\{\{\s*([a-zA-Z][a-zA-Z0-9_.]*)\s*\}\}/g;

export type Variables = Record<string, string>;

/** Placeholders in a template that are not variables; empty when the template is valid. */
export function unknownVariables(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((name) => !KNOWN.has(name));
}

export const sampleVariables = (workflowName: string, trigger: WorkflowTrigger): Variables => ({
  ...Object.fromEntries(WORKFLOW_VARIABLES.map((v) => [v.name, v.triggers.includes(trigger) ? v.sample : ''])),
  'workflow.name': workflowName,
  event: trigger,
});

/** Each target has its own escaping; a variable's value is data, never markup for the target. */
export type TemplateTarget = 'text' | 'html' | 'slack' | 'header';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Slack's mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const escapers: Record<TemplateTarget, (s: string) => string> = {
  text: (s) => s,
  html: escapeHtml,
  slack: escapeSlack,
  // Subjects are one line: line breaks in a value must not start new headers.
  header: (s) => s.replace(/[\r\n\t]+/g, ' '),
};

/**
 * Renders a template for a target. For HTML the whole template is escaped (authors write text, not markup) and
 * line breaks become <br>; for Slack only values are escaped (authors may write mrkdwn).
 */
export function render(template: string, vars: Variables, target: TemplateTarget): string {
  if (target === 'html') {
    return template
      .split(PLACEHOLDER)
      .map((part, i) => (i % 2 === 1 ? escapeHtml(vars[part] ?? '') : escapeHtml(part)))
      .join('')
      .replace(/\r?\n/g, '<br>\n');
  }
  const escape = escapers[target];
  const out = template.replace(PLACEHOLDER, (_m, name: string) => escape(vars[name] ?? ''));
  return target === 'header' ? escapers.header(out) : out;
}

/** Exponential backoff: base, 2×base, 4×base … capped at an hour. `attempt` is the attempt that just failed (1…). */
export function retryDelayMs(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 3_600_000);
}
