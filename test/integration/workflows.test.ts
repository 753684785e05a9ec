import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { print, type DocumentNode } from 'graphql';
import { SMTPServer } from 'smtp-server';
import { startTestServer, testDbKind, type Auth, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, unique, type OrgFixture } from '../support/fixtures.ts';
import {
  CreateWorkflowDocument,
  DeleteWorkflowDocument,
  SetWorkflowEnabledDocument,
  TestWorkflowActionDocument,
  UpdateWorkflowDocument,
  WorkflowDeliveriesDocument,
  WorkflowVariablesDocument,
  WorkflowsDocument,
} from '../../src/sdk/generated.ts';
import { enqueueWorkflowDeliveries } from '../../src/modules/workflow/workflow.matching.ts';

// Real protocol peers: an SMTP server that receives and parses the mail, an HTTP receiver that checks webhook
// signatures, and a Slack-like receiver. Time moves on the injected clock; the worker runs when told
// (WORKFLOW_POLL_INTERVAL_MS=0 + app.runWorkflows()).

const SECRET = 'Sup3r-Secret-Pa55word!';
const RETRY_BASE = 30_000;

// --- an SMTP server that keeps what it receives ---

type Mail = { rcptTo: string[]; headers: Record<string, string>; subject: string; text: string; html: string; raw: string };

function decodeWords(s: string): string {
  return s.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=\s*/g, (_m, _cs, enc: string, data: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
  );
}

function parsePart(raw: string): { headers: Record<string, string>; text: string; html: string } {
  const split = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (type.startsWith('multipart/') && boundary) {
    const parts = body.split(`--${boundary}`).slice(1, -1).map((p) => parsePart(p.replace(/^\r?\n/, '')));
    return { headers, text: parts.map((p) => p.text).join(''), html: parts.map((p) => p.html).join('') };
  }
  const cte = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const decoded =
    cte === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : cte === 'quoted-printable'
        ? Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8')
        : body;
  return { headers, text: type.startsWith('text/plain') ? decoded : '', html: type.startsWith('text/html') ? decoded : '' };
}

