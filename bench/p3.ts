// P3: reveal (policy, decrypt, access record, audit chain, publish) req/s beside the raw baseline.
import { fmt, load } from './lib/harness.ts';
import { REVEAL, SIZES, sideBySide, withServers, type DbKind } from './lib/common.ts';

/** A reveal counts only when the secret came back (a typed refusal is an error here). */
const revealed = (r: { status: number; body: string }) => r.status === 200 && r.body.includes('"value":"');

export async function p3(kind: DbKind) {
  console.log(`\nP3 reveal (policy, decrypt, access record, audit chain, publish) — ${kind}`);
  return withServers(kind, async ({ vg, base, seeded }) => {
    let i = 0;
    const next = () => seeded.credentialIds[i++ % seeded.credentialIds.length];
    const auth = { authorization: `Bearer ${seeded.token}` };
    const vgLoad = () => load(() => ({ url: vg, body: JSON.stringify({ query: REVEAL, variables: { id: next() } }), headers: auth }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds, ok: revealed });
    // Two baselines: the floor (read, decrypt, one insert: less than vaultgate does) and like-for-like (the same
    // statements vaultgate's reveal runs, raw, audit chain included: bench/baseline/server.ts).
    const floor = await sideBySide('P3 floor', vgLoad, () =>
      load(() => ({ url: base, body: JSON.stringify({ query: REVEAL, variables: { id: next() } }) }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds, ok: revealed }),
    );
    const like = await sideBySide('P3 like-for-like', vgLoad, () =>
      load(() => ({ url: `${base}/like-for-like`, body: JSON.stringify({ query: REVEAL, variables: { id: next() } }) }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds, ok: revealed }),
    );
    console.log(`P3 ratio ${fmt(floor.ratio * 100, 0)} % of the floor baseline; ${fmt(like.ratio * 100, 0)} % of like-for-like (target ≥ 40 %)`);
    const r = { ratio: floor.ratio, likeForLikeRatio: like.ratio };
    return { rpsRatio: r.ratio, likeForLikeRatio: r.likeForLikeRatio };
  });
}

