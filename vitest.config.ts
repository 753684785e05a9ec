import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
// Pothos and Yoga load graphql's CommonJS build; without this alias vitest may load the ESM build too, and
// graphql refuses objects from "another module or realm".
const graphql = require.resolve('graphql');

const INTEGRATION = ['test/integration/**/*.test.ts', 'test/adversarial/**/*.test.ts'];

/**
 * The integration files that run on PostgreSQL as well as on SQLite (docs/testing.md). Every integration file runs
 * on SQLite; on PostgreSQL, the ones whose outcome depends on the database — concurrency and locking, raw SQL,
 * crashes, migrations, several instances (Redis), dialect-specific behaviour — plus a small sample of the rest.
 * A new file that touches any of these belongs here (test/unit/testSelection.test.ts insists for files with
 * PostgreSQL-only cases); TEST_POSTGRES_ALL=true runs every file there.
 */
export const POSTGRES_FILES = [
  // Concurrency, locking and raw SQL
  'test/integration/accessRequests.concurrency.test.ts', // racing decisions and conditional updates; a PostgreSQL-only two-scheduler case
  'test/adversarial/approvals.test.ts', // 50 parallel approvals on one request: real concurrent transactions (SQLite serializes writers)
  'test/adversarial/revealWindow.test.ts', // parallel reveals racing the window's close
  'test/adversarial/rekeyRace.test.ts', // two re-keys at once, row by row, under parallel reveals
  'test/integration/audit.test.ts', // the hash chain's appends under row locks (raw SQL in audit.chain.ts); raw UPDATEs
  'test/adversarial/auditTamper.test.ts', // rows of the chain rewritten directly (BIGINT, timestamptz, JSON text)
  'test/integration/keys.test.ts', // raw SQL and batched transactions of rotation.ts; the key CLI on PostgreSQL
  'test/integration/workflows.test.ts', // INSERT … ON CONFLICT cursors; a PostgreSQL-only two-instance delivery case
  // Crashes, failures and migrations
  'test/adversarial/crash.test.ts', // SIGKILL mid-transaction: atomicity and durability of the server's own database
  'test/adversarial/failClosed.test.ts', // database failures injected with PL/pgSQL triggers
  'test/integration/cli.test.ts', // the CLI migrating an empty PostgreSQL database (the one file that starts from no tables)
  'test/integration/lifecycle.test.ts', // shutdown closing the pg pool
  // Several instances (PostgreSQL + Redis cases are skipped on SQLite)
  'test/integration/realtime.test.ts', // subscriptions across instances through Redis
  'test/integration/principalCache.test.ts', // cache invalidation across instances through Redis
  'test/integration/rateLimits.test.ts', // rate limits shared across instances in Redis
  // Dialect-specific behaviour
  'test/integration/credentials.test.ts', // case-insensitive search (mode: insensitive on PostgreSQL only); trigger-made failures
  'test/adversarial/ciphertextSwap.test.ts', // Bytes columns (bytea vs BLOB) swapped directly
  'test/adversarial/fuzz.test.ts', // hostile text: NUL bytes and the like are refused by PostgreSQL, stored by SQLite
  'test/integration/accessRequests.races.test.ts', // row locks held from a raw pg connection (PostgreSQL-only cases)
  'test/integration/accessRequests.queues.test.ts', // the queues' SQL filters against the pure rules, on both dialects
  'test/integration/targets.test.ts', // pending/promote writes and the scheduler's CHANGE_DUE claim on both dialects; its PostgreSQL connector case needs the machine's PostgreSQL anyway
  'test/integration/outages.test.ts', // PostgreSQL cut behind a TCP proxy: circuit breaker, 503s, recovery
  'test/integration/vault.test.ts', // invitations and exports in batches; PostgreSQL-only interleavings
  'test/integration/import.test.ts', // a whole batch in one transaction under the organization's row lock; the unique source id per organization
  'test/integration/exposure.test.ts', // grouped reads of access records (groupBy, max over timestamps) and the bulk rotation's per-id transactions
  'test/integration/mfa.test.ts', // second factors: conditional updates that refuse a replayed code, on both dialects
  'test/integration/passkeys.test.ts', // passkeys: single-use ceremonies (conditional deletes), the counter's conditional update, a unique credential id, on both dialects
  'test/integration/sso.test.ts', // single sign-on: just-in-time users and identities (unique issuer+subject), membership sync in one transaction, single-use state and handoff
  'test/integration/sessions.test.ts', // single-use session tokens claimed by a conditional update; recording chunks and audit appends from the proxy's own transactions
  'test/integration/assets.test.ts', // the new Asset table and Credential.assetId (unique names, SET NULL) on the PostgreSQL migration
  // A sample of the rest: the main request flow end to end, and membership constraints (unique violations)
  'test/integration/accessRequests.test.ts',
  'test/integration/organizations.test.ts',
];
// Not on PostgreSQL (SQLite only): auth, categories, folders, limits, transport, adversarial crossTenant and
// revocation — policy, validation, transport and subscription rules with no database-specific path.

const integrationOn = (name: string, db: 'sqlite' | 'postgres', include: string[]) => ({
  extends: true as const,
  test: {
    name,
    include,
    env: { VAULTGATE_TEST_DB: db },
    // Migrates a template database once per run; each file's database is a copy of it (test/support/templates.ts).
    globalSetup: ['test/support/templates.ts'],
    // Files share a worker's module graph (src/, the Prisma clients, the built schema) instead of importing it all
    // again for every file: that import was most of a small file's CPU time. Each file still starts its own
    // servers on its own database; no test mocks modules or stubs globals (keep it that way).
    isolate: false,
  },
});

export default defineConfig({
  resolve: { alias: { graphql } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // vitest's default on this 2-core machine is cores − 1 = 1 worker: every file ran after the other while the
    // second core idled (PostgreSQL and argon2 aside). One worker per core: a test and its server share a process,
    // so a file is mostly CPU, and more workers than cores only stretch each transaction (Prisma gives an
    // interactive transaction 5 s). VITEST_MAX_WORKERS overrides it.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      // Headless Chromium (Debian's /usr/bin/chromium through puppeteer-core) against a live server.
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'], globalSetup: ['test/browser/global-setup.ts'], env: { VAULTGATE_TEST_DB: 'sqlite' } } },
      integrationOn('sqlite', 'sqlite', INTEGRATION),
      // The dialect-sensitive files again on PostgreSQL when a server is configured (.ci/run sets it).
      // TEST_POSTGRES_ALL=true runs every integration file there (what the suite did before the selection).
      ...(process.env.TEST_DATABASE_URL
        ? [integrationOn('postgres', 'postgres', process.env.TEST_POSTGRES_ALL === 'true' ? INTEGRATION : POSTGRES_FILES)]
        : []),
    ],
  },
});
