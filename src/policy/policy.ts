import type { Role } from '../generated/prisma-sqlite/enums.ts';
import { ForbiddenError, MfaEnrollmentRequiredError } from '../lib/errors.ts';
import { ACTIONS, type Action, type ActionRule } from './actions.ts';
import { READABLE, type ReadableModel, type ReadableWhere } from './readable.ts';

/** Who is calling. Built once per request (HTTP) or per connection (WebSocket) by context.ts. */
export type Principal =
  | { kind: 'anonymous' }
  | {
      kind: 'user';
      userId: string;
      sessionId: string;
      isSystemAdmin: boolean;
      /** organizationId → role */
      memberships: ReadonlyMap<string, Role>;
      /** How the session was opened. */
      authMethod?: string;
      /** When the session last verified a second factor (ms since epoch), or null. */
      factorVerifiedAt?: number | null;
      /** An organization of the user requires a second factor and the user has none: only enrollment is allowed. */
      mfaEnrollmentRequired?: boolean;
    }
  | { kind: 'apiKey'; apiKeyId: string; organizationId: string; role: Role };

/** A thing an action is performed on. Organization-scoped actions need the organization. */
export type Resource = { organizationId?: string; userId?: string };

/**
 * The one place authorization is decided. Services call `assert` before acting; every node loader, relation,
 * list and lookup filters rows with `readable(model)` (readable.ts); root fields declare scopes that ask
 * `canSomewhere`. Deny wins: an action is
 * granted only when a rule grants it and no rule (principal kind, disabled state) denies it.
 * Results are cached for the life of the object (one request, or one WebSocket message).
 */
export class Policy {
  private readonly cache = new Map<string, boolean>();
  private readonly readableCache = new Map<ReadableModel, unknown>();

  constructor(readonly principal: Principal) {}

  get isAuthenticated(): boolean {
    return this.principal.kind !== 'anonymous';
  }

  /** The acting user's id, or null for API keys and anonymous callers. */
  get userId(): string | null {
    return this.principal.kind === 'user' ? this.principal.userId : null;
  }

  /**
   * The same principal with one more membership: used when a request creates an organization, so the rest of
   * that request (its payload) sees the organization as the creator now can.
   */
  withMembership(organizationId: string, role: Role): Policy {
    if (this.principal.kind !== 'user') return this;
    const memberships = new Map(this.principal.memberships);
    memberships.set(organizationId, role);
    return new Policy({ ...this.principal, memberships });
  }

  can(action: Action, resource: Resource = {}): boolean {
    const key = `${action}|${resource.organizationId ?? ''}|${resource.userId ?? ''}`;
    let result = this.cache.get(key);
    if (result === undefined) {
      result = this.decide(ACTIONS[action], resource);
      this.cache.set(key, result);
    }
    return result;
  }

  /**
   * Throws FORBIDDEN when the action is not granted. The error says nothing about whether the resource exists,
   * so a foreign id and a missing id answer the same.
   */
  assert(action: Action, resource: Resource = {}): void {
    if (!this.can(action, resource)) throw this.mfaEnrollmentRequired ? new MfaEnrollmentRequiredError() : new ForbiddenError();
  }

  /** Whether the caller must enroll a second factor before anything else (organization `requireMfa`). */
  get mfaEnrollmentRequired(): boolean {
    return this.principal.kind === 'user' && this.principal.mfaEnrollmentRequired === true;
  }

  /** The caller's role in an organization (a user's membership, or an API key's own organization). */
  roleIn(organizationId: string): Role | null {
    const p = this.principal;
    if (p.kind === 'user') return p.memberships.get(organizationId) ?? null;
    if (p.kind === 'apiKey') return p.organizationId === organizationId ? p.role : null;
    return null;
  }

  /** Whether the action is granted anywhere: in some organization, installation-wide, or for oneself. */
  canSomewhere(action: Action): boolean {
    const rule: ActionRule = ACTIONS[action];
    if ((rule.self || rule.system) && this.can(action)) return true;
    return this.organizationIds(action).length > 0;
  }

  /** The organizations in which the action is granted. */
  organizationIds(action: Action): string[] {
    const p = this.principal;
    const rule: ActionRule = ACTIONS[action];
    if (!rule.roles || !this.kindAllowed(rule) || this.enrollmentBlocks(rule)) return [];
    if (p.kind === 'apiKey') return rule.roles.includes(p.role) ? [p.organizationId] : [];
    if (p.kind === 'user') return [...p.memberships].filter(([, role]) => rule.roles!.includes(role)).map(([id]) => id);
    return [];
  }

  /**
   * The Prisma filter for the rows of `model` the caller may see (readable.ts). Node loaders, relations,
   * connections and service lookups all use it, so visibility has one definition per model.
   */
  readable<M extends ReadableModel>(model: M): ReadableWhere[M] {
    let where = this.readableCache.get(model) as ReadableWhere[M] | undefined;
    if (where === undefined) {
      where = READABLE[model].where(this);
      this.readableCache.set(model, where);
    }
    return where;
  }

  /** A Prisma filter on `organizationId`: only rows in organizations where the action is granted (readable.ts builds on it). */
  where(action: Action): { organizationId: { in: string[] } } {
    return { organizationId: { in: this.organizationIds(action) } };
  }

  private kindAllowed(rule: ActionRule): boolean {
    return this.principal.kind !== 'anonymous' && rule.principals.includes(this.principal.kind);
  }

  /** Deny wins: a user who must enroll a second factor holds only the actions that let them do so. */
  private enrollmentBlocks(rule: ActionRule): boolean {
    return this.mfaEnrollmentRequired && !rule.duringMfaEnrollment;
  }

  private decide(rule: ActionRule, resource: Resource): boolean {
    const p = this.principal;
    if (p.kind === 'anonymous' || !this.kindAllowed(rule) || this.enrollmentBlocks(rule)) return false;
    if (rule.self && (resource.userId === undefined || resource.userId === this.userId)) return true;
    if (rule.system && p.kind === 'user' && p.isSystemAdmin) return true;
    if (rule.roles && resource.organizationId) {
      const role = p.kind === 'apiKey' ? (p.organizationId === resource.organizationId ? p.role : undefined) : p.memberships.get(resource.organizationId);
      return role !== undefined && rule.roles.includes(role);
    }
    return false;
  }
}

export const anonymousPolicy = (): Policy => new Policy({ kind: 'anonymous' });
