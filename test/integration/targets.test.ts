// Password change on the target (docs/targets.md), on real protocols over loopback: the SSH connector against the
// stand-in server (test/support/sshTarget.ts), the GraphQL mutations through the real endpoint, the
// changeOnTargetAfterCheckIn policy end to end, and the PostgreSQL connector against the machine's PostgreSQL with
// a throwaway role.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { startSshTarget, type SshTarget } from '../support/sshTarget.ts';
import { createOrg, type OrgFixture } from '../support/fixtures.ts';
import { APPROVE, CREATE_CREDENTIAL, REVEAL, SECRET, restrictedWorld } from '../adversarial/support.ts';
import { sshConnector } from '../../src/modules/target/ssh.connector.ts';
import { postgresConnector, quoteIdentifier, quoteLiteral } from '../../src/modules/target/postgres.connector.ts';
import type { TargetConfig } from '../../src/modules/target/connector.ts';

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' };

const gql = {
  createAsset: /* GraphQL */ `mutation($input: CreateAssetInput!) { createAsset(input: $input) { __typename ... on CreateAssetPayload { asset { id } } ... on Error { message } } }`,
  link: /* GraphQL */ `mutation($input: SetCredentialAssetInput!) { setCredentialAsset(input: $input) { __typename ... on Error { message } } }`,
  check: /* GraphQL */ `mutation($input: CheckCredentialInput!) { checkCredential(input: $input) { __typename ... on CheckCredentialPayload { credential { currentVersion targetStatus targetCheckedAt targetChangePending } } ... on TargetOperationError { reason } ... on Error { message } } }`,
  change: /* GraphQL */ `mutation($input: ChangeCredentialOnTargetInput!) { changeCredentialOnTarget(input: $input) { __typename ... on ChangeCredentialOnTargetPayload { credential { currentVersion targetStatus targetChangePending } } ... on TargetOperationError { reason } ... on Error { message } } }`,
  credential: /* GraphQL */ `query($id: ID!) { node(id: $id) { ... on Credential { currentVersion targetStatus targetChangePending } } }`,
  request: /* GraphQL */ `mutation($input: RequestAccessInput!) { requestAccess(input: $input) { __typename ... on RequestAccessPayload { accessRequest { id state } } ... on Error { message } } }`,
  checkIn: /* GraphQL */ `mutation($input: CheckInAccessRequestInput!) { checkInAccessRequest(input: $input) { __typename ... on CheckInAccessRequestPayload { accessRequest { state } } ... on Error { message } } }`,
  audit: /* GraphQL */ `query($id: ID!) { auditEvents(filter: { organizationId: $id, actionPrefix: "target." }, first: 100) { edges { node { action data } } } }`,
};

let server: TestServer;
let target: SshTarget;
const PASSWORD = 'Initial-Target-Pass-1!';
beforeAll(async () => {
  target = await startSshTarget({ username: 'root', password: PASSWORD });
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
  await target?.close();
});

const sshConfig = (fingerprint = target.fingerprint): TargetConfig => ({ protocol: 'SSH', host: '127.0.0.1', port: target.port, hostKeyFingerprint: fingerprint });
const WRONG_FINGERPRINT = `SHA256:${'A'.repeat(43)}`;
const opens = async (password: string) => (await sshConnector.verify(sshConfig(), { username: 'root' }, password)).ok;

/** An ordinary credential (admin can reveal it) that is the target's `root` account, with the target's password now. */
async function accountOnTarget(org: OrgFixture, label: string, fingerprint = target.fingerprint): Promise<string> {
  const created = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: `root ${label}`, username: 'root', password: target.password() } }, org.admin);
  const credentialId = created.data.createCredential.credential.id as string;
  await linkToTarget(org, credentialId, label, fingerprint);
  return credentialId;
}

async function linkToTarget(org: OrgFixture, credentialId: string, label: string, fingerprint = target.fingerprint) {
  const asset = await server.gql(gql.createAsset, { input: { organizationId: org.orgId, name: `target ${label}`, host: '127.0.0.1', port: target.port, hostKeyFingerprint: fingerprint } }, org.admin);
  const linked = await server.gql(gql.link, { input: { credentialId, assetId: asset.data.createAsset.asset.id } }, org.admin);
  expect(linked.data.setCredentialAsset.__typename).toBe('SetCredentialAssetPayload');
}

