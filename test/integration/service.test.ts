import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, type TestDb } from '../support/harness.ts';
import { alive, descendants, startProcess, type Started } from '../support/process.ts';
import { PASSWORD } from '../support/fixtures.ts';

// `npm start` as an operator runs it: the built server under npm, stopped by a signal to either process.

let db: TestDb;
const MASTER_KEY = randomBytes(32).toString('base64');
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function npmStart(): Promise<Started & { url: string; port: number }> {
  const started = startProcess('npm', ['start'], {
    DATABASE_URL: db.url,
    HOST: '127.0.0.1',
    PORT: '0',
    VAULTGATE_MASTER_KEY: MASTER_KEY,
    SHUTDOWN_GRACE_MS: '30000',
    // Debug: "request started" entries show when the server holds a request.
    LOG_LEVEL: 'debug',
  });
  const listening = await started.waitForLog((e) => e.msg === 'vaultgate listening');
  const url = listening.url as string;
  return { ...started, url, port: Number(new URL(url).port) };
}

type Reply = { status: number; body: string };

/** A POST whose body is sent in two parts: the request is in flight on the server until finish() is called. */
function slowPost(url: string, body: string): { sent: Promise<void>; finish(): void; reply: Promise<Reply> } {
  let req!: ClientRequest;
  const half = Math.floor(body.length / 2);
  const reply = new Promise<Reply>((resolve, reject) => {
    req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res: IncomingMessage) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const sent = new Promise<void>((resolve) => req.write(body.slice(0, half), () => resolve()));
  return { sent, finish: () => req.end(body.slice(half)), reply };
}

async function gql(url: string, query: string, variables?: unknown, token?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: unknown[] };
}

/** A WebSocket past connection_init with one running subscription; resolves its close code when it closes. */
async function subscribed(url: string, token: string): Promise<{ closed: Promise<number> }> {
  const socket = new WebSocket(url.replace('http', 'ws'), 'graphql-transport-ws');
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { passwordAccessed { cursor } }' } }));
        resolve();
      }
    });
    socket.on('error', reject);
    void closed.then((code) => reject(new Error(`closed with ${code} before connection_ack`)));
  });
  return { closed };
}

const startedPosts = (server: Started) => server.logs.filter((e) => e.msg === 'request started' && e.method === 'POST').length;

const BOOTSTRAP = `mutation($input: BootstrapInput!) { bootstrap(input: $input) { __typename ... on BootstrapPayload { token } } }`;
const VIEWER = JSON.stringify({ query: '{ __typename }' });

describe('npm start', { timeout: 240_000 }, () => {
  let token: string;

  it('stops on SIGTERM to npm: in-flight requests are answered, WebSockets get 1001, exit 0, no process left', async () => {
    const server = await npmStart();
    const npmPid = server.child.pid!;
    const boot = await gql(server.url, BOOTSTRAP, { input: { email: 'ops@example.test', name: 'Ops', password: PASSWORD, organizationName: 'Ops' } });
    expect(boot.data?.bootstrap.__typename).toBe('BootstrapPayload');
    token = boot.data!.bootstrap.token;
    const tree = descendants(npmPid);
    expect(tree.length).toBeGreaterThan(0);

    const sockets = await Promise.all([subscribed(server.url, token), subscribed(server.url, token)]);
    // Ten requests whose bodies are half sent: each is running on the server when the signal arrives.
    const before = startedPosts(server);
    const inFlight = Array.from({ length: 10 }, () => slowPost(server.url, VIEWER));
    await Promise.all(inFlight.map((r) => r.sent));
    await server.waitForLog(() => startedPosts(server) >= before + 10);

    process.kill(npmPid, 'SIGTERM');
    await server.waitForLog((e) => e.msg === 'shutting down');
    // No new connections once shutting down…
    await expect(fetch(server.url.replace('/graphql', '/healthz'))).rejects.toThrow();
    // …while the requests already in flight complete normally.
    for (const r of inFlight) r.finish();
    const replies = await Promise.all(inFlight.map((r) => r.reply));
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body).data).toEqual({ __typename: 'Query' });
    }
    expect(await Promise.all(sockets.map((s) => s.closed))).toEqual([1001, 1001]);

    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.logs.some((e) => e.msg === 'vaultgate stopped')).toBe(true);
    expect(tree.filter(alive)).toEqual([]);
  });

  it('stops on SIGTERM to the node process too, and npm exits with it', async () => {
    const server = await npmStart();
    const [node] = descendants(server.child.pid!).filter((pid) => alive(pid));
    expect(node).toBeGreaterThan(0);
    const socket = await subscribed(server.url, token);
    const before = startedPosts(server);
    const inFlight = slowPost(server.url, VIEWER);
    await inFlight.sent;
    await server.waitForLog(() => startedPosts(server) >= before + 1);

    process.kill(node, 'SIGTERM');
    await server.waitForLog((e) => e.msg === 'shutting down');
    inFlight.finish();
    expect((await inFlight.reply).status).toBe(200);
    expect(await socket.closed).toBe(1001);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(alive(node)).toBe(false);
  });

  it('prints JSON start entries when not on a terminal, naming the first step', async () => {
    const fresh = await createTestDatabase();
    try {
      const started = startProcess('node', ['dist/main.js'], { DATABASE_URL: fresh.url, HOST: '127.0.0.1', PORT: '0', VAULTGATE_MASTER_KEY: MASTER_KEY });
      await started.waitForLog((e) => e.msg === 'vaultgate listening');
      const hint = await started.waitForLog((e) => typeof e.msg === 'string' && e.msg.startsWith('no administrator yet'));
      expect(hint.msg).toContain('admin create');
      started.child.kill('SIGINT');
      expect(await started.exited).toEqual({ code: 0, signal: null });
    } finally {
      await fresh.drop();
    }
  });
});
