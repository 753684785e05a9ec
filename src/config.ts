import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Every setting vaultgate reads from the environment, parsed once. Nothing else reads process.env.
 * Each variable is documented in README.md ("Configuration").
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  DATABASE_URL: z
    .string()
    .default('file:./data/vaultgate.db')
    .refine((v) => /^(file:|postgres(ql)?:\/\/)/.test(v), 'must start with file: (SQLite) or postgresql:// (PostgreSQL)'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SESSION_TTL_MINUTES: z.coerce.number().int().min(5).max(60 * 24 * 30).default(12 * 60),
  GRAPHIQL: z.enum(['true', 'false']).optional(),
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(10_000),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  WS_REAUTH_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  WS_SLOW_CONSUMER_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  ACCESS_SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
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
});

export type Config = {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  databaseUrl: string;
  databaseProvider: 'sqlite' | 'postgresql';
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  sessionTtlMinutes: number;
  graphiql: boolean;
  trustProxy: boolean;
  shutdownGraceMs: number;
  /** Redis for events between instances; without it, events stay in this process. */
  redisUrl: string | undefined;
  /** How often a WebSocket connection's session or API key is checked again (0 = only per delivery). */
  wsReauthIntervalMs: number;
  /** A subscriber that has not taken a waiting event for this long is disconnected (close code 4008). */
  wsSlowConsumerMs: number;
  /** How often the access-request scheduler looks for due transitions (0 = never; tests drive it by hand). */
  accessSchedulerIntervalMs: number;
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
};

/** Beside the SQLite file (`data/master.key` for the default), or `./data/master.key` for PostgreSQL. */
function defaultKeyFile(databaseUrl: string): string {
  if (!databaseUrl.startsWith('file:')) return resolve('data', 'master.key');
  const path = databaseUrl.slice('file:'.length).split('?')[0];
  return path === ':memory:' ? resolve('data', 'master.key') : join(dirname(resolve(path)), 'master.key');
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
    sessionTtlMinutes: c.SESSION_TTL_MINUTES,
    graphiql: c.GRAPHIQL ? c.GRAPHIQL === 'true' : c.NODE_ENV !== 'production',
    trustProxy: c.TRUST_PROXY === 'true',
    shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
    accessSchedulerIntervalMs: c.ACCESS_SCHEDULER_INTERVAL_MS,
    redisUrl: c.REDIS_URL,
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
  };
}
