// Adversarial 3: parallel reveals while the access window closes under them. Nothing released after the close,
// and every reveal that succeeded is accounted for exactly once (access record + credential.reveal audit entry).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { ENV, APPROVE, expectAuditIntact, localOf, MINUTE, REVEAL, requestAccess, restrictedWorld, SECRET } from './support.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: ENV });
});
afterAll(async () => {
  await server?.stop();
});

type Payload = { __typename: string; value?: string; accessRecordId?: string };

describe('adversarial: reveals racing the end of the window', () => {
  it('10 reveals in flight, the window closes, 10 more: none after the close succeeds; successes = records = audit entries', async () => {
    const w = await restrictedWorld(server, 'adv-window', { approvers: 1 });
    const r = await requestAccess(server, w, { durationMinutes: 30 });
    expect((await server.gql(APPROVE, { input: { id: r.id } }, w.approvers[0])).data.approveAccessRequest.accessRequest.state).toBe('AVAILABLE');
    const endsAt = new Date((await server.app.deps.db.accessRequest.findUniqueOrThrow({ where: { id: localOf(r.id) } })).endsAt);
    server.clock.set(new Date(endsAt.getTime() - MINUTE));

    const reveal = () =>
      server.gql(REVEAL, { input: { id: w.credentialId, field: 'PASSWORD' } }, w.requester).then((res) => {
        expect(res.errors, JSON.stringify(res)).toBeUndefined();
        return res.data.revealCredential as Payload;
      });

    // Batch one: all fired while the window is open; the window closes as soon as the first answer is back, while
    // the rest may still be between their check and their record.
    const first = Array.from({ length: 10 }, reveal);
    await Promise.race(first);
    server.clock.set(new Date(endsAt.getTime() + 1));
    // Batch two: fired after the close.
    const second = await Promise.all(Array.from({ length: 10 }, reveal));
    const firstDone = await Promise.all(first);

    for (const p of second) expect(p.__typename, JSON.stringify(p)).toBe('AccessRequestRequiredError');
    for (const p of [...firstDone, ...second]) {
      expect(['RevealCredentialPayload', 'AccessRequestRequiredError']).toContain(p.__typename);
      if (p.__typename === 'RevealCredentialPayload') expect(p.value).toBe(SECRET);
      else expect(JSON.stringify(p)).not.toContain(SECRET);
    }
    const successes = firstDone.filter((p) => p.__typename === 'RevealCredentialPayload');
    expect(successes.length).toBeGreaterThanOrEqual(1);

    // After the scheduler recorded the end, and with more time passed: still nothing.
    await server.app.runScheduler();
    server.clock.advance(5 * MINUTE);
    const late = await Promise.all(Array.from({ length: 5 }, reveal));
    for (const p of late) expect(p.__typename).toBe('AccessRequestRequiredError');
    expect((await server.app.deps.db.accessRequest.findUniqueOrThrow({ where: { id: localOf(r.id) } })).state).toBe('EXPIRED');

    const db = server.app.deps.db;
    const credentialId = localOf(w.credentialId);
    const records = await db.accessRecord.findMany({ where: { credentialId } });
    expect(records.map((x) => x.id).sort()).toEqual(successes.map((p) => localOf(p.accessRecordId!)).sort());
    for (const rec of records) expect(rec).toMatchObject({ surface: 'REVEAL', field: 'PASSWORD', actorUserId: localOf(w.requester.userId) });
    const audited = await db.auditEvent.findMany({ where: { targetType: 'Credential', targetId: credentialId, action: 'credential.reveal' } });
    expect(audited).toHaveLength(successes.length);
    expect(new Set(audited.map((a) => JSON.parse(a.data).accessRecordId))).toEqual(new Set(records.map((x) => x.id)));
    expect(await db.auditEvent.count({ where: { targetId: credentialId, action: 'credential.decrypt_failed' } })).toBe(0);
    expect(JSON.stringify([records, audited])).not.toContain(SECRET);
    await expectAuditIntact(server, w.org.orgId);
  });

  it('20 reveals in parallel batches around a revocation: none after the revoke commits succeeds; the accounting is exact', async () => {
    const w = await restrictedWorld(server, 'adv-window-revoke', { approvers: 1 });
    const r = await requestAccess(server, w, { durationMinutes: 30 });
    await server.gql(APPROVE, { input: { id: r.id } }, w.approvers[0]);
    const reveal = () => server.gql(REVEAL, { input: { id: w.credentialId, field: 'PASSWORD' } }, w.requester).then((res) => res.data.revealCredential as Payload);
    const first = Array.from({ length: 10 }, reveal);
    const revoked = await server.gql(`mutation($id: ID!) { revokeAccessRequest(input: { id: $id }) { __typename } }`, { id: r.id }, w.approvers[0]);
    expect(revoked.data.revokeAccessRequest.__typename).toBe('RevokeAccessRequestPayload');
    const second = await Promise.all(Array.from({ length: 10 }, reveal));
    const firstDone = await Promise.all(first);
    for (const p of second) expect(p.__typename).toBe('AccessRequestRequiredError');
    const successes = firstDone.filter((p) => p.__typename === 'RevealCredentialPayload');
    for (const p of successes) expect(p.value).toBe(SECRET);

    const credentialId = localOf(w.credentialId);
    const db = server.app.deps.db;
    const records = await db.accessRecord.findMany({ where: { credentialId } });
    expect(records.map((x) => x.id).sort()).toEqual(successes.map((p) => localOf(p.accessRecordId!)).sort());
    expect(await db.auditEvent.count({ where: { targetId: credentialId, action: 'credential.reveal' } })).toBe(successes.length);
    // Every successful reveal's audit entry precedes the revocation in the chain, or the revoke would have been seen.
    const revokeSeq = (await db.auditEvent.findFirstOrThrow({ where: { targetId: localOf(r.id), action: 'access_request.revoke' } })).seq;
    const revealSeqs = (await db.auditEvent.findMany({ where: { targetId: credentialId, action: 'credential.reveal' } })).map((a) => a.seq);
    for (const seq of revealSeqs) expect(seq).toBeLessThan(revokeSeq);
    await expectAuditIntact(server, w.org.orgId);
  });
});
