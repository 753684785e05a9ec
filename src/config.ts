import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { PasswordHashProfile } from './lib/passwords.ts';

/**
 * Every setting vaultgate reads from the environment, parsed once. Nothing else reads process.env.
 * Each variable is documented in README.md ("Configuration").
 */
/** One organization role granted by a claim value (OIDC_ROLE_MAP). `org` is an organization id (as stored, or its global id). */
const oidcGrant = z.object({ org: z.string().min(1).max(200), role: z.enum(['ADMIN', 'MANAGER', 'MEMBER', 'AUDITOR']) }).strict();

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  DATABASE_URL: z
    .string()
    .default('file:./data/vaultgate.db')
    .refine((v) => /^(file:|postgres(ql)?:\/\/)/.test(v), 'must start with file: (SQLite) or postgresql:// (PostgreSQL)'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  // Read before this schema by envFileFrom (main.ts loads the file); listed so that it is documented.
  ENV_FILE: z.string().min(1).optional(),
  SESSION_TTL_MINUTES: z.coerce.number().int().min(5).max(60 * 24 * 30).default(12 * 60),
  GRAPHIQL: z.enum(['true', 'false']).optional(),
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(10_000),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  STEP_UP_MAX_AGE_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  AUTH_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  WS_REAUTH_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  WS_SLOW_CONSUMER_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  ACCESS_SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
  TARGET_CHECK_INTERVAL_HOURS: z.coerce.number().min(0).max(8760).default(24),
  VAULTGATE_MASTER_KEY: z.string().optional(),
  WORKFLOW_POLL_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
  WORKFLOW_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  WORKFLOW_RETRY_BASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  WORKFLOW_ALLOW_PRIVATE_WEBHOOKS: z.enum(['true', 'false']).default('false'),
  SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\//.test(v), 'must start with smtp:// or smtps://')
    .optional(),
  SMTP_FROM: z.string().min(3).max(320).default('vaultgate <vaultgate@localhost>'),
  VAULTGATE_MASTER_KEY_FILE: z.string().min(1).optional(),
  INTROSPECTION: z.enum(['true', 'false']).optional(),
  QUERY_MAX_DEPTH: z.coerce.number().int().min(1).max(100).default(8),
  QUERY_MAX_COST: z.coerce.number().int().min(1).max(10_000_000).default(20_000),
  QUERY_MAX_ALIASES: z.coerce.number().int().min(0).max(1000).default(15),
  QUERY_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(1000).default(50),
  QUERY_MAX_TOKENS: z.coerce.number().int().min(10).max(1_000_000).default(1000),
  QUERY_MAX_LIST_ITEMS: z.coerce.number().int().min(1).max(100_000).default(500),
  REQUEST_MAX_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(256 * 1024),
  PERSISTED_OPERATIONS: z.enum(['off', 'only']).default('off'),
  APQ_MAX_ENTRIES: z.coerce.number().int().min(0).max(100_000).default(1000),
  APQ_MAX_BYTES: z.coerce.number().int().min(0).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
  WS_MAX_PAYLOAD_BYTES: z.coerce.number().int().min(1024).max(64 * 1024).default(64 * 1024),
  WS_ALLOWED_ORIGINS: z
    .string()
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'each origin must look like https://host[:port], without a path')).min(1))
    .optional(),
  CORS_ORIGINS: z
    .string()
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'each origin must look like https://host[:port], without a path')).min(1))
    .optional(),
  WS_CONNECTION_INIT_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(3000),
  WS_KEEPALIVE_MS: z.coerce.number().int().min(0).max(600_000).default(12_000),
  WS_MAX_OPERATIONS_PER_SOCKET: z.coerce.number().int().min(1).max(10_000).default(50),
  WS_MAX_SOCKETS_PER_PRINCIPAL: z.coerce.number().int().min(1).max(100_000).default(20),
  RATE_LIMIT_SIGNIN_PER_ACCOUNT: z.coerce.number().int().min(0).max(1_000_000).default(5),
  RATE_LIMIT_SIGNIN_PER_ACCOUNT_TOTAL: z.coerce.number().int().min(0).max(1_000_000).default(20),
  RATE_LIMIT_SIGNIN_PER_ADDRESS: z.coerce.number().int().min(0).max(1_000_000).default(30),
  RATE_LIMIT_SIGNIN_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  RATE_LIMIT_LOCKOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  RATE_LIMIT_LOCKOUT_MAX_SECONDS: z.coerce.number().int().min(1).max(7 * 86_400).default(3600),
  RATE_LIMIT_REVEAL_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(30),
  RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: z.coerce.number().int().min(0).max(1_000_000).default(20),
  RATE_LIMIT_BOOTSTRAP_PER_ADDRESS: z.coerce.number().int().min(0).max(1_000_000).default(10),
  REDIS_EVENTS_CHANNEL: z.string().min(1).max(200).default('vaultgate:events'),
  RATE_LIMIT_REDIS_PREFIX: z.string().min(1).max(100).default('vaultgate:ratelimit:'),
  METRICS: z.enum(['true', 'false']).default('true'),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
  PASSWORD_HASH_PROFILE: z.enum(['standard', 'test']).default('standard'),
  SSH_PROXY_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  SSH_PROXY_HOST_KEY_FILE: z.string().min(1).optional(),
  WEBAUTHN_RP_ID: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, 'must be a host name such as vault.example.com (no scheme, port or path)')
    .default('localhost'),
  WEBAUTHN_RP_NAME: z.string().min(1).max(100).default('vaultgate'),
  WEBAUTHN_ORIGINS: z
    .string()
    .default('http://localhost:4000')
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'each origin must look like https://host[:port], without a path')).min(1)),
  OIDC_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  OIDC_CLIENT_ID: z.string().min(1).max(500).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).max(2000).optional(),
  OIDC_REDIRECT_URL: z.url({ protocol: /^https?$/ }).default('http://localhost:4000/auth/oidc/callback'),
  OIDC_SCOPES: z.string().min(1).max(500).default('openid email profile'),
  OIDC_ALLOWED_EMAIL_DOMAINS: z
    .string()
    .transform((v) => v.split(',').map((d) => d.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, 'each domain must look like example.com')))
    .optional(),
  OIDC_ROLE_CLAIM: z.string().min(1).max(200).default('groups'),
  OIDC_ROLE_MAP: z
    .string()
    .transform((v, c) => {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        c.addIssue({ code: 'custom', message: 'must be JSON, e.g. {"vault-admins":{"org":"<organization id>","role":"ADMIN"}}' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string().min(1).max(200), z.union([oidcGrant, z.array(oidcGrant).min(1).max(50)])))
    .optional(),
}).refine((c) => !c.OIDC_ISSUER || (c.OIDC_CLIENT_ID && c.OIDC_CLIENT_SECRET), {
  path: ['OIDC_ISSUER'],
  message: 'single sign-on needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too',
}).refine((c) => c.PASSWORD_HASH_PROFILE !== 'test' || c.NODE_ENV === 'test', {
  // Test-profile hashes are cheap to crack: a deployment must never make them, whatever else it gets wrong.
  path: ['PASSWORD_HASH_PROFILE'],
  message: '"test" makes password hashes cheap to crack and is accepted only with NODE_ENV=test',
});

