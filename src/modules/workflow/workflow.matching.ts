import { encodeGlobalID } from '@pothos/plugin-relay';
import type { AppDeps } from '../../context.ts';
import type { TxClient } from '../../db/client.ts';
import type { AuditEvent } from '../../generated/prisma-sqlite/client.ts';
import { matchesFilters, triggerOf, type Subject, type Variables } from './workflow.rules.ts';
import { parseWorkflow, type ParsedWorkflow } from './workflow.definition.ts';

// Matching: the worker tails each organization's audit chain from a persisted cursor and turns matching entries
// into delivery rows (idempotent: unique per workflow, entry and action) in the same transaction that moves the
// cursor. The audit log is the outbox (see workflow.worker.ts).

const MATCH_BATCH = 100;

// --- matching: audit entries → deliveries ---

type Facts = { subject: Subject; vars: Variables };

/** What templates and filters see of an entry: the credential, people and request as they are now; no secret. */
async function loadFacts(tx: TxClient, e: AuditEvent): Promise<Facts> {
  const data = JSON.parse(e.data) as Record<string, unknown>;
  const org = await tx.organization.findUnique({ where: { id: e.organizationId! }, select: { name: true, status: true } });
  const user = e.actorUserId ? await tx.user.findUnique({ where: { id: e.actorUserId }, select: { email: true, name: true } }) : null;
  const apiKey = !user && e.actorApiKeyId ? await tx.apiKey.findUnique({ where: { id: e.actorApiKeyId }, select: { name: true } }) : null;
  const session =
    e.targetType === 'AccessSession' && e.targetId
      ? await tx.accessSession.findUnique({ where: { id: e.targetId }, select: { id: true, requestId: true, userId: true, credentialId: true, assetId: true } })
      : null;
  const asset = session?.assetId ? await tx.asset.findUnique({ where: { id: session.assetId }, select: { host: true, port: true } }) : null;
  const requestId = e.targetType === 'AccessRequest' ? e.targetId : (session?.requestId ?? null);
  const request = requestId ? await tx.accessRequest.findUnique({ where: { id: requestId }, include: { requester: { select: { email: true } } } }) : null;
  const credentialId = e.targetType === 'Credential' ? e.targetId : (session?.credentialId ?? request?.credentialId ?? null);
  const credential = credentialId ? await tx.credential.findUnique({ where: { id: credentialId }, include: { category: { select: { name: true } } } }) : null;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const at = e.at.toISOString();
  const vars: Variables = {
    occurredAt: at,
    'organization.name': org?.name ?? '',
    'organization.status': org?.status ?? '',
    'actor.email': user?.email ?? '',
    'actor.name': user?.name ?? apiKey?.name ?? '',
    'credential.name': credential?.name ?? request?.credentialName ?? '',
    'credential.username': credential?.username ?? '',
    'credential.url': credential?.url ?? '',
    'credential.category': credential?.category?.name ?? '',
    'credential.id': credentialId ? encodeGlobalID('Credential', credentialId) : '',
    surface: str(data.surface),
    field: str(data.field),
    accessedAt: e.action.startsWith('credential.') ? at : '',
    'request.id': request ? encodeGlobalID('AccessRequest', request.id) : '',
    'request.state': str(data.to) || str(data.state) || (request?.state ?? ''),
    'request.reason': request?.reason ?? '',
    'request.ticketNumber': request?.ticketNumber ?? '',
    'request.requester.email': request?.requester.email ?? '',
    'request.comment': str(data.comment),
    'request.startsAt': request?.startsAt.toISOString() ?? '',
    'request.endsAt': request?.endsAt.toISOString() ?? '',
    'session.id': session ? encodeGlobalID('AccessSession', session.id) : '',
    'session.user.email': session ? (request?.requester.email ?? user?.email ?? '') : '',
    'session.host': asset ? `${asset.host}:${asset.port}` : '',
    'session.endReason': e.action === 'session.ended' ? str(data.endReason) || str(data.reason) : '',
  };
  const subject: Subject = {
    credentialId,
    organizationStatus: org?.status ?? '',
    updatedById: credential?.updatedById ?? null,
    categoryId: credential?.categoryId ?? null,
    name: vars['credential.name'],
    username: credential?.username ?? null,
    url: credential?.url ?? null,
    notes: credential?.notes ?? null,
  };
  return { subject, vars };
}

