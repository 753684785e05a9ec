// P8: list and reveal latency with 1 000 000 credentials and 10 000 000 audit rows, beside the same with 10 000 and
// 100 000 (both installations up at once, alternating rounds). Each installation is bootstrapped through the API
// (seed(): user, session, organization, data key, folders, categories, 20 credentials), then filled by direct bulk
// inserts (bench/lib/bulk.ts) while its server is stopped.
//
// Measured, closed loop at concurrency 4: the LIST query as P1 sends it (first page by name), the same query one
// page after cursors spread from 10 % to 90 % of the name order, and REVEAL of credentials picked at random over
// the whole table (bulk rows, sealed with the organization's real data key).
import { randomBytes } from 'node:crypto';
import { statSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeKeysetCursor } from '../src/lib/keyset.ts';
import { credentialKeysetOrder } from '../src/modules/credential/credential.query.ts';
import { encodeGlobalID } from '@pothos/plugin-relay';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createBenchDb, fmt, gql, load, median, startServer, type BenchDb, type LoadResult, type Reply, type Server } from './lib/harness.ts';
import { LIST, REVEAL, SIZES, seed, serverEnv, smoke, type DbKind } from './lib/common.ts';
import { BULK_PASSWORD_PREFIX, bulkSeed, type BulkTarget } from './lib/bulk.ts';

const SCALES: Record<'small' | 'large', BulkTarget> = smoke
  ? { small: { credentials: 1_000, auditRows: 10_000 }, large: { credentials: 20_000, auditRows: 100_000 } }
  : { small: { credentials: 10_000, auditRows: 100_000 }, large: { credentials: 1_000_000, auditRows: 10_000_000 } };
const CONCURRENCY = 4;
const API_CREDENTIALS = 20;
const REVEAL_TARGETS = 1_000;
/** Where in the name order the middle pages start (fractions of the credentials). */
const PAGE_POSITIONS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const TARGET_RATIO = 1.5;

const LIST_AFTER = LIST.replace('($org: ID!)', '($org: ID!, $after: String)').replace('first: 50', 'first: 50, after: $after');
const VERIFY = `query Verify($org: ID!) { verifyAuditLog(organizationId: $org) { ok checkedCount problem reason } }`;

const revealed = (r: Reply) => r.status === 200 && r.body.includes(`"value":"${BULK_PASSWORD_PREFIX}`);

type Installation = {
  label: string;
  db: BenchDb;
  server: Server;
  token: string;
  orgId: string;
  listFirst: string;
  listMiddle: string[];
  reveals: string[];
};

async function databaseSize(db: BenchDb): Promise<number> {
  if (db.kind === 'sqlite') {
    const dir = dirname(db.url.slice('file:'.length));
    return readdirSync(dir).reduce((sum, f) => sum + statSync(`${dir}/${f}`).size, 0);
  }
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return Number((await c.query(`SELECT pg_database_size(current_database()) AS n`)).rows[0].n);
  } finally {
    await c.end();
  }
}

/** Credentials at given positions of the list's order (name, then id), read once, outside the measure. */
async function rowsInNameOrder(db: BenchDb, positions: number[]): Promise<{ id: string; name: string }[]> {
  const sql = `SELECT "id", "name" FROM "Credential" WHERE "archivedAt" IS NULL ORDER BY "name", "id" LIMIT 1 OFFSET `;
  if (db.kind === 'sqlite') {
    const d = new Database(db.url.slice('file:'.length), { readonly: true });
    try {
      return positions.map((p) => d.prepare(sql + p).get() as { id: string; name: string });
    } finally {
      d.close();
    }
  }
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const out: { id: string; name: string }[] = [];
    for (const p of positions) out.push((await c.query(sql + p)).rows[0]);
    return out;
  } finally {
    await c.end();
  }
}

async function install(kind: DbKind, label: string, target: BulkTarget): Promise<Installation> {
  const db = await createBenchDb(kind);
  let server: Server | null = null;
  try {
    const masterKey = randomBytes(32).toString('base64');
    const env = serverEnv(db, masterKey);
    server = await startServer('src/main.ts', env);
    const t0 = performance.now();
    const seeded = await seed(server.url, API_CREDENTIALS);
    const apiSeconds = (performance.now() - t0) / 1000;
    await server.stop();
    server = null;
    const bulk = await bulkSeed(db, masterKey, target);
    const size = await databaseSize(db);
    console.log(
      `${label}: ${target.credentials.toLocaleString('en')} credentials, ${target.auditRows.toLocaleString('en')} audit rows — API seed ${fmt(apiSeconds)} s, ` +
        `bulk ${bulk.credentialsAdded.toLocaleString('en')} credentials + ${bulk.auditRowsAdded.toLocaleString('en')} audit rows in ${fmt(bulk.seconds)} s ` +
        `(${fmt((bulk.credentialsAdded * 3 + bulk.auditRowsAdded) / bulk.seconds / 1000, 0)} k rows/s), database ${fmt(size / 2 ** 30, 2)} GiB`,
    );
    const middle = await rowsInNameOrder(db, PAGE_POSITIONS.map((p) => Math.floor(p * target.credentials)));
    server = await startServer('src/main.ts', env);
    const reveals = Array.from({ length: REVEAL_TARGETS }, () => bulk.credentialIds[Math.floor(Math.random() * bulk.credentialIds.length)]);
    return {
      label,
      db,
      server,
      token: seeded.token,
      orgId: seeded.orgId,
      listFirst: JSON.stringify({ query: LIST, variables: { org: seeded.orgId } }),
      // The list's own keyset cursors (sort value and id), as the server hands them out.
      listMiddle: middle.map((row) => JSON.stringify({ query: LIST_AFTER, variables: { org: seeded.orgId, after: encodeKeysetCursor(credentialKeysetOrder(null), row) } })),
      reveals: reveals.map((id) => JSON.stringify({ query: REVEAL, variables: { id: encodeGlobalID('Credential', id) } })),
    };
  } catch (error) {
    await server?.stop();
    await db.drop();
    throw error;
  }
}

