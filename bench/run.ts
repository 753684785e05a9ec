// vaultgate benchmarks: figures and ratios against a baseline run beside them, never assertions.
//   npm run bench -- p1|p2|p3|all [--db sqlite|postgres|both] [--smoke]
// See bench/README.md for what each measures and the latest figures.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/lib/logger.ts';
import { createBenchDb, fmt, gql, load, median, pinSelf, post, startServer, type BenchDb, type LoadResult } from './lib/harness.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { db: { type: 'string', default: 'sqlite' }, smoke: { type: 'boolean', default: false } },
});
const which = positionals[0] ?? 'all';
const smoke = values.smoke!;
const dbs = (values.db === 'both' ? ['sqlite', 'postgres'] : [values.db!]) as ('sqlite' | 'postgres')[];
const SIZES = smoke ? { credentials: 60, seconds: 1, rounds: 1, concurrency: 8 } : { credentials: 500, seconds: 8, rounds: 3, concurrency: 32 };

/** Every limit that would throttle a benchmark's own load is opened wide; nothing else differs from defaults. */
const serverEnv = (db: BenchDb, masterKey: string): Record<string, string> => ({
  DATABASE_URL: db.url,
  VAULTGATE_MASTER_KEY: masterKey,
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  RATE_LIMIT_REVEAL_PER_MINUTE: '0',
  RATE_LIMIT_SIGNIN_PER_ADDRESS: '0',
  RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '0',
  WORKFLOW_POLL_INTERVAL_MS: '0',
});

const LIST = `query List($org: ID!) { credentials(filter: { organizationId: $org }, first: 50) { edges { node { id name username category { name } folder { name } lastAccessedAt } } } }`;
const REVEAL = `mutation Reveal($id: ID!) { revealCredential(input: { id: $id, field: PASSWORD }) { ... on RevealCredentialPayload { value } } }`;

type Seeded = { token: string; orgId: string; credentialIds: string[] };

