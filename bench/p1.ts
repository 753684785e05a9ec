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
    // Latency at half the baseline's maximum load, for both. When vaultgate's maximum is below that rate, an
    // open-loop load at it only measures a growing queue (minutes of it): that is reported, and latency is
    // compared instead at half of vaultgate's own maximum, a load both can carry.
    const rate = Math.max(1, Math.floor(max.baseline.rps / 2));
    const saturated = max.vaultgate.rps < rate;
    const at = saturated ? Math.max(1, Math.floor(max.vaultgate.rps / 2)) : rate;
    const half = await sideBySide(
      `P1 @${at}/s`,
      () => load(() => ({ url: vg, body, headers: auth }), { concurrency: 0, seconds: SIZES.seconds, rate: at }),
      () => load(() => ({ url: base, body }), { concurrency: 0, seconds: SIZES.seconds, rate: at }),
    );
    const p99Ratio = half.vaultgate.p99 / half.baseline.p99;
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
        (saturated
          ? `not measurable (vaultgate's maximum is below ${rate} req/s); at ${at} req/s, half vaultgate's maximum, p99 ${fmt(p99Ratio, 2)}× baseline`
          : `${fmt(p99Ratio, 2)}× baseline (target ≤ 3×)`) +
        `; floor ({ __typename }) ${fmt(floor.ratio * 100, 0)} % of the baseline's list`,
    );
    return { rpsRatio: max.ratio, p99Ratio, p99At: at, saturated, floorRatio: floor.ratio };
  });
}