/**
 * What each variable means: the source of .env.example and docs/configuration.md (`npm run config:docs`).
 * A variable added to the schema without a line here does not compile.
 */
export const variableDocs: Record<keyof z.input<typeof schema>, string> = {
  NODE_ENV: '`production` turns GraphiQL and introspection off by default (see "Limits")',
  HOST: 'interface to listen on',
  PORT: 'HTTP and WebSocket port (`0` picks a free one)',
  DATABASE_URL: '`file:<path>` for SQLite (folder created), or `postgresql://…`',
  LOG_LEVEL: 'pino level: `fatal` `error` `warn` `info` `debug` `trace` `silent`',
  LOG_FORMAT: '`auto`: readable lines on a terminal, JSON lines otherwise (pipes, containers, log collectors); `json` or `pretty` to force one',
  ENV_FILE: 'an env file to load before the configuration is read (same as `npm start -- --env-file=PATH`); variables already set in the environment win',
  SESSION_TTL_MINUTES: 'lifetime of a session token (5 min … 30 days)',
  GRAPHIQL: '`true`/`false` to force GraphiQL on or off',
  TRUST_PROXY: '`true` behind one reverse proxy: the client address is the last `X-Forwarded-For` entry (the one the proxy added; earlier entries are client-supplied and ignored)',
  SHUTDOWN_GRACE_MS: 'on SIGTERM/SIGINT, how long in-flight HTTP requests get to finish before their connections are closed (the process exits within it)',
  REDIS_URL: '`redis://…`: events between instances go through Redis pub/sub, and rate limits are counted in Redis so that they hold across instances; without it both stay in the process (one instance)',
  AUTH_CACHE_MS: 'how long an instance reuses a resolved session or API key without reading it again (0 … 60000; `0` = read on every request). Sign-out, password change, disabling a user, membership changes and key revocation empty the cache at once on this instance and, through Redis, on the others; without Redis, another instance may honour an ended session for up to this long',
  WS_REAUTH_INTERVAL_MS: 'how often a WebSocket connection\'s session or API key is checked again; an invalid one closes the socket (`4401`); `0` = only when events are delivered',
  WS_SLOW_CONSUMER_MS: 'a subscriber that leaves an event unread this long is disconnected (`4008`)',
  TARGET_CHECK_INTERVAL_HOURS: 'how often the scheduler checks each password that has a target (an SSH asset or a PostgreSQL role; docs/targets.md) still opens it, a few credentials per run; drift is flagged and audited (`target.drift`). `0` = only on demand (checkCredential)',
  ACCESS_SCHEDULER_INTERVAL_MS: 'how often the access-request scheduler records due transitions (window opens, window ends, approval times out); `0` runs it once at start only; at most `3600000`. Requests show their current state when read either way',
  VAULTGATE_MASTER_KEY: 'the master key itself: 32 bytes as base64 (44 characters) or hex (64 characters); when set, no key file is read',
  WORKFLOW_POLL_INTERVAL_MS: 'how often the workflow worker reads new audit entries and sends due deliveries (it also wakes on every appended entry); `0` = only on demand (`app.runWorkflows()`, used by tests); at most `3600000`',
  WORKFLOW_MAX_ATTEMPTS: 'attempts per workflow delivery before it is given up (1 … 20)',
  WORKFLOW_RETRY_BASE_MS: 'delay before the second attempt; it doubles after each failure, capped at an hour',
  WORKFLOW_ALLOW_PRIVATE_WEBHOOKS: '`true` lets webhook and Slack URLs reach loopback and private addresses (never link-local or metadata endpoints)',
  SMTP_URL: 'SMTP server for workflow emails, e.g. `smtp://user:pass@mail.example.com:587` (`smtps://` for implicit TLS); email actions fail (and are retried) without it. Never logged',
  SMTP_FROM: 'the From address of workflow emails',
  VAULTGATE_MASTER_KEY_FILE: 'path of the master key file, read when `VAULTGATE_MASTER_KEY` is not set; the default is `master.key` in the SQLite file\'s folder (`./data/master.key` for the default `DATABASE_URL`), or `./data/master.key` for PostgreSQL; see "The vault"',
  INTROSPECTION: '`true`/`false` to allow or refuse `__schema` / `__type`; when off, "Did you mean …" suggestions are removed from errors too',
  QUERY_MAX_DEPTH: 'deepest field nesting of an operation (fragments flattened)',
  QUERY_MAX_COST: 'estimated cost of an operation (objects 2, scalars 1, ×1.5 per level, × page size — literal or from variables, counted up to 100 — and × list lengths); the default admits every SDK operation at 100 per page and refuses nested 100 × 100 pages',
  QUERY_MAX_ALIASES: 'aliases per operation, counted through every fragment spread (`__typename` aliases are free)',
  QUERY_MAX_DIRECTIVES: 'directives per operation',
  QUERY_MAX_TOKENS: 'lexical tokens per document (comments and whitespace are not tokens)',
  REQUEST_MAX_BYTES: 'largest HTTP request body (256 KiB); larger ones get `413`',
  PERSISTED_OPERATIONS: '`only`: accept nothing but the SDK\'s operations, by text or sha256 hash (see "Limits")',
  WS_MAX_PAYLOAD_BYTES: 'largest WebSocket message (at most 64 KiB); a larger one closes the socket with `1009`',
  WS_ALLOWED_ORIGINS: 'comma-separated Origins (`https://app.example.com`) allowed to open a WebSocket; others are refused with `403` during the upgrade. Unset, every Origin may connect. Clients that send no Origin (servers, CLIs) are always allowed',
  WS_CONNECTION_INIT_TIMEOUT_MS: 'a socket that has not sent `connection_init` by then is closed with `4408`',
  WS_KEEPALIVE_MS: 'ping interval; a socket that does not answer a ping within it is terminated; `0` = no pings',
  RATE_LIMIT_SIGNIN_PER_ACCOUNT: 'failed sign-ins for one account from one client address before that (account, address) pair is locked out; see "Rate limits"; `0` = off',
  RATE_LIMIT_SIGNIN_PER_ACCOUNT_TOTAL: 'failed sign-ins for one account from all addresses before every address the account has not signed in from lately is locked out; `0` = off',
  RATE_LIMIT_SIGNIN_PER_ADDRESS: 'sign-in attempts (any account, successful or not) per client address per window; `0` = off',
  RATE_LIMIT_SIGNIN_WINDOW_SECONDS: 'the sign-in window (15 min): the per-address and invalid-credential windows, and how long a failure streak is remembered after its last failure or lockout',
  RATE_LIMIT_LOCKOUT_SECONDS: 'the first lockout; each further failure doubles it',
  RATE_LIMIT_LOCKOUT_MAX_SECONDS: 'the longest lockout',
  RATE_LIMIT_REVEAL_PER_MINUTE: '`revealCredential`, `recordCredentialAccess` and `exportCredentials` with secrets, per user or API key per minute; `0` = off',
  RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: 'invalid session tokens or API keys per client address per window; then every request with credentials from that address gets `429`; `0` = off',
  METRICS: '`false` turns off `GET /metrics` (Prometheus text format: requests and latency by operation, errors by code, connections, subscriptions, reveals, audit appends, workflow deliveries, scheduler lag, process metrics)',
  METRICS_TOKEN: 'when set, `GET /metrics` requires `Authorization: Bearer <token>` (at least 16 characters); unset, anyone who can reach the port can scrape it',
  STEP_UP_MAX_AGE_SECONDS: 'how recently a session must have verified a second factor where an organization requires step-up (30 … 3600); see docs/identity.md',
  QUERY_MAX_LIST_ITEMS: 'most items in one list argument (ids, bulk inputs); a longer list is refused before anything runs, and list lengths count in the cost',
  APQ_MAX_ENTRIES: 'automatic persisted queries: most documents remembered by hash (least recently used go first); `0` turns APQ off',
  APQ_MAX_BYTES: 'automatic persisted queries: most bytes of remembered documents',
  WS_MAX_OPERATIONS_PER_SOCKET: 'subscriptions one WebSocket may run at once; one more is answered with an error (`TOO_MANY_OPERATIONS`)',
  WS_MAX_SOCKETS_PER_PRINCIPAL: 'WebSockets one session user or API key may hold open on this instance; one more is closed with `4429`',
  RATE_LIMIT_BOOTSTRAP_PER_ADDRESS: '`bootstrap` attempts per client address per sign-in window; `0` = off',
  PASSWORD_HASH_PROFILE: '`standard` (argon2id, 19 MiB, t=2); `test` makes hashing cheap for test suites and is refused unless `NODE_ENV=test`',
  CORS_ORIGINS: 'comma-separated browser Origins (`https://app.example.com`) allowed to call the API from another origin (CORS); unset, foreign origins get no CORS headers. `Access-Control-Allow-Credentials` is never sent (the API uses headers, not cookies)',
  REDIS_EVENTS_CHANNEL: 'the Redis pub/sub channel instances exchange events on; installations sharing one Redis need different channels',
  RATE_LIMIT_REDIS_PREFIX: 'prefix of the rate-limit keys in Redis',
  WEBAUTHN_RP_ID: 'passkeys: the relying-party id, the host name passkeys are bound to (the dashboard\'s host, or a parent domain of it); changing it makes every registered passkey unusable',
  WEBAUTHN_RP_NAME: 'passkeys: the name authenticators show when a passkey is registered',
  OIDC_ISSUER: 'single sign-on: the OpenID Connect issuer URL (its `/.well-known/openid-configuration` is read at the first sign-in); unset, SSO is off. `http://` only for a loopback issuer; see docs/identity.md',
  OIDC_CLIENT_ID: 'single sign-on: the client id registered at the provider',
  OIDC_CLIENT_SECRET: 'single sign-on: the client secret (`client_secret_basic`). Never logged',
  OIDC_REDIRECT_URL: 'single sign-on: the callback URL registered at the provider, this server\'s `/auth/oidc/callback` as browsers reach it',
  OIDC_SCOPES: 'single sign-on: scopes asked for (space-separated; `openid` and `email` are needed)',
  OIDC_ALLOWED_EMAIL_DOMAINS: 'single sign-on: comma-separated email domains (`example.com`) that may sign in; others are refused. Unset, any verified email may',
  OIDC_ROLE_CLAIM: 'single sign-on: the ID-token claim (a string or a list of strings) whose values OIDC_ROLE_MAP maps to organization roles',
  OIDC_ROLE_MAP: 'single sign-on: JSON from claim value to `{"org":"<organization id>","role":"ADMIN|MANAGER|MEMBER|AUDITOR"}` (or a list of them). At every SSO sign-in the user\'s memberships in the organizations named here are set from the claim (highest role wins; none → membership removed); other organizations are left alone',
  WEBAUTHN_ORIGINS: 'passkeys: comma-separated Origins (`https://vault.example.com`) the browser may run a passkey ceremony from; each must be on `WEBAUTHN_RP_ID` or a subdomain of it. Plain `http://` works only for `localhost`',
  SSH_PROXY_PORT: 'port of the recording SSH proxy for session requests (docs/sessions.md), on `HOST`; `0` = off',
  SSH_PROXY_HOST_KEY_FILE: 'the SSH proxy\'s own host key (OpenSSH private key), created with mode 0600 at first start when missing; default `ssh_proxy_host_key` beside the master key file',
};

