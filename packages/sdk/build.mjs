// Compiles src/sdk (in the server repository) into dist/: ESM JavaScript + declarations. Runs on `npm install`
// (the workspace's prepare), `npm pack` and `npm run build:sdk`. An install without devDependencies (a production
// server image) has no TypeScript and needs no SDK build: it is skipped there, with a note, instead of failing.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  console.warn('@vaultgate/sdk: TypeScript is not installed (production install?); dist/ not built.');
  process.exit(0);
}
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: import.meta.dirname, stdio: 'inherit' });
