// SSH sessions through the recording proxy, end to end on loopback: a real ssh2 target, the proxy started by the
// app (SSH_PROXY_PORT), a real ssh2 client as the user, and the GraphQL endpoint for everything else.
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/process.ts';
import ssh2 from 'ssh2';
import WebSocket from 'ws';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { enqueueWorkflowDeliveries } from '../../src/modules/workflow/workflow.matching.ts';
import { addMember } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { startSshTarget, type SshTarget } from '../support/sshTarget.ts';
import { APPROVE, CREATE_CREDENTIAL, CREATE_POLICY, REVEAL, SECRET, localOf, restrictedWorld, type World } from '../adversarial/support.ts';

// restrictedWorld's credential (user `root`, password SECRET) is the target's account.
const TARGET_PASSWORD = SECRET;


let server: TestServer;
let target: SshTarget;
let proxyPort: number;
let keyDir: string;
beforeAll(async () => {
  target = await startSshTarget({ username: 'root', password: TARGET_PASSWORD });
  proxyPort = await freePort();
  // Its own folder: on PostgreSQL the default (beside the master key file) would be ./data in the checkout.
  keyDir = mkdtempSync(join(tmpdir(), 'vaultgate-proxy-key-'));
  server = await startTestServer({ env: { SSH_PROXY_PORT: String(proxyPort), SSH_PROXY_HOST_KEY_FILE: join(keyDir, 'ssh_proxy_host_key') } });
});
const wsClients: WsClient[] = [];
afterAll(async () => {
  await Promise.all(wsClients.map((c) => c.dispose()));
  await server?.stop();
  await target?.close();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

const gql = {
  createAsset: /* GraphQL */ `mutation($input: CreateAssetInput!) { createAsset(input: $input) { __typename ... on CreateAssetPayload { asset { id } } ... on Error { message } } }`,
  link: /* GraphQL */ `mutation($input: SetCredentialAssetInput!) { setCredentialAsset(input: $input) { __typename ... on Error { message } } }`,
  request: /* GraphQL */ `mutation($input: RequestAccessInput!) { requestAccess(input: $input) { __typename ... on RequestAccessPayload { accessRequest { id state type } } ... on PolicyViolationError { rule } ... on Error { message } } }`,
  start: /* GraphQL */ `mutation($input: StartSessionInput!) { startSession(input: $input) { __typename ... on StartSessionPayload { token expiresAt session { id state } } ... on InvalidRequestStateError { state } ... on Error { message } } }`,
  checkIn: /* GraphQL */ `mutation($input: CheckInAccessRequestInput!) { checkInAccessRequest(input: $input) { __typename ... on Error { message } } }`,
  revoke: /* GraphQL */ `mutation($input: RevokeAccessRequestInput!) { revokeAccessRequest(input: $input) { __typename ... on Error { message } } }`,
  terminate: /* GraphQL */ `mutation($input: TerminateSessionInput!) { terminateSession(input: $input) { __typename ... on TerminateSessionPayload { session { id } } ... on Error { message } } }`,
  recording: /* GraphQL */ `query($id: ID!) { sessionRecording(id: $id) { __typename ... on SessionRecording { asciicast sha256 session { state endReason recordingSha256 } } ... on Error { message } } }`,
  session: /* GraphQL */ `query($id: ID!) { node(id: $id) { ... on AccessSession { state endReason recordingSha256 } } }`,
  audit: /* GraphQL */ `query($id: ID!) { auditEvents(filter: { organizationId: $id }, first: 100) { edges { node { action data } } } }`,
};

type SessionWorld = World & { assetId: string; requestId: string };

/** A restricted credential that is the `root` account of the target asset, a SESSION policy, and a pending request. */
async function sessionWorld(label: string, fingerprint = target.fingerprint): Promise<SessionWorld> {
  const w = await restrictedWorld(server, label, { policy: { requestType: 'SESSION' } });
  const asset = await server.gql(gql.createAsset, { input: { organizationId: w.org.orgId, name: `target ${label}`, host: '127.0.0.1', port: target.port, hostKeyFingerprint: fingerprint } }, w.org.admin);
  const assetId = asset.data.createAsset.asset.id;
  const linked = await server.gql(gql.link, { input: { credentialId: w.credentialId, assetId } }, w.org.admin);
  expect(linked.data.setCredentialAsset.__typename).toBe('SetCredentialAssetPayload');
  const req = await server.gql(gql.request, { input: { credentialId: w.credentialId, type: 'SESSION' } }, w.requester);
  expect(req.data.requestAccess.__typename, JSON.stringify(req)).toBe('RequestAccessPayload');
  expect(req.data.requestAccess.accessRequest).toMatchObject({ state: 'PENDING', type: 'SESSION' });
  return { ...w, assetId, requestId: req.data.requestAccess.accessRequest.id };
}

async function approve(w: SessionWorld) {
  const res = await server.gql(APPROVE, { input: { id: w.requestId } }, w.approvers[0]);
  expect(res.data.approveAccessRequest.accessRequest.state).toBe('AVAILABLE');
}

async function startToken(w: SessionWorld): Promise<{ token: string; sessionId: string }> {
  const res = await server.gql(gql.start, { input: { requestId: w.requestId } }, w.requester);
  expect(res.data.startSession.__typename, JSON.stringify(res)).toBe('StartSessionPayload');
  return { token: res.data.startSession.token, sessionId: res.data.startSession.session.id };
}

type Connected = { client: InstanceType<typeof ssh2.Client>; received: Buffer[]; closed: Promise<void> };

/** A real SSH client through the proxy, authenticating with the token as the user name (method none). */
function connect(token: string): Promise<Connected> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const received: Buffer[] = [];
    const closed = new Promise<void>((r) => client.on('close', () => r()));
    client.on('ready', () => resolve({ client, received, closed }));
    client.on('error', reject);
    client.connect({ host: '127.0.0.1', port: proxyPort, username: token, readyTimeout: 10_000, hostVerifier: () => true });
  });
}

