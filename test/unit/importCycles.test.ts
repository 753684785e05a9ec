import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph } from '../support/importGraph.ts';

const src = fileURLToPath(new URL('../../src', import.meta.url));

describe('import cycles in src/', () => {
  const graph = importGraph(src);

  it('the walker sees the real graph (value imports, side-effect imports and re-exports; not type-only ones)', () => {
    expect(graph.size).toBeGreaterThan(80);
    expect(graph.get('context.ts')).toContain('modules/auth/auth.service.ts');
    expect(graph.get('modules/accessRequest/accessRequest.schema.ts')).toContain('modules/accessRequest/accessRequest.mutations.ts');
    // `import type { Context }` only: erased by the compiler, no edge.
    expect(graph.get('modules/organization/organization.provision.ts')).not.toContain('context.ts');
  });

  it('finds a cycle when there is one', () => {
    const g = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']], ['e.ts', ['e.ts']]]);
    expect(importCycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['e.ts']]);
  });

  it('has none: a module that needs one of its importers gets a half-initialised module at load time', () => {
    expect(importCycles(graph)).toEqual([]);
  });
});
