import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A TCP port free on 127.0.0.1 right now, for a server that must know its own address before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

let built = false;
/**
 * The built entry point (`dist/main.js`, `dist/cli.js`: what `npm start` and `npm run vaultgate` run), rebuilt
 * first when a source is newer (`npm test` builds before vitest starts, so this is normally a no-op). Children
 * start from it instead of through tsx: the same code, what users run, and ~0.7 s less CPU per child.
 */
export function builtEntry(name: 'main' | 'cli'): string {
  if (!built) {
    execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    built = true;
  }
  return `${REPO_ROOT}dist/${name}.js`;
}

/** Pids of every descendant of `pid` (Linux /proc), found by walking parent links; bounded by the process table. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat, after the parenthesised command name (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && found.length < 1000) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parents) if (ppid === parent) (found.push(child), queue.push(child));
  }
  return found;
}

/** Whether a process exists and is not a zombie waiting to be reaped. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export type Started = {
  child: ChildProcess;
  /** Every JSON log line so far, parsed. */
  logs: Record<string, any>[];
  stdout(): string;
  /** Resolves with the first log entry the predicate accepts (now or later). */
  waitForLog(predicate: (entry: Record<string, any>) => boolean): Promise<Record<string, any>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/** `npm start` (or another command) in the repository, with JSON logs on stdout collected as they arrive. */
export function startProcess(command: string, args: string[], env: Record<string, string>): Started {
  const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, any>[] = [];
  let out = '';
  let buffered = '';
  const waiters: { predicate: (e: Record<string, any>) => boolean; resolve: (e: Record<string, any>) => void }[] = [];
  child.stdout!.on('data', (chunk) => {
    out += chunk;
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as Record<string, any>;
      logs.push(entry);
      for (const w of [...waiters]) if (w.predicate(entry)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(entry));
    }
  });
  child.stderr!.on('data', (chunk) => (out += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    logs,
    stdout: () => out,
    waitForLog: (predicate) => {
      const seen = logs.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ predicate, resolve });
        void exited.then(() => reject(new Error(`process exited before the expected log line; output:\n${out.slice(-4000)}`)));
      });
    },
    exited,
  };
}
