// Adversarial fuzzing: every Mutation field of the committed schema, called through the endpoint with variables
// generated (fast-check) from its argument types and salted with junk — prototype-pollution keys, NUL bytes, lone
// surrogates, strings up to 100 KB, wrong types, nested junk — by an ADMIN, a MEMBER and an anonymous caller; and
// bodies with invalid UTF-8 sent as raw bytes. Every answer must be a typed result or a GraphQL error that is not
// internal (validation, FORBIDDEN, UNAUTHENTICATED…): never a 5xx, never "Unexpected error.", never internals.
// The server stays healthy and serves normal requests afterwards.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember } from '../support/fixtures.ts';
import { APPROVE, CREATE_CREDENTIAL, ENV, INTERNALS, REVEAL, requestAccess, restrictedWorld, SECRET } from './support.ts';

let server: TestServer;
const realIds: string[] = [];
let admin: { token: string };
let member: { token: string };
let ordinaryId: string;
let orgId: string;

/** The ordinary credential the health check reveals (fuzzed deletes and archives may take it away). */
async function createOrdinary(): Promise<string> {
  const ordinary = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: orgId, kind: 'PASSWORD', name: 'ordinary', password: SECRET } }, admin);
  return ordinary.data.createCredential.credential.id as string;
}

beforeAll(async () => {
  server = await startTestServer({ env: ENV });
  const w = await restrictedWorld(server, 'adv-fuzz', { approvers: 1 });
  admin = w.org.admin;
  member = w.requester;
  orgId = w.org.orgId;
  ordinaryId = await createOrdinary();
  const r = await requestAccess(server, w);
  const folder = await server.gql(`mutation($input: CreateFolderInput!) { createFolder(input: $input) { ... on CreateFolderPayload { folder { id } } } }`, { input: { organizationId: w.org.orgId, name: 'F' } }, admin);
  const categories = await server.gql(`query($id: ID!) { organization(id: $id) { categories { id } } }`, { id: w.org.orgId }, admin);
  const auditor = await addMember(server, w.org, 'AUDITOR');
  realIds.push(
    w.org.orgId,
    w.credentialId,
    ordinaryId,
    w.policyId,
    r.id,
    w.requester.userId,
    auditor.membershipId,
    folder.data.createFolder.folder.id,
    categories.data.organization.categories[0].id,
  );
});
afterAll(async () => {
  await server?.stop();
});

// --- junk ---

const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'];
/** Sets a key as an own, enumerable property even when it is "__proto__", so JSON.stringify sends it. */
function withKey(target: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
  return target;
}
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfffy',
    '\ufeff',
    '__proto__',
    'constructor',
    'prototype',
    "' OR '1'='1' --",
    '%',
    '_%\\',
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    'javascript:alert(1)',
    '../../../../etc/passwd',
    '${7*7}{{7*7}}',
    'http://169.254.169.254/latest/meta-data/',
    'NaN',
    '-1',
    '1e309',
    '0x10',
    '2026-02-30T25:61:00Z',
    '9999-12-31T23:59:59.999Z',
  ),
  fc.tuple(fc.string({ maxLength: 8 }), loneSurrogate, fc.string({ maxLength: 8 })).map(([a, s, b]) => a + s + b),
  // Huge: up to 100 KB (ASCII or multi-byte), kept under any body limit with the rest of the request.
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 1_000, max: 100_000 }), fc.constantFrom('A', 'é', '\u0000', '𝄞')).map(([n, c]) => c.repeat(Math.floor(n / Buffer.byteLength(c)))),
  },
);
const junkLeaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, -0, 1.5, 1e308),
  nastyString,
);
const junk: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, junkLeaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 3 }),
  object: fc
    .tuple(fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 3 }), fc.subarray(POLLUTION_KEYS), tie('value'))
    .map(([o, keys, v]) => keys.reduce((acc, k) => withKey(acc, k, v), { ...o } as Record<string, unknown>)),
})).value;

const idArb = () =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...realIds) },
    { weight: 1, arbitrary: nastyString },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('Credential', 'AccessRequest', 'Organization', 'User', 'Membership', 'Folder', 'X'), nastyString).map(([t, s]) => encodeGlobalID(t, s)) },
  );

