import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO_ROOT = join(import.meta.dirname, '../..');

/** The environment for child npm/node processes: none of the npm settings of a surrounding `npm test`. */
export const childEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));

/** Runs a command without blocking the event loop (the test server answers in this same process meanwhile). */
export async function exec(file: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd, env: childEnv(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/**
 * `npm pack` builds packages/sdk/dist in place (its `prepare`); test files running at once (the SQLite and
 * PostgreSQL projects, the browser test) take turns, so no pack reads a half-written build.
 */
async function packExclusively<T>(fn: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), `vaultgate-sdk-pack-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12)}.lock`);
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed run is stale after 5 minutes (a pack takes well under one).
      const age = (() => {
        try {
          return Date.now() - statSync(lock).mtimeMs;
        } catch {
          return 0;
        }
      })();
      if (age > 5 * 60_000) rmSync(lock, { recursive: true, force: true });
      if (attempt > 1200) throw new Error(`could not take ${lock}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export type InstalledSdk = { dir: string; tarball: string; remove(): void };

/**
 * `npm pack -w @vaultgate/sdk` (which builds it), then a fresh project in the system's temp folder, outside the
 * repository, installing that tarball and its peers from the registry (the local npm cache first), as a user
 * would. Nothing of the repository's node_modules is reachable from there.
 */
export async function installPackedSdk(extraPackages: string[] = []): Promise<InstalledSdk> {
  const dir = mkdtempSync(join(tmpdir(), 'vaultgate-sdk-consumer-'));
  const packed = await packExclusively(
    async () => JSON.parse(await exec('npm', ['pack', '-w', '@vaultgate/sdk', '--pack-destination', dir, '--json'], REPO_ROOT)) as { filename: string }[],
  );
  const tarball = join(dir, packed[0]!.filename.replace(/^@vaultgate\//, 'vaultgate-'));
  if (!readdirSync(dir).includes(tarball.slice(dir.length + 1))) throw new Error(`npm pack wrote no ${tarball}: ${readdirSync(dir).join(', ')}`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'sdk-consumer', private: true, type: 'module' }));
  await exec(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, 'graphql@^16', 'graphql-ws@^6', ...extraPackages],
    dir,
  );
  return { dir, tarball, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const copyInto = (dir: string, from: string, names: string[]) => {
  for (const name of names) copyFileSync(join(from, name), join(dir, name));
};
