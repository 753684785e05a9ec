// Shared pieces of the benchmarks: databases, processes pinned to cores, a keep-alive HTTP load generator,
// and seeding through the real API. Nothing here asserts a time: benchmarks report figures and ratios.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import pg from 'pg';

export type BenchDb = { kind: 'sqlite' | 'postgres'; url: string; drop(): Promise<void> };

export async function createBenchDb(kind: 'sqlite' | 'postgres'): Promise<BenchDb> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'vaultgate-bench-'));
    return { kind, url: `file:${join(dir, 'bench.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  const name = `vaultgate_bench_${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Which core the servers run on and which the load generator uses (taskset, when the box has two or more). */
export const cores = (() => {
  let n = 1;
  try {
    n = Number((globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1);
  } catch {
    n = 1;
  }
  return { server: n >= 2 ? '0' : null, load: n >= 2 ? '1' : null };
})();

/** Pins this process (the load generator) to its core, when possible. */
export async function pinSelf(): Promise<void> {
  if (!cores.load) return;
  await new Promise<void>((resolve) => {
    const p = spawn('taskset', ['-pc', cores.load!, String(process.pid)], { stdio: 'ignore' });
    p.on('exit', () => resolve());
    p.on('error', () => resolve());
  });
}

export type Server = { url: string; proc: ChildProcess; stop(): Promise<void> };

/** Starts a TypeScript entry point (through tsx) as a child process on the server core and waits for /healthz. */
export async function startServer(entry: string, env: Record<string, string>, args: string[] = []): Promise<Server> {
  const port = await freePort();
  // BENCH_PROFILE=<dir> writes a CPU profile of each server process there (open it in Chrome DevTools).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const cmd = ['node', ...profile, '--import', 'tsx', entry, ...args];
  const [file, ...rest] = cores.server ? ['taskset', '-c', cores.server, ...cmd] : cmd;
  const proc = spawn(file, rest, { env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`${entry} exited: ${stderr}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `${base}/graphql`,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export type Reply = { status: number; body: string };

export function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function gql<T = any>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const res = await post(url, JSON.stringify({ query, variables }), token ? { authorization: `Bearer ${token}` } : {});
  const parsed = JSON.parse(res.body) as { data?: T; errors?: { message: string }[] };
  if (parsed.errors?.length || !parsed.data) throw new Error(`GraphQL error: ${res.body.slice(0, 500)}`);
  return parsed.data;
}

export type LoadResult = { requests: number; errors: number; seconds: number; rps: number; p50: number; p99: number };

/**
 * Closed-loop load: `concurrency` workers each send the next request when the previous one answered, for
 * `seconds`. `rate` (requests/s, optional) spaces the starts instead (open loop, for latency at a set load).
 */
export async function load(
  make: () => { url: string; body: string; headers?: Record<string, string> },
  options: { concurrency: number; seconds: number; rate?: number; ok?: (r: Reply) => boolean },
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const ok = options.ok ?? ((r: Reply) => r.status === 200 && !r.body.includes('"errors"'));
  const one = async () => {
    const { url, body, headers } = make();
    const t0 = performance.now();
    try {
      const r = await post(url, body, headers);
      if (!ok(r)) errors++;
    } catch {
      errors++;
    }
    latencies.push(performance.now() - t0);
  };
  if (options.rate) {
    const interval = 1000 / options.rate;
    const inflight = new Set<Promise<void>>();
    for (let next = started; next < deadline; next += interval) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const p = one().finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.all(inflight);
  } else {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (performance.now() < deadline) await one();
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? 0;
  return { requests: latencies.length, errors, seconds, rps: latencies.length / seconds, p50: pct(50), p99: pct(99) };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const fmt = (n: number, digits = 1) => n.toFixed(digits);
