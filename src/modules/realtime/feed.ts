import { GraphQLError } from 'graphql';
import type { Context } from '../../context.ts';
import { UnauthenticatedError } from '../../lib/errors.ts';
import type { Policy } from '../../policy/policy.ts';
import type { AuditEvent } from '../../generated/prisma-sqlite/client.ts';

/**
 * Where a subscriber is: per organization, the last audit sequence number it has been given. Audit chains are
 * gap-free and ordered per organization (written in the same transaction as each action), so the log itself
 * is the durable event store: resuming after a cursor replays from it, then continues live, without
 * duplicates or gaps across the switch — and across a server restart.
 */
export type Cursor = Record<string, number>;

export const CLOSE_SLOW_CONSUMER = 4008;
const BATCH = 200;

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ v: 1, c: cursor })).toString('base64url');
}

export function decodeCursor(value: string): Cursor {
  try {
    if (value.length > 20_000) throw new Error('too long');
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { v?: unknown; c?: unknown };
    if (parsed.v !== 1 || !parsed.c || typeof parsed.c !== 'object' || Array.isArray(parsed.c)) throw new Error('shape');
    const cursor: Cursor = {};
    for (const [k, v] of Object.entries(parsed.c as Record<string, unknown>)) {
      if (k.length > 64 || typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error('entry');
      cursor[k] = v;
    }
    return cursor;
  } catch {
    throw new GraphQLError('The cursor is not valid: pass a cursor exactly as an event gave it.', { extensions: { code: 'BAD_USER_INPUT' } });
  }
}

export type FeedOptions<T> = {
  ctx: Context;
  /** The organizations to follow (those the subscriber may follow when subscribing). */
  organizationIds: string[];
  /** Resume after this cursor (replay from the log); null = from now on. */
  after: Cursor | null;
  /**
   * Turns one audit entry into a delivery, or null to skip it, with the subscriber's policy as of this batch
   * (re-checked for every batch, so a revoked membership or session stops delivery at once).
   */
  select: (row: AuditEvent, policy: Policy) => Promise<T | null>;
};

export type FeedItem<T> = { cursor: string; item: T };

/**
 * A live, resumable feed over the organizations' audit chains. Wakes on `audit.appended` (in-process or via
 * Redis) and reads the log from its cursor, so a lost or spurious notification never loses or invents an
 * event. Back-pressure: it reads only when the consumer asks for the next item; a consumer that leaves an
 * event waiting longer than WS_SLOW_CONSUMER_MS is disconnected (4008), so memory per socket stays bounded.
 */
export function auditFeed<T>(options: FeedOptions<T>): AsyncIterableIterator<FeedItem<T>> {
  const { ctx, organizationIds } = options;
  const orgs = new Set(organizationIds);
  const cursor: Cursor = {};
  const pending = new Set<string>();
  let stopped = false;
  let wake: (() => void) | null = null;
  let waitingSince: number | null = null;

  const unsubscribe = ctx.events.subscribe('audit.appended', (event) => {
    if (event.organizationId === null || !orgs.has(event.organizationId)) return;
    pending.add(event.organizationId);
    if (waitingSince === null) waitingSince = Date.now();
    wake?.();
  });
  const watchdog = ctx.closeConnection
    ? setInterval(() => {
        if (waitingSince !== null && Date.now() - waitingSince > ctx.config.wsSlowConsumerMs) {
          ctx.closeConnection?.(CLOSE_SLOW_CONSUMER, 'Slow consumer: events were not read in time');
          stop();
        }
      }, Math.min(1000, ctx.config.wsSlowConsumerMs)).unref()
    : null;

  function stop() {
    stopped = true;
    unsubscribe();
    if (watchdog) clearInterval(watchdog);
    wake?.();
  }

  async function* run(): AsyncGenerator<FeedItem<T>> {
    const heads = await ctx.db.auditHead.findMany({ where: { chain: { in: [...orgs] } }, select: { chain: true, seq: true } });
    for (const org of orgs) {
      const head = heads.find((h) => h.chain === org)?.seq ?? 0;
      const resumeAt = options.after?.[org];
      cursor[org] = resumeAt === undefined ? head : Math.min(resumeAt, head);
      if (resumeAt !== undefined && resumeAt < head) pending.add(org);
    }
    while (!stopped) {
      if (pending.size === 0) {
        waitingSince = null;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
        continue;
      }
      const org = pending.values().next().value as string;
      pending.delete(org);
      waitingSince = null;
      for (;;) {
        const rows = await ctx.db.auditEvent.findMany({ where: { chain: org, seq: { gt: cursor[org] } }, orderBy: { seq: 'asc' }, take: BATCH });
        if (rows.length === 0 || stopped) break;
        let policy: Policy;
        try {
          policy = await ctx.reauthenticate();
        } catch (error) {
          if (error instanceof UnauthenticatedError) {
            ctx.closeConnection?.(4401, 'Unauthorized: the session or API key is no longer valid');
            stop();
            return;
          }
          throw error;
        }
        for (const row of rows) {
          cursor[org] = row.seq;
          const item = await options.select(row, policy);
          if (item !== null && !stopped) {
            // From here the consumer holds the turn: news arriving before it asks for more starts the clock.
            waitingSince = null;
            yield { cursor: encodeCursor(cursor), item };
          }
        }
        if (rows.length < BATCH) break;
      }
    }
  }

  const inner = run();
  return {
    next: () => inner.next(),
    return: async () => {
      stop();
      await inner.return(undefined);
      return { done: true, value: undefined };
    },
    throw: async (error?: unknown) => {
      stop();
      return inner.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
