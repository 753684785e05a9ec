import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric vaultgate exports (GET /metrics), and the small functions the rest of the code calls
 * to feed them. One registry per process: several apps in one process (tests) add to the same series.
 *
 * Label values that come from clients (operation names, error codes) are bounded: a name must look like a
 * GraphQL name, and past MAX_LABEL_VALUES distinct ones further names are counted as "other", so a client
 * cannot grow the registry without bound.
 */
export const registry = new Registry();
let defaultsCollected = false;

const MAX_LABEL_VALUES = 200;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function bounded(seen: Set<string>) {
  return (value: string | null | undefined, fallback: string): string => {
    if (!value) return fallback;
    if (!NAME.test(value)) return 'other';
    if (seen.has(value)) return value;
    if (seen.size >= MAX_LABEL_VALUES) return 'other';
    seen.add(value);
    return value;
  };
}
const operationLabel = bounded(new Set());
const codeLabel = bounded(new Set());

const httpRequests = new Counter({
  name: 'vaultgate_http_requests_total',
  help: 'HTTP requests answered, by GraphQL operation name ("-" for other paths, "anonymous" for unnamed operations), path and status.',
  labelNames: ['operation', 'path', 'status'] as const,
  registers: [registry],
});
const httpDuration = new Histogram({
  name: 'vaultgate_http_request_duration_seconds',
  help: 'Time from request to the end of the response, by GraphQL operation name.',
  labelNames: ['operation'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
const graphqlErrors = new Counter({
  name: 'vaultgate_graphql_errors_total',
  help: 'GraphQL errors returned to clients, by extensions.code (INTERNAL_SERVER_ERROR for masked unexpected errors).',
  labelNames: ['code', 'transport'] as const,
  registers: [registry],
});
const openConnections = new Gauge({
  name: 'vaultgate_open_connections',
  help: 'Open client connections: HTTP (TCP connections to the HTTP server) and WebSocket (past connection_init).',
  labelNames: ['kind'] as const,
  registers: [registry],
});
const activeSubscriptions = new Gauge({
  name: 'vaultgate_active_subscriptions',
  help: 'Running GraphQL subscriptions, by transport (ws, sse).',
  labelNames: ['transport'] as const,
  registers: [registry],
});
const reveals = new Counter({
  name: 'vaultgate_credential_accesses_total',
  help: 'Recorded secret accesses (reveals, copies, exports, old-version reveals), by surface. Counted as the record is written.',
  labelNames: ['surface'] as const,
  registers: [registry],
});
const auditAppends = new Counter({
  name: 'vaultgate_audit_appends_total',
  help: 'Audit entries appended (counted inside the transaction: the rare rolled-back append is counted too).',
  registers: [registry],
});
const workflowDeliveries = new Counter({
  name: 'vaultgate_workflow_deliveries_total',
  help: 'Workflow delivery attempts by outcome: delivered, retrying (failed, another attempt scheduled), failed (given up).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
const schedulerLag = new Gauge({
  name: 'vaultgate_scheduler_lag_seconds',
  help: 'How late the last access-request scheduler run started compared with its interval (event-loop or database pressure).',
  registers: [registry],
});
const schedulerRun = new Histogram({
  name: 'vaultgate_scheduler_run_seconds',
  help: 'Duration of access-request scheduler runs.',
  buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
  registers: [registry],
});

/** Process metrics (CPU, memory, event-loop lag, handles) with the vaultgate_ prefix; once per process. */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ register: registry, prefix: 'vaultgate_' });
}

export function recordHttpRequest(r: { operation: string | null | undefined; graphql: boolean; path: string; status: number; seconds: number }): void {
  const operation = r.graphql ? operationLabel(r.operation, 'anonymous') : '-';
  // Only known paths become labels; anything else is one series.
  const path = ['/graphql', '/healthz', '/readyz', '/metrics', '/'].includes(r.path) ? r.path : 'other';
  httpRequests.inc({ operation, path, status: String(r.status) });
  httpDuration.observe({ operation }, r.seconds);
}

export function recordGraphQLError(code: unknown, transport: 'http' | 'ws'): void {
  graphqlErrors.inc({ code: codeLabel(typeof code === 'string' ? code : null, 'INTERNAL_SERVER_ERROR'), transport });
}

export function connectionOpened(kind: 'http' | 'websocket'): void {
  openConnections.inc({ kind });
}
export function connectionClosed(kind: 'http' | 'websocket'): void {
  openConnections.dec({ kind });
}

export function subscriptionStarted(transport: 'ws' | 'sse'): void {
  activeSubscriptions.inc({ transport });
}
export function subscriptionEnded(transport: 'ws' | 'sse'): void {
  activeSubscriptions.dec({ transport });
}

export function recordCredentialAccess(surface: string): void {
  reveals.inc({ surface: NAME.test(surface) ? surface : 'other' });
}

export function recordAuditAppend(): void {
  auditAppends.inc();
}

export function recordWorkflowDelivery(outcome: 'delivered' | 'retrying' | 'failed'): void {
  workflowDeliveries.inc({ outcome });
}

export function recordSchedulerRun(lateSeconds: number, runSeconds: number): void {
  schedulerLag.set(Math.max(0, lateSeconds));
  schedulerRun.observe(runSeconds);
}

/** The exposition text and its content type, for GET /metrics. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
