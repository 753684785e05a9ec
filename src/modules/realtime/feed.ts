import { GraphQLError } from 'graphql';
import { RequestCache } from '@pothos/plugin-scope-auth';
import type { Context } from '../../context.ts';
import { UnauthenticatedError } from '../../lib/errors.ts';
import { unavailableDependency } from '../../lib/health.ts';
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

/** Cursors of one organization, by `org\0seq`: every subscriber of it woken by an event is handed the same one. */
const oneOrgCursors = new Map<string, string>();

/** `encodeCursor`, made once per event for the (usual) subscribers that follow a single organization. */
function cursorOf(cursor: Cursor, orgs: Set<string>): string {
  if (orgs.size !== 1) return encodeCursor(cursor);
  const org = orgs.values().next().value as string;
  const key = `${org}\0${cursor[org]}`;
  let value = oneOrgCursors.get(key);
  if (value === undefined) {
    if (oneOrgCursors.size >= 1024) oneOrgCursors.clear();
    oneOrgCursors.set(key, (value = encodeCursor(cursor)));
  }
  return value;
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

/** What the hub needs of a feed: which organizations it follows, how to wake it, and its slow-consumer clock. */
interface Follower {
  readonly orgs: Set<string>;
  notify(organizationId: string): void;
  /** True when the feed can be closed as a slow consumer (a WebSocket subscription). */
  readonly closable: boolean;
  /** Since when an event has been waiting for the consumer, or null. */
  waitingSince(): number | null;
  closeSlow(): void;
}

/**
 * One per event bus (that is, per app): all feeds of the process share its single `audit.appended` listener,
 * its slow-consumer sweep and its reads. With thousands of subscribers, a listener and a timer each made every
 * notification walk (and copy) thousands of listeners and kept thousands of timers firing; and every woken
 * feed repeated the same reads — the same rows after the same cursor, the same session lookup — once each.
 *
 * Sharing reads keeps the feed's guarantees because of `generation`, which counts the notifications received:
 * a feed woken by notification n may only use a read that *started* after it had received n (`gen ≥ n`), that
 * is, after the change it was woken for had committed. Such a read is one that feed could have made itself at
 * that moment, so nothing is missed, replayed or checked against a stale session — it is only made once.
 */
class FeedHub {
  generation = 0;
  private readonly byOrg = new Map<string, Set<Follower>>();
  private readonly slow = new Set<Follower>();
  private readonly reads = new Map<string, { gen: number; value: Promise<unknown> }>();
  private unsubscribe: (() => void) | null = null;
  private unsubscribeResync: (() => void) | null = null;
  private sweep: NodeJS.Timeout | null = null;

  // Only the bus and a setting — not the first subscriber's context, which would keep its socket alive.
  constructor(
    private readonly events: Context['events'],
    private readonly slowConsumerMs: number,
  ) {}

  add(follower: Follower): void {
    if (!this.unsubscribe) {
      this.unsubscribe = this.events.subscribe('audit.appended', (event) => {
        this.generation++;
        // Reads from before this notification can no longer be joined by anyone woken from now on.
        this.reads.clear();
        if (event.organizationId === null) return;
        for (const f of this.byOrg.get(event.organizationId) ?? []) f.notify(event.organizationId);
      });
      // Notifications may have been missed (docs/outages.md): every follower re-reads from its cursor.
      this.unsubscribeResync = this.events.subscribe('events.resync', () => {
        this.generation++;
        this.reads.clear();
        for (const [org, followers] of this.byOrg) for (const f of followers) f.notify(org);
      });
    }
    for (const org of follower.orgs) {
      let set = this.byOrg.get(org);
      if (!set) this.byOrg.set(org, (set = new Set()));
      set.add(follower);
    }
    if (follower.closable) {
      this.slow.add(follower);
      const limit = this.slowConsumerMs;
      this.sweep ??= setInterval(() => {
        const now = Date.now();
        for (const f of this.slow) {
          const since = f.waitingSince();
          if (since !== null && now - since > limit) f.closeSlow();
        }
      }, Math.min(1000, limit)).unref();
    }
  }

  /** Undoes `add` (a method, not a closure returned by `add`: one less object per subscription). */
  remove(follower: Follower): void {
    for (const org of follower.orgs) {
      const set = this.byOrg.get(org);
      set?.delete(follower);
      if (set?.size === 0) this.byOrg.delete(org);
    }
    this.slow.delete(follower);
    if (this.slow.size === 0 && this.sweep) {
      clearInterval(this.sweep);
      this.sweep = null;
    }
    if (this.byOrg.size === 0 && this.slow.size === 0 && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = null;
      this.unsubscribeResync?.();
      this.unsubscribeResync = null;
      this.reads.clear();
    }
  }

  /** `read()`, or the result of the same read begun at or after generation `since` (see the class comment). */
  shared<T>(key: string, since: number, read: () => Promise<T>): Promise<T> {
    const hit = this.reads.get(key);
    if (hit && hit.gen >= since) return hit.value as Promise<T>;
    const value = read();
    const entry = { gen: this.generation, value };
    this.reads.set(key, entry);
    // A failed read is not kept for others (each retries on its own); a settled one stays until the next
    // notification clears the map, for feeds that reach this point a little later.
    value.catch(() => {
      if (this.reads.get(key) === entry) this.reads.delete(key);
    });
    return value;
  }
}

const hubs = new WeakMap<Context['events'], FeedHub>();
const hubOf = (ctx: Context): FeedHub => {
  let hub = hubs.get(ctx.events);
  if (!hub) hubs.set(ctx.events, (hub = new FeedHub(ctx.events, ctx.config.wsSlowConsumerMs)));
  return hub;
};

/** Who a context's credentials are: subscribers presenting the same session or API key re-authenticate alike. */
function principalKey(policy: Policy): string | null {
  const p = policy.principal;
  return p.kind === 'user' ? `session:${p.sessionId}` : p.kind === 'apiKey' ? `apiKey:${p.apiKeyId}` : null;
}

const memos = new WeakMap<Policy, Map<string, Promise<unknown>>>();

/**
 * A read made for one delivery, shared by every subscriber that holds the same policy object — which
 * `auditFeed` hands to all feeds of one session re-authenticated in one generation. Key it by the event (e.g.
 * the access record's id), so each event's reads are fresh: then sharing is the same as each subscriber making
 * the read itself at the moment the first did, after the event and with the same permissions.
 */
export function perDelivery<T>(policy: Policy, key: string, read: () => Promise<T>): Promise<T> {
  let memo = memos.get(policy);
  if (!memo) memos.set(policy, (memo = new Map()));
  let value = memo.get(key) as Promise<T> | undefined;
  if (!value) memo.set(key, (value = read()));
  return value;
}

/**
 * A live, resumable feed over the organizations' audit chains. Wakes on `audit.appended` (in-process or via
 * Redis) and reads the log from its cursor, so a lost or spurious notification never loses or invents an
 * event. Back-pressure: it reads only when the consumer asks for the next item; a consumer that leaves an
 * event waiting longer than WS_SLOW_CONSUMER_MS is disconnected (4008), so memory per socket stays bounded.
 */
export function auditFeed<T>(options: FeedOptions<T>): AsyncIterableIterator<FeedItem<T>> {
  return new AuditFeed(options);
}

/**
 * One feed is held by every idle subscription for as long as it lasts, so its state lives in fields and its
 * behaviour in prototype methods: closures made per feed cost far more here than their code suggests, because
 * tsx (esbuild keepNames) redefines the `name` of each named one, which turns it into a dictionary-mode object.
 */
class AuditFeed<T> implements AsyncIterableIterator<FeedItem<T>>, Follower {
  readonly orgs: Set<string>;
  readonly closable: boolean;
  private readonly hub: FeedHub;
  private readonly ctx: Context;
  private readonly cursor: Cursor = {};
  private readonly pending = new Set<string>();
  private readonly principal: string | null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private since: number | null = null;
  private readonly inner: AsyncGenerator<FeedItem<T>>;

  constructor(private readonly options: FeedOptions<T>) {
    this.ctx = options.ctx;
    this.hub = hubOf(options.ctx);
    this.orgs = new Set(options.organizationIds);
    this.closable = Boolean(options.ctx.closeConnection);
    this.principal = principalKey(options.ctx.policy);
    this.hub.add(this);
    this.inner = this.run();
  }

  notify(org: string): void {
    this.pending.add(org);
    if (this.since === null) this.since = Date.now();
    this.wake?.();
  }

  waitingSince(): number | null {
    return this.since;
  }

  closeSlow(): void {
    this.ctx.closeConnection?.(CLOSE_SLOW_CONSUMER, 'Slow consumer: events were not read in time');
    this.stop();
  }

  private stop() {
    if (!this.stopped) this.hub.remove(this);
    this.stopped = true;
    this.wake?.();
  }

  private reauthenticate(since: number): Promise<Policy> {
    const ctx = this.ctx;
    return this.principal ? this.hub.shared(this.principal, since, () => ctx.reauthenticate()) : ctx.reauthenticate();
  }

  private async *run(): AsyncGenerator<FeedItem<T>> {
    const { ctx, orgs, cursor, pending, options } = this;
    const heads = await ctx.db.auditHead.findMany({ where: { chain: { in: [...orgs] } }, select: { chain: true, seq: true } });
    for (const org of orgs) {
      const head = heads.find((h) => h.chain === org)?.seq ?? 0;
      const resumeAt = options.after?.[org];
      cursor[org] = resumeAt === undefined ? head : Math.min(resumeAt, head);
      if (resumeAt !== undefined && resumeAt < head) pending.add(org);
    }
    while (!this.stopped) {
      if (pending.size === 0) {
        this.since = null;
        // Idle until the next event: what Pothos cached for this context while authorizing the subscription
        // (and resolving earlier events) is rebuilt on demand, and would otherwise stay as long as the socket.
        RequestCache.clearForContext(ctx);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = null;
        continue;
      }
      const org = pending.values().next().value as string;
      pending.delete(org);
      this.since = null;
      try {
        yield* this.drain(org);
      } catch (error) {
        // The database went away mid-read (docs/outages.md): the subscription stays open and the cursor where
        // it was; the `events.resync` sent when the database is back wakes it to read on from there.
        if (unavailableDependency(error) === null) throw error;
        this.since = null;
      }
    }
  }

  /** Delivers what the log holds after the cursor of `org`; the cursor moves past an entry only once it is handled. */
  private async *drain(org: string): AsyncGenerator<FeedItem<T>> {
    const { ctx, cursor, orgs, options } = this;
    // Every notification that woke this feed has been received by now: reads begun from here on see it.
    const since = this.hub.generation;
    for (;;) {
      const after = cursor[org];
      const rows = await this.hub.shared(`rows:${org}:${after}`, since, () =>
        ctx.db.auditEvent.findMany({ where: { chain: org, seq: { gt: after } }, orderBy: { seq: 'asc' }, take: BATCH }),
      );
      if (rows.length === 0 || this.stopped) return;
      let policy: Policy;
      try {
        policy = await this.reauthenticate(since);
      } catch (error) {
        if (error instanceof UnauthenticatedError) {
          ctx.closeConnection?.(4401, 'Unauthorized: the session or API key is no longer valid');
          this.stop();
          return;
        }
        throw error;
      }
      for (const row of rows) {
        const item = await options.select(row, policy);
        cursor[org] = row.seq;
        if (item !== null && !this.stopped) {
          // From here the consumer holds the turn: news arriving before it asks for more starts the clock.
          this.since = null;
          yield { cursor: cursorOf(cursor, orgs), item };
        }
      }
      if (rows.length < BATCH) return;
    }
  }

  next(): Promise<IteratorResult<FeedItem<T>>> {
    return this.inner.next();
  }

  async return(): Promise<IteratorResult<FeedItem<T>>> {
    this.stop();
    await this.inner.return(undefined);
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<FeedItem<T>>> {
    this.stop();
    return this.inner.throw(error);
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}
