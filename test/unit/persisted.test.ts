import { addTypenameToDocument } from '@apollo/client/utilities';
import { formatDocument, stringifyDocument } from '@urql/core';
import { Kind, print, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { PersistedQueryStore, sdkOperations, sha256Hex } from '../../src/graphql/persisted.ts';
import * as sdk from '../../src/sdk/generated.ts';

const operations = Object.entries(sdk as Record<string, unknown>).filter(
  (entry): entry is [string, DocumentNode] =>
    (entry[1] as DocumentNode)?.kind === Kind.DOCUMENT && (entry[1] as DocumentNode).definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION),
);

describe('PERSISTED_OPERATIONS=only knows every SDK operation as real clients send it', () => {
  const known = sdkOperations();

  it.each([
    ['the SDK client', (doc: DocumentNode) => print(doc)],
    ['Apollo Client (its cache adds __typename)', (doc: DocumentNode) => print(addTypenameToDocument(doc))],
    ['urql (adds __typename, prints with its own printer)', (doc: DocumentNode) => stringifyDocument(formatDocument(doc))],
  ])('%s: by text and by sha256 hash', (_client, send) => {
    expect(operations.length).toBeGreaterThan(50);
    const missing = operations.filter(([, doc]) => !known.has(send(doc)) || known.byHash.get(sha256Hex(send(doc))) !== send(doc)).map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it('knows nothing else: a handful of variants per operation', () => {
    expect(known.byHash.size).toBeLessThanOrEqual(operations.length * 4);
    expect(known.has('{ viewer { kind } }')).toBe(false);
  });
});

describe('the automatic-persisted-query store', () => {
  it('keeps at most maxEntries documents, evicting the least recently used', () => {
    const store = new PersistedQueryStore(3, 1_000_000);
    for (const n of [1, 2, 3]) store.set(`h${n}`, `query Q${n} { viewer { kind } }`);
    expect(store.get('h1')).toBeDefined(); // h1 is now the most recently used
    store.set('h4', 'query Q4 { viewer { kind } }');
    expect(store.size).toBe(3);
    expect(store.get('h2')).toBeUndefined();
    expect(['h1', 'h3', 'h4'].map((h) => store.get(h) !== undefined)).toEqual([true, true, true]);
  });

  it('keeps at most maxBytes of text, and never a text larger than that', () => {
    const store = new PersistedQueryStore(1000, 100);
    store.set('big', 'x'.repeat(101));
    expect(store.size).toBe(0);
    for (let n = 0; n < 50; n++) store.set(`h${n}`, `query Q${String(n).padStart(2, '0')} { a }`);
    expect(store.bytes).toBeLessThanOrEqual(100);
    expect(store.size).toBe(Math.floor(100 / 'query Q00 { a }'.length));
    expect(store.get('h49')).toBe('query Q49 { a }');
    expect(store.get('h0')).toBeUndefined();
  });

  it('stores nothing with maxEntries 0', () => {
    const store = new PersistedQueryStore(0, 100);
    store.set('h', '{ a }');
    expect(store.size).toBe(0);
  });
});
