// P2: SQL statements per list request at page sizes 10, 50 and 200, counted in-process.
import { randomBytes } from 'node:crypto';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/lib/logger.ts';
import { createBenchDb, gql } from './lib/harness.ts';
import { LIST, SIZES, seed, type DbKind } from './lib/common.ts';

export async function p2(kind: DbKind) {
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