async function startSmtp() {
  const mails: Mail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const parsed = parsePart(raw);
        mails.push({ rcptTo: session.envelope.rcptTo.map((r) => r.address), headers: parsed.headers, subject: decodeWords(parsed.headers.subject ?? ''), text: parsed.text, html: parsed.html, raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  const port = (smtp.server.address() as AddressInfo).port;
  return { mails, port, to: (address: string) => mails.filter((m) => m.rcptTo.includes(address)), close: () => new Promise<void>((r) => smtp.close(() => r())) };
}

// --- HTTP receivers ---

type Received = { path: string; headers: IncomingHttpHeaders; body: string };

async function startReceiver() {
  const received: Received[] = [];
  /** Per path: the statuses to answer in turn (the last one repeats); 200 when none. */
  const plans = new Map<string, number[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const plan = plans.get(path) ?? [];
      const status = plan.length > 1 ? plan.shift()! : (plan[0] ?? 200);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    received,
    url: (path: string, statuses?: number[]) => {
      if (statuses) plans.set(path, [...statuses]);
      return `${base}${path}`;
    },
    at: (path: string) => received.filter((r) => r.path === path),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** What a receiver does with X-Vaultgate-Signature: recompute, compare in constant time, check the timestamp. */
function verifySignature(secret: string, header: string | undefined, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
  const given = Buffer.from(m[2], 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) && Math.abs(nowSeconds - Number(m[1])) <= toleranceSeconds;
}

// --- the server ---

let server: TestServer;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let hooks: Awaited<ReturnType<typeof startReceiver>>;
let env: Record<string, string>;

beforeAll(async () => {
  smtp = await startSmtp();
  hooks = await startReceiver();
  env = {
    WORKFLOW_POLL_INTERVAL_MS: '0',
    WORKFLOW_MAX_ATTEMPTS: '3',
    WORKFLOW_RETRY_BASE_MS: String(RETRY_BASE),
    WORKFLOW_ALLOW_PRIVATE_WEBHOOKS: 'true',
    SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    SMTP_FROM: 'vaultgate <vaultgate@example.test>',
  };
  server = await startTestServer({ env });
});
afterAll(async () => {
  await server?.stop();
  await smtp?.close();
  await hooks?.close();
});

const op = <T = any>(s: TestServer, doc: DocumentNode, variables: Record<string, unknown>, auth: Auth) => s.gql<T>(print(doc), variables, auth);

const CREATE_CREDENTIAL = /* GraphQL */ `
  mutation($input: CreateCredentialInput!) {
    createCredential(input: $input) { __typename ... on CreateCredentialPayload { credential { id } } ... on ValidationError { fieldErrors { path message } } }
  }
`;
const CREATE_CATEGORY = /* GraphQL */ `
  mutation($input: CreateCategoryInput!) { createCategory(input: $input) { __typename ... on CreateCategoryPayload { category { id } } } }
`;
const REVEAL = /* GraphQL */ `
  mutation($input: RevealCredentialInput!) { revealCredential(input: $input) { __typename ... on RevealCredentialPayload { value } ... on Error { message } } }
`;
const COPY = /* GraphQL */ `
  mutation($id: ID!) { recordCredentialAccess(input: { id: $id, surface: COPY }) { __typename } }
`;

async function createCredential(s: TestServer, org: OrgFixture, input: Record<string, unknown>): Promise<string> {
  const res = await s.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', password: SECRET, ...input } }, org.admin);
  if (res.data?.createCredential?.__typename !== 'CreateCredentialPayload') throw new Error(JSON.stringify(res));
  return res.data.createCredential.credential.id as string;
}

async function reveal(s: TestServer, id: string, auth: Auth) {
  const res = await s.gql(REVEAL, { input: { id, field: 'PASSWORD' } }, auth);
  expect(res.data?.revealCredential).toEqual({ __typename: 'RevealCredentialPayload', value: SECRET });
}

async function createWorkflow(s: TestServer, org: OrgFixture, input: Record<string, unknown>, auth: Auth = org.admin) {
  const res = await op(s, CreateWorkflowDocument, { input: { organizationId: org.orgId, name: unique('wf'), trigger: 'PASSWORD_ACCESS', ...input } }, auth);
  if (res.data?.createWorkflow?.__typename !== 'CreateWorkflowPayload') throw new Error(JSON.stringify(res));
  return res.data.createWorkflow as { signingSecret: string; workflow: { id: string; name: string } };
}

async function deliveries(s: TestServer, workflowId: string, auth: Auth) {
  const res = await op(s, WorkflowDeliveriesDocument, { id: workflowId, first: 50 }, auth);
  return res.data.node.deliveries as { status: string; attemptCount: number; actionType: string; lastError: string | null; test: boolean; nextAttemptAt: string; attempts: { number: number; outcome: string; statusCode: number | null }[] }[];
}

const webhook = (url: string) => ({ type: 'WEBHOOK', url });
const bodies = (path: string) => hooks.at(path).map((r) => JSON.parse(r.body) as { event: string; test: boolean; data: Record<string, any> });

describe('password access → email', () => {
  it('sends an escaped, secret-free email for each access surface to every recipient', async () => {
    const org = await createOrg(server, 'mail');
    const member = await addMember(server, org, 'MEMBER');
    const name = `<b>Prod & "DB"</b> ${unique('c')}`;
    const credentialId = await createCredential(server, org, { name, username: 'root' });
    const [to1, to2] = [`${unique('sec')}@example.test`, `${unique('it')}@example.test`];
    const { signingSecret } = await createWorkflow(server, org, {
      actions: [{ type: 'EMAIL', recipients: [to1, to2], subject: 'Access: {{credential.name}} ({{surface}})', body: '{{actor.email}} used {{surface}} on {{credential.name}}\nin {{organization.name}} at {{accessedAt}}' }],
    });

    await reveal(server, credentialId, member);
    await server.gql(COPY, { id: credentialId }, member);
    expect(smtp.to(to1)).toHaveLength(0); // nothing leaves before the worker runs
    const run = await server.app.runWorkflows();
    expect(run).toEqual({ matched: 2, sent: 2 });

    const mails = smtp.to(to1);
    expect(mails).toHaveLength(2);
    expect(mails.every((m) => m.rcptTo.includes(to2))).toBe(true);
    expect(mails.map((m) => m.subject).sort()).toEqual([`Access: ${name} (COPY)`, `Access: ${name} (REVEAL)`]);
    const revealMail = mails.find((m) => m.subject.endsWith('(REVEAL)'))!;
    expect(revealMail.headers.from).toContain('vaultgate@example.test');
    expect(revealMail.text).toContain(`${member.email} used REVEAL on ${name}`);
    expect(revealMail.html).toContain('&lt;b&gt;Prod &amp; &quot;DB&quot;&lt;/b&gt;');
    expect(revealMail.html).not.toContain('<b>Prod');
    expect(revealMail.html).toContain('<br>');
    expect(revealMail.text).toContain(server.clock.now().toISOString().slice(0, 16));
    for (const m of mails) {
      expect(m.raw).not.toContain(SECRET);
      expect(m.raw).not.toContain(signingSecret);
    }
    // Once: a second run finds nothing new.
    expect(await server.app.runWorkflows()).toEqual({ matched: 0, sent: 0 });
    expect(smtp.to(to1)).toHaveLength(2);
  });
});

describe('webhooks and Slack', () => {
  it('POSTs a JSON body signed with HMAC-SHA256 over "<timestamp>.<body>", and a Slack message with escaped blocks', async () => {
    const org = await createOrg(server, 'hook');
    const name = `DB <prod> & ${unique('c')}`;
    const credentialId = await createCredential(server, org, { name, url: 'https://db.example.com' });
    const path = `/hook-${unique('p')}`;
    const slackPath = `/slack-${unique('p')}`;
    const { signingSecret, workflow } = await createWorkflow(server, org, {
      actions: [webhook(hooks.url(path)), { type: 'SLACK', url: hooks.url(slackPath), message: '*{{actor.email}}* revealed {{credential.name}} ({{surface}})' }],
    });
    expect(signingSecret).toMatch(/^whsec_/);

    await reveal(server, credentialId, org.admin);
    await server.app.runWorkflows();

    const [hit] = hooks.at(path);
    expect(hooks.at(path)).toHaveLength(1);
    expect(hit.headers['content-type']).toContain('application/json');
    expect(hit.headers['x-vaultgate-event']).toBe('PASSWORD_ACCESS');
    expect(hit.headers['x-vaultgate-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    const now = Math.floor(server.clock.now().getTime() / 1000);
    expect(verifySignature(signingSecret, hit.headers['x-vaultgate-signature'] as string, hit.body, now)).toBe(true);
    expect(verifySignature(signingSecret, hit.headers['x-vaultgate-signature'] as string, hit.body.replace('REVEAL', 'COPY'), now)).toBe(false);
    expect(verifySignature('whsec_wrong', hit.headers['x-vaultgate-signature'] as string, hit.body, now)).toBe(false);
    expect(verifySignature(signingSecret, hit.headers['x-vaultgate-signature'] as string, hit.body, now + 3600)).toBe(false);
    const body = JSON.parse(hit.body);
    expect(body).toMatchObject({
      event: 'PASSWORD_ACCESS',
      test: false,
      workflow: { id: workflow.id, name: workflow.name },
      data: { surface: 'REVEAL', field: 'PASSWORD', credential: { id: credentialId, name, url: 'https://db.example.com' }, actor: { email: org.admin.email } },
    });
    expect(hit.body).not.toContain(SECRET);
    expect(hit.body).not.toContain(signingSecret);

    const [slack] = hooks.at(slackPath);
    expect(hooks.at(slackPath)).toHaveLength(1);
    const message = JSON.parse(slack.body);
    const escaped = name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    expect(message.text).toBe(`*${org.admin.email}* revealed ${escaped} (REVEAL)`);
    expect(message.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: message.text } });
    expect(message.blocks[1].type).toBe('context');
    expect(slack.body).not.toContain(SECRET);

    // The Slack URL is a secret: the API shows its origin only.
    const listed = await op(server, WorkflowsDocument, { organizationId: org.orgId }, org.admin);
    const slackAction = listed.data.workflows[0].actions[1];
    expect(slackAction).toMatchObject({ type: 'SLACK', url: null, slackUrlHint: new URL(hooks.url(slackPath)).origin });
    expect(JSON.stringify(listed.data)).not.toContain(slackPath);
  });

  it('retries with exponential backoff and keeps each attempt in the delivery log', async () => {
    const org = await createOrg(server, 'retry');
    const credentialId = await createCredential(server, org, { name: unique('retry') });
    const path = `/flaky-${unique('p')}`;
    const { workflow } = await createWorkflow(server, org, { actions: [webhook(hooks.url(path, [500, 502, 200]))] });
    await reveal(server, credentialId, org.admin);

    await server.app.runWorkflows();
    expect(hooks.at(path)).toHaveLength(1);
    await server.app.runWorkflows(); // not due yet
    expect(hooks.at(path)).toHaveLength(1);
    server.clock.advance(RETRY_BASE - 1);
    await server.app.runWorkflows();
    expect(hooks.at(path)).toHaveLength(1);
    server.clock.advance(1);
    await server.app.runWorkflows();
    expect(hooks.at(path)).toHaveLength(2);
    server.clock.advance(2 * RETRY_BASE - 1); // the second delay doubles
    await server.app.runWorkflows();
    expect(hooks.at(path)).toHaveLength(2);
    server.clock.advance(1);
    await server.app.runWorkflows();
    expect(hooks.at(path)).toHaveLength(3);
    // The same delivery each time (receivers de-duplicate on it).
    expect(new Set(hooks.at(path).map((r) => r.headers['x-vaultgate-delivery'])).size).toBe(1);

    const [d] = await deliveries(server, workflow.id, org.admin);
    expect(d).toMatchObject({ status: 'DELIVERED', attemptCount: 3, lastError: null });
    expect(d.attempts.map((a) => [a.number, a.outcome, a.statusCode])).toEqual([
      [1, 'FAILED', 500],
      [2, 'FAILED', 502],
      [3, 'DELIVERED', 200],
    ]);
  });

  it('gives up after WORKFLOW_MAX_ATTEMPTS and tells the failure address once per streak', async () => {
    const org = await createOrg(server, 'giveup');
    const credentialId = await createCredential(server, org, { name: unique('down') });
    const path = `/down-${unique('p')}`;
    const ops = `${unique('ops')}@example.test`;
    const { workflow } = await createWorkflow(server, org, { actions: [webhook(hooks.url(path, [503]))], failureEmail: ops, failureThreshold: 1 });
    await reveal(server, credentialId, org.admin);
    await server.app.runWorkflows();
    server.clock.advance(RETRY_BASE);
    await server.app.runWorkflows();
    expect(smtp.to(ops)).toHaveLength(0);
    server.clock.advance(2 * RETRY_BASE);
    await server.app.runWorkflows();
    expect(hooks.at(path)).toHaveLength(3);

    const notices = smtp.to(ops);
    expect(notices).toHaveLength(1);
    expect(notices[0].subject).toBe(`vaultgate: workflow "${workflow.name}" keeps failing`);
    expect(notices[0].text).toContain('HTTP 503');
    expect(notices[0].raw).not.toContain(path);
    expect(notices[0].raw).not.toContain(SECRET);
    const log = await deliveries(server, workflow.id, org.admin);
    expect(log.find((d) => d.actionType === 'WEBHOOK')).toMatchObject({ status: 'FAILED', attemptCount: 3, lastError: 'HTTP 503' });
    expect(log.find((d) => d.actionType === 'FAILURE_NOTICE')).toMatchObject({ status: 'DELIVERED' });

    // A second give-up in the same streak does not notify again.
    await reveal(server, credentialId, org.admin);
    await server.app.runWorkflows();
    server.clock.advance(RETRY_BASE);
    await server.app.runWorkflows();
    server.clock.advance(2 * RETRY_BASE);
    await server.app.runWorkflows();
    expect(hooks.at(path)).toHaveLength(6);
    expect(smtp.to(ops)).toHaveLength(1);
    const listed = await op(server, WorkflowsDocument, { organizationId: org.orgId }, org.admin);
    expect(listed.data.workflows[0].consecutiveFailures).toBe(2);
  });
});

describe('access-request triggers', () => {
  it('notifies when a request waits for approvers, and when it is decided', async () => {
    const org = await createOrg(server, 'req');
    const member = await addMember(server, org, 'MEMBER');
    const credentialId = await createCredential(server, org, { name: unique('restricted'), restricted: true });
    const policy = await server.gql(
      `mutation($input: CreateAccessPolicyInput!) { createAccessPolicy(input: $input) { __typename } }`,
      { input: { organizationId: org.orgId, name: 'p', scope: { credentialIds: [credentialId] }, requesters: { roles: ['MEMBER'] }, steps: [{ approvers: { roles: ['ADMIN'] } }] } },
      org.admin,
    );
    expect(policy.data.createAccessPolicy.__typename).toBe('CreateAccessPolicyPayload');
    const pendingPath = `/pending-${unique('p')}`;
    const decidedPath = `/decided-${unique('p')}`;
    await createWorkflow(server, org, { trigger: 'ACCESS_REQUEST_PENDING', actions: [webhook(hooks.url(pendingPath))] });
    await createWorkflow(server, org, { trigger: 'ACCESS_REQUEST_DECIDED', actions: [webhook(hooks.url(decidedPath))] });

    const requested = await server.gql(
      `mutation($input: RequestAccessInput!) { requestAccess(input: $input) { __typename ... on RequestAccessPayload { accessRequest { id state } } } }`,
      { input: { credentialId, reason: 'Patch <Tuesday>' } },
      member,
    );
    const requestId = requested.data.requestAccess.accessRequest.id;
    await server.app.runWorkflows();
    expect(bodies(pendingPath)).toHaveLength(1);
    expect(bodies(pendingPath)[0]).toMatchObject({ event: 'ACCESS_REQUEST_PENDING', data: { request: { id: requestId, state: 'PENDING', reason: 'Patch <Tuesday>', requester: { email: member.email } }, actor: { email: member.email } } });
    expect(bodies(decidedPath)).toHaveLength(0);

    const denied = await server.gql(`mutation($input: DenyAccessRequestInput!) { denyAccessRequest(input: $input) { __typename } }`, { input: { id: requestId, comment: 'not today' } }, org.admin);
    expect(denied.data.denyAccessRequest.__typename).toBe('DenyAccessRequestPayload');
    await server.app.runWorkflows();
    expect(bodies(decidedPath)).toHaveLength(1);
    expect(bodies(decidedPath)[0]).toMatchObject({ event: 'ACCESS_REQUEST_DECIDED', data: { request: { state: 'DENIED', comment: 'not today' }, actor: { email: org.admin.email } } });
    expect(bodies(pendingPath)).toHaveLength(1);
  });
});

describe('filters', () => {
  it('runs only when every filter matches: categories ANY_OF / NONE_OF, text CONTAINS / STARTS_WITH / DOES_NOT_CONTAIN', async () => {
    const org = await createOrg(server, 'filter');
    const category = async (name: string) => (await server.gql(CREATE_CATEGORY, { input: { organizationId: org.orgId, name } }, org.admin)).data.createCategory.category.id as string;
    const servers = await category(unique('Servers'));
    const network = await category(unique('Network'));
    const creds = {
      prodServer: await createCredential(server, org, { name: 'PROD web server', url: 'https://web.example.com', categoryId: servers, notes: 'primary' }),
      stagingServer: await createCredential(server, org, { name: 'staging web server', url: 'http://stage.example.com', categoryId: servers }),
      prodSwitch: await createCredential(server, org, { name: 'prod core switch', url: 'https://switch.example.com', categoryId: network }),
      uncategorised: await createCredential(server, org, { name: 'prod misc', url: 'https://misc.example.com', notes: 'legacy box' }),
    };
    const anyOf = `/anyof-${unique('p')}`;
    const noneOf = `/noneof-${unique('p')}`;
    const text = `/text-${unique('p')}`;
    await createWorkflow(server, org, { filters: [{ field: 'CATEGORY', operator: 'ANY_OF', values: [servers] }], actions: [webhook(hooks.url(anyOf))] });
    await createWorkflow(server, org, { filters: [{ field: 'CATEGORY', operator: 'NONE_OF', values: [servers] }], actions: [webhook(hooks.url(noneOf))] });
    await createWorkflow(server, org, {
      filters: [
        { field: 'NAME', operator: 'CONTAINS', values: ['prod'] },
        { field: 'URL', operator: 'STARTS_WITH', values: ['https://'] },
        { field: 'NOTES', operator: 'DOES_NOT_CONTAIN', values: ['LEGACY'] },
        { field: 'ORGANIZATION_STATUS', operator: 'ANY_OF', values: ['ACTIVE'] },
      ],
      actions: [webhook(hooks.url(text))],
    });
    for (const id of Object.values(creds)) await reveal(server, id, org.admin);
    await server.app.runWorkflows();
    const names = (path: string) => bodies(path).map((b) => b.data.credential.name).sort();
    expect(names(anyOf)).toEqual(['PROD web server', 'staging web server']);
    expect(names(noneOf)).toEqual(['prod core switch', 'prod misc']);
    expect(names(text)).toEqual(['PROD web server', 'prod core switch']);
  });

  it('refuses filters that do not fit, and ids of another organization, with field paths', async () => {
    const org = await createOrg(server, 'badfilter');
    const other = await createOrg(server, 'otherorg');
    const foreignCredential = await createCredential(server, other, { name: 'theirs' });
    const attempt = (filters: unknown[], actions: unknown[] = [webhook(hooks.url('/x'))]) =>
      op(server, CreateWorkflowDocument, { input: { organizationId: org.orgId, name: 'bad', trigger: 'PASSWORD_ACCESS', filters, actions } }, org.admin).then((r) => r.data.createWorkflow);
    expect(await attempt([{ field: 'NAME', operator: 'ANY_OF', values: ['x'] }])).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'filters', '0', 'operator'] }] });
    expect(await attempt([{ field: 'CREDENTIAL', operator: 'ANY_OF', values: [foreignCredential] }])).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'filters', '0', 'values', '0'], message: 'not found in this organization' }] });
    expect(await attempt([], [{ type: 'EMAIL', recipients: ['a@example.test'], subject: '{{credential.password}}', body: 'x' }])).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'actions', '0', 'subject'] }] });
    expect(await attempt([], [])).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'actions'] }] });
  });
});

