import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtEntry } from '../support/process.ts';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { createTestDatabase, startTestServer, type TestDb, type TestServer } from '../support/harness.ts';
import { createOrg, unique, type OrgFixture } from '../support/fixtures.ts';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createDb, type Db } from '../../src/db/client.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { DecryptionError, masterKeyId, unwrapKey, wrappedKeyInfo, type MasterKey } from '../../src/lib/crypto/envelope.ts';
import { parseOtpSecret } from '../../src/lib/totp.ts';
import { SYSTEM_CHAIN } from '../../src/modules/audit/audit.chain.ts';
import { verifyChain } from '../../src/modules/audit/audit.service.ts';
import { Keyring } from '../../src/modules/keys/keyring.ts';
import { KeyRotationError, keyStatus, rekeyOrganization, rotateMasterKey } from '../../src/modules/keys/rotation.ts';

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateCredentialInput!) {
    createCredential(input: $input) {
      __typename
      ... on CreateCredentialPayload { credential { id apiKeys { id } } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const ROTATE = /* GraphQL */ `
  mutation Rotate($input: RotateCredentialInput!) {
    rotateCredential(input: $input) {
      __typename
      ... on RotateCredentialPayload { credential { currentVersion } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const REVEAL = /* GraphQL */ `
  mutation Reveal($input: RevealCredentialInput!) {
    revealCredential(input: $input) {
      __typename
      ... on RevealCredentialPayload { value }
      ... on Error { message }
    }
  }
`;

const localOf = (globalId: string) => decodeGlobalID(globalId).id;

function newMasterKey(): MasterKey & { text: string } {
  const key = randomBytes(32);
  return { key, id: masterKeyId(key), text: key.toString('base64') };
}

/** Every spelling a key could be printed in. */
const spellings = (key: Buffer) => [key.toString('base64'), key.toString('base64url'), key.toString('hex')];

/** An app on an existing database with the given environment; stop() leaves the database in place. */
async function startAppOn(db: TestDb, env: Record<string, string>): Promise<TestServer> {
  const config = loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', DATABASE_URL: db.url, LOG_LEVEL: 'debug', PASSWORD_HASH_PROFILE: 'test', ...env });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const clock = new ManualClock(new Date('2026-11-23T09:00:00Z'));
  const app = createApp(config, { clock, logger: createLogger(config.logLevel, sink) });
  const { port } = await app.start();
  const url = `http://127.0.0.1:${port}/graphql`;
  return {
    app,
    url,
    wsUrl: url.replace('http', 'ws'),
    clock,
    db,
    logs,
    queries: [],
    async gql(query, variables, auth = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (auth.token) headers.authorization = `Bearer ${auth.token}`;
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      return { ...((await res.json()) as object), status: res.status };
    },
    stop: () => app.stop(),
  };
}

// --- seeded credentials and what each reveal must return ---

type Reveal = { label: string; input: { id: string; field: string; version?: number; keyId?: string }; value: string };
type Seeded = { org: OrgFixture; orgId: string; credentialIds: string[]; reveals: Reveal[] };

async function createCredential(server: TestServer, org: OrgFixture, input: Record<string, unknown>) {
  const res = await server.gql(CREATE, { input: { organizationId: org.orgId, ...input } }, org.admin);
  const payload = res.data?.createCredential;
  if (payload?.__typename !== 'CreateCredentialPayload') throw new Error(`createCredential failed: ${JSON.stringify(res)}`);
  return payload.credential as { id: string; apiKeys: { id: string }[] };
}

async function rotatePassword(server: TestServer, org: OrgFixture, id: string, password: string) {
  const res = await server.gql(ROTATE, { input: { id, newSecret: { password }, reason: 'scheduled' } }, org.admin);
  if (res.data?.rotateCredential?.__typename !== 'RotateCredentialPayload') throw new Error(`rotateCredential failed: ${JSON.stringify(res)}`);
}

/**
 * An organization holding every kind of secret: a password with a TOTP seed in three versions, an SSH key with
 * a passphrase, and two API keys. Returns every reveal (current and old versions) with its expected value.
 */
async function seedOrg(server: TestServer, label: string): Promise<Seeded> {
  const org = await createOrg(server, label);
  const seed = 'JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP';
  const pw = [1, 2, 3].map((v) => `${unique(`${label}-pw-v${v}`)}!`);
  const password = await createCredential(server, org, { kind: 'PASSWORD', name: 'Domain admin', username: 'administrator', password: pw[0], otpSecret: seed });
  await rotatePassword(server, org, password.id, pw[1]);
  await rotatePassword(server, org, password.id, pw[2]);
  const { privateKey } = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const passphrase = unique(`${label}-passphrase`);
  const ssh = await createCredential(server, org, { kind: 'SSH_KEY', name: 'deploy', privateKey, passphrase });
  const apiSecrets = [unique(`${label}-api-a`), unique(`${label}-api-b`)];
  const api = await createCredential(server, org, {
    kind: 'API_KEY',
    name: 'Azure app',
    apiKeys: [
      { clientIdentifier: 'client-a', clientSecret: apiSecrets[0] },
      { clientIdentifier: 'client-b', clientSecret: apiSecrets[1] },
    ],
  });
  const reveals: Reveal[] = [
    { label: 'password v1', input: { id: password.id, field: 'PASSWORD', version: 1 }, value: pw[0] },
    { label: 'password v2', input: { id: password.id, field: 'PASSWORD', version: 2 }, value: pw[1] },
    { label: 'password current', input: { id: password.id, field: 'PASSWORD' }, value: pw[2] },
    { label: 'otp seed v1', input: { id: password.id, field: 'OTP_SECRET', version: 1 }, value: parseOtpSecret(seed).secretBase32 },
    { label: 'otp seed current', input: { id: password.id, field: 'OTP_SECRET' }, value: parseOtpSecret(seed).secretBase32 },
    { label: 'ssh key', input: { id: ssh.id, field: 'SSH_PRIVATE_KEY' }, value: privateKey },
    { label: 'passphrase', input: { id: ssh.id, field: 'PASSPHRASE' }, value: passphrase },
    { label: 'api key a', input: { id: api.id, field: 'API_KEY_SECRET', keyId: api.apiKeys[0].id }, value: apiSecrets[0] },
    { label: 'api key b', input: { id: api.id, field: 'API_KEY_SECRET', keyId: api.apiKeys[1].id }, value: apiSecrets[1] },
  ];
  return { org, orgId: localOf(org.orgId), credentialIds: [password.id, ssh.id, api.id].map(localOf), reveals };
}

/** Reveals each through the endpoint; returns label → value (or the failure), to compare in one assertion. */
async function revealAll(server: TestServer, seeded: Seeded): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const r of seeded.reveals) {
    const res = await server.gql(REVEAL, { input: r.input }, seeded.org.admin);
    out[r.label] = res.data?.revealCredential?.value ?? res;
  }
  return out;
}

