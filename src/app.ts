import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { Config } from './config.ts';
import { createDb, type Db, type DbOptions } from './db/client.ts';
import { migrateDatabase } from './db/migrate.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { getSchema } from './graphql/schema.ts';
import { createContext, type AppDeps, type Context, type PresentedCredentials } from './context.ts';
import { authenticate, limitAuthFailures } from './modules/auth/auth.service.ts';
import { createRateLimiter } from './lib/rateLimit.ts';
import { PrincipalCache } from './modules/auth/principalCache.ts';
import { InstallationState, isLoopbackAddress } from './modules/auth/installation.ts';
import { Keyring } from './modules/keys/keyring.ts';
import { loadMasterKey } from './lib/crypto/envelope.ts';
import { EventBus } from './lib/events.ts';
import { startScheduler } from './modules/accessRequest/accessRequest.service.ts';
import { startWorkflowWorker, type WorkflowRun } from './modules/workflow/workflow.worker.ts';
import { announceAppended } from './modules/audit/audit.chain.ts';
import { corsOptions, surfacePlugins, wsErrors, wsOriginAllowed } from './graphql/surface.ts';
import { resolvePersisted, sdkOperations } from './graphql/persisted.ts';

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
  start(): Promise<{ port: number; url: string; bootstrapToken: string | null }>;
  /** The one-time token `bootstrap` accepts from a remote address; null once the installation has a user. */
  readonly bootstrapToken: string | null;
  /** Stops accepting work, closes sockets and the database. Safe to call twice. */
  stop(): Promise<void>;
};

type ServerContext = { req: IncomingMessage; res: ServerResponse };
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
  const db: Db = createDb(config.databaseUrl, options.db);
  const keyring = new Keyring(
    loadMasterKey({ envValue: config.masterKey, keyFilePath: config.masterKeyFile, create: config.createMasterKeyFile }),
  );
  const deps: AppDeps = { config, db, clock, logger, keyring, events: new EventBus(config.redisUrl, (err) => logger.error({ err }, 'event bus error'), config.redisEventsChannel),
    limits: createRateLimiter({ redisUrl: config.redisUrl, redisPrefix: config.rateLimits.redisPrefix }, clock, (err) => logger.error({ err }, 'rate limit store error')),
    principals: new PrincipalCache(config.authCacheMs), installation: new InstallationState() };
  // Another instance changed a session, user, membership or key: what this one cached may be stale.
  deps.events.subscribe('auth.changed', () => deps.principals.clear());
  let scheduler: ReturnType<typeof startScheduler> | undefined;
  let workflows: ReturnType<typeof startWorkflowWorker> | undefined;

  const clientAddress = (req: IncomingMessage): string | null => {
    // The last entry is the one the trusted proxy appended; earlier ones are whatever the client sent, and
    // trusting them would let a client pick a new address per request (and dodge per-address limits).
    const forwarded = config.trustProxy ? header(req, 'x-forwarded-for')?.split(',').at(-1)?.trim() : undefined;
    return (forwarded || req.socket.remoteAddress || null)?.slice(0, 64) ?? null;
  };
  // Without TRUST_PROXY, a proxy on this host makes every client look local: a forwarding header says so.
  const fromLoopback = (req: IncomingMessage): boolean =>
    config.trustProxy
      ? isLoopbackAddress(clientAddress(req))
      : isLoopbackAddress(req.socket.remoteAddress) && !PROXY_HEADERS.some((h) => req.headers[h] !== undefined);
  const requestId = (req: IncomingMessage): string => {
    const given = header(req, 'x-request-id');
    return given && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
  };

  const persisted = config.persistedOperations === 'only' ? sdkOperations() : undefined;
  const yoga: YogaServerInstance<ServerContext, Context> = createYoga<ServerContext, Context>({
    schema: getSchema(),
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    graphiql: config.graphiql ? { title: 'vaultgate', subscriptionsProtocol: 'WS' } : false,
    // Larger bodies are answered 413 before they are parsed (chunked ones too, as they stream in).
    maxRequestBodySize: config.requestMaxBytes,
    // One operation per request (the limits are per operation), and only JSON or GET: no multipart uploads.
    batching: false,
    multipart: false,
    cors: corsOptions(config),
    plugins: [
      ...surfacePlugins(config, persisted),
      {
        // What an operation appended to the audit log is announced once it is over (its transactions ended).
        onExecute: ({ args }: { args: ExecutionArgs }) => ({ onExecuteDone: () => announceAppended(args.contextValue as Context) }),
      },
    ],
    // Never reveal internals: unexpected errors become "Unexpected error." in every environment.
    maskedErrors: { isDev: false },
    logging: {
      debug: (...args) => logger.debug({ yoga: args.map(String) }),
      info: (...args) => logger.info({ yoga: args.map(String) }),
      warn: (...args) => logger.warn({ yoga: args.map(String) }),
      error: (...args) =>
        logger.error({ err: args.find((a) => a instanceof Error), yoga: args.filter((a) => !(a instanceof Error)).map(String) }),
    },
    context: async (init) => {
      const ws = (init as { wsConnection?: WsConnection }).wsConnection;
      if (ws) {
        const ctx = await createContext(deps, ws.credentials, { clientAddress: ws.clientAddress, userAgent: ws.userAgent });
        ctx.closeConnection = (code, reason) => ws.socket.close(code, reason);
        return ctx;
      }
      const req = init.req;
      return createContext(
        deps,
        { authorization: init.request.headers.get('authorization'), apiKey: init.request.headers.get('x-api-key') },
        { clientAddress: clientAddress(req), userAgent: init.request.headers.get('user-agent'), requestId: requestId(req), fromLoopback: fromLoopback(req) },
      );
    },
  });

  const server: Server = createServer(async (req, res) => {
    const started = performance.now();
    res.on('finish', () => {
      logger.info(
        { method: req.method, path: req.url?.split('?')[0], status: res.statusCode, ms: Math.round(performance.now() - started) },
        'request',
      );
    });
    const path = req.url?.split('?')[0];
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      try {
        await db.$queryRawUnsafe('SELECT 1');
        return json(res, 200, { status: 'ready' });
      } catch {
        return json(res, 503, { status: 'unavailable' });
      }
    }
    return yoga.requestListener(req, res);
  });

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
      check.catch(() => {
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
        } catch {
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
        forgetConnection(ctx.extra.socket);
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
        if (errors.length > 0) return wsErrors(errors);
        return {
          schema: enveloped.schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
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
      const port = (server.address() as AddressInfo).port;
      const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}${GRAPHQL_PATH}`;
      logger.info({ url, database: config.databaseProvider }, 'vaultgate listening');
      return { port, url, bootstrapToken };
    },
    stop() {
      stopped ??= (async () => {
        await scheduler?.stop();
        await workflows?.stop();
        clearInterval(reauthSweep);
        await wsServer.dispose();
        for (const client of wss.clients) client.close(1001, 'Server shutting down');
        wss.close();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
          force.unref();
          server.close(() => {
            clearTimeout(force);
            resolve();
          });
          server.closeIdleConnections();
        });
        await yoga.dispose?.();
        await deps.events.stop();
        await deps.limits.close();
        await db.$disconnect();
        logger.info('vaultgate stopped');
      })();
      return stopped;
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
