// Importers (issue 17): every format through importCredentials, dry runs, idempotent re-imports, changed rows as
// new versions, rules, problems with row paths, all-or-nothing, audit and policy.
import { spawn } from 'node:child_process';
import { builtEntry } from '../support/process.ts';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kdbxweb from 'kdbxweb';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, type OrgFixture } from '../support/fixtures.ts';
import { installArgon2 } from '../../src/modules/import/keepass.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

type Actor = { token: string };

const IMPORT = /* GraphQL */ `
  fragment R on ImportCredentialsPayload { dryRun committed fileSha256 rows created updated unchanged skipped foldersCreated items { row action name reason credentialId } }
  mutation Import($input: ImportCredentialsInput!) {
    importCredentials(input: $input) {
      __typename
      ... on ImportCredentialsPayload { ...R }
      ... on ImportProblemsError { message moreProblems fieldErrors { path message } report { ...R } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on Error { message }
    }
  }
`;
const REVEAL = /* GraphQL */ `
  mutation($input: RevealCredentialInput!) { revealCredential(input: $input) { __typename ... on RevealCredentialPayload { value version } ... on Error { message } } }
`;
const LIST = /* GraphQL */ `
  query($filter: CredentialFilter!) {
    credentials(filter: $filter, first: 100) { totalCount edges { node { id name username url restricted currentVersion hasOtp category { name } folder { path } } } }
  }
`;

async function importAs(actor: Actor, org: OrgFixture, input: Record<string, unknown>) {
  const res = await server.gql(IMPORT, { input: { organizationId: org.orgId, dryRun: false, ...input } }, actor);
  if (!res.data?.importCredentials) throw new Error(JSON.stringify(res));
  return res.data.importCredentials;
}
async function list(org: OrgFixture, actor: Actor) {
  const res = await server.gql(LIST, { filter: { organizationId: org.orgId } }, actor);
  return (res.data.credentials.edges as { node: any }[]).map((e) => e.node);
}
const reveal = async (actor: Actor, id: string) => (await server.gql(REVEAL, { input: { id, field: 'PASSWORD' } }, actor)).data.revealCredential;
const local = (id: string) => decodeGlobalID(id).id;
const auditActions = async (org: OrgFixture) =>
  (await server.app.deps.db.auditEvent.findMany({ where: { organizationId: local(org.orgId) }, orderBy: { seq: 'asc' } })).map((a) => a.action);

const bitwarden = (password: string) =>
  JSON.stringify({
    encrypted: false,
    folders: [{ id: 'f1', name: 'Network/Core' }],
    collections: [{ id: 'c1', name: 'Shared' }],
    items: [
      { id: 'bw-1', type: 1, name: 'Core switch', folderId: 'f1', notes: 'rack 4', login: { username: 'admin', password, totp: 'JBSWY3DPEHPK3PXP', uris: [{ uri: 'https://10.0.0.2' }] } },
      { id: 'bw-2', type: 2, name: 'Alarm code', collectionIds: ['c1'], notes: '4711-0815', secureNote: { type: 0 } },
      { id: 'bw-3', type: 3, name: 'Company card', card: { number: '4111111111111111' } },
    ],
  });