const expectedOf = (seeded: Seeded) => Object.fromEntries(seeded.reveals.map((r) => [r.label, r.value]));

function secretRows(db: Db, organizationId: string) {
  return db.secretValue.findMany({ where: { credential: { organizationId } }, orderBy: { id: 'asc' } });
}

async function auditActions(db: Db, chain: string, prefix = 'key.') {
  const rows = await db.auditEvent.findMany({ where: { chain, action: { startsWith: prefix } }, orderBy: { seq: 'asc' } });
  return rows.map((r) => ({ action: r.action, organizationId: r.organizationId, actorUserId: r.actorUserId, actorApiKeyId: r.actorApiKeyId, targetId: r.targetId, data: JSON.parse(r.data) }));
}

/** A reveal that failed without saying why: masked, no stack, no crypto or database detail, no plaintext. */
function expectCleanFailure(res: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }, plaintexts: string[]) {
  // A typed refusal (the failure itself is audited as credential.decrypt_failed), never internals.
  expect(res.errors).toBeUndefined();
  expect((res.data as { revealCredential: { __typename: string } }).revealCredential.__typename).toBe('SecretUnavailableError');
  const text = JSON.stringify(res);
  expect(text).not.toMatch(/stack|Decryption|Prisma|aes|\.ts:\d+/i);
  for (const p of plaintexts) expect(text).not.toContain(p);
}

function flipByte(sealed: string): string {
  const parts = sealed.split('.');
  const body = Buffer.from(parts[3], 'base64url');
  body[0] ^= 0x01;
  parts[3] = body.toString('base64url');
  return parts.join('.');
}

// --- re-keying an organization ---

