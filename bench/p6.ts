// P6: list req/s while 10 argon2 sign-ins per second run against the same server, beside the same list load
// without sign-ins (alternating rounds). Also probes, in this process, what one argon2 verification costs and
// whether it stalls the event loop: the argon2 package hashes on libuv's threadpool, so it should cost CPU, not
// event-loop time — but with the server pinned to one core, that CPU is taken from the same core the event loop
// runs on.
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { hashPassword, verifyPassword } from '../src/lib/passwords.ts';
import { createBenchDb, fmt, load, median, startServer, type LoadResult, type Reply } from './lib/harness.ts';
import { LIST, SIZES, row, seed, serverEnv, smoke, type DbKind } from './lib/common.ts';

const SIGN_INS_PER_SECOND = 10;
// The account seed() bootstraps; the sign-ins use its real password, so every one runs argon2 and succeeds.
const EMAIL = 'bench@example.test';
const PASSWORD = 'bench password 0123456789';
const SIGN_IN = `mutation SignIn($input: SignInInput!) { signIn(input: $input) { __typename ... on SignInPayload { token } } }`;

const signedIn = (r: Reply) => r.status === 200 && r.body.includes('"token":"');

/**
 * serverEnv() switches off the per-address limits; a correct-password loop from one address also meets the
 * per-account lockouts, because each attempt counts as a failure until its password has been checked: with a
 * few sign-ins in flight at once (slow answers under load) the pair's threshold (5) would be reached.
 */
const signInEnv = { RATE_LIMIT_SIGNIN_PER_ACCOUNT: '0', RATE_LIMIT_SIGNIN_PER_ACCOUNT_TOTAL: '0' };

type Probe = { cpuMs: number; wallMs: number; loopDelayP99Ms: number; idleLoopDelayP99Ms: number };

/**
 * argon2 verifications at the benchmark's rate in this (otherwise idle) process: CPU per verification (process
 * CPU time, which includes the threadpool's threads), wall time each, and the event loop's delay meanwhile
 * compared with the same span idle. A delay near the idle one means the hashing does not run on the loop.
 */
async function probeArgon2(count: number): Promise<Probe> {
  const stored = await hashPassword(PASSWORD);
  await verifyPassword(stored, PASSWORD); // warm
  const loopDelay = async (work: () => Promise<void>) => {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    await work();
    h.disable();
    return h.percentile(99) / 1e6;
  };
  const span = (count / SIGN_INS_PER_SECOND) * 1000;
  const idleLoopDelayP99Ms = await loopDelay(() => new Promise((r) => setTimeout(r, span)));
  const cpu0 = process.cpuUsage();
  const walls: number[] = [];
  const loopDelayP99Ms = await loopDelay(async () => {
    const runs: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      runs.push(verifyPassword(stored, PASSWORD).then(() => void walls.push(performance.now() - t0)));
      await new Promise((r) => setTimeout(r, 1000 / SIGN_INS_PER_SECOND));
    }
    await Promise.all(runs);
  });
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000 / count, wallMs: median(walls), loopDelayP99Ms, idleLoopDelayP99Ms };
}

export async function p6(kind: DbKind) {
  console.log(`\nP6 list under ${SIGN_INS_PER_SECOND} argon2 sign-ins/s — ${kind}`);
  const probe = await probeArgon2(smoke ? 5 : 20);
  console.log(
    `argon2 verify (in the bench process, threadpool size ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}): ` +
      `${fmt(probe.cpuMs)} ms CPU and ${fmt(probe.wallMs)} ms wall each → ${fmt((probe.cpuMs * SIGN_INS_PER_SECOND) / 10, 0)} % of a core at ${SIGN_INS_PER_SECOND}/s; ` +
      `event-loop delay p99 ${fmt(probe.loopDelayP99Ms, 2)} ms while hashing vs ${fmt(probe.idleLoopDelayP99Ms, 2)} ms idle`,
  );
  const db = await createBenchDb(kind);
  const server = await startServer('src/main.ts', { ...serverEnv(db, randomBytes(32).toString('base64')), ...signInEnv });
  try {
    const seeded = await seed(server.url, SIZES.credentials);
    const listBody = JSON.stringify({ query: LIST, variables: { org: seeded.orgId } });
    const auth = { authorization: `Bearer ${seeded.token}` };
    const signInBody = JSON.stringify({ query: SIGN_IN, variables: { input: { email: EMAIL, password: PASSWORD } } });
    const list = () => load(() => ({ url: server.url, body: listBody, headers: auth }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds });
    const signIns = () => load(() => ({ url: server.url, body: signInBody }), { concurrency: 0, seconds: SIZES.seconds, rate: SIGN_INS_PER_SECOND, ok: signedIn });
    // Warm-up: JIT, connection pool, argon2's first hash.
    await Promise.all([load(() => ({ url: server.url, body: listBody, headers: auth }), { concurrency: SIZES.concurrency, seconds: 1 }), signIns()]);

    // Alternating rounds (alone, with sign-ins, alone, …) so drift on a shared machine hits both alike.
    const alone: LoadResult[] = [];
    const busy: { list: LoadResult; signIns: LoadResult }[] = [];
    for (let i = 0; i < SIZES.rounds; i++) {
      alone.push(await list());
      const [l, s] = await Promise.all([list(), signIns()]);
      busy.push({ list: l, signIns: s });
    }
    const pick = <T>(xs: T[], rps: (x: T) => number) => xs.find((x) => rps(x) === median(xs.map(rps)))!;
    const a = pick(alone, (x) => x.rps);
    const b = pick(busy, (x) => x.list.rps);
    console.log(row('P6 list alone', a));
    console.log(row('P6 list + sign-ins', b.list));
    console.log(row('P6 sign-ins', b.signIns));
    const ratio = b.list.rps / a.rps;
    console.log(`P6 ratio ${fmt(ratio * 100, 0)} % of the list's req/s without sign-ins (target ≥ 70 %); sign-ins ran at ${fmt(b.signIns.rps, 1)}/s`);
    return { rpsRatio: ratio, argon2CpuMs: probe.cpuMs, signInP99: b.signIns.p99 };
  } finally {
    await server.stop();
    await db.drop();
  }
}
