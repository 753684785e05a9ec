// Dependency outages (docs/outages.md): PostgreSQL or Redis cut from under running instances by a TCP proxy in
// front of the machine's shared services (never stopping the services themselves), under a bounded load.
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg, PASSWORD, SIGN_IN, signIn, type OrgFixture } from '../support/fixtures.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy.ts';
import { unique } from '../support/fixtures.ts';
import { expectAuditIntact, INTERNALS, localOf } from '../adversarial/support.ts';

const SECRET = 'Outage-Secret-7c1d!';
const onPostgres = process.env.VAULTGATE_TEST_DB === 'postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** A request that takes longer than this is a hang (a functional check, not a measurement). */
const CLIENT_TIMEOUT_MS = 2000;

const CREATE = /* GraphQL */ `
  mutation($input: CreateCredentialInput!) { createCredential(input: $input) { ... on CreateCredentialPayload { credential { id } } } }
`;
const LIST = /* GraphQL */ `
  query($filter: CredentialFilter!) { credentials(filter: $filter, first: 5) { totalCount edges { node { id name } } } }
`;
const REVEAL = /* GraphQL */ `
  mutation($id: ID!) { revealCredential(input: { id: $id, field: PASSWORD }) { __typename ... on RevealCredentialPayload { value accessRecordId } } }
`;
const ACCESSED = /* GraphQL */ `
  subscription { passwordAccessed { cursor accessRecord { id surface } } }
`;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

type Outcome = {
  op: 'list' | 'reveal';
  phase: string;
  status: number;
  retryAfter: string | null;
  body: any;
  text: string;
};

/**
 * Lists and reveals against `target`, `workers` at a time, until stopped (and at most `max` requests): every
 * answer recorded with the phase it was sent in. A request that exceeds CLIENT_TIMEOUT_MS is recorded as a hang.
 */