describe('keys: re-keying an organization', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('re-encrypts every secret of the organization under a new data key; every version still reveals; other organizations are untouched', async () => {
    const db = server.app.deps.db;
    const a = await seedOrg(server, 'rekey');
    const b = await seedOrg(server, 'rekey-other');
    const aBefore = await secretRows(db, a.orgId);
    const bBefore = await secretRows(db, b.orgId);
    const bKeysBefore = await db.organizationKey.findMany({ where: { organizationId: b.orgId }, orderBy: { version: 'asc' } });
    // Three password versions × (password + seed), SSH key + passphrase, two API keys.
    expect(aBefore).toHaveLength(10);
    expect(new Set(aBefore.map((r) => r.keyVersion))).toEqual(new Set([1]));

    const result = await rekeyOrganization(db, server.app.deps.keyring, a.orgId, { audit: { clock: server.clock } });
    expect(result).toEqual({ organizationId: a.orgId, toVersion: 2, created: true, fromVersions: [1], reencrypted: 10, skipped: 0, undecryptable: [], remaining: 0 });

    const aAfter = await secretRows(db, a.orgId);
    expect(aAfter.map((r) => r.id)).toEqual(aBefore.map((r) => r.id));
    expect(aAfter.map((r) => r.keyVersion)).toEqual(aBefore.map(() => 2));
    for (const [i, row] of aAfter.entries()) {
      expect(row.sealed).not.toBe(aBefore[i].sealed);
      expect(row.sealed.startsWith('v1.2.')).toBe(true);
    }
    expect(await db.organizationKey.count({ where: { organizationId: a.orgId } })).toBe(2);
    expect(await secretRows(db, b.orgId)).toEqual(bBefore);
    expect(await db.organizationKey.findMany({ where: { organizationId: b.orgId }, orderBy: { version: 'asc' } })).toEqual(bKeysBefore);

    expect(await revealAll(server, a)).toEqual(expectedOf(a));
    expect(await revealAll(server, b)).toEqual(expectedOf(b));
    // A process that has cached nothing reads the same from the database alone.
    const fresh = await startAppOn(server.db, { VAULTGATE_MASTER_KEY: server.app.deps.config.masterKey! });
    try {
      expect(await revealAll(fresh, a)).toEqual(expectedOf(a));
      expect(await revealAll(fresh, b)).toEqual(expectedOf(b));
    } finally {
      await fresh.stop();
    }

    // New secrets are sealed with the new version.
    const later = await createCredential(server, a.org, { kind: 'PASSWORD', name: 'later', password: 'after the re-key 123!' });
    expect((await db.secretValue.findMany({ where: { credentialId: localOf(later.id) } })).map((r) => r.keyVersion)).toEqual([2]);

    // Audited on the organization's own chain, which stays intact; nothing of it lands on another chain.
    expect(await auditActions(db, a.orgId)).toEqual([
      {
        action: 'key.rekey',
        organizationId: a.orgId,
        actorUserId: null,
        actorApiKeyId: null,
        targetId: a.orgId,
        data: { toVersion: 2, created: true, fromVersions: [1], reencrypted: 10, undecryptable: [], remaining: 0 },
      },
    ]);
    expect(await auditActions(db, b.orgId)).toEqual([]);
    expect((await verifyChain(db, a.orgId)).ok).toBe(true);

    // A second re-key moves on to v3; what v1 and v2 sealed is gone from the rows but every version reveals.
    const again = await rekeyOrganization(db, server.app.deps.keyring, a.orgId);
    expect(again).toMatchObject({ toVersion: 3, created: true, fromVersions: [2], reencrypted: 11, remaining: 0 });
    expect(await revealAll(server, a)).toEqual(expectedOf(a));
  });

  it('stops between batches when aborted, leaves every secret readable, and a re-run finishes the same version', async () => {
    const db = server.app.deps.db;
    const a = await seedOrg(server, 'abort');
    const total = (await secretRows(db, a.orgId)).length;
    const controller = new AbortController();
    const batches: number[] = [];
    const interrupted = rekeyOrganization(db, server.app.deps.keyring, a.orgId, {
      batchSize: 1,
      signal: controller.signal,
      audit: { clock: server.clock },
      onBatch: ({ done }) => {
        batches.push(done);
        controller.abort();
      },
    });
    await expect(interrupted).rejects.toMatchObject({ name: 'AbortError' });
    expect(batches).toEqual([1]);

    // A mixture: one row moved to v2, the rest still on v1, each readable under what it records.
    const mixed = await secretRows(db, a.orgId);
    expect(mixed.filter((r) => r.keyVersion === 2)).toHaveLength(1);
    expect(mixed.filter((r) => r.keyVersion === 1)).toHaveLength(total - 1);
    const status = (await keyStatus(db)).organizations.find((o) => o.organizationId === a.orgId);
    expect(status).toMatchObject({ currentVersion: 2, secretsOnOlderVersions: total - 1 });
    expect(status?.versions.map((v) => [v.version, v.secrets])).toEqual([
      [1, total - 1],
      [2, 1],
    ]);
    expect(await revealAll(server, a)).toEqual(expectedOf(a));
    const fresh = await startAppOn(server.db, { VAULTGATE_MASTER_KEY: server.app.deps.config.masterKey! });
    try {
      expect(await revealAll(fresh, a)).toEqual(expectedOf(a));
    } finally {
      await fresh.stop();
    }
    // Nothing is audited for a job that did not finish.
    expect(await auditActions(db, a.orgId)).toEqual([]);

    // Work goes on meanwhile: a rotation carries secrets read from v1 rows forward into v2 rows.
    const password = a.reveals.find((r) => r.label === 'password current')!;
    await rotatePassword(server, a.org, password.input.id, 'rotated while re-keying 42!');
    const v4 = await db.secretValue.findMany({ where: { credentialId: localOf(password.input.id), version: 4 } });
    expect(v4.map((r) => r.keyVersion)).toEqual([2, 2]);
    a.reveals.push({ label: 'password v4', input: { ...password.input }, value: 'rotated while re-keying 42!' });
    password.input.version = 3;

    const rerun = await rekeyOrganization(db, server.app.deps.keyring, a.orgId, { batchSize: 1, audit: { clock: server.clock } });
    expect(rerun).toMatchObject({ toVersion: 2, created: false, fromVersions: [1], reencrypted: total - 1, remaining: 0, undecryptable: [] });
    expect(new Set((await secretRows(db, a.orgId)).map((r) => r.keyVersion))).toEqual(new Set([2]));
    expect(await db.organizationKey.count({ where: { organizationId: a.orgId } })).toBe(2);
    expect(await revealAll(server, a)).toEqual(expectedOf(a));
    expect((await auditActions(db, a.orgId)).map((e) => [e.action, e.data.toVersion, e.data.created, e.data.reencrypted])).toEqual([['key.rekey', 2, false, total - 1]]);
  });

  it('refuses an unknown organization, a bad batch size and an already stopped job, changing nothing', async () => {
    const db = server.app.deps.db;
    await expect(rekeyOrganization(db, server.app.deps.keyring, '00000000-0000-0000-0000-000000000000')).rejects.toBeInstanceOf(KeyRotationError);
    const a = await seedOrg(server, 'batch');
    await expect(rekeyOrganization(db, server.app.deps.keyring, a.orgId, { batchSize: 0 })).rejects.toBeInstanceOf(RangeError);
    // A job stopped before it starts (Ctrl-C during `--all`) adds no data-key version to the organizations it skips.
    const stopped = new AbortController();
    stopped.abort();
    await expect(rekeyOrganization(db, server.app.deps.keyring, a.orgId, { signal: stopped.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(await db.organizationKey.count({ where: { organizationId: a.orgId } })).toBe(1);
    expect(new Set((await secretRows(db, a.orgId)).map((r) => r.keyVersion))).toEqual(new Set([1]));
  });
});

// --- swapped and tampered ciphertexts ---

describe('keys: swapped and tampered secrets', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses a ciphertext moved to another credential, version, field or organization, or with a flipped byte, through reveal', async () => {
    const db = server.app.deps.db;
    const a = await seedOrg(server, 'tamper');
    const other = await seedOrg(server, 'tamper-other');
    const plaintexts = [...a.reveals, ...other.reveals].map((r) => r.value);
    const byLabel = (s: Seeded, label: string) => s.reveals.find((r) => r.label === label)!;
    const rowOf = async (s: Seeded, label: string) => {
      const { input } = byLabel(s, label);
      const credentialId = localOf(input.id);
      const credential = await db.credential.findUniqueOrThrow({ where: { id: credentialId } });
      const stored = input.field === 'OTP_SECRET' ? 'OTP_SECRET' : input.field;
      const keyRef = input.keyId ? localOf(input.keyId) : '';
      return db.secretValue.findUniqueOrThrow({
        where: { credentialId_version_field_keyRef: { credentialId, version: input.version ?? credential.currentVersion, field: stored, keyRef } },
      });
    };

    const cases: { name: string; target: string; sealed: () => Promise<string> }[] = [
      { name: 'another credential', target: 'password current', sealed: async () => (await rowOf(a, 'passphrase')).sealed },
      { name: 'another version', target: 'password current', sealed: async () => (await rowOf(a, 'password v1')).sealed },
      { name: 'another field', target: 'ssh key', sealed: async () => (await rowOf(a, 'passphrase')).sealed },
      { name: 'another API key', target: 'api key a', sealed: async () => (await rowOf(a, 'api key b')).sealed },
      { name: 'another organization', target: 'password current', sealed: async () => (await rowOf(other, 'password current')).sealed },
      { name: 'a flipped byte', target: 'password current', sealed: async () => flipByte((await rowOf(a, 'password current')).sealed) },
    ];
    for (const c of cases) {
      const target = byLabel(a, c.target);
      const row = await rowOf(a, c.target);
      const sealed = await c.sealed();
      expect(sealed, c.name).not.toBe(row.sealed);
      const recordsBefore = await db.accessRecord.count();
      await db.secretValue.update({ where: { id: row.id }, data: { sealed } });
      try {
        const res = await server.gql(REVEAL, { input: target.input }, a.org.admin);
        expectCleanFailure(res, plaintexts);
      } finally {
        await db.secretValue.update({ where: { id: row.id }, data: { sealed: row.sealed } });
      }
      // Nothing was recorded as revealed, and the restored row reads again (so it was the change that failed).
      expect(await db.accessRecord.count(), c.name).toBe(recordsBefore);
      const restored = await server.gql(REVEAL, { input: target.input }, a.org.admin);
      expect(restored.data.revealCredential.value, c.name).toBe(target.value);
    }

    // The recorded data-key version is part of what is authenticated, too.
    await rekeyOrganization(db, server.app.deps.keyring, other.orgId);
    const row = await rowOf(other, 'password current');
    await db.secretValue.update({ where: { id: row.id }, data: { keyVersion: 1 } });
    const failedBefore = await db.auditEvent.count({ where: { action: 'credential.decrypt_failed', targetId: row.credentialId } });
    expectCleanFailure(await server.gql(REVEAL, { input: byLabel(other, 'password current').input }, other.org.admin), plaintexts);
    expect(await db.auditEvent.count({ where: { action: 'credential.decrypt_failed', targetId: row.credentialId } })).toBe(failedBefore + 1);
    await db.secretValue.update({ where: { id: row.id }, data: { keyVersion: 2 } });
    expect(await revealAll(server, other)).toEqual(expectedOf(other));
  });

  it('a re-key leaves a tampered secret as it is and reports it; once restored, a re-run finishes', async () => {
    const db = server.app.deps.db;
    const a = await seedOrg(server, 'tamper-rekey');
    const rows = await secretRows(db, a.orgId);
    const victim = rows[3];
    await db.secretValue.update({ where: { id: victim.id }, data: { sealed: flipByte(victim.sealed) } });

    const first = await rekeyOrganization(db, server.app.deps.keyring, a.orgId, { batchSize: 2, audit: { clock: server.clock } });
    expect(first).toMatchObject({
      toVersion: 2,
      created: true,
      reencrypted: rows.length - 1,
      undecryptable: [{ secretValueId: victim.id, credentialId: victim.credentialId, keyVersion: 1 }],
      remaining: 1,
    });
    const left = await db.secretValue.findUniqueOrThrow({ where: { id: victim.id } });
    expect(left).toEqual({ ...victim, sealed: flipByte(victim.sealed) });
    expect((await auditActions(db, a.orgId))[0].data).toMatchObject({ undecryptable: [victim.id], remaining: 1 });

    await db.secretValue.update({ where: { id: victim.id }, data: { sealed: victim.sealed } });
    const second = await rekeyOrganization(db, server.app.deps.keyring, a.orgId);
    expect(second).toMatchObject({ toVersion: 2, created: false, reencrypted: 1, undecryptable: [], remaining: 0 });
    expect(await revealAll(server, a)).toEqual(expectedOf(a));
  });
});

