import { describe, expect, it } from 'vitest';
import { Policy, type Principal } from '../../src/policy/policy.ts';
import { ACTIONS, type Action } from '../../src/policy/actions.ts';
import { readFileSync } from 'node:fs';
import { CALLERS, permissionMatrix, renderPermissionsDoc } from '../../scripts/lib/permissions-docs.ts';
import { READABLE_MODELS } from '../../src/policy/readable.ts';

const user = (memberships: Record<string, 'ADMIN' | 'MANAGER' | 'MEMBER' | 'AUDITOR'>, isSystemAdmin = false): Principal => ({
  kind: 'user',
  userId: 'u1',
  sessionId: 's1',
  isSystemAdmin,
  memberships: new Map(Object.entries(memberships)),
});
const apiKey = (role: 'ADMIN' | 'MEMBER' | 'AUDITOR'): Principal => ({ kind: 'apiKey', apiKeyId: 'k1', organizationId: 'o1', role });

describe('Policy.can', () => {
  const table: [string, Principal, Action, { organizationId?: string; userId?: string }, boolean][] = [
    ['anonymous may do nothing', { kind: 'anonymous' }, 'organization:read', { organizationId: 'o1' }, false],
    ['anonymous may not read a viewer', { kind: 'anonymous' }, 'viewer:read', {}, false],
    ['member reads own org', user({ o1: 'MEMBER' }), 'organization:read', { organizationId: 'o1' }, true],
    ['member cannot read another org', user({ o1: 'MEMBER' }), 'organization:read', { organizationId: 'o2' }, false],
    ['member cannot manage members', user({ o1: 'MEMBER' }), 'member:manage', { organizationId: 'o1' }, false],
    ['manager cannot manage members', user({ o1: 'MANAGER' }), 'member:manage', { organizationId: 'o1' }, false],
    ['admin manages members of own org', user({ o1: 'ADMIN' }), 'member:manage', { organizationId: 'o1' }, true],
    ['admin of o1 cannot manage o2', user({ o1: 'ADMIN', o2: 'MEMBER' }), 'member:manage', { organizationId: 'o2' }, false],
    ['auditor reads members', user({ o1: 'AUDITOR' }), 'member:read', { organizationId: 'o1' }, true],
    ['org action without an org is refused', user({ o1: 'ADMIN' }), 'member:manage', {}, false],
    ['system admin creates orgs', user({}, true), 'organization:create', {}, true],
    ['org admin is not a system admin', user({ o1: 'ADMIN' }), 'organization:create', {}, false],
    ['system admin has no implicit org access', user({}, true), 'organization:read', { organizationId: 'o1' }, false],
    ['system admin disables users', user({}, true), 'user:disable', {}, true],
    ['user manages own sessions', user({}), 'session:manage', { userId: 'u1' }, true],
    ['user cannot manage another’s sessions', user({}), 'session:manage', { userId: 'u2' }, false],
    ['api key reads its org', apiKey('MEMBER'), 'organization:read', { organizationId: 'o1' }, true],
    ['api key cannot read another org', apiKey('ADMIN'), 'organization:read', { organizationId: 'o2' }, false],
    ['ADMIN api key still cannot manage members (users only)', apiKey('ADMIN'), 'member:manage', { organizationId: 'o1' }, false],
    ['ADMIN api key cannot manage api keys', apiKey('ADMIN'), 'apiKey:manage', { organizationId: 'o1' }, false],
    ['api key has no sessions', apiKey('ADMIN'), 'session:manage', {}, false],
    ['admin imports credentials', user({ o1: 'ADMIN' }), 'credential:import', { organizationId: 'o1' }, true],
    ['manager imports credentials', user({ o1: 'MANAGER' }), 'credential:import', { organizationId: 'o1' }, true],
    ['member does not import', user({ o1: 'MEMBER' }), 'credential:import', { organizationId: 'o1' }, false],
    ['auditor does not import', user({ o1: 'AUDITOR' }), 'credential:import', { organizationId: 'o1' }, false],
    ['ADMIN api key does not import (users only)', apiKey('ADMIN'), 'credential:import', { organizationId: 'o1' }, false],
    ['manager changes a password on its target', user({ o1: 'MANAGER' }), 'credential:changeOnTarget', { organizationId: 'o1' }, true],
    ['member does not change a password on its target', user({ o1: 'MEMBER' }), 'credential:changeOnTarget', { organizationId: 'o1' }, false],
    ['ADMIN api key does not change passwords on targets (users only)', apiKey('ADMIN'), 'credential:changeOnTarget', { organizationId: 'o1' }, false],
    ['auditor checks a password against its target', user({ o1: 'AUDITOR' }), 'credential:checkOnTarget', { organizationId: 'o1' }, true],
    ['auditor reads an exposure report', user({ o1: 'AUDITOR' }), 'exposure:read', { organizationId: 'o1' }, true],
    ['manager reads an exposure report', user({ o1: 'MANAGER' }), 'exposure:read', { organizationId: 'o1' }, true],
    ['member does not read exposure reports', user({ o1: 'MEMBER' }), 'exposure:read', { organizationId: 'o1' }, false],
  ];
  it.each(table)('%s', (_name, principal, action, resource, expected) => {
    expect(new Policy(principal).can(action, resource)).toBe(expected);
  });
});

