// P9: cold start. Time from spawning the built server (`node dist/main.js`, what `npm start` runs) to its first
// 200 on /readyz, on an already migrated database; against a baseline of `node -e` with a bare HTTP server
// started the same way. Reported: median of each and the ratio (target: vaultgate ≤ 2 s on an idle machine).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createBenchDb, fmt, freePort, median } from './lib/harness.ts';
import { serverEnv, smoke, type DbKind } from './lib/common.ts';

const ROUNDS = smoke ? 1 : 7;
const HELLO = "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')";

/** Milliseconds from spawn to the first 200 on `path`; the process is stopped afterwards. */
async function coldStart(args: string[], env: Record<string, string>, path: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: 'ignore' });
  try {
    for (let i = 0; i < 6000; i++) {
      if (proc.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${proc.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.ok, () => false);
      if (ok) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`${args.join(' ')} did not answer ${path}`);
  } finally {
    await new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }
}

export async function p9(kind: DbKind) {
  console.log(`\nP9 cold start to /readyz, migrated database, ${ROUNDS} rounds — ${kind}`);
  if (!existsSync('dist/main.js')) {
    console.log('P9: skipped — dist/main.js is missing (npm run build)');
    return null;
  }
  const db = await createBenchDb(kind);
  const env = { ...serverEnv(db, randomBytes(32).toString('base64')), LOG_FORMAT: 'json' };
  try {
    await coldStart(['dist/main.js'], env, '/readyz'); // migrates the fresh database (not measured)
    const vg: number[] = [];
    const hello: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      hello.push(await coldStart(['-e', HELLO], {}, '/'));
      vg.push(await coldStart(['dist/main.js'], env, '/readyz'));
    }
    const result = { vaultgateMs: median(vg), helloMs: median(hello), ratio: median(vg) / median(hello) };
    console.log(`node -e hello     ${fmt(result.helloMs, 0).padStart(6)} ms (median)`);
    console.log(`vaultgate         ${fmt(result.vaultgateMs, 0).padStart(6)} ms (median)   ratio ${fmt(result.ratio, 1)}×`);
    return result;
  } finally {
    await db.drop();
  }
}
