import { describe, expect, it } from 'vitest';
import { Policy, type Principal } from '../../src/policy/policy.ts';
import { ACTIONS, type Action } from '../../src/policy/actions.ts';

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