describe('Bitwarden JSON: dry run, import, re-import, changed rows', () => {
  it('reports before writing, creates once, changes nothing the second time, and stores a changed secret as a new version', async () => {
    const org = await createOrg(server, 'bw');
    const content = bitwarden('Switch-Pass-1!');

    const dry = await importAs(org.admin, org, { format: 'BITWARDEN', content, dryRun: true });
    expect(dry).toMatchObject({ __typename: 'ImportCredentialsPayload', dryRun: true, committed: false, rows: 3, created: 2, updated: 0, unchanged: 0, skipped: 1, foldersCreated: 3 });
    expect(dry.fileSha256).toBe(createHash('sha256').update(content).digest('hex'));
    expect(dry.items.map((i: any) => [i.row, i.action, i.name])).toEqual([
      [1, 'CREATE', 'Core switch'],
      [2, 'CREATE', 'Alarm code'],
      [3, 'SKIP', null],
    ]);
    expect(JSON.stringify(dry)).not.toContain('Switch-Pass-1!');
    expect(await server.app.deps.db.credential.count({ where: { organizationId: local(org.orgId) } })).toBe(0);
    expect(await server.app.deps.db.folder.count({ where: { organizationId: local(org.orgId) } })).toBe(0);
    const before = (await auditActions(org)).length;

    const done = await importAs(org.admin, org, { format: 'BITWARDEN', content });
    expect(done).toMatchObject({ committed: true, created: 2, skipped: 1 });
    const creds = await list(org, org.admin);
    expect(creds).toEqual([
      expect.objectContaining({ name: 'Alarm code', folder: { path: ['Shared'] }, hasOtp: false, currentVersion: 1 }),
      expect.objectContaining({ name: 'Core switch', username: 'admin', url: 'https://10.0.0.2', folder: { path: ['Network', 'Core'] }, hasOtp: true, currentVersion: 1 }),
    ]);
    const sw = creds.find((c) => c.name === 'Core switch');
    expect(await reveal(org.admin, sw.id)).toMatchObject({ value: 'Switch-Pass-1!', version: 1 });
    expect((await reveal(org.admin, creds[0].id)).value).toBe('4711-0815');
    // Audited: each creation, and the import with the file's digest and counts (never a secret).
    const actions = (await auditActions(org)).slice(before);
    expect(actions.filter((a) => a === 'credential.create')).toHaveLength(2);
    const entry = await server.app.deps.db.auditEvent.findFirstOrThrow({ where: { organizationId: local(org.orgId), action: 'credential.import' } });
    expect(JSON.parse(entry.data!)).toMatchObject({ format: 'bitwarden', fileSha256: dry.fileSha256, created: 2, skipped: 1, rows: 3 });
    expect(entry.actorUserId).toBe(local(org.admin.userId));
    const allAudit = JSON.stringify(await server.app.deps.db.auditEvent.findMany({ where: { organizationId: local(org.orgId) } }));
    expect(allAudit).not.toContain('Switch-Pass-1!');
    expect(server.logs.join('\n')).not.toContain('Switch-Pass-1!');

    // The same file again: nothing changes, nothing is written.
    const auditCount = (await auditActions(org)).length;
    const again = await importAs(org.admin, org, { format: 'BITWARDEN', content });
    expect(again).toMatchObject({ committed: true, created: 0, updated: 0, unchanged: 2, skipped: 1 });
    expect(again.items[0]).toMatchObject({ action: 'UNCHANGED', credentialId: sw.id });
    expect((await auditActions(org)).length).toBe(auditCount);
    expect(await server.app.deps.db.credential.count({ where: { organizationId: local(org.orgId) } })).toBe(2);

    // The password changed at the source: a new version of the same credential, not a duplicate.
    const changed = await importAs(org.admin, org, { format: 'BITWARDEN', content: bitwarden('Switch-Pass-2!') });
    expect(changed).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
    expect(changed.items[0]).toMatchObject({ action: 'UPDATE', reason: 'secret (new version) changed' });
    expect(await reveal(org.admin, sw.id)).toMatchObject({ value: 'Switch-Pass-2!', version: 2 });
    const versions = await server.app.deps.db.credentialVersion.findMany({ where: { credentialId: local(sw.id) }, orderBy: { version: 'asc' } });
    expect(versions.map((v) => v.reason)).toEqual([null, 'import from bitwarden: changed in the source']);
    expect(await server.app.deps.db.credential.count({ where: { organizationId: local(org.orgId) } })).toBe(2);
  });

  it('refuses an encrypted export and a file that is not JSON, as a ValidationError on the content', async () => {
    const org = await createOrg(server, 'bwbad');
    const enc = await importAs(org.admin, org, { format: 'BITWARDEN', content: JSON.stringify({ encrypted: true, items: [] }) });
    expect(enc).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'content'], message: expect.stringContaining('encrypted') }] });
    const junk = await importAs(org.admin, org, { format: 'BITWARDEN', content: '{nope' });
    expect(junk).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'content'], message: 'not a JSON file' }] });
  });
});

