import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg, type OrgFixture } from '../support/fixtures.ts';

/** Issue 12: bounded work per request — list arguments, page sizes from variables, operations and sockets on WebSocket. */
let server: TestServer;
let ws: TestServer;
let org: OrgFixture;
beforeAll(async () => {
  server = await startTestServer();
  ws = await startTestServer({ shareWith: server, env: { WS_MAX_OPERATIONS_PER_SOCKET: '3', WS_MAX_SOCKETS_PER_PRINCIPAL: '2' } });
  org = await createOrg(server, 'work');
});
afterAll(async () => {
  await ws?.stop();
  await server?.stop();
});

const codes = (res: { errors?: { extensions?: Record<string, unknown> }[] }) => res.errors?.map((e) => e.extensions?.code);

describe('list arguments and page sizes', () => {
  it('nodes(ids:) takes at most 100 ids, and a list over QUERY_MAX_LIST_ITEMS is refused before anything runs', async () => {
    const ids = (n: number) => Array.from({ length: n }, () => org.orgId);
    const NODES = 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }';
    const ok = await server.gql(NODES, { ids: ids(100) }, org.admin);
    expect(ok.errors).toBeUndefined();
    expect(ok.data.nodes).toHaveLength(100);
    const over = await server.gql(NODES, { ids: ids(101) }, org.admin);
    expect(codes(over)).toEqual(['BAD_USER_INPUT']);
    expect(over.errors![0].message).toBe('nodes takes at most 100 ids.');
    const huge = await server.gql(NODES, { ids: ids(1000) }, org.admin);
    expect(codes(huge)).toEqual(['QUERY_TOO_COMPLEX']);
    // The same as a literal list.
    const literal = await server.gql(`{ nodes(ids: [${ids(501).map((i) => JSON.stringify(i)).join(',')}]) { id } }`, {}, org.admin);
    expect(codes(literal)).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('a page size passed as a variable is costed like a literal one', async () => {
    const NESTED = 'query($n: Int, $m: Int) { organizations(first: $n) { edges { node { members(first: $m) { edges { node { id } } } } } } }';
    const small = await server.gql(NESTED, { n: 2, m: 2 }, org.admin);
    expect(small.errors).toBeUndefined();
    // Was costed as 1 × 1 and ran; as literals it is refused.
    const big = await server.gql(NESTED, { n: 100, m: 100 }, org.admin);
    expect(codes(big)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(big.data).toBeUndefined();
    const asLiterals = await server.gql('{ organizations(first: 100) { edges { node { members(first: 100) { edges { node { id } } } } } } }', {}, org.admin);
    expect(codes(asLiterals)).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('the length of a list multiplies the cost of what is selected for it', async () => {
    const PER_NODE = 'query($ids: [ID!]!) { nodes(ids: $ids) { ... on Organization { members(first: 100) { edges { node { id role createdAt } } } } } }';
    expect((await server.gql(PER_NODE, { ids: [org.orgId] }, org.admin)).errors).toBeUndefined();
    expect(codes(await server.gql(PER_NODE, { ids: Array(50).fill(org.orgId) }, org.admin))).toEqual(['QUERY_TOO_COMPLEX']);
  });
});

/** A raw graphql-transport-ws client: every message it received, and how it closed. */
async function connect(target: TestServer, token: string) {
  const socket = new WebSocket(target.wsUrl, 'graphql-transport-ws');
  const messages: any[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { token } }));
  const acked = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = setInterval(() => {
        if (messages.some((m) => m.type === 'connection_ack')) {
          clearInterval(check);
          resolve(true);
        }
      }, 10);
      socket.once('close', () => {
        clearInterval(check);
        resolve(false);
      });
    }),
  ]);
  return { socket, messages, closed, acked };
}
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  return cond();
};

describe('WebSocket limits', () => {
  it('refuses an operation over WS_MAX_OPERATIONS_PER_SOCKET with TOO_MANY_OPERATIONS, keeping the socket and the others', async () => {
    const c = await connect(ws, org.admin.token);
    expect(c.acked).toBe(true);
    for (let i = 1; i <= 4; i++) {
      c.socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: `subscription { approvalPending(organizationId: ${JSON.stringify(org.orgId)}) { cursor } }` } }));
    }
    expect(await until(() => c.messages.some((m) => m.id === '4'))).toBe(true);
    const refused = c.messages.find((m) => m.id === '4');
    expect(refused.type).toBe('error');
    expect(refused.payload.map((e: any) => e.extensions?.code)).toEqual(['TOO_MANY_OPERATIONS']);
    expect(c.messages.filter((m) => ['1', '2', '3'].includes(m.id) && m.type === 'error')).toEqual([]);
    // Completing one makes room for another.
    c.socket.send(JSON.stringify({ id: '1', type: 'complete' }));
    await new Promise((r) => setTimeout(r, 100));
    c.socket.send(JSON.stringify({ id: '5', type: 'subscribe', payload: { query: `subscription { approvalPending(organizationId: ${JSON.stringify(org.orgId)}) { cursor } }` } }));
    await new Promise((r) => setTimeout(r, 300));
    expect(c.messages.filter((m) => m.id === '5' && m.type === 'error')).toEqual([]);
    expect(c.socket.readyState).toBe(WebSocket.OPEN);
    c.socket.close();
    await c.closed;
  });

  it('closes a socket over WS_MAX_SOCKETS_PER_PRINCIPAL with 4429; a closed one frees its place', async () => {
    const a = await connect(ws, org.admin.token);
    const b = await connect(ws, org.admin.token);
    expect([a.acked, b.acked]).toEqual([true, true]);
    const c = await connect(ws, org.admin.token);
    expect(c.acked).toBe(false);
    expect(await c.closed).toEqual({ code: 4429, reason: 'Too many connections for this user or API key' });
    a.socket.close();
    await a.closed;
    await new Promise((r) => setTimeout(r, 50));
    const d = await connect(ws, org.admin.token);
    expect(d.acked).toBe(true);
    b.socket.close();
    d.socket.close();
    await Promise.all([b.closed, d.closed]);
  });
});
