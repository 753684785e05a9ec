import { decodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import type { Context } from '../../context.ts';
import type { Db } from '../../db/client.ts';
import type { Prisma } from '../../generated/prisma-sqlite/client.ts';
import { localId } from '../../lib/ids.ts';
import { appendAudit, auditHash, GENESIS_HASH, SYSTEM_CHAIN, type StoredAuditFields } from './audit.chain.ts';

/** Rows read per round trip when walking a chain: verification and export never hold a whole chain's rows. */
export const AUDIT_BATCH_SIZE = 1000;

const ACTION_MAX_LENGTH = 200;
const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Target types whose ids are shown as global ids, so clients can fetch the object with `node(id)`. */
export const KNOWN_TARGET_TYPES: ReadonlySet<string> = new Set(['Credential', 'User', 'Membership', 'ApiKey', 'Organization', 'Invitation', 'AccessPolicy', 'AccessRequest', 'Category', 'Folder', 'Workflow', 'Asset', 'AccessSession']);

export type AuditEventFilter = {
  organizationId: string;
  actorId?: string | null;
  credentialId?: string | null;
  action?: string | null;
  actionPrefix?: string | null;
  from?: Date | null;
  to?: Date | null;
};

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/** An actor is a user or an API key; a global id of any other type answers like a missing one. */
function actorWhere(actorId: string): Prisma.AuditEventWhereInput {
  let typename: string | null = null;
  try {
    typename = decodeGlobalID(actorId).typename;
  } catch {
    // fall through to FORBIDDEN below
  }
  if (typename === 'ApiKey') return { actorApiKeyId: localId(actorId, 'ApiKey') };
  return { actorUserId: localId(actorId, 'User') };
}

/**
 * The chain's actions that start with `prefix`, exactly. Prisma's `startsWith` is SQL LIKE, where `%` and `_` are
 * wildcards (and `\` escapes on PostgreSQL), and SQLite's LIKE ignores case; so LIKE only narrows the search, on
 * the prefix's plain leading part, and the comparison itself happens here. The grouping reads the rows the
 * filter matches, as the page's totalCount does anyway; the result is a handful of distinct verbs.
 */
async function actionsStartingWith(db: Db, chain: string, prefix: string): Promise<string[]> {
  const plainLead = prefix.split(/[%_\\]/)[0];
  const groups = await db.auditEvent.groupBy({
    by: ['action'],
    where: { chain, ...(plainLead ? { action: { startsWith: plainLead } } : {}) },
  });
  return groups.map((g) => g.action).filter((action) => action.startsWith(prefix));
}

/** The organization's chain, filtered. Asserts `audit:read` there first: a foreign or missing id is FORBIDDEN. */
async function auditEventsWhere(ctx: Context, filter: AuditEventFilter): Promise<Prisma.AuditEventWhereInput> {
  const organizationId = localId(filter.organizationId, 'Organization');
  ctx.policy.assert('audit:read', { organizationId });
  for (const [name, value] of [['action', filter.action], ['actionPrefix', filter.actionPrefix]] as const) {
    if (value != null && value.length > ACTION_MAX_LENGTH) throw badInput(`filter.${name} must be at most ${ACTION_MAX_LENGTH} characters.`);
    if (value?.includes('\u0000')) throw badInput(`filter.${name} must not contain NUL characters.`);
  }
  const and: Prisma.AuditEventWhereInput[] = [];
  if (filter.actorId) and.push(actorWhere(filter.actorId));
  if (filter.credentialId) and.push({ targetType: 'Credential', targetId: localId(filter.credentialId, 'Credential') });
  if (filter.action != null) and.push({ action: filter.action });
  if (filter.actionPrefix) and.push({ action: { in: await actionsStartingWith(ctx.db, organizationId, filter.actionPrefix) } });
  if (filter.from) and.push({ at: { gte: filter.from } });
  if (filter.to) and.push({ at: { lt: filter.to } });
  // The chain is the organization's own; `chain` leads the (chain, seq) index that orders the result.
  return { chain: organizationId, organizationId, AND: and };
}

type AuditEventQuery = Omit<Prisma.AuditEventFindManyArgs, 'where' | 'orderBy'>;

/** One page of an organization's audit events, newest first. `query` is Pothos's (selection, cursor, page size). */
export async function listAuditEvents(ctx: Context, filter: AuditEventFilter, query: AuditEventQuery = {}) {
  const where = await auditEventsWhere(ctx, filter);
  return ctx.db.auditEvent.findMany({ ...query, where, orderBy: [{ seq: 'desc' }] });
}

export async function countAuditEvents(ctx: Context, filter: AuditEventFilter): Promise<number> {
  return ctx.db.auditEvent.count({ where: await auditEventsWhere(ctx, filter) });
}

type BatchLoader<V> = (id: string) => Promise<V | null>;

const batchLoaders = new WeakMap<Context, Map<string, BatchLoader<unknown>>>();

/**
 * A per-request loader: the ids asked for while one level of a result is resolved are fetched with one query.
 * Audit rows keep actor ids without relations (an entry must outlive its actor, and a cascade would break its
 * hash), so Pothos cannot join the actors into the page's query; one lookup per row would be N+1.
 */
function batchLoader<V extends { id: string }>(ctx: Context, key: string, fetch: (ids: string[]) => Promise<V[]>): BatchLoader<V> {
  let perRequest = batchLoaders.get(ctx);
  if (!perRequest) batchLoaders.set(ctx, (perRequest = new Map()));
  const existing = perRequest.get(key) as BatchLoader<V> | undefined;
  if (existing) return existing;
  let pending: { ids: Set<string>; rows: Promise<Map<string, V>> } | null = null;
  const load: BatchLoader<V> = (id) => {
    if (!pending) {
      const ids = new Set<string>();
      // setImmediate runs after every resolver of the current level has asked (they resolve in microtasks).
      const rows = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        pending = null;
        return new Map((await fetch([...ids])).map((row) => [row.id, row] as const));
      });
      pending = { ids, rows };
    }
    pending.ids.add(id);
    return pending.rows.then((byId) => byId.get(id) ?? null);
  };
  perRequest.set(key, load as BatchLoader<unknown>);
  return load;
}