const reveal = async (org: OrgFixture, id: string) => (await server.gql(REVEAL, { input: { id, field: 'PASSWORD' } }, org.admin)).data.revealCredential.value as string;

async function targetAudit(org: OrgFixture) {
  const res = await server.gql(gql.audit, { id: org.orgId }, org.admin);
  return res.data.auditEvents.edges.map((e: { node: { action: string; data: string } }) => ({ action: e.node.action, data: e.node.data }));
}

describe('SSH connector (stand-in server)', () => {
  it('verifies a password the target accepts and refuses one it does not', async () => {
    expect(await sshConnector.verify(sshConfig(), { username: 'root' }, target.password())).toEqual({ ok: true });
    expect(await sshConnector.verify(sshConfig(), { username: 'root' }, 'not-the-password')).toMatchObject({ ok: false, reason: 'AUTH_REJECTED' });
  });

  it('refuses a host whose key does not match the pinned fingerprint, sending no password', async () => {
    const before = target.logins.length;
    expect(await sshConnector.verify(sshConfig(WRONG_FINGERPRINT), { username: 'root' }, target.password())).toMatchObject({ ok: false, reason: 'HOST_KEY_MISMATCH' });
    expect(await sshConnector.change(sshConfig(WRONG_FINGERPRINT), { username: 'root' }, target.password(), 'Other-Pass-9!')).toMatchObject({ ok: false, reason: 'HOST_KEY_MISMATCH' });
    expect(target.logins.length).toBe(before);
  });

  it('changes the password: the old one is refused afterwards and the new one accepted', async () => {
    const old = target.password();
    const next = `Changed-${randomBytes(6).toString('hex')}:with:colons`;
    expect(await sshConnector.change(sshConfig(), { username: 'root' }, old, next)).toEqual({ ok: true });
    expect(await opens(old)).toBe(false);
    expect(await opens(next)).toBe(true);
    // and back, so the other tests start from a known password
    expect(await sshConnector.change(sshConfig(), { username: 'root' }, next, old)).toEqual({ ok: true });
  });

  it('reports a refused change, and refuses secrets with control characters before connecting', async () => {
    target.failChanges = true;
    try {
      expect(await sshConnector.change(sshConfig(), { username: 'root' }, target.password(), 'Whatever-1!')).toMatchObject({ ok: false, reason: 'CHANGE_REJECTED' });
    } finally {
      target.failChanges = false;
    }
    expect(await sshConnector.change(sshConfig(), { username: 'root' }, target.password(), 'two\nlines')).toMatchObject({ ok: false, reason: 'UNSUPPORTED_SECRET' });
    expect(await sshConnector.change(sshConfig(), { username: 'root' }, 'wrong', 'Whatever-1!')).toMatchObject({ ok: false, reason: 'AUTH_REJECTED' });
  });
});