/** One batch of one organization's chain; returns deliveries created and whether more entries wait. */
async function matchChainBatch(deps: AppDeps, chain: string, workflows: ParsedWorkflow[]): Promise<{ created: number; more: boolean }> {
  const minStart = Math.min(...workflows.map((w) => w.startSeq));
  let cursor = await deps.db.workflowCursor.findUnique({ where: { chain } });
  if (!cursor) {
    await deps.db.$executeRaw`INSERT INTO "WorkflowCursor" ("chain", "seq") VALUES (${chain}, ${minStart}) ON CONFLICT ("chain") DO NOTHING`;
    cursor = await deps.db.workflowCursor.findUniqueOrThrow({ where: { chain } });
  }
  const from = Math.max(cursor.seq, minStart);
  const entries = await deps.db.auditEvent.findMany({ where: { chain, seq: { gt: from } }, orderBy: { seq: 'asc' }, take: MATCH_BATCH });
  if (entries.length === 0) return { created: 0, more: false };
  const to = entries[entries.length - 1].seq;
  const now = deps.clock.now();
  const created = await deps.db.$transaction(
    async (tx) => {
      // The cursor moves first: on PostgreSQL its row lock makes a second instance wait here, then find the
      // cursor moved and give up this batch, so matching runs once per entry.
      const { count } = await tx.workflowCursor.updateMany({ where: { chain, seq: cursor.seq }, data: { seq: to } });
      if (count !== 1) return -1;
      let n = 0;
      for (const e of entries) {
        const trigger = triggerOf(e.action, JSON.parse(e.data) as Record<string, unknown>);
        if (!trigger) continue;
        const candidates = workflows.filter((w) => w.trigger === trigger && e.seq > w.startSeq);
        if (candidates.length === 0) continue;
        const facts = await loadFacts(tx, e);
        for (const w of candidates) {
          if (!matchesFilters(w.filters, facts.subject)) continue;
          const variables = JSON.stringify({ ...facts.vars, 'workflow.name': w.name, event: trigger });
          for (const [actionIndex, action] of w.actions.entries()) {
            const key = { workflowId_chain_seq_actionIndex: { workflowId: w.id, chain, seq: e.seq, actionIndex } };
            // Idempotent by the unique key: re-reading an entry (a cursor set back) never sends twice.
            if (await tx.workflowDelivery.findUnique({ where: key, select: { id: true } })) continue;
            await tx.workflowDelivery.create({
              data: {
                workflowId: w.id,
                organizationId: w.organizationId,
                chain,
                seq: e.seq,
                actionIndex,
                actionType: action.type,
                trigger,
                status: 'PENDING',
                maxAttempts: deps.config.workflowMaxAttempts,
                nextAttemptAt: now,
                variables,
                createdAt: now,
              },
            });
            n++;
          }
        }
      }
      return n;
    },
    { timeout: 30_000 },
  );
  return { created: Math.max(created, 0), more: created >= 0 && entries.length === MATCH_BATCH };
}

/** Reads every organization chain that has enabled workflows up to its head, creating deliveries. */
export async function enqueueWorkflowDeliveries(deps: AppDeps): Promise<number> {
  const rows = await deps.db.workflow.findMany({ where: { enabled: true } });
  const byChain = new Map<string, ParsedWorkflow[]>();
  for (const r of rows) byChain.set(r.organizationId, [...(byChain.get(r.organizationId) ?? []), parseWorkflow(r)]);
  let total = 0;
  for (const [chain, workflows] of byChain) {
    for (;;) {
      const { created, more } = await matchChainBatch(deps, chain, workflows);
      total += created;
      if (!more) break;
    }
  }
  return total;
}
