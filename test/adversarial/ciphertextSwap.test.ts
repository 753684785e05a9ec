// Adversarial 6: someone with write access to the database moves ciphertexts around — between credentials,
// fields, versions, API keys and organizations, whole rows at once, wrapped data keys between organizations, and
// envelopes that are malformed or name a data-key version that does not exist. Every reveal of a tampered row must
// answer SecretUnavailableError: no plaintext (of any secret), no access record; the failure is audited.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg, unique, type OrgFixture } from '../support/fixtures.ts';
import { ENV, CREATE_CREDENTIAL, INTERNALS, localOf, REVEAL } from './support.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: ENV });
});
afterAll(async () => {
  await server?.stop();
});

const db = () => server.app.deps.db;
type Target = { label: string; input: { id: string; field: string; version?: number; keyId?: string }; value: string };
type Seeded = { org: OrgFixture; targets: Target[] };

async function create(org: OrgFixture, input: Record<string, unknown>) {
  const res = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, ...input } }, org.admin);
  if (res.data?.createCredential?.__typename !== 'CreateCredentialPayload') throw new Error(JSON.stringify(res));
  return res.data.createCredential.credential as { id: string; apiKeys: { id: string }[] };
}

/** Password (two versions), SSH key with passphrase, two API keys: every secret and what it reveals. */
async function seed(label: string): Promise<Seeded> {
  const org = await createOrg(server, label);
  const pw = [unique(`${label}-pw1`), unique(`${label}-pw2`)];
  const p = await create(org, { kind: 'PASSWORD', name: 'pw', password: pw[0] });
  const rotated = await server.gql(`mutation($input: RotateCredentialInput!) { rotateCredential(input: $input) { __typename } }`, { input: { id: p.id, newSecret: { password: pw[1] }, reason: 'x' } }, org.admin);
  expect(rotated.data.rotateCredential.__typename).toBe('RotateCredentialPayload');
  const { privateKey } = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const passphrase = unique(`${label}-pass`);
  const ssh = await create(org, { kind: 'SSH_KEY', name: 'ssh', privateKey, passphrase });
  const api = [unique(`${label}-apiA`), unique(`${label}-apiB`)];
  const k = await create(org, { kind: 'API_KEY', name: 'api', apiKeys: [{ clientIdentifier: 'a', clientSecret: api[0] }, { clientIdentifier: 'b', clientSecret: api[1] }] });
  return {
    org,
    targets: [
      { label: 'pw v1', input: { id: p.id, field: 'PASSWORD', version: 1 }, value: pw[0] },
      { label: 'pw v2', input: { id: p.id, field: 'PASSWORD', version: 2 }, value: pw[1] },
      { label: 'ssh key', input: { id: ssh.id, field: 'SSH_PRIVATE_KEY' }, value: privateKey },
      { label: 'passphrase', input: { id: ssh.id, field: 'PASSPHRASE' }, value: passphrase },
      { label: 'api a', input: { id: k.id, field: 'API_KEY_SECRET', keyId: k.apiKeys[0].id }, value: api[0] },
      { label: 'api b', input: { id: k.id, field: 'API_KEY_SECRET', keyId: k.apiKeys[1].id }, value: api[1] },
    ],
  };
}

async function rowOf(t: Target) {
  const credentialId = localOf(t.input.id);
  const credential = await db().credential.findUniqueOrThrow({ where: { id: credentialId } });
  return db().secretValue.findUniqueOrThrow({
    where: { credentialId_version_field_keyRef: { credentialId, version: t.input.version ?? credential.currentVersion, field: t.input.field, keyRef: t.input.keyId ? localOf(t.input.keyId) : '' } },
  });
}

async function revealAs(s: TestServer, org: OrgFixture, t: Target) {
  return s.gql(REVEAL, { input: t.input }, org.admin);
}