// --- master key rotation ---

describe('keys: rotating the master key', () => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('rewraps every data key, resumes after an interruption, and leaves the data readable only under the new key', async () => {
    const oldKey = newMasterKey();
    const newKey = newMasterKey();
    const before = await startAppOn(tdb, { VAULTGATE_MASTER_KEY: oldKey.text });
    let orgs: Seeded[];
    try {
      orgs = [await seedOrg(before, 'master-a'), await seedOrg(before, 'master-b'), await seedOrg(before, 'master-c')];
      // A second data-key version in one organization: both versions must be rewrapped.
      await rekeyOrganization(before.app.deps.db, before.app.deps.keyring, orgs[0].orgId, { batchSize: 3 });
      const late = await createCredential(before, orgs[0].org, { kind: 'PASSWORD', name: 'after re-key', password: 'sealed under v2 only!' });
      orgs[0].reveals.push({ label: 'late', input: { id: late.id, field: 'PASSWORD' }, value: 'sealed under v2 only!' });
      expect(await revealAll(before, orgs[0])).toEqual(expectedOf(orgs[0]));
    } finally {
      await before.stop();
    }

    const db = createDb(tdb.url);
    try {
      const allKeys = () => db.organizationKey.findMany({ orderBy: { id: 'asc' } });
      const original = await allKeys();
      const total = original.length;
      expect(total).toBeGreaterThanOrEqual(4);
      expect(new Set(original.map((k) => k.masterKeyId))).toEqual(new Set([oldKey.id]));
      const secretsBefore = await db.secretValue.findMany({ orderBy: { id: 'asc' } });

      // The wrong "current" key is refused before anything changes.
      const stranger = newMasterKey();
      await expect(rotateMasterKey(db, { from: stranger, to: newKey })).rejects.toBeInstanceOf(KeyRotationError);
      await expect(rotateMasterKey(db, { from: oldKey, to: oldKey })).rejects.toBeInstanceOf(KeyRotationError);
      expect(await allKeys()).toEqual(original);

      const controller = new AbortController();
      const interrupted = rotateMasterKey(db, {
        from: oldKey,
        to: newKey,
        batchSize: 1,
        signal: controller.signal,
        audit: { clock: new ManualClock(new Date('2026-11-24T09:00:00Z')) },
        onBatch: () => controller.abort(),
      });
      await expect(interrupted).rejects.toMatchObject({ name: 'AbortError' });

      // Part-way: each row says which master key wraps it, and opens under exactly that one.
      const midway = await allKeys();
      expect(midway.filter((k) => k.masterKeyId === newKey.id)).toHaveLength(1);
      expect(midway.filter((k) => k.masterKeyId === oldKey.id)).toHaveLength(total - 1);
      const keyById = new Map([oldKey, newKey].map((k) => [k.id, k.key]));
      const otherKey = new Map([[oldKey.id, newKey.key], [newKey.id, oldKey.key]]);
      for (const k of midway) {
        const ctx = { organizationId: k.organizationId, keyVersion: k.version, masterKeyId: k.masterKeyId };
        expect(wrappedKeyInfo(k.wrappedKey)).toEqual({ masterKeyId: k.masterKeyId, keyVersion: k.version });
        const dataKey = unwrapKey(keyById.get(k.masterKeyId)!, k.wrappedKey, ctx);
        const originalRow = original.find((o) => o.id === k.id)!;
        expect(dataKey.equals(unwrapKey(oldKey.key, originalRow.wrappedKey, { ...ctx, masterKeyId: oldKey.id }))).toBe(true);
        expect(() => unwrapKey(otherKey.get(k.masterKeyId)!, k.wrappedKey, ctx)).toThrow(DecryptionError);
      }
      expect(await db.auditEvent.count({ where: { action: 'key.rotate_master' } })).toBe(0);
      // Re-keying waits for the rotation to finish instead of sealing under a half-rotated key set.
      const mixedOrg = orgs.find((o) => midway.some((k) => k.organizationId === o.orgId && k.masterKeyId === newKey.id))!;
      await expect(rekeyOrganization(db, new Keyring(oldKey), mixedOrg.orgId)).rejects.toBeInstanceOf(KeyRotationError);

      const rerun = await rotateMasterKey(db, { from: oldKey, to: newKey, batchSize: 2, audit: { clock: new ManualClock(new Date('2026-11-24T09:05:00Z')) } });
      expect(rerun).toEqual({ fromMasterKeyId: oldKey.id, toMasterKeyId: newKey.id, total, rewrapped: total - 1, alreadyRotated: 1, skipped: 0 });
      const after = await allKeys();
      expect(after.map((k) => k.masterKeyId)).toEqual(after.map(() => newKey.id));
      expect(after.map((k) => [k.id, k.organizationId, k.version])).toEqual(original.map((k) => [k.id, k.organizationId, k.version]));
      for (const k of after) {
        expect(() => unwrapKey(oldKey.key, k.wrappedKey, { organizationId: k.organizationId, keyVersion: k.version, masterKeyId: oldKey.id })).toThrow(DecryptionError);
        expect(() => unwrapKey(oldKey.key, k.wrappedKey, { organizationId: k.organizationId, keyVersion: k.version, masterKeyId: newKey.id })).toThrow(DecryptionError);
      }
      // No secret needed re-encrypting.
      expect(await db.secretValue.findMany({ orderBy: { id: 'asc' } })).toEqual(secretsBefore);
      expect(await auditActions(db, SYSTEM_CHAIN)).toEqual([
        {
          action: 'key.rotate_master',
          organizationId: null,
          actorUserId: null,
          actorApiKeyId: null,
          targetId: null,
          data: { fromMasterKeyId: oldKey.id, toMasterKeyId: newKey.id, total, rewrapped: total - 1, alreadyRotated: 1, skipped: 0 },
        },
      ]);
      expect((await verifyChain(db, SYSTEM_CHAIN)).ok).toBe(true);
      // Running it again finds nothing left to do.
      expect(await rotateMasterKey(db, { from: oldKey, to: newKey })).toMatchObject({ rewrapped: 0, alreadyRotated: total });
    } finally {
      await db.$disconnect();
    }

    // A server with only the new key reveals everything, old versions included.
    const withNew = await startAppOn(tdb, { VAULTGATE_MASTER_KEY: newKey.text });
    try {
      for (const o of orgs) expect(await revealAll(withNew, o)).toEqual(expectedOf(o));
      const logs = withNew.logs.join('');
      for (const k of [oldKey, newKey]) for (const s of spellings(k.key)) expect(logs).not.toContain(s);
    } finally {
      await withNew.stop();
    }

    // A server still holding the old key cannot open any data key: reveals fail cleanly and record nothing.
    const withOld = await startAppOn(tdb, { VAULTGATE_MASTER_KEY: oldKey.text });
    try {
      const records = await withOld.app.deps.db.accessRecord.count();
      const plaintexts = orgs.flatMap((o) => o.reveals.map((r) => r.value));
      for (const o of orgs) {
        const res = await withOld.gql(REVEAL, { input: o.reveals[0].input }, o.org.admin);
        expectCleanFailure(res, plaintexts);
      }
      expect(await withOld.app.deps.db.accessRecord.count()).toBe(records);
      const logs = withOld.logs.join('');
      for (const p of plaintexts) expect(logs).not.toContain(p);
    } finally {
      await withOld.stop();
    }
  });
});

