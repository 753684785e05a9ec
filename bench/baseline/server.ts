// The baseline the benchmarks compare vaultgate with: node:http, the same database driver, hand-written SQL
// and JSON.stringify — no GraphQL, no policy, no audit chain. It answers the two benchmarked operations with
// byte-identical bodies, so the ratio measures what vaultgate adds, not a different answer.
//   list:   POST {organizationId}              → the body of the P1 credentials query (first 50 by name)
//   reveal: POST {id}                           → read + decrypt + insert an access record, one transaction
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { encodeGlobalID, decodeGlobalID } from '@pothos/plugin-relay';
import { decryptField, loadMasterKey, unwrapKey } from '../../src/lib/crypto/envelope.ts';
import { secretAad } from '../../src/modules/credential/secrets.ts';

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

async function reveal(credentialId: string): Promise<string> {
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
    await q(
      `INSERT INTO "AccessRecord" ("id", "organizationId", "credentialId", "credentialName", "field", "version", "surface", "at") VALUES (?, ?, ?, ?, 'PASSWORD', ?, 'REVEAL', ?)`,
      [randomUUID(), orgId, credentialId, c.name, row.version, isSqlite ? now.toISOString() : now],
    );
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
      const body = input.variables.org ? await list(decodeGlobalID(input.variables.org).id) : await reveal(decodeGlobalID(input.variables.id!).id);
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