describe('Policy lists and assertions', () => {
  it('filters lists to organizations where the action is granted', () => {
    const p = new Policy(user({ o1: 'ADMIN', o2: 'MEMBER', o3: 'AUDITOR' }));
    expect(p.organizationIds('member:manage')).toEqual(['o1']);
    expect(p.where('organization:read')).toEqual({ organizationId: { in: ['o1', 'o2', 'o3'] } });
    expect(new Policy(apiKey('MEMBER')).organizationIds('apiKey:read')).toEqual([]);
  });

  it('assert throws the same FORBIDDEN error whatever the reason', () => {
    const p = new Policy(user({ o1: 'MEMBER' }));
    const messages = ['o1', 'o2', 'does-not-exist'].map((organizationId) => {
      try {
        p.assert('member:manage', { organizationId });
        return 'allowed';
      } catch (e) {
        return `${(e as Error).message}|${JSON.stringify((e as { extensions?: unknown }).extensions)}`;
      }
    });
    expect(new Set(messages).size).toBe(1);
    expect(messages[0]).toContain('FORBIDDEN');
  });

  it('caches decisions per policy object', () => {
    const memberships = new Map([['o1', 'ADMIN' as const]]);
    const p = new Policy({ kind: 'user', userId: 'u', sessionId: 's', isSystemAdmin: false, memberships });
    expect(p.can('member:manage', { organizationId: 'o1' })).toBe(true);
    memberships.set('o1', 'MEMBER' as never);
    expect(p.can('member:manage', { organizationId: 'o1' })).toBe(true);
    expect(new Policy({ kind: 'user', userId: 'u', sessionId: 's', isSystemAdmin: false, memberships }).can('member:manage', { organizationId: 'o1' })).toBe(false);
  });

  it('every action names who may hold it', () => {
    for (const [name, rule] of Object.entries(ACTIONS)) {
      expect(rule.principals.length, name).toBeGreaterThan(0);
      expect(Boolean(('roles' in rule && rule.roles) || ('system' in rule && rule.system) || ('self' in rule && rule.self)), name).toBe(true);
    }
  });
});

/**
 * Every action × every kind of caller, pinned by hand: a change to actions.ts or to the policy's deny rules shows
 * up here as a reviewed diff. Columns, in order (CALLERS in scripts/lib/permissions-docs.ts): anonymous · user
 * without membership · user ADMIN · MANAGER · MEMBER · AUDITOR of o1 · ADMIN of another organization · system
 * admin without membership · ADMIN of o1 who must enroll a second factor · API key ADMIN · MANAGER · MEMBER ·
 * AUDITOR of o1. x = granted in o1 (own account for self actions; installation-wide for system ones).
 */
const EXPECTED: Record<Action, string> = {
  'viewer:read': '.xxxxxxxxxxxx',
  'session:manage': '.xxxxxxxx....',
  'mfa:manage': '.xxxxxxxx....',
  'mfa:reset': '..x....x.....',
  'invitation:respond': '.xxxxxxxx....',
  'organization:create': '.......x.....',
  'organization:read': '..xxxx...xxxx',
  'organization:manage': '..x..........',
  'member:read': '..xxxx...xxxx',
  'member:manage': '..x..........',
  'apiKey:read': '..x..........',
  'apiKey:manage': '..x..........',
  'audit:readSystem': '.......x.....',
  'user:disable': '.......x.....',
  'credential:read': '..xxxx...xxxx',
  'credential:reveal': '..xxx....xxx.',
  'credential:revealOtpSecret': '..x..........',
  'credential:write': '..xxx....xxx.',
  'credential:manageRestricted': '..xx.........',
  'credential:delete': '..x..........',
  'credential:export': '..xx.x.......',
  'credential:exportSecrets': '..x..........',
  'credential:import': '..xx.........',
  'credential:checkOnTarget': '..xx.x...xx.x',
  'credential:changeOnTarget': '..xx.........',
  'category:manage': '..xx.........',
  'folder:manage': '..xx.........',
  'accessPolicy:read': '..xxxx...xxxx',
  'accessPolicy:manage': '..xx.........',
  'accessRequest:create': '..xxx........',
  'accessRequest:decide': '..xxxx.......',
  'accessRequest:readAll': '..x..x...x..x',
  'accessRequest:revokeAny': '..x..........',
  'workflow:read': '..xx.x...xx.x',
  'workflow:manage': '..xx.........',
  'accessRecord:read': '..xx.x...xx.x',
  'exposure:read': '..xx.x.......',
  'accessEvent:read': '..xx.x...xx.x',
  'asset:read': '..xxxx...xxxx',
  'asset:manage': '..x..........',
  'accessSession:readRecording': '..x..x.......',
  'accessSession:start': '..xxx........',
  'audit:read': '..x..x...x..x',
};

