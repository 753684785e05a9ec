import type { Role } from '../generated/prisma-sqlite/enums.ts';

export const ROLES = ['ADMIN', 'MANAGER', 'MEMBER', 'AUDITOR'] as const satisfies readonly Role[];
const ALL_ROLES: readonly Role[] = ROLES;

/**
 * Who may do what. This table is the whole answer to "who may do X?".
 *
 * - `roles`: the organization roles that grant the action inside that organization.
 * - `system`: granted to system administrators (installation-wide actions: creating organizations, disabling
 *   users). A system administrator has no implicit access inside organizations: least privilege for a vault.
 * - `principals`: which kinds of caller may ever hold it. API keys are for machines working inside one
 *   organization; they never manage people or keys.
 * - `self`: granted to any signed-in user for their own account.
 */
export type ActionRule = {
  description: string;
  roles?: readonly Role[];
  system?: boolean;
  self?: boolean;
  principals: readonly ('user' | 'apiKey')[];
  /** Still granted to a user who must enroll a second factor first (organization `requireMfa`). */
  duringMfaEnrollment?: boolean;
};

export const ACTIONS = {
  'viewer:read': { description: 'Read one’s own identity and memberships', self: true, principals: ['user', 'apiKey'], duringMfaEnrollment: true },
  'session:manage': { description: 'Sign out, list and revoke one’s own sessions', self: true, principals: ['user'], duringMfaEnrollment: true },
  'mfa:manage': { description: 'Enroll, confirm and remove one’s own second factors; step up', self: true, principals: ['user'], duringMfaEnrollment: true },
  'mfa:reset': { description: 'Remove another user’s second factors (they lost them); also needs ADMIN of every organization the user belongs to, or system administrator', roles: ['ADMIN'], system: true, principals: ['user'] },
  'invitation:respond': { description: 'See, accept and decline invitations addressed to one’s own email', self: true, principals: ['user'], duringMfaEnrollment: true },
  'organization:create': { description: 'Create an organization', system: true, principals: ['user'] },
  'organization:read': { description: 'See an organization', roles: ALL_ROLES, principals: ['user', 'apiKey'] },
  'organization:manage': { description: 'Rename an organization or change its status', roles: ['ADMIN'], principals: ['user'] },
  'member:read': { description: 'List the members of an organization', roles: ALL_ROLES, principals: ['user', 'apiKey'] },
  'member:manage': { description: 'Add, change the role of, or remove members', roles: ['ADMIN'], principals: ['user'] },
  'apiKey:read': { description: 'List an organization’s API keys', roles: ['ADMIN'], principals: ['user'] },
  'apiKey:manage': { description: 'Create and revoke API keys', roles: ['ADMIN'], principals: ['user'] },
  'audit:readSystem': { description: 'Read and verify the installation-wide (system) audit chain', system: true, principals: ['user'] },
  'user:disable': { description: 'Disable or re-enable a user installation-wide', system: true, principals: ['user'] },

  // The vault. AUDITOR reads metadata but never secrets; restricted credentials additionally need an
  // Available access request (credentials service), which no role bypasses.
  'credential:read': { description: 'See credential metadata (never secrets)', roles: ALL_ROLES, principals: ['user', 'apiKey'] },
  'credential:reveal': { description: 'Reveal, copy or export the secret of an ordinary credential', roles: ['ADMIN', 'MANAGER', 'MEMBER'], principals: ['user', 'apiKey'] },
  'credential:revealOtpSecret': { description: 'Reveal the OTP seed itself rather than the current code', roles: ['ADMIN'], principals: ['user'] },
  'credential:write': { description: 'Create, edit, rotate, archive and restore credentials', roles: ['ADMIN', 'MANAGER', 'MEMBER'], principals: ['user', 'apiKey'] },
  'credential:manageRestricted': { description: 'Create, edit, rotate or archive restricted credentials, and set or clear the restricted flag', roles: ['ADMIN', 'MANAGER'], principals: ['user'] },
  'credential:delete': { description: 'Delete a credential for good', roles: ['ADMIN'], principals: ['user'] },
  'credential:export': { description: 'Export credential metadata', roles: ['ADMIN', 'MANAGER', 'AUDITOR'], principals: ['user'] },
  'credential:exportSecrets': { description: 'Export credentials with their secrets', roles: ['ADMIN'], principals: ['user'] },
  'credential:import': { description: 'Import credentials from another vault’s export (IT Glue, Bitwarden, KeePass, 1Password, CSV); also creates the folders the file names', roles: ['ADMIN', 'MANAGER'], principals: ['user'] },
  // Checking and changing a vaulted password on its target system (docs/targets.md); the secret never leaves.
  'credential:checkOnTarget': { description: 'Check that a credential’s current password still opens its target (SSH asset or PostgreSQL role); flags drift', roles: ['ADMIN', 'MANAGER', 'AUDITOR'], principals: ['user', 'apiKey'] },
  'credential:changeOnTarget': { description: 'Change a credential’s password on its target to a generated one, promoted in the vault once the target took it', roles: ['ADMIN', 'MANAGER'], principals: ['user'] },
  'category:manage': { description: 'Add, rename and remove categories', roles: ['ADMIN', 'MANAGER'], principals: ['user'] },
  // Assets are the hosts the SSH proxy reaches; their accounts are credentials (docs/sessions.md).
  'asset:read': { description: 'See an organization’s assets and their accounts (never secrets)', roles: ALL_ROLES, principals: ['user', 'apiKey'] },
  'asset:manage': { description: 'Create and change assets, pin their host keys, link credentials to them', roles: ['ADMIN'], principals: ['user'] },
  'accessSession:readRecording': { description: 'Replay the recording of an SSH session through the proxy (audited)', roles: ['ADMIN', 'AUDITOR'], principals: ['user'] },
  'accessSession:start': { description: 'Start one’s own SSH session of an Available SESSION request (the request decides; this is the role gate)', roles: ['ADMIN', 'MANAGER', 'MEMBER'], principals: ['user'] },
  'folder:manage': { description: 'Create, rename, move and delete folders', roles: ['ADMIN', 'MANAGER'], principals: ['user'] },
  // Access requests. The role gate here is the outer bound; the access policy then names who, within it,
  // may request, approve and review (accessPolicy.service / accessRequest.state).
  'accessPolicy:read': { description: 'See the access policies of an organization', roles: ALL_ROLES, principals: ['user', 'apiKey'] },
  'accessPolicy:manage': { description: 'Create, edit, enable and delete access policies', roles: ['ADMIN', 'MANAGER'], principals: ['user'] },
  'accessRequest:create': { description: 'Request access to a restricted credential (when a policy names the requester)', roles: ['ADMIN', 'MANAGER', 'MEMBER'], principals: ['user'] },
  'accessRequest:decide': { description: 'Approve, deny, revoke or review requests (when a policy names the approver or reviewer)', roles: ALL_ROLES, principals: ['user'] },
  'accessRequest:readAll': { description: 'See every access request of an organization', roles: ['ADMIN', 'AUDITOR'], principals: ['user', 'apiKey'] },
  'accessRequest:revokeAny': { description: 'Revoke any approved or available request, approver or not', roles: ['ADMIN'], principals: ['user'] },
  // Workflows notify people and systems outside the vault; they never carry secrets (workflow.service).
  'workflow:read': { description: 'See an organization’s workflows and their delivery log', roles: ['ADMIN', 'MANAGER', 'AUDITOR'], principals: ['user', 'apiKey'] },
  'workflow:manage': { description: 'Create, edit, enable, test and delete workflows', roles: ['ADMIN', 'MANAGER'], principals: ['user'] },
  'accessRecord:read': { description: 'See who revealed, copied or exported a credential (Credential.accessRecords)', roles: ['ADMIN', 'MANAGER', 'AUDITOR'], principals: ['user', 'apiKey'] },
  'exposure:read': { description: 'See everything one person revealed, copied, exported or was released through a request, and whether it was rotated since (exposureReport)', roles: ['ADMIN', 'MANAGER', 'AUDITOR'], principals: ['user'] },
  'accessEvent:read': { description: 'Watch reveals, copies and exports live (passwordAccessed)', roles: ['ADMIN', 'MANAGER', 'AUDITOR'], principals: ['user', 'apiKey'] },
  'audit:read': { description: 'Read, verify and export the audit log', roles: ['ADMIN', 'AUDITOR'], principals: ['user', 'apiKey'] },
} as const satisfies Record<string, ActionRule>;

export type Action = keyof typeof ACTIONS;

export function isAction(value: string): value is Action {
  return Object.hasOwn(ACTIONS, value);
}
