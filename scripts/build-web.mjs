// Builds the dashboard (web/ → web/dist, served at /) on `npm install`, right after scripts/generate.mjs.
// The build tools are dev dependencies: an install without them (npm ci --omit=dev) skips the build with a
// notice instead of failing, and the server then answers / with how to build it. VAULTGATE_SKIP_WEB_BUILD=1
// skips it on purpose.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
if (process.env.VAULTGATE_SKIP_WEB_BUILD === '1') process.exit(0);
try {
  require.resolve('vite');
  require.resolve('@graphql-codegen/cli');
} catch {
  console.warn('vaultgate: dashboard not built (its build tools, the dev dependencies, are not installed); run `npm run build:web` after installing them');
  process.exit(0);
}
// NODE_ENV=test or development would make Vite bundle React's development build.
execFileSync('npm', ['run', 'build:web'], { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
