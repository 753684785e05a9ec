// P5: memory per idle graphql-ws connection holding one `passwordAccessed` subscription — the server's RSS
// with N such connections minus its RSS with none, over N — beside a raw `ws` server holding N idle sockets.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createBenchDb, fmt, median, startServer, type Server } from './lib/harness.ts';
import { seed, serverEnv, smoke, type DbKind } from './lib/common.ts';
import { ACCESSED, closeAll, enoughFiles, pause, rssOf, sessions, subscribeMany, type SubscribeOptions } from './lib/sockets.ts';

const SIZE = smoke ? { connections: 200, sessions: 4, rounds: 1 } : { connections: 5000, sessions: 50, rounds: 3 };
const WARM_UP = 20;

/** Both servers get a SIGUSR2 → full collection hook (bench/lib/gc-signal.mjs), so RSS is read on a settled heap. */
const gcEnv = { NODE_OPTIONS: `--import=${pathToFileURL(resolve('bench/lib/gc-signal.mjs')).href}` };

/**
 * RSS once it stops moving: collect, wait, sample, until four samples in a row are within 512 KB (a server
 * still finishes start-up work — scheduler, first queries — for a few seconds after it answers /healthz).
 */
async function settledRss(server: Server): Promise<number> {
  let previous = -Infinity;
  let steady = 0;
  for (let i = 0; i < 40; i++) {
    server.proc.kill('SIGUSR2');
    await pause(500);
    const rss = rssOf(server.proc.pid!);
    steady = Math.abs(rss - previous) < 512 * 1024 ? steady + 1 : 0;
    if (steady >= 3) return rss;
    previous = rss;
  }
  return previous;
}

/**
 * One measurement on a fresh server process: a few connections opened and closed first, so code compiled and
 * caches filled on first use are in the "0 connections" figure, then RSS at 0, then at `n` idle connections.
 */
async function perConnection(start: () => Promise<Server>, make: (server: Server, i: number) => SubscribeOptions, n: number) {
  const started = Date.now();
  const server = await start();
  try {
    await closeAll(await subscribeMany(WARM_UP, (i) => make(server, i)));
    // V8's memory reducer shrinks every isolate of the process some 8 s after start — tsx's module-hooks worker
    // too, which the forced collection does not reach — releasing megabytes (tens, for vaultgate): wait it out,
    // or it lands between the two samples and reads as negative memory per connection.
    await pause(Math.max(0, started + 10_000 - Date.now()));
    const empty = await settledRss(server);
    const subs = await subscribeMany(n, (i) => make(server, i));
    // Lets the server finish each subscription's first read (the audit heads) before memory is read.
    await pause(1000);
    const full = await settledRss(server);
    const failed = subs.filter((s) => s.errors.length || s.closed);
    if (failed.length) throw new Error(`P5: ${failed.length} subscriptions failed: ${failed[0].errors[0] ?? JSON.stringify(failed[0].closed)}`);
    await closeAll(subs);
    return { empty, full, perConnection: (full - empty) / n };
  } finally {
    await server.stop();
  }
}

export async function p5(kind: DbKind) {
  const n = SIZE.connections;
  console.log(`\nP5 memory per idle graphql-ws connection holding one subscription (${n} connections) — ${kind}`);
  if (!enoughFiles(n, 'P5')) return null;
  const db = await createBenchDb(kind);
  const env = serverEnv(db, randomBytes(32).toString('base64'));
  try {
    // The database is seeded once; each measurement then starts a fresh server on it.
    const first = await startServer('src/main.ts', env);
    const seeded = await seed(first.url, 1);
    const tokens = [seeded.token, ...(await sessions(first.url, SIZE.sessions - 1))];
    await first.stop();

    const kb = (bytes: number) => `${fmt(bytes / 1024, 1)} KB`;
    const mb = (bytes: number) => `${fmt(bytes / 1048576, 1)} MB`;
    const vg: number[] = [];
    const base: number[] = [];
    for (let r = 0; r < SIZE.rounds; r++) {
      const a = await perConnection(
        () => startServer('src/main.ts', { ...env, ...gcEnv }),
        (s, i) => ({ url: s.url, init: { token: tokens[i % tokens.length] }, query: ACCESSED }),
        n,
      );
      const b = await perConnection(() => startServer('bench/baseline/ws.ts', gcEnv), (s) => ({ url: s.url }), n);
      console.log(`  round ${r + 1}: vaultgate RSS ${mb(a.empty)} → ${mb(a.full)}: ${kb(a.perConnection)} each; baseline ${mb(b.empty)} → ${mb(b.full)}: ${kb(b.perConnection)} each`);
      vg.push(a.perConnection);
      base.push(b.perConnection);
    }
    const a = median(vg);
    const b = median(base);
    console.log(`P5 vaultgate  ${kb(a).padStart(9)} per idle connection with one subscription (target ≤ 20 KB)`);
    console.log(`P5 baseline   ${kb(b).padStart(9)} per idle connection`);
    console.log(`P5 ratio ${fmt(a / b, 2)}× baseline`);
    return { vaultgate: a, baseline: b, ratio: a / b };
  } finally {
    await db.drop();
  }
}
