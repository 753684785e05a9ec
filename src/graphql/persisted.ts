import { createHash } from 'node:crypto';
import { GraphQLError, Kind, print, visit, type DocumentNode, type FieldNode, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import * as sdk from '../sdk/generated.ts';

/**
 * Persisted operations, in two modes (docs/clients.md "Persisted operations"):
 *
 * - PERSISTED_OPERATIONS=only: the server runs nothing but the SDK's operations (src/sdk/operations, as generated
 *   into src/sdk/generated.ts). A client sends either the exact text the SDK sends (`print(document)`) or the text
 *   Apollo Client or urql send for the same document (they add `__typename` to every selection set, and urql prints
 *   definitions one newline apart), or only its hash as `extensions.persistedQuery.sha256Hash` (Apollo's format),
 *   or both (they must then agree).
 * - otherwise, automatic persisted queries (Apollo's APQ protocol, also spoken by urql's persisted exchange): a
 *   client sends the hash alone; an unknown hash is answered `PersistedQueryNotFound`
 *   (code PERSISTED_QUERY_NOT_FOUND); the client retries with hash and text, and the server keeps the text under
 *   that hash in a bounded LRU store, so the next request can be the hash alone.
 *
 * Enforced where every operation's parameters are read (Yoga's onParams; app.ts calls the same functions for
 * graphql-ws subscribe messages) and, for `only`, where every operation is parsed (envelop's onParse, shared by
 * HTTP and graphql-ws), so no transport, GET, batching or cache path can reach execution with another document.
 */

export const PERSISTED_OPERATION_NOT_FOUND = 'PERSISTED_OPERATION_NOT_FOUND';
/** The code, and message, Apollo's persisted-query link and urql's persisted exchange retry on with the text. */
export const PERSISTED_QUERY_NOT_FOUND = 'PERSISTED_QUERY_NOT_FOUND';

const notFound = () =>
  new GraphQLError('Only persisted operations are accepted: send an operation of the vaultgate SDK, by text or sha256 hash.', {
    extensions: { code: PERSISTED_OPERATION_NOT_FOUND },
  });

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

const TYPENAME: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };

/**
 * Adds `__typename` at the end of every selection set that selects no `__…` field, except an operation's root one:
 * the transform Apollo Client's InMemoryCache and urql apply to every document before they send it.
 */
export function addTypenames(document: DocumentNode): DocumentNode {
  return visit(document, {
    SelectionSet: {
      leave(node: SelectionSetNode, _key, parent) {
        if (parent && !Array.isArray(parent) && (parent as { kind?: string }).kind === Kind.OPERATION_DEFINITION) return undefined;
        if (node.selections.some((s) => s.kind === Kind.FIELD && s.name.value.startsWith('__'))) return undefined;
        return { ...node, selections: [...node.selections, TYPENAME] };
      },
    },
  });
}

/** How each client prints a document: graphql-js's `print` (the SDK, Apollo), and urql's (one newline between definitions). */
const printers: ((doc: DocumentNode) => string)[] = [
  (doc) => print(doc),
  (doc) => doc.definitions.map((d) => print(d)).join('\n'),
];

export type PersistedOperations = {
  /** sha256 (hex) of the text → the text. */
  byHash: ReadonlyMap<string, string>;
  has(text: string): boolean;
};

/** Every operation document of the generated SDK, as the SDK client, Apollo Client and urql send it. */
export function sdkOperations(): PersistedOperations {
  const byHash = new Map<string, string>();
  for (const value of Object.values(sdk) as unknown[]) {
    const doc = value as DocumentNode;
    if (doc?.kind !== Kind.DOCUMENT || !doc.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION)) continue;
    for (const variant of [doc, addTypenames(doc)]) {
      for (const printer of printers) {
        const text = printer(variant);
        byHash.set(sha256Hex(text), text);
      }
    }
  }
  const texts = new Set(byHash.values());
  return { byHash, has: (text) => texts.has(text) };
}

/**
 * The same, computed on first use: printing and hashing every variant takes a noticeable part of a second, which
 * a server that never sees a persisted query should not pay at start.
 */
export function lazily(load: () => PersistedOperations): PersistedOperations {
  let ops: PersistedOperations | undefined;
  const get = () => (ops ??= load());
  return {
    get byHash() {
      return get().byHash;
    },
    has: (text) => get().has(text),
  };
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

/**
 * The documents clients registered by automatic persisted queries: at most `maxEntries` of them and `maxBytes` of
 * text (UTF-8) in all, the least recently used evicted first, so that registering documents cannot grow memory
 * without bound. A text larger than maxBytes is not kept (the client then keeps sending it in full).
 */
export class PersistedQueryStore {
  readonly #entries = new Map<string, string>();
  #bytes = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(hash: string): string | undefined {
    const text = this.#entries.get(hash);
    if (text !== undefined) {
      this.#entries.delete(hash);
      this.#entries.set(hash, text);
    }
    return text;
  }

  set(hash: string, text: string): void {
    const size = Buffer.byteLength(text);
    if (this.maxEntries <= 0 || size > this.maxBytes) return;
    const old = this.#entries.get(hash);
    if (old !== undefined) {
      this.#entries.delete(hash);
      this.#bytes -= Buffer.byteLength(old);
    }
    this.#entries.set(hash, text);
    this.#bytes += size;
    for (const [oldest, oldText] of this.#entries) {
      if (this.#entries.size <= this.maxEntries && this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= Buffer.byteLength(oldText);
    }
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The automatic-persisted-query protocol: a hash alone is looked up (in the SDK's operations, then in what clients
 * registered) and answered `PersistedQueryNotFound` when unknown; a hash with its text registers the text after
 * checking that it is the text's sha256.
 */
export function resolveAutomaticPersisted<P extends Params>(store: PersistedQueryStore, known: PersistedOperations, params: P): P {
  const pq = params.extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined | null;
  if (pq === undefined || pq === null) return params;
  const hash = typeof pq === 'object' && pq.version === 1 && typeof pq.sha256Hash === 'string' ? pq.sha256Hash.toLowerCase() : '';
  if (!SHA256_HEX.test(hash)) {
    throw new GraphQLError('Unsupported persisted query: send extensions.persistedQuery as { version: 1, sha256Hash: <sha256 of the text, 64 hex digits> }.', {
      extensions: { code: 'PERSISTED_QUERY_INVALID', http: { status: 400 } },
    });
  }
  if (!params.query) {
    const text = known.byHash.get(hash) ?? store.get(hash);
    // The message is the protocol's: urql's persisted exchange retries on it, Apollo's link on it or the code.
    if (text === undefined) throw new GraphQLError('PersistedQueryNotFound', { extensions: { code: PERSISTED_QUERY_NOT_FOUND } });
    return { ...params, query: text };
  }
  if (sha256Hex(params.query) !== hash) {
    throw new GraphQLError('The persisted query hash is not the sha256 of the query text sent with it.', {
      extensions: { code: 'PERSISTED_QUERY_HASH_MISMATCH', http: { status: 400 } },
    });
  }
  if (!known.byHash.has(hash)) store.set(hash, params.query);
  return params;
}

export function automaticPersistedQueriesPlugin(store: PersistedQueryStore, known: PersistedOperations): Plugin {
  return {
    onParams({ params, setParams }) {
      setParams(resolveAutomaticPersisted(store, known, params));
    },
  };
}