describe('enabled and testing', () => {
  it('a disabled workflow sends nothing, and turned on it starts from now (no backlog)', async () => {
    const org = await createOrg(server, 'disabled');
    const credentialId = await createCredential(server, org, { name: unique('c') });
    const path = `/off-${unique('p')}`;
    const { workflow } = await createWorkflow(server, org, { enabled: false, actions: [webhook(hooks.url(path))] });
    await reveal(server, credentialId, org.admin);
    await server.app.runWorkflows();
    expect(hooks.at(path)).toHaveLength(0);

    const on = await op(server, SetWorkflowEnabledDocument, { input: { id: workflow.id, enabled: true } }, org.admin);
    expect(on.data.setWorkflowEnabled.workflow.enabled).toBe(true);
    await server.app.runWorkflows();
    expect(hooks.at(path)).toHaveLength(0);
    await reveal(server, credentialId, org.admin);
    await server.app.runWorkflows();
    expect(hooks.at(path)).toHaveLength(1);

    // Off again: an access while it is off is never sent.
    await op(server, SetWorkflowEnabledDocument, { input: { id: workflow.id, enabled: false } }, org.admin);
    await reveal(server, credentialId, org.admin);
    await server.app.runWorkflows();
    expect(hooks.at(path)).toHaveLength(1);
  });

  it('testWorkflowAction sends one sample and answers whether it arrived', async () => {
    const org = await createOrg(server, 'test');
    const okPath = `/ok-${unique('p')}`;
    const badPath = `/bad-${unique('p')}`;
    const to = `${unique('t')}@example.test`;
    const { workflow, signingSecret } = await createWorkflow(server, org, {
      actions: [webhook(hooks.url(okPath)), webhook(hooks.url(badPath, [503])), { type: 'EMAIL', recipients: [to], subject: 'Test {{workflow.name}}', body: '{{credential.name}}' }],
    });
    const one = await op(server, TestWorkflowActionDocument, { input: { id: workflow.id, actionIndex: 0 } }, org.admin);
    expect(one.data.testWorkflowAction).toMatchObject({ __typename: 'TestWorkflowActionPayload', delivered: true, results: [{ actionIndex: 0, type: 'WEBHOOK', delivered: true, statusCode: 200 }] });
    const sample = hooks.at(okPath)[0];
    expect(JSON.parse(sample.body)).toMatchObject({ test: true, data: { credential: { name: 'Sample credential' } } });
    expect(verifySignature(signingSecret, sample.headers['x-vaultgate-signature'] as string, sample.body, Math.floor(server.clock.now().getTime() / 1000))).toBe(true);

    const all = await op(server, TestWorkflowActionDocument, { input: { id: workflow.id } }, org.admin);
    expect(all.data.testWorkflowAction.delivered).toBe(false);
    expect(all.data.testWorkflowAction.results.map((r: any) => [r.actionIndex, r.delivered, r.statusCode])).toEqual([
      [0, true, 200],
      [1, false, 503],
      [2, true, null],
    ]);
    expect(smtp.to(to)).toHaveLength(1);
    expect(smtp.to(to)[0].subject).toBe(`Test ${workflow.name}`);
    // Tests are one attempt, never retried, never a workflow failure.
    server.clock.advance(10 * RETRY_BASE);
    await server.app.runWorkflows();
    expect(hooks.at(badPath)).toHaveLength(1);
    const log = await deliveries(server, workflow.id, org.admin);
    expect(log.every((d) => d.test)).toBe(true);
    const listed = await op(server, WorkflowsDocument, { organizationId: org.orgId }, org.admin);
    expect(listed.data.workflows[0].consecutiveFailures).toBe(0);

    const bad = await op(server, TestWorkflowActionDocument, { input: { id: workflow.id, actionIndex: 7 } }, org.admin);
    expect(bad.data.testWorkflowAction).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'actionIndex'] }] });
  });

  it('lists the template variables', async () => {
    const org = await createOrg(server, 'vars');
    const res = await op(server, WorkflowVariablesDocument, { trigger: 'PASSWORD_ACCESS' }, org.admin);
    const names = res.data.workflowVariables.map((v: { name: string }) => v.name);
    expect(names).toEqual(expect.arrayContaining(['credential.name', 'actor.email', 'organization.name', 'surface', 'accessedAt']));
    expect(names).not.toContain('request.reason');
    const requests = await op(server, WorkflowVariablesDocument, { trigger: 'ACCESS_REQUEST_DECIDED' }, org.admin);
    expect(requests.data.workflowVariables.map((v: { name: string }) => v.name)).toContain('request.reason');
  });
});