function shell(c: Connected, size = { cols: 100, rows: 30 }): Promise<ssh2.ClientChannel> {
  return new Promise((resolve, reject) =>
    c.client.shell({ term: 'xterm', cols: size.cols, rows: size.rows, width: 0, height: 0 }, (err, stream) => {
      if (err) return reject(err);
      stream.on('data', (d: Buffer) => c.received.push(d));
      stream.stderr.on('data', (d: Buffer) => c.received.push(d));
      resolve(stream);
    }),
  );
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const text = (c: Connected) => Buffer.concat(c.received).toString('utf8');

async function auditActions(w: World) {
  const res = await server.gql(gql.audit, { id: w.org.orgId }, w.org.admin);
  return res.data.auditEvents.edges.map((e: { node: { action: string; data: string } }) => ({ action: e.node.action, data: JSON.parse(e.node.data) }));
}

type Activity = { time: number; kind: string; data: string; endReason: string | null };

/** `sessionActivity` through a real graphql-ws client: what arrived, errors, and whether it completed. */
function watchActivity(token: string, sessionId: string) {
  const received: { data?: { sessionActivity: Activity }; errors?: { extensions?: { code?: string } }[] }[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { token }, retryAttempts: 0, lazy: true });
  wsClients.push(client);
  client.subscribe(
    { query: 'subscription($id: ID!) { sessionActivity(sessionId: $id) { time kind data endReason } }', variables: { id: sessionId } },
    { next: (v) => received.push(v as never), error: (e) => errors.push(e), complete: () => (completed = true) },
  );
  const events = () => received.flatMap((r) => (r.data ? [r.data.sessionActivity] : []));
  return { received, errors, events, output: () => events().filter((e) => e.kind === 'o').map((e) => e.data).join(''), get completed() { return completed; } };
}

