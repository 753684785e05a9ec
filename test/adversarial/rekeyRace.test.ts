// Adversarial 7: an organization is re-keyed (twice at once, row by row) while its secrets are revealed in parallel
// waves and one of its credentials is rotated. Every reveal returns exactly the right plaintext or fails cleanly
// (typed or masked) — never another secret; afterwards every version of every secret still decrypts, also in a
// process that has cached nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg, unique, type OrgFixture } from '../support/fixtures.ts';
import { rekeyOrganization } from '../../src/modules/keys/rotation.ts';
import { verifyChain } from '../../src/modules/audit/audit.service.ts';
import { CREATE_CREDENTIAL, ENV, INTERNALS, localOf, REVEAL } from './support.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: ENV });
});
afterAll(async () => {
  await server?.stop();
});

const ROTATE = `mutation($input: RotateCredentialInput!) { rotateCredential(input: $input) { __typename ... on RotateCredentialPayload { credential { currentVersion } } } }`;
type Target = { label: string; input: { id: string; field: string; version?: number; keyId?: string }; value: string };

async function create(org: OrgFixture, input: Record<string, unknown>) {
  const res = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, ...input } }, org.admin);
  if (res.data?.createCredential?.__typename !== 'CreateCredentialPayload') throw new Error(JSON.stringify(res));
  return res.data.createCredential.credential as { id: string; apiKeys: { id: string }[] };
}

describe('adversarial: re-key under load', () => {
  it('reveals in parallel with two concurrent re-keys and a rotation: right plaintext or a clean failure, never a wrong one', async () => {
    const org = await createOrg(server, 'adv-rekey');
    const organizationId = localOf(org.orgId);
    const targets: Target[] = [];
    // Eight password credentials with three versions each, and two API keys: 26 rows to re-encrypt.
    for (let i = 0; i < 8; i++) {
      const values = [1, 2, 3].map((v) => unique(`adv-rekey-${i}-v${v}`));
      const c = await create(org, { kind: 'PASSWORD', name: `c${i}`, password: values[0] });
      for (const v of values.slice(1)) expect((await server.gql(ROTATE, { input: { id: c.id, newSecret: { password: v }, reason: 'x' } }, org.admin)).data.rotateCredential.__typename).toBe('RotateCredentialPayload');
      values.forEach((value, j) => targets.push({ label: `c${i} v${j + 1}`, input: { id: c.id, field: 'PASSWORD', version: j + 1 }, value }));
    }
    const apiValues = [unique('adv-rekey-api-a'), unique('adv-rekey-api-b')];
    const api = await create(org, { kind: 'API_KEY', name: 'api', apiKeys: apiValues.map((s, i) => ({ clientIdentifier: `k${i}`, clientSecret: s })) });
    apiValues.forEach((value, i) => targets.push({ label: `api ${i}`, input: { id: api.id, field: 'API_KEY_SECRET', keyId: api.apiKeys[i].id }, value }));
    const rotating = targets[0].input.id;
    const rotatedTo = unique('adv-rekey-rotated');

    const outcomes = { ok: 0, typed: 0, masked: 0 };
    const check = (t: Target, res: Awaited<ReturnType<TestServer['gql']>>) => {
      const text = JSON.stringify(res);
      expect(text).not.toMatch(INTERNALS);
      for (const other of targets) if (other.value !== t.value) expect(text, `${t.label} must not show ${other.label}`).not.toContain(other.value);
      const payload = (res.data as { revealCredential?: { __typename: string; value?: string } } | undefined)?.revealCredential;
      if (payload?.__typename === 'RevealCredentialPayload') {
        expect(payload.value, t.label).toBe(t.value);
        outcomes.ok++;
      } else if (payload) {
        expect(payload.__typename, text).toBe('SecretUnavailableError');
        outcomes.typed++;
      } else {
        expect(res.errors, text).toEqual([expect.objectContaining({ message: 'Unexpected error.' })]);
        outcomes.masked++;
      }
    };

    let finished = false;
    const rekeys = Promise.all([
      rekeyOrganization(server.app.deps.db, server.app.deps.keyring, organizationId, { batchSize: 1 }),
      rekeyOrganization(server.app.deps.db, server.app.deps.keyring, organizationId, { batchSize: 2 }),
    ]).finally(() => (finished = true));
    const rotation = server.gql(ROTATE, { input: { id: rotating, newSecret: { password: rotatedTo }, reason: 'during re-key' } }, org.admin);
    let waves = 0;
    while (!finished || waves < 3) {
      await Promise.all(targets.map((t) => server.gql(REVEAL, { input: t.input }, org.admin).then((res) => check(t, res))));
      waves++;
    }
    const [first, second] = await rekeys;
    expect((await rotation).data.rotateCredential.credential.currentVersion).toBe(4);
    expect(outcomes.ok + outcomes.typed + outcomes.masked).toBe(waves * targets.length);
    // Reading under a data key that is being replaced is not a reason to fail.
    expect(outcomes).toEqual({ ok: waves * targets.length, typed: 0, masked: 0 });
    expect(first.undecryptable).toEqual([]);
    expect(second.undecryptable).toEqual([]);
    expect(first.toVersion).toBe(second.toVersion);

    // A re-run finishes whatever the rotation sealed under the old key meanwhile; nothing is left behind.
    const last = await rekeyOrganization(server.app.deps.db, server.app.deps.keyring, organizationId);
    expect(last).toMatchObject({ undecryptable: [], remaining: 0 });
    expect(await server.app.deps.db.secretValue.count({ where: { credential: { organizationId }, keyVersion: { lt: last.toVersion } } })).toBe(0);

    // Every version still decrypts, here and in a process with an empty key cache.
    const all: Target[] = [...targets, { label: 'rotated v4', input: { id: rotating, field: 'PASSWORD', version: 4 }, value: rotatedTo }];
    const fresh = await startTestServer({ env: ENV, shareWith: server });
    try {
      for (const s of [server, fresh]) {
        for (const t of all) expect((await s.gql(REVEAL, { input: t.input }, org.admin)).data.revealCredential.value, t.label).toBe(t.value);
      }
    } finally {
      await fresh.stop();
    }
    expect(await server.app.deps.db.auditEvent.count({ where: { chain: organizationId, action: 'credential.decrypt_failed' } })).toBe(0);
    expect((await verifyChain(server.app.deps.db, organizationId)).ok).toBe(true);
  });
});