/**
 * A value for `type`. TYPED: always of the declared shape, with nasty content (so it passes GraphQL's coercion and
 * reaches resolvers and services). JUNK: now and then anything at all, pollution keys included.
 */
type Mode = 'typed' | 'junk';
function valueFor(type: GraphQLInputType, mode: Mode, depth = 0): fc.Arbitrary<unknown> {
  const right = rightValueFor(type, mode, depth);
  return mode === 'typed' ? right : fc.oneof({ weight: 4, arbitrary: right }, { weight: 1, arbitrary: junk });
}

function rightValueFor(type: GraphQLInputType, mode: Mode, depth: number): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return valueFor(type.ofType as GraphQLInputType, mode, depth);
  if (isListType(type)) return fc.array(valueFor(type.ofType as GraphQLInputType, mode, depth + 1), { maxLength: depth > 2 ? 1 : 4 });
  if (isEnumType(type)) return fc.constantFrom(...type.getValues().map((v) => v.name));
  if (isScalarType(type)) {
    switch (type.name) {
      case 'ID':
        return idArb();
      case 'String':
        return nastyString;
      case 'Int':
        return fc.oneof(fc.integer({ min: -5, max: 200 }), fc.integer());
      case 'Float':
        return fc.double({ noNaN: true });
      case 'Boolean':
        return fc.boolean();
      case 'DateTime':
        return fc.oneof(fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15) }).map((d) => d.toISOString()), nastyString);
      default:
        return junkLeaf;
    }
  }
  if (isInputObjectType(type)) {
    if (depth > 4) return fc.constant({});
    const fields = type.getFields();
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [name, f] of Object.entries(fields)) model[name] = valueFor(f.type, mode, depth + 1);
    const required = Object.entries(fields).filter(([, f]) => isNonNullType(f.type)).map(([n]) => n);
    if (mode === 'typed') return fc.record(model, { requiredKeys: required });
    return fc
      .tuple(fc.record(model, { requiredKeys: required }), fc.subarray(POLLUTION_KEYS, { maxLength: 2 }), junk)
      .map(([o, keys, v]) => keys.reduce((acc, k) => withKey(acc, k, v), { ...o } as Record<string, unknown>));
  }
  return junk;
}

const typeString = (t: GraphQLInputType): string => t.toString();

function documentFor(field: GraphQLField<unknown, unknown>, operation: 'mutation' | 'query' = 'mutation'): string {
  const vars = field.args.map((a) => `$${a.name}: ${typeString(a.type)}`).join(', ');
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  // Connections are asked for their count too: it runs the filter a second time, in a resolver of its own.
  const named = getNamedType(field.type);
  const selection = isLeafType(named) ? '' : named.name.endsWith('Connection') ? ' { __typename totalCount }' : ' { __typename }';
  return `${operation} Fuzz${vars ? `(${vars})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
}

function variablesFor(field: GraphQLField<unknown, unknown>, mode: Mode): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const a of field.args) model[a.name] = valueFor(a.type, mode);
  return fc.record(model, { requiredKeys: field.args.filter((a) => isNonNullType(a.type)).map((a) => a.name) });
}

/** Every string inside `value` (the caller's own input may be quoted back in a validation message). */
function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value && typeof value === 'object') for (const k of Object.keys(value)) (out.push(k), stringsIn((value as Record<string, unknown>)[k], out));
  return out;
}

type Sent = { field: string; actor: string; status: number; text: string; variables: unknown };

/** Why a response is not acceptable, or null. */
function problemOf(status: number, text: string, variables: unknown): string | null {
  if (status >= 500) return `HTTP ${status}`;
  let body: { errors?: { message?: string; extensions?: { code?: string } }[] };
  try {
    body = JSON.parse(text);
  } catch {
    return status === 413 || status === 400 ? null : `not JSON (HTTP ${status})`;
  }
  for (const e of body.errors ?? []) {
    if (e.message === 'Unexpected error.' || e.extensions?.code === 'INTERNAL_SERVER_ERROR') return `masked internal error: ${e.message}`;
  }
  let scrubbed = text;
  for (const s of stringsIn(variables).sort((a, b) => b.length - a.length)) {
    if (s.length >= 3) scrubbed = scrubbed.replaceAll(JSON.stringify(s).slice(1, -1), '');
  }
  const leak = INTERNALS.exec(scrubbed);
  if (leak) return `internals in the answer: ${leak[0]}`;
  if (scrubbed.includes(SECRET)) return 'a secret in the answer';
  return null;
}