describe('SSH sessions through the recording proxy', () => {
  it('refused before approval; an Available session bridges a shell, never shows the password, and is recorded byte-exact', async () => {
    const w = await sessionWorld('sess-main');
    const early = await server.gql(gql.start, { input: { requestId: w.requestId } }, w.requester);
    expect(early.data.startSession).toMatchObject({ __typename: 'InvalidRequestStateError', state: 'PENDING' });
    await approve(w);

    // A session request never releases the secret.
    const reveal = await server.gql(REVEAL, { input: { id: w.credentialId, field: 'PASSWORD' } }, w.requester);
    expect(reveal.data.revealCredential.__typename).toBe('AccessRequestRequiredError');

    const { token, sessionId } = await startToken(w);
    const logins = target.logins.length;
    const c = await connect(token);
    const stream = await shell(c);
    await waitFor(() => text(c).includes('target$ '));
    stream.write('hello world\r');
    await waitFor(() => text(c).includes('echo: hello world'));
    stream.setWindow(40, 120, 0, 0);
    await waitFor(() => target.windows.some((s) => s.cols === 120 && s.rows === 40));
    const streamClosed = new Promise<void>((r) => stream.on('close', () => r()));
    stream.write('exit\r');
    await streamClosed;
    // ssh2's client keeps the connection after its last channel (OpenSSH's would leave): leave.
    c.client.end();
    await c.closed;
    expect(target.logins.slice(logins)).toEqual([{ username: 'root', password: TARGET_PASSWORD }]);
    expect(text(c)).not.toContain(TARGET_PASSWORD);

    let recording: { asciicast: string; sha256: string; session: { state: string; recordingSha256: string } } | undefined;
    await waitFor(async () => {
      const r = await server.gql(gql.recording, { id: sessionId }, w.org.admin);
      if (r.data?.sessionRecording?.__typename !== 'SessionRecording') return false;
      recording = r.data.sessionRecording;
      return true;
    });
    const lines = recording!.asciicast.trimEnd().split('\n');
    const header = JSON.parse(lines[0]);
    expect(header).toMatchObject({ version: 2, width: 100, height: 30 });
    expect(typeof header.timestamp).toBe('number');
    const events = lines.slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    const output = events.filter((e) => e[1] === 'o').map((e) => e[2]).join('');
    expect(output).toBe(text(c));
    expect(events.filter((e) => e[1] === 'i').map((e) => e[2]).join('')).toBe('hello world\rexit\r');
    expect(events.some((e) => e[1] === 'r' && e[2] === '120x40')).toBe(true);
    expect(recording!.asciicast).not.toContain(TARGET_PASSWORD);
    expect(recording!.sha256).toBe(createHash('sha256').update(recording!.asciicast).digest('hex'));
    expect(recording!.session.recordingSha256).toBe(recording!.sha256);

    // The recording is sealed in the database: its plaintext is nowhere in the chunk rows.
    const chunks = await server.app.deps.db.sessionRecordingChunk.findMany({});
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.some((ch) => ch.sealed.includes('hello world'))).toBe(false);

    const audit = await auditActions(w);
    const ended = audit.find((e: { action: string }) => e.action === 'session.ended');
    expect(ended?.data.recordingSha256).toBe(recording!.sha256);
    expect(audit.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['session.token_issued', 'session.started', 'session.ended', 'session.recording_read']));
    expect(JSON.stringify(audit)).not.toContain(TARGET_PASSWORD);

    const listed = await server.gql(/* GraphQL */ `query($id: ID!) { organization(id: $id) { accessSessions(first: 10) { totalCount edges { node { id state recordingSha256 } } } } }`, { id: w.org.orgId }, w.org.admin);
    expect(listed.data.organization.accessSessions.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(sessionId);
    const listedByMember = await server.gql(/* GraphQL */ `query($id: ID!) { organization(id: $id) { accessSessions(first: 10) { totalCount } } }`, { id: w.org.orgId }, w.requester);
    expect(listedByMember.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    // A requester (MEMBER) cannot read recordings.
    const byRequester = await server.gql(gql.recording, { id: sessionId }, w.requester);
    expect(byRequester.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('an AUDITOR watches a running session live (sessionActivity); a MEMBER is refused; terminating completes the watch', async () => {
    const w = await sessionWorld('sess-watch');
    await approve(w);
    const auditor = await addMember(server, w.org, 'AUDITOR');
    const { token, sessionId } = await startToken(w);
    const c = await connect(token);
    const stream = await shell(c);
    await waitFor(() => text(c).includes('target$ '));

    const watch = watchActivity(auditor.token, sessionId);
    const refused = watchActivity(w.requester.token, sessionId);
    await waitFor(async () => (await auditActions(w)).some((e: { action: string }) => e.action === 'session.watch'));
    stream.write('watched words\r');
    await waitFor(() => watch.output().includes('echo: watched words'));
    expect(watch.events().filter((e) => e.kind === 'i').map((e) => e.data).join('')).toBe('watched words\r');
    expect(watch.completed).toBe(false);

    await waitFor(() => refused.completed || refused.errors.length > 0);
    expect(refused.events()).toEqual([]);
    expect(JSON.stringify([refused.received, refused.errors])).toContain('FORBIDDEN');

    const term = await server.gql(gql.terminate, { input: { id: sessionId } }, w.approvers[0]);
    expect(term.data.terminateSession.__typename).toBe('TerminateSessionPayload');
    await waitFor(() => watch.completed);
    const events = watch.events();
    expect(events.at(-1)).toMatchObject({ kind: 'end', endReason: 'TERMINATED' });
    expect(watch.output()).toContain('terminated');
    expect(JSON.stringify(events)).not.toContain(TARGET_PASSWORD);

    // What the watcher saw is what the recording holds (from when it started watching).
    let asciicast = '';
    await waitFor(async () => {
      const r = await server.gql(gql.recording, { id: sessionId }, w.org.admin);
      asciicast = r.data?.sessionRecording?.asciicast ?? '';
      return asciicast !== '';
    });
    const recorded = asciicast.trimEnd().split('\n').slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    const live = events.filter((e) => e.kind !== 'end').map((e) => [e.time, e.kind, e.data]);
    expect(recorded.slice(recorded.length - live.length)).toEqual(live);
    c.client.end();
  });

  it('sessionStarted and sessionEnded tell an AUDITOR’s dashboard about sessions, with replay from a cursor; a MEMBER is refused', async () => {
    const w = await sessionWorld('sess-events');
    await approve(w);
    const auditor = await addMember(server, w.org, 'AUDITOR');
    type Got = { data?: { sessionStarted?: { cursor: string; action: string; session: { id: string; state: string } }; sessionEnded?: { cursor: string; action: string; session: { id: string; state: string; endReason: string | null } } }; errors?: unknown[] };
    const subscribe = (token: string, field: 'sessionStarted' | 'sessionEnded', after: string | null = null) => {
      const got: Got[] = [];
      const errors: unknown[] = [];
      const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { token }, retryAttempts: 0, lazy: true });
      wsClients.push(client);
      client.subscribe(
        { query: `subscription($org: ID, $after: String) { ${field}(organizationId: $org, after: $after) { cursor action session { id state endReason } } }`, variables: { org: w.org.orgId, after } },
        { next: (v) => got.push(v as Got), error: (e) => errors.push(e), complete: () => {} },
      );
      return { got, errors };
    };
    const started = subscribe(auditor.token, 'sessionStarted');
    const ended = subscribe(auditor.token, 'sessionEnded');
    const refused = subscribe(w.requester.token, 'sessionStarted');
    await new Promise((r) => setTimeout(r, 200));

    const { token, sessionId } = await startToken(w);
    const c = await connect(token);
    await shell(c);
    await waitFor(() => started.got.some((g) => g.data?.sessionStarted?.session.id === sessionId));
    expect(started.got[0].data!.sessionStarted).toMatchObject({ action: 'session.started', session: { id: sessionId, state: 'ACTIVE' } });
    c.client.end();
    await waitFor(() => ended.got.some((g) => g.data?.sessionEnded?.session.id === sessionId));
    expect(ended.got.find((g) => g.data?.sessionEnded)!.data!.sessionEnded).toMatchObject({ action: 'session.ended', session: { id: sessionId, state: 'ENDED' } });
    await waitFor(() => refused.errors.length > 0 || refused.got.some((g) => g.errors));
    expect(JSON.stringify([refused.got, refused.errors])).toContain('FORBIDDEN');
    expect(refused.got.some((g) => g.data?.sessionStarted)).toBe(false);

    // A dashboard that reconnects with the last cursor it saw misses nothing and gets nothing twice.
    const before = started.got[0].data!.sessionStarted!.cursor;
    const replay = subscribe(auditor.token, 'sessionEnded', before);
    await waitFor(() => replay.got.length > 0);
    expect(replay.got.map((g) => g.data?.sessionEnded?.session.id)).toEqual([sessionId]);
  });

  it('fires SESSION_STARTED and SESSION_ENDED workflows with the session’s metadata, never its secret', async () => {
    const w = await sessionWorld('sess-workflow');
    await approve(w);
    const created = await server.gql(
      `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { __typename ... on CreateWorkflowPayload { workflow { id } } ... on Error { message } } }`,
      { input: { organizationId: w.org.orgId, name: 'Tell the NOC', trigger: 'SESSION_ENDED', actions: [{ type: 'EMAIL', recipients: ['noc@example.test'], subject: 'ended {{credential.name}}', body: '{{session.user.email}} on {{session.host}}: {{session.endReason}}' }] } },
      w.org.admin,
    );
    expect(created.data.createWorkflow.__typename, JSON.stringify(created)).toBe('CreateWorkflowPayload');
    const { token } = await startToken(w);
    const c = await connect(token);
    await shell(c);
    c.client.end();
    await waitFor(async () => (await auditActions(w)).some((e: { action: string }) => e.action === 'session.ended'));
    await enqueueWorkflowDeliveries(server.app.deps);
    const deliveries = await server.app.deps.db.workflowDelivery.findMany({ where: { organizationId: localOf(w.org.orgId) } });
    expect(deliveries.map((d) => d.trigger)).toEqual(['SESSION_ENDED']);
    const vars = JSON.parse(deliveries[0].variables) as Record<string, string>;
    expect(vars).toMatchObject({ event: 'SESSION_ENDED', 'session.host': `127.0.0.1:${target.port}`, 'session.user.email': w.requester.email, 'session.endReason': expect.stringMatching(/CLOSED/) });
    expect(vars['session.id']).not.toBe('');
    expect(deliveries[0].variables).not.toContain(TARGET_PASSWORD);
  });

  it('a watcher who loses the AUDITOR role stops receiving', async () => {
    const w = await sessionWorld('sess-watch-lost');
    await approve(w);
    const auditor = await addMember(server, w.org, 'AUDITOR');
    const { token, sessionId } = await startToken(w);
    const c = await connect(token);
    const stream = await shell(c);
    await waitFor(() => text(c).includes('target$ '));
    const watch = watchActivity(auditor.token, sessionId);
    await waitFor(async () => (await auditActions(w)).some((e: { action: string }) => e.action === 'session.watch'));
    stream.write('before\r');
    await waitFor(() => watch.output().includes('echo: before'));
    const removed = await server.gql(`mutation($id: ID!) { removeMember(input: { membershipId: $id }) { __typename } }`, { id: auditor.membershipId }, w.org.admin);
    expect(removed.errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, 400));
    stream.write('after\r');
    await waitFor(() => text(c).includes('echo: after'));
    await waitFor(() => watch.completed);
    expect(watch.output()).not.toContain('echo: after');
    c.client.end();
    await c.closed;
  });

  it('port forwarding (direct-tcpip) reaches the target’s side only when the policy allows it; recorded as a marker, not its bytes', async () => {
    const echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    const echoPort = (echo.address() as AddressInfo).port;
    const forward = (c: Connected, payload: string) =>
      new Promise<string>((resolve, reject) =>
        c.client.forwardOut('127.0.0.1', 40000, '127.0.0.1', echoPort, (err, ch) => {
          if (err) return reject(err);
          const got: Buffer[] = [];
          ch.on('data', (d: Buffer) => {
            got.push(d);
            if (Buffer.concat(got).length >= payload.length) {
              ch.close();
              resolve(Buffer.concat(got).toString('utf8'));
            }
          });
          ch.write(payload);
        }),
      );
    try {
      // The default: refused (the channel is rejected), and audited.
      const closed = await sessionWorld('sess-fwd-off');
      await approve(closed);
      const a = await connect((await startToken(closed)).token);
      await expect(forward(a, 'nope')).rejects.toThrow();
      a.client.end();
      await a.closed;
      await waitFor(async () => (await auditActions(closed)).some((e: { action: string; data: { allowed?: boolean } }) => e.action === 'session.forward' && e.data.allowed === false));

      // A SESSION policy with allowPortForwarding: bridged to the target, which connects on its loopback.
      const w = await restrictedWorld(server, 'sess-fwd-on', { policy: { requestType: 'SESSION', allowPortForwarding: true } });
      const asset = await server.gql(gql.createAsset, { input: { organizationId: w.org.orgId, name: 'target fwd', host: '127.0.0.1', port: target.port, hostKeyFingerprint: target.fingerprint } }, w.org.admin);
      await server.gql(gql.link, { input: { credentialId: w.credentialId, assetId: asset.data.createAsset.asset.id } }, w.org.admin);
      const req = await server.gql(gql.request, { input: { credentialId: w.credentialId, type: 'SESSION' } }, w.requester);
      const sw: SessionWorld = { ...w, assetId: asset.data.createAsset.asset.id, requestId: req.data.requestAccess.accessRequest.id };
      await approve(sw);
      const { token, sessionId } = await startToken(sw);
      const c = await connect(token);
      const payload = 'forwarded-bytes-' + 'x'.repeat(100);
      expect(await forward(c, payload)).toBe(payload);
      c.client.end();
      await c.closed;
      let asciicast = '';
      await waitFor(async () => {
        const r = await server.gql(gql.recording, { id: sessionId }, w.org.admin);
        asciicast = r.data?.sessionRecording?.asciicast ?? '';
        return asciicast !== '';
      });
      const events = asciicast.trimEnd().split('\n').slice(1).map((l) => JSON.parse(l) as [number, string, string]);
      expect(events.filter((e) => e[1] === 'm').map((e) => e[2])).toEqual([`forward 127.0.0.1:${echoPort}`]);
      expect(asciicast).not.toContain('forwarded-bytes');
      const audit = await auditActions(w);
      expect(audit.find((e: { action: string }) => e.action === 'session.forward')?.data).toMatchObject({ destination: `127.0.0.1:${echoPort}`, allowed: true });
    } finally {
      echo.close();
    }
  });

  it('a token opens one connection only, and exec channels are bridged', async () => {
    const w = await sessionWorld('sess-once');
    await approve(w);
    const { token } = await startToken(w);
    const c = await connect(token);
    const out = await new Promise<string>((resolve, reject) =>
      c.client.exec('uptime', (err, stream) => {
        if (err) return reject(err);
        const got: Buffer[] = [];
        stream.on('data', (d: Buffer) => got.push(d));
        stream.stderr.on('data', (d: Buffer) => got.push(d));
        stream.on('close', () => resolve(Buffer.concat(got).toString('utf8')));
      }),
    );
    expect(out).toContain('ran: uptime');
    expect(out).toContain('on stderr');
    await expect(connect(token)).rejects.toThrow(/authentication/i);
    c.client.end();
    await c.closed;
    const audit = await auditActions(w);
    expect(audit.find((e: { action: string }) => e.action === 'session.refused')?.data.reason).toBe('TOKEN_USED_OR_EXPIRED');
  });

  it('revoking the request mid-session ends it within about a second; after check-in a token is refused', async () => {
    const w = await sessionWorld('sess-revoke');
    await approve(w);
    const { token } = await startToken(w);
    const c = await connect(token);
    await shell(c);
    await waitFor(() => text(c).includes('target$ '));
    const revoked = await server.gql(gql.revoke, { input: { id: w.requestId } }, w.approvers[0]);
    expect(revoked.data.revokeAccessRequest.__typename).toBe('RevokeAccessRequestPayload');
    const t0 = Date.now();
    await c.closed;
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(text(c)).toContain('no longer available');

    const w2 = await sessionWorld('sess-checkin');
    await approve(w2);
    const second = await startToken(w2);
    const checked = await server.gql(gql.checkIn, { input: { id: w2.requestId } }, w2.requester);
    expect(checked.data.checkInAccessRequest.__typename).toBe('CheckInAccessRequestPayload');
    await expect(connect(second.token)).rejects.toThrow(/authentication/i);
    const after = await server.gql(gql.start, { input: { requestId: w2.requestId } }, w2.requester);
    expect(after.data.startSession).toMatchObject({ __typename: 'InvalidRequestStateError', state: 'CHECKED_IN' });
  });

  it('terminateSession by an approver ends it; the window ending ends it too', async () => {
    const w = await sessionWorld('sess-term');
    await approve(w);
    const { token, sessionId } = await startToken(w);
    const c = await connect(token);
    await shell(c);
    await waitFor(() => text(c).includes('target$ '));
    const term = await server.gql(gql.terminate, { input: { id: sessionId } }, w.approvers[0]);
    expect(term.data.terminateSession.__typename, JSON.stringify(term)).toBe('TerminateSessionPayload');
    await c.closed;
    expect(text(c)).toContain('terminated');
    await waitFor(async () => (await server.gql(gql.session, { id: sessionId }, w.org.admin)).data.node?.state === 'ENDED');
    expect((await server.gql(gql.session, { id: sessionId }, w.org.admin)).data.node.endReason).toBe('TERMINATED');

    const w2 = await sessionWorld('sess-window');
    await approve(w2);
    const s2 = await startToken(w2);
    const c2 = await connect(s2.token);
    await shell(c2);
    await waitFor(() => text(c2).includes('target$ '));
    server.clock.advance(61 * 60_000);
    await c2.closed;
    expect(text(c2)).toContain('window has ended');
    server.clock.advance(-61 * 60_000);
  });

  it('tokens: only the requester gets one, it expires after five minutes, and a password equal to the token works too', async () => {
    const w = await sessionWorld('sess-token');
    await approve(w);
    const byApprover = await server.gql(gql.start, { input: { requestId: w.requestId } }, w.approvers[0]);
    expect(byApprover.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const stale = await startToken(w);
    server.clock.advance(5 * 60_000 + 1000);
    try {
      await expect(connect(stale.token)).rejects.toThrow(/authentication/i);
    } finally {
      server.clock.advance(-(5 * 60_000 + 1000));
    }

    const { token } = await startToken(w);
    const c = await new Promise<Connected>((resolve, reject) => {
      const client = new ssh2.Client();
      const closed = new Promise<void>((r) => client.on('close', () => r()));
      client.on('ready', () => resolve({ client, received: [], closed }));
      client.on('error', reject);
      // Only a password offered: the proxy takes the token again as the password.
      client.connect({ host: '127.0.0.1', port: proxyPort, username: token, password: token, authHandler: ['password'], readyTimeout: 10_000, hostVerifier: () => true });
    });
    c.client.end();
    await c.closed;
    await expect(connect('not-a-token')).rejects.toThrow(/authentication/i);
  });

  it('OpenSSH’s own client runs a command through the proxy (when ssh is installed)', async (t) => {
    const ssh = ['/usr/bin/ssh', '/usr/local/bin/ssh'].find((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
    if (!ssh) return t.skip();
    const w = await sessionWorld('sess-openssh');
    await approve(w);
    const { token } = await startToken(w);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        ssh,
        ['-p', String(proxyPort), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-F', '/dev/null', `${token}@127.0.0.1`, 'uptime'],
        { timeout: 20_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message} ${stderr}`)) : resolve(stdout + stderr)),
      ),
    );
    expect(out).toContain('ran: uptime');
    expect(out).not.toContain(TARGET_PASSWORD);
  });

  it('the proxy’s host key was generated at first start, readable by its owner only', () => {
    const path = server.app.deps.config.sshProxy.hostKeyFile;
    expect(path.startsWith(keyDir)).toBe(true);
    expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
  });

  it('a long output is recorded in several sealed chunks and replays exactly', async () => {
    const w = await sessionWorld('sess-big');
    await approve(w);
    const { token, sessionId } = await startToken(w);
    const c = await connect(token);
    const out = await new Promise<Buffer>((resolve, reject) =>
      c.client.exec('big', (err, stream) => {
        if (err) return reject(err);
        const got: Buffer[] = [];
        stream.on('data', (d: Buffer) => got.push(d));
        stream.stderr.on('data', (d: Buffer) => got.push(d));
        stream.on('close', () => resolve(Buffer.concat(got)));
      }),
    );
    c.client.end();
    await c.closed;
    expect(out.length).toBeGreaterThan(150_000);
    let asciicast = '';
    await waitFor(async () => {
      const r = await server.gql(gql.recording, { id: sessionId }, w.org.admin);
      asciicast = r.data?.sessionRecording?.asciicast ?? '';
      return asciicast.length > 0;
    });
    const lines = asciicast.trimEnd().split('\n');
    expect(JSON.parse(lines[0])).toMatchObject({ version: 2, width: 80, height: 24 });
    const output = lines.slice(1).map((l) => JSON.parse(l) as [number, string, string]).filter((e) => e[1] === 'o').map((e) => e[2]).join('');
    expect(output).toBe(out.toString('utf8'));
    const session = await server.app.deps.db.accessSession.findFirstOrThrow({ where: { tokenHash: { not: '' }, requestId: localOf(w.requestId) } });
    expect(session.recordingChunks).toBeGreaterThanOrEqual(3);
  });

  it('an SSH_KEY account signs in to the target with its private key, which the user never sees', async () => {
    const keys = ssh2.utils.generateKeyPairSync('ed25519');
    const keyTarget = await startSshTarget({ username: 'deploy', password: 'not-this-one-Zq9', publicKey: keys.public });
    try {
      const w = await restrictedWorld(server, 'sess-key');
      const cred = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: w.org.orgId, kind: 'SSH_KEY', name: 'deploy key', username: 'deploy', privateKey: keys.private, restricted: true } }, w.org.admin);
      expect(cred.data.createCredential.__typename, JSON.stringify(cred)).toBe('CreateCredentialPayload');
      const credentialId = cred.data.createCredential.credential.id;
      const asset = await server.gql(gql.createAsset, { input: { organizationId: w.org.orgId, name: 'key target', host: '127.0.0.1', port: keyTarget.port, hostKeyFingerprint: keyTarget.fingerprint } }, w.org.admin);
      await server.gql(gql.link, { input: { credentialId, assetId: asset.data.createAsset.asset.id } }, w.org.admin);
      // No approval steps: approved (and available) at once.
      const policy = await server.gql(CREATE_POLICY, { input: { organizationId: w.org.orgId, name: 'key sessions', scope: { credentialIds: [credentialId] }, requesters: { roles: ['MEMBER'] }, requestType: 'SESSION', reasonRequired: false } }, w.org.admin);
      expect(policy.data.createAccessPolicy.__typename).toBe('CreateAccessPolicyPayload');
      const req = await server.gql(gql.request, { input: { credentialId, type: 'SESSION' } }, w.requester);
      expect(req.data.requestAccess.accessRequest.state).toBe('AVAILABLE');
      const { token } = await startToken({ ...w, assetId: '', requestId: req.data.requestAccess.accessRequest.id });
      const c = await connect(token);
      const out = await new Promise<string>((resolve, reject) =>
        c.client.exec('whoami', (err, stream) => {
          if (err) return reject(err);
          const got: Buffer[] = [];
          stream.on('data', (d: Buffer) => got.push(d));
          stream.on('close', () => resolve(Buffer.concat(got).toString('utf8')));
        }),
      );
      c.client.end();
      await c.closed;
      expect(out).toContain('ran: whoami');
      expect(keyTarget.logins).toEqual([{ username: 'deploy', password: '(public key)' }]);
      expect(out).not.toContain('PRIVATE KEY');
    } finally {
      await keyTarget.close();
    }
  });

  it('disabling the user ends their running session', async () => {
    const w = await sessionWorld('sess-disable');
    await approve(w);
    const { token, sessionId } = await startToken(w);
    const c = await connect(token);
    await shell(c);
    await waitFor(() => text(c).includes('target$ '));
    const disabled = await server.gql(/* GraphQL */ `mutation($input: DisableUserInput!) { disableUser(input: $input) { __typename } }`, { input: { userId: w.requester.userId } }, w.org.admin);
    expect(disabled.data.disableUser.__typename, JSON.stringify(disabled)).toBe('DisableUserPayload');
    const t0 = Date.now();
    await c.closed;
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(text(c)).toContain('disabled');
    await waitFor(async () => (await server.gql(gql.session, { id: sessionId }, w.org.admin)).data.node?.endReason === 'USER_DISABLED');
  });

  it('a target whose host key does not match the pinned one is refused, with a clear message and an audit entry', async () => {
    const w = await sessionWorld('sess-mitm', 'SHA256:' + 'Z'.repeat(43));
    await approve(w);
    const { token } = await startToken(w);
    const logins = target.logins.length;
    const c = await connect(token);
    await shell(c).catch(() => undefined);
    await c.closed;
    expect(text(c)).toContain('does not match the key pinned');
    expect(target.logins.length).toBe(logins);
    const audit = await auditActions(w);
    const mismatch = audit.find((e: { action: string }) => e.action === 'session.host_key_mismatch');
    expect(mismatch?.data).toMatchObject({ presented: target.fingerprint, pinned: 'SHA256:' + 'Z'.repeat(43) });
  });

  // Last: stops the server under a running session.
  it('stopping the server ends running sessions cleanly, telling the user why', async () => {
    const w = await sessionWorld('sess-stop');
    await approve(w);
    const { token } = await startToken(w);
    const c = await connect(token);
    await shell(c);
    await waitFor(() => text(c).includes('target$ '));
    await server.app.stop();
    await c.closed;
    expect(text(c)).toContain('shutting down');
    const logs = server.logs.join('');
    expect(logs).not.toContain('session.end_not_recorded');
    // Nothing this file did wrote the vaulted password (or a token) to a log line.
    expect(logs).not.toContain(TARGET_PASSWORD);
    expect(logs).not.toContain(token);
  });
});
