// The committed migrations must build exactly the schema in prisma/schema.prisma, on both providers, and the
// runtime migrator must keep Prisma's bookkeeping honest. The PostgreSQL cases need TEST_DATABASE_URL (an admin
// database on a server where scratch databases may be created); without it they are skipped.
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf, migrateDatabase, migrationsDirectory, readMigrations } from '../../src/db/migrate.ts';
import { migrationList, openSchemaEngine, SCHEMA_PATH, SNAPSHOT_PATH, toPostgresSchema, type Engine } from '../../scripts/lib/schema-engine.ts';

const adminUrl = process.env.TEST_DATABASE_URL;
const schema = readFileSync(SCHEMA_PATH, 'utf8');
const sqliteMigrations = readMigrations(migrationsDirectory('sqlite'), 'sqlite');
const postgresMigrations = readMigrations(migrationsDirectory('postgresql'), 'postgresql');
const HOW_TO_FIX = 'prisma/schema.prisma and the committed migrations disagree: run `npm run db:migration -- <name>`';

let engine: Engine;
beforeAll(async () => {
  engine = await openSchemaEngine();
});
afterAll(async () => {
  await engine?.dispose();
});

describe('committed migrations against prisma/schema.prisma', () => {
  it('both providers have the same, non-empty list of migrations', () => {
    expect(sqliteMigrations.length).toBeGreaterThan(0);
    expect(postgresMigrations.map((m) => m.name)).toEqual(sqliteMigrations.map((m) => m.name));
  });

  it('SQLite: replaying the migrations builds the schema (engine diff is empty)', async () => {
    const pending = await engine.diff({ migrations: migrationList(migrationsDirectory('sqlite'), 'sqlite') }, { schema });
    expect(pending, `${HOW_TO_FIX}; missing SQL:\n${pending}`).toBeNull();
  });

  it('PostgreSQL: the schema snapshot the next migration is derived from is the schema', async () => {
    const snapshot = readFileSync(SNAPSHOT_PATH, 'utf8');
    const pending = await engine.diff({ schema: toPostgresSchema(snapshot) }, { schema: toPostgresSchema(schema) });
    expect(pending, `${HOW_TO_FIX}; missing SQL:\n${pending}`).toBeNull();
  });

  // Compares two real databases: one built by the committed migrations, one by the SQL the engine writes for the
  // schema from scratch. Column order is ignored, as Prisma's own drift detection ignores it.
  it.skipIf(!adminUrl)('PostgreSQL: the committed migrations build the same database as the schema', async () => {
    const fromMigrations = await scratchDatabase();
    const fromSchema = await scratchDatabase();
    try {
      await migrateDatabase(fromMigrations.url);
      const script = await engine.diff({ empty: true }, { schema: toPostgresSchema(schema) });
      await withClient(fromSchema.url, (c) => c.query(script ?? ''));
      const [actual, expected] = await Promise.all([fingerprint(fromMigrations.url), fingerprint(fromSchema.url)]);
      expect(expected.columns.length).toBeGreaterThan(0);
      expect(actual, HOW_TO_FIX).toEqual(expected);
    } finally {
      await fromMigrations.drop();
      await fromSchema.drop();
    }
  });
});