function loadLoop(target: TestServer, org: OrgFixture, credentialId: string, options: { workers?: number; max?: number } = {}) {
  const outcomes: Outcome[] = [];
  const state = { phase: 'before', stopped: false };
  let sent = 0;
  const worker = async () => {
    while (!state.stopped && sent < (options.max ?? 3000)) {
      const op = sent++ % 2 === 0 ? ('list' as const) : ('reveal' as const);
      const phase = state.phase;
      const body =
        op === 'list'
          ? { query: LIST, variables: { filter: { organizationId: org.orgId } } }
          : { query: REVEAL, variables: { id: credentialId } };
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${org.admin.token}` },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
        });
        const text = await res.text();
        outcomes.push({ op, phase, status: res.status, retryAfter: res.headers.get('retry-after'), body: JSON.parse(text), text });
      } catch (error) {
        outcomes.push({ op, phase, status: 0, retryAfter: null, body: null, text: `client error: ${(error as Error).name}` });
        // A refused connection to our own server would be a bug too; do not spin on it.
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const done = Promise.all(Array.from({ length: options.workers ?? 3 }, worker));
  return {
    outcomes,
    in: (phase: string) => outcomes.filter((o) => o.phase === phase),
    set phase(p: string) {
      state.phase = p;
    },
    async stop() {
      state.stopped = true;
      await done;
    },
  };
}

/** A passwordAccessed subscriber: every delivery, errors, and how the socket closed. */
function watch(target: TestServer, token: string) {
  const received: any[] = [];
  const errors: any[] = [];
  let connected!: () => void;
  const ready = new Promise<void>((r) => (connected = r));
  const client: Client = createClient({
    url: target.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { token },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    on: { connected: () => connected() },
  });
  cleanups.push(async () => client.dispose());
  client.subscribe({ query: ACCESSED }, { next: (v) => received.push(v), error: (e) => errors.push(e), complete: () => undefined });
  return { received, errors, ready, client };
}

/** How graphql-ws's connection_init on `target` ends: the close code, or 0 when it was accepted. */
function connectionClose(target: TestServer, token: string): Promise<number> {
  return new Promise((resolve) => {
    const client = createClient({
      url: target.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { token },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => undefined,
      on: { connected: () => resolve(0), closed: (e) => resolve((e as CloseEvent).code) },
    });
    cleanups.push(async () => client.dispose());
  });
}

const settle = () => new Promise((r) => setTimeout(r, 200));

async function readyz(target: TestServer) {
  const res = await fetch(target.url.replace('/graphql', '/readyz'), { signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
}

async function healthz(target: TestServer) {
  return (await fetch(target.url.replace('/graphql', '/healthz'), { signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) })).status;
}

async function credentialIn(target: TestServer, org: OrgFixture) {
  const res = await target.gql(CREATE, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: unique('Outage'), password: SECRET } }, org.admin);
  return res.data.createCredential.credential.id as string;
}

function logEvents(target: TestServer, event: string, dependency: string) {
  return target.logs.filter((l) => l.includes(`"event":"${event}"`) && l.includes(`"dependency":"${dependency}"`)).length;
}

/** The access records of a credential and, per record, how many audit entries name it. */
async function accessAudit(target: TestServer, credentialId: string) {
  const db = target.app.deps.db;
  const records = await db.accessRecord.findMany({ where: { credentialId: localOf(credentialId) }, select: { id: true } });
  const entries = await db.auditEvent.findMany({ where: { targetId: localOf(credentialId), action: 'credential.reveal' }, select: { data: true } });
  const perRecord = new Map<string, number>();
  for (const e of entries) {
    const id = (typeof e.data === 'string' ? JSON.parse(e.data) : e.data)?.accessRecordId as string;
    perRecord.set(id, (perRecord.get(id) ?? 0) + 1);
  }
  return { records: records.map((r) => r.id), perRecord };
}

/** Every delivery's access record, decoded to its database id. */
const deliveredIds = (received: any[]) => received.map((r) => localOf(r.data.passwordAccessed.accessRecord.id));

describe.runIf(onPostgres)('outage: PostgreSQL', () => {
  it('answers SERVICE_UNAVAILABLE 503 with Retry-After at once, readyz names the database, and recovers without restart: nothing half-done, nothing missed', async () => {
    const direct = await startTestServer();
    cleanups.push(() => direct.stop());
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(direct.db.url).port || 5432) });
    cleanups.push(() => proxy.close());
    // The instance under test reaches PostgreSQL only through the proxy; `direct` keeps working throughout.
    // No principal cache, and a fast re-authentication sweep: every request and every socket meets the outage.
    const server = await startTestServer({
      shareWith: direct,
      env: { DATABASE_URL: proxy.rewrite(direct.db.url), AUTH_CACHE_MS: '0', WS_REAUTH_INTERVAL_MS: '100' },
    });
    cleanups.push(() => server.stop());

    const org = await createOrg(server, 'pg-outage');
    const credentialId = await credentialIn(server, org);
    const subscriber = watch(server, org.admin.token);
    await subscriber.ready;
    await settle();

    let idleConnected!: () => void;
    const idleReady = new Promise<void>((r) => (idleConnected = r));
    const idle = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { token: org.admin.token }, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined, on: { connected: () => idleConnected() } });
    cleanups.push(async () => idle.dispose());
    await idleReady;
    const load = loadLoop(server, org, credentialId);
    await vi.waitFor(() => expect(load.in('before').filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(10), { timeout: 20_000 });

    await proxy.cut();
    load.phase = 'cut';
    // Fast answers: the loop gets through many requests while the database is away (each bounded by the client timeout).
    await vi.waitFor(() => expect(load.in('cut').length).toBeGreaterThanOrEqual(30), { timeout: 20_000 });
    const ready = await readyz(server);
    expect(ready.status).toBe(503);
    expect(ready.retryAfter).toBe('2');
    expect(ready.body).toMatchObject({ status: 'unavailable', dependencies: { database: { up: false, required: true } } });
    expect(await healthz(server)).toBe(200);
    // On a connection opened before the outage, a new subscription is refused with the same typed error, and
    // the connection stays open.
    const refused = await new Promise<any>((resolve) =>
      idle.subscribe({ query: ACCESSED }, { next: (v) => resolve(v), error: (e) => resolve(e), complete: () => resolve('complete') }),
    );
    expect(refused?.[0]?.extensions?.code, JSON.stringify(refused)).toBe('SERVICE_UNAVAILABLE');
    // A new WebSocket connection is told to come back later (1013), not that its credentials are bad (4403).
    expect(await connectionClose(server, org.admin.token)).toBe(1013);
    // Meanwhile another instance (whose database is reachable) reveals: the subscriber here must get it later.
    const elsewhere = await direct.gql(REVEAL, { id: credentialId }, org.admin);
    expect(elsewhere.data.revealCredential.value).toBe(SECRET);

    load.phase = 'restoring';
    await proxy.restore();
    await vi.waitFor(async () => expect((await readyz(server)).status).toBe(200), { timeout: 10_000 });
    load.phase = 'after';
    await vi.waitFor(() => expect(load.in('after').filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(10), { timeout: 20_000 });
    await load.stop();

    // No request met an unexpected error (an outage is not one, so it is not logged per request either).
    expect(server.logs.filter((l) => l.includes('"level":50'))).toEqual([]);
    // Every answer was a success or the typed, documented refusal: never a hang, a 500 or an internal message.
    for (const o of load.outcomes) {
      expect(o.text).not.toMatch(INTERNALS);
      expect(o.text).not.toContain('Unexpected error');
      expect(o.status, o.text).not.toBe(0);
      if (o.status === 200) {
        expect(o.body.errors, o.text).toBeUndefined();
      } else {
        expect(o.status, o.text).toBe(503);
        expect(o.retryAfter).toBe('2');
        expect(o.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }) })]);
        expect(o.body.data?.revealCredential ?? null).toBeNull();
      }
    }
    const cut = load.in('cut');
    // Requests sent after the cut, once the breaker knew: all refused (the first few may have raced the cut).
    expect(cut.slice(5).every((o) => o.status === 503), JSON.stringify(cut.slice(5).filter((o) => o.status !== 503).slice(0, 3))).toBe(true);

    // Nothing half-done: every reveal that answered a value has its access record and exactly one audit entry;
    // every access record (those whose answer was lost in the cut included) has exactly one; the chain verifies.
    const revealed = load.outcomes.filter((o) => o.op === 'reveal' && o.status === 200).map((o) => localOf(o.body.data.revealCredential.accessRecordId));
    revealed.push(localOf(elsewhere.data.revealCredential.accessRecordId));
    const { records, perRecord } = await accessAudit(server, credentialId);
    for (const id of revealed) expect(records).toContain(id);
    for (const id of records) expect(perRecord.get(id), id).toBe(1);
    expect(perRecord.size).toBe(records.length);
    await expectAuditIntact(server, org.orgId);

    // The subscriber stayed connected through the outage and got every access exactly once, in order.
    await vi.waitFor(() => expect(subscriber.received.length).toBe(records.length), { timeout: 10_000 });
    expect(new Set(deliveredIds(subscriber.received))).toEqual(new Set(records));
    expect(deliveredIds(subscriber.received)).toHaveLength(records.length);
    expect(subscriber.errors).toEqual([]);

    // The outage was logged once, and its end once — not once per request.
    expect(logEvents(server, 'dependency.down', 'database')).toBe(1);
    expect(logEvents(server, 'dependency.up', 'database')).toBe(1);
  });
});

describe('outage: Redis', () => {
  it('keeps lists, reveals and sign-ins working from memory, readyz says degraded, and a subscriber on another instance misses nothing', async () => {
    const proxy = await startTcpProxy({ host: new URL(REDIS_URL).hostname, port: Number(new URL(REDIS_URL).port || 6379) });
    cleanups.push(() => proxy.close());
    const env = { REDIS_URL: proxy.rewrite(REDIS_URL), RATE_LIMIT_REDIS_PREFIX: `${unique('vaultgate-outage')}:`, RATE_LIMIT_SIGNIN_PER_ACCOUNT: '3' };
    const a = await startTestServer({ env });
    cleanups.push(() => a.stop());
    const b = await startTestServer({ env, shareWith: a });
    cleanups.push(() => b.stop());

    const org = await createOrg(b, 'redis-outage');
    const credentialId = await credentialIn(b, org);
    // A session that instance A has resolved (and, with Redis, cached) before the outage.
    const member = await signIn(b, org.admin.email);
    expect((await a.gql(LIST, { filter: { organizationId: org.orgId } }, { token: member })).status).toBe(200);

    const subscriber = watch(a, org.admin.token);
    await subscriber.ready;
    await settle();
    const load = loadLoop(b, org, credentialId);
    await vi.waitFor(() => expect(load.in('before').filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(10), { timeout: 20_000 });

    await proxy.cut();
    load.phase = 'cut';
    await vi.waitFor(async () => expect((await readyz(a)).body.dependencies.redis.up).toBe(false), { timeout: 10_000 });
    const ready = await readyz(a);
    // Degraded, not unready: every instance shares this Redis, and none of them should leave the load balancer.
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'degraded', dependencies: { database: { up: true }, redis: { up: false, required: false } } });
    await vi.waitFor(() => expect(load.in('cut').length).toBeGreaterThanOrEqual(30), { timeout: 20_000 });

    // Sign-in works, and its limits hold from memory: wrong passwords meet the per-account lockout.
    const good = await a.gql(SIGN_IN, { input: { email: org.admin.email, password: PASSWORD } });
    expect(good.data.signIn.__typename).toBe('SignInPayload');
    const wrong: string[] = [];
    for (let i = 0; i < 5; i++) wrong.push((await a.gql(SIGN_IN, { input: { email: org.admin.email, password: 'not the password' } })).data.signIn.__typename);
    expect(wrong).toContain('InvalidCredentialsError');
    expect(wrong.at(-1)).toBe('RateLimitedError');

    // A session ended on B is refused on A at once: A cannot hear B's notice, so it does not cache meanwhile.
    expect((await b.gql(`mutation { signOut }`, {}, { token: member })).data.signOut).toBe(true);
    expect((await a.gql(LIST, { filter: { organizationId: org.orgId } }, { token: member })).status).toBe(401);

    load.phase = 'restoring';
    await proxy.restore();
    await vi.waitFor(async () => expect((await readyz(a)).body.status).toBe('ready'), { timeout: 10_000 });
    await vi.waitFor(async () => expect((await readyz(b)).body.status).toBe('ready'), { timeout: 10_000 });
    load.phase = 'after';
    await vi.waitFor(() => expect(load.in('after').filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(10), { timeout: 20_000 });
    await load.stop();

    // Nothing was refused: lists and reveals answered throughout, quickly (before the client timeout).
    for (const o of load.outcomes) {
      expect(o.status, o.text).toBe(200);
      expect(o.body.errors, o.text).toBeUndefined();
    }
    expect(load.in('cut').filter((o) => o.op === 'reveal').every((o) => o.body.data.revealCredential.value === SECRET)).toBe(true);

    // The subscriber on A received every access made on B — during the outage too — exactly once.
    const { records, perRecord } = await accessAudit(a, credentialId);
    for (const id of records) expect(perRecord.get(id)).toBe(1);
    await vi.waitFor(() => expect(subscriber.received.length).toBe(records.length), { timeout: 10_000 });
    expect(new Set(deliveredIds(subscriber.received))).toEqual(new Set(records));
    await expectAuditIntact(a, org.orgId);

    for (const s of [a, b]) {
      expect(s.logs.filter((l) => l.includes('"level":50'))).toEqual([]);
      expect(logEvents(s, 'dependency.down', 'redis')).toBe(1);
      expect(logEvents(s, 'dependency.up', 'redis')).toBe(1);
    }
  });
});
