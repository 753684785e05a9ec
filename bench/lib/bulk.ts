// Bulk seeding straight into the database, for the size benchmarks (P8): millions of rows through the API would
// take hours. It adds to an installation seeded through the API (users, keys, sessions, the organization's data
// key and the start of its audit chain are real) and writes exactly what the API would have written:
//   - credentials with their version 1 and a PASSWORD secret sealed with the organization's data key by the
//     project's own envelope code, so any of them reveals;
//   - the organization's audit chain continued from its head: a `credential.create` entry per credential and
//     `credential.reveal` entries in between, each hashed with auditHash and linked to the one before, and the
//     head (AuditHead) moved to the last one, so later appends and verifyAuditLog work.
// The server must be stopped while this runs (SQLite: the journal mode is switched for the load).
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { encryptField, loadMasterKey, unwrapKey } from '../../src/lib/crypto/envelope.ts';
import { secretAad } from '../../src/modules/credential/secrets.ts';
import { auditHash, type StoredAuditFields } from '../../src/modules/audit/audit.chain.ts';
import type { BenchDb } from './harness.ts';

type Value = string | number | boolean | Date | null;
/** A column and its PostgreSQL type (the JSON rows are cast to it); SQLite needs no type. */
type Column = [name: string, pgType: string];
type Row = Record<string, unknown>;

/**
 * Writes batches of rows. `deferIndexes` drops the tables' secondary indexes (remembering their exact DDL) and
 * `finish` builds them again: one sorted build per index is much cheaper than millions of scattered inserts into
 * it, and rebuilding the unique ones re-checks the generated rows. Primary keys stay (they cannot be dropped).
 */
type BulkWriter = {
  query(sql: string, params?: Value[]): Promise<Row[]>;
  deferIndexes(tables: string[]): Promise<void>;
  insert(table: string, columns: Column[], rows: Value[][]): Promise<void>;
  /** Waits for whatever is still in flight. */
  flush(): Promise<void>;
  finish(): Promise<void>;
};

const insertSql = (table: string, columns: Column[], values: string) => `INSERT INTO "${table}" (${columns.map(([c]) => `"${c}"`).join(', ')}) ${values}`;
const inList = (tables: string[]) => tables.map((t) => `'${t}'`).join(', ');

/**
 * SQLite: one prepared INSERT per table, one transaction per batch, and the settings of a load that may be
 * redone from scratch if it fails: no rollback journal, no fsync, a 2 GB page cache (the random-UUID primary-key
 * indexes are written all over), temporary b-trees in memory. WAL is restored at the end (the server sets it too).
 */
function sqliteWriter(url: string): BulkWriter {
  const db = new Database(url.slice('file:'.length));
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -2000000');
  db.pragma('temp_store = MEMORY');
  db.pragma('locking_mode = EXCLUSIVE');
  const statements = new Map<string, Database.Statement>();
  let deferred: string[] = [];
  // Prisma's SQLite adapter stores DateTime as ISO text with an explicit offset, and booleans as 0/1.
  const cell = (v: Value) => (v instanceof Date ? v.toISOString().replace('Z', '+00:00') : typeof v === 'boolean' ? Number(v) : v);
  const insertAll = db.transaction((st: Database.Statement, rows: Value[][]) => {
    for (const r of rows) st.run(r.map(cell));
  });
  return {
    query: async (sql, params = []) => {
      const st = db.prepare(sql);
      return st.reader ? (st.all(params.map(cell)) as Row[]) : (st.run(params.map(cell)), []);
    },
    deferIndexes: async (tables) => {
      // Indexes SQLite made for PRIMARY KEY / UNIQUE constraints have no SQL and stay.
      const rows = db.prepare(`SELECT "name", "sql" FROM sqlite_master WHERE "type" = 'index' AND "sql" IS NOT NULL AND "tbl_name" IN (${inList(tables)})`).all() as { name: string; sql: string }[];
      for (const r of rows) db.exec(`DROP INDEX "${r.name}"`);
      deferred = rows.map((r) => r.sql);
    },
    insert: async (table, columns, rows) => {
      let st = statements.get(table);
      if (!st) {
        st = db.prepare(insertSql(table, columns, `VALUES (${columns.map(() => '?').join(', ')})`));
        statements.set(table, st);
      }
      insertAll(st, rows);
    },
    flush: async () => {},
    finish: async () => {
      for (const sql of deferred) db.exec(sql);
      db.pragma('locking_mode = NORMAL');
      db.pragma('journal_mode = WAL');
      db.close();
    },
  };
}