describe('where webhooks may go', () => {
  it('never to link-local or metadata addresses, even with private addresses allowed', async () => {
    const org = await createOrg(server, 'ssrf');
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://metadata.google.internal/computeMetadata/v1/', 'http://100.100.100.200/', 'http://[fe80::1]/', 'ftp://example.com/', 'http://[::ffff:169.254.169.254]/']) {
      const res = await op(server, CreateWorkflowDocument, { input: { organizationId: org.orgId, name: 'x', trigger: 'PASSWORD_ACCESS', actions: [webhook(url)] } }, org.admin);
      expect(res.data.createWorkflow, url).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'actions', '0', 'url'] }] });
    }
    const slack = await op(server, CreateWorkflowDocument, { input: { organizationId: org.orgId, name: 'x', trigger: 'PASSWORD_ACCESS', actions: [{ type: 'SLACK', url: 'http://169.254.169.254/', message: 'hi' }] } }, org.admin);
    expect(slack.data.createWorkflow.__typename).toBe('ValidationError');
  });

  it('not to loopback or private addresses unless WORKFLOW_ALLOW_PRIVATE_WEBHOOKS=true', async () => {
    const strict = await startTestServer({ env: { ...env, WORKFLOW_ALLOW_PRIVATE_WEBHOOKS: 'false' } });
    try {
      const org = await createOrg(strict, 'strict');
      for (const url of [hooks.url('/loop'), 'http://localhost:8080/', 'http://10.0.0.5/', 'http://192.168.1.1/', 'http://[::1]/']) {
        const res = await op(strict, CreateWorkflowDocument, { input: { organizationId: org.orgId, name: 'x', trigger: 'PASSWORD_ACCESS', actions: [webhook(url)] } }, org.admin);
        expect(res.data.createWorkflow, url).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'actions', '0', 'url'], message: 'loopback and private addresses are not allowed' }] });
      }
      // A public name is accepted; where it resolves is checked again on every call.
      const ok = await op(strict, CreateWorkflowDocument, { input: { organizationId: org.orgId, name: 'x', trigger: 'PASSWORD_ACCESS', actions: [webhook('https://hooks.example.com/in')] } }, org.admin);
      expect(ok.data.createWorkflow.__typename).toBe('CreateWorkflowPayload');
      expect(hooks.at('/loop')).toHaveLength(0);
    } finally {
      await strict.stop();
    }
  });
});

