import { Kind, type ExecutionArgs, type GraphQLError, type OperationDefinitionNode } from 'graphql';
import type { Context } from '../../context.ts';
import type { Db } from '../../db/client.ts';
import type { Logger } from '../../lib/logger.ts';
import { appendAudit, type AuditEntry } from './audit.chain.ts';

/**
 * Refused actions are audited (docs/audit.md): a signed-in caller or API key that is told FORBIDDEN (a foreign or
 * missing object, an action its role lacks), and a reveal of a restricted credential without an open request.
 *
 * - A FORBIDDEN answer does not say which organization the object belongs to (it may not exist), so it goes to the
 *   system chain as `access.refused`, with the operation, the refused paths and the client address; a refusal whose
 *   organization is the caller's own (a restricted reveal) goes to that organization's chain, where its admins and
 *   auditors read it.
 * - Recording is bounded so that refusals are no way to make the audit log (and its head lock) work for an
 *   attacker: per principal at most `perWindow` entries per window, the rest counted and reported as `suppressed`
 *   on the next entry written. The table of principals is bounded too.
 * - It is written after the operation, in its own transaction, and never changes the answer: a failure to record
 *   is logged (without details of the request) and dropped.
 */
export type Refusal = AuditEntry;

type Bucket = { windowStart: number; written: number; suppressed: number };

export class RefusalAuditor {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly options: { perWindow: number; windowMs: number; maxPrincipals: number } = { perWindow: 10, windowMs: 60_000, maxPrincipals: 10_000 },
  ) {}

  /** The plugin's hook: what the finished operation refused, written to the audit log. */
  async record(ctx: Context, errors: readonly GraphQLError[] | undefined, operationName: string | null): Promise<void> {
    const principal = ctx.policy.principal;
    if (principal.kind === 'anonymous') return;
    const entries: Refusal[] = [...ctx.refusals];
    ctx.refusals.length = 0;
    const forbiddenPaths = (errors ?? []).filter((e) => e.extensions?.code === 'FORBIDDEN').map((e) => (e.path ?? []).join('.').slice(0, 200));
    if (forbiddenPaths.length > 0) {
      entries.push({
        organizationId: null,
        action: 'access.refused',
        data: { operation: operationName?.slice(0, 100) ?? null, paths: forbiddenPaths.slice(0, 5), count: forbiddenPaths.length },
      });
    }
    if (entries.length === 0) return;
    const key = principal.kind === 'user' ? `u:${principal.userId}` : `k:${principal.apiKeyId}`;
    const bucket = this.admit(key, ctx.clock.now().getTime());
    const admitted: Refusal[] = [];
    for (const entry of entries) {
      if (bucket.written >= this.options.perWindow) {
        bucket.suppressed++;
        continue;
      }
      bucket.written++;
      admitted.push({
        ...entry,
        data: { ...entry.data, clientAddress: ctx.request.clientAddress, requestId: ctx.request.requestId, ...(bucket.suppressed ? { suppressed: bucket.suppressed } : {}) },
      });
      bucket.suppressed = 0;
    }
    if (admitted.length === 0) return;
    try {
      await this.db.$transaction(async (tx) => {
        for (const entry of admitted) await appendAudit(tx, ctx, entry);
      });
    } catch (error) {
      this.logger.warn({ event: 'audit.refusal_not_recorded', errorName: (error as Error)?.name ?? 'Error' }, 'a refused action could not be audited');
    }
  }

  private admit(key: string, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (bucket && now - bucket.windowStart >= this.options.windowMs) {
      bucket.windowStart = now;
      bucket.written = 0;
    }
    if (!bucket) {
      if (this.buckets.size >= this.options.maxPrincipals) this.sweep(now);
      bucket = { windowStart: now, written: 0, suppressed: 0 };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Forgets principals whose window ended; if all are current, the oldest half (counts restart for them). */
  private sweep(now: number): void {
    for (const [key, b] of this.buckets) if (now - b.windowStart >= this.options.windowMs) this.buckets.delete(key);
    if (this.buckets.size < this.options.maxPrincipals) return;
    let drop = Math.ceil(this.buckets.size / 2);
    for (const key of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(key);
    }
  }
}

/** An envelop plugin: after each query or mutation (HTTP and WebSocket), its refusals are audited. */
export function refusalAuditPlugin(auditor: RefusalAuditor) {
  return {
    onExecute: ({ args }: { args: ExecutionArgs }) => ({
      onExecuteDone: ({ result }: { result: unknown }) => {
        const ctx = args.contextValue as Context;
        const errors = result && typeof result === 'object' && !(Symbol.asyncIterator in result) ? (result as { errors?: readonly GraphQLError[] }).errors : undefined;
        if (!errors?.length && ctx.refusals.length === 0) return;
        const named = args.document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && Boolean(d.name));
        // Not awaited: envelop does not wait for this hook, and the answer must not wait for the audit either.
        void auditor.record(ctx, errors, args.operationName ?? named?.name?.value ?? null).catch(() => {});
      },
    }),
  };
}
