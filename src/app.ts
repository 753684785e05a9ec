import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, getOperationAST, type ExecutionArgs } from 'graphql';
import type { Config } from './config.ts';
import { createDb, watchDatabase, type Db, type DbOptions } from './db/client.ts';
import { DependencyHealth, RETRY_AFTER_SECONDS, ServiceUnavailableError, unavailableDependency } from './lib/health.ts';
import { migrateDatabase } from './db/migrate.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { usePasswordHashProfile } from './lib/passwords.ts';
import { getSchema } from './graphql/schema.ts';
import { handleSsoRoute, SSO_PATHS } from './modules/auth/sso.routes.ts';
import { createContext, type AppDeps, type Context, type PresentedCredentials } from './context.ts';
import { authenticate, limitAuthFailures } from './modules/auth/auth.service.ts';
import { createRateLimiter } from './lib/rateLimit.ts';
import { PrincipalCache } from './modules/auth/principalCache.ts';
import { InstallationState, isLoopbackAddress } from './modules/auth/installation.ts';
import { Keyring } from './modules/keys/keyring.ts';
import { loadMasterKey } from './lib/crypto/envelope.ts';
import { EventBus } from './lib/events.ts';
import { startScheduler } from './modules/accessRequest/accessRequest.scheduler.ts';
import { startWorkflowWorker, type WorkflowRun } from './modules/workflow/workflow.worker.ts';
import { announceAppended } from './modules/audit/audit.chain.ts';
import { corsOptions, surfacePlugins, wsErrors, wsOriginAllowed } from './graphql/surface.ts';
import { lazily, PersistedQueryStore, resolveAutomaticPersisted, resolvePersisted, sdkOperations } from './graphql/persisted.ts';
import * as metrics from './lib/metrics.ts';
import { createWebHandler } from './web.ts';
import { graphiqlOptions, renderGraphiQL } from './graphql/graphiql.ts';
import { RefusalAuditor, refusalAuditPlugin } from './modules/audit/refusals.ts';
import { loadProxyHostKey, startSshProxy, type SshProxy } from './modules/accessSession/sshProxy.ts';

export const GRAPHQL_PATH = '/graphql';

export type AppOptions = {
  clock?: Clock;
  logger?: Logger;
  db?: DbOptions;
};

export type App = {
  deps: AppDeps;
  /** Applies due access-request transitions now (the scheduler also does, every ACCESS_SCHEDULER_INTERVAL_MS). */
  runScheduler(): Promise<number>;
  /** Matches new audit entries to workflows and sends due deliveries now (also every WORKFLOW_POLL_INTERVAL_MS). */
  runWorkflows(): Promise<WorkflowRun>;
  /**
   * Applies migrations, then listens. Resolves with the bound port (PORT=0 picks a free one) and, while the
   * installation has no user, the one-time bootstrap token (also logged once).
   */
  start(): Promise<StartInfo>;
  /** The one-time token `bootstrap` accepts from a remote address; null once the installation has a user. */
  readonly bootstrapToken: string | null;
  /**
   * Stops accepting connections, lets in-flight HTTP requests finish (at most SHUTDOWN_GRACE_MS), closes
   * WebSockets with 1001 and subscription streams, then the database. Safe to call twice.
   */
  stop(): Promise<void>;
};

/** What start() found, for the start lines main.ts prints. */
export type StartInfo = {
  port: number;
  /** The GraphQL endpoint. */
  url: string;
  /** GraphiQL's address (the endpoint opened in a browser), when GRAPHIQL is on. */
  graphiqlUrl?: string;
  /** The master key file this start created (it must be backed up: without it nothing can be decrypted). */
  masterKeyCreated?: string;
  /** While no user exists: the one-time token `bootstrap` accepts from a non-loopback address (also logged once). */
  bootstrapToken?: string | null;
  /** No user exists yet: the first administrator is still to be created (bootstrap or the CLI). */
  needsBootstrap: boolean;
  /** The recording SSH proxy's port, when SSH_PROXY_PORT turns it on. */
  sshProxyPort?: number;
};

type ServerContext = { req: IncomingMessage; res: ServerResponse };

/** What the HTTP layer knows about a request, for its log line, its metrics and its context. */
type RequestInfo = { id: string; operation: string | null; graphql: boolean; errorCodes: string[]; clientAddress: string | null };
/**
 * What a graphql-ws connection keeps once connection_init is accepted: its operations' contexts and the shared
 * re-authentication sweep need only this, not the upgrade request (which is let go: bench P5).
 */
