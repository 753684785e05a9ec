import { randomUUID } from 'node:crypto';
import type { Config } from './config.ts';
import type { Db } from './db/client.ts';
import type { Clock } from './lib/clock.ts';
import type { Logger } from './lib/logger.ts';
import type { Keyring } from './modules/keys/keyring.ts';
import type { EventBus } from './lib/events.ts';
import type { RateLimiter } from './lib/rateLimit.ts';
import type { DependencyHealth } from './lib/health.ts';
import { UnauthenticatedError } from './lib/errors.ts';
import { Policy } from './policy/policy.ts';
import { authenticate, limitAuthFailures } from './modules/auth/auth.service.ts';
import type { PrincipalCache } from './modules/auth/principalCache.ts';
import type { InstallationState } from './modules/auth/installation.ts';
import type { AuditEntry } from './modules/audit/audit.chain.ts';

/** What the app is made of; built once by app.ts. */
export type AppDeps = {
  config: Config;
  db: Db;
  clock: Clock;
  logger: Logger;
  keyring: Keyring;
  /** Domain events, published after their transaction commits. */
  events: EventBus;
  /** Abuse limits (sign-ins, reveals, invalid credentials), per process or shared through Redis. */
  limits: RateLimiter;
  /** Sessions and API keys resolved lately (AUTH_CACHE_MS); emptied by `principalsChanged`. */
  principals: PrincipalCache;
  /** Whether the installation has users; the one-time bootstrap token until it has. */
  installation: InstallationState;
  /** Whether the database and Redis are reachable (docs/outages.md); /readyz reads it. */
  health: DependencyHealth;
};

/** Facts about the caller's connection, recorded with sessions and (later) access records. */
export type RequestMeta = {
  requestId: string;
  clientAddress: string | null;
  userAgent: string | null;
  /**
   * The request came from this host (a loopback address, and no proxy header unless TRUST_PROXY names the real
   * client): what `bootstrap` accepts without its one-time token. Always false on WebSocket.
   */
  fromLoopback?: boolean;
};

export type Context = AppDeps & {
  policy: Policy;
  request: RequestMeta;
  /** Audit chains this request appended to; announced (`audit.appended`) after the operation finished. */
  auditTouched: Set<string | null>;
  /** Refusals this request's services noted for the audit log (RefusalAuditor writes them after the operation). */
  refusals: AuditEntry[];
  /** The caller's policy as of now, from the same credentials (live subscriptions re-check every delivery). */
  reauthenticate(): Promise<Policy>;
  /** For WebSocket operations: closes the connection (e.g. a session that ended, a consumer that stalls). */
  closeConnection?: (code: number, reason: string) => void;
};

/** Credentials as presented, from HTTP headers or a WebSocket connection_init payload. */
export type PresentedCredentials = {
  authorization?: string | null;
  apiKey?: string | null;
};

/**
 * One context factory for HTTP and WebSocket. A presented but invalid credential is an error (401), not a
 * silent downgrade to anonymous: a client with an expired token should be told, not shown an empty world.
 */
export async function createContext(
  deps: AppDeps,
  credentials: PresentedCredentials,
  meta: Omit<RequestMeta, 'requestId'> & { requestId?: string },
): Promise<Context> {
  const match = credentials.authorization ? /^Bearer\s+(\S+)$/i.exec(credentials.authorization.trim()) : null;
  const presented = { bearer: match ? match[1] : null, apiKey: credentials.apiKey ?? null };
  // Invalid credentials are counted per client address; past the limit they are refused (429) before any lookup.
  const principal = await limitAuthFailures(deps, meta.clientAddress, Boolean(credentials.authorization) || presented.apiKey !== null, () => {
    if (credentials.authorization && !match) throw new UnauthenticatedError('The Authorization header must be "Bearer <token>".');
    return authenticate(deps, presented);
  });
  return {
    ...deps,
    policy: new Policy(principal),
    request: { requestId: meta.requestId ?? randomUUID(), clientAddress: meta.clientAddress, userAgent: meta.userAgent, fromLoopback: meta.fromLoopback ?? false },
    auditTouched: new Set(),
    refusals: [],
    // A method rather than an arrow property: tsx's keepNames would rename the arrow, turning it into a
    // dictionary-mode function that every idle subscription's context keeps (bench P5).
    async reauthenticate() {
      return new Policy(await authenticate(deps, presented));
    },
  };
}
