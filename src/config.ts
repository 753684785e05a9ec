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
  ACCESS_SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
  VAULTGATE_MASTER_KEY: z.string().optional(),
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
  /** How often the access-request scheduler looks for due transitions (0 = never; tests drive it by hand). */
  accessSchedulerIntervalMs: number;
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
    masterKey: c.VAULTGATE_MASTER_KEY,
    masterKeyFile: c.VAULTGATE_MASTER_KEY_FILE ?? defaultKeyFile(c.DATABASE_URL),
    // Several PostgreSQL instances must share one key: in production it is provided, never invented.
    createMasterKeyFile: c.DATABASE_URL.startsWith('file:') || c.NODE_ENV !== 'production',
  };
}