const ITGLUE = [
  'id,organization,name,username,password,url,notes,password_category,password_folder,otp_secret',
  '101,Acme,Domain admin,ACME\\admin,"Pa,ss""1",https://dc.acme.test,"two\nlines",Administrative,Domain admins,',
  '102,Acme,Firewall,root,fw-secret,https://fw.acme.test,,Network gear,,JBSWY3DPEHPK3PXP',
  '103,Acme,Printer,,print-secret,,,,Office,',
].join('\r\n');

describe('IT Glue CSV: rules, categories, problems', () => {
  it('maps folders to restricted and categories by rule or by name; the organization column is the top folder', async () => {
    const org = await createOrg(server, 'itg');
    const rules = { restrictedFolders: ['domain ADMINS'], categoryMap: [{ source: 'Network gear', category: 'Network' }] };
    const r = await importAs(org.admin, org, { format: 'ITGLUE', content: ITGLUE, rules });
    expect(r).toMatchObject({ committed: true, rows: 3, created: 3, foldersCreated: 3 });
    const creds = await list(org, org.admin);
    expect(creds.map((c) => [c.name, c.restricted, c.category?.name ?? null, c.folder?.path ?? null, c.hasOtp])).toEqual([
      ['Domain admin', true, 'Administrative', ['Acme', 'Domain admins'], false],
      ['Firewall', false, 'Network', ['Acme'], true],
      ['Printer', false, null, ['Acme', 'Office'], false],
    ]);
    // Quotes, commas and line breaks inside fields survive the CSV parser; the restricted one is not revealed by role.
    const admin = creds[0];
    expect((await reveal(org.admin, admin.id)).__typename).toBe('AccessRequestRequiredError');
    const stored = await server.app.deps.db.credential.findUniqueOrThrow({ where: { id: local(admin.id) } });
    expect(stored).toMatchObject({ importSource: 'itglue', importSourceId: 'id:101', username: 'ACME\\admin', notes: 'two\nlines' });
    expect(await reveal(org.admin, creds[1].id)).toMatchObject({ value: 'fw-secret' });
  });

  it('lists every problem with its row and field, and writes nothing (all or nothing)', async () => {
    const org = await createOrg(server, 'itgbad');
    const content = [
      'name,username,password,url',
      'Good one,u,secret-1,https://ok.test',
      'No password,u,,https://x.test',
      ',u,secret-3,',
      'Bad url,u,secret-4,javascript:alert(1)',
      'Good one,u,secret-5,https://ok.test',
    ].join('\n');
    const r = await importAs(org.admin, org, { format: 'ITGLUE', content });
    expect(r.__typename).toBe('ImportProblemsError');
    expect(r.fieldErrors).toEqual([
      { path: ['rows[2]', 'password'], message: 'is empty' },
      { path: ['rows[3]', 'name'], message: 'is empty' },
      { path: ['rows[4]', 'url'], message: 'must be a URL or a host name' },
      { path: ['rows[5]', 'id'], message: expect.stringContaining('repeats row 1') },
    ]);
    expect(r.report).toMatchObject({ committed: false, created: 1 });
    expect(JSON.stringify(r)).not.toContain('secret-');
    expect(await server.app.deps.db.credential.count({ where: { organizationId: local(org.orgId) } })).toBe(0);
    expect(await auditActions(org)).not.toContain('credential.import');
  });

  it('refuses a broken quote with the line it starts on, and more rows than one request takes', async () => {
    const org = await createOrg(server, 'itgcsv');
    const broken = await importAs(org.admin, org, { format: 'ITGLUE', content: 'name,password\nA,"open\nB,c\n' });
    expect(broken).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'content'], message: 'line 2: a quoted field is not closed before the end of the file' }] });
    const big = ['name,password', ...Array.from({ length: 1001 }, (_, i) => `n${i},p${i}`)].join('\n');
    const tooMany = await importAs(org.admin, org, { format: 'ITGLUE', content: big, dryRun: true });
    expect(tooMany).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ message: expect.stringContaining('more than 1000 rows') }] });
  });
});