describe('migrateDatabase on SQLite', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vaultgate-migrate-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const freshUrl = () => `file:${join(dir, `${randomBytes(4).toString('hex')}`, 'db.sqlite')}`;

  it('applies every migration once, with Prisma bookkeeping, and nothing the second time', async () => {
    const url = freshUrl();
    expect((await migrateDatabase(url)).applied).toEqual(sqliteMigrations.map((m) => m.name));
    expect((await migrateDatabase(url)).applied).toEqual([]);
    const rows = sqliteRows(url, 'SELECT * FROM _prisma_migrations ORDER BY started_at');
    expect(rows).toEqual(
      sqliteMigrations.map((m) =>
        expect.objectContaining({ migration_name: m.name, checksum: checksumOf(m.script), logs: null, rolled_back_at: null, applied_steps_count: 1 }),
      ),
    );
    expect(rows.every((r) => typeof r.finished_at === 'string')).toBe(true);
    expect(sqliteRows(url, `SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'User'`)).toHaveLength(1);
  });

  it('refuses when an applied migration changed (checksum mismatch)', async () => {
    const url = freshUrl();
    await migrateDatabase(url);
    sqliteRun(url, `UPDATE _prisma_migrations SET checksum = '${'0'.repeat(64)}'`);
    await expect(migrateDatabase(url)).rejects.toThrow(/changed after they were applied \(checksum mismatch\)/);
  });

  it('refuses when a failed or unfinished migration is recorded', async () => {
    const url = freshUrl();
    await migrateDatabase(url);
    sqliteRun(url, `UPDATE _prisma_migrations SET finished_at = NULL`);
    await expect(migrateDatabase(url)).rejects.toThrow(/failed or unfinished migration/);
  });

  it('rolls a failing migration back, records the attempt, and applies the fixed one on the next run', async () => {
    const migrations = join(dir, `migrations-${randomBytes(4).toString('hex')}`);
    cpSync(migrationsDirectory('sqlite'), migrations, { recursive: true });
    const broken = join(migrations, '99990101000000_broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'migration.sql'), 'CREATE TABLE "Extra" ("id" TEXT);\nINSERT INTO "Missing" VALUES (1);\n');
    const url = freshUrl();

    await expect(migrateDatabase(url, { migrationsDir: migrations })).rejects.toThrow(/99990101000000_broken failed and was rolled back: no such table: Missing/);
    expect(sqliteRows(url, `SELECT name FROM sqlite_master WHERE name = 'Extra'`)).toEqual([]);
    expect(sqliteRows(url, `SELECT logs, finished_at, rolled_back_at FROM _prisma_migrations WHERE migration_name = '99990101000000_broken'`)).toEqual([
      { logs: expect.stringContaining('no such table: Missing'), finished_at: null, rolled_back_at: expect.any(String) },
    ]);

    writeFileSync(join(broken, 'migration.sql'), 'CREATE TABLE "Extra" ("id" TEXT);\n');
    expect((await migrateDatabase(url, { migrationsDir: migrations })).applied).toEqual(['99990101000000_broken']);
  });
});

describe.skipIf(!adminUrl)('migrateDatabase on PostgreSQL', () => {
  it('two instances starting at once against one fresh database both succeed, each migration applied once', async () => {
    const db = await scratchDatabase();
    try {
      const results = await Promise.all([migrateDatabase(db.url), migrateDatabase(db.url)]);
      expect(results.flatMap((r) => r.applied).sort()).toEqual(postgresMigrations.map((m) => m.name));
      const rows = await withClient(db.url, async (c) => (await c.query('SELECT * FROM _prisma_migrations ORDER BY started_at')).rows);
      expect(rows).toEqual(
        postgresMigrations.map((m) =>
          expect.objectContaining({ migration_name: m.name, checksum: checksumOf(m.script), logs: null, rolled_back_at: null, applied_steps_count: 1, finished_at: expect.any(Date) }),
        ),
      );
      expect((await migrateDatabase(db.url)).applied).toEqual([]);
    } finally {
      await db.drop();
    }
  });

  it('refuses when an applied migration changed (checksum mismatch)', async () => {
    const db = await scratchDatabase();
    try {
      await migrateDatabase(db.url);
      await withClient(db.url, (c) => c.query(`UPDATE _prisma_migrations SET checksum = $1`, ['0'.repeat(64)]));
      await expect(migrateDatabase(db.url)).rejects.toThrow(/checksum mismatch/);
    } finally {
      await db.drop();
    }
  });
});

function sqliteRows(url: string, sql: string): Record<string, unknown>[] {
  const db = new Database(url.slice('file:'.length), { readonly: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

function sqliteRun(url: string, sql: string) {
  const db = new Database(url.slice('file:'.length));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function scratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `vaultgate_drift_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl!, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl!);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => withClient(adminUrl!, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}) };
}

/** What Prisma's schema comparison looks at in the public schema, each list sorted (not column order). */
async function fingerprint(url: string) {
  const queries = {
    columns: `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, character_maximum_length,
        numeric_precision, numeric_scale, datetime_precision
      FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    constraints: `SELECT conrelid::regclass::text AS table_name, conname, contype, pg_get_constraintdef(oid) AS definition
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '_prisma_migrations'`,
    indexes: `SELECT tablename, indexname, indexdef FROM pg_indexes
      WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`,
    // Prisma compares enum values as a set (new values are appended), so the labels are sorted too.
    enums: `SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumlabel) AS labels
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname`,
    sequences: `SELECT sequence_name, data_type FROM information_schema.sequences WHERE sequence_schema = 'public'`,
    views: `SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = 'public'`,
  };
  return withClient(url, async (client) => {
    const result: Record<keyof typeof queries, string[]> = { columns: [], constraints: [], indexes: [], enums: [], sequences: [], views: [] };
    for (const [key, sql] of Object.entries(queries) as [keyof typeof queries, string][]) {
      result[key] = (await client.query(sql)).rows.map((row) => JSON.stringify(row)).sort();
    }
    return result;
  });
}
