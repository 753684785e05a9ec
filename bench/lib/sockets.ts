// What the WebSocket benchmarks (P4, P5, P7) share: many graphql-ws subscribers held open by one process with
// a client light enough not to be the bottleneck, file-descriptor headroom, and a server process's memory.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { gql } from './harness.ts';

/**
 * One subscription over the graphql-ws protocol, spoken directly on a `ws` socket: the graphql-ws client
 * library keeps retry and lazy-connection state per client, which at 10 000 clients would load the
 * generator's core more than the raw-`ws` baseline's clients and skew the comparison. Both sides use this.
 */
export type Subscriber = {
  /** `next` payloads received so far. */
  received: number;
  /** The last frame as text (P4 replays its size to the baseline). */
  last: string | null;
  /** Error frames (`error`, or `next` with errors) received after the subscription was sent. */
  errors: string[];
  /** How the server closed the socket, if it did. */
  closed: { code: number; reason: string } | null;
  close(): Promise<void>;
};

export type SubscribeOptions = {
  url: string;
  /** connection_init payload, e.g. `{ token }`. */
  init?: Record<string, unknown>;
  query?: string;
  variables?: Record<string, unknown>;
  /** Called on every `next`, after `received` was incremented. */
  onNext?: (s: Subscriber) => void;
};

export function subscribe(options: SubscribeOptions): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(options.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const sub: Subscriber = {
      received: 0,
      last: null,
      errors: [],
      closed: null,
      close: () =>
        new Promise<void>((done) => {
          if (socket.readyState === WebSocket.CLOSED) return done();
          socket.once('close', () => done());
          socket.close(1000);
        }),
    };
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: options.init ?? {} })));
    socket.on('message', (data) => {
      const text = String(data);
      const message = JSON.parse(text) as { type: string; payload?: { errors?: unknown[] } };
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: options.query ?? '', variables: options.variables ?? {} } }));
        resolve(sub);
      } else if (message.type === 'next') {
        if (message.payload?.errors) return void sub.errors.push(text);
        sub.received++;
        sub.last = text;
        options.onNext?.(sub);
      } else if (message.type === 'ping') {
        socket.send('{"type":"pong"}');
      } else if (message.type === 'error') {
        sub.errors.push(text);
      }
    });
    socket.on('error', reject);
    socket.on('close', (code, reason) => {
      sub.closed = { code, reason: String(reason) };
      reject(new Error(`socket closed before the subscription started: ${code} ${reason}`));
    });
  });
}

/** Opens `n` subscribers, `parallel` handshakes at a time (an unbounded burst only measures the accept queue). */
export async function subscribeMany(n: number, make: (i: number) => SubscribeOptions, parallel = 100): Promise<Subscriber[]> {
  const out: Subscriber[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await subscribe(make(i));
      }
    }),
  );
  return out;
}

export async function closeAll(subs: Subscriber[]): Promise<void> {
  await Promise.all(subs.map((s) => s.close()));
}

/**
 * Resolves once every subscriber has received `count` events; rejects after `timeoutMs` saying how many had,
 * and how the stragglers' sockets closed (a 4008 there means the server dropped them as slow consumers).
 */
export function allReceived(subs: Subscriber[], count: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      for (const s of subs) if (s.received < count) return false;
      return true;
    };
    if (check()) return resolve();
    const started = Date.now();
    // Polling (1 ms) instead of a callback per message keeps the per-message client work identical for both
    // sides; the timer's granularity is far below what is being measured (tens to thousands of ms).
    const timer = setInterval(() => {
      if (check()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        const behind = subs.filter((s) => s.received < count);
        const closes = [...new Set(behind.map((s) => (s.closed ? `${s.closed.code} ${s.closed.reason}` : 'open')))].join('; ');
        const error = behind.find((s) => s.errors.length)?.errors[0] ?? '';
        reject(new Error(`${behind.length} of ${subs.length} subscribers had not received event ${count} after ${timeoutMs} ms (${closes}) ${error.slice(0, 300)}`));
      }
    }, 1);
  });
}

/** The soft limit on open files of this process (Linux), or null when it cannot be read. */
export function openFilesLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? null : Number(soft);
  } catch {
    return null;
  }
}

/** Says what to do and returns false when this process cannot hold `sockets` open at once. */
export function enoughFiles(sockets: number, label: string): boolean {
  const limit = openFilesLimit();
  const need = sockets + 256; // the sockets, plus the process's own files, the HTTP agent and the children's pipes
  if (limit === null || limit >= need) return true;
  console.log(
    `${label}: skipped — ${sockets} sockets need an open-files limit of at least ${need}, this shell has ${limit}. ` +
      `Raise it (\`ulimit -n ${need}\`, or the hard limit in /etc/security/limits.conf or the container's nofile) and rerun.`,
  );
  return false;
}

/** Resident memory of a process in bytes (VmRSS, Linux). */
export function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** What a dashboard of accesses would ask for: the record, the credential and who — every resolver of the event. */
export const ACCESSED = `subscription($filter: PasswordAccessFilter) { passwordAccessed(filter: $filter) { cursor accessRecord { surface field credentialName at } credential { id name } actor { email } } }`;

/** The seeded administrator's credentials (bench/lib/common.ts `seed` bootstraps with these). */
const ADMIN = { email: 'bench@example.test', password: 'bench password 0123456789' };

/**
 * `n` sessions of the seeded administrator (sign-ins through the API). Subscribers spread over several sessions,
 * as dashboards of a team would, rather than all sharing one.
 */
export async function sessions(url: string, n: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await gql(url, `mutation($input: SignInInput!) { signIn(input: $input) { ... on SignInPayload { token } } }`, { input: ADMIN });
    tokens.push(r.signIn.token);
  }
  return tokens;
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
