import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtEntry } from '../support/process.ts';
import { createTestDatabase, type TestDb } from '../support/harness.ts';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/lib/logger.ts';

const MASTER_KEY = randomBytes(32).toString('base64');
let db: TestDb;
beforeAll(async () => {
  // No tables: the CLI, like an operator's first command on a new database, applies the migrations itself.
  db = await createTestDatabase(undefined, { empty: true });
});
afterAll(async () => {
  await db?.drop();
});

function runCli(args: string[], stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [builtEntry('cli'), ...args], {
      env: { ...process.env, NODE_ENV: 'test', PASSWORD_HASH_PROFILE: 'test', DATABASE_URL: db.url, LOG_LEVEL: 'warn', VAULTGATE_MASTER_KEY: MASTER_KEY },
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

describe('npm run vaultgate -- admin create', () => {
  it('creates a system administrator from a password on stdin, who can then sign in over HTTP', async () => {
    const password = 'cli-created password 42';
    const res = await runCli(['admin', 'create', '--email', 'Ops@Example.test', '--name', 'Ops', '--org', 'Initech'], `${password}\n`);
    expect(res.stderr).not.toContain(password);
    expect(res.stdout).toContain('created system administrator ops@example.test (ADMIN of "Initech")');
    expect(res.code).toBe(0);

    const app = createApp(loadConfig({ NODE_ENV: 'test', PASSWORD_HASH_PROFILE: 'test', DATABASE_URL: db.url, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', VAULTGATE_MASTER_KEY: MASTER_KEY }), { logger: createLogger('silent') });
    const { url } = await app.start();
    try {
      const signIn = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation($i: SignInInput!) { signIn(input: $i) { ... on SignInPayload { user { isSystemAdmin memberships { role organization { name } } } } } }',
          variables: { i: { email: 'ops@example.test', password } },
        }),
      }).then((r) => r.json());
      expect(signIn.data.signIn.user).toEqual({ isSystemAdmin: true, memberships: [{ role: 'ADMIN', organization: { name: 'Initech' } }] });
      // The bootstrap mutation is closed once the CLI has created a user.
      const boot = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation { bootstrap(input: {email: "b@example.test", name: "B", password: "long enough password", organizationName: "X"}) { __typename } }',
        }),
      }).then((r) => r.json());
      expect(boot.data.bootstrap.__typename).toBe('BootstrapClosedError');
    } finally {
      await app.stop();
    }
  });

  it('refuses a password on argv, a weak password and a duplicate email, writing nothing', async () => {
    const argv = await runCli(['admin', 'create', '--email', 'x@example.test', '--org', 'X', '--password', 'in-argv-password'], '');
    expect(argv.code).toBe(2);
    expect(argv.stderr).toContain('refused: --password');
    const weak = await runCli(['admin', 'create', '--email', 'weak@example.test', '--org', 'X'], 'short\n');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain('password: must be at least 12 characters');
    const dup = await runCli(['admin', 'create', '--email', 'ops@example.test', '--org', 'Y'], 'another good password\n');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('email: a user with this email already exists');
  });
});