describe('checkCredential and changeCredentialOnTarget (GraphQL)', () => {
  it('check flags OK, then DRIFT once the password was changed outside vaultgate', async () => {
    const org = await createOrg(server, 'target-check');
    const id = await accountOnTarget(org, 'check');
    const ok = await server.gql(gql.check, { input: { id } }, org.admin);
    expect(ok.data.checkCredential).toMatchObject({ __typename: 'CheckCredentialPayload', credential: { targetStatus: 'OK' } });
    const old = target.password();
    const outside = 'Changed-Outside-7!';
    expect((await sshConnector.change(sshConfig(), { username: 'root' }, old, outside)).ok).toBe(true);
    try {
      const drift = await server.gql(gql.check, { input: { id } }, org.admin);
      expect(drift.data.checkCredential).toMatchObject({ __typename: 'CheckCredentialPayload', credential: { targetStatus: 'DRIFT' } });
    } finally {
      await sshConnector.change(sshConfig(), { username: 'root' }, outside, old);
    }
    expect((await targetAudit(org)).map((e: { action: string }) => e.action)).toEqual(['target.drift', 'target.check_ok']);
  });

  it('a pinned key the host does not present: TargetOperationError HOST_KEY_MISMATCH, status unchanged', async () => {
    const org = await createOrg(server, 'target-mismatch');
    const id = await accountOnTarget(org, 'mismatch', WRONG_FINGERPRINT);
    for (const op of [gql.check, gql.change]) {
      const res = await server.gql(op, { input: { id } }, org.admin);
      expect(Object.values(res.data)[0]).toMatchObject({ __typename: 'TargetOperationError', reason: 'HOST_KEY_MISMATCH' });
    }
    const now = await server.gql(gql.credential, { id }, org.admin);
    expect(now.data.node).toMatchObject({ currentVersion: 1, targetChangePending: false });
  });

  it('a failed change keeps the old secret current; a successful one promotes the new version, audited without secrets', async () => {
    const org = await createOrg(server, 'target-change');
    const id = await accountOnTarget(org, 'change');
    const old = target.password();

    target.failChanges = true;
    try {
      const failed = await server.gql(gql.change, { input: { id } }, org.admin);
      expect(failed.data.changeCredentialOnTarget).toMatchObject({ __typename: 'TargetOperationError', reason: 'CHANGE_REJECTED' });
    } finally {
      target.failChanges = false;
    }
    const after = await server.gql(gql.credential, { id }, org.admin);
    expect(after.data.node).toMatchObject({ currentVersion: 1, targetStatus: 'CHANGE_FAILED', targetChangePending: false });
    expect(await reveal(org, id)).toBe(old);
    expect(await opens(old)).toBe(true);

    const changed = await server.gql(gql.change, { input: { id } }, org.admin);
    expect(changed.data.changeCredentialOnTarget).toMatchObject({ __typename: 'ChangeCredentialOnTargetPayload', credential: { currentVersion: 2, targetStatus: 'OK', targetChangePending: false } });
    const current = await reveal(org, id);
    expect(current).not.toBe(old);
    expect(target.password()).toBe(current);
    expect(await opens(old)).toBe(false);
    expect(await opens(current)).toBe(true);

    const audit = await targetAudit(org);
    expect(audit.map((e: { action: string }) => e.action)).toEqual(['target.change_succeeded', 'target.change_failed']);
    for (const e of audit) {
      expect(e.data).not.toContain(old);
      expect(e.data).not.toContain(current);
    }
    // Restore the stand-in's password for the other tests.
    expect((await sshConnector.change(sshConfig(), { username: 'root' }, current, old)).ok).toBe(true);
  });

  it('a change the target took but whose verification failed stays pending, and the next attempt promotes it', async () => {
    const org = await createOrg(server, 'target-pending');
    const id = await accountOnTarget(org, 'pending');
    const old = target.password();
    target.refuseLoginsAfterChange = 1;
    try {
      const failed = await server.gql(gql.change, { input: { id } }, org.admin);
      expect(failed.data.changeCredentialOnTarget).toMatchObject({ __typename: 'TargetOperationError', reason: 'AUTH_REJECTED' });
    } finally {
      target.refuseLoginsAfterChange = 0;
    }
    // The target holds the new password now; the vault keeps it as pending, the old version stays current.
    const taken = target.password();
    expect(taken).not.toBe(old);
    expect((await server.gql(gql.credential, { id }, org.admin)).data.node).toMatchObject({ currentVersion: 1, targetStatus: 'CHANGE_FAILED', targetChangePending: true });
    expect(await reveal(org, id)).toBe(old);
    const version2 = await server.gql(REVEAL, { input: { id, field: 'PASSWORD', version: 2 } }, org.admin);
    expect(version2.data.revealCredential.__typename).toBe('FieldNotAvailableError');
    const rotate = await server.gql(`mutation($input: RotateCredentialInput!) { rotateCredential(input: $input) { __typename } }`, { input: { id, reason: 'manual', generate: {} } }, org.admin);
    expect(rotate.data.rotateCredential.__typename).toBe('ValidationError');

    const recovered = await server.gql(gql.change, { input: { id } }, org.admin);
    expect(recovered.data.changeCredentialOnTarget).toMatchObject({ __typename: 'ChangeCredentialOnTargetPayload', credential: { currentVersion: 2, targetStatus: 'OK', targetChangePending: false } });
    expect(await reveal(org, id)).toBe(taken);
    expect(target.password()).toBe(taken);
    const audit = await targetAudit(org);
    expect(audit.map((e: { action: string }) => e.action)).toEqual(['target.change_succeeded', 'target.change_failed']);
    expect(JSON.parse(audit[0].data)).toMatchObject({ recovered: true });
    expect(JSON.parse(audit[1].data)).toMatchObject({ stage: 'verify', pendingKept: true });
    expect((await sshConnector.change(sshConfig(), { username: 'root' }, taken, old)).ok).toBe(true);
  });

  it('a change whose outcome is unknown (connection lost after sending it) keeps the new password pending, and it is recovered', async () => {
    const org = await createOrg(server, 'target-unconfirmed');
    const id = await accountOnTarget(org, 'unconfirmed');
    const old = target.password();
    target.dropAfterChange = true;
    try {
      const res = await server.gql(gql.change, { input: { id } }, org.admin);
      expect(res.data.changeCredentialOnTarget).toMatchObject({ __typename: 'TargetOperationError', reason: 'CHANGE_UNCONFIRMED' });
    } finally {
      target.dropAfterChange = false;
    }
    const taken = target.password();
    expect(taken).not.toBe(old);
    expect((await server.gql(gql.credential, { id }, org.admin)).data.node).toMatchObject({ currentVersion: 1, targetChangePending: true });
    const recovered = await server.gql(gql.change, { input: { id } }, org.admin);
    expect(recovered.data.changeCredentialOnTarget).toMatchObject({ credential: { currentVersion: 2, targetStatus: 'OK', targetChangePending: false } });
    expect(await reveal(org, id)).toBe(taken);
    expect((await sshConnector.change(sshConfig(), { username: 'root' }, taken, old)).ok).toBe(true);
  });

  it('is for ADMIN and MANAGER: a MEMBER is refused like a missing id', async () => {
    const w = await restrictedWorld(server, 'target-auth');
    const res = await server.gql(gql.change, { input: { id: w.credentialId } }, w.requester);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('the scheduled drift check (TARGET_CHECK_INTERVAL_HOURS)', () => {
  it('checks each password with a target once per interval, and flags a password changed outside vaultgate', async () => {
    const checking = await startTestServer({ env: { TARGET_CHECK_INTERVAL_HOURS: '1' } });
    try {
      const org = await createOrg(checking, 'target-scheduled');
      const created = await checking.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'root scheduled', username: 'root', password: target.password() } }, org.admin);
      const id = created.data.createCredential.credential.id as string;
      const asset = await checking.gql(gql.createAsset, { input: { organizationId: org.orgId, name: 'target scheduled', host: '127.0.0.1', port: target.port, hostKeyFingerprint: target.fingerprint } }, org.admin);
      await checking.gql(gql.link, { input: { credentialId: id, assetId: asset.data.createAsset.asset.id } }, org.admin);
      const status = async () => (await checking.gql(gql.credential, { id }, org.admin)).data.node.targetStatus;
      const actions = async () => ((await checking.gql(gql.audit, { id: org.orgId }, org.admin)).data.auditEvents.edges as { node: { action: string } }[]).map((e) => e.node.action);

      // The check looks for stale credentials every 5 minutes (it ran at start, when there were none).
      checking.clock.advance(6 * 60_000);
      await checking.app.runScheduler();
      expect(await status()).toBe('OK');
      checking.clock.advance(6 * 60_000);
      await checking.app.runScheduler(); // within the interval: not checked again
      expect(await actions()).toEqual(['target.check_ok']);

      const old = target.password();
      const outside = 'Changed-Outside-Scheduled-9!';
      expect((await sshConnector.change(sshConfig(), { username: 'root' }, old, outside)).ok).toBe(true);
      try {
        checking.clock.advance(61 * 60_000);
        await checking.app.runScheduler();
        expect(await status()).toBe('DRIFT');
        expect(await actions()).toEqual(['target.drift', 'target.check_ok']);
      } finally {
        await sshConnector.change(sshConfig(), { username: 'root' }, outside, old);
      }
    } finally {
      await checking.stop();
    }
  });
});

describe('changeOnTargetAfterCheckIn', () => {
  it('after check-in the released password no longer opens the target; the vault’s current secret does', async () => {
    const old = target.password();
    const w = await restrictedWorld(server, 'target-policy', { policy: { changeOnTargetAfterCheckIn: true } });
    // restrictedWorld's credential holds SECRET; make it the target's account with that password.
    expect((await sshConnector.change(sshConfig(), { username: 'root' }, old, SECRET)).ok).toBe(true);
    try {
      await linkToTarget(w.org, w.credentialId, 'policy');
      const req = await server.gql(gql.request, { input: { credentialId: w.credentialId } }, w.requester);
      const requestId = req.data.requestAccess.accessRequest.id;
      expect((await server.gql(APPROVE, { input: { id: requestId } }, w.approvers[0])).data.approveAccessRequest.accessRequest.state).toBe('AVAILABLE');
      const released = (await server.gql(REVEAL, { input: { id: w.credentialId, field: 'PASSWORD' } }, w.requester)).data.revealCredential.value as string;
      expect(released).toBe(SECRET);
      expect(await opens(released)).toBe(true);

      const checkedIn = await server.gql(gql.checkIn, { input: { id: requestId } }, w.requester);
      expect(checkedIn.data.checkInAccessRequest.accessRequest.state).toBe('CHECKED_IN');
      // Flagged in the lifecycle transaction; the change itself is the scheduler's (no transaction across I/O).
      expect((await server.gql(gql.credential, { id: w.credentialId }, w.org.admin)).data.node).toMatchObject({ currentVersion: 1, targetStatus: 'CHANGE_DUE' });
      await server.app.runScheduler();
      expect((await server.gql(gql.credential, { id: w.credentialId }, w.org.admin)).data.node).toMatchObject({ currentVersion: 2, targetStatus: 'OK', targetChangePending: false });
      // A second run does nothing more (idempotent).
      await server.app.runScheduler();
      expect((await server.gql(gql.credential, { id: w.credentialId }, w.org.admin)).data.node).toMatchObject({ currentVersion: 2 });

      expect(await opens(released)).toBe(false);
      expect(await opens(target.password())).toBe(true);
      expect(target.password()).not.toBe(SECRET);
      const actions = (await targetAudit(w.org)).map((e: { action: string }) => e.action);
      expect(actions).toEqual(['target.change_succeeded']);
    } finally {
      await sshConnector.change(sshConfig(), { username: 'root' }, target.password(), old);
    }
  });
});

describe('changeOnTargetAfterCheckIn on expiry, with a failing target', () => {
  it('a failed change stays CHANGE_DUE with the old secret current, and a later run after the retry delay makes it', async () => {
    const old = target.password();
    const w = await restrictedWorld(server, 'target-expiry', { policy: { changeOnTargetAfterCheckIn: true } });
    expect((await sshConnector.change(sshConfig(), { username: 'root' }, old, SECRET)).ok).toBe(true);
    try {
      await linkToTarget(w.org, w.credentialId, 'expiry');
      const req = await server.gql(gql.request, { input: { credentialId: w.credentialId, durationMinutes: 30 } }, w.requester);
      const requestId = req.data.requestAccess.accessRequest.id;
      expect((await server.gql(APPROVE, { input: { id: requestId } }, w.approvers[0])).data.approveAccessRequest.accessRequest.state).toBe('AVAILABLE');

      target.failChanges = true;
      server.clock.advance(31 * 60_000);
      try {
        await server.app.runScheduler(); // expires the request, flags the credential, the change fails
      } finally {
        target.failChanges = false;
      }
      expect((await server.gql(gql.credential, { id: w.credentialId }, w.org.admin)).data.node).toMatchObject({ currentVersion: 1, targetStatus: 'CHANGE_DUE', targetChangePending: false });
      expect(await opens(SECRET)).toBe(true);
      await server.app.runScheduler(); // within the retry delay: nothing
      expect((await targetAudit(w.org)).map((e: { action: string }) => e.action)).toEqual(['target.change_failed']);

      server.clock.advance(6 * 60_000);
      await server.app.runScheduler();
      expect((await server.gql(gql.credential, { id: w.credentialId }, w.org.admin)).data.node).toMatchObject({ currentVersion: 2, targetStatus: 'OK' });
      expect(await opens(SECRET)).toBe(false);
      expect(await opens(target.password())).toBe(true);
      expect((await targetAudit(w.org)).map((e: { action: string }) => e.action)).toEqual(['target.change_succeeded', 'target.change_failed']);
    } finally {
      await sshConnector.change(sshConfig(), { username: 'root' }, target.password(), old);
    }
  });
});

/** Whether a PostgreSQL SCRAM-SHA-256 verifier (pg_authid.rolpassword) is the one of `password` (RFC 5802/7677). */
function scramMatches(verifier: string, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!m) return false;
  const salted = pbkdf2Sync(password.normalize('NFKC'), Buffer.from(m[2], 'base64'), Number(m[1]), 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest('base64');
  const serverKey = createHmac('sha256', salted).update('Server Key').digest('base64');
  return storedKey === m[3] && serverKey === m[4];
}

describe('PostgreSQL connector (the machine’s PostgreSQL, a throwaway role)', () => {
  const role = `vg_target_${randomBytes(4).toString('hex')}"quote`;
  const admin = new pg.Client(PG);
  const config: TargetConfig = { protocol: 'POSTGRES', host: PG.host, port: PG.port, database: PG.database };
  const rolpassword = async () => (await admin.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role])).rows[0].rolpassword;
  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE ROLE ${quoteIdentifier(role)} LOGIN PASSWORD ${quoteLiteral('Start-Pass-1!')}`);
  });
  afterAll(async () => {
    await admin.query(`DROP ROLE IF EXISTS ${quoteIdentifier(role)}`).catch(() => undefined);
    await admin.end();
  });

  it('quotes identifiers and literals, and refuses control characters', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral('back\\slash')).toBe("E'back\\\\slash'");
    expect(() => quoteLiteral('nul\u0000')).toThrow();
    expect(() => quoteLiteral('line\nbreak')).toThrow();
  });

  it('changes the role’s password (ALTER ROLE as the role itself); the new SCRAM verifier matches the new password only', async () => {
    // Loopback here is trust-authenticated, so a login proves nothing about the password: the verifier is checked.
    expect(scramMatches(await rolpassword(), 'Start-Pass-1!')).toBe(true);
    const next = `New'Pass\\${randomBytes(4).toString('hex')}$1`;
    expect(await postgresConnector.change(config, { username: role }, 'Start-Pass-1!', next)).toEqual({ ok: true });
    const verifier = await rolpassword();
    expect(scramMatches(verifier, next)).toBe(true);
    expect(scramMatches(verifier, 'Start-Pass-1!')).toBe(false);
    expect(await postgresConnector.verify(config, { username: role }, next)).toEqual({ ok: true });
    expect(await postgresConnector.change(config, { username: role }, next, 'bad\u0007bell')).toMatchObject({ ok: false, reason: 'UNSUPPORTED_SECRET' });
  });

  it('through GraphQL: a credential with a postgresql:// URL is changed on its role and promoted', async () => {
    const org = await createOrg(server, 'target-pg');
    const created = await server.gql(
      CREATE_CREDENTIAL,
      { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'pg role', username: role, url: `postgresql://${PG.host}:${PG.port}/${PG.database}`, password: 'Whatever-Stored-1!' } },
      org.admin,
    );
    const id = created.data.createCredential.credential.id as string;
    const changed = await server.gql(gql.change, { input: { id } }, org.admin);
    expect(changed.data.changeCredentialOnTarget, JSON.stringify(changed)).toMatchObject({ __typename: 'ChangeCredentialOnTargetPayload', credential: { currentVersion: 2, targetStatus: 'OK' } });
    expect(scramMatches(await rolpassword(), await reveal(org, id))).toBe(true);
  });
});

describe('logs', () => {
  it('no password the target ever accepted reached the server log', () => {
    const passwords = new Set([PASSWORD, SECRET, ...target.logins.map((l) => l.password)]);
    expect(passwords.size).toBeGreaterThan(3);
    expect(server.logs.length).toBeGreaterThan(0);
    for (const line of server.logs) for (const p of passwords) expect(line).not.toContain(p);
  });
});
