// Adversarial 15: the server process is killed with SIGKILL while approvals, denials and reveals are in flight —
// twice — then started again. No transition may be half-applied: each request's state is its last history entry's,
// history is one unbroken chain, approval rows match APPROVE/DENY history entries and audit entries, every reveal
// has its access record and audit entry (and nothing else does), every success a client was told about is there,
// and the audit chain verifies.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { builtEntry, freePort } from '../support/process.ts';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { verifyChain } from '../../src/modules/audit/audit.service.ts';
import { APPROVE, CREATE_CREDENTIAL, ENV, localOf, REVEAL, requestAccess, restrictedWorld, SECRET, type World } from './support.ts';

const DENY = `mutation($input: DenyAccessRequestInput!) { denyAccessRequest(input: $input) { __typename ... on DenyAccessRequestPayload { accessRequest { state } } } }`;

let base: TestServer;
let world: World;
let ordinaryId: string;
let requestIds: string[];
const children: ChildProcess[] = [];

beforeAll(async () => {
  base = await startTestServer({ env: ENV });
  // The child process runs on the system clock; the fixtures are made at the same time.
  base.clock.set(new Date());
  world = await restrictedWorld(base, 'adv-crash', { approvers: 4, requiredApprovals: 2, policy: { requesters: { roles: ['MEMBER'] } } });
  const ordinary = await base.gql(CREATE_CREDENTIAL, { input: { organizationId: world.org.orgId, kind: 'PASSWORD', name: 'ordinary', password: SECRET } }, world.org.admin);
  ordinaryId = ordinary.data.createCredential.credential.id;
  requestIds = [];
  for (let i = 0; i < 40; i++) requestIds.push((await requestAccess(base, world, { durationMinutes: 240 })).id);
  await base.app.stop();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await base?.db.drop();
});


/** `node dist/main.js` on the test database: the real entry point, in a process of its own. */
async function startChild(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [builtEntry('main')], {
    env: {
      ...process.env,
      ...ENV,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: base.db.url,
      VAULTGATE_MASTER_KEY: base.app.deps.config.masterKey!,
      LOG_LEVEL: 'silent',
      WORKFLOW_POLL_INTERVAL_MS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const origin = `http://127.0.0.1:${port}`;
  await vi.waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`the server exited: ${output}`);
      const res = await fetch(`${origin}/healthz`);
      expect(res.status).toBe(200);
    },
    { timeout: 30_000, interval: 100 },
  );
  return { child, url: `${origin}/graphql`, output: () => output };
}

type Outcome = { kind: 'approve' | 'deny' | 'reveal'; id: string; by: string; payload: any | null };

async function post(url: string, query: string, variables: Record<string, unknown>, token: string) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: any; errors?: unknown[] };
}

/** Fires every decision and reveal at once; kills the server with SIGKILL once `killAfter` answers are in. */
async function barrage(killAfter: number): Promise<Outcome[]> {
  const { child, url } = await startChild();
  let answered = 0;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ops: Promise<Outcome>[] = [];
  const track = (kind: Outcome['kind'], id: string, by: string, call: () => Promise<{ data?: any }>): Promise<Outcome> =>
    call().then(
      (res) => {
        if (++answered === killAfter) child.kill('SIGKILL');
        return { kind, id, by, payload: res.data ? Object.values(res.data)[0] : null };
      },
      () => ({ kind, id, by, payload: null }), // the connection died with the process
    );
  for (const [i, id] of requestIds.entries()) {
    for (const [j, approver] of world.approvers.entries()) {
      // One in five requests also gets a denial racing its approvals.
      const deny = i % 5 === 0 && j === 3;
      ops.push(track(deny ? 'deny' : 'approve', id, approver.userId, () => post(url, deny ? DENY : APPROVE, { input: { id } }, approver.token)));
    }
    ops.push(track('reveal', ordinaryId, world.requester.userId, () => post(url, REVEAL, { input: { id: ordinaryId, field: 'PASSWORD' } }, world.requester.token)));
  }
  const outcomes = await Promise.all(ops);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited;
  expect(child.signalCode).toBe('SIGKILL');
  return outcomes;
}

