// P10: one organization under load (issue 19 calls it "P9"; P9 here was already the cold start). Reveals/s with
// SIZES.concurrency clients all revealing in ONE organization, against the same load spread over 32 organizations,
// on one server, in alternating rounds. Every reveal appends to its organization's audit chain, so this measures
// whether the chain's head (one row per organization) makes one busy customer the ceiling. Target ≥ 70 %.
import { randomBytes } from 'node:crypto';
import { fmt, gql, load } from './lib/harness.ts';
import { REVEAL, SIZES, sideBySide, withServers, type DbKind } from './lib/common.ts';

const ORGANIZATIONS = 32;
const PER_ORGANIZATION = 4;

const revealed = (r: { status: number; body: string }) => r.status === 200 && r.body.includes('"value":"');

export async function p10(kind: DbKind) {
  console.log(`\nP10 one organization under load: reveals in 1 organization vs spread over ${ORGANIZATIONS} — ${kind}`);
  return withServers(kind, async ({ vg, seeded }) => {
    const { token } = seeded;
    // The busy organization is the seeded one; 31 more, each with a few credentials, made by the same user.
    const spread: string[][] = [seeded.credentialIds.slice(0, PER_ORGANIZATION)];
    for (let o = 1; o < ORGANIZATIONS; o++) {
      const org = await gql(vg, `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { ... on CreateOrganizationPayload { organization { id } } } }`, { input: { name: `Spread ${o}` } }, token);
      const ids: string[] = [];
      for (let i = 0; i < PER_ORGANIZATION; i++) {
        const c = await gql(
          vg,
          `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { ... on CreateCredentialPayload { credential { id } } } }`,
          { input: { organizationId: org.createOrganization.organization.id, kind: 'PASSWORD', name: `Spread ${o}.${i}`, password: `pw-${randomBytes(12).toString('hex')}` } },
          token,
        );
        ids.push(c.createCredential.credential.id);
      }
      spread.push(ids);
    }
    const auth = { authorization: `Bearer ${token}` };
    const reveal = (id: string) => ({ url: vg, body: JSON.stringify({ query: REVEAL, variables: { id } }), headers: auth });
    let i = 0;
    const one = () => reveal(seeded.credentialIds[i++ % seeded.credentialIds.length]);
    let j = 0;
    const many = () => {
      const ids = spread[j % ORGANIZATIONS];
      return reveal(ids[Math.floor(j++ / ORGANIZATIONS) % ids.length]);
    };
    const options = { concurrency: SIZES.concurrency, seconds: SIZES.seconds, ok: revealed };
    const r = await sideBySide('P10', () => load(one, options), () => load(many, options), ['1 org', `${ORGANIZATIONS} orgs`]);
    console.log(`P10 one organization ${fmt(r.ratio * 100, 0)} % of ${ORGANIZATIONS} organizations (target ≥ 70 %)`);
    return { ratio: r.ratio };
  });
}
