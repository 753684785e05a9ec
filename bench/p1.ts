// P1: list 50 credentials with category, folder and last access, req/s and p99, beside the raw baseline.
import { fmt, load, post } from './lib/harness.ts';
import { LIST, SIZES, sideBySide, withServers, type DbKind } from './lib/common.ts';

export async function p1(kind: DbKind) {
  console.log(`\nP1 list 50 credentials with category, folder, last access — ${kind}`);
  return withServers(kind, async ({ vg, base, seeded }) => {
    const body = JSON.stringify({ query: LIST, variables: { org: seeded.orgId } });
    const auth = { authorization: `Bearer ${seeded.token}` };
    const [x, y] = await Promise.all([post(vg, body, auth), post(base, body)]);
    const identical = x.body === y.body;
    console.log(`responses byte-identical: ${identical} (${x.body.length} bytes)`);
    if (!identical) throw new Error(`P1 bodies differ:\n${x.body.slice(0, 300)}\n${y.body.slice(0, 300)}`);
    const max = await sideBySide(
      'P1 max',
      () => load(() => ({ url: vg, body, headers: auth }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds }),
      () => load(() => ({ url: base, body }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds }),
    );
    // Latency at half the baseline's maximum load, for both.
    const rate = Math.max(1, Math.floor(max.baseline.rps / 2));
    const half = await sideBySide(
      `P1 @${rate}/s`,
      () => load(() => ({ url: vg, body, headers: auth }), { concurrency: 0, seconds: SIZES.seconds, rate }),
      () => load(() => ({ url: base, body }), { concurrency: 0, seconds: SIZES.seconds, rate }),
    );
    const p99Ratio = half.vaultgate.p99 / half.baseline.p99;
    // An open-loop load above what vaultgate can serve only measures its queue: say so instead of a ratio.
    const saturated = half.vaultgate.rps < rate * 0.95;
    // The stack's own floor: an authenticated `{ __typename }` (HTTP, Yoga, limits, context; no resolver, no
    // database) against the baseline's list. The list can never be cheaper than this.
    const floorBody = JSON.stringify({ query: '{ __typename }' });
    const floor = await sideBySide(
      'P1 floor',
      () => load(() => ({ url: vg, body: floorBody, headers: auth }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds }),
      () => load(() => ({ url: base, body }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds }),
    );
    console.log(
      `P1 ratio req/s ${fmt(max.ratio * 100, 0)} % of baseline (target ≥ 40 %); p99 at half load ` +
        (saturated ? `not measurable: vaultgate saturated at ${fmt(half.vaultgate.rps, 0)} of ${rate} req/s` : `${fmt(p99Ratio, 2)}× baseline (target ≤ 3×)`) +
        `; floor ({ __typename }) ${fmt(floor.ratio * 100, 0)} % of the baseline's list`,
    );
    return { rpsRatio: max.ratio, p99Ratio: saturated ? null : p99Ratio, floorRatio: floor.ratio };
  });
}