/** Every variable with its default (as the environment would spell it) and its meaning, in schema order. */
export function configVariables(): { name: string; default: string | undefined; doc: string }[] {
  const defaults = schema.parse({}) as Record<string, unknown>;
  return Object.keys(schema.shape).map((name) => {
    const value = defaults[name];
    return { name, default: value === undefined ? undefined : String(value), doc: variableDocs[name as keyof typeof variableDocs] };
  });
}

/** What one GraphQL operation may ask for; see README "Limits". */
export type QueryLimits = {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  /** The longest list any argument may hold (literal or variable, at any depth); list lengths also multiply the cost. */
  maxListItems: number;
};

/** Abuse limits (README "Rate limits"); a limit of 0 turns that limit off. */
export type RateLimitConfig = {
  /** Failed sign-ins for one account from one client address before that pair is locked out. */
  signInPerAccount: number;
  /** Failed sign-ins for one account from all addresses before addresses it has not signed in from are locked out. */
  signInPerAccountTotal: number;
  /** Sign-in attempts (successful or not) per client address per window. */
  signInPerAddress: number;
  /** The sign-in window; a failure streak is also forgotten after this long without failures once a lockout ended. */
  signInWindowMs: number;
  /** The first lockout; each further failure doubles it, up to lockoutMaxMs. */
  lockoutMs: number;
  lockoutMaxMs: number;
  /** Reveals, reported accesses and exports with secrets per user or API key per minute. */
  revealPerMinute: number;
  /** Unknown, expired or revoked session tokens and API keys per client address per window, then HTTP 429. */
  authFailuresPerAddress: number;
  /** Anonymous `bootstrap` attempts per client address per sign-in window (before the installation has users). */
  bootstrapPerAddress: number;
  /** Prefix of every rate-limit key in Redis (REDIS_URL). */
  redisPrefix: string;
};