/**
 * PostgreSQL: one multi-row INSERT per batch, its rows sent as a single JSON array parameter and taken apart by
 * the server (jsonb_array_elements, each column cast to its type): JSON.stringify is native, where node-postgres
 * escapes array parameters element by element in JavaScript — that made generation the bottleneck. A batch is
 * sent while the next one is generated (at most one in flight). Foreign-key triggers are skipped for this session (session_replication_role
 * = replica; the rows are consistent by construction) and commits do not wait for the WAL flush. VACUUM ANALYZE
 * at the end gives the planner the statistics and visibility map autovacuum would have produced by then.
 */
async function pgWriter(url: string): Promise<BulkWriter> {
  // timestamp(3) columns hold UTC wall time (what Prisma writes): read them back as UTC, whatever TZ says.
  const utc = (text: string) => new Date(`${text.replace(' ', 'T')}Z`);
  const types = { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === pg.types.builtins.TIMESTAMP ? utc : pg.types.getTypeParser(oid, format)) };
  const client = new pg.Client({ connectionString: url, types: types as pg.CustomTypesConfig });
  await client.connect();
  await client.query(`SET session_replication_role = replica`);
  await client.query(`SET synchronous_commit = off`);
  // Index builds sort in memory rather than in temporary files.
  await client.query(`SET maintenance_work_mem = '1GB'`);
  // Dates go as ISO text; a zone in the input of a `timestamp` (without time zone) is ignored, so the UTC wall
  // time is what is stored.
  const cell = (v: Value) => (v instanceof Date ? v.toISOString() : v);
  let inflight: Promise<unknown> = Promise.resolve();
  let deferred: string[] = [];
  const tables = new Set<string>();
  const numbered = (sql: string) => {
    let i = 0;
    return sql.replace(/\?/g, () => `$${++i}`);
  };
  return {
    query: async (sql, params = []) => (await client.query(numbered(sql), params.map(cell))).rows as Row[],
    deferIndexes: async (names) => {
      // Indexes behind constraints (the primary keys) stay; Prisma's unique indexes are plain unique indexes.
      const { rows } = await client.query(
        `SELECT "indexname", "indexdef" FROM pg_indexes WHERE "schemaname" = current_schema() AND "tablename" IN (${inList(names)})
           AND "indexname" NOT IN (SELECT "conname" FROM pg_constraint)`,
      );
      for (const r of rows) await client.query(`DROP INDEX "${r.indexname}"`);
      deferred = rows.map((r) => r.indexdef as string);
    },
    insert: async (table, columns, rows) => {
      tables.add(table);
      const sql = insertSql(table, columns, `SELECT ${columns.map(([, t], i) => `(r->>${i})::${t}`).join(', ')} FROM jsonb_array_elements($1::jsonb) AS r`);
      const json = JSON.stringify(rows);
      await inflight;
      inflight = client.query(sql, [json]);
    },
    flush: async () => {
      await inflight;
    },
    finish: async () => {
      await inflight;
      for (const sql of deferred) await client.query(sql);
      await client.query(`SET session_replication_role = origin`);
      for (const t of tables) await client.query(`VACUUM ANALYZE "${t}"`);
      await client.end();
    },
  };
}