/** Pothos's selection for a field, with the id the loader maps rows back by. */
function withId<Q extends { select?: object | null }>(query: Q): Q {
  return query.select ? { ...query, select: { ...query.select, id: true } } : query;
}

/** The user who acted on an entry, if the viewer may see them. Batched per request; `query` is Pothos's. */
export function auditActorUser<Q extends Omit<Prisma.UserFindManyArgs, 'where'>>(ctx: Context, query: Q, userId: string) {
  const load = batchLoader(ctx, `user:${JSON.stringify(query)}`, (ids) =>
    ctx.db.user.findMany({ ...withId(query), where: { id: { in: ids }, AND: [ctx.policy.readable('User')] } }),
  );
  return load(userId);
}

/** The API key that acted on an entry, if the viewer may see API keys there. Batched per request. */
export function auditActorApiKey<Q extends Omit<Prisma.ApiKeyFindManyArgs, 'where'>>(ctx: Context, query: Q, apiKeyId: string) {
  const load = batchLoader(ctx, `apiKey:${JSON.stringify(query)}`, (ids) =>
    ctx.db.apiKey.findMany({ ...withId(query), where: { id: { in: ids }, AND: [ctx.policy.readable('ApiKey')] } }),
  );
  return load(apiKeyId);
}

export type AuditHeadRef = { seq: number; hash: string };

export type AuditProblem =
  | 'HASH_MISMATCH'
  | 'BROKEN_LINK'
  | 'MISSING_ENTRY'
  | 'EXTRA_ENTRY'
  | 'HEAD_MISMATCH'
  | 'TRUNCATED'
  | 'REWRITTEN';

export type AuditVerification = {
  ok: boolean;
  checkedCount: number;
  headSeq: number;
  headHash: string;
  firstBadSeq: number | null;
  problem: AuditProblem | null;
  reason: string | null;
};

type StoredRow = StoredAuditFields & { hash: string };

const rowSelect = {
  chain: true,
  seq: true,
  organizationId: true,
  action: true,
  actorUserId: true,
  actorApiKeyId: true,
  targetType: true,
  targetId: true,
  data: true,
  at: true,
  prevHash: true,
  hash: true,
} as const satisfies Prisma.AuditEventSelect;