async function send(body: string | Buffer, token?: string): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(server.url, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  return { status: res.status, text: await res.text() };
}

async function expectHealthy() {
  const health = await fetch(server.url.replace('/graphql', '/healthz'));
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok' });
  const viewer = await server.gql(`query { viewer { kind user { id } } }`, {}, admin);
  expect(viewer.errors).toBeUndefined();
  expect(viewer.data.viewer).toMatchObject({ kind: 'USER', user: { id: expect.any(String) } });
  const revealed = await server.gql(REVEAL, { input: { id: ordinaryId, field: 'PASSWORD' } }, admin);
  expect(revealed.data?.revealCredential?.value, JSON.stringify(revealed)).toBe(SECRET);
}

/** Runs per mutation: typed variables reach the services; junk ones mostly stop at GraphQL's coercion. */
const localId = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':').slice(1).join(':');

const RUNS = { typed: 12, junk: 4 };

const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));
const mutations = Object.values(schema.getMutationType()!.getFields());
const queries = Object.values(schema.getQueryType()!.getFields()).filter((f) => f.args.length > 0);

describe('adversarial: fuzzing every mutation', () => {
  it('derives the mutations from the schema', () => {
    expect(mutations.length).toBeGreaterThan(40);
    expect(mutations.map((m) => m.name)).toEqual(expect.arrayContaining(['revealCredential', 'approveAccessRequest', 'createCredential', 'signIn']));
  });

  it('junk variables for every mutation, as ADMIN, MEMBER and anonymous: typed or non-internal errors only, never a 5xx', async () => {
    const failures: Sent[] = [];
    const outcomes = new Map<string, number>();
    let sent = 0;
    for (const [i, field] of mutations.entries()) {
      const document = documentFor(field);
      // signOut ends the session it is sent with; it goes out anonymously only.
      const actors = field.name === 'signOut' ? ['anonymous'] : ['admin', 'member', 'anonymous'];
      const samples = [
        ...fc.sample(fc.tuple(variablesFor(field, 'typed'), fc.constantFrom(...actors)), { numRuns: RUNS.typed, seed: 4242 + i }),
        ...fc.sample(fc.tuple(variablesFor(field, 'junk'), fc.constantFrom(...actors)), { numRuns: RUNS.junk, seed: 2424 + i }),
      ];
      await Promise.all(
        samples.map(async ([variables, actor]) => {
          const token = actor === 'admin' ? admin.token : actor === 'member' ? member.token : undefined;
          const { status, text } = await send(JSON.stringify({ query: document, variables }), token);
          sent++;
          const outcome = `${status} ${/"__typename":"(\w+)"/.exec(text)?.[1] ?? /"code":"(\w+)"/.exec(text)?.[1] ?? '?'}`;
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          const problem = problemOf(status, text, variables);
          if (problem) failures.push({ field: field.name, actor, status, text: `${problem} — ${text.slice(0, 300)}`, variables: JSON.stringify(variables).slice(0, 300) });
        }),
      );
      // A fuzzed setOrganizationSecurity may have required a second factor the fuzzing users do not have: put the
      // organizations back, so the mutations after it are still tried by someone who may act.
      if (field.name === 'setOrganizationSecurity') {
        await server.app.deps.db.organization.updateMany({ data: { requireMfa: false, requireStepUp: false } });
        server.app.deps.principals.clear();
      }
      // Archiving releases no secrets and opens the way to deletion, and rotation (rotateCredential, the bulk
      // rotateCredentials) gives it a new secret, all legitimately: the credential the health check reveals is put back
      // (or made anew) after each mutation, so every later mutation still has the known secret to protect.
      const kept = await server.app.deps.db.credential.updateMany({ where: { id: localId(ordinaryId), currentVersion: 1 }, data: { archivedAt: null } });
      if (kept.count === 0) {
        const replacement = await createOrdinary();
        realIds.splice(realIds.indexOf(ordinaryId), 1, replacement);
        ordinaryId = replacement;
      }
    }
    expect(sent).toBe(mutations.length * (RUNS.typed + RUNS.junk));
    // Not everything stopped at GraphQL's gate: many calls reached the services and got typed results.
    const typed = [...outcomes].filter(([k]) => /^200 [A-Z][a-z]/.test(k)).reduce((n, [, c]) => n + c, 0);
    expect(typed, JSON.stringify([...outcomes])).toBeGreaterThanOrEqual(50);
    expect(failures, JSON.stringify(failures, null, 1)).toEqual([]);
    await expectHealthy();
  });

  it('typed junk for every query with arguments (filters, ids, cursors): typed or non-internal errors only', async () => {
    const failures: Sent[] = [];
    for (const [i, field] of queries.entries()) {
      const document = documentFor(field, 'query');
      const samples = [
        ...fc.sample(fc.tuple(variablesFor(field, 'typed'), fc.constantFrom('admin', 'member', 'anonymous')), { numRuns: 6, seed: 99 + i }),
        ...fc.sample(fc.tuple(variablesFor(field, 'junk'), fc.constantFrom('admin', 'member')), { numRuns: 2, seed: 199 + i }),
      ];
      await Promise.all(
        samples.map(async ([variables, actor]) => {
          const token = actor === 'admin' ? admin.token : actor === 'member' ? member.token : undefined;
          const { status, text } = await send(JSON.stringify({ query: document, variables }), token);
          const problem = problemOf(status, text, variables);
          if (problem) failures.push({ field: field.name, actor, status, text: `${problem} — ${text.slice(0, 300)}`, variables: JSON.stringify(variables).slice(0, 300) });
        }),
      );
    }
    expect(failures, JSON.stringify(failures, null, 1)).toEqual([]);
    await expectHealthy();
  });

  it('a NUL byte wherever text reaches the database (PostgreSQL refuses it): refused as input, never an internal error', async () => {
    const org = realIds[0];
    const cases: [string, string, Record<string, unknown>][] = [
      ['signIn email', `mutation($input: SignInInput!) { signIn(input: $input) { __typename } }`, { input: { email: 'a\u0000@example.test', password: 'x'.repeat(12) } }],
      ['credential notes', `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { __typename } }`, { input: { organizationId: org, kind: 'PASSWORD', name: 'n', password: 'p', notes: 'a\u0000b' } }],
      ['credentials search', `query($f: CredentialFilter!) { credentials(filter: $f) { totalCount edges { node { id } } } }`, { f: { organizationId: org, search: 'a\u0000b' } }],
      ['credentials nameContains', `query($f: CredentialFilter!) { credentials(filter: $f) { totalCount } }`, { f: { organizationId: org, nameContains: '\u0000' } }],
      ['credentials search too long', `query($f: CredentialFilter!) { credentials(filter: $f) { edges { node { id } } } }`, { f: { organizationId: org, search: 'a'.repeat(300) } }],
      ['audit action', `query($f: AuditEventFilter!) { auditEvents(filter: $f) { totalCount } }`, { f: { organizationId: org, action: 'a\u0000' } }],
      ['audit prefix', `query($f: AuditEventFilter!) { auditEvents(filter: $f) { totalCount } }`, { f: { organizationId: org, actionPrefix: 'a\u0000' } }],
      ['node', `query($id: ID!) { node(id: $id) { id } }`, { id: encodeGlobalID('Credential', 'a\u0000b') }],
      ['nodes', `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [encodeGlobalID('AccessRequest', '\u0000')] }],
      ['reveal', `mutation($input: RevealCredentialInput!) { revealCredential(input: $input) { __typename } }`, { input: { id: encodeGlobalID('Credential', 'x\u0000'), field: 'PASSWORD' } }],
      ['approve', `mutation($input: ApproveAccessRequestInput!) { approveAccessRequest(input: $input) { __typename } }`, { input: { id: encodeGlobalID('AccessRequest', 'x\u0000') } }],
    ];
    const failures: string[] = [];
    for (const [label, doc, variables] of cases) {
      const res = await server.gql(doc, variables, label === 'signIn email' ? {} : admin);
      const problem = problemOf(res.status, JSON.stringify(res), variables);
      if (problem) failures.push(`${label}: ${problem}`);
    }
    expect(failures).toEqual([]);
    await expectHealthy();
  });

  it('raw bytes: invalid UTF-8, lone-surrogate escapes, NUL bytes and pollution keys in the JSON text itself', async () => {
    const doc = `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { __typename } }`;
    const head = Buffer.from(JSON.stringify({ query: doc }).slice(0, -1) + `,"variables":{"input":{"organizationId":${JSON.stringify(realIds[0])},"kind":"PASSWORD","password":"p","name":"`);
    const tail = Buffer.from('"}}}');
    const bodies: Buffer[] = [
      Buffer.concat([head, Buffer.from([0xff, 0xfe, 0xfd]), tail]),
      Buffer.concat([head, Buffer.from([0xc0, 0x80]), tail]), // overlong NUL
      Buffer.concat([head, Buffer.from([0xed, 0xa0, 0x80]), tail]), // a surrogate encoded in UTF-8
      Buffer.concat([head, Buffer.from([0xe2, 0x82]), tail]), // truncated sequence
      Buffer.concat([head, Buffer.from('\\ud800\\udbff'), tail]),
      Buffer.concat([head, Buffer.from('\\u0000'), tail]),
      Buffer.from(`{"query":${JSON.stringify(doc)},"variables":{"input":{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"polluted":1}},"organizationId":${JSON.stringify(realIds[0])},"kind":"PASSWORD","name":"n","password":"p"}}}`),
      Buffer.from(`{"query":${JSON.stringify(doc)},"variables":{"__proto__":{"input":{}}}}`),
      Buffer.from(`{"query":${JSON.stringify(doc)},"variables":"{\\"input\\":1}"}`),
      Buffer.from(`{"query":${JSON.stringify(doc)},"variables":[1,2]}`),
      Buffer.from(`{"query":${JSON.stringify(doc)},"variables":{"input":{"organizationId":${JSON.stringify(realIds[0])},"kind":"PASSWORD","name":"n","password":"p"}},"extensions":{"__proto__":{"x":1}}}`),
      Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from(`{"query":${JSON.stringify(doc)}}`)]), // a BOM
      Buffer.from('{"query":'),
      Buffer.from([0x00, 0x01, 0x02]),
    ];
    const failures: string[] = [];
    for (const [i, body] of bodies.entries()) {
      for (const token of [admin.token, undefined]) {
        const { status, text } = await send(body, token);
        const problem = problemOf(status, text, body.toString('utf8'));
        if (problem) failures.push(`body ${i}: ${problem} — ${text.slice(0, 300)}`);
      }
    }
    expect(failures).toEqual([]);
    // Nothing leaked into the prototypes of this process either (the server runs in it).
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectHealthy();
  });

  it('decisions with junk next to a real request id do not move the request', async () => {
    // A world of its own: the fuzzing above may have archived or deleted the first one's credentials (as ADMIN).
    const fresh = await restrictedWorld(server, 'adv-fuzz-decisions', { approvers: 1 });
    const requestId = (await requestAccess(server, fresh)).id;
    const samples = fc.sample(fc.record({ id: fc.constant(requestId), comment: nastyString, startsAt: fc.oneof(nastyString, fc.constant(null)), durationMinutes: fc.oneof(fc.integer(), fc.constant(null)) }), { numRuns: 20, seed: 7 });
    for (const input of samples) {
      const res = await server.gql(APPROVE, { input }, fresh.requester);
      expect(problemOf(res.status, JSON.stringify(res), input)).toBeNull();
      expect(res.data?.approveAccessRequest?.__typename ?? 'error').not.toBe('ApproveAccessRequestPayload');
    }
    const state = await server.gql(`query($id: ID!) { accessRequest(id: $id) { state } }`, { id: requestId }, fresh.org.admin);
    expect(state.data.accessRequest.state).toBe('PENDING');
  });
});
