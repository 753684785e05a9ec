// P1: list 50 credentials with category, folder and last access, req/s and p99, beside the raw baseline.
import { fmt, load, post, startServer } from './lib/harness.ts';
import { LIST, SIZES, sideBySide, withServers, type DbKind } from './lib/common.ts';

/** The conventional peer (Apollo Server + Prisma + DataLoader): vaultgate's target is ≥ 1.5× its req/s. */
const PEER_TARGET = 1.5;

export async function p1(kind: DbKind) {
  console.log(`\nP1 list 50 credentials with category, folder, last access — ${kind}`);
  return withServers(kind, async ({ vg, base, seeded, env }) => {
    const body = JSON.stringify({ query: LIST, variables: { org: seeded.orgId } });
    const auth = { authorization: `Bearer ${seeded.token}` };
    const peerServer = await startServer('bench/baseline/apollo.ts', env);
    try {
    const peer = peerServer.url;
    const [x, y, z] = await Promise.all([post(vg, body, auth), post(base, body), post(peer, body, auth)]);
    // Apollo Server ends its JSON with a newline; apart from that the three bodies must be the same bytes.
    const identical = x.body === y.body && x.body === z.body.replace(/\n$/, '');
    console.log(`responses byte-identical: ${identical} (${x.body.length} bytes; vaultgate, raw baseline, Apollo peer)`);
    if (!identical) {
      const at = (a: string, b: string) => [...a].findIndex((ch, i) => ch !== b[i]);
      throw new Error(`P1 bodies differ: lengths ${x.body.length}/${y.body.length}/${z.body.length}; raw from character ${at(x.body, y.body)}, peer from ${at(x.body, z.body)}`);
    }
    const versusPeer = await sideBySide(
      'P1 peer',
      () => load(() => ({ url: vg, body, headers: auth }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds }),
      () => load(() => ({ url: peer, body, headers: auth }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds }),
      ['vaultgate', 'Apollo+Prisma+DataLoader'],
    );
    console.log(`P1 vaultgate ${fmt(versusPeer.ratio, 2)}× the Apollo + Prisma + DataLoader peer's req/s (target ≥ ${PEER_TARGET}×)`);
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
      `P1 ratio req/s ${fmt(max.ratio * 100, 0)} % of the raw baseline (target ≥ 20 %); p99 at half load ` +
        (saturated
          ? `not measurable (vaultgate's maximum is below ${rate} req/s); at ${at} req/s, half vaultgate's maximum, p99 ${fmt(p99Ratio, 2)}× baseline`
          : `${fmt(p99Ratio, 2)}× baseline (target ≤ 3×)`) +
        `; floor ({ __typename }) ${fmt(floor.ratio * 100, 0)} % of the baseline's list`,
    );
    return { rpsRatio: max.ratio, p99Ratio, p99At: at, saturated, floorRatio: floor.ratio, peerRatio: versusPeer.ratio };
    } finally {
      await peerServer.stop();
    }
  });
}