export type Config = {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  databaseUrl: string;
  databaseProvider: 'sqlite' | 'postgresql';
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  /** `auto`: readable lines on a terminal, JSON otherwise (a pipe, a container, a log collector). */
  logFormat: 'auto' | 'json' | 'pretty';
  sessionTtlMinutes: number;
  graphiql: boolean;
  /** Whether `__schema` / `__type` may be queried (off in production unless INTROSPECTION=true); off also hides "Did you mean …" suggestions. */
  introspection: boolean;
  /** Per-operation limits, checked before anything executes (HTTP and WebSocket). */
  queryLimits: QueryLimits;
  /** Largest HTTP request body; larger ones are answered 413. */
  requestMaxBytes: number;
  /** `only`: just the SDK's operations (src/sdk) are accepted, by text or sha256 hash. */
  persistedOperations: 'off' | 'only';
  /**
   * Automatic persisted queries (with persistedOperations `off`): how many registered documents, and how many
   * bytes of their text, are kept (least recently used go first). maxEntries 0 turns APQ off.
   */
  apq: { maxEntries: number; maxBytes: number };
  /** Largest WebSocket message; a larger one closes the socket with 1009. */
  wsMaxPayloadBytes: number;
  /** Browser Origins allowed to open a WebSocket; undefined = any (clients without an Origin header are always allowed). */
  wsAllowedOrigins: string[] | undefined;
  /**
   * Browser Origins other than the server's own that may call the HTTP API (CORS); none by default. Credentials
   * are never allowed cross-origin (the API takes bearer tokens and API keys in headers, not cookies).
   */
  corsOrigins: string[];
  /** A socket that has not sent connection_init by then is closed with 4408. */
  wsConnectionInitTimeoutMs: number;
  /** Ping interval; a socket that does not answer a ping within it is terminated (0 = off). */
  wsKeepAliveMs: number;
  /** Operations (subscriptions) one socket may run at once; one more is answered with an error (TOO_MANY_OPERATIONS). */
  wsMaxOperationsPerSocket: number;
  /** Sockets one session user or API key may hold open on this instance; one more is closed with 4429. */
  wsMaxSocketsPerPrincipal: number;
  trustProxy: boolean;
  /** GET /metrics on (Prometheus), and the bearer token it requires when set. Never logged. */
  metrics: { enabled: boolean; token: string | undefined };
  shutdownGraceMs: number;
  /** How recently a session must have verified a second factor where an organization requires step-up. */
  stepUpMaxAgeMs: number;
  /** Sign-in, reveal and authentication-failure limits; kept in Redis when REDIS_URL is set, else in this process. */
  rateLimits: RateLimitConfig;
  /** Redis for events between instances; without it, events stay in this process. */
  redisUrl: string | undefined;
  /** The Redis pub/sub channel of those events: instances of one deployment share it; deployments sharing a Redis must not. */
  redisEventsChannel: string;
  /** How often a WebSocket connection's session or API key is checked again (0 = only per delivery). */
  /**
   * How long a resolved session or API key is reused by this instance without a database read (0: never).
   * Changes to sessions, users, memberships and keys drop the cache at once here and, through the event bus,
   * on every instance; the time is the bound when an instance misses that notice.
   */
  authCacheMs: number;
  wsReauthIntervalMs: number;
  /** A subscriber that has not taken a waiting event for this long is disconnected (close code 4008). */
  wsSlowConsumerMs: number;
  /** How often the access-request scheduler looks for due transitions (0 = never; tests drive it by hand). */
  accessSchedulerIntervalMs: number;
  /** How often each credential with a target is checked by the scheduler (ms; 0 = never). */
  targetCheckIntervalMs: number;
  /** How often the workflow worker reads new audit entries and sends due deliveries (0 = only on demand). */
  workflowPollIntervalMs: number;
  /** Attempts per workflow delivery before it is given up. */
  workflowMaxAttempts: number;
  /** Delay before the second attempt; it doubles after each failure (capped at an hour). */
  workflowRetryBaseMs: number;
  /** Whether webhook and Slack URLs may reach loopback and private addresses (never link-local or metadata). */
  workflowAllowPrivateWebhooks: boolean;
  /** SMTP server for workflow emails, e.g. smtp://user:pass@host:587. Never logged. */
  smtpUrl: string | undefined;
  /** The From address of workflow emails. */
  smtpFrom: string;
  /** The master key itself (base64 or hex of 32 bytes), when given by the environment. Never logged. */
  masterKey: string | undefined;
  /** Where the master key file lives when VAULTGATE_MASTER_KEY is not set. */
  masterKeyFile: string;
  /** Whether a missing key file may be created (embedded SQLite default, or outside production). */
  createMasterKeyFile: boolean;
  /** Cost of new password hashes: `standard` (argon2id, 19 MiB, 2 passes) or `test` (minimal; NODE_ENV=test only). */
  passwordHashProfile: PasswordHashProfile;
  /** The recording SSH proxy: its port (0 = off) and its host key file. */
  sshProxy: { port: number; hostKeyFile: string };
  /** Passkeys (WebAuthn): the relying party (id = host name, name shown by authenticators) and the Origins ceremonies may come from. */
  webauthn: { rpId: string; rpName: string; origins: string[] };
  /** Single sign-on (OIDC authorization code + PKCE); undefined when OIDC_ISSUER is unset. The secret is never logged. */
  oidc: OidcConfig | undefined;
};

