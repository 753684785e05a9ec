import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as SqliteClient } from '../generated/prisma-sqlite/client.ts';
import { PrismaClient as PostgresClient } from '../generated/prisma-postgres/client.ts';

/**
 * The database handle. Both generated clients have identical model types (one schema source), so the app is
 * typed against the SQLite client and handed whichever one DATABASE_URL selects.
 */
export type Db = InstanceType<typeof SqliteClient>;
export type TxClient = Omit<Db, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

export type DbOptions = {
  /** Called with every SQL statement the client sends; used by tests and benchmarks to count statements. */
  onQuery?: (sql: string) => void;
};

/** `file:relative/path.db` is resolved against the working directory; its folder is created. */
export function sqlitePath(url: string): string {
  const raw = url.slice('file:'.length).split('?')[0];
  if (raw === ':memory:') return raw;
  const path = resolve(raw);
  mkdirSync(dirname(path), { recursive: true });
  return path;
}

export function createDb(url: string, options: DbOptions = {}): Db {
  const log = options.onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : [];
  let client: Db;
  if (url.startsWith('file:')) {
    const adapter = new PrismaBetterSqlite3({ url: sqlitePath(url), timeout: 5000 });
    client = new SqliteClient({ adapter, log }) as Db;
  } else {
    const adapter = new PrismaPg({ connectionString: url, max: 10 });
    client = new PostgresClient({ adapter, log }) as unknown as Db;
  }
  if (options.onQuery) {
    const onQuery = options.onQuery;
    (client as unknown as { $on(e: 'query', cb: (ev: { query: string }) => void): void }).$on('query', (ev) =>
      onQuery(ev.query),
    );
  }
  return client;
}

/** Whether an error is a unique-constraint violation (Prisma's P2002), on either provider. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2002';
}
