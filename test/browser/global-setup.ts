import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** Newest modification time among the dashboard's sources (web/ without its outputs) and schema.graphql. */
function newestSource(): number {
  let newest = statSync(join(root, 'schema.graphql')).mtimeMs;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'dist' || entry.name === 'gql' || entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(root, 'web'));
  return newest;
}

/**
 * The browser tests run against the built dashboard (npm install builds it). Build it when it is missing or
 * older than its sources, so a test never runs against a stale bundle.
 */
export default function setup() {
  const index = join(root, 'web', 'dist', 'index.html');
  const generated = join(root, 'web', 'src', 'gql', 'graphql.ts');
  if (existsSync(index) && existsSync(generated) && statSync(index).mtimeMs >= newestSource()) return;
  execFileSync('node', [join(root, 'scripts', 'build-web.mjs')], { cwd: root, stdio: 'inherit', env: { ...process.env, VAULTGATE_SKIP_WEB_BUILD: '' } });
}