/**
 * The chain's rows with seq ≤ upTo, in seq order, one batch at a time. Keyset pagination on (chain, seq), so
 * every batch is an index range scan however long the chain is.
 */
async function* walkChain(db: Db, chain: string, upTo: number, batchSize: number): AsyncGenerator<StoredRow[]> {
  let after: number | null = null;
  for (;;) {
    const seqFilter: Prisma.IntFilter<'AuditEvent'> = after === null ? { lte: upTo } : { gt: after, lte: upTo };
    const rows: StoredRow[] = await db.auditEvent.findMany({
      where: { chain, seq: seqFilter },
      orderBy: { seq: 'asc' },
      take: batchSize,
      select: rowSelect,
    });
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < batchSize) return;
    after = rows[rows.length - 1].seq;
  }
}

async function readHead(db: Db, chain: string): Promise<AuditHeadRef> {
  const head = await db.auditHead.findUnique({ where: { chain } });
  // A chain that never had an entry has no head row; so does one whose head was deleted (caught below).
  return head ? { seq: head.seq, hash: head.hash } : { seq: 0, hash: GENESIS_HASH };
}

/**
 * Walks one chain and checks it: every hash recomputes from its entry, every entry links to the one before,
 * seqs run 1, 2, 3… without gaps, and the head names the last entry. Stops at the first problem.
 *
 * The head is read first and only entries up to it are walked, so appends that commit during the walk are
 * not mistaken for tampering. `expectedHead` (from an earlier export, kept elsewhere) catches what the chain
 * alone cannot: the tail cut off and the head rolled back with it, or the chain rewritten from some entry on.
 */
export async function verifyChain(
  db: Db,
  chain: string,
  options: { expectedHead?: AuditHeadRef | null; batchSize?: number } = {},
): Promise<AuditVerification> {
  const head = await readHead(db, chain);
  const expected = options.expectedHead ?? null;
  let checkedCount = 0;
  let prevHash = GENESIS_HASH;
  let lastSeq = 0;
  let hashAtExpected: string | null = expected?.seq === 0 ? GENESIS_HASH : null;

  const result = (problem: AuditProblem | null, firstBadSeq: number | null, reason: string | null): AuditVerification => ({
    ok: problem === null,
    checkedCount,
    headSeq: head.seq,
    headHash: head.hash,
    firstBadSeq,
    problem,
    reason,
  });

  for await (const rows of walkChain(db, chain, head.seq, options.batchSize ?? AUDIT_BATCH_SIZE)) {
    for (const row of rows) {
      const expectedSeq = lastSeq + 1;
      if (row.seq > expectedSeq) return result('MISSING_ENTRY', expectedSeq, `Entry ${expectedSeq} is missing.`);
      if (row.seq < expectedSeq) return result('EXTRA_ENTRY', row.seq, `Entry ${row.seq} is outside the sequence (it starts at 1).`);
      checkedCount += 1;
      const { hash, ...fields } = row;
      if (auditHash(fields) !== hash) return result('HASH_MISMATCH', row.seq, `Entry ${row.seq} was altered: its hash does not match its content.`);
      if (row.prevHash !== prevHash) return result('BROKEN_LINK', row.seq, `Entry ${row.seq} does not link to the entry before it.`);
      if (expected && row.seq === expected.seq) hashAtExpected = hash;
      prevHash = hash;
      lastSeq = row.seq;
    }
  }

  if (lastSeq < head.seq) {
    return result('MISSING_ENTRY', lastSeq + 1, `The head is at entry ${head.seq}, but the entries from ${lastSeq + 1} on are missing.`);
  }
  if (head.hash !== prevHash) return result('HEAD_MISMATCH', head.seq, `The head does not match entry ${head.seq}.`);

  // Committed entries never run ahead of the committed head (both change in one transaction), so an entry
  // beyond a head read after it means the head was rolled back without its entries.
  const beyond = await db.auditEvent.aggregate({ where: { chain, seq: { gt: head.seq } }, _max: { seq: true } });
  const maxSeq = beyond._max.seq;
  if (maxSeq !== null && maxSeq > (await readHead(db, chain)).seq) {
    return result('EXTRA_ENTRY', head.seq + 1, `There are entries after the head (entry ${head.seq}).`);
  }

  if (expected) {
    if (expected.seq > head.seq) {
      return result(
        'TRUNCATED',
        head.seq + 1,
        `The log ends at entry ${head.seq}, but an earlier export saw it reach entry ${expected.seq}: entries were removed.`,
      );
    }
    if (hashAtExpected !== expected.hash) {
      return result('REWRITTEN', expected.seq, `Entry ${expected.seq} differs from the earlier export: the log was rewritten.`);
    }
  }
  return result(null, null, null);
}

