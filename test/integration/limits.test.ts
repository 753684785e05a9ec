import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { request as httpRequest } from 'node:http';
import { print } from 'graphql';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg, type OrgFixture } from '../support/fixtures.ts';
import { createVaultgateClient, ViewerDocument } from '../../src/sdk/client.ts';
import { sha256Hex } from '../../src/graphql/persisted.ts';

// One server with the default limits, and three more on the same database: production mode, strict WebSocket
// settings, and persisted operations only.
let server: TestServer;
let prod: TestServer;
let strictWs: TestServer;
let persisted: TestServer;
let org: OrgFixture;

const ALLOWED_ORIGIN = 'https://app.example.test';

// The over-limit documents below are sized against a cost limit of 5000 (the default was 5000 until variable page
// sizes began to count; it is 20000 now): pinned, so these cases keep testing the mechanism, not the default.
const COST = { QUERY_MAX_COST: '5000' };

beforeAll(async () => {
  server = await startTestServer({ env: COST });
  prod = await startTestServer({ shareWith: server, env: { ...COST, NODE_ENV: 'production' } });
  strictWs = await startTestServer({
    shareWith: server,
    env: { ...COST, WS_CONNECTION_INIT_TIMEOUT_MS: '200', WS_KEEPALIVE_MS: '200', WS_ALLOWED_ORIGINS: `${ALLOWED_ORIGIN}, https://other.example.test` },
  });
  persisted = await startTestServer({ shareWith: server, env: { ...COST, PERSISTED_OPERATIONS: 'only' } });
  org = await createOrg(server, 'limits');
});
afterAll(async () => {
  await persisted?.stop();
  await strictWs?.stop();
  await prod?.stop();
  await server?.stop();
});

// With the GraphQL-over-HTTP media type, operations that cannot execute are answered with 4xx statuses.
const JSON_TYPE = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
async function post(target: TestServer, body: unknown, headers: Record<string, string> = JSON_TYPE) {
  const res = await fetch(target.url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
}

function noInternals(text: string) {
  for (const leak of ['stack', 'at async', 'node_modules', '.ts:', '.js:', 'prisma', 'originalError']) expect(text).not.toContain(leak);
}

const organizationCount = async () =>
  (await server.gql('{ organizations { totalCount } }', {}, { token: org.admin.token })).data.organizations.totalCount as number;

// createOrganization writes (an organization and an audit entry) as soon as its resolver runs.
const createOrg_ = (selection: string, alias = '') =>
  `${alias}createOrganization(input: { name: "should-not-exist" }) { __typename ... on CreateOrganizationPayload { organization { ${selection} } } }`;
const repeat = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(' ');

/** One over-limit mutation per limit; each is within every other limit. */
const OVER_LIMIT: Record<string, string> = {
  depth: `mutation { ${createOrg_('members { edges { node { user { memberships { organization { id } } } } } }')} }`,
  cost: `mutation { ${createOrg_(repeat(3, (i) => `m${i}: members(first: 100) { edges { node { id role createdAt } } }`))} }`,
  aliases: `mutation { ${repeat(16, (i) => createOrg_('id', `a${i}: `))} }`,
  directives: `mutation { ${createOrg_(`id ${repeat(51, () => 'name @include(if: true)')}`)} }`,
  tokens: `mutation { ${createOrg_(repeat(1000, () => 'id'))} }`,
};
const WITHIN_LIMITS = `mutation { ${createOrg_('members { edges { node { id } } }')} }`;

/** On a connection of its own: the server may answer before reading the body and then drop the connection. */
function oversizedPost(body: Buffer, chunked: boolean) {
  return new Promise<{ status: number; contentType: string; text: string }>((resolve, reject) => {
    let answered = false;
    const req = httpRequest(server.url, { method: 'POST', agent: false, headers: { ...JSON_TYPE, ...(chunked ? {} : { 'content-length': body.length }) } }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), text }));
    });
    req.on('error', (err) => answered || reject(err));
    if (chunked) for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.subarray(i, i + 16 * 1024));
    else req.write(body);
    req.end();
  });
}