describe('actions × roles × principal kinds', () => {
  const matrix = permissionMatrix();
  it('the columns are the callers the table above was written for', () => {
    expect(CALLERS.map((c) => c.key)).toEqual([
      'anonymous', 'user', 'user:ADMIN', 'user:MANAGER', 'user:MEMBER', 'user:AUDITOR', 'otherOrgAdmin', 'systemAdmin', 'enrolling',
      'apiKey:ADMIN', 'apiKey:MANAGER', 'apiKey:MEMBER', 'apiKey:AUDITOR',
    ]);
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(ACTIONS).sort());
  });
  it.each(Object.keys(ACTIONS) as Action[])('%s', (action) => {
    expect(CALLERS.map((c) => (matrix[action][c.key] ? 'x' : '.')).join('')).toBe(EXPECTED[action]);
  });
  it('no API key holds an action the table does not admit API keys to, whatever its role', () => {
    for (const [action, rule] of Object.entries(ACTIONS) as [Action, (typeof ACTIONS)[Action]][]) {
      if ((rule.principals as readonly string[]).includes('apiKey')) continue;
      for (const c of CALLERS.filter((c) => c.principal.kind === 'apiKey')) expect(matrix[action][c.key], `${action} ${c.key}`).toBe(false);
    }
  });
});

describe('docs/permissions.md', () => {
  it('is what the policy generates (run `npm run permissions:docs` after changing an action or a visibility rule)', () => {
    expect(readFileSync(new URL('../../docs/permissions.md', import.meta.url), 'utf8')).toBe(renderPermissionsDoc());
  });
});

describe('Policy.readable', () => {
  const member = new Policy(user({ o1: 'MEMBER', o2: 'AUDITOR' }));
  it('scopes organization-owned models to the organizations where the reading action is granted', () => {
    expect(member.readable('Credential')).toEqual({ organizationId: { in: ['o1', 'o2'] } });
    expect(member.readable('ApiKey')).toEqual({ organizationId: { in: [] } });
    expect(member.readable('Invitation')).toEqual({ organizationId: { in: [] } });
    expect(member.readable('Workflow')).toEqual({ organizationId: { in: ['o2'] } });
    expect(member.readable('Organization')).toEqual({ id: { in: ['o1', 'o2'] } });
  });
  it('users: oneself and people sharing an organization where members are readable; everyone for a system admin', () => {
    expect(member.readable('User')).toEqual({ OR: [{ id: 'u1' }, { memberships: { some: { organizationId: { in: ['o1', 'o2'] } } } }] });
    expect(new Policy(user({}, true)).readable('User')).toEqual({});
    expect(new Policy(apiKey('MEMBER')).readable('User')).toEqual({ OR: [{ memberships: { some: { organizationId: { in: ['o1'] } } } }] });
  });
  it('access requests: an API key sees only what readAll grants; a user also their own and those naming them', () => {
    expect(new Policy(apiKey('MEMBER')).readable('AccessRequest')).toEqual({ organizationId: { in: [] } });
    expect(new Policy(apiKey('AUDITOR')).readable('AccessRequest')).toEqual({ organizationId: { in: ['o1'] } });
    const where = member.readable('AccessRequest') as { OR: unknown[] };
    expect(where.OR).toHaveLength(3);
    expect(where.OR[0]).toEqual({ organizationId: { in: ['o2'] } });
    expect(where.OR[1]).toEqual({ requesterId: 'u1', organizationId: { in: ['o1', 'o2'] } });
  });
  it('anonymous callers and users who must enroll a second factor see no rows of any organization', () => {
    const enrolling = new Policy({ ...(user({ o1: 'ADMIN' }) as Extract<Principal, { kind: 'user' }>), mfaEnrollmentRequired: true });
    for (const p of [new Policy({ kind: 'anonymous' }), enrolling]) {
      expect(p.readable('Credential')).toEqual({ organizationId: { in: [] } });
      expect(p.readable('Organization')).toEqual({ id: { in: [] } });
    }
  });
  it('has a rule for every model with a node id, and caches the filter per policy object', () => {
    expect(READABLE_MODELS.sort()).toEqual(
      ['AccessPolicy', 'AccessRequest', 'AccessSession', 'ApiKey', 'Asset', 'AuditEvent', 'Category', 'Credential', 'Folder', 'Invitation', 'Membership', 'Organization', 'User', 'Workflow'],
    );
    expect(member.readable('User')).toBe(member.readable('User'));
  });
});
