import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createVaultgateClient, ViewerDocument } from '../../src/sdk/index.ts';

const SDK_SOURCE = join(import.meta.dirname, '../../src/sdk');
const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '../../packages/sdk/package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};

/** Every module specifier imported or re-exported by the package's source files (types included). */
function importedSpecifiers(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of readdirSync(SDK_SOURCE).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(SDK_SOURCE, file), 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s+['"]([^'"]+)['"]/gm)) found.set(m[1]!, [...(found.get(m[1]!) ?? []), file]);
  }
  return found;
}

describe('@vaultgate/sdk declares what it imports and runs outside Node', () => {
  it('imports only relative files and declared dependencies or peers, never a Node built-in or ws', () => {
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
    const undeclared = [...importedSpecifiers()]
      .filter(([spec]) => !spec.startsWith('./'))
      .filter(([spec]) => !declared.has(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!))
      .map(([spec, files]) => `${spec} (${files.join(', ')})`);
    expect(undeclared).toEqual([]);
    expect(manifest.peerDependencies).toHaveProperty('graphql');
    expect(manifest.peerDependencies).toHaveProperty('graphql-ws');
    expect(declared.has('ws')).toBe(false);
  });

  it('relative imports end in .js, so the emitted declarations resolve for NodeNext consumers', () => {
    const wrong = [...importedSpecifiers().keys()].filter((spec) => spec.startsWith('./') && !spec.endsWith('.js'));
    expect(wrong).toEqual([]);
  });

  describe('without a WebSocket implementation', () => {
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
    afterEach(() => {
      if (saved) Object.defineProperty(globalThis, 'WebSocket', saved);
    });

    it('subscribe() says how to pass one (Node 20 has no global WebSocket)', () => {
      Object.defineProperty(globalThis, 'WebSocket', { value: undefined, configurable: true, writable: true });
      const client = createVaultgateClient({ url: 'http://127.0.0.1:9/graphql' });
      expect(() => client.subscribe(ViewerDocument)).toThrow(/webSocketImpl/);
    });
  });
});