type WsConnection = {
  socket: WebSocket;
  credentials: PresentedCredentials;
  presented: { bearer: string | null; apiKey: string | null };
  clientAddress: string | null;
  userAgent: string | null;
  /** Whose socket this is (`user:<id>` or `apiKey:<id>`), for WS_MAX_SOCKETS_PER_PRINCIPAL. */
  principalKey: string;
};

/** graphql-ws's close code for a connection whose credentials stopped being valid. */
export const CLOSE_UNAUTHORIZED = 4401;
/** Close code for a socket over WS_MAX_SOCKETS_PER_PRINCIPAL (after HTTP 429's meaning). */
export const CLOSE_TOO_MANY_CONNECTIONS = 4429;
/** Error code of an operation over WS_MAX_OPERATIONS_PER_SOCKET. */
export const TOO_MANY_OPERATIONS = 'TOO_MANY_OPERATIONS';

const PROXY_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'];
/** The WebSocket close code (RFC 6455 registry) for a connection refused during a dependency outage. */
export const CLOSE_TRY_AGAIN_LATER = 1013;
/** /readyz waits at most this long for the database's answer. */
const READY_CHECK_TIMEOUT_MS = 1000;

function header(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** Credentials from connection_init: `{ authorization: "Bearer …" }`, `{ token }` or `{ apiKey }`. */
function wsCredentials(params: Record<string, unknown> | undefined): PresentedCredentials {
  const p = params ?? {};
  const token = str(p.token);
  return {
    authorization: str(p.authorization) ?? str(p.Authorization) ?? (token ? `Bearer ${token}` : null),
    apiKey: str(p.apiKey) ?? str(p['x-api-key']),
  };
}

export function createApp(config: Config, options: AppOptions = {}): App {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  // Which dependencies are reachable (docs/outages.md). The database is required for readiness; Redis is not:
  // without it the instance degrades (limits in memory, no principal cache, events caught up from the log).
  usePasswordHashProfile(config.passwordHashProfile);
  const health = new DependencyHealth(logger);
  health.register('database', true);
  if (config.redisUrl) health.register('redis', false);
  const db: Db = createDb(config.databaseUrl, { ...options.db, health });
  const stopWatchingDatabase = watchDatabase(config.databaseUrl, health);
  const postgres = config.databaseProvider === 'postgresql';
  const keyFileExisted = config.masterKey !== undefined || existsSync(config.masterKeyFile);
  const keyring = new Keyring(
    loadMasterKey({ envValue: config.masterKey, keyFilePath: config.masterKeyFile, create: config.createMasterKeyFile }),
  );
  const deps: AppDeps = {
    config,
    db,
    clock,
    logger,
    keyring,
    health,
    events: new EventBus(config.redisUrl, health, config.redisEventsChannel),
    limits: createRateLimiter({ redisUrl: config.redisUrl, redisPrefix: config.rateLimits.redisPrefix }, clock, health),
    principals: new PrincipalCache(config.authCacheMs),
    installation: new InstallationState(),
  };
  // Another instance changed a session, user, membership or key: what this one cached may be stale.
  deps.events.subscribe('auth.changed', () => deps.principals.clear());
  deps.events.subscribe('events.resync', () => deps.principals.clear());
  health.onChange((name, up) => {
    // Without Redis this instance does not hear other instances' `auth.changed`: no caching meanwhile.
    if (name === 'redis') {
      if (up) deps.principals.resume();
      else deps.principals.suspend();
    }
    // Feeds that stopped reading when the database went away read on from their cursors.
    if (name === 'database' && up) deps.events.resync();
  });
  let scheduler: ReturnType<typeof startScheduler> | undefined;
  let workflows: ReturnType<typeof startWorkflowWorker> | undefined;
  let sshProxy: SshProxy | undefined;

  const clientAddress = (req: IncomingMessage): string | null => {
    // The last entry is the one the trusted proxy appended; earlier ones are whatever the client sent, and
    // trusting them would let a client pick a new address per request (and dodge per-address limits).
    const forwarded = config.trustProxy ? header(req, 'x-forwarded-for')?.split(',').at(-1)?.trim() : undefined;
    // req.socket is null once the connection is gone (e.g. a body over the size limit): read it at the start.
    return (forwarded || req.socket?.remoteAddress || null)?.slice(0, 64) ?? null;
  };
  // Without TRUST_PROXY, a proxy on this host makes every client look local: a forwarding header says so.
  const fromLoopback = (req: IncomingMessage): boolean =>
    config.trustProxy
      ? isLoopbackAddress(clientAddress(req))
      : isLoopbackAddress(req.socket?.remoteAddress ?? null) && !PROXY_HEADERS.some((h) => req.headers[h] !== undefined);
  // A caller's (or proxy's) x-request-id is kept when it is a plain token, so logs correlate across services.
  const requestId = (req: IncomingMessage): string => {
    const given = header(req, 'x-request-id');
    return given && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
  };
  const requests = new WeakMap<IncomingMessage, RequestInfo>();

  if (config.metrics.enabled) metrics.collectProcessMetrics();
  const noteOperation = (args: ExecutionArgs) => {
    const req = (args.contextValue as Partial<ServerContext>).req;
    const info = req && requests.get(req);
    if (info) info.operation = (args.operationName ?? getOperationAST(args.document, args.operationName)?.name?.value ?? null)?.slice(0, 64) ?? null;
  };
  const persisted = config.persistedOperations === 'only' ? sdkOperations() : undefined;
  const apq =
    !persisted && config.apq.maxEntries > 0
      ? { store: new PersistedQueryStore(config.apq.maxEntries, config.apq.maxBytes), known: lazily(sdkOperations) }
      : undefined;
  const yoga: YogaServerInstance<ServerContext, Context> = createYoga<ServerContext, Context>({
    schema: getSchema(),
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    graphiql: config.graphiql ? graphiqlOptions() : false,
    renderGraphiQL,
    // Larger bodies are answered 413 before they are parsed (chunked ones too, as they stream in).
    maxRequestBodySize: config.requestMaxBytes,
    // One operation per request (the limits are per operation), and only JSON or GET: no multipart uploads.
    batching: false,
    multipart: false,
    cors: corsOptions(config),
    plugins: [
      ...surfacePlugins(config, persisted, apq),
      // Refused actions (FORBIDDEN answers, restricted reveals without a request) are audited, bounded per caller.
      refusalAuditPlugin(new RefusalAuditor(db, logger)),
      {
        // What an operation appended to the audit log is announced once it is over (its transactions ended).
        onExecute: ({ args }: { args: ExecutionArgs }) => ({ onExecuteDone: () => announceAppended(args.contextValue as Context) }),
      },
      {
        // The operation's name (as sent, else as the document names it), for the request's log line and metrics.
        onExecute: ({ args }: { args: ExecutionArgs }) => noteOperation(args),
        onSubscribe: ({ args }: { args: ExecutionArgs }) => noteOperation(args),
        onResultProcess: ({ result, serverContext }: { result: unknown; serverContext: Partial<ServerContext> }) => {
          const info = serverContext.req && requests.get(serverContext.req);
          if (result && typeof result === 'object' && Symbol.asyncIterator in result) {
            // A subscription over SSE: it lasts as long as its response.
            metrics.subscriptionStarted('sse');
            serverContext.res?.once('close', () => metrics.subscriptionEnded('sse'));
            return;
          }
          for (const r of Array.isArray(result) ? result : [result]) {
            for (const e of (r as { errors?: readonly GraphQLError[] } | undefined)?.errors ?? []) {
              metrics.recordGraphQLError(e.extensions?.code, 'http');
              if (info && info.errorCodes.length < 5) info.errorCodes.push(String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR').slice(0, 64));
            }
          }
        },
      },
    ],
    // Never reveal internals: unexpected errors become "Unexpected error." in every environment. A dependency
    // outage is not unexpected: it is answered SERVICE_UNAVAILABLE, 503 with Retry-After (docs/outages.md).
    maskedErrors: {
      isDev: false,
      maskError: (error, message, isDev) => {
        const dependency = unavailableDependency(error);
        if (!dependency) return maskError(error, message, isDev);
        // With PostgreSQL this opens the breaker until the probe gets an answer; an embedded SQLite file has no
        // connection to lose, so there the error is answered 503 but no outage is declared.
        if (dependency === 'database' && postgres) health.report('database', 'connection', false, 'request failed');
        const e = error as Partial<GraphQLError>;
        return new ServiceUnavailableError(dependency, { nodes: e.nodes, source: e.source, positions: e.positions, path: e.path });
      },
    },
    logging: {
      debug: (...args) => logger.debug({ yoga: args.map(String) }),
      info: (...args) => logger.info({ yoga: args.map(String) }),
      warn: (...args) => logger.warn({ yoga: args.map(String) }),
      error: (...args) => {
        const err = args.find((a) => a instanceof Error);
        // An outage is logged once, by DependencyHealth, not once per request it refuses.
        if (err && unavailableDependency(err)) return;
        logger.error({ err, yoga: args.filter((a) => !(a instanceof Error)).map(String) });
      },
    },
    context: async (init) => {
      const ws = (init as { wsConnection?: WsConnection }).wsConnection;
      if (ws) {
        const ctx = await createContext(deps, ws.credentials, { clientAddress: ws.clientAddress, userAgent: ws.userAgent });
        ctx.closeConnection = (code, reason) => ws.socket.close(code, reason);
        return ctx;
      }
      const req = init.req;
      const ctx = await createContext(
        deps,
        { authorization: init.request.headers.get('authorization'), apiKey: init.request.headers.get('x-api-key') },
        { clientAddress: clientAddress(req), userAgent: init.request.headers.get('user-agent'), requestId: requests.get(req)?.id ?? requestId(req), fromLoopback: fromLoopback(req) },
      );
      // A subscription over SSE is closed the way a WebSocket would be (revoked credentials, slow consumer):
      // its response ends.
      if (init.request.headers.get('accept')?.includes('text/event-stream')) ctx.closeConnection = () => init.res.destroy();
      return ctx;
    },
  });

  // Responses streaming subscription events (SSE): ended at shutdown, as WebSockets are closed.
  const eventStreams = new Set<ServerResponse>();
  let stopping = false;
  const web = createWebHandler();
  const server: Server = createServer(async (req, res) => {
    const started = performance.now();
    const path = req.url?.split('?')[0] ?? '';
    const info: RequestInfo = { id: requestId(req), operation: null, graphql: path === GRAPHQL_PATH, errorCodes: [], clientAddress: clientAddress(req) };
    requests.set(req, info);
    res.setHeader('x-request-id', info.id);
    logger.debug({ requestId: info.id, method: req.method, path }, 'request started');
    // A request arriving on a kept-alive connection during shutdown is still answered, on a closing connection.
    if (stopping) res.setHeader('connection', 'close');
    if (header(req, 'accept')?.includes('text/event-stream')) {
      eventStreams.add(res);
      res.on('close', () => eventStreams.delete(res));
    }
    res.on('finish', () => {
      const ms = performance.now() - started;
      metrics.recordHttpRequest({ operation: info.operation, graphql: info.graphql, path, status: res.statusCode, seconds: ms / 1000 });
      logger.info(
        {
          requestId: info.id,
          method: req.method,
          path,
          ...(info.graphql ? { operation: info.operation ?? 'anonymous' } : {}),
          ...(info.errorCodes.length > 0 ? { errors: info.errorCodes } : {}),
          status: res.statusCode,
          ms: Math.round(ms),
          clientAddress: info.clientAddress,
        },
        'request',
      );
    });
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/metrics' && config.metrics.enabled) {
      if (!metricsAuthorized(config.metrics.token, header(req, 'authorization'))) {
        res.setHeader('www-authenticate', 'Bearer');
        return json(res, 401, { status: 'unauthorized' });
      }
      const { contentType, body } = await metrics.metricsText();
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      return res.end(body);
    }
    if (path === '/readyz') return readiness(res);
    if (SSO_PATHS.has(path)) {
      const ctx = await createContext(deps, { authorization: null, apiKey: null }, { clientAddress: info.clientAddress, userAgent: header(req, 'user-agent'), requestId: info.id, fromLoopback: fromLoopback(req) });
      return handleSsoRoute(ctx, path, new URL(req.url ?? '/', 'http://localhost'), req.method, res);
    }
    if (web(req, res)) return;
    return yoga.requestListener(req, res);
  });

  /**
   * Each configured dependency, up or down and since when; 503 while a required one (the database) is down.
   * Redis down is "degraded", still 200: every instance shares one Redis, and taking them all out of the load
   * balancer would turn a degraded service into none (docs/outages.md).
   */
  const readiness = async (res: ServerResponse) => {
    // With PostgreSQL down, the probe (watchDatabase) decides when it is back; otherwise ask the database now.
    if (!postgres || health.isUp('database')) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          db.$queryRawUnsafe('SELECT 1'),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('readiness check timed out')), READY_CHECK_TIMEOUT_MS))),
        ]);
        if (!postgres) health.report('database', 'connection', true);
      } catch (error) {
        health.report('database', 'connection', false, unavailableDependency(error) ? 'readiness check failed' : 'readiness check timed out or failed');
      } finally {
        clearTimeout(timer);
      }
    }
    const dependencies = health.dependencyState();
    const ready = health.ready();
    const degraded = Object.values(dependencies).some((d) => !d.up);
    res.writeHead(ready ? 200 : 503, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...(ready ? {} : { 'retry-after': String(RETRY_AFTER_SECONDS) }),
    });
    res.end(JSON.stringify({ status: ready ? (degraded ? 'degraded' : 'ready') : 'unavailable', dependencies }));
  };

  const wss = new WebSocketServer({
    server,
    path: GRAPHQL_PATH,
    // A larger message closes the socket with 1009 (Message Too Big) before it is buffered whole.
    maxPayload: config.wsMaxPayloadBytes,
    verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) =>
      wsOriginAllowed(config, info.req) ? done(true) : done(false, 403, 'Origin not allowed'),
  });
  // Sockets past connection_init. Their credentials are re-checked by one sweep every WS_REAUTH_INTERVAL_MS
  // rather than a timer per socket (a timer, its closure and a close listener each, on every idle connection).
  const wsConnections = new Map<WebSocket, WsConnection>();
  const socketsPerPrincipal = new Map<string, number>();
  const forgetConnection = (socket: WebSocket) => {
    const conn = wsConnections.get(socket);
    if (!conn) return;
    wsConnections.delete(socket);
    const left = (socketsPerPrincipal.get(conn.principalKey) ?? 1) - 1;
    if (left > 0) socketsPerPrincipal.set(conn.principalKey, left);
    else socketsPerPrincipal.delete(conn.principalKey);
  };
  // Ids of each socket's running subscriptions, for the subscriptions gauge.
  const wsSubscriptions = new WeakMap<WebSocket, Set<string>>();
  server.on('connection', (socket) => {
    metrics.connectionOpened('http');
    socket.once('close', () => metrics.connectionClosed('http'));
  });
  let reauthSweep: NodeJS.Timeout | undefined;
  const reauthenticateSockets = () => {
    // Sockets sharing a session or API key share one check per sweep: issued all at once, they would
    // otherwise all miss the principal cache together.
    const checks = new Map<string, Promise<unknown>>();
    for (const [socket, conn] of wsConnections) {
      if (socket.readyState !== socket.OPEN) {
        forgetConnection(socket);
        continue;
      }
      const key = `${conn.presented.bearer ?? ''}\0${conn.presented.apiKey ?? ''}`;
      let check = checks.get(key);
      if (!check) checks.set(key, (check = authenticate(deps, conn.presented)));
      check.catch((error) => {
        // A database outage says nothing about the credentials: the socket stays, and is checked next sweep.
        if (unavailableDependency(error)) return;
        forgetConnection(socket);
        socket.close(CLOSE_UNAUTHORIZED, 'Unauthorized: the session or API key is no longer valid');
      });
    }
  };

  const wsServer = useServer<Record<string, unknown>>(
    {
      // A socket that has not sent connection_init by then is closed with 4408.
      connectionInitWaitTimeout: config.wsConnectionInitTimeoutMs,
      // Credentials are checked in connection_init; returning false closes the socket with 4403 Forbidden.
      onConnect: async (ctx) => {
        const creds = wsCredentials(ctx.connectionParams);
        if (!creds.authorization && !creds.apiKey) return false;
        const m = /^Bearer\s+(\S+)$/i.exec(creds.authorization ?? '');
        const presented = { bearer: m ? m[1] : null, apiKey: creds.apiKey ?? null };
        const { socket, request } = ctx.extra;
        const address = clientAddress(request);
        let principalKey: string;
        try {
          const principal = await limitAuthFailures(deps, address, true, () => authenticate(deps, presented));
          if (principal.kind === 'anonymous') return false;
          principalKey = principal.kind === 'user' ? `user:${principal.userId}` : `apiKey:${principal.apiKeyId}`;
        } catch (error) {
          // Not the client's fault: 1013 Try Again Later (graphql-ws's 4403 would say its credentials were refused).
          if (unavailableDependency(error)) socket.close(CLOSE_TRY_AGAIN_LATER, 'Service unavailable: try again later');
          return false;
        }
        if (socket.readyState !== socket.OPEN) return false;
        // Each socket holds memory and a share of every event's fan-out: one principal may not hold unboundedly many.
        const held = socketsPerPrincipal.get(principalKey) ?? 0;
        if (held >= config.wsMaxSocketsPerPrincipal) {
          socket.close(CLOSE_TOO_MANY_CONNECTIONS, 'Too many connections for this user or API key');
          return false;
        }
        socketsPerPrincipal.set(principalKey, held + 1);
        metrics.connectionOpened('websocket');
        wsConnections.set(socket, { socket, credentials: creds, presented, clientAddress: address, userAgent: header(request, 'user-agent'), principalKey });
        // graphql-ws would hold the upgrade request (headers, buffers, streams) for the socket's lifetime;
        // what this connection needs of it was copied just above.
        (ctx.extra as { request?: IncomingMessage }).request = undefined;
        // The connection lives only as long as its credentials: a session that expires, is signed out or whose
        // user is disabled (or a revoked API key) closes the socket within the interval.
        if (config.wsReauthIntervalMs > 0) reauthSweep ??= setInterval(reauthenticateSockets, config.wsReauthIntervalMs).unref();
        return true;
      },
      onClose: (ctx) => {
        if (wsConnections.has(ctx.extra.socket)) metrics.connectionClosed('websocket');
        forgetConnection(ctx.extra.socket);
        const running = wsSubscriptions.get(ctx.extra.socket);
        for (let i = 0; i < (running?.size ?? 0); i++) metrics.subscriptionEnded('ws');
        wsSubscriptions.delete(ctx.extra.socket);
      },
      onOperation: (ctx, id, _payload, _args, result) => {
        if (result && typeof result === 'object' && Symbol.asyncIterator in result) {
          let running = wsSubscriptions.get(ctx.extra.socket);
          if (!running) wsSubscriptions.set(ctx.extra.socket, (running = new Set()));
          running.add(id);
          metrics.subscriptionStarted('ws');
        }
      },
      onComplete: (ctx, id) => {
        if (wsSubscriptions.get(ctx.extra.socket)?.delete(id)) metrics.subscriptionEnded('ws');
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        for (const e of (result as { errors?: readonly GraphQLError[] }).errors ?? []) metrics.recordGraphQLError(e.extensions?.code, 'ws');
      },
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onSubscribe: async (ctx, _id, message) => {
        const wsConnection = wsConnections.get(ctx.extra.socket);
        // Only after connection_init was accepted, and the socket is still open (it was just read from).
        if (!wsConnection) throw new Error('subscribe on a connection that was not accepted');
        // graphql-ws has already registered this operation's id, so it counts itself.
        if (Object.keys(ctx.subscriptions).length > config.wsMaxOperationsPerSocket) {
          return [
            new GraphQLError(`Too many operations on this connection: at most ${config.wsMaxOperationsPerSocket} at once. Complete one, or open another connection.`, {
              extensions: { code: TOO_MANY_OPERATIONS },
            }),
          ];
        }
        let payload = message;
        let enveloped: ReturnType<typeof yoga.getEnveloped>;
        let document: ReturnType<typeof enveloped.parse>;
        try {
          if (persisted) payload = resolvePersisted(persisted, message);
          else if (apq) payload = resolveAutomaticPersisted(apq.store, apq.known, message);
          // The initial context stays small (the context function adds the operation's context to it, and
          // subscriptions keep the result): the connection, not graphql-ws's context or the upgrade request.
          enveloped = yoga.getEnveloped({ wsConnection, params: payload } as never);
          // Persisted-operation, token-limit and syntax refusals are thrown here: answer them as errors instead
          // of letting graphql-ws close the whole socket with 4500.
          document = enveloped.parse(payload.query);
        } catch (err) {
          if (err instanceof GraphQLError) return wsErrors([err]);
          throw err;
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) {
          for (const e of errors) metrics.recordGraphQLError(e.extensions?.code ?? 'GRAPHQL_VALIDATION_FAILED', 'ws');
          return wsErrors(errors);
        }
        let contextValue: Awaited<ReturnType<typeof enveloped.contextFactory>>;
        try {
          contextValue = await enveloped.contextFactory();
        } catch (error) {
          const dependency = unavailableDependency(error);
          if (dependency) return wsErrors([new ServiceUnavailableError(dependency)]);
          throw error;
        }
        return {
          schema: enveloped.schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
      },
    },
    wss,
    // Pings every interval; a socket that does not answer a ping within the interval is terminated.
    config.wsKeepAliveMs,
  );

  let stopped: Promise<void> | undefined;

  return {
    deps,
    get bootstrapToken() {
      return deps.installation.bootstrapToken;
    },
    runScheduler: () => (scheduler ? scheduler.runNow() : Promise.resolve(0)),
    runWorkflows: () => (workflows ? workflows.runNow() : Promise.resolve({ matched: 0, sent: 0 })),
    async start() {
      const { applied } = await migrateDatabase(config.databaseUrl, { log: (msg: string) => logger.info(msg) });
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
      if (config.databaseProvider === 'sqlite') {
        // WAL lets readers proceed while one writer commits.
        await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      await deps.events.start();
      let bootstrapToken: string | null = null;
      if ((await db.user.count()) > 0) deps.installation.markInstalled();
      else {
        bootstrapToken = deps.installation.issueToken();
        // The only time the token is written anywhere; it stops working once the first administrator exists.
        logger.warn({ event: 'auth.bootstrap_token' }, `No user yet. Create the first administrator with the bootstrap mutation from this host, or from elsewhere with bootstrapToken: ${bootstrapToken}`);
      }
      // Catches up on whatever fell due while no instance was running, then keeps time.
      scheduler = startScheduler(deps, config.accessSchedulerIntervalMs);
      workflows = startWorkflowWorker(deps);
      if (config.sshProxy.port > 0) sshProxy = await startSshProxy(deps, { host: config.host, port: config.sshProxy.port, hostKey: loadProxyHostKey(config.sshProxy.hostKeyFile) });
      const port = (server.address() as AddressInfo).port;
      const url = `http://${displayHost(config.host)}:${port}${GRAPHQL_PATH}`;
      logger.info({ url, database: config.databaseProvider }, 'vaultgate listening');
      return {
        port,
        url,
        graphiqlUrl: config.graphiql ? url : undefined,
        masterKeyCreated: keyFileExisted ? undefined : config.masterKeyFile,
        needsBootstrap: bootstrapToken !== null || (await db.user.count()) === 0,
        bootstrapToken,
        sshProxyPort: sshProxy?.port,
      };
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        // First stop accepting: the listening socket closes, idle keep-alive connections go; requests already
        // in flight finish (their connections close after the response), up to SHUTDOWN_GRACE_MS.
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Subscriptions cannot finish by themselves: WebSockets are told 1001 (Going Away) and SSE streams end.
        clearInterval(reauthSweep);
        await wsServer.dispose();
        for (const client of wss.clients) client.close(1001, 'Server shutting down');
        wss.close();
        for (const stream of eventStreams) stream.end();
        let forced = false;
        const force = setTimeout(() => {
          forced = true;
          server.closeAllConnections();
          for (const client of wss.clients) client.terminate();
        }, config.shutdownGraceMs);
        await drained;
        clearTimeout(force);
        if (forced) logger.warn({ graceMs: config.shutdownGraceMs }, 'requests still running at the end of the grace period were cut off');
        // Running SSH sessions end (their recordings sealed and audited) before the database goes.
        await sshProxy?.close();
        await scheduler?.stop();
        await workflows?.stop();
        await yoga.dispose?.();
        stopWatchingDatabase();
        await deps.events.stop();
        await deps.limits.close();
        await db.$disconnect();
        logger.info('vaultgate stopped');
      })();
      return stopped;
    },
  };
}

/** 0.0.0.0 and :: listen everywhere; a browser reaches them as localhost. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/** With METRICS_TOKEN set, a scrape must present it as a bearer token (compared in constant time). */
function metricsAuthorized(token: string | undefined, authorization: string | null): boolean {
  if (!token) return true;
  const presented = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1] ?? '';
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(presented), digest(token));
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
