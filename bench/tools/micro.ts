// Where a request's time goes, for profiling (not a benchmark: no baseline, no ratio). One in-process server on a
// fresh database, one client on loopback; for each query: wall and CPU ms per request (CPU of both ends), the SQL
// statements it sent, and the answer's size.
//   npx tsx bench/tools/micro.ts sqlite|postgres      Q=list,reveal  N=1000  SQL=1 (print the statements)
//   node --cpu-prof --import tsx bench/tools/micro.ts sqlite    (a profile of just these requests)
import { randomBytes } from 'node:crypto';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createBenchDb, gql, post } from '../lib/harness.ts';
import { LIST, REVEAL, seed } from '../lib/common.ts';
const kind = (process.argv[2] ?? 'sqlite') as 'sqlite' | 'postgres';
const db = await createBenchDb(kind);
const stmts: string[] = [];
const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production', VAULTGATE_MASTER_KEY: randomBytes(32).toString('base64'), ACCESS_SCHEDULER_INTERVAL_MS: '0', WORKFLOW_POLL_INTERVAL_MS: '0', RATE_LIMIT_REVEAL_PER_MINUTE: '0', RATE_LIMIT_SIGNIN_PER_ADDRESS: '0', RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '0', AUTH_CACHE_MS: process.env.AUTH_CACHE_MS ?? '1000' });
const app = createApp(config, { logger: createLogger('warn'), db: { onQuery: (s) => stmts.push(s) } });
const { url: u } = await app.start();
const url = u.replace('localhost', '127.0.0.1');
const s = await seed(url, 200);
const auth = { authorization: `Bearer ${s.token}` };
const queries: Record<string, string> = {
  typename: `{ __typename }`,
  viewer: `{ viewer { id } }`,
  listId: LIST.replace('id name username category { name } folder { name } lastAccessedAt', 'id'),
  list0: LIST.replace('category { name } folder { name } lastAccessedAt', ''),
  list: LIST,
  reveal: REVEAL,
};
for (const [name, q] of Object.entries(queries).filter(([n]) => !process.env.Q || process.env.Q.split(",").includes(n))) {
  const body = JSON.stringify({ query: q, variables: { org: s.orgId, id: s.credentialIds[7] } });
  for (let i = 0; i < 200; i++) await post(url, body, auth);
  stmts.length = 0;
  const r0 = await post(url, body, auth);
  const n = stmts.length; const sq = [...stmts];
  const N = +(process.env.N ?? 1000);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await post(url, body, auth);
  const c1 = process.cpuUsage(c0);
  const ms = (performance.now() - t0) / N;
  console.log(name.padEnd(10), ms.toFixed(3), 'ms/req wall', ((c1.user + c1.system) / N / 1000).toFixed(3), 'ms/req cpu', n, 'stmts', r0.body.length, 'bytes', r0.body.slice(0, 80));
  if (process.env.SQL) for (const x of sq) console.log('   ', x.slice(0, 300));
}
await app.stop(); await db.drop(); process.exit(0);