// --- the operator commands ---

describe('keys: npm run vaultgate -- keys …', () => {
  let tdb: TestDb;
  let dir: string;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'vaultgate-keys-'));
  });
  afterAll(async () => {
    await tdb?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const outputs: string[] = [];
  function runCli(args: string[], keyFile: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [builtEntry('cli'), ...args], {
        // No VAULTGATE_MASTER_KEY: the key file is the only source (an empty value counts as unset).
        env: { ...process.env, DATABASE_URL: tdb.url, LOG_LEVEL: 'warn', VAULTGATE_MASTER_KEY: '', VAULTGATE_MASTER_KEY_FILE: keyFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => {
        outputs.push(stdout, stderr);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });
  }
  const modeOf = (path: string) => statSync(path).mode & 0o777;
  const keyIn = (path: string) => masterKeyId(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64'));

  it('shows status, re-keys one organization and rotates the master key in the key file, never printing a key', async () => {
    const keyFile = join(dir, 'master.key');
    const oldKey = newMasterKey();
    writeFileSync(keyFile, `${oldKey.text}\n`, { mode: 0o600 });
    chmodSync(keyFile, 0o600);

    const seeding = await startAppOn(tdb, { VAULTGATE_MASTER_KEY_FILE: keyFile });
    let a: Seeded;
    let b: Seeded;
    try {
      a = await seedOrg(seeding, 'cli-a');
      b = await seedOrg(seeding, 'cli-b');
    } finally {
      await seeding.stop();
    }
    const db = createDb(tdb.url);
    try {
      const aName = (await db.organization.findUniqueOrThrow({ where: { id: a.orgId } })).name;

      const status = await runCli(['keys', 'status'], keyFile);
      expect(status.stderr).toBe('');
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(`master key in use: ${oldKey.id} (from key file ${keyFile})`);
      expect(status.stdout).toContain(`2 data key(s) wrapped by master key ${oldKey.id}\n`);
      expect(status.stdout).toContain(`organization ${JSON.stringify(aName)} (${a.orgId}): current data key v1\n  v1  master key ${oldKey.id}  10 secret(s)\n`);
      expect(status.stdout).not.toContain('not the key in use');

      // A key file others can read is refused, and nothing is changed.
      chmodSync(keyFile, 0o644);
      const loose = await runCli(['keys', 'rekey-org', '--org', a.orgId], keyFile);
      expect(loose.code).toBe(1);
      expect(loose.stderr).toContain(`restrict it with: chmod 600 ${keyFile}`);
      expect(await db.organizationKey.count({ where: { organizationId: a.orgId } })).toBe(1);
      chmodSync(keyFile, 0o600);

      const rekey = await runCli(['keys', 'rekey-org', '--org', a.orgId, '--batch-size', '3'], keyFile);
      expect(rekey.stderr).toBe('');
      expect(rekey.code).toBe(0);
      expect(rekey.stdout).toContain(`organization ${JSON.stringify(aName)} (${a.orgId}): data key v2 created; 10 secret(s) re-encrypted from v1; 0 left on older versions`);
      expect(new Set((await secretRows(db, a.orgId)).map((r) => r.keyVersion))).toEqual(new Set([2]));
      expect(new Set((await secretRows(db, b.orgId)).map((r) => r.keyVersion))).toEqual(new Set([1]));
      expect((await auditActions(db, a.orgId)).map((e) => [e.action, e.actorUserId, e.data.toVersion])).toEqual([['key.rekey', null, 2]]);

      const newKeyFile = join(dir, 'incoming', 'new.key');
      const rotate = await runCli(['keys', 'rotate-master', '--new-key-file', newKeyFile, '--generate', '--batch-size', '1'], keyFile);
      expect(rotate.stderr).toBe('');
      expect(rotate.code).toBe(0);
      expect(modeOf(newKeyFile)).toBe(0o600);
      const newId = keyIn(newKeyFile);
      expect(newId).not.toBe(oldKey.id);
      expect(rotate.stdout).toContain(`generated a new master key ${newId} in ${newKeyFile} (mode 0600)`);
      expect(rotate.stdout).toContain(`rotated the master key ${oldKey.id} -> ${newId}: 3 data key(s) rewrapped`);
      // The configured key file now holds the new key; the old one is kept beside it, also 0600.
      expect(keyIn(keyFile)).toBe(newId);
      expect(modeOf(keyFile)).toBe(0o600);
      const backup = `${keyFile}.old-${oldKey.id}`;
      expect(keyIn(backup)).toBe(oldKey.id);
      expect(modeOf(backup)).toBe(0o600);
      expect(new Set((await db.organizationKey.findMany()).map((k) => k.masterKeyId))).toEqual(new Set([newId]));
      expect((await auditActions(db, SYSTEM_CHAIN)).map((e) => [e.action, e.data.fromMasterKeyId, e.data.toMasterKeyId, e.data.rewrapped])).toEqual([
        ['key.rotate_master', oldKey.id, newId, 3],
      ]);

      const after = await runCli(['keys', 'status'], keyFile);
      expect(after.code).toBe(0);
      expect(after.stdout).toContain(`master key in use: ${newId} (from key file ${keyFile})`);
      expect(after.stdout).toContain(`3 data key(s) wrapped by master key ${newId}\n`);
      expect(after.stdout).not.toContain('not the key in use');

      // The key material never appeared in any output.
      const newKey = Buffer.from(readFileSync(newKeyFile, 'utf8').trim(), 'base64');
      const printed = outputs.join('\n');
      for (const s of [...spellings(oldKey.key), ...spellings(newKey)]) expect(printed).not.toContain(s);
    } finally {
      await db.$disconnect();
    }

    // A server reading the (rotated) key file reveals everything.
    const server = await startAppOn(tdb, { VAULTGATE_MASTER_KEY_FILE: keyFile });
    try {
      expect(await revealAll(server, a)).toEqual(expectedOf(a));
      expect(await revealAll(server, b)).toEqual(expectedOf(b));
    } finally {
      await server.stop();
    }
  });

  it('refuses a key on the command line, a bad batch size and a missing key file without --generate', async () => {
    const keyFile = join(dir, 'master.key');
    const tooLarge = await runCli(['keys', 'rekey-org', '--all', '--batch-size', '20000'], keyFile);
    expect(tooLarge).toMatchObject({ code: 2, stderr: '--batch-size must be a whole number from 1 to 10000.\n' });
    const onArgv = await runCli(['keys', 'rotate-master', '--new-key', randomBytes(32).toString('base64')], keyFile);
    expect(onArgv.code).toBe(2);
    expect(onArgv.stderr).toContain('refused: a key on the command line');
    const missing = join(dir, 'missing.key');
    const noGenerate = await runCli(['keys', 'rotate-master', '--new-key-file', missing], keyFile);
    expect(noGenerate.code).toBe(1);
    expect(noGenerate.stderr).toContain('pass --generate');
    expect(() => statSync(missing)).toThrow();
  });
});
