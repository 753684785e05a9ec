import type { Prisma } from '../generated/prisma-sqlite/client.ts';
import type { Policy } from './policy.ts';

/**
 * Which rows a caller may see, per model, as Prisma filters. The other half of the policy chokepoint: `can` and
 * `assert` decide actions, `readable` decides visibility, and both read the one action table (actions.ts).
 * Every node loader (`findUnique` of a prismaNode), list relation, connection and service lookup of these
 * models filters with `policy.readable(model)`; test/unit/schema.test.ts fails when a relation or connection
 * to one of them does not.
 *
 * Models without an entry (AccessApproval, AccessRequestHistory, AccessRecord, CredentialVersion,
 * CredentialApiKey, WorkflowDelivery, WorkflowDeliveryAttempt, sessions, secrets …) have no id a client can
 * ask for: they are only reached through a parent that was itself filtered, and its field's own auth scope.
 */
export type ReadableWhere = {
  Organization: Prisma.OrganizationWhereInput;
  Membership: Prisma.MembershipWhereInput;
  User: Prisma.UserWhereInput;
  Credential: Prisma.CredentialWhereInput;
  Folder: Prisma.FolderWhereInput;
  Category: Prisma.CategoryWhereInput;
  AccessPolicy: Prisma.AccessPolicyWhereInput;
  AccessRequest: Prisma.AccessRequestWhereInput;
  ApiKey: Prisma.ApiKeyWhereInput;
  AuditEvent: Prisma.AuditEventWhereInput;
  Workflow: Prisma.WorkflowWhereInput;
  Invitation: Prisma.InvitationWhereInput;
  Asset: Prisma.AssetWhereInput;
  AccessSession: Prisma.AccessSessionWhereInput;
};

export type ReadableModel = keyof ReadableWhere;

type Rules = { [M in ReadableModel]: { description: string; where: (policy: Policy) => ReadableWhere[M] } };

/** The rule per model; `description` is rendered into docs/permissions.md. */
export const READABLE: Rules = {
  Organization: {
    description: 'Organizations where the caller holds `organization:read` (a member of any role; an API key its own).',
    where: (p) => ({ id: { in: p.organizationIds('organization:read') } }),
  },
  Membership: {
    description: 'The caller’s own memberships, and every membership of organizations where they hold `member:read`.',
    where: (p) => (p.userId ? { OR: [{ userId: p.userId }, p.where('member:read')] } : p.where('member:read')),
  },
  User: {
    description:
      'Themselves; people with a membership in an organization where the caller holds `member:read`; everyone, for system administrators (who disable accounts installation-wide).',
    where: (p) => {
      const principal = p.principal;
      if (principal.kind === 'user' && principal.isSystemAdmin) return {};
      return {
        OR: [
          ...(p.userId ? [{ id: p.userId }] : []),
          { memberships: { some: { organizationId: { in: p.organizationIds('member:read') } } } },
        ],
      };
    },
  },
  Credential: {
    description: 'Credentials (metadata) of organizations where the caller holds `credential:read`.',
    where: (p) => p.where('credential:read'),
  },
  Folder: { description: 'Folders of organizations where the caller holds `credential:read`.', where: (p) => p.where('credential:read') },
  Category: { description: 'Categories of organizations where the caller holds `credential:read`.', where: (p) => p.where('credential:read') },
  AccessPolicy: {
    description: 'Access policies of organizations where the caller holds `accessPolicy:read`.',
    where: (p) => p.where('accessPolicy:read'),
  },
  AccessRequest: {
    description:
      'Every request of organizations where the caller holds `accessRequest:readAll`; for users also their own requests, and those whose policy named them (or a role they hold there now) as approver or reviewer — in organizations they still belong to.',
    where: (p) => {
      const readAll = p.organizationIds('accessRequest:readAll');
      const principal = p.principal;
      if (principal.kind !== 'user') return { organizationId: { in: readAll } };
      const memberOf = [...principal.memberships.keys()];
      return {
        OR: [
          { organizationId: { in: readAll } },
          { requesterId: principal.userId, organizationId: { in: memberOf } },
          {
            participants: {
              some: {
                OR: [
                  { userId: principal.userId, organizationId: { in: memberOf } },
                  ...[...principal.memberships].map(([organizationId, role]) => ({ organizationId, role })),
                ],
              },
            },
          },
        ],
      };
    },
  },
  ApiKey: { description: 'API keys of organizations where the caller holds `apiKey:read`.', where: (p) => p.where('apiKey:read') },
  AuditEvent: {
    description:
      'Entries of the audit chains of organizations where the caller holds `audit:read`. (The system chain is read only through `systemAuditEvents`, under `audit:readSystem`.)',
    where: (p) => p.where('audit:read'),
  },
  Workflow: { description: 'Workflows of organizations where the caller holds `workflow:read`.', where: (p) => p.where('workflow:read') },
  Invitation: {
    description: 'Invitations of organizations where the caller holds `member:manage`; an invitee reads their own through `viewer.invitations`.',
    where: (p) => p.where('member:manage'),
  },
  Asset: {
    description: 'Assets (SSH hosts) of organizations where the caller holds `asset:read` (any role, like credentials).',
    where: (p) => p.where('asset:read'),
  },
  AccessSession: {
    description: 'SSH sessions (docs/sessions.md) under an access request the caller may read; recordings need `accessSession:readRecording` besides.',
    where: (p) => ({ request: p.readable('AccessRequest') }),
  },
};

export const READABLE_MODELS = Object.keys(READABLE) as ReadableModel[];

export function isReadableModel(name: string): name is ReadableModel {
  return Object.hasOwn(READABLE, name);
}
