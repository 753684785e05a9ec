import { EventEmitter } from 'node:events';
import { GraphQLError, type GraphQLErrorOptions } from 'graphql';
import { Gauge, register } from 'prom-client';
import type { Logger } from './logger.ts';

/**
 * The state of the services an instance depends on (docs/outages.md): the database and, when REDIS_URL is set,
 * Redis. Whoever meets a dependency failing or coming back reports it here; a change is logged once (not once
 * per request that meets it) and drives what degrades: /readyz, the database circuit breaker, the rate limiter's
 * in-process fallback, the principal cache and the event bus's catch-up.
 */
export type DependencyName = 'database' | 'redis';

export type DependencyStatus = {
  /** false while any connection to it is known to be lost. */
  up: boolean;
  /** When it last changed state (wall-clock ISO time: operational, not a rule's time). */
  since: string;
  /** Whether the instance answers /readyz 503 while it is down (docs/outages.md says why Redis is not). */
  required: boolean;
};

/** Seconds a client is asked to wait (Retry-After) when a dependency is down. */
export const RETRY_AFTER_SECONDS = 2;

/**
 * A dependency the operation needs is unreachable. An expected condition, answered fast with HTTP 503 and
 * Retry-After; nothing of the operation was half-done (writes and their audit entries share one transaction).
 */
export class ServiceUnavailableError extends GraphQLError {
  constructor(
    /** Which one (for logs and metrics; clients are not told). */
    readonly dependency: DependencyName,
    options: Omit<GraphQLErrorOptions, 'extensions'> = {},
  ) {
    super('The service is temporarily unavailable. Nothing was changed; try again shortly.', {
      ...options,
      extensions: {
        code: 'SERVICE_UNAVAILABLE',
        retryAfterSeconds: RETRY_AFTER_SECONDS,
        http: { status: 503, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
      },
    });
  }
}

/**
 * ioredis options for connections a request waits on: a command is refused at once while disconnected (no
 * offline queue), one that gets no answer fails after commandTimeout, and reconnection is retried at least every
 * second (forever: an outage ends by itself).
 */
export const REDIS_FAIL_FAST = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 1000,
  commandTimeout: 500,
  retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
} as const;

/** Prisma codes for a database that cannot be reached or dropped the connection (not for a bad query). */
const PRISMA_UNAVAILABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** Node socket errors. */
const SOCKET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** PostgreSQL SQLSTATEs: connection exceptions (08…), shutting down / cannot connect now (57P01-3), too many connections. */
const PG_UNAVAILABLE = /^(08\d{3}|57P0[123]|53300)$/;
/** What node-postgres says when a connection breaks (it throws these as plain Errors, without a code). */
const PG_MESSAGES = ['Connection terminated', 'timeout exceeded when trying to connect', 'Client has encountered a connection error', 'Connection is closed'];
/** ioredis errors of a connection that is not there (the rate limiter falls back before these reach a request). */
const REDIS_NAMES = new Set(['MaxRetriesPerRequestError', 'RedisUnavailableError']);
const REDIS_MESSAGES = ["Stream isn't writeable", 'Command timed out', 'Connection is closed.'];

type Inspectable = { name?: unknown; code?: unknown; kind?: unknown; message?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown; meta?: unknown };
/** Prisma driver-adapter error kinds (the `cause` of a DriverAdapterError) for a connection that is not there. */
const ADAPTER_UNAVAILABLE = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/**
 * Which dependency an error says is unreachable, or null for any other error. Looks through GraphQL's
 * `originalError`, `cause` chains and aggregate errors (bounded), by class name and code; messages only for
 * node-postgres's and ioredis's code-less errors. The message itself is never shown to anyone.
 */
