import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Kind, parse, print, visit, type DefinitionNode, type DocumentNode, type GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { getSchema } from '../../src/graphql/schema.ts';
import { surfacePlugins } from '../../src/graphql/surface.ts';
import { sdkOperations, sha256Hex } from '../../src/graphql/persisted.ts';

const OPERATIONS_DIR = join(import.meta.dirname, '../../src/sdk/operations');

/** Every operation of src/sdk/operations, each with the fragments it uses (transitively), as a document of its own. */
function sdkOperationDocuments(): { name: string; text: string }[] {
  const all = readdirSync(OPERATIONS_DIR)
    .filter((f) => f.endsWith('.graphql'))
    .flatMap((f) => parse(readFileSync(join(OPERATIONS_DIR, f), 'utf8')).definitions);
  const fragments = new Map(all.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  return all.flatMap((op) => {
    if (op.kind !== Kind.OPERATION_DEFINITION) return [];
    const used = new Map<string, DefinitionNode>();
    const collect = (node: DefinitionNode) =>
      visit(node, {
        FragmentSpread(spread) {
          const name = spread.name.value;
          if (used.has(name)) return;
          const fragment = fragments.get(name);
          if (!fragment) throw new Error(`unknown fragment ${name}`);
          used.set(name, fragment);
          collect(fragment);
        },
      });
    collect(op);
    const doc: DocumentNode = { kind: Kind.DOCUMENT, definitions: [op, ...used.values()] };
    return [{ name: op.name?.value ?? '(anonymous)', text: print(doc) }];
  });
}

/** The server's own parse + validate, with the plugins app.ts installs, under the default configuration. */
function serverPipeline(env: Record<string, string> = {}) {
  const config = loadConfig(env);
  const yoga = createYoga({ schema: getSchema(), plugins: surfacePlugins(config, undefined) });
  return (text: string): readonly GraphQLError[] => {
    const enveloped = yoga.getEnveloped({});
    let document: DocumentNode;
    try {
      document = enveloped.parse(text);
    } catch (err) {
      return [err as GraphQLError];
    }
    return enveloped.validate(enveloped.schema, document);
  };
}

describe('operation limits', () => {
  it('defaults to depth 8, cost 20000, 15 aliases, 50 directives, 1000 tokens and 256 KiB bodies', () => {
    const config = loadConfig({});
    expect(config.queryLimits).toEqual({ maxDepth: 8, maxCost: 20_000, maxAliases: 15, maxDirectives: 50, maxTokens: 1000, maxListItems: 500 });
    expect(config.requestMaxBytes).toBe(256 * 1024);
    expect(config.wsMaxPayloadBytes).toBe(64 * 1024);
  });

  it('accepts every operation of the SDK under the default limits', () => {
    const check = serverPipeline();
    const operations = sdkOperationDocuments();
    expect(operations.length).toBeGreaterThan(50);
    const refused = operations.flatMap(({ name, text }) => check(text).map((e) => `${name}: ${e.message}`));
    expect(refused).toEqual([]);
  });

  it('accepts every operation of the SDK in production (no introspection in them)', () => {
    const check = serverPipeline({ NODE_ENV: 'production' });
    expect(sdkOperationDocuments().flatMap(({ name, text }) => check(text).map((e) => `${name}: ${e.message}`))).toEqual([]);
  });

  it('refuses documents over each limit in the same pipeline (so the check above can fail)', () => {
    const check = serverPipeline();
    const codes = (text: string) => check(text).map((e) => e.extensions?.code);
    const many = (n: number, s: string) => Array.from({ length: n }, (_, i) => s.replace('#', String(i))).join(' ');
    expect(codes('{ viewer { user { memberships { organization { members { edges { node { user { id } } } } } } } } }')).toEqual(['QUERY_TOO_COMPLEX']);
    expect(codes(`{ ${many(16, 'a#: viewer { kind }')} }`)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(codes(`{ ${many(51, '__typename @include(if: true)')} }`)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(codes(`{ ${many(1001, '__typename')} }`)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(codes('{ organizations(first: 100) { edges { node { members(first: 100) { edges { node { id } } } } } } }')).toEqual(['QUERY_TOO_COMPLEX']);
    // Lower limits from the environment apply.
    const strict = serverPipeline({ QUERY_MAX_DEPTH: '2' });
    expect(strict('{ viewer { user { id } } }').map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
  });
});

describe('surface configuration', () => {
  it('turns introspection off in production unless asked, and parses the WebSocket Origin allowlist', () => {
    expect(loadConfig({}).introspection).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).introspection).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', INTROSPECTION: 'true' }).introspection).toBe(true);
    expect(loadConfig({}).wsAllowedOrigins).toBeUndefined();
    expect(loadConfig({ WS_ALLOWED_ORIGINS: 'https://App.example.com, http://localhost:5173' }).wsAllowedOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
  });

  it('refuses bad values, naming each variable', () => {
    const bad = { WS_ALLOWED_ORIGINS: 'https://app.example.com/path', WS_MAX_PAYLOAD_BYTES: '1048576', PERSISTED_OPERATIONS: 'yes', QUERY_MAX_DEPTH: '0' };
    let error: unknown;
    try {
      loadConfig(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    for (const name of Object.keys(bad)) expect((error as Error).message).toContain(name);
  });
});

describe('persisted operations', () => {
  it('holds exactly the SDK operations (as the SDK client, Apollo and urql print them), by text and sha256', () => {
    const ops = sdkOperations();
    const names = sdkOperationDocuments().map((o) => o.name);
    // Per operation: as is and with __typename added, each printed as graphql-js and as urql do.
    expect(ops.byHash.size).toBeGreaterThanOrEqual(names.length);
    expect(ops.byHash.size).toBeLessThanOrEqual(names.length * 4);
    const operationNames = new Set<string>();
    for (const [hash, text] of ops.byHash) {
      expect(sha256Hex(text)).toBe(hash);
      expect(ops.has(text)).toBe(true);
      for (const d of parse(text).definitions) if (d.kind === Kind.OPERATION_DEFINITION) operationNames.add(d.name!.value);
    }
    expect([...operationNames].sort()).toEqual([...names].sort());
    expect(ops.has('{ viewer { kind } }')).toBe(false);
  });
});
