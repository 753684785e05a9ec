// The runtime migrator: applies the committed SQL migrations of prisma/migrations/<provider>/ at start and by
// `npm run db:migrate`, with Prisma's own `_prisma_migrations` bookkeeping, so `prisma migrate status` and
// `prisma migrate deploy` (where their engine binary is available) read and continue the same history.
// It talks to the database with plain better-sqlite3 / pg: the Prisma CLI cannot run offline, and the wasm schema
// engine costs a second of start-up for what amounts to "run these scripts once, in order".
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { sqlitePath } from './client.ts';
import { projectRoot } from '../lib/paths.ts';

export type Provider = 'sqlite' | 'postgresql';

export type Migration = { name: string; script: string; checksum: string };

export type MigrateOptions = {
  log?: (msg: string) => void;
  /** The folder of migrations to apply; defaults to the committed prisma/migrations/<provider>. */
  migrationsDir?: string;
};

/** Prisma's own advisory-lock key: this runner and `prisma migrate deploy` exclude each other too. */
const POSTGRES_LOCK_KEY = 72707369;

// Prisma's DDL for its bookkeeping table, per provider (as its schema engine creates it).
const SQLITE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;
const POSTGRES_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;
const INSERT_RECORD = `INSERT INTO "_prisma_migrations"
  ("id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count")
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;
const SELECT_RECORDS = `SELECT "migration_name", "checksum", "finished_at" IS NOT NULL AS "finished",
  "rolled_back_at" IS NOT NULL AS "rolled_back" FROM "_prisma_migrations" ORDER BY "started_at"`;
const SELECT_APPLIED = `SELECT 1 FROM "_prisma_migrations"
  WHERE "migration_name" = $1 AND "finished_at" IS NOT NULL AND "rolled_back_at" IS NULL`;

export function providerOf(url: string): Provider {
  if (url.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgresql';
  throw new Error('migrateDatabase: unsupported database URL (expected file:… or postgresql://…)');
}

export function migrationsDirectory(provider: Provider): string {
  return join(projectRoot(), 'prisma', 'migrations', provider);
}

export function checksumOf(script: string): string {
  return createHash('sha256').update(script).digest('hex');
}

// As Prisma does: a checksum still matches after git converted the file's line endings.
function matchesChecksum(script: string, checksum: string): boolean {
  return [script, script.replaceAll('\r\n', '\n'), script.replaceAll('\n', '\r\n')].some((s) => checksumOf(s) === checksum);
}

/** The migrations of a folder in Prisma's format, in Prisma's order (folder names, localeCompare). */
export function readMigrations(dir: string, provider: Provider): Migration[] {
  const lockfile = join(dir, 'migration_lock.toml');
  if (!existsSync(lockfile)) throw new Error(`${lockfile} is missing`);
  const locked = /^\s*provider\s*=\s*"([^"]*)"/m.exec(readFileSync(lockfile, 'utf8'))?.[1];
  if (locked !== provider) throw new Error(`${lockfile} names provider "${locked}", expected "${provider}"`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b))
    .map((name) => {
      const script = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, script, checksum: checksumOf(script) };
    });
}

type MigrationRecord = { name: string; checksum: string; finished: boolean; rolledBack: boolean };

type FailedMigration = { migration: Migration; startedAt: Date; logs: string };

interface MigrationConnection {
  records(): Promise<MigrationRecord[]>;
  /** Runs the script and records it, in one transaction; false when another process applied it first. */
  apply(migration: Migration, startedAt: Date): Promise<boolean>;
  /** Keeps the error in the history as a rolled-back attempt, which does not block the next run. */
  recordFailure(failure: FailedMigration): Promise<void>;
  close(): Promise<void>;
}

/**
 * Applies the pending migrations of the database's provider, in order, each once and in its own transaction.
 * Refuses (throws) when an applied migration was edited afterwards or a failed/unfinished one is recorded.
 * Opens and closes its own connection.
 */
export async function migrateDatabase(url: string, opts: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const log = opts.log ?? (() => {});
  const provider = providerOf(url);
  const dir = opts.migrationsDir ?? migrationsDirectory(provider);
  const migrations = readMigrations(dir, provider);
  const connection = provider === 'sqlite' ? openSqlite(url) : await openPostgres(url, log);
  try {
    const records = await connection.records();
    assertHistoryIntact(records, migrations, dir, log);
    const done = new Set(records.filter((r) => r.finished && !r.rolledBack).map((r) => r.name));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.name)) continue;
      log(`applying migration ${migration.name}`);
      const startedAt = new Date();
      try {
        if (await connection.apply(migration, startedAt)) applied.push(migration.name);
      } catch (error) {
        const logs = error instanceof Error ? error.message : String(error);
        await connection.recordFailure({ migration, startedAt, logs }).catch(() => {});
        throw new Error(`Migration ${migration.name} failed and was rolled back: ${logs}`, { cause: error });
      }
    }
    return { applied };
  } finally {
    await connection.close();
  }
}

function assertHistoryIntact(records: MigrationRecord[], migrations: Migration[], dir: string, log: (msg: string) => void) {
  const live = records.filter((r) => !r.rolledBack);
  const unfinished = live.filter((r) => !r.finished).map((r) => r.name);
  if (unfinished.length > 0) {
    throw new Error(
      `Refusing to migrate: _prisma_migrations records failed or unfinished migration(s): ${unfinished.join(', ')}. ` +
        'Repair the database by hand, then set rolled_back_at on that row (to retry it) or finished_at (if it is done).',
    );
  }
  const committed = new Map(migrations.map((m) => [m.name, m]));
  const edited = live.filter((r) => committed.has(r.name) && !matchesChecksum(committed.get(r.name)!.script, r.checksum));
  if (edited.length > 0) {
    throw new Error(
      `Refusing to migrate: migration(s) ${edited.map((r) => r.name).join(', ')} changed after they were applied ` +
        '(checksum mismatch). Restore the committed migration.sql and put the change in a new migration.',
    );
  }
  const unknown = [...new Set(live.filter((r) => !committed.has(r.name)).map((r) => r.name))];
  if (unknown.length > 0) log(`the database has applied migration(s) missing from ${dir}: ${unknown.join(', ')}`);
}

// Prisma writes SQLite timestamps as RFC 3339 text with an explicit offset.
const sqliteTime = (date: Date) => date.toISOString().replace('Z', '+00:00');

function openSqlite(url: string): MigrationConnection {
  const db = new Database(sqlitePath(url), { timeout: 60_000 });
  // Prisma's SQLite migrations rebuild tables (create new, copy, drop old, rename). With foreign keys enforced —
  // better-sqlite3's default — dropping a parent table deletes its children's rows through ON DELETE CASCADE, and
  // the scripts' own `PRAGMA foreign_keys=OFF` is a no-op inside our transaction. So: off for this connection,
  // and the constraints are checked before each commit instead.
  const sql = (text: string) => text.replace(/\$\d+/g, '?');
  let insert: Database.Statement;
  let isApplied: Database.Statement;
  try {
    db.pragma('foreign_keys = OFF');
    db.exec(SQLITE_MIGRATIONS_TABLE);
    insert = db.prepare(sql(INSERT_RECORD));
    isApplied = db.prepare(sql(SELECT_APPLIED));
  } catch (error) {
    db.close();
    throw error;
  }
  return {
    async records() {
      const rows = db.prepare(SELECT_RECORDS).all() as { migration_name: string; checksum: string; finished: number; rolled_back: number }[];
      return rows.map((r) => ({ name: r.migration_name, checksum: r.checksum, finished: !!r.finished, rolledBack: !!r.rolled_back }));
    },
    async apply(migration, startedAt) {
      // IMMEDIATE takes the write lock first, so a second process starting at once waits here, then sees the row.
      db.exec('BEGIN IMMEDIATE');
      try {
        if (isApplied.get(migration.name)) {
          db.exec('ROLLBACK');
          return false;
        }
        db.exec(migration.script);
        const violations = db.pragma('foreign_key_check') as unknown[];
        if (violations.length > 0) throw new Error(`the migration leaves ${violations.length} foreign-key violation(s)`);
        insert.run(randomUUID(), migration.checksum, sqliteTime(new Date()), migration.name, null, null, sqliteTime(startedAt), 1);
        db.exec('COMMIT');
        return true;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    },
    async recordFailure({ migration, startedAt, logs }) {
      insert.run(randomUUID(), migration.checksum, null, migration.name, logs, sqliteTime(new Date()), sqliteTime(startedAt), 0);
    },
    async close() {
      db.close();
    },
  };
}

async function openPostgres(url: string, log: (msg: string) => void): Promise<MigrationConnection> {
  const client = new pg.Client({ connectionString: url });
  // A dropped connection also rejects the pending query, which is what reports it; without a listener the
  // 'error' event would crash the process instead.
  client.on('error', () => {});
  await client.connect();
  try {
    // A session lock, held until the connection ends: concurrent starts apply migrations one after the other.
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [POSTGRES_LOCK_KEY]);
    if (!rows[0].locked) {
      log('waiting for another process to finish migrating (advisory lock)');
      await client.query('SELECT pg_advisory_lock($1)', [POSTGRES_LOCK_KEY]);
    }
    await client.query(POSTGRES_MIGRATIONS_TABLE);
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return {
    async records() {
      const result = await client.query<{ migration_name: string; checksum: string; finished: boolean; rolled_back: boolean }>(SELECT_RECORDS);
      return result.rows.map((r) => ({ name: r.migration_name, checksum: r.checksum, finished: r.finished, rolledBack: r.rolled_back }));
    },
    async apply(migration, startedAt) {
      await client.query('BEGIN');
      try {
        if ((await client.query(SELECT_APPLIED, [migration.name])).rowCount) {
          await client.query('ROLLBACK');
          return false;
        }
        // No parameters: the simple query protocol, which runs a multi-statement script as is.
        await client.query(migration.script);
        await client.query(INSERT_RECORD, [randomUUID(), migration.checksum, new Date(), migration.name, null, null, startedAt, 1]);
        await client.query('COMMIT');
        return true;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    },
    async recordFailure({ migration, startedAt, logs }) {
      await client.query(INSERT_RECORD, [randomUUID(), migration.checksum, null, migration.name, logs, new Date(), startedAt, 0]);
    },
    async close() {
      await client.end();
    },
  };
}
