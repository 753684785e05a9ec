import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg, type OrgFixture } from '../support/fixtures.ts';

/** Issue 12: CORS denies foreign origins; malformed requests answer 400 quietly; errors never echo input values. */
let server: TestServer;
let allowing: TestServer;
let org: OrgFixture;
const APP = 'https://app.example.test';
beforeAll(async () => {
  server = await startTestServer();
  allowing = await startTestServer({ shareWith: server, env: { CORS_ORIGINS: `${APP}, https://other.example.test` } });
  org = await createOrg(server, 'surface');
});
afterAll(async () => {
  await allowing?.stop();
  await server?.stop();
});

const preflight = (target: TestServer, origin: string) =>
  fetch(target.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
const corsHeaders = (res: Response) => Object.fromEntries([...res.headers].filter(([k]) => k.startsWith('access-control-')));

describe('CORS', () => {
  it('by default approves no foreign origin, and never allows credentials', async () => {
    const res = await preflight(server, 'https://evil.example');
    expect(corsHeaders(res)).toEqual({});
    const post = await fetch(server.url, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(corsHeaders(post)).toEqual({});
  });

  it('approves the origins of CORS_ORIGINS only, without Access-Control-Allow-Credentials', async () => {
    const ok = await preflight(allowing, APP);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    const post = await fetch(allowing.url, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(post.headers.get('access-control-allow-origin')).toBe(APP);
    expect(post.headers.get('access-control-allow-credentials')).toBeNull();
    for (const foreign of ['https://evil.example', 'https://app.example.test.evil.example', 'http://app.example.test', 'null']) {
      expect(corsHeaders(await preflight(allowing, foreign)), foreign).toEqual({});
    }
  });
});

describe('malformed requests', () => {
  const errorLogs = (from: number) => server.logs.slice(from).filter((l) => /"level":(50|60)/.test(l) || l.includes('"stack"'));

  it('a GET with variables or extensions that are not JSON answers 400, logging no error', async () => {
    for (const param of ['variables', 'extensions']) {
      const from = server.logs.length;
      const res = await fetch(`${server.url}?query=${encodeURIComponent('{ __typename }')}&${param}=%7Bnot-json`, { headers: { 'x-graphql-yoga-csrf': '1' } });
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.errors.map((e: any) => e.extensions?.code)).toEqual(['BAD_REQUEST']);
      expect(errorLogs(from)).toEqual([]);
    }
  });

  it('a body that is not JSON, or variables that are not an object, answer 400 without quoting the body', async () => {
    const from = server.logs.length;
    const cases: [string, string][] = [
      ['{"query": "{ __typename }", "password": "hunter2-in-the-body', 'hunter2'],
      [JSON.stringify({ query: '{ __typename }', variables: ['hunter2-in-a-list'] }), 'hunter2'],
      [JSON.stringify({ query: '{ __typename }', variables: 'hunter2-as-text' }), 'hunter2'],
      [JSON.stringify({ query: '{ __typename }', extensions: 'hunter2-as-text' }), 'hunter2'],
    ];
    for (const [body, secret] of cases) {
      const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body });
      expect(res.status, body).toBe(400);
      const text = await res.text();
      expect(text).not.toContain(secret);
      expect(text).not.toContain('originalError');
    }
    const xml = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/xml', authorization: `Bearer ${org.admin.token}` }, body: '<q/>' });
    expect(xml.status).toBe(415);
    expect(errorLogs(from)).toEqual([]);
  });
});

describe('error messages never repeat submitted values', () => {
  const SIGN_IN = 'mutation($i: SignInInput!) { signIn(input: $i) { __typename } }';

  it('variable coercion errors name the path and the expected type, not the value', async () => {
    const res = await server.gql(SIGN_IN, { i: { email: 1, password: 'hunter2-very-secret' } });
    expect(JSON.stringify(res)).not.toContain('hunter2');
    expect(res.errors!.map((e) => e.message)).toEqual(['Variable "$i" got an invalid value at "i.email". Expected a value of type "String!".']);
    expect(res.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
    const missing = await server.gql(SIGN_IN, { i: { password: 'hunter2-very-secret' } });
    expect(JSON.stringify(missing)).not.toContain('hunter2');
    expect(missing.errors!.map((e) => e.message)).toEqual(['Variable "$i" got an invalid value. Field "email" of required type "String!" was not provided.']);
    const whole = await server.gql(SIGN_IN, { i: 'hunter2-very-secret' });
    expect(JSON.stringify(whole)).not.toContain('hunter2');
    const scalar = await server.gql('query($n: Int) { organizations(first: $n) { totalCount } }', { n: 'hunter2-very-secret' }, org.admin);
    expect(JSON.stringify(scalar)).not.toContain('hunter2');
    expect(scalar.errors!.map((e) => e.message)).toEqual(['Variable "$n" got an invalid value. Expected a value of type "Int".']);
  });

  it('values written into the document are not repeated either', async () => {
    const res = await server.gql('mutation { signIn(input: "hunter2-very-secret") { __typename } }');
    expect(JSON.stringify(res)).not.toContain('hunter2');
    expect(res.errors!.map((e) => e.message)).toEqual(['Expected value of type "SignInInput!", found the given value.']);
  });

  it('on WebSocket too', async () => {
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    const messages: any[] = [];
    socket.on('message', (d) => messages.push(JSON.parse(String(d))));
    await new Promise((r) => socket.once('open', r));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { token: org.admin.token } }));
    const wait = async (cond: () => boolean) => {
      for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await wait(() => messages.some((m) => m.type === 'connection_ack'));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription($o: ID) { approvalPending(organizationId: $o) { cursor } }', variables: { o: { secret: 'hunter2-very-secret' } } } }));
    await wait(() => messages.some((m) => m.id === '1'));
    const answer = messages.find((m) => m.id === '1');
    expect(JSON.stringify(answer)).not.toContain('hunter2');
    // A result with errors (`next`, then `complete`): the operation was refused before it started.
    const errors = answer.type === 'error' ? answer.payload : answer.payload.errors;
    expect(errors.map((e: any) => e.message)).toEqual(['Variable "$o" got an invalid value. Expected a value of type "ID".']);
    socket.close();
  });
});