const CREDENTIAL: Column[] = [
  ['id', 'text'], ['organizationId', 'text'], ['kind', '"CredentialKind"'], ['name', 'text'], ['username', 'text'],
  ['categoryId', 'text'], ['folderId', 'text'], ['restricted', 'boolean'], ['passwordStrength', 'integer'],
  ['currentVersion', 'integer'], ['createdAt', 'timestamp(3)'], ['updatedAt', 'timestamp(3)'],
  ['passwordUpdatedAt', 'timestamp(3)'], ['lastAccessedAt', 'timestamp(3)'], ['createdById', 'text'], ['updatedById', 'text'],
];
const VERSION: Column[] = [['id', 'text'], ['credentialId', 'text'], ['version', 'integer'], ['changedById', 'text'], ['changedAt', 'timestamp(3)']];
const SECRET: Column[] = [['id', 'text'], ['credentialId', 'text'], ['version', 'integer'], ['field', 'text'], ['keyRef', 'text'], ['keyVersion', 'integer'], ['sealed', 'text']];
const AUDIT: Column[] = [
  ['id', 'text'], ['chain', 'text'], ['seq', 'integer'], ['organizationId', 'text'], ['action', 'text'], ['actorUserId', 'text'],
  ['actorApiKeyId', 'text'], ['targetType', 'text'], ['targetId', 'text'], ['data', 'text'], ['at', 'timestamp(3)'],
  ['prevHash', 'text'], ['hash', 'text'],
];

export type BulkTarget = { credentials: number; auditRows: number };
export type BulkResult = {
  /** Local ids of the credentials added, in insertion order. */
  credentialIds: string[];
  credentialsAdded: number;
  auditRowsAdded: number;
  seconds: number;
};

/** Bulk credential j's password is this prefix and j, so a reveal's answer can be recognised. */
export const BULK_PASSWORD_PREFIX = 'bulk-password-';

/**
 * Fills the database of an installation that seed() bootstrapped (one organization) up to `target.credentials`
 * credentials and `target.auditRows` audit rows in all, counting what the API already wrote.
 */