function parseExpectedHead(input: AuditHeadRef | null | undefined): AuditHeadRef | null {
  if (!input) return null;
  if (!Number.isInteger(input.seq) || input.seq < 0) throw badInput('expectedHead.seq must be an integer ≥ 0.');
  const hash = input.hash.trim().toLowerCase();
  if (!HASH_PATTERN.test(hash)) throw badInput('expectedHead.hash must be 64 hexadecimal characters (a SHA-256).');
  return { seq: input.seq, hash };
}

/** Verifies an organization's audit chain. Reads only; appends nothing. */
export async function verifyAuditLog(
  ctx: Context,
  input: { organizationId: string; expectedHead?: AuditHeadRef | null },
): Promise<AuditVerification> {
  const organizationId = localId(input.organizationId, 'Organization');
  ctx.policy.assert('audit:read', { organizationId });
  return verifyChain(ctx.db, organizationId, { expectedHead: parseExpectedHead(input.expectedHead) });
}

/** Verifies the system chain. System administrators (audit:readSystem). Reads only. */
export async function verifySystemAuditLog(ctx: Context, expectedHead: AuditHeadRef | null): Promise<AuditVerification> {
  ctx.policy.assert('audit:readSystem');
  return verifyChain(ctx.db, SYSTEM_CHAIN, { expectedHead: parseExpectedHead(expectedHead) });
}

/**
 * One event as an export line: every field the hash covers, in a fixed key order, with raw database ids, so
 * that anyone can recompute `hash` (see auditHash) and the links without vaultgate.
 */
export function exportLine(row: StoredRow): string {
  return JSON.stringify({
    chain: row.chain,
    seq: row.seq,
    organizationId: row.organizationId,
    action: row.action,
    actorUserId: row.actorUserId,
    actorApiKeyId: row.actorApiKeyId,
    targetType: row.targetType,
    targetId: row.targetId,
    data: row.data,
    at: row.at.toISOString(),
    prevHash: row.prevHash,
    hash: row.hash,
  });
}

export type AuditExport = { jsonLines: string; headSeq: number; headHash: string; count: number };

/**
 * Exports an organization's chain up to its current head, then records the export (`audit.export`, with the
 * head handed out) as the next entry. Keeping the returned head elsewhere lets a later verification detect a
 * truncated or rewritten log. The export is returned only once its entry is committed.
 */
export async function exportAuditLog(ctx: Context, input: { organizationId: string }): Promise<AuditExport> {
  const organizationId = localId(input.organizationId, 'Organization');
  ctx.policy.assert('audit:read', { organizationId });
  const upTo = (await readHead(ctx.db, organizationId)).seq;
  const lines: string[] = [];
  // The head handed out is the last exported entry's, so that it always matches the lines (they are what a
  // reader checks). The two differ only on a damaged chain, which verifyAuditLog reports.
  let head: AuditHeadRef = { seq: 0, hash: GENESIS_HASH };
  for await (const rows of walkChain(ctx.db, organizationId, upTo, AUDIT_BATCH_SIZE)) {
    for (const row of rows) lines.push(exportLine(row));
    const last = rows[rows.length - 1];
    head = { seq: last.seq, hash: last.hash };
  }
  await ctx.db.$transaction((tx) =>
    appendAudit(tx, ctx, {
      organizationId,
      action: 'audit.export',
      targetType: 'Organization',
      targetId: organizationId,
      data: { headSeq: head.seq, headHash: head.hash, count: lines.length },
    }),
  );
  return { jsonLines: lines.length ? `${lines.join('\n')}\n` : '', headSeq: head.seq, headHash: head.hash, count: lines.length };
}
