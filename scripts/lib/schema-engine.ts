// Prisma's schema engine, offline: the npm package @prisma/schema-engine-wasm is the engine the CLI would download
// as a binary. Used by scripts/migrate.ts (create) and the drift tests, never by the app at run time.
//
// Traps handled here (see the team notes on Prisma offline):
// - The package's ESM entry imports a .wasm file, which Node 20 cannot import; the module is instantiated by hand.
// - Replaying migrations into a SQLite shadow database, the engine sends whole scripts through executeRaw, which
//   better-sqlite3 refuses ("more than one statement"); parameterless calls are routed to executeScript.
// - The engine never closes the connections it opens; the adapters are kept and disposed of in dispose().
// - Failures inside the adapter surface as "External error id#N"; the real error is looked up and rethrown.
// - A timer inside the engine keeps the process alive for ~10 s after the work: CLI callers call process.exit.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';
import { migrationsDirectory, readMigrations, type Provider } from '../../src/db/migrate.ts';

export const SCHEMA_PATH = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));
/** The schema as of the latest migration, from which the next PostgreSQL migration is derived (scripts/migrate.ts). */
export const SNAPSHOT_PATH = join(migrationsDirectory('postgresql'), 'schema.snapshot');

let initialized = false;

function initWasm() {
  if (initialized) return;
  const require = createRequire(import.meta.url);
  const wasmPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/\.js$/, '.wasm');
  const module = new WebAssembly.Module(readFileSync(wasmPath));
  const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': bindings as unknown as WebAssembly.ModuleImports });
  bindings.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  initialized = true;
}

export type Engine = {
  /** The migration script from `from` to `to`; null when there is no difference. */
  diff(from: DiffSource, to: DiffSource): Promise<string | null>;
  dispose(): Promise<void>;
};

/** Where a diff side comes from: nothing, a Prisma schema's text, or a folder of migrations (replayed in SQLite). */
export type DiffSource = { empty: true } | { schema: string } | { migrations: MigrationList };

const NO_FILTERS = { externalTables: [], externalEnums: [] };

/**
 * An engine with a SQLite adapter on in-memory databases: diffs between schemas need no database (the dialect
 * follows each schema's datasource provider), and a migrations folder is replayed into an in-memory shadow.
 */
export async function openSchemaEngine(): Promise<Engine> {
  initWasm();
  const opened: SqlDriverAdapter[] = [];
  const track = (adapter: SqlDriverAdapter) => {
    const executeRaw = adapter.executeRaw.bind(adapter);
    adapter.executeRaw = async (query) => {
      if (query.args.length > 0) return executeRaw(query);
      await adapter.executeScript(query.sql);
      return 0;
    };
    opened.push(adapter);
    return adapter;
  };
  const sqlite = new PrismaBetterSqlite3({ url: ':memory:' });
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: sqlite.provider,
    adapterName: sqlite.adapterName,
    connect: async () => track(await sqlite.connect()),
    connectToShadowDb: async () => track(await sqlite.connectToShadowDb()),
  };
  const bound = bindMigrationAwareSqlAdapterFactory(factory);
  const engine: SchemaEngine = await bindings.SchemaEngine.new({ datamodels: undefined }, () => {}, bound);

  const explain = (error: unknown): Error => {
    const message = error instanceof Error ? error.message : String(error);
    const id = /External error id#(\d+)/.exec(message)?.[1];
    const cause = id === undefined ? undefined : bound.errorRegistry.consumeError(Number(id))?.error;
    return cause instanceof Error ? new Error(`schema engine: ${cause.message}`, { cause }) : new Error(`schema engine: ${message}`);
  };
  const target = (source: DiffSource) => {
    if ('empty' in source) return { tag: 'empty' as const };
    if ('schema' in source) return { tag: 'schemaDatamodel' as const, files: [{ path: 'schema.prisma', content: source.schema }] };
    return { tag: 'migrations' as const, ...source.migrations };
  };

  return {
    async diff(from, to) {
      try {
        // exitCode: the engine reports 2 when there is a difference, 0 when the script would be empty.
        const result = await engine.diff({ from: target(from), to: target(to), script: true, exitCode: true, filters: NO_FILTERS });
        return result.exitCode === 2 ? (result.stdout ?? '') : null;
      } catch (error) {
        throw explain(error);
      }
    },
    async dispose() {
      engine.free();
      await Promise.all(opened.splice(0).map((adapter) => adapter.dispose()));
    },
  };
}

/** A migrations folder as the engine takes it (as Prisma's CLI builds it); an absent folder is an empty history. */
export function migrationList(dir: string, provider: Provider): MigrationList {
  const lockfile = { path: 'migration_lock.toml', content: `provider = "${provider}"\n` };
  if (!existsSync(dir)) return { baseDir: dir, lockfile, shadowDbInitScript: '', migrationDirectories: [] };
  return {
    baseDir: dir,
    lockfile: { ...lockfile, content: readFileSync(join(dir, lockfile.path), 'utf8') },
    shadowDbInitScript: '',
    migrationDirectories: readMigrations(dir, provider).map((m) => ({
      path: m.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok' as const, value: m.script } },
    })),
  };
}

/**
 * The PostgreSQL variant of the one schema source: only the datasource provider matters for migrations (the
 * generator changes scripts/generate.mjs makes for the PostgreSQL client do not affect the database).
 */
export function toPostgresSchema(schema: string): string {
  const datasource = /datasource\s+\w+\s*\{[^}]*\}/.exec(schema);
  if (!datasource || !/provider\s*=\s*"sqlite"/.test(datasource[0])) {
    throw new Error('prisma/schema.prisma: expected a datasource block with provider = "sqlite"');
  }
  const swapped = datasource[0].replace(/provider\s*=\s*"sqlite"/, 'provider = "postgresql"');
  return schema.slice(0, datasource.index) + swapped + schema.slice(datasource.index + datasource[0].length);
}
