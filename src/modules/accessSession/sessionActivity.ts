import type { Context } from '../../context.ts';
import type { SessionActivity } from '../../lib/events.ts';
import { ForbiddenError, UnauthenticatedError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import type { Policy } from '../../policy/policy.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { CLOSE_SLOW_CONSUMER } from '../realtime/feed.ts';

/** One event of a watched session: an asciicast event, or (last) the end with its reason. */
export type ActivityEvent = { time: number; kind: 'o' | 'i' | 'r' | 'm' | 'end'; data: string; endReason: string | null };

/**
 * Events held for one watcher that has not taken them yet. The proxy never waits for watchers: a watcher this far
 * behind is disconnected as a slow consumer (4008), so memory per watcher stays bounded.
 */
export const WATCH_BUFFER_EVENTS = 2000;

/** How stale the watcher's authorization may be when an event is delivered (also re-checked at once on auth.changed). */
export const WATCH_REAUTH_MS = 250;

const ACTION = 'accessSession:readRecording' as const;

/**
 * `sessionActivity(sessionId)`: the asciicast events of a running session as the proxy records them, delivered
 * through the event bus (so the watcher may be on another instance than the proxy), then one `end` event. Allowed
 * to whoever may read the session's recording; re-checked before deliveries, and starting is audited.
 */
export async function watchSession(ctx: Context, id: string): Promise<AsyncIterableIterator<ActivityEvent>> {
  const sessionId = localId(id, 'AccessSession');
  const watch = new SessionWatch(ctx, sessionId);
  try {
    const session = await ctx.db.accessSession.findUnique({ where: { id: sessionId }, select: { id: true, organizationId: true, requestId: true, state: true, endReason: true } });
    if (!session || !ctx.policy.can(ACTION, { organizationId: session.organizationId })) throw new ForbiddenError();
    watch.organizationId = session.organizationId;
    await ctx.db.$transaction((tx) =>
      appendAudit(tx, ctx, { organizationId: session.organizationId, action: 'session.watch', targetType: 'AccessSession', targetId: session.id, data: { requestId: session.requestId, state: session.state } }),
    );
    ctx.events.publish({ topic: 'audit.appended', organizationId: session.organizationId });
    // Subscribed before the state was read: an end published in between is in the queue, not lost.
    if (session.state === 'ENDED') watch.finish(session.endReason ?? 'ENDED');
    return watch;
  } catch (error) {
    watch.stop();
    throw error;
  }
}

class SessionWatch implements AsyncIterableIterator<ActivityEvent> {
  organizationId: string | null = null;
  private readonly queue: ActivityEvent[] = [];
  private ended = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private checkedAt = 0;
  private readonly unsubscribe: () => void;
  private readonly unsubscribeAuth: () => void;

  constructor(
    private readonly ctx: Context,
    private readonly sessionId: string,
  ) {
    this.unsubscribe = ctx.events.subscribe('session.activity', (e) => this.receive(e));
    this.unsubscribeAuth = ctx.events.subscribe('auth.changed', () => (this.checkedAt = 0));
    this.checkedAt = Date.now();
  }

  private receive(e: SessionActivity): void {
    if (e.sessionId !== this.sessionId || this.stopped || this.ended) return;
    for (const [time, kind, data] of e.events) this.queue.push({ time, kind, data, endReason: null });
    if (e.end !== undefined) this.finish(e.end);
    if (this.queue.length > WATCH_BUFFER_EVENTS) {
      this.ctx.closeConnection?.(CLOSE_SLOW_CONSUMER, 'Slow consumer: session activity was not read in time');
      this.stop();
    }
    this.wake?.();
  }

  finish(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    const last = this.queue.at(-1)?.time ?? 0;
    this.queue.push({ time: last, kind: 'end', data: reason, endReason: reason });
    this.wake?.();
  }

  stop(): void {
    if (!this.stopped) {
      this.unsubscribe();
      this.unsubscribeAuth();
    }
    this.stopped = true;
    this.queue.length = 0;
    this.wake?.();
  }

  /** The watcher's current policy still lets them read the session's recording (re-authenticated when stale). */
  private async allowed(): Promise<boolean> {
    if (Date.now() - this.checkedAt < WATCH_REAUTH_MS) return true;
    let policy: Policy;
    try {
      policy = await this.ctx.reauthenticate();
    } catch (error) {
      if (error instanceof UnauthenticatedError) {
        this.ctx.closeConnection?.(4401, 'Unauthorized: the session or API key is no longer valid');
        return false;
      }
      throw error;
    }
    if (!this.organizationId || !policy.can(ACTION, { organizationId: this.organizationId })) return false;
    this.checkedAt = Date.now();
    return true;
  }

  async next(): Promise<IteratorResult<ActivityEvent>> {
    while (!this.stopped && this.queue.length === 0) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
    if (this.stopped || !(await this.allowed())) {
      this.stop();
      return { done: true, value: undefined };
    }
    const event = this.queue.shift()!;
    if (event.kind === 'end') this.stop();
    return { done: false, value: event };
  }

  async return(): Promise<IteratorResult<ActivityEvent>> {
    this.stop();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<ActivityEvent>> {
    this.stop();
    throw error;
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}
