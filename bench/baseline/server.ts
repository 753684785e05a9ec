// The baseline the benchmarks compare vaultgate with: node:http, the same database driver, hand-written SQL
// and JSON.stringify — no GraphQL, no policy, no audit chain. It answers the two benchmarked operations with
// byte-identical bodies, so the ratio measures what vaultgate adds, not a different answer.
//   list:   POST {organizationId}              → the body of the P1 credentials query (first 50 by name)
//   reveal: POST {id}                           → read + decrypt + insert an access record, one transaction (the
//                                                 "floor": less than vaultgate does)
//   reveal: POST /like-for-like {id}            → the statements vaultgate's reveal runs, raw: read, decrypt, the
//                                                 full access record, last-access update, and the audit chain's
//                                                 head upsert, hashed entry and head update (bench P3)
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { encodeGlobalID, decodeGlobalID } from '@pothos/plugin-relay';
import { decryptField, loadMasterKey, unwrapKey } from '../../src/lib/crypto/envelope.ts';
import { secretAad } from '../../src/modules/credential/secrets.ts';
import { auditHash, GENESIS_HASH, type StoredAuditFields } from '../../src/modules/audit/audit.chain.ts';

const url = process.env.DATABASE_URL!;
const master = loadMasterKey({ envValue: process.env.VAULTGATE_MASTER_KEY, keyFilePath: '/nonexistent', create: false });
const isSqlite = url.startsWith('file:');

type Row = Record<string, unknown>;
type Db = { all(sql: string, params: unknown[]): Promise<Row[]>; tx<T>(fn: (q: (sql: string, params: unknown[]) => Promise<Row[]>) => Promise<T>): Promise<T> };

function sqliteDb(): Db {
  const db = new Database(url.slice('file:'.length));
  db.pragma('journal_mode = WAL');
  const run = (sql: string, params: unknown[]) => {
    const st = db.prepare(sql);
    return st.reader ? (st.all(...params) as Row[]) : (st.run(...params), []);
  };
  return {
    all: async (sql, params) => run(sql, params),
    tx: async (fn) => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(async (sql, params) => run(sql, params));
        db.exec('COMMIT');
        return out;
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    },
  };
}

function pgDb(): Db {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const q = (c: pg.PoolClient | pg.Pool) => async (sql: string, params: unknown[]) => {
    let i = 0;
    return (await c.query(sql.replace(/\?/g, () => `$${++i}`), params)).rows as Row[];
  };
  return {
    all: (sql, params) => q(pool)(sql, params),
    tx: async (fn) => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const out = await fn(q(c));
        await c.query('COMMIT');
        return out;
      } catch (error) {
        await c.query('ROLLBACK');
        throw error;
      } finally {
        c.release();
      }
    },
  };
}

const db = isSqlite ? sqliteDb() : pgDb();
const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : (v as string | number | Date)).toISOString());

const LIST_SQL = `
  SELECT c."id", c."name", c."username", cat."name" AS "categoryName", f."name" AS "folderName", c."lastAccessedAt"
  FROM "Credential" c
  LEFT JOIN "Category" cat ON cat."id" = c."categoryId"
  LEFT JOIN "Folder" f ON f."id" = c."folderId"
  WHERE c."organizationId" = ? AND c."archivedAt" IS NULL
  ORDER BY c."name" ASC, c."id" ASC
  LIMIT 50`;

async function list(organizationId: string): Promise<string> {
  const rows = await db.all(LIST_SQL, [organizationId]);
  const edges = rows.map((r) => ({
    node: {
      id: encodeGlobalID('Credential', r.id as string),
      name: r.name,
      username: r.username ?? null,
      category: r.categoryName === null ? null : { name: r.categoryName },
      folder: r.folderName === null ? null : { name: r.folderName },
      lastAccessedAt: iso(r.lastAccessedAt),
    },
  }));
  return JSON.stringify({ data: { credentials: { edges } } });
}

const keys = new Map<string, Buffer>();
/** The user the like-for-like reveal records as actor: the bench's one user (BENCH_ACTOR_USER_ID), as vaultgate does. */
const actorUserId = process.env.BENCH_ACTOR_USER_ID ?? null;

const sqlTime = (d: Date) => (isSqlite ? d.toISOString() : d);

