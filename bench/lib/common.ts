// What the HTTP benchmarks share: sizes, the server environment, seeding through the API, the two benchmarked
// operations, alternating side-by-side rounds, and a vaultgate + baseline pair on one fresh database.
import { randomBytes } from 'node:crypto';
import { createBenchDb, fmt, gql, median, startServer, type BenchDb, type LoadResult } from './harness.ts';

export type DbKind = 'sqlite' | 'postgres';
export const smoke = process.argv.includes('--smoke');
export const SIZES = smoke ? { credentials: 60, seconds: 1, rounds: 1, concurrency: 8 } : { credentials: 500, seconds: 8, rounds: 3, concurrency: 32 };

/** Every limit that would throttle a benchmark's own load is opened wide; nothing else differs from defaults. */
export const serverEnv = (db: BenchDb, masterKey: string): Record<string, string> => ({
  DATABASE_URL: db.url,
  VAULTGATE_MASTER_KEY: masterKey,
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  RATE_LIMIT_REVEAL_PER_MINUTE: '0',
  RATE_LIMIT_SIGNIN_PER_ADDRESS: '0',
  RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '0',
  // P4/P5/P7 hold thousands of subscriptions over a few sessions of one user.
  WS_MAX_SOCKETS_PER_PRINCIPAL: '100000',
  WS_MAX_OPERATIONS_PER_SOCKET: '10000',
  WORKFLOW_POLL_INTERVAL_MS: '0',
});

export const LIST = `query List($org: ID!) { credentials(filter: { organizationId: $org }, first: 50) { edges { node { id name username category { name } folder { name } lastAccessedAt } } } }`;
export const REVEAL = `mutation Reveal($id: ID!) { revealCredential(input: { id: $id, field: PASSWORD }) { ... on RevealCredentialPayload { value } } }`;

export type Seeded = { token: string; orgId: string; credentialIds: string[] };

/** An installation with one organization, five folders, the seven categories and `n` credentials, via the API. */
export async function seed(url: string, n: number): Promise<Seeded> {
  const boot = await gql(url, `mutation($input: BootstrapInput!) { bootstrap(input: $input) { ... on BootstrapPayload { token organization { id categories { id } } } } }`, {
    input: { email: 'bench@example.test', name: 'Bench', password: 'bench password 0123456789', organizationName: 'Bench MSP' },
  });
  const { token, organization } = boot.bootstrap;
  const folders: string[] = [];
  for (let i = 0; i < 5; i++) {
    const f = await gql(url, `mutation($input: CreateFolderInput!) { createFolder(input: $input) { ... on CreateFolderPayload { folder { id } } } }`, { input: { organizationId: organization.id, name: `Client ${i}` } }, token);
    folders.push(f.createFolder.folder.id);
  }
  const credentialIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await gql(
      url,
      `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { ... on CreateCredentialPayload { credential { id } } } }`,
      {
        input: {
          organizationId: organization.id,
          kind: 'PASSWORD',
          name: `Credential ${String(i).padStart(5, '0')}`,
          username: i % 3 === 0 ? null : `admin${i}`,
          password: `pw-${randomBytes(12).toString('hex')}`,
          categoryId: i % 4 === 0 ? null : organization.categories[i % 7].id,
          folderId: i % 5 === 0 ? null : folders[i % 5],
        },
      },
      token,
    );
    credentialIds.push(c.createCredential.credential.id);
  }
  // Some last-access times, so the third relation has values.
  for (const id of credentialIds.slice(0, 20)) await gql(url, REVEAL, { id }, token);
  return { token, orgId: organization.id, credentialIds };
}

export const row = (label: string, r: LoadResult) => `${label.padEnd(28)} ${fmt(r.rps, 0).padStart(7)} req/s   p50 ${fmt(r.p50, 2).padStart(7)} ms   p99 ${fmt(r.p99, 2).padStart(7)} ms   errors ${r.errors}`;

/** Alternating rounds (vaultgate, baseline, vaultgate, …) so drift on a shared machine hits both alike. */
export async function sideBySide(name: string, a: () => Promise<LoadResult>, b: () => Promise<LoadResult>, labels: [string, string] = ['vaultgate', 'baseline']) {
  const as: LoadResult[] = [];
  const bs: LoadResult[] = [];
  for (let i = 0; i < SIZES.rounds; i++) {
    as.push(await a());
    bs.push(await b());
  }
  const pick = (xs: LoadResult[]) => xs.find((x) => x.rps === median(xs.map((y) => y.rps)))!;
  const va = pick(as);
  const vb = pick(bs);
  console.log(row(`${name} ${labels[0]}`, va));
  console.log(row(`${name} ${labels[1]}`, vb));
  return { vaultgate: va, baseline: vb, ratio: va.rps / vb.rps };
}

export async function withServers<T>(kind: DbKind, fn: (s: { vg: string; base: string; seeded: Seeded; env: Record<string, string> }) => Promise<T>): Promise<T> {
  const db = await createBenchDb(kind);
  const masterKey = randomBytes(32).toString('base64');
  const env = serverEnv(db, masterKey);
  const vg = await startServer('src/main.ts', env);
  try {
    const seeded = await seed(vg.url, SIZES.credentials);
    // The baseline's like-for-like reveal records the same actor vaultgate does (bench P3).
    const viewer = await gql(vg.url, `{ viewer { user { id } } }`, {}, seeded.token);
    const actor = Buffer.from(viewer.viewer.user.id, 'base64').toString('utf8').split(':').slice(1).join(':');
    const base = await startServer('bench/baseline/server.ts', { ...env, BENCH_ACTOR_USER_ID: actor });
    try {
      return await fn({ vg: vg.url, base: base.url, seeded, env });
    } finally {
      await base.stop();
    }
  } finally {
    await vg.stop();
    await db.drop();
  }
}

