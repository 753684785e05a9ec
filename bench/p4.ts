// P4: one event fanned out to many graphql-ws subscribers — from the triggering reveal until the LAST
// subscriber has its `passwordAccessed` event — beside a raw `ws` server broadcasting one pre-serialized
// message of the same size to as many sockets.
import { randomBytes } from 'node:crypto';
import { createBenchDb, fmt, median, post, startServer } from './lib/harness.ts';
import { REVEAL, seed, serverEnv, smoke, type DbKind } from './lib/common.ts';
import { ACCESSED, allReceived, closeAll, enoughFiles, pause, sessions, subscribeMany, type Subscriber } from './lib/sockets.ts';

const SIZE = smoke
  ? { subscribers: 200, sessions: 4, rounds: 1, events: 1 }
  : { subscribers: 10_000, sessions: 100, rounds: 3, events: 3 };
/** Generous: a fan-out that takes longer than this is reported as a failure, not waited for. */
const DELIVERY_TIMEOUT_MS = 180_000;

export async function p4(kind: DbKind) {
  const n = SIZE.subscribers;
  console.log(`\nP4 one event to ${n} graphql-ws subscribers (${SIZE.sessions} sessions), until the last receives it — ${kind}`);
  // The two sets of sockets are never open at the same time, so one set's worth of files is enough.
  if (!enoughFiles(n, 'P4')) return null;
  const db = await createBenchDb(kind);
  const env = serverEnv(db, randomBytes(32).toString('base64'));
  const vg = await startServer('src/main.ts', env);
  const base = await startServer('bench/baseline/ws.ts', {});
  try {
    const seeded = await seed(vg.url, 1);
    const tokens = await sessions(vg.url, SIZE.sessions);
    const reveal = JSON.stringify({ query: REVEAL, variables: { id: seeded.credentialIds[0] } });
    const auth = { authorization: `Bearer ${seeded.token}` };
    let frame = '';

    /** One event, timed from just before its trigger is sent until every subscriber has it. */
    const timed = async (subs: Subscriber[], count: number, trigger: () => Promise<unknown>) => {
      const t0 = performance.now();
      await trigger();
      await allReceived(subs, count, DELIVERY_TIMEOUT_MS);
      return performance.now() - t0;
    };

    // Each round opens its own set (subscribing is not what is measured), sends one untimed event so every
    // subscription is live server-side, then times `events` events, and closes the set.
    const vgRound = async () => {
      const t = performance.now();
      const subs = await subscribeMany(n, (i) => ({ url: vg.url, init: { token: tokens[i % tokens.length] }, query: ACCESSED }));
      await pause(500);
      await timed(subs, 1, () => post(vg.url, reveal, auth));
      const opened = performance.now() - t;
      frame = subs[0].last ?? '';
      if (!frame.includes('"data"') || frame.includes('"errors"')) throw new Error(`P4: unexpected event ${frame.slice(0, 300)}`);
      const times: number[] = [];
      for (let e = 2; e <= SIZE.events + 1; e++) {
        await pause(200);
        times.push(await timed(subs, e, () => post(vg.url, reveal, auth)));
      }
      await closeAll(subs);
      console.log(`  vaultgate round: ${times.map((x) => fmt(x, 0)).join(', ')} ms (set up + first event ${fmt(opened / 1000, 1)} s)`);
      return times;
    };
    const baseRound = async () => {
      const broadcast = () => post(base.url.replace('/graphql', '/broadcast'), frame);
      const subs = await subscribeMany(n, () => ({ url: base.url }));
      await pause(500);
      await timed(subs, 1, broadcast);
      const times: number[] = [];
      for (let e = 2; e <= SIZE.events + 1; e++) {
        await pause(200);
        times.push(await timed(subs, e, broadcast));
      }
      await closeAll(subs);
      console.log(`  baseline round:  ${times.map((x) => fmt(x, 0)).join(', ')} ms`);
      return times;
    };

    const vgTimes: number[] = [];
    const baseTimes: number[] = [];
    // Alternating rounds, vaultgate first (the baseline replays the size of its frame).
    for (let r = 0; r < SIZE.rounds; r++) {
      vgTimes.push(...(await vgRound()));
      baseTimes.push(...(await baseRound()));
    }
    const a = median(vgTimes);
    const b = median(baseTimes);
    console.log(`P4 vaultgate  median ${fmt(a, 1).padStart(8)} ms to the last of ${n} (frame ${frame.length} bytes, ${vgTimes.length} events)`);
    console.log(`P4 baseline   median ${fmt(b, 1).padStart(8)} ms to the last of ${n}`);
    console.log(`P4 ratio ${fmt(a / b, 2)}× baseline (target ≤ 4×)`);
    return { vaultgate: a, baseline: b, ratio: a / b };
  } finally {
    await base.stop();
    await vg.stop();
    await db.drop();
  }
}