async function reveal(credentialId: string, likeForLike: boolean): Promise<string> {
  return db.tx(async (q) => {
    const [c] = await q(`SELECT "id", "organizationId", "name", "currentVersion" FROM "Credential" WHERE "id" = ?`, [credentialId]);
    const [s] = await q(`SELECT "credentialId", "version", "field", "keyRef", "keyVersion", "sealed" FROM "SecretValue" WHERE "credentialId" = ? AND "version" = ? AND "field" = 'PASSWORD' AND "keyRef" = ''`, [credentialId, c.currentVersion]);
    const orgId = c.organizationId as string;
    const cacheKey = `${orgId}:${s.keyVersion}`;
    let key = keys.get(cacheKey);
    if (!key) {
      const [k] = await q(`SELECT "wrappedKey", "masterKeyId" FROM "OrganizationKey" WHERE "organizationId" = ? AND "version" = ?`, [orgId, s.keyVersion]);
      key = unwrapKey(master.key, k.wrappedKey as string, { organizationId: orgId, keyVersion: Number(s.keyVersion), masterKeyId: k.masterKeyId as string });
      keys.set(cacheKey, key);
    }
    const row = { credentialId, version: Number(s.version), field: 'PASSWORD', keyRef: '', keyVersion: Number(s.keyVersion) };
    const value = decryptField(key, s.sealed as string, secretAad(orgId, row));
    const now = new Date();
    if (!likeForLike) {
      await q(
        `INSERT INTO "AccessRecord" ("id", "organizationId", "credentialId", "credentialName", "field", "version", "surface", "at") VALUES (?, ?, ?, ?, 'PASSWORD', ?, 'REVEAL', ?)`,
        [randomUUID(), orgId, credentialId, c.name, row.version, sqlTime(now)],
      );
      return JSON.stringify({ data: { revealCredential: { value } } });
    }
    // What vaultgate's reveal writes, statement for statement (src/modules/credential/reveal.service.ts and
    // src/modules/audit/audit.chain.ts), with the same columns filled.
    const recordId = randomUUID();
    await q(
      `INSERT INTO "AccessRecord" ("id", "organizationId", "credentialId", "credentialName", "field", "version", "surface", "actorUserId", "actorApiKeyId", "purpose", "clientAddress", "userAgent", "requestId", "authMethod", "stepUpVerified", "at") VALUES (?, ?, ?, ?, 'PASSWORD', ?, 'REVEAL', ?, NULL, NULL, ?, ?, ?, 'PASSWORD', ?, ?)`,
      [recordId, orgId, credentialId, c.name, row.version, actorUserId, '127.0.0.1', 'bench', randomUUID(), isSqlite ? 0 : false, sqlTime(now)],
    );
    await q(`UPDATE "Credential" SET "lastAccessedAt" = ? WHERE "id" = ?`, [sqlTime(now), credentialId]);
    const [head] = await q(
      `INSERT INTO "AuditHead" ("chain", "seq", "hash") VALUES (?, 1, ?) ON CONFLICT ("chain") DO UPDATE SET "seq" = "AuditHead"."seq" + 1 RETURNING "seq", "hash"`,
      [orgId, GENESIS_HASH],
    );
    const fields: StoredAuditFields = {
      chain: orgId,
      seq: Number(head.seq),
      organizationId: orgId,
      action: 'credential.reveal',
      actorUserId,
      actorApiKeyId: null,
      targetType: 'Credential',
      targetId: credentialId,
      data: JSON.stringify({ field: 'PASSWORD', version: row.version, surface: 'REVEAL', accessRecordId: recordId, authMethod: 'PASSWORD', stepUpVerified: false }),
      at: now,
      prevHash: head.hash as string,
    };
    const hash = auditHash(fields);
    await q(
      `INSERT INTO "AuditEvent" ("id", "chain", "seq", "organizationId", "action", "actorUserId", "actorApiKeyId", "targetType", "targetId", "data", "at", "prevHash", "hash") VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)`,
      [randomUUID(), fields.chain, fields.seq, orgId, fields.action, actorUserId, fields.targetType, fields.targetId, fields.data, sqlTime(now), fields.prevHash, hash],
    );
    await q(`UPDATE "AuditHead" SET "hash" = ? WHERE "chain" = ?`, [hash, orgId]);
    return JSON.stringify({ data: { revealCredential: { value } } });
  });
}

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') return res.end('{"status":"ok"}');
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    try {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables: { org?: string; id?: string } };
      const body = input.variables.org ? await list(decodeGlobalID(input.variables.org).id) : await reveal(decodeGlobalID(input.variables.id!).id, req.url?.endsWith('/like-for-like') === true);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(body);
    } catch (error) {
      res.writeHead(500);
      res.end(String(error));
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