export function unavailableDependency(error: unknown, depth = 0): DependencyName | null {
  if (depth > 6 || typeof error !== 'object' || error === null) return null;
  const e = error as Inspectable;
  if (e instanceof ServiceUnavailableError) return e.dependency;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message.slice(0, 200) : '';
  if (REDIS_NAMES.has(name) || (REDIS_MESSAGES.some((m) => message.startsWith(m)) && !PG_MESSAGES.some((m) => message.startsWith(m)))) {
    return 'redis';
  }
  if (name === 'PrismaClientInitializationError' || name === 'DatabaseUnavailableError') return 'database';
  if (typeof e.kind === 'string' && ADAPTER_UNAVAILABLE.has(e.kind)) return 'database';
  if (PRISMA_UNAVAILABLE.has(code) || SOCKET_UNAVAILABLE.has(code) || PG_UNAVAILABLE.test(code)) return 'database';
  const metaCode = (e.meta as { code?: unknown } | undefined)?.code;
  if (typeof metaCode === 'string' && PG_UNAVAILABLE.test(metaCode)) return 'database';
  if (PG_MESSAGES.some((m) => message.startsWith(m))) return 'database';
  // Raw queries ($queryRaw) wrap the adapter's error as P2010 "Raw query failed", keeping it in meta.
  const meta = e.meta as { driverAdapterError?: unknown } | undefined;
  for (const inner of [e.originalError, e.cause, meta?.driverAdapterError]) {
    const found = unavailableDependency(inner, depth + 1);
    if (found) return found;
  }
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors.slice(0, 10)) {
      const found = unavailableDependency(inner, depth + 1);
      if (found) return found;
    }
  }
  return null;
}

/** A short, safe label for the log: an error's code or class name, never its message. */
export function errorLabel(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown';
  const e = error as Inspectable;
  const code = typeof e.code === 'string' ? e.code : typeof e.code === 'number' ? String(e.code) : '';
  const name = typeof e.name === 'string' ? e.name : 'Error';
  return (code ? `${name}:${code}` : name).slice(0, 80);
}

type Entry = { required: boolean; down: Map<string, string>; since: number };

/**
 * One per app. A dependency is made of parts (the database's pool; Redis's rate-limit, publish and subscribe
 * connections): it is up while no part is down.
 */
export class DependencyHealth {
  private readonly entries = new Map<DependencyName, Entry>();
  private readonly changes = new EventEmitter();

  constructor(private readonly logger: Logger) {
    this.changes.setMaxListeners(0);
  }

  /** Declares a configured dependency (unknown ones are neither reported nor checked). */
  register(name: DependencyName, required: boolean): void {
    if (this.entries.has(name)) return;
    this.entries.set(name, { required, down: new Map(), since: Date.now() });
    dependencyGauge(name, true);
  }

  /** A part of a dependency was found working (`up`) or not; logs and announces only changes of the whole. */
  report(name: DependencyName, part: string, up: boolean, reason?: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    const wasUp = entry.down.size === 0;
    if (up) entry.down.delete(part);
    else if (!entry.down.has(part)) entry.down.set(part, reason ?? 'unreachable');
    const isUp = entry.down.size === 0;
    if (wasUp === isUp) return;
    const now = Date.now();
    const lastedMs = now - entry.since;
    entry.since = now;
    if (isUp) this.logger.info({ event: 'dependency.up', dependency: name, downForMs: lastedMs }, `${name} is reachable again`);
    else this.logger.warn({ event: 'dependency.down', dependency: name, part, reason: reason ?? 'unreachable' }, `${name} is unreachable`);
    dependencyGauge(name, isUp);
    this.changes.emit('change', name, isUp);
  }

  isUp(name: DependencyName): boolean {
    const entry = this.entries.get(name);
    return !entry || entry.down.size === 0;
  }

  /** Calls `listener` on every change of a dependency's state; returns the unsubscribe function. */
  onChange(listener: (name: DependencyName, up: boolean) => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }

  /** Every configured dependency: up or down, since when, and whether readiness requires it. */
  dependencyState(): Partial<Record<DependencyName, DependencyStatus>> {
    const out: Partial<Record<DependencyName, DependencyStatus>> = {};
    for (const [name, e] of this.entries) out[name] = { up: e.down.size === 0, since: new Date(e.since).toISOString(), required: e.required };
    return out;
  }

  /** Whether every required dependency is up (what /readyz answers). */
  ready(): boolean {
    for (const e of this.entries.values()) if (e.required && e.down.size > 0) return false;
    return true;
  }
}

const GAUGE = 'vaultgate_dependency_up';

/**
 * `vaultgate_dependency_up{dependency}` in prom-client's default registry (what /metrics serves): 1 while up,
 * 0 while down. One process runs one app; should several share a process (tests), the last change wins.
 */
function dependencyGauge(name: DependencyName, up: boolean): void {
  const gauge =
    (register.getSingleMetric(GAUGE) as Gauge<'dependency'> | undefined) ??
    new Gauge({ name: GAUGE, help: 'Whether a dependency (database, redis) is reachable: 1 up, 0 down.', labelNames: ['dependency'] });
  gauge.set({ dependency: name }, up ? 1 : 0);
}
