// How much of the list is Prisma alone: the same findMany (+ relations) the resolver makes, timed in-process.
import { randomBytes } from 'node:crypto';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createBenchDb } from '../lib/harness.ts';
import { seed } from '../lib/common.ts';
import { decodeGlobalID } from '@pothos/plugin-relay';
const kind = (process.argv[2] ?? 'sqlite') as 'sqlite' | 'postgres';
const db = await createBenchDb(kind);
const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production', VAULTGATE_MASTER_KEY: randomBytes(32).toString('base64'), ACCESS_SCHEDULER_INTERVAL_MS: '0', WORKFLOW_POLL_INTERVAL_MS: '0' });
const app = createApp(config, { logger: createLogger('warn') });
const { url } = await app.start();
const s = await seed(url.replace('localhost', '127.0.0.1'), 200);
const organizationId = decodeGlobalID(s.orgId).id;
const p = app.deps.db;
const cases: Record<string, () => Promise<unknown>> = {
  rawSql: () => p.$queryRawUnsafe(`SELECT c."id", c."name", c."username", cat."name" AS "categoryName", f."name" AS "folderName", c."lastAccessedAt" FROM "Credential" c LEFT JOIN "Category" cat ON cat."id" = c."categoryId" LEFT JOIN "Folder" f ON f."id" = c."folderId" WHERE c."organizationId" = $1 AND c."archivedAt" IS NULL ORDER BY c."name", c."id" LIMIT 51`.replace('$1', kind === 'sqlite' ? '?' : '$1'), organizationId),
  findMany: () => p.credential.findMany({ where: { organizationId, archivedAt: null }, orderBy: [{ name: 'asc' }, { id: 'asc' }], take: 51, select: { id: true, name: true, username: true, lastAccessedAt: true } }),
  findManyRel: () => p.credential.findMany({ where: { organizationId, archivedAt: null }, orderBy: [{ name: 'asc' }, { id: 'asc' }], take: 51, select: { id: true, name: true, username: true, lastAccessedAt: true, category: { select: { name: true } }, folder: { select: { name: true } } } }),
};
for (const [name, fn] of Object.entries(cases)) {
  for (let i = 0; i < 200; i++) await fn();
  const N = 2000;
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await fn();
  const c = process.cpuUsage(c0);
  console.log(name.padEnd(12), ((c.user + c.system) / N / 1000).toFixed(3), 'ms cpu');
}
await app.stop(); await db.drop(); process.exit(0);
