import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg, type OrgFixture } from '../support/fixtures.ts';

let server: TestServer;
let locked: TestServer;
let org: OrgFixture;
const TOKEN = 'metrics-scrape-token-0123456789';

beforeAll(async () => {
  server = await startTestServer();
  locked = await startTestServer({ env: { METRICS_TOKEN: TOKEN } });
  org = await createOrg(server, 'metrics');
});
afterAll(async () => {
  await server?.stop();
  await locked?.stop();
});

const base = (s: TestServer) => s.url.replace('/graphql', '');
const scrape = async (s: TestServer, init?: RequestInit) => {
  const res = await fetch(`${base(s)}/metrics`, init);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
};
/** The value of one series, or 0 when it does not exist yet. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').at(-1));
  }
  return 0;
}

describe('GET /metrics', () => {
  it('counts requests by operation name, errors by code, in the Prometheus text format', async () => {
    const before = (await scrape(server)).text;
    const named = await server.gql('query MetricsProbe { viewer { kind } }', {}, { token: org.admin.token });
    expect(named.status).toBe(200);
    const refused = await server.gql('query MetricsInvalid { noSuchField }');
    expect(refused.errors?.length).toBeGreaterThan(0);
    const code = String(refused.errors![0].extensions?.code);
    expect(code).toBe('GRAPHQL_VALIDATION_FAILED');

    const after = await scrape(server);
    expect(after.status).toBe(200);
    expect(after.type).toContain('text/plain');
    const reqs = (op: string, t: string) => value(t, 'vaultgate_http_requests_total', { operation: op, path: '/graphql', status: '200' });
    expect(reqs('MetricsProbe', after.text) - reqs('MetricsProbe', before)).toBe(1);
    expect(value(after.text, 'vaultgate_http_request_duration_seconds_count', { operation: 'MetricsProbe' })).toBeGreaterThanOrEqual(1);
    const errs = (t: string) => value(t, 'vaultgate_graphql_errors_total', { code, transport: 'http' });
    expect(errs(after.text) - errs(before)).toBeGreaterThanOrEqual(1);
    expect(after.text).toContain('vaultgate_process_cpu_user_seconds_total');
  });

  it('keeps client-chosen label values bounded: a name that is not a GraphQL name is "other"', async () => {
    const weird = 'x'.repeat(300);
    await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }', operationName: weird }),
    });
    const { text } = await scrape(server);
    expect(text).not.toContain(weird.slice(0, 100));
  });

  it('shows running WebSocket subscriptions and connections', async () => {
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${org.admin.token}` }, retryAttempts: 0 });
    const gauge = (t: string) => value(t, 'vaultgate_active_subscriptions', { transport: 'ws' });
    const before = gauge((await scrape(server)).text);
    const sub = client.iterate({ query: 'subscription { passwordAccessed { cursor } }' });
    const next = sub.next();
    // Subscribed once the server counts it (the first event never comes: nothing is revealed here).
    let during = before;
    for (let i = 0; i < 100 && during === before; i++) {
      during = gauge((await scrape(server)).text);
      if (during === before) await new Promise((r) => setTimeout(r, 50));
    }
    expect(during).toBe(before + 1);
    expect(value((await scrape(server)).text, 'vaultgate_open_connections', { kind: 'websocket' })).toBeGreaterThanOrEqual(1);
    await sub.return?.();
    void next.catch(() => {});
    await client.dispose();
  });

  it('requires the bearer token when METRICS_TOKEN is set', async () => {
    expect((await scrape(locked)).status).toBe(401);
    expect((await scrape(locked, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    const ok = await scrape(locked, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('vaultgate_http_requests_total');
  });
});

describe('x-request-id', () => {
  it('is echoed (a given plain id is kept, otherwise one is made) and logged with the operation and client address', async () => {
    const given = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-abc.123' },
      body: JSON.stringify({ query: 'query RequestIdProbe { __typename }' }),
    });
    expect(given.headers.get('x-request-id')).toBe('trace-abc.123');
    const made = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'bad id with spaces' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const line = server.logs.map((l) => JSON.parse(l)).find((e) => e.msg === 'request' && e.requestId === 'trace-abc.123');
    expect(line).toMatchObject({ operation: 'RequestIdProbe', status: 200, clientAddress: '127.0.0.1', path: '/graphql' });
  });
});
