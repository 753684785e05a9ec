import { ACTIONS, ROLES, type Action } from '../../src/policy/actions.ts';
import { Policy, type Principal } from '../../src/policy/policy.ts';
import { READABLE, READABLE_MODELS } from '../../src/policy/readable.ts';

const HEADER = 'Generated from src/policy/actions.ts and src/policy/readable.ts by `npm run permissions:docs`; a unit test fails when it is stale.';

/** The organization every cell asks about. */
export const ORG = 'o1';

const user = (memberships: [string, (typeof ROLES)[number]][], extra: Partial<Extract<Principal, { kind: 'user' }>> = {}): Principal => ({
  kind: 'user',
  userId: 'u1',
  sessionId: 's1',
  isSystemAdmin: false,
  memberships: new Map(memberships),
  ...extra,
});

/**
 * The kinds of caller, as columns. Each cell asks the real policy: `can(action, { organizationId: ORG })` — for
 * self actions that is the caller's own account, for system actions the installation.
 */
export const CALLERS: { key: string; label: string; principal: Principal }[] = [
  { key: 'anonymous', label: 'anonymous', principal: { kind: 'anonymous' } },
  { key: 'user', label: 'user, no membership', principal: user([]) },
  ...ROLES.map((role) => ({ key: `user:${role}`, label: `user ${role}`, principal: user([[ORG, role]]) })),
  { key: 'otherOrgAdmin', label: 'ADMIN of another org', principal: user([['o2', 'ADMIN']]) },
  { key: 'systemAdmin', label: 'system admin, no membership', principal: user([], { isSystemAdmin: true }) },
  {
    key: 'enrolling',
    label: 'user ADMIN, must enroll MFA',
    principal: user([[ORG, 'ADMIN']], { mfaEnrollmentRequired: true }),
  },
  ...ROLES.map((role) => ({
    key: `apiKey:${role}`,
    label: `API key ${role}`,
    principal: { kind: 'apiKey', apiKeyId: 'k1', organizationId: ORG, role } as Principal,
  })),
];

/** action → caller key → granted, asked of the policy itself (so deny rules show, not only grants). */
export function permissionMatrix(): Record<Action, Record<string, boolean>> {
  const matrix = {} as Record<Action, Record<string, boolean>>;
  for (const action of Object.keys(ACTIONS) as Action[]) {
    matrix[action] = Object.fromEntries(CALLERS.map((c) => [c.key, new Policy(c.principal).can(action, { organizationId: ORG })]));
  }
  return matrix;
}

/** docs/permissions.md */
export function renderPermissionsDoc(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const matrix = permissionMatrix();
  const head = `| Action | ${CALLERS.map((c) => c.label).join(' | ')} | What it allows |`;
  const rule = `| --- | ${CALLERS.map(() => ':-:').join(' | ')} | --- |`;
  const rows = (Object.keys(ACTIONS) as Action[]).map(
    (action) => `| \`${action}\` | ${CALLERS.map((c) => (matrix[action][c.key] ? '✔' : '·')).join(' | ')} | ${cell(ACTIONS[action].description)} |`,
  );
  const visibility = READABLE_MODELS.map((model) => `| \`${model}\` | ${cell(READABLE[model].description)} |`);
  return [
    '# Permissions',
    '',
    `<!-- ${HEADER} -->`,
    '',
    'Who may do what, and who sees which rows. Both come from one chokepoint, `src/policy/`: the action table',
    '(`actions.ts`) decides `policy.can/assert`, and `readable.ts` turns it into the Prisma filter',
    '`policy.readable(model)` that every node loader, relation, connection and lookup uses (docs/authorization.md).',
    '',
    '## Actions',
    '',
    `Each cell is the policy's own answer for that caller acting in their organization (\`${ORG}\`): ✔ granted, · refused.`,
    'Self actions are asked for the caller’s own account; installation-wide actions need no organization. Deny wins:',
    'a kind of caller the action does not admit (API keys never manage people or keys), or a user who must first',
    'enroll a second factor, is refused whatever the role. Access requests add the access policy’s own rules',
    '(who may request, approve, review) inside these bounds; restricted credentials additionally need an',
    'available access request to reveal.',
    '',
    head,
    rule,
    ...rows,
    '',
    '## Row visibility',
    '',
    'What `policy.readable(model)` lets a caller see. A row outside it answers exactly like a missing id',
    '(null, or FORBIDDEN for an action).',
    '',
    '| Model | Visible rows |',
    '| --- | --- |',
    ...visibility,
    '',
    'Other models (approvals and history of a request, access records, secret versions, workflow deliveries …) have',
    'no id of their own a client can ask for: they are read only through a parent row that passed this filter, under',
    'that field’s own auth scope.',
    '',
  ].join('\n');
}
