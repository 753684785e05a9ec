import { createHash, randomUUID } from 'node:crypto';
import type { TxClient } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import type { EventBus } from '../../lib/events.ts';
import { recordAuditAppend } from '../../lib/metrics.ts';
import type { Policy } from '../../policy/policy.ts';

/** The chain of installation-wide events (sign-in attempts for unknown emails, key rotation). */
export const SYSTEM_CHAIN = 'system';
export const GENESIS_HASH = '0'.repeat(64);

export type AuditEntry = {
  /** The organization the event belongs to; null for installation-wide events (system chain). */
  organizationId: string | null;
  /** Dotted verb, e.g. `credential.reveal`, `member.add`, `auth.sign_in_failed`. */
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  /** Details that help a reader; never secrets. */
  data?: Record<string, unknown>;
};

export type AuditActor = { userId: string | null; apiKeyId: string | null };

export type StoredAuditFields = {
  chain: string;
  seq: number;
  organizationId: string | null;
  action: string;
  actorUserId: string | null;
  actorApiKeyId: string | null;
  targetType: string | null;
  targetId: string | null;
  data: string;
  at: Date;
  prevHash: string;
};

/** Canonical encoding: a JSON array in a fixed order, so the same entry always hashes the same. */
export function auditHash(e: StoredAuditFields): string {
  const canonical = JSON.stringify([
    'vaultgate/audit/v1',
    e.chain,
    e.seq,
    e.organizationId,
    e.action,
    e.actorUserId,
    e.actorApiKeyId,
    e.targetType,
    e.targetId,
    e.data,
    e.at.toISOString(),
    e.prevHash,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

export function actorOf(policy: Policy): AuditActor {
  const p = policy.principal;
  return { userId: p.kind === 'user' ? p.userId : null, apiKeyId: p.kind === 'apiKey' ? p.apiKeyId : null };
}

/**
 * Appends one entry to its chain inside the caller's transaction, so the entry exists exactly when the action
 * does. Incrementing the chain head is a row update: on PostgreSQL it holds the row lock until commit, so
 * concurrent appends to one chain queue up and sequence numbers stay contiguous; SQLite serialises writers.
 */
export async function appendAudit(
  tx: TxClient,
  ctx: { policy: Policy; clock: Clock; actor?: AuditActor; auditTouched?: Set<string | null> },
  entry: AuditEntry,
): Promise<{ seq: number; hash: string }> {
  const chain = entry.organizationId ?? SYSTEM_CHAIN;
  ctx.auditTouched?.add(entry.organizationId);
  recordAuditAppend();
  // One statement creates the head of a new chain or takes the next number of an existing one, and returns the
  // hash to link to; on PostgreSQL it holds the head's row lock until commit.
  const [head] = await tx.$queryRaw<{ seq: number | bigint; hash: string }[]>`
    INSERT INTO "AuditHead" ("chain", "seq", "hash") VALUES (${chain}, 1, ${GENESIS_HASH})
    ON CONFLICT ("chain") DO UPDATE SET "seq" = "AuditHead"."seq" + 1
    RETURNING "seq", "hash"`;
  const actor = ctx.actor ?? actorOf(ctx.policy);
  const fields: StoredAuditFields = {
    chain,
    seq: Number(head.seq),
    organizationId: entry.organizationId,
    action: entry.action,
    actorUserId: actor.userId,
    actorApiKeyId: actor.apiKeyId,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    data: JSON.stringify(entry.data ?? {}),
    at: ctx.clock.now(),
    prevHash: head.hash,
  };
  const hash = auditHash(fields);
  // Raw statements: nothing is read back, and Prisma compiles no plan (it caches none for createMany, which cost
  // more CPU than the insert itself; bench P3). A Date parameter is stored as Prisma stores DateTime on both
  // providers (checked: reads through the client return the same instant).
  await tx.$executeRaw`
    INSERT INTO "AuditEvent" ("id", "chain", "seq", "organizationId", "action", "actorUserId", "actorApiKeyId", "targetType", "targetId", "data", "at", "prevHash", "hash")
    VALUES (${randomUUID()}, ${chain}, ${fields.seq}, ${fields.organizationId}, ${fields.action}, ${fields.actorUserId}, ${fields.actorApiKeyId}, ${fields.targetType}, ${fields.targetId}, ${fields.data}, ${fields.at}, ${fields.prevHash}, ${hash})`;
  await tx.$executeRaw`UPDATE "AuditHead" SET "hash" = ${hash} WHERE "chain" = ${chain}`;
  return { seq: fields.seq, hash };
}

/**
 * Announces the chains a finished operation appended to (after its transactions ended). Receivers read the
 * chain from their own cursor, so a spurious announcement (a rolled-back transaction) costs one empty read.
 */
export function announceAppended(ctx: { auditTouched: Set<string | null>; events: EventBus }): void {
  for (const organizationId of ctx.auditTouched) ctx.events.publish({ topic: 'audit.appended', organizationId });
  ctx.auditTouched.clear();
}