export type OidcGrant = { org: string; role: 'ADMIN' | 'MANAGER' | 'MEMBER' | 'AUDITOR' };
export type OidcConfig = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUrl: string;
  scopes: string;
  /** Lower-case domains; undefined = any verified email. */
  allowedEmailDomains: string[] | undefined;
  roleClaim: string;
  roleMap: Record<string, OidcGrant[]>;
};

/** Beside the SQLite file (`data/master.key` for the default), or `./data/master.key` for PostgreSQL. */
function defaultKeyFile(databaseUrl: string): string {
  if (!databaseUrl.startsWith('file:')) return resolve('data', 'master.key');
  const path = databaseUrl.slice('file:'.length).split('?')[0];
  return path === ':memory:' ? resolve('data', 'master.key') : join(dirname(resolve(path)), 'master.key');
}

/**
 * The env file to load before the configuration is read: `--env-file=PATH` (or `--env-file PATH`) among the
 * arguments (`npm start -- --env-file=.env`), else ENV_FILE. Variables already set in the environment win over
 * the file's, as with `node --env-file`.
 */
export function envFileFrom(argv: readonly string[], env: Record<string, string | undefined> = process.env): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--env-file=')) return arg.slice('--env-file='.length) || undefined;
    if (arg === '--env-file') return argv[i + 1];
  }
  return env.ENV_FILE || undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  return {
    env: c.NODE_ENV,
    host: c.HOST,
    port: c.PORT,
    databaseUrl: c.DATABASE_URL,
    databaseProvider: c.DATABASE_URL.startsWith('file:') ? 'sqlite' : 'postgresql',
    logLevel: c.LOG_LEVEL,
    logFormat: c.LOG_FORMAT,
    sessionTtlMinutes: c.SESSION_TTL_MINUTES,
    graphiql: c.GRAPHIQL ? c.GRAPHIQL === 'true' : c.NODE_ENV !== 'production',
    introspection: c.INTROSPECTION ? c.INTROSPECTION === 'true' : c.NODE_ENV !== 'production',
    queryLimits: {
      maxDepth: c.QUERY_MAX_DEPTH,
      maxCost: c.QUERY_MAX_COST,
      maxAliases: c.QUERY_MAX_ALIASES,
      maxDirectives: c.QUERY_MAX_DIRECTIVES,
      maxTokens: c.QUERY_MAX_TOKENS,
      maxListItems: c.QUERY_MAX_LIST_ITEMS,
    },
    requestMaxBytes: c.REQUEST_MAX_BYTES,
    persistedOperations: c.PERSISTED_OPERATIONS,
    apq: { maxEntries: c.APQ_MAX_ENTRIES, maxBytes: c.APQ_MAX_BYTES },
    wsMaxPayloadBytes: c.WS_MAX_PAYLOAD_BYTES,
    wsAllowedOrigins: c.WS_ALLOWED_ORIGINS?.map((o) => new URL(o).origin),
    corsOrigins: c.CORS_ORIGINS?.map((o) => new URL(o).origin) ?? [],
    wsConnectionInitTimeoutMs: c.WS_CONNECTION_INIT_TIMEOUT_MS,
    wsKeepAliveMs: c.WS_KEEPALIVE_MS,
    wsMaxOperationsPerSocket: c.WS_MAX_OPERATIONS_PER_SOCKET,
    wsMaxSocketsPerPrincipal: c.WS_MAX_SOCKETS_PER_PRINCIPAL,
    trustProxy: c.TRUST_PROXY === 'true',
    metrics: { enabled: c.METRICS === 'true', token: c.METRICS_TOKEN },
    shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
    stepUpMaxAgeMs: c.STEP_UP_MAX_AGE_SECONDS * 1000,
    accessSchedulerIntervalMs: c.ACCESS_SCHEDULER_INTERVAL_MS,
    targetCheckIntervalMs: Math.round(c.TARGET_CHECK_INTERVAL_HOURS * 3_600_000),
    redisUrl: c.REDIS_URL,
    redisEventsChannel: c.REDIS_EVENTS_CHANNEL,
    rateLimits: {
      signInPerAccount: c.RATE_LIMIT_SIGNIN_PER_ACCOUNT,
      signInPerAccountTotal: c.RATE_LIMIT_SIGNIN_PER_ACCOUNT_TOTAL,
      signInPerAddress: c.RATE_LIMIT_SIGNIN_PER_ADDRESS,
      signInWindowMs: c.RATE_LIMIT_SIGNIN_WINDOW_SECONDS * 1000,
      lockoutMs: c.RATE_LIMIT_LOCKOUT_SECONDS * 1000,
      lockoutMaxMs: Math.max(c.RATE_LIMIT_LOCKOUT_MAX_SECONDS, c.RATE_LIMIT_LOCKOUT_SECONDS) * 1000,
      revealPerMinute: c.RATE_LIMIT_REVEAL_PER_MINUTE,
      authFailuresPerAddress: c.RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS,
      bootstrapPerAddress: c.RATE_LIMIT_BOOTSTRAP_PER_ADDRESS,
      redisPrefix: c.RATE_LIMIT_REDIS_PREFIX,
    },
    authCacheMs: c.AUTH_CACHE_MS,
    wsReauthIntervalMs: c.WS_REAUTH_INTERVAL_MS,
    wsSlowConsumerMs: c.WS_SLOW_CONSUMER_MS,
    workflowPollIntervalMs: c.WORKFLOW_POLL_INTERVAL_MS,
    workflowMaxAttempts: c.WORKFLOW_MAX_ATTEMPTS,
    workflowRetryBaseMs: c.WORKFLOW_RETRY_BASE_MS,
    workflowAllowPrivateWebhooks: c.WORKFLOW_ALLOW_PRIVATE_WEBHOOKS === 'true',
    smtpUrl: c.SMTP_URL,
    smtpFrom: c.SMTP_FROM,
    masterKey: c.VAULTGATE_MASTER_KEY,
    masterKeyFile: c.VAULTGATE_MASTER_KEY_FILE ?? defaultKeyFile(c.DATABASE_URL),
    // Several PostgreSQL instances must share one key: in production it is provided, never invented.
    createMasterKeyFile: c.DATABASE_URL.startsWith('file:') || c.NODE_ENV !== 'production',
    passwordHashProfile: c.PASSWORD_HASH_PROFILE,
    webauthn: { rpId: c.WEBAUTHN_RP_ID, rpName: c.WEBAUTHN_RP_NAME, origins: c.WEBAUTHN_ORIGINS.map((o) => new URL(o).origin) },
    oidc: c.OIDC_ISSUER
      ? {
          issuer: c.OIDC_ISSUER,
          clientId: c.OIDC_CLIENT_ID!,
          clientSecret: c.OIDC_CLIENT_SECRET!,
          redirectUrl: c.OIDC_REDIRECT_URL,
          scopes: c.OIDC_SCOPES,
          allowedEmailDomains: c.OIDC_ALLOWED_EMAIL_DOMAINS,
          roleClaim: c.OIDC_ROLE_CLAIM,
          roleMap: Object.fromEntries(Object.entries(c.OIDC_ROLE_MAP ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])),
        }
      : undefined,
    sshProxy: {
      port: c.SSH_PROXY_PORT,
      hostKeyFile: c.SSH_PROXY_HOST_KEY_FILE ?? join(dirname(c.VAULTGATE_MASTER_KEY_FILE ?? defaultKeyFile(c.DATABASE_URL)), 'ssh_proxy_host_key'),
    },
  };
}
