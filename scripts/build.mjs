// Builds the server and the CLI into dist/ (plain JavaScript that `node` runs: `npm start`, `npm run vaultgate`).
// Runs on `npm install` (postinstall, after the Prisma clients are generated) and by `npm run build`.
//
// One bundle per entry point rather than a file-by-file emit: Node resolves and compiles one file instead of
// hundreds of node_modules files, which is most of the start-up time. Packages that cannot be bundled stay
// external and load from node_modules: native addons, and Prisma's runtime (it imports its query-compiler
// wasm by path).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'src', 'main.ts'))) process.exit(0);

// `--if-stale` (prestart): rebuild only when a source file is newer than the bundle, so `npm start` after an
// edit runs the edit, and an unchanged checkout starts without building.
function newestSource() {
  let newest = 0;
  let seen = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (++seen > 20_000) return; // a bound, far above the tree's size
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of ['src', 'prisma']) if (existsSync(join(root, dir))) walk(join(root, dir));
  for (const file of ['package.json', 'scripts/build.mjs']) newest = Math.max(newest, statSync(join(root, file)).mtimeMs);
  return newest;
}
if (process.argv.includes('--if-stale')) {
  const bundles = ['main.js', 'cli.js'].map((f) => join(root, 'dist', f));
  if (bundles.every(existsSync) && Math.min(...bundles.map((f) => statSync(f).mtimeMs)) >= newestSource()) process.exit(0);
}

// esbuild comes with tsx (a dependency); a missing one is a broken install, said plainly.
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('vaultgate: esbuild is missing (npm install installs it); cannot build dist/');
  process.exit(1);
}

// @graphql-yoga/render-graphiql (GraphiQL's 9 MB page) and nodemailer: loaded on first use (import()) from
// node_modules rather than parsed at every start.
// ssh2 requires its optional native addons (cpu-features, its own crypto binding) inside try/catch at run time;
// bundled, esbuild would have to resolve them at build time, and they are absent when not compiled.
export const EXTERNAL = ['better-sqlite3', 'argon2', 'pg-native', '@prisma/client', '@prisma/client/*', '@graphql-yoga/render-graphiql', 'nodemailer', 'ssh2'];

// Built beside dist/ and then renamed into it file by file (each rename is atomic): a server or CLI starting from
// dist/ while a build runs (npm start's prestart, the tests' children) reads the old bundle or the new one, never
// a half-written or missing file.
const outdir = join(root, 'dist');
const staging = mkdtempSync(join(root, '.dist-build-'));
const started = performance.now();
try {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: 'src/main.ts', cli: 'src/cli.ts' },
    outdir: staging,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    external: EXTERNAL,
    // Bundled CommonJS packages call require() for Node's built-ins; an ES module has none of its own.
    banner: { js: "import { createRequire as __vaultgateRequire } from 'node:module'; const require = __vaultgateRequire(import.meta.url);" },
    // Less text for V8 to parse at every start; names are kept so stack traces in logs still read.
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
  });
  mkdirSync(outdir, { recursive: true });
  for (const file of readdirSync(staging)) renameSync(join(staging, file), join(outdir, file));
} finally {
  rmSync(staging, { recursive: true, force: true });
}
console.log(`vaultgate: built dist/ (server and CLI) in ${Math.round(performance.now() - started)} ms`);