describe('operation limits over HTTP', () => {
  it('refuses each over-limit operation before any resolver runs, with one message that reveals no limit', async () => {
    const before = await organizationCount();
    for (const [limit, query] of Object.entries(OVER_LIMIT)) {
      const res = await post(server, { query }, { ...JSON_TYPE, authorization: `Bearer ${org.admin.token}` });
      expect(res.status, limit).toBe(400);
      expect(res.body.data, limit).toBeUndefined();
      expect(res.body.errors, limit).toEqual([{ message: 'Query is too complex.', extensions: { code: 'QUERY_TOO_COMPLEX' } }]);
      expect(res.text).not.toMatch(/\d/);
      noInternals(res.text);
    }
    expect(await organizationCount()).toBe(before);
  });

  it('runs an operation just within the limits (the refusals above are about size, not about the mutation)', async () => {
    const before = await organizationCount();
    const res = await server.gql(WITHIN_LIMITS, {}, { token: org.admin.token });
    expect(res.data.createOrganization.__typename).toBe('CreateOrganizationPayload');
    expect(await organizationCount()).toBe(before + 1);
  });

  it('answers a body over REQUEST_MAX_BYTES with 413 and a JSON error, declared or streamed', async () => {
    const big = Buffer.from(JSON.stringify({ query: `# ${'x'.repeat(300 * 1024)}\n{ __typename }` }));
    for (const chunked of [false, true]) {
      const res = await oversizedPost(big, chunked);
      expect(res.status, `chunked: ${chunked}`).toBe(413);
      expect(res.contentType).toMatch(/json/);
      expect(JSON.parse(res.text).errors[0].extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
      noInternals(res.text);
    }

    // A comment is not a token: the same document under the byte limit runs.
    const small = await post(server, { query: `# ${'x'.repeat(200 * 1024)}\n{ __typename }` });
    expect(small.body).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('known limiter bypasses', () => {
  const refused = async (query: string) => {
    const res = await post(server, { query }, { ...JSON_TYPE, authorization: `Bearer ${org.admin.token}` });
    expect(res.body.data, query).toBeUndefined();
    return res.body.errors ?? [];
  };

  it('counts a fragment or an alias named like introspection', async () => {
    const before = await organizationCount();
    const fragment = await refused(
      `mutation { createOrganization(input: { name: "should-not-exist" }) { ...__schema } }
       fragment __schema on CreateOrganizationPayload { organization { members { edges { node { user { memberships { organization { id } } } } } } } }`,
    );
    expect(fragment.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    const alias = await refused(
      `mutation { __schema: createOrganization(input: { name: "should-not-exist" }) { ... on CreateOrganizationPayload { organization { members { edges { node { user { memberships { organization { id } } } } } } } } } }`,
    );
    expect(alias.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(await organizationCount()).toBe(before);
  });

  it('counts introspection that is deep or cyclic', async () => {
    const type = await refused('{ __type(name: "Query") { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } }');
    expect(type.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    const cyclic = await refused('{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }');
    expect(cyclic.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    const viaFragments = await refused(
      '{ __schema { types { ...T } } } fragment T on __Type { fields { type { ...U } } } fragment U on __Type { fields { type { fields { name } } } }',
    );
    expect(viaFragments.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    // The introspection GraphiQL needs still works outside production.
    const ok = await post(server, { query: '{ __schema { queryType { name } } }' });
    expect(ok.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  it('counts a fragment at every spread, and refuses recursive spreads, instead of caching it as cheap', async () => {
    const fragment = 'fragment F on User { memberships { organization { members(first: 100) { totalCount } } } }';
    // One spread is within the cost limit; the same fragment spread twice, or once more elsewhere, is not.
    const once = await post(server, { query: `{ viewer { user { ...F } } } ${fragment}` }, { ...JSON_TYPE, authorization: `Bearer ${org.admin.token}` });
    expect(once.body.errors).toBeUndefined();
    for (const query of [`{ viewer { user { ...F ...F } } } ${fragment}`, `{ viewer { user { ...F } } again: viewer { user { ...F } } } ${fragment}`]) {
      expect((await refused(query)).map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    }
    // Aliases inside a fragment count at each spread (16 > 15), even though each spread alone has 4.
    const aliased = await refused(`{ viewer { ...A ...A } a: viewer { ...A } b: viewer { ...A } } fragment A on Viewer { k1: kind k2: kind k3: kind k4: kind }`);
    expect(aliased.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);

    const before = await organizationCount();
    const recursive = await refused(
      `mutation { createOrganization(input: { name: "should-not-exist" }) { ...R } } fragment R on CreateOrganizationResult { __typename ...R ...R ...R ...R }`,
    );
    expect(recursive.length).toBeGreaterThan(0);
    expect(await organizationCount()).toBe(before);
  });
});

describe('HTTP request rules', () => {
  it('refuses cross-site "simple" requests (text/plain, form posts, bare GET) with 403 and writes nothing', async () => {
    const before = await organizationCount();
    const mutation = `mutation { ${createOrg_('id')} }`;
    const plain = await post(server, { query: mutation }, { 'content-type': 'text/plain' });
    expect(plain.status).toBe(403);
    expect(plain.body.errors?.[0].extensions?.code).toBe('CSRF_PREVENTED');
    const form = await post(server, `query=${encodeURIComponent(mutation)}`, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(403);
    const get = await fetch(`${server.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(get.status).toBe(403);
    expect(await organizationCount()).toBe(before);
    // A GET a browser could only send after a preflight runs queries.
    const preflighted = await fetch(`${server.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(await preflighted.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses mutations over GET and batched requests', async () => {
    const before = await organizationCount();
    const get = await fetch(`${server.url}?query=${encodeURIComponent(`mutation { ${createOrg_('id')} }`)}`, {
      headers: { authorization: `Bearer ${org.admin.token}` },
    });
    expect(get.status).toBe(405);
    const batch = await post(server, [{ query: `mutation { ${createOrg_('id')} }` }, { query: '{ __typename }' }], {
      ...JSON_TYPE,
      authorization: `Bearer ${org.admin.token}`,
    });
    expect(batch.status).toBe(400);
    expect(batch.body.data).toBeUndefined();
    expect(await organizationCount()).toBe(before);
  });
});

describe('production mode', () => {
  it('refuses introspection, while __typename still works', async () => {
    for (const query of ['{ __schema { queryType { name } } }', '{ __type(name: "Query") { name } }']) {
      const res = await post(prod, { query });
      expect(res.body.data, query).toBeUndefined();
      expect(res.body.errors?.[0].message).toMatch(/introspection has been disabled/);
    }
    expect((await post(prod, { query: '{ __typename }' })).body).toEqual({ data: { __typename: 'Query' } });
  });

  it('gives no "Did you mean" suggestions for fields, arguments or enum values, in validation or variables', async () => {
    const cases: [string, Record<string, unknown>?][] = [
      ['{ viewr { kind } }'],
      ['{ viewer { kinds } }'],
      ['mutation { inviteMember(input: { organizationId: "x", email: "a@example.test", role: ADMN }) { __typename } }'],
      ['mutation($i: InviteMemberInput!) { inviteMember(input: $i) { __typename } }', { i: { organizationId: 'x', email: 'a@example.test', role: 'ADMN' } }],
      ['mutation($i: SignInInput!) { signIn(input: $i) { __typename } }', { i: { emial: 'a@example.test', password: 'x' } }],
    ];
    for (const [query, variables] of cases) {
      const dev = await post(server, { query, variables });
      // Variable errors are vaultgate's own (path and expected type, never the value; inputEcho.ts): no suggestions anywhere.
      if (!variables) expect(dev.text, `the development server suggests for ${query}`).toContain('Did you mean');
      const res = await post(prod, { query, variables });
      expect(res.body.errors?.length, query).toBeGreaterThan(0);
      expect(res.text, query).not.toContain('Did you mean');
    }
  });

  it('serves no GraphiQL and answers errors without stacks or limits', async () => {
    const page = await fetch(prod.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('graphiql');
    const bad = await post(prod, { query: '{ viewer { kind } ' });
    expect(bad.body.errors?.[0].message).toMatch(/Syntax Error/);
    noInternals(bad.text);
    const tooComplex = await post(prod, { query: OVER_LIMIT.depth });
    expect(tooComplex.body.errors).toEqual([{ message: 'Query is too complex.', extensions: { code: 'QUERY_TOO_COMPLEX' } }]);
  });
});

// --- WebSocket ------------------------------------------------------------------------------------------------

type Raw = {
  ws: WebSocket;
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  next(): Promise<any>;
};

function openRaw(url: string, options: WebSocket.ClientOptions = {}): Raw {
  const ws = new WebSocket(url, 'graphql-transport-ws', options);
  const queue: unknown[] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (data) => {
    queue.push(JSON.parse(String(data)));
    wake?.();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => {
      resolve({ code, reason: String(reason) });
      wake?.();
    }),
  );
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error('upgrade refused'), { status: res.statusCode })));
    ws.once('error', reject);
  });
  opened.catch(() => {});
  return {
    ws,
    opened,
    closed,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    async next() {
      while (queue.length === 0) {
        if (ws.readyState === WebSocket.CLOSED) throw new Error('socket closed');
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return queue.shift();
    },
  };
}

async function connected(target: TestServer, options: WebSocket.ClientOptions = {}): Promise<Raw> {
  const raw = openRaw(target.wsUrl, options);
  await raw.opened;
  raw.send({ type: 'connection_init', payload: { token: org.admin.token } });
  expect(await raw.next()).toMatchObject({ type: 'connection_ack' });
  return raw;
}

describe('operation limits over WebSocket', () => {
  it('answers each over-limit operation with an error message, runs nothing, and keeps the socket open', async () => {
    const before = await organizationCount();
    const raw = await connected(server);
    let id = 0;
    for (const [limit, query] of Object.entries(OVER_LIMIT)) {
      raw.send({ id: String(++id), type: 'subscribe', payload: { query } });
      expect(await raw.next(), limit).toEqual({
        id: String(id),
        type: 'error',
        payload: [{ message: 'Query is too complex.', extensions: { code: 'QUERY_TOO_COMPLEX' } }],
      });
    }
    raw.send({ id: 'bypass', type: 'subscribe', payload: { query: '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }' } });
    expect((await raw.next()).payload[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    raw.send({ id: 'ok', type: 'subscribe', payload: { query: '{ viewer { kind } }' } });
    expect(await raw.next()).toEqual({ id: 'ok', type: 'next', payload: { data: { viewer: { kind: 'USER' } } } });
    expect(raw.ws.readyState).toBe(WebSocket.OPEN);
    raw.ws.close();
    expect(await organizationCount()).toBe(before);
  });

  it('closes the socket with 1009 on a message over the payload limit', async () => {
    const raw = await connected(server);
    raw.send({ id: '1', type: 'subscribe', payload: { query: `# ${'x'.repeat(70 * 1024)}\n{ __typename }` } });
    expect((await raw.closed).code).toBe(1009);
  });

  it('applies the graphql-ws protocol rules: 4408 without init, 4429 on a second init, 4401 on subscribe before ack', async () => {
    const silent = openRaw(strictWs.wsUrl);
    await silent.opened;
    expect((await silent.closed).code).toBe(4408);

    const twice = openRaw(strictWs.wsUrl);
    await twice.opened;
    twice.send({ type: 'connection_init', payload: { token: org.admin.token } });
    twice.send({ type: 'connection_init', payload: { token: org.admin.token } });
    expect((await twice.closed).code).toBe(4429);

    const eager = openRaw(strictWs.wsUrl);
    await eager.opened;
    eager.send({ id: '1', type: 'subscribe', payload: { query: '{ viewer { kind } }' } });
    expect((await eager.closed).code).toBe(4401);
  });

  it('refuses upgrades from Origins outside WS_ALLOWED_ORIGINS, and accepts listed ones and non-browser clients', async () => {
    const evil = openRaw(strictWs.wsUrl, { origin: 'https://evil.example.test' });
    await expect(evil.opened).rejects.toMatchObject({ status: 403 });
    const nullOrigin = openRaw(strictWs.wsUrl, { origin: 'null' });
    await expect(nullOrigin.opened).rejects.toMatchObject({ status: 403 });
    for (const origin of [ALLOWED_ORIGIN, 'https://other.example.test', undefined]) {
      const raw = await connected(strictWs, origin ? { origin } : {});
      raw.ws.close();
    }
    // Without WS_ALLOWED_ORIGINS any Origin may connect.
    (await connected(server, { origin: 'https://evil.example.test' })).ws.close();
  });

  it('terminates a socket that does not answer pings', async () => {
    const raw = await connected(strictWs, { autoPong: false });
    expect((await raw.closed).code).toBe(1006);
  });
});

describe('persisted operations only', () => {
  const viewerText = print(ViewerDocument);
  const headers = () => ({ ...JSON_TYPE, authorization: `Bearer ${org.admin.token}` });

  it('runs the SDK operations, by text or by sha256 hash, over HTTP', async () => {
    const client = createVaultgateClient({ url: persisted.url, token: org.admin.token });
    expect((await client.request(ViewerDocument)).viewer?.kind).toBe('USER');
    const byHash = await post(persisted, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(viewerText) } } }, headers());
    expect(byHash.body.data.viewer.kind).toBe('USER');
  });

  it('refuses everything else over HTTP with PERSISTED_OPERATION_NOT_FOUND', async () => {
    const before = await organizationCount();
    const attempts: unknown[] = [
      { query: '{ viewer { kind } }' },
      { query: `mutation { ${createOrg_('id')} }` },
      { query: `${viewerText} ` },
      { query: viewerText.replace('kind', 'kind __typename') },
      { query: '{ __schema { queryType { name } } }' },
      { query: `mutation { ${createOrg_('id')} }`, extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(viewerText) } } },
      { extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex('{ viewer { kind } }') } } },
      { extensions: { persistedQuery: { version: 1, sha256Hash: 42 } } },
    ];
    for (const body of attempts) {
      const res = await post(persisted, body, headers());
      expect(res.body.data, JSON.stringify(body)).toBeUndefined();
      expect(res.body.errors?.[0].extensions?.code, JSON.stringify(body)).toBe('PERSISTED_OPERATION_NOT_FOUND');
    }
    const get = await fetch(`${persisted.url}?query=${encodeURIComponent('{ viewer { kind } }')}`, { headers: { authorization: `Bearer ${org.admin.token}` } });
    expect(((await get.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('PERSISTED_OPERATION_NOT_FOUND');
    expect(await organizationCount()).toBe(before);
  });

  it('applies the same allowlist to WebSocket subscribe messages', async () => {
    const before = await organizationCount();
    const raw = await connected(persisted);
    const attempts: unknown[] = [
      { query: '{ viewer { kind } }' },
      { query: `mutation { ${createOrg_('id')} }` },
      { query: `mutation { ${createOrg_('id')} }`, extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(viewerText) } } },
      { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } },
    ];
    let id = 0;
    for (const payload of attempts) {
      raw.send({ id: String(++id), type: 'subscribe', payload });
      const message = await raw.next();
      expect(message.type, JSON.stringify(payload)).toBe('error');
      expect(message.payload[0].extensions.code).toBe('PERSISTED_OPERATION_NOT_FOUND');
    }
    raw.send({ id: 'text', type: 'subscribe', payload: { query: viewerText } });
    expect(await raw.next()).toMatchObject({ id: 'text', type: 'next', payload: { data: { viewer: { kind: 'USER' } } } });
    expect(await raw.next()).toEqual({ id: 'text', type: 'complete' });
    raw.send({ id: 'hash', type: 'subscribe', payload: { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(viewerText) } } } });
    expect(await raw.next()).toMatchObject({ id: 'hash', type: 'next', payload: { data: { viewer: { kind: 'USER' } } } });
    raw.ws.close();
    expect(await organizationCount()).toBe(before);
  });
});
