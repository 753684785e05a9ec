import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { DriverAdapterError } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { errorLabel, unavailableDependency, type DependencyHealth } from '../lib/health.ts';
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
  /**
   * Where a lost PostgreSQL connection is reported. While it says the database is down, queries fail at once
   * (a circuit breaker) instead of each waiting on a dead connection; `watchDatabase` closes it again.
   */
  health?: DependencyHealth;
};

/** How long a new PostgreSQL connection (or a wait for a free one) may take before the request is answered 503. */
export const PG_CONNECT_TIMEOUT_MS = 2000;
/** While the database is down, how often `watchDatabase` tries it. */
export const PROBE_INTERVAL_MS = 500;

type Gated = { queryRaw: Function; executeRaw: Function; startTransaction: Function; executeScript?: Function };

/**
 * Wraps the PostgreSQL adapter's entry points: refused at once while the database is known to be down, and any
 * connection-class failure reported (Prisma maps the DriverAdapterError to P1001, answered as SERVICE_UNAVAILABLE).
 */
function gatePostgres(factory: PrismaPg, health: DependencyHealth) {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const gated = adapter as unknown as Gated;
    for (const method of ['queryRaw', 'executeRaw', 'startTransaction'] as const) {
      const original = gated[method].bind(adapter);
      gated[method] = async (...args: unknown[]) => {
        if (!health.isUp('database')) throw new DriverAdapterError({ kind: 'DatabaseNotReachable' });
        try {
          return await original(...args);
        } catch (error) {
          if (unavailableDependency(error) === 'database') health.report('database', 'connection', false, errorLabel(error));
          throw error;
        }
      };
    }
    return adapter;
  };
  return factory;
}

/** `file:relative/path.db` is resolved against the working directory; its folder is created. */
export function sqlitePath(url: string): string {
  const raw = url.slice('file:'.length).split('?')[0];
  if (raw === ':memory:') return raw;
  const path = resolve(raw);
  mkdirSync(dirname(path), { recursive: true });
  return path;
}

type SqliteStatement = {
  reader: boolean;
  raw(on?: boolean): SqliteStatement;
  all(...args: unknown[]): unknown[];
  run(...args: unknown[]): unknown;
  columns(): unknown[];
};

/** How many distinct SQL texts keep a prepared statement per SQLite connection (Prisma's SQL is shape-stable). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * better-sqlite3 compiles a statement on every `prepare`, and Prisma's adapter prepares each query anew; on the
 * hot list that compilation was as costly as running the query (bench P1 profile). This keeps the compiled
 * statements per SQL text (least recently used out first) and hands the adapter a statement-shaped object whose
 * `bind(args)` defers to the cached statement with those arguments, since a better-sqlite3 statement can be
 * bound only once. The adapter reads rows only in raw mode, which is what cached readers are switched to.
 */
function cacheStatements(adapter: { client: { prepare(sql: string): SqliteStatement } }): void {
  const db = adapter.client;
  const cache = new Map<string, SqliteStatement>();
  const prepared = (sql: string): SqliteStatement => {
    let stmt = cache.get(sql);
    if (stmt) {
      cache.delete(sql);
    } else {
      stmt = db.prepare(sql);
      if (stmt.reader) stmt.raw(true);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, stmt);
    return stmt;
  };
  const facade = Object.create(db) as typeof db;
  facade.prepare = (sql: string) => {
    const stmt = prepared(sql);
    return {
      bind: (args: unknown[]) => ({
        reader: stmt.reader,
        columns: () => stmt.columns(),
        run: () => stmt.run(...args),
        raw: () => ({ all: () => stmt.all(...args) }),
      }),
      // `prepare("BEGIN").run()` and the like, without bind.
      run: () => stmt.run(),
    } as unknown as SqliteStatement;
  };
  adapter.client = facade;
}

/** The better-sqlite3 adapter factory, with a statement cache on each connection it opens. */
function sqliteAdapter(path: string) {
  const factory = new PrismaBetterSqlite3({ url: path, timeout: 5000 });
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    cacheStatements(adapter as unknown as Parameters<typeof cacheStatements>[0]);
    return adapter;
  };
  return factory;
}

export function createDb(url: string, options: DbOptions = {}): Db {
  const log = options.onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : [];
  let client: Db;
  if (url.startsWith('file:')) {
    const adapter = sqliteAdapter(sqlitePath(url));
    client = new SqliteClient({ adapter, log }) as Db;
  } else {
    const health = options.health;
    const report = (error: Error) => health?.report('database', 'connection', false, errorLabel(error));
    let adapter = new PrismaPg(
      // keepAlive: a connection whose peer vanished without a FIN is noticed by the kernel, not never.
      { connectionString: url, max: 10, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS, keepAlive: true },
      // An idle pooled connection that breaks is an event on the pool (unhandled, it would crash the process).
      { onPoolError: report, onConnectionError: report },
    );
    if (health) adapter = gatePostgres(adapter, health);
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

/**
 * While the database is reported down, tries it every PROBE_INTERVAL_MS on a connection of its own (not the
 * pool, whose entry points the breaker refuses) and reports it up on the first answer. Only for PostgreSQL:
 * an embedded SQLite file has no connection to lose. Returns the stop function.
 */
export function watchDatabase(url: string, health: DependencyHealth): () => void {
  if (url.startsWith('file:')) return () => {};
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const probe = async () => {
    timer = undefined;
    if (stopped || health.isUp('database')) return;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS, query_timeout: PG_CONNECT_TIMEOUT_MS });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      health.report('database', 'connection', true);
    } catch {
      // still down: the next probe follows
    } finally {
      void client.end().catch(() => undefined);
    }
    if (!stopped && !health.isUp('database')) timer = setTimeout(probe, PROBE_INTERVAL_MS).unref();
  };
  const off = health.onChange((name, up) => {
    if (name === 'database' && !up && !timer) timer = setTimeout(probe, 0).unref();
  });
  return () => {
    stopped = true;
    off();
    clearTimeout(timer);
  };
}
