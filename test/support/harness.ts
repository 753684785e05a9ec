import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { inject } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { createLogger } from '../../src/lib/logger.ts';

export type TestDb = { url: string; kind: 'sqlite' | 'postgres'; drop(): Promise<void> };

export const testDbKind = (): 'sqlite' | 'postgres' =>
  process.env.VAULTGATE_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

export type TestDatabaseOptions = {
  /**
   * true: no tables at all, for tests of the migrator itself. By default the database is already migrated (a copy
   * of the run's template, see templates.ts) when the run has a template; the server's migrator then has nothing
   * left to apply. Outside vitest's globalSetup (no template) the database is empty and the server migrates it.
   */
  empty?: boolean;
};

function provided(key: 'vaultgateSqliteTemplate' | 'vaultgatePostgresTemplate'): string | undefined {
  try {
    return inject(key) || undefined;
  } catch {
    return undefined; // not inside a vitest worker
  }
}

/** A fresh database for one test file: a temp SQLite file, or a new PostgreSQL database; migrated unless `empty`. */
export async function createTestDatabase(kind = testDbKind(), options: TestDatabaseOptions = {}): Promise<TestDb> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'vaultgate-test-'));
    const file = join(dir, 'test.db');
    const template = options.empty ? undefined : provided('vaultgateSqliteTemplate');
    if (template) copyFileSync(template, file);
    return { kind, url: `file:${file}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) throw new Error('TEST_DATABASE_URL is required for the postgres project');
  const name = `vaultgate_test_${randomBytes(6).toString('hex')}`;
  const template = options.empty ? undefined : provided('vaultgatePostgresTemplate');
  if (template && !/^vaultgate_tmpl_[0-9a-f]+$/.test(template)) throw new Error(`unexpected template database name ${template}`);
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(template ? `CREATE DATABASE ${name} TEMPLATE ${template}` : `CREATE DATABASE ${name}`);
        break;
      } catch (error) {
        // 55006: the template is briefly in use (another CREATE … TEMPLATE copying it); bounded retries.
        if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export type GraphQLResponse<T = any> = { status: number; data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
export type Auth = { token?: string; apiKey?: string; headers?: Record<string, string> };

export type TestServer = {
  app: App;
  url: string;
  wsUrl: string;
  clock: ManualClock;
  db: TestDb;
  /** Every log line the server wrote, as text. */
  logs: string[];
  /** Every SQL statement the server sent (for statement-count checks; reset it freely). */
  queries: string[];
  gql<T = any>(query: string, variables?: Record<string, unknown>, auth?: Auth): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
};

export type TestServerOptions = {
  env?: Record<string, string>;
  /**
   * Start on another server's database, with its master key and clock: for a restart (after `other.app.stop()`)
   * or a second instance on the same database. stop() then leaves the database to the server that created it.
   */
  shareWith?: TestServer;
};

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const shared = options.shareWith;
  const db = shared?.db ?? (await createTestDatabase());
  const masterKey = shared?.app.deps.config.masterKey ?? randomBytes(32).toString('base64');
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: db.url,
    LOG_LEVEL: 'debug',
    VAULTGATE_MASTER_KEY: masterKey,
    // The scheduler runs once at start; tests move the clock and call app.runScheduler() themselves, so that no
    // background query lands in a statement count.
    ACCESS_SCHEDULER_INTERVAL_MS: '0',
    // Likewise the workflow worker: tests call app.runWorkflows().
    WORKFLOW_POLL_INTERVAL_MS: '0',
    // No scheduled drift checks of passwords on their targets unless a test asks (targets.test.ts does): they would
    // log in to the tests' stand-in SSH servers behind their backs.
    TARGET_CHECK_INTERVAL_HOURS: '0',
    // Every fixture signs in from 127.0.0.1 and the clock stands still: per-address and per-minute limits are
    // generous here; rateLimits.test.ts starts servers with tight ones. Per-account lockouts keep their defaults.
    RATE_LIMIT_SIGNIN_PER_ADDRESS: '100000',
    RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '100000',
    RATE_LIMIT_REVEAL_PER_MINUTE: '100000',
    // Minimal argon2 cost: fixtures create hundreds of users (config refuses this profile outside NODE_ENV=test).
    ...(options.env?.NODE_ENV && options.env.NODE_ENV !== 'test' ? {} : { PASSWORD_HASH_PROFILE: 'test' }),
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const clock = shared?.clock ?? new ManualClock(new Date('2026-11-23T09:00:00Z'));
  const queries: string[] = [];
  const app = createApp(config, { clock, logger: createLogger(config.logLevel, sink), db: { onQuery: (sql) => queries.push(sql) } });
  const { port } = await app.start();
  const url = `http://127.0.0.1:${port}/graphql`;
  return {
    app,
    url,
    wsUrl: url.replace('http', 'ws'),
    clock,
    db,
    logs,
    queries,
    async gql(query, variables, auth = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...auth.headers };
      if (auth.token) headers.authorization = `Bearer ${auth.token}`;
      if (auth.apiKey) headers['x-api-key'] = auth.apiKey;
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const body = (await res.json()) as GraphQLResponse;
      return { ...body, status: res.status };
    },
    async stop() {
      await app.stop();
      if (!shared) await db.drop();
    },
  };
}