describe('1Password CSV and generic CSV', () => {
  it('reads 1Password’s columns (archived rows skipped) and a generic CSV through a column mapping', async () => {
    const org = await createOrg(server, 'op');
    const onePassword = ['Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes', 'Mail,https://mail.test,ops,mail-pw,,false,false,Infra,', 'Old VPN,https://vpn.test,ops,vpn-pw,,false,true,,'].join('\n');
    const a = await importAs(org.admin, org, { format: 'ONEPASSWORD', content: onePassword });
    expect(a).toMatchObject({ created: 1, skipped: 1, items: [{ row: 1, action: 'CREATE' }, { row: 2, action: 'SKIP', reason: 'archived in the source' }] });

    const generic = ['Ref;Label;Login;Secret', 'x'].join('\n').replaceAll(';', ',');
    const unmapped = await importAs(org.admin, org, { format: 'CSV', content: generic, dryRun: true });
    expect(unmapped).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ message: expect.stringContaining('no name column') }] });
    const columns = [
      { field: 'id', column: 'Ref' },
      { field: 'name', column: 'Label' },
      { field: 'username', column: 'Login' },
      { field: 'password', column: 'Secret' },
      { field: 'folder', column: 'Where' },
    ];
    const csv = ['Ref,Label,Login,Secret,Where', 'r1,Backup NAS,backup,nas-pw,Storage/Tier 2'].join('\n');
    const b = await importAs(org.admin, org, { format: 'CSV', content: csv, columns });
    expect(b).toMatchObject({ created: 1 });
    const nas = (await list(org, org.admin)).find((c) => c.name === 'Backup NAS');
    expect(nas).toMatchObject({ username: 'backup', folder: { path: ['Storage', 'Tier 2'] } });
    expect(await importAs(org.admin, org, { format: 'CSV', content: csv, columns })).toMatchObject({ created: 0, unchanged: 1 });
  });
});

