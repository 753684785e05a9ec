import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The load-time import graph of src/: one edge per static `import … from './…'`, `import './…'` or
 * `export … from './…'` between our own files. Type-only imports (`import type`, or every specifier marked
 * `type`) are erased by the compiler and make no edge; dynamic `import()` is lazy and makes none either.
 */
export function importGraph(root: string): Map<string, string[]> {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'generated' && name !== 'node_modules') walk(path);
      } else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(path);
    }
  };
  walk(root);
  const graph = new Map<string, string[]>();
  const statement = /^\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s*['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]/gm;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const edges = new Set<string>();
    for (const m of text.matchAll(statement)) {
      const [, , typeOnly, clause, from, sideEffect] = m;
      const spec = from ?? sideEffect;
      if (!spec || typeOnly) continue;
      if (clause) {
        const braces = /^\{([\s\S]*)\}$/.exec(clause.trim());
        if (braces) {
          const names = braces[1]!.split(',').map((s) => s.trim()).filter(Boolean);
          if (names.length > 0 && names.every((n) => n.startsWith('type '))) continue;
        }
      }
      const target = resolve(dirname(file), spec);
      edges.add(relative(root, target));
    }
    graph.set(relative(root, file), [...edges].filter((e) => e.endsWith('.ts')));
  }
  return graph;
}

/** Every cycle, as the strongly connected components with more than one file (or a file importing itself). */
export function importCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) visit(v);
  return out;
}
