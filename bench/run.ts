// vaultgate benchmarks: figures and ratios against a baseline run beside them, never assertions.
//   npm run bench -- p1|p2|…|p11|all [--db sqlite|postgres|both] [--smoke]   (p11 also takes --rows=<n>)
// Each benchmark lives in bench/pN.ts; see bench/README.md for what each measures and the latest figures.
import { parseArgs } from 'node:util';
import { pinSelf } from './lib/harness.ts';
import type { DbKind } from './lib/common.ts';
import { p1 } from './p1.ts';
import { p2 } from './p2.ts';
import { p3 } from './p3.ts';
import { p4 } from './p4.ts';
import { p5 } from './p5.ts';
import { p7 } from './p7.ts';
import { p6 } from './p6.ts';
import { p8 } from './p8.ts';
import { p9 } from './p9.ts';
import { p10 } from './p10.ts';
import { p11 } from './p11.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { db: { type: 'string', default: 'sqlite' }, smoke: { type: 'boolean', default: false }, rows: { type: 'string' } },
});
const which = positionals[0] ?? 'all';
const dbs = (values.db === 'both' ? ['sqlite', 'postgres'] : [values.db!]) as DbKind[];

/** Benchmarks that run once per database kind. */
const perDb: Record<string, (kind: DbKind) => Promise<unknown>> = { p1, p2, p3, p6, p8, p9, p10, p11 };
/** Benchmarks whose measure does not depend on the database (run once, on the first kind given). */
const once: Record<string, (kind: DbKind) => Promise<unknown>> = { p4, p5, p7 };

if (which !== 'all' && !perDb[which] && !once[which]) {
  console.error(`unknown benchmark ${which}; one of ${[...Object.keys(perDb), ...Object.keys(once), 'all'].join(', ')}`);
  process.exit(2);
}
await pinSelf();
console.log(`vaultgate benchmarks (${values.smoke ? 'smoke' : 'full'}): node ${process.version}, ${dbs.join(' + ')}`);
for (const [name, fn] of Object.entries(perDb)) {
  if (which === name || which === 'all') for (const kind of dbs) await fn(kind);
}
for (const [name, fn] of Object.entries(once)) {
  if (which === name || which === 'all') await fn(dbs[0]);
}
process.exit(0);
