// vitest globalSetup of the integration projects: the committed migrations are applied ONCE per run to a template
// database, and every test file's database starts as a copy of it (a file copy on SQLite, `CREATE DATABASE …
// TEMPLATE` on PostgreSQL) instead of replaying every migration itself. The server still runs the migrator at
// start, which then finds nothing to apply, so the bookkeeping path stays covered; the migrations themselves are
// covered by test/unit/migrations-drift.test.ts and by the template being built here from them on every run.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateDatabase } from '../../src/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated SQLite file to copy for each test database ('' when there is none). */
    vaultgateSqliteTemplate: string;
    /** The name of a migrated PostgreSQL database to use as TEMPLATE ('' when there is none). */
    vaultgatePostgresTemplate: string;
  }
}

/** Template database names start with this; harness.ts refuses to treat anything else as one. */
export const POSTGRES_TEMPLATE_PREFIX = 'vaultgate_tmpl_';

export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export function databaseUrl(name: string): string {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

export default async function setup(project: TestProject) {
  const kind = project.config.env?.VAULTGATE_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
  project.provide('vaultgateSqliteTemplate', '');
  project.provide('vaultgatePostgresTemplate', '');

  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'vaultgate-template-'));
    const file = join(dir, 'template.db');
    await migrateDatabase(`file:${file}`);
    project.provide('vaultgateSqliteTemplate', file);
    return async () => rmSync(dir, { recursive: true, force: true });
  }

  if (!process.env.TEST_DATABASE_URL) return undefined;
  // One template per run (other checkouts on the same server may have other migrations), dropped at the end.
  const name = `${POSTGRES_TEMPLATE_PREFIX}${randomBytes(6).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  try {
    await migrateDatabase(databaseUrl(name));
  } catch (error) {
    await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    throw error;
  }
  project.provide('vaultgatePostgresTemplate', name);
  return async () => {
    await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  };
}