describe('adversarial: SIGKILL in the middle of decisions and reveals', () => {
  it('leaves no half-applied transition; history, approvals, records and the audit chain agree with the state', async () => {
    const first = await barrage(25);
    const second = await barrage(60);
    const told = [...first, ...second];
    // Some work was acknowledged before each kill, and some was cut off.
    expect(first.some((o) => o.payload !== null)).toBe(true);
    expect(first.some((o) => o.payload === null)).toBe(true);

    const server = await startTestServer({ env: ENV, shareWith: base });
    try {
      const db = server.app.deps.db;
      server.clock.set(new Date());
      const orgId = localOf(world.org.orgId);
      for (const globalId of requestIds) {
        const id = localOf(globalId);
        const row = await db.accessRequest.findUniqueOrThrow({ where: { id } });
        const history = await db.accessRequestHistory.findMany({ where: { requestId: id }, orderBy: { seq: 'asc' } });
        const approvals = await db.accessApproval.findMany({ where: { requestId: id } });
        const audit = await db.auditEvent.findMany({ where: { chain: orgId, targetType: 'AccessRequest', targetId: id } });
        const where = `request ${id}`;
        // One unbroken chain of transitions ending in the stored state.
        expect(history.map((h) => h.seq), where).toEqual(history.map((_, i) => i + 1));
        expect(history[0]).toMatchObject({ action: 'REQUEST', fromState: null, toState: 'PENDING' });
        for (let i = 1; i < history.length; i++) expect(history[i].fromState, where).toBe(history[i - 1].toState);
        expect(history.at(-1)!.toState, where).toBe(row.state);
        // Each decision row has its history entry and its audit entry, and the other way round.
        const count = (xs: { action: string }[], a: string) => xs.filter((x) => x.action === a).length;
        expect(approvals.filter((a) => a.decision === 'APPROVE').length, where).toBe(count(history, 'APPROVE'));
        // A denial while pending is a decision of the step (a row); a late one, after approval, is not.
        expect(count(history, 'DENY'), where).toBeLessThanOrEqual(1);
        expect(approvals.filter((a) => a.decision === 'DENY').length, where).toBeLessThanOrEqual(count(history, 'DENY'));
        expect(count(audit, 'access_request.approve'), where).toBe(count(history, 'APPROVE'));
        expect(count(audit, 'access_request.deny'), where).toBe(count(history, 'DENY'));
        expect(new Set(approvals.map((a) => a.approverId)).size, where).toBe(approvals.length);
        // The state follows from the decisions: two approvals complete the only step, a denial ends it.
        const approved = approvals.filter((a) => a.decision === 'APPROVE').length;
        const denied = count(history, 'DENY') > 0;
        if (denied) expect(row.state, where).toBe('DENIED');
        else expect(row.state, where).toBe(approved >= 2 ? 'AVAILABLE' : 'PENDING');
        // Every success a client was told about survived the crash.
        for (const o of told.filter((x) => x.id === globalId && x.payload?.__typename?.endsWith('Payload'))) {
          const recorded =
            o.kind === 'deny'
              ? history.some((h) => h.action === 'DENY' && h.actorUserId === localOf(o.by))
              : approvals.some((a) => a.approverId === localOf(o.by) && a.decision === 'APPROVE');
          expect(recorded, `${where}: acknowledged ${o.kind}`).toBe(true);
        }
      }
      // Reveals: one access record per credential.reveal entry, and every acknowledged reveal is among them.
      const records = await db.accessRecord.findMany({ where: { credentialId: localOf(ordinaryId) } });
      const revealAudit = await db.auditEvent.findMany({ where: { chain: orgId, action: 'credential.reveal', targetId: localOf(ordinaryId) } });
      expect(revealAudit.map((a) => JSON.parse(a.data).accessRecordId).sort()).toEqual(records.map((r) => r.id).sort());
      const acknowledged = told.filter((o) => o.kind === 'reveal' && o.payload?.__typename === 'RevealCredentialPayload');
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const o of acknowledged) {
        expect(o.payload.value).toBe(SECRET);
        expect(records.some((r) => r.id === localOf(o.payload.accessRecordId))).toBe(true);
      }
      expect(await verifyChain(db, orgId)).toMatchObject({ ok: true, problem: null });

      // And the restarted server goes on: an unfinished request can still be decided.
      const open = [];
      for (const globalId of requestIds) {
        const row = await db.accessRequest.findUniqueOrThrow({ where: { id: localOf(globalId) }, include: { approvals: true } });
        if (row.state === 'PENDING') open.push({ globalId, decided: row.approvals.map((a) => a.approverId) });
      }
      for (const o of open.slice(0, 3)) {
        const next = world.approvers.find((a) => !o.decided.includes(localOf(a.userId)))!;
        const res = await server.gql(APPROVE, { input: { id: o.globalId } }, next);
        expect(res.data.approveAccessRequest.__typename).toBe('ApproveAccessRequestPayload');
      }
      expect(await verifyChain(db, orgId)).toMatchObject({ ok: true });
    } finally {
      await server.app.stop();
    }
  });
});