describe('KeePass KDBX 4', () => {
  async function kdbx(password: string, entries: { group?: string; title: string; user: string; pass: string; otp?: string }[]) {
    installArgon2();
    const db = kdbxweb.Kdbx.create(new kdbxweb.Credentials(kdbxweb.ProtectedValue.fromString(password)), 'Test');
    db.setKdf(kdbxweb.Consts.KdfId.Argon2id);
    // Cheap derivation for the test (KeePassXC would use far more).
    db.header.kdfParameters!.set('M', kdbxweb.VarDictionary.ValueType.UInt64, kdbxweb.Int64.from(1024 * 1024));
    db.header.kdfParameters!.set('I', kdbxweb.VarDictionary.ValueType.UInt64, kdbxweb.Int64.from(2));
    const root = db.getDefaultGroup();
    const groups = new Map<string, kdbxweb.KdbxGroup>();
    for (const e of entries) {
      let group = root;
      if (e.group) {
        group = groups.get(e.group) ?? db.createGroup(root, e.group);
        groups.set(e.group, group);
      }
      const entry = db.createEntry(group);
      entry.fields.set('Title', e.title);
      entry.fields.set('UserName', e.user);
      entry.fields.set('Password', kdbxweb.ProtectedValue.fromString(e.pass));
      if (e.otp) entry.fields.set('otp', kdbxweb.ProtectedValue.fromString(e.otp));
    }
    return Buffer.from(await db.save()).toString('base64');
  }

  it('opens the file with its master password; groups become folders; TOTP from the otp field; a wrong password is refused', async () => {
    const org = await createOrg(server, 'kp');
    const content = await kdbx('master-pw', [
      { title: 'Root entry', user: 'r', pass: 'root-pw' },
      { group: 'Servers', title: 'Web 1', user: 'deploy', pass: 'web-pw', otp: 'otpauth://totp/web?secret=JBSWY3DPEHPK3PXP' },
    ]);
    const wrong = await importAs(org.admin, org, { format: 'KEEPASS', content, encoding: 'BASE64', masterPassword: 'nope', dryRun: true });
    expect(wrong).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'content'], message: 'the master password does not open this KeePass file' }] });
    const r = await importAs(org.admin, org, { format: 'KEEPASS', content, encoding: 'BASE64', masterPassword: 'master-pw' });
    expect(r).toMatchObject({ committed: true, created: 2, foldersCreated: 1 });
    const creds = await list(org, org.admin);
    expect(creds.map((c) => [c.name, c.folder?.path ?? null, c.hasOtp])).toEqual([
      ['Root entry', null, false],
      ['Web 1', ['Servers'], true],
    ]);
    expect((await reveal(org.admin, creds[1].id)).value).toBe('web-pw');
    expect(await importAs(org.admin, org, { format: 'KEEPASS', content, encoding: 'BASE64', masterPassword: 'master-pw' })).toMatchObject({ created: 0, unchanged: 2 });
  });

  it('refuses KDBX 3 and a key derivation beyond the limits before deriving anything; AES-KDF within them opens', async () => {
    installArgon2();
    const org = await createOrg(server, 'kplimits');
    const make = async (setup: (db: kdbxweb.Kdbx) => void) => {
      const db = kdbxweb.Kdbx.create(new kdbxweb.Credentials(kdbxweb.ProtectedValue.fromString('pw')), 'T');
      setup(db);
      const e = db.createEntry(db.getDefaultGroup());
      e.fields.set('Title', 'Only');
      e.fields.set('Password', kdbxweb.ProtectedValue.fromString('only-pw'));
      return Buffer.from(await db.save());
    };
    const v3 = await make((db) => db.setVersion(3));
    expect(await importAs(org.admin, org, { format: 'KEEPASS', content: v3.toString('base64'), encoding: 'BASE64', masterPassword: 'pw', dryRun: true })).toMatchObject({
      fieldErrors: [{ message: 'only KDBX 4 files are imported; save the database in KDBX 4 format' }],
    });
    const aes = await make((db) => {
      db.setKdf(kdbxweb.Consts.KdfId.Aes);
      db.header.kdfParameters!.set('R', kdbxweb.VarDictionary.ValueType.UInt64, kdbxweb.Int64.from(1000));
    });
    expect(await importAs(org.admin, org, { format: 'KEEPASS', content: aes.toString('base64'), encoding: 'BASE64', masterPassword: 'pw', dryRun: true })).toMatchObject({ created: 1 });
    // The same file claiming 2^40 rounds in its header (type UInt64, key "R", 8 bytes): refused at once.
    const at = aes.indexOf(Buffer.from([0x05, 0x01, 0, 0, 0, 0x52, 0x08, 0, 0, 0]));
    expect(at).toBeGreaterThan(0);
    const costly = Buffer.from(aes);
    costly.writeBigUInt64LE(2n ** 40n, at + 10);
    const started = performance.now();
    expect(await importAs(org.admin, org, { format: 'KEEPASS', content: costly.toString('base64'), encoding: 'BASE64', masterPassword: 'pw', dryRun: true })).toMatchObject({
      fieldErrors: [{ message: expect.stringContaining('more than 10000000 AES rounds') }],
    });
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('who may import', () => {
  it('ADMIN and MANAGER import; MEMBER and AUDITOR are refused with FORBIDDEN', async () => {
    const org = await createOrg(server, 'who');
    const manager = await addMember(server, org, 'MANAGER');
    const member = await addMember(server, org, 'MEMBER');
    const auditor = await addMember(server, org, 'AUDITOR');
    const content = 'name,password\nA,a-secret\n';
    expect(await importAs(manager, org, { format: 'ITGLUE', content })).toMatchObject({ created: 1 });
    for (const who of [member, auditor]) {
      const res = await server.gql(IMPORT, { input: { organizationId: org.orgId, format: 'ITGLUE', content, dryRun: true } }, who);
      expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    const other = await createOrg(server, 'other');
    const cross = await server.gql(IMPORT, { input: { organizationId: other.orgId, format: 'ITGLUE', content, dryRun: true } }, org.admin);
    expect(cross.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('npm run vaultgate -- import', () => {
  function runCli(args: string[], stdin = '', env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      // The built CLI, as an operator runs it (a KeePass import once broke there and not under vitest).
      const child = spawn(process.execPath, [builtEntry('cli'), 'import', ...args], {
        env: { ...process.env, NODE_ENV: 'test', PASSWORD_HASH_PROFILE: 'test', DATABASE_URL: server.db.url, LOG_LEVEL: 'warn', VAULTGATE_MASTER_KEY: server.app.deps.config.masterKey!, ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(stdin);
    });
  }

  it('checks the whole file first, imports in batches, and a second run changes nothing', { timeout: 120_000 }, async () => {
    const org = await createOrg(server, 'cli');
    const member = await addMember(server, org, 'MEMBER');
    const orgId = local(org.orgId);
    const dir = mkdtempSync(join(tmpdir(), 'vaultgate-import-'));
    const file = join(dir, 'export.csv');
    writeFileSync(file, ['name,username,password,folder', ...Array.from({ length: 25 }, (_, i) => `Host ${i},root,pw-${i}-x,Servers/Rack ${i % 3}`)].join('\n'));
    try {
      const refused = await runCli(['--format', 'itglue', '--org', orgId, '--as', org.admin.email, '--password', 'x', file]);
      expect(refused.code).toBe(2);
      const notAllowed = await runCli(['--format', 'itglue', '--org', orgId, '--as', member.email, file]);
      expect(notAllowed).toMatchObject({ code: 1, stderr: expect.stringContaining('may not import') });

      const dry = await runCli(['--format', 'itglue', '--org', orgId, '--as', org.admin.email, '--dry-run', file]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain('dry run of');
      expect(dry.stdout).toMatch(/rows\s+created\s+updated\s+unchanged\s+skipped\s+folders\s+problems\n\s+25\s+25\s+0\s+0\s+0\s+4\s+0/);
      expect(await server.app.deps.db.credential.count({ where: { organizationId: orgId } })).toBe(0);

      const done = await runCli(['--format', 'itglue', '--org', orgId, '--as', org.admin.email, '--batch-size', '10', '--restricted-folder', 'rack 0', file]);
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toContain('3 batch(es)');
      expect(done.stdout + done.stderr).not.toContain('pw-1-x');
      expect(await server.app.deps.db.credential.count({ where: { organizationId: orgId } })).toBe(25);
      expect(await server.app.deps.db.credential.count({ where: { organizationId: orgId, restricted: true } })).toBe(9);
      const entries = await server.app.deps.db.auditEvent.findMany({ where: { organizationId: orgId, action: 'credential.import' }, orderBy: { seq: 'asc' } });
      expect(entries.map((e) => JSON.parse(e.data!).batch)).toEqual([1, 2, 3]);
      expect(entries.every((e) => e.actorUserId === local(org.admin.userId))).toBe(true);

      const again = await runCli(['--format', 'itglue', '--org', orgId, '--as', org.admin.email, file]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/\n\s+25\s+0\s+0\s+25\s+0\s+0\s+0/);

      // KeePass through the CLI: the master password from the environment, never argv.
      installArgon2();
      const kp = kdbxweb.Kdbx.create(new kdbxweb.Credentials(kdbxweb.ProtectedValue.fromString('cli-master')), 'T');
      kp.header.kdfParameters!.set('M', kdbxweb.VarDictionary.ValueType.UInt64, kdbxweb.Int64.from(1024 * 1024));
      const entry = kp.createEntry(kp.createGroup(kp.getDefaultGroup(), 'Vault'));
      entry.fields.set('Title', 'KP entry');
      entry.fields.set('Password', kdbxweb.ProtectedValue.fromString('kp-secret'));
      const kdbxFile = join(dir, 'db.kdbx');
      writeFileSync(kdbxFile, Buffer.from(await kp.save()));
      const keepass = await runCli(['--format', 'keepass', '--org', orgId, '--as', org.admin.email, kdbxFile], '', { VAULTGATE_IMPORT_PASSWORD: 'cli-master' });
      expect(keepass.code, keepass.stderr).toBe(0);
      expect(await server.app.deps.db.credential.count({ where: { organizationId: orgId, importSource: 'keepass' } })).toBe(1);

      writeFileSync(file, 'name,password\nok,a\nbad,\n');
      const bad = await runCli(['--format', 'itglue', '--org', orgId, '--as', org.admin.email, file]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain('rows[2].password: is empty');
      expect(bad.stderr).toContain('nothing was written');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