type Measure = { name: string; bodies: (i: Installation) => string[]; ok?: (r: Reply) => boolean };

const MEASURES: Measure[] = [
  { name: 'list first page', bodies: (i) => [i.listFirst] },
  { name: 'list middle pages', bodies: (i) => i.listMiddle },
  { name: 'reveal', bodies: (i) => i.reveals, ok: revealed },
];

function run(inst: Installation, m: Measure, seconds: number): Promise<LoadResult> {
  const bodies = m.bodies(inst);
  let n = 0;
  const headers = { authorization: `Bearer ${inst.token}` };
  return load(() => ({ url: inst.server.url, body: bodies[n++ % bodies.length], headers }), { concurrency: CONCURRENCY, seconds, ok: m.ok });
}

const line = (label: string, p50s: number[], p99s: number[], rps: number[], errors: number) =>
  `${label.padEnd(34)} p50 ${fmt(median(p50s), 2).padStart(7)} ms   p99 ${fmt(median(p99s), 2).padStart(7)} ms   ${fmt(median(rps), 0).padStart(5)} req/s   errors ${errors}`;

export async function p8(kind: DbKind) {
  const { small, large } = SCALES;
  console.log(`\nP8 list and reveal with ${large.credentials.toLocaleString('en')} credentials / ${large.auditRows.toLocaleString('en')} audit rows vs ${small.credentials.toLocaleString('en')} / ${small.auditRows.toLocaleString('en')} — ${kind}`);
  const installs: Installation[] = [];
  try {
    installs.push(await install(kind, 'small', small));
    installs.push(await install(kind, 'large', large));
    const [s, l] = installs;
    // The bodies must answer before anything is timed: a refused or failing query would time error paths.
    for (const inst of installs) {
      for (const m of MEASURES) {
        const r = await run(inst, m, 1); // also the warm-up
        if (r.errors) throw new Error(`P8 ${m.name} on ${inst.label}: ${r.errors} of ${r.requests} requests failed`);
      }
    }
    const results: Record<string, { ratioP50: number; ratioP99: number }> = {};
    for (const m of MEASURES) {
      const rounds = { small: [] as LoadResult[], large: [] as LoadResult[] };
      for (let i = 0; i < SIZES.rounds; i++) {
        rounds.small.push(await run(s, m, SIZES.seconds));
        rounds.large.push(await run(l, m, SIZES.seconds));
      }
      const p50 = (xs: LoadResult[]) => median(xs.map((x) => x.p50));
      const p99 = (xs: LoadResult[]) => median(xs.map((x) => x.p99));
      const errors = (xs: LoadResult[]) => xs.reduce((n, x) => n + x.errors, 0);
      for (const side of ['small', 'large'] as const) {
        const xs = rounds[side];
        console.log(line(`P8 ${m.name} ${side}`, xs.map((x) => x.p50), xs.map((x) => x.p99), xs.map((x) => x.rps), errors(xs)));
      }
      const ratioP50 = p50(rounds.large) / p50(rounds.small);
      const ratioP99 = p99(rounds.large) / p99(rounds.small);
      const met = ratioP50 <= TARGET_RATIO && ratioP99 <= TARGET_RATIO;
      console.log(`P8 ${m.name}: large/small p50 ${fmt(ratioP50, 2)}×, p99 ${fmt(ratioP99, 2)}× (target ≤ ${TARGET_RATIO}×: ${met ? 'met' : 'missed'})`);
      results[m.name] = { ratioP50, ratioP99 };
    }
    // The measured reveals appended to the bulk-written chain: it must still verify end to end. The large chain
    // is walked only in smoke mode (10 M rows take minutes).
    for (const inst of smoke ? installs : [s]) {
      const v = await gql(inst.server.url, VERIFY, { org: inst.orgId }, inst.token);
      console.log(`audit chain ${inst.label}: ok ${v.verifyAuditLog.ok}, ${v.verifyAuditLog.checkedCount} entries checked${v.verifyAuditLog.ok ? '' : ` — ${v.verifyAuditLog.problem}: ${v.verifyAuditLog.reason}`}`);
      if (!v.verifyAuditLog.ok) throw new Error(`P8: the ${inst.label} audit chain does not verify`);
    }
    return results;
  } finally {
    for (const inst of installs) {
      await inst.server.stop();
      await inst.db.drop();
    }
  }
}