describe('adversarial: swapped and forged ciphertexts', () => {
  let a: Seeded;
  let b: Seeded;
  let plaintexts: string[];
  beforeAll(async () => {
    a = await seed('adv-swap-a');
    b = await seed('adv-swap-b');
    plaintexts = [...a.targets, ...b.targets].map((t) => t.value);
  });

  /** The reveal of `t` is refused as SecretUnavailableError, leaks nothing, records no access, audits the failure. */
  async function expectRefused(s: TestServer, org: OrgFixture, t: Target, why: string) {
    const credentialId = localOf(t.input.id);
    const records = await db().accessRecord.count({ where: { credentialId } });
    const failures = await db().auditEvent.count({ where: { targetId: credentialId, action: 'credential.decrypt_failed' } });
    const res = await revealAs(s, org, t);
    const text = JSON.stringify(res);
    expect(res.errors, `${why}: ${text}`).toBeUndefined();
    expect(res.data.revealCredential.__typename, `${why}: ${text}`).toBe('SecretUnavailableError');
    for (const p of plaintexts) expect(text, why).not.toContain(p);
    expect(text).not.toMatch(INTERNALS);
    expect(await db().accessRecord.count({ where: { credentialId } }), why).toBe(records);
    expect(await db().auditEvent.count({ where: { targetId: credentialId, action: 'credential.decrypt_failed' } }), why).toBe(failures + 1);
  }

  async function expectIntact(s: TestServer, seeded: Seeded) {
    for (const t of seeded.targets) expect((await revealAs(s, seeded.org, t)).data.revealCredential.value, t.label).toBe(t.value);
  }

  it('every ordered pair of secrets (same credential, other field, other version, other key, other organization): the sealed text swapped in fails', async () => {
    const all = [...a.targets.map((t) => ({ t, s: a })), ...b.targets.map((t) => ({ t, s: b }))];
    for (const target of a.targets) {
      const row = await rowOf(target);
      for (const { t: source } of all) {
        if (source === target) continue;
        const from = await rowOf(source);
        await db().secretValue.update({ where: { id: row.id }, data: { sealed: from.sealed, keyVersion: from.keyVersion } });
        try {
          await expectRefused(server, a.org, target, `${source.label} → ${target.label}`);
        } finally {
          await db().secretValue.update({ where: { id: row.id }, data: { sealed: row.sealed, keyVersion: row.keyVersion } });
        }
      }
    }
    await expectIntact(server, a);
  });

  it('whole rows exchanged (two secrets trade places), or a row moved to another credential or version', async () => {
    const [pw1, pw2, , passphrase] = a.targets;
    const r1 = await rowOf(pw1);
    const r2 = await rowOf(pw2);
    const rp = await rowOf(passphrase);
    // Trade the sealed texts of v1 and v2 at once.
    await db().secretValue.update({ where: { id: r1.id }, data: { sealed: r2.sealed } });
    await db().secretValue.update({ where: { id: r2.id }, data: { sealed: r1.sealed } });
    await expectRefused(server, a.org, pw1, 'v1<->v2 (v1)');
    await expectRefused(server, a.org, pw2, 'v1<->v2 (v2)');
    await db().secretValue.update({ where: { id: r1.id }, data: { sealed: r1.sealed } });
    await db().secretValue.update({ where: { id: r2.id }, data: { sealed: r2.sealed } });

    // The passphrase row re-labelled as the password's v2 (its version and credential changed, sealed kept): the
    // associated data follows the row's labels, so it no longer opens.
    await db().secretValue.delete({ where: { id: r2.id } });
    await db().secretValue.update({ where: { id: rp.id }, data: { credentialId: r2.credentialId, version: r2.version, field: r2.field, keyRef: r2.keyRef } });
    try {
      await expectRefused(server, a.org, pw2, 'passphrase row moved to pw v2');
    } finally {
      await db().secretValue.update({ where: { id: rp.id }, data: { credentialId: rp.credentialId, version: rp.version, field: rp.field, keyRef: rp.keyRef } });
      await db().secretValue.create({ data: r2 });
    }
    await expectIntact(server, a);
  });

  it('malformed envelopes and a data-key version that does not exist', async () => {
    const target = a.targets[1];
    const row = await rowOf(target);
    const [fmt, version, nonce, body] = row.sealed.split('.');
    const forged: Record<string, { sealed?: string; keyVersion?: number }> = {
      empty: { sealed: '' },
      'format only': { sealed: fmt },
      'other format': { sealed: ['v2', version, nonce, body].join('.') },
      'extra part': { sealed: `${row.sealed}.AAAA` },
      'short tag': { sealed: [fmt, version, nonce, 'AAAA'].join('.') },
      'non-canonical base64': { sealed: [fmt, version, nonce, `${body}=`].join('.') },
      'envelope names another key version': { sealed: [fmt, '2', nonce, body].join('.') },
      'huge key version': { sealed: [fmt, '999999999999999', nonce, body].join('.'), keyVersion: 999999 },
      'row names a key version that does not exist': { keyVersion: 7 },
      'both name a key version that does not exist': { sealed: [fmt, '7', nonce, body].join('.'), keyVersion: 7 },
      'plaintext stored as is': { sealed: target.value },
    };
    for (const [why, data] of Object.entries(forged)) {
      await db().secretValue.update({ where: { id: row.id }, data });
      try {
        await expectRefused(server, a.org, target, why);
      } finally {
        await db().secretValue.update({ where: { id: row.id }, data: { sealed: row.sealed, keyVersion: row.keyVersion } });
      }
    }
    await expectIntact(server, a);
  });

  it('a wrapped data key copied from another organization: a fresh instance (nothing cached) refuses every secret', async () => {
    const keyA = await db().organizationKey.findFirstOrThrow({ where: { organizationId: localOf(a.org.orgId) } });
    const keyB = await db().organizationKey.findFirstOrThrow({ where: { organizationId: localOf(b.org.orgId) } });
    const fresh = await startTestServer({ env: ENV, shareWith: server });
    try {
      await db().organizationKey.update({ where: { id: keyA.id }, data: { wrappedKey: keyB.wrappedKey } });
      for (const t of a.targets) await expectRefused(fresh, a.org, t, `B's data key in A (${t.label})`);
      await expectIntact(fresh, b);
    } finally {
      await db().organizationKey.update({ where: { id: keyA.id }, data: { wrappedKey: keyA.wrappedKey } });
      await fresh.stop();
    }
    await expectIntact(server, a);
  });
});
