import { createHash } from 'node:crypto';
import { GraphQLError, Kind, print, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import * as sdk from '../sdk/generated.ts';

/**
 * PERSISTED_OPERATIONS=only: the server runs nothing but the SDK's operations (src/sdk/operations, as generated
 * into src/sdk/generated.ts). A client sends either the exact text the SDK sends (`print(document)`), or only its
 * hash as `extensions.persistedQuery.sha256Hash` (Apollo's format), or both (they must then agree).
 *
 * Enforced where every operation is parsed (envelop's onParse, shared by HTTP and graphql-ws), so no transport,
 * GET, batching or cache path can reach execution with another document.
 */

export const PERSISTED_OPERATION_NOT_FOUND = 'PERSISTED_OPERATION_NOT_FOUND';

const notFound = () =>
  new GraphQLError('Only persisted operations are accepted: send an operation of the vaultgate SDK, by text or sha256 hash.', {
    extensions: { code: PERSISTED_OPERATION_NOT_FOUND },
  });

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

export type PersistedOperations = {
  /** sha256 (hex) of the text → the text. */
  byHash: ReadonlyMap<string, string>;
  has(text: string): boolean;
};

/** Every operation document of the generated SDK, as the SDK client sends it. */
export function sdkOperations(): PersistedOperations {
  const byHash = new Map<string, string>();
  for (const value of Object.values(sdk) as unknown[]) {
    const doc = value as DocumentNode;
    if (doc?.kind !== Kind.DOCUMENT || !doc.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION)) continue;
    const text = print(doc);
    byHash.set(sha256Hex(text), text);
  }
  const texts = new Set(byHash.values());
  return { byHash, has: (text) => texts.has(text) };
}

type Params = { query?: string | null; extensions?: Record<string, unknown> | null };

/**
 * Fills in `query` from `extensions.persistedQuery.sha256Hash`; throws when the hash is unknown or names another
 * document than the text sent with it. Without a hash, the text is left for the onParse check.
 */
export function resolvePersisted<P extends Params>(ops: PersistedOperations, params: P): P {
  const pq = params.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
  if (pq === undefined || pq === null) return params;
  const hash = typeof pq === 'object' && typeof pq.sha256Hash === 'string' ? pq.sha256Hash.toLowerCase() : undefined;
  const text = hash ? ops.byHash.get(hash) : undefined;
  if (!text || (params.query && params.query !== text)) throw notFound();
  return { ...params, query: text };
}

export function persistedOperationsPlugin(ops: PersistedOperations): Plugin {
  return {
    onParams({ params, setParams }) {
      setParams(resolvePersisted(ops, params));
    },
    onParse({ params }) {
      if (!ops.has(String(typeof params.source === 'string' ? params.source : params.source.body))) throw notFound();
    },
  };
}
