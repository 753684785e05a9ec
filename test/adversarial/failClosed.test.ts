// Adversarial 4: the database refuses the audit entry (or the access record) of one credential's reveals. The
// reveal must fail closed: no plaintext in the answer, no access record, no audit row, nothing half-written.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg, type OrgFixture } from '../support/fixtures.ts';
import { ENV, CREATE_CREDENTIAL, expectAuditIntact, INTERNALS, localOf, REVEAL, SECRET, snapshotOrg } from './support.ts';

let server: TestServer;
let org: OrgFixture;
beforeAll(async () => {
  server = await startTestServer({ env: ENV });
  org = await createOrg(server, 'adv-fail-closed');
});
afterAll(async () => {
  await server?.stop();
});

const TRIGGER = 'adv_block_insert';

/** Makes every insert into `table` whose `column` equals `value` fail inside the database. */
async function blockInserts(table: 'AuditEvent' | 'AccessRecord', column: string, value: string) {
  const db = server.app.deps.db;
  if (server.db.kind === 'sqlite') {
    await db.$executeRawUnsafe(
      `CREATE TRIGGER ${TRIGGER} BEFORE INSERT ON "${table}" WHEN NEW."${column}" = '${value}' BEGIN SELECT RAISE(ABORT, 'blocked by test'); END`,
    );
  } else {
    await db.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION ${TRIGGER}() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'blocked by test'; END $$ LANGUAGE plpgsql`);
    await db.$executeRawUnsafe(`CREATE TRIGGER ${TRIGGER} BEFORE INSERT ON "${table}" FOR EACH ROW WHEN (NEW."${column}" = '${value}') EXECUTE FUNCTION ${TRIGGER}()`);
  }
  return async () => {
    if (server.db.kind === 'sqlite') await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${TRIGGER}`);
    else await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${TRIGGER} ON "${table}"`);
  };
}
let unblock: (() => Promise<void>) | null = null;
afterEach(async () => {
  await unblock?.();
  unblock = null;
});

async function credential(name: string) {
  const res = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name, password: SECRET } }, org.admin);
  return res.data.createCredential.credential.id as string;
}

function expectFailedClosed(res: { status: number; data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] }) {
  const text = JSON.stringify(res);
  expect(text).not.toContain(SECRET);
  expect(text).not.toMatch(INTERNALS);
  expect(text).not.toContain('blocked by test');
  expect(res.data?.revealCredential ?? null).toBeNull();
  expect(res.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.' })]);
  expect(res.errors?.[0].extensions?.code).not.toBe('FORBIDDEN');
}

describe('adversarial: reveal when the audit cannot be written', () => {
  for (const [table, column] of [
    ['AuditEvent', 'targetId'],
    ['AccessRecord', 'credentialId'],
  ] as const) {
    it(`an insert into ${table} that fails: no plaintext, no access record, no audit row — alone and 10 in parallel`, async () => {
      const id = await credential(`blocked by ${table}`);
      const other = await credential(`unaffected by ${table}`);
      const before = await snapshotOrg(server, org.orgId);
      unblock = await blockInserts(table, column, localOf(id));

      expectFailedClosed(await server.gql(REVEAL, { input: { id, field: 'PASSWORD', purpose: 'should fail' } }, org.admin));
      const burst = await Promise.all(Array.from({ length: 10 }, () => server.gql(REVEAL, { input: { id, field: 'PASSWORD' } }, org.admin)));
      for (const r of burst) expectFailedClosed(r);
      // The copy report goes through the same record path: it fails the same way.
      const copied = await server.gql(`mutation($id: ID!) { recordCredentialAccess(input: { id: $id, surface: COPY }) { __typename } }`, { id }, org.admin);
      expect(copied.data?.recordCredentialAccess ?? null).toBeNull();
      expect(JSON.stringify(copied)).not.toMatch(INTERNALS);

      // Nothing of any attempt is in the database: no record, no audit entry, lastAccessedAt untouched, head unmoved.
      expect(await snapshotOrg(server, org.orgId)).toEqual(before);
      await expectAuditIntact(server, org.orgId);
      // Neither the logs.
      expect(server.logs.join('')).not.toContain(SECRET);

      // Another credential of the same organization is unaffected, and so is this one once the database accepts again.
      expect((await server.gql(REVEAL, { input: { id: other, field: 'PASSWORD' } }, org.admin)).data.revealCredential.value).toBe(SECRET);
      await unblock();
      unblock = null;
      const ok = await server.gql(REVEAL, { input: { id, field: 'PASSWORD' } }, org.admin);
      expect(ok.data.revealCredential.value).toBe(SECRET);
      expect(await server.app.deps.db.accessRecord.count({ where: { credentialId: localOf(id) } })).toBe(1);
      await expectAuditIntact(server, org.orgId);
    });
  }
});