describe('who may', () => {
  it('ADMIN and MANAGER manage; AUDITOR reads; MEMBER neither', async () => {
    const org = await createOrg(server, 'roles');
    const manager = await addMember(server, org, 'MANAGER');
    const auditor = await addMember(server, org, 'AUDITOR');
    const member = await addMember(server, org, 'MEMBER');
    const { workflow } = await createWorkflow(server, org, { actions: [webhook(hooks.url('/roles'))] }, manager);
    const byAuditor = await op(server, WorkflowsDocument, { organizationId: org.orgId }, auditor);
    expect(byAuditor.data.workflows.map((w: { id: string }) => w.id)).toEqual([workflow.id]);

    for (const who of [auditor, member]) {
      const create = await op(server, CreateWorkflowDocument, { input: { organizationId: org.orgId, name: 'x', trigger: 'PASSWORD_ACCESS', actions: [webhook(hooks.url('/x'))] } }, who);
      expect(create.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const disable = await op(server, SetWorkflowEnabledDocument, { input: { id: workflow.id, enabled: false } }, who);
      expect(disable.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const listByMember = await op(server, WorkflowsDocument, { organizationId: org.orgId }, member);
    expect(listByMember.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const varsByMember = await op(server, WorkflowVariablesDocument, {}, member);
    expect(varsByMember.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('another organization’s workflow answers exactly like one that does not exist', async () => {
    const mine = await createOrg(server, 'mine');
    const theirs = await createOrg(server, 'theirs');
    const { workflow } = await createWorkflow(server, theirs, { actions: [webhook(hooks.url('/theirs'))] });
    const missing = Buffer.from('Workflow:00000000-0000-0000-0000-000000000000').toString('base64');
    const answers = async (id: string) => {
      const update = await op(server, UpdateWorkflowDocument, { input: { id, name: 'mine now', trigger: 'PASSWORD_ACCESS', actions: [webhook(hooks.url('/mine'))] } }, mine.admin);
      const del = await op(server, DeleteWorkflowDocument, { input: { id } }, mine.admin);
      const test = await op(server, TestWorkflowActionDocument, { input: { id } }, mine.admin);
      const node = await op(server, WorkflowDeliveriesDocument, { id }, mine.admin);
      return [update.errors?.[0], del.errors?.[0], test.errors?.[0], node.data?.node ?? null];
    };
    const foreign = await answers(workflow.id);
    expect(foreign).toEqual(await answers(missing));
    expect(foreign[0]).toMatchObject({ message: 'Not found, or not allowed.', extensions: { code: 'FORBIDDEN' } });
    expect(foreign[3]).toBeNull();
    const list = await op(server, WorkflowsDocument, { organizationId: theirs.orgId }, mine.admin);
    expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(hooks.at('/theirs')).toHaveLength(0);
    // Still there, unchanged, for its owners.
    const owners = await op(server, WorkflowsDocument, { organizationId: theirs.orgId }, theirs.admin);
    expect(owners.data.workflows[0].name).toBe(workflow.name);
  });
});

describe('durability', () => {
  // Several instances share PostgreSQL; SQLite is embedded in one instance (as for the scheduler's race test).
  it.runIf(testDbKind() === 'postgres')('two instances on one database send each delivery once', async () => {
    const org = await createOrg(server, 'twins');
    const twin = await startTestServer({ env, shareWith: server });
    try {
      const credentialId = await createCredential(server, org, { name: unique('c') });
      const path = `/twins-${unique('p')}`;
      await createWorkflow(server, org, { actions: [webhook(hooks.url(path))] });
      for (let i = 0; i < 5; i++) await reveal(i % 2 ? twin : server, credentialId, org.admin);
      const runs = await Promise.all([server.app.runWorkflows(), twin.app.runWorkflows(), server.app.runWorkflows(), twin.app.runWorkflows()]);
      await Promise.all([server.app.runWorkflows(), twin.app.runWorkflows()]);
      expect(runs.reduce((n, r) => n + r.matched, 0)).toBe(5);
      expect(hooks.at(path)).toHaveLength(5);
      expect(new Set(hooks.at(path).map((r) => r.headers['x-vaultgate-delivery'])).size).toBe(5);
    } finally {
      await twin.stop();
    }
  });

  it('a restart between matching and sending sends each delivery exactly once', async () => {
    const first = await startTestServer({ env });
    let second: TestServer | undefined;
    try {
      const org = await createOrg(first, 'restart');
      const credentialId = await createCredential(first, org, { name: unique('c') });
      const path = `/restart-${unique('p')}`;
      const to = `${unique('r')}@example.test`;
      await createWorkflow(first, org, { actions: [webhook(hooks.url(path)), { type: 'EMAIL', recipients: [to], subject: 's', body: 'b' }] });
      await reveal(first, credentialId, org.admin);
      // Deliveries are created (the outbox is read, the cursor moved), then the process goes away before sending.
      expect(await enqueueWorkflowDeliveries(first.app.deps)).toBe(2);
      await first.app.stop();
      expect(hooks.at(path)).toHaveLength(0);

      second = await startTestServer({ env, shareWith: first });
      expect(await second.app.runWorkflows()).toEqual({ matched: 0, sent: 2 });
      expect(hooks.at(path)).toHaveLength(1);
      expect(smtp.to(to)).toHaveLength(1);
      // Re-reading the outbox (cursor set back, as after a crash before commit) creates nothing twice.
      await second.app.deps.db.workflowCursor.updateMany({ data: { seq: 0 } });
      expect(await second.app.runWorkflows()).toEqual({ matched: 0, sent: 0 });
      second.clock.advance(3_600_000);
      await second.app.runWorkflows();
      expect(hooks.at(path)).toHaveLength(1);
      expect(smtp.to(to)).toHaveLength(1);
    } finally {
      await second?.stop();
      await first.stop();
    }
  });
});