export async function bulkSeed(db: BenchDb, masterKeyText: string, target: BulkTarget): Promise<BulkResult> {
  const started = performance.now();
  const w = db.kind === 'sqlite' ? sqliteWriter(db.url) : await pgWriter(db.url);
  try {
    const [org] = await w.query(`SELECT "id" FROM "Organization"`);
    const organizationId = org.id as string;
    const [user] = await w.query(`SELECT "id" FROM "User"`);
    const userId = user.id as string;
    const categories = (await w.query(`SELECT "id" FROM "Category" WHERE "organizationId" = ? ORDER BY "name"`, [organizationId])).map((r) => r.id as string);
    const folders = (await w.query(`SELECT "id" FROM "Folder" WHERE "organizationId" = ? ORDER BY "name"`, [organizationId])).map((r) => r.id as string);
    const [k] = await w.query(`SELECT "version", "wrappedKey", "masterKeyId" FROM "OrganizationKey" WHERE "organizationId" = ? ORDER BY "version" DESC LIMIT 1`, [organizationId]);
    const keyVersion = Number(k.version);
    const master = loadMasterKey({ envValue: masterKeyText, create: false });
    const dataKey = unwrapKey(master.key, k.wrappedKey as string, { organizationId, keyVersion, masterKeyId: k.masterKeyId as string });
    const [head] = await w.query(`SELECT "seq", "hash" FROM "AuditHead" WHERE "chain" = ?`, [organizationId]);
    const [last] = await w.query(`SELECT "at" FROM "AuditEvent" WHERE "chain" = ? AND "seq" = ?`, [organizationId, Number(head.seq)]);
    const [{ n: existingCredentials }] = await w.query(`SELECT COUNT(*) AS "n" FROM "Credential"`);
    const [{ n: existingAudit }] = await w.query(`SELECT COUNT(*) AS "n" FROM "AuditEvent"`);

    const n = target.credentials - Number(existingCredentials);
    const m = target.auditRows - Number(existingAudit);
    if (n < 1 || m < n) throw new Error(`bulkSeed: ${target.credentials} credentials / ${target.auditRows} audit rows leave no room for one create entry per credential`);
    const reveals = m - n;
    // Timestamps run from the API's last entry to now, in chain order, so `at` never goes backwards along the chain.
    const t0 = new Date(last.at as string | Date).getTime();
    const span = Math.max(1, Date.now() - t0);
    const timeOf = (i: number) => new Date(t0 + Math.floor(((i + 1) * span) / m));

    let seq = Number(head.seq);
    let prevHash = head.hash as string;
    let entry = 0;
    const credentialIds: string[] = [];
    const batch = db.kind === 'sqlite' ? 20_000 : 5_000;
    const buffers = { Credential: [] as Value[][], CredentialVersion: [] as Value[][], SecretValue: [] as Value[][], AuditEvent: [] as Value[][] };
    const columns = { Credential: CREDENTIAL, CredentialVersion: VERSION, SecretValue: SECRET, AuditEvent: AUDIT };
    await w.deferIndexes(Object.keys(columns));
    const push = async (table: keyof typeof buffers, values: Value[]) => {
      buffers[table].push(values);
      if (buffers[table].length >= batch) {
        await w.insert(table, columns[table], buffers[table]);
        buffers[table] = [];
      }
    };
    const audit = async (action: string, targetId: string, data: Record<string, unknown>) => {
      const fields: StoredAuditFields = {
        chain: organizationId,
        seq: ++seq,
        organizationId,
        action,
        actorUserId: userId,
        actorApiKeyId: null,
        targetType: 'Credential',
        targetId,
        data: JSON.stringify(data),
        at: timeOf(entry++),
        prevHash,
      };
      prevHash = auditHash(fields);
      const f = fields;
      await push('AuditEvent', [randomUUID(), f.chain, f.seq, f.organizationId, f.action, f.actorUserId, f.actorApiKeyId, f.targetType, f.targetId, f.data, f.at, f.prevHash, prevHash]);
      return f.at;
    };

    for (let j = 0; j < n; j++) {
      const id = randomUUID();
      credentialIds.push(id);
      // Names in an order unrelated to insertion (7919 is prime, so j → 7919·j mod n is a permutation), so that
      // pages in name order touch rows written at any time, as after years of use.
      const name = `Credential ${String((j * 7919) % n).padStart(7, '0')}`;
      const at = await audit('credential.create', id, { name, kind: 'PASSWORD', restricted: false });
      // The mix of seed(): some without username, category or folder; half accessed before.
      await push('Credential', [
        id, organizationId, 'PASSWORD', name, j % 3 === 0 ? null : `admin${j}`,
        j % 4 === 0 ? null : categories[j % categories.length], j % 5 === 0 ? null : folders[j % folders.length],
        false, 3, 1, at, at, at, j % 2 === 0 ? null : at, userId, userId,
      ]);
      await push('CredentialVersion', [randomUUID(), id, 1, userId, at]);
      const secret = { credentialId: id, version: 1, field: 'PASSWORD', keyRef: '', keyVersion };
      await push('SecretValue', [randomUUID(), id, 1, 'PASSWORD', '', keyVersion, encryptField(dataKey, `${BULK_PASSWORD_PREFIX}${j}`, secretAad(organizationId, secret))]);
      // The reveals spread evenly between creates, each of a credential created before it.
      const upTo = Math.floor(((j + 1) * reveals) / n);
      for (let r = Math.floor((j * reveals) / n); r < upTo; r++) {
        const target = credentialIds[Math.floor(Math.random() * credentialIds.length)];
        await audit('credential.reveal', target, { field: 'PASSWORD', version: 1, surface: 'REVEAL', accessRecordId: randomUUID() });
      }
    }
    for (const table of Object.keys(buffers) as (keyof typeof buffers)[]) {
      if (buffers[table].length) await w.insert(table, columns[table], buffers[table]);
    }
    await w.flush();
    await w.query(`UPDATE "AuditHead" SET "seq" = ?, "hash" = ? WHERE "chain" = ?`, [seq, prevHash, organizationId]);
    await w.finish();
    return { credentialIds, credentialsAdded: n, auditRowsAdded: m, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    await w.finish().catch(() => {});
    throw error;
  }
}
