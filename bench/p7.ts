// P7: delivery across instances. Two vaultgate processes share one PostgreSQL database and Redis; a reveal
// sent to A reaches a `passwordAccessed` subscriber on B (cross-instance) or on A itself (same instance).
// Latency = from just before the reveal is sent until the subscriber's frame arrives; p50/p99 of each.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { createBenchDb, fmt, gql, post, startServer } from './lib/harness.ts';
import { REVEAL, seed, serverEnv, smoke } from './lib/common.ts';
import { ACCESSED, pause, subscribe, type Subscriber } from './lib/sockets.ts';

const SIZE = smoke ? { events: 20, warmUp: 3 } : { events: 200, warmUp: 20 };
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(port || 6379), hostname);
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
    s.once('connect', () => (s.end(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))];
};

/**
 * PostgreSQL always: SQLite cannot be shared by two instances. Redis's pub/sub channels are global to the
 * server (the database number in the URL does not separate them) and vaultgate's channel name is fixed, so
 * another vaultgate on the same Redis would wake these instances too — harmless (a feed re-reads the log from
 * its cursor and finds nothing of that other database), only noise.
 */
export async function p7() {
  console.log(`\nP7 cross-instance delivery through Redis (${REDIS_URL}), ${SIZE.events} sequential events — postgres`);
  if (!(await reachable(REDIS_URL))) {
    console.log(`P7: skipped — no Redis at ${REDIS_URL} (set BENCH_REDIS_URL)`);
    return null;
  }
  const db = await createBenchDb('postgres');
  const env = { ...serverEnv(db, randomBytes(32).toString('base64')), REDIS_URL };
  const a = await startServer('src/main.ts', env);
  const b = await startServer('src/main.ts', env);
  const subs: Subscriber[] = [];
  try {
    const seeded = await seed(a.url, 1);
    // A second organization with its own credential, so each subscriber follows only its own organization's
    // events: the other instance's feed drops a notification for an organization it does not follow before
    // any database work, and the two measures do not load each other.
    const org2 = (
      await gql(a.url, `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { ... on CreateOrganizationPayload { organization { id } } } }`, { input: { name: 'Bench MSP 2' } }, seeded.token)
    ).createOrganization.organization.id as string;
    const cred2 = (
      await gql(a.url, `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { ... on CreateCredentialPayload { credential { id } } } }`, { input: { organizationId: org2, kind: 'PASSWORD', name: 'Other', password: 'pw-0123456789abcdef' } }, seeded.token)
    ).createCredential.credential.id as string;

    // Each subscriber resolves the waiter of the event in flight at the moment its frame arrives.
    let arrived: ((t: number) => void) | null = null;
    const open = async (url: string, org: string) => {
      const sub = await subscribe({ url, init: { token: seeded.token }, query: ACCESSED, variables: { filter: { organizationId: org } }, onNext: () => arrived?.(performance.now()) });
      subs.push(sub);
      return sub;
    };
    const onA = await open(a.url, seeded.orgId);
    const onB = await open(b.url, org2);
    await pause(500);
    const auth = { authorization: `Bearer ${seeded.token}` };
    const one = async (credentialId: string, sub: Subscriber) => {
      const expected = sub.received + 1;
      const got = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`P7: event not delivered in 10 s (${JSON.stringify(sub.closed)} ${sub.errors[0] ?? ''})`)), 10_000);
        arrived = (t) => {
          if (sub.received < expected) return;
          clearTimeout(timer);
          resolve(t);
        };
      });
      const t0 = performance.now();
      const res = await post(a.url, JSON.stringify({ query: REVEAL, variables: { id: credentialId } }), auth);
      if (res.status !== 200 || res.body.includes('"errors"')) throw new Error(`P7: reveal failed: ${res.body.slice(0, 300)}`);
      const latency = (await got) - t0;
      arrived = null;
      return latency;
    };

    const same: number[] = [];
    const cross: number[] = [];
    // Interleaved: one same-instance event, one cross-instance event, …, so drift hits both alike.
    for (let i = 0; i < SIZE.warmUp + SIZE.events; i++) {
      const s = await one(seeded.credentialIds[0], onA);
      const c = await one(cred2, onB);
      if (i < SIZE.warmUp) continue;
      same.push(s);
      cross.push(c);
    }
    const line = (label: string, xs: number[]) => `${label.padEnd(32)} p50 ${fmt(pct(xs, 50), 2).padStart(7)} ms   p99 ${fmt(pct(xs, 99), 2).padStart(7)} ms`;
    console.log(line('P7 same instance (A → A)', same));
    console.log(line('P7 cross instance (A → B)', cross));
    const extra = pct(cross, 50) - pct(same, 50);
    console.log(`P7 cross-instance p50 − same-instance p50 = ${fmt(extra, 2)} ms (target ≤ 1 ms)`);
    return { same: { p50: pct(same, 50), p99: pct(same, 99) }, cross: { p50: pct(cross, 50), p99: pct(cross, 99) }, extra };
  } finally {
    await Promise.all(subs.map((s) => s.close()));
    await b.stop();
    await a.stop();
    await db.drop();
  }
}