/** An installation with one organization, five folders, the seven categories and `n` credentials, via the API. */
async function seed(url: string, n: number): Promise<Seeded> {
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

const row = (label: string, r: LoadResult) => `${label.padEnd(22)} ${fmt(r.rps, 0).padStart(7)} req/s   p50 ${fmt(r.p50, 2).padStart(7)} ms   p99 ${fmt(r.p99, 2).padStart(7)} ms   errors ${r.errors}`;

/** Alternating rounds (vaultgate, baseline, vaultgate, …) so drift on a shared machine hits both alike. */
async function sideBySide(name: string, a: () => Promise<LoadResult>, b: () => Promise<LoadResult>) {
  const as: LoadResult[] = [];
  const bs: LoadResult[] = [];
  for (let i = 0; i < SIZES.rounds; i++) {
    as.push(await a());
    bs.push(await b());
  }
  const pick = (xs: LoadResult[]) => xs.find((x) => x.rps === median(xs.map((y) => y.rps)))!;
  const va = pick(as);
  const vb = pick(bs);
  console.log(row(`${name} vaultgate`, va));
  console.log(row(`${name} baseline`, vb));
  return { vaultgate: va, baseline: vb, ratio: va.rps / vb.rps };
}

async function withServers<T>(kind: 'sqlite' | 'postgres', fn: (s: { vg: string; base: string; seeded: Seeded }) => Promise<T>): Promise<T> {
  const db = await createBenchDb(kind);
  const masterKey = randomBytes(32).toString('base64');
  const env = serverEnv(db, masterKey);
  const vg = await startServer('src/main.ts', env);
  try {
    const seeded = await seed(vg.url, SIZES.credentials);
    const base = await startServer('bench/baseline/server.ts', env);
    try {
      return await fn({ vg: vg.url, base: base.url, seeded });
    } finally {
      await base.stop();
    }
  } finally {
    await vg.stop();
    await db.drop();
  }
}

async function p1(kind: 'sqlite' | 'postgres') {
  console.log(`\nP1 list 50 credentials with category, folder, last access — ${kind}`);
  return withServers(kind, async ({ vg, base, seeded }) => {
    const body = JSON.stringify({ query: LIST, variables: { org: seeded.orgId } });
    const auth = { authorization: `Bearer ${seeded.token}` };
    const [x, y] = await Promise.all([post(vg, body, auth), post(base, body)]);
    const identical = x.body === y.body;
    console.log(`responses byte-identical: ${identical} (${x.body.length} bytes)`);
    if (!identical) throw new Error(`P1 bodies differ:\n${x.body.slice(0, 300)}\n${y.body.slice(0, 300)}`);
    const max = await sideBySide(
      'P1 max',
      () => load(() => ({ url: vg, body, headers: auth }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds }),
      () => load(() => ({ url: base, body }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds }),
    );
    // Latency at half the baseline's maximum load, for both.
    const rate = Math.max(1, Math.floor(max.baseline.rps / 2));
    const half = await sideBySide(
      `P1 @${rate}/s`,
      () => load(() => ({ url: vg, body, headers: auth }), { concurrency: 0, seconds: SIZES.seconds, rate }),
      () => load(() => ({ url: base, body }), { concurrency: 0, seconds: SIZES.seconds, rate }),
    );
    const p99Ratio = half.vaultgate.p99 / half.baseline.p99;
    console.log(`P1 ratio req/s ${fmt(max.ratio * 100, 0)} % of baseline (target ≥ 40 %); p99 at half load ${fmt(p99Ratio, 2)}× baseline (target ≤ 3×)`);
    return { rpsRatio: max.ratio, p99Ratio };
  });
}

/** A reveal counts only when the secret came back (a typed refusal is an error here). */
const revealed = (r: { status: number; body: string }) => r.status === 200 && r.body.includes('"value":"');

async function p3(kind: 'sqlite' | 'postgres') {
  console.log(`\nP3 reveal (policy, decrypt, access record, audit chain, publish) — ${kind}`);
  return withServers(kind, async ({ vg, base, seeded }) => {
    let i = 0;
    const next = () => seeded.credentialIds[i++ % seeded.credentialIds.length];
    const auth = { authorization: `Bearer ${seeded.token}` };
    const r = await sideBySide(
      'P3',
      () => load(() => ({ url: vg, body: JSON.stringify({ query: REVEAL, variables: { id: next() } }), headers: auth }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds, ok: revealed }),
      () => load(() => ({ url: base, body: JSON.stringify({ query: REVEAL, variables: { id: next() } }) }), { concurrency: SIZES.concurrency, seconds: SIZES.seconds, ok: revealed }),
    );
    console.log(`P3 ratio ${fmt(r.ratio * 100, 0)} % of baseline (target ≥ 30 %)`);
    return { rpsRatio: r.ratio };
  });
}

/** P2: SQL statements per list request, counted in-process at page sizes 10, 50 and 200. */
async function p2(kind: 'sqlite' | 'postgres') {
  console.log(`\nP2 SQL statements per list request — ${kind}`);
  const db = await createBenchDb(kind);
  const statements: string[] = [];
  const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', VAULTGATE_MASTER_KEY: randomBytes(32).toString('base64'), ACCESS_SCHEDULER_INTERVAL_MS: '0', WORKFLOW_POLL_INTERVAL_MS: '0', QUERY_MAX_COST: '100000' });
  const app = createApp(config, { logger: createLogger('silent'), db: { onQuery: (sql) => statements.push(sql) } });
  const { url } = await app.start();
  try {
    const seeded = await seed(url.replace('localhost', '127.0.0.1'), Math.max(210, SIZES.credentials));
    const out: Record<number, number> = {};
    for (const first of [10, 50, 200]) {
      const q = LIST.replace('first: 50', `first: ${first}`);
      await gql(url.replace('localhost', '127.0.0.1'), q, { org: seeded.orgId }, seeded.token); // warm
      statements.length = 0;
      await gql(url.replace('localhost', '127.0.0.1'), q, { org: seeded.orgId }, seeded.token);
      out[first] = statements.length;
    }
    console.log(`statements (incl. authentication): page 10 → ${out[10]}, 50 → ${out[50]}, 200 → ${out[200]} — constant: ${out[10] === out[50] && out[50] === out[200]}`);
    return out;
  } finally {
    await app.stop();
    await db.drop();
  }
}

await pinSelf();
console.log(`vaultgate benchmarks (${smoke ? 'smoke' : 'full'}): node ${process.version}, ${dbs.join(' + ')}`);
for (const kind of dbs) {
  if (which === 'p1' || which === 'all') await p1(kind);
  if (which === 'p2' || which === 'all') await p2(kind);
  if (which === 'p3' || which === 'all') await p3(kind);
}
process.exit(0);
