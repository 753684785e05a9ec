import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { errorLabel, REDIS_FAIL_FAST, type DependencyHealth } from './health.ts';

/**
 * What happened, by id only (CONVENTIONS §7): subscribers re-read the objects through the services with their
 * own policy, so an event never carries a secret or anything its receiver may not see.
 */
export type DomainEvent =
  | AccessRequestChanged
  | SessionActivity
  | {
      /**
       * New entries were appended to an audit chain (an organization's, or the system chain when null). Sent
       * after the transaction ended; it may be spurious (a rolled-back transaction), so receivers read the
       * chain from their own cursor and never trust the notification for content.
       */
      topic: 'audit.appended';
      organizationId: string | null;
    }
  | {
      /** A session, user, membership or API key changed: instances drop the principals they cached. */
      topic: 'auth.changed';
    }
  | {
      /**
       * Local only, never published: notifications from other instances may have been missed (Redis is or was
       * unreachable, or the database just came back). Followers of the audit log re-read from their cursors;
       * caches of other instances' state drop it.
       */
      topic: 'events.resync';
    };

export type AccessRequestChanged = {
  topic: 'accessRequest.changed';
  requestId: string;
  organizationId: string;
  credentialId: string | null;
  requesterId: string;
  action: string;
  from: string | null;
  to: string;
  currentStep: number;
  at: string;
};

/**
 * What a running SSH session's recording just got (docs/sessions.md, live watch): the exception to "ids only",
 * because the live view has nowhere else to read from until the recording is sealed. It carries exactly the
 * asciicast events the recording contains (never the target's password, which is not on any channel), to the
 * instances only; `sessionActivity` re-authorizes each watcher before delivering. `end` is the last one.
 */
export type SessionActivity = {
  topic: 'session.activity';
  sessionId: string;
  organizationId: string;
  /** Asciicast events: [seconds since the session started, "o" | "i" | "r" | "m", data]. */
  events: [number, 'o' | 'i' | 'r' | 'm', string][];
  /** Set on the last message of a session: why it ended. */
  end?: string;
};

/** The default Redis channel (REDIS_EVENTS_CHANNEL): instances exchange events only within one channel. */
export const DEFAULT_EVENTS_CHANNEL = 'vaultgate:events';

/** While Redis is unreachable, how often followers are told to re-read the log (events of other instances). */
export const RESYNC_INTERVAL_MS = 1000;

/**
 * Publishes events to the subscribers of this process, or — with Redis (REDIS_URL) — of every instance: then
 * a publish goes to Redis and comes back to each instance, this one included, through its subscription.
 *
 * Without Redis for a while (docs/outages.md), the bus degrades rather than fails: what this instance publishes
 * reaches its own subscribers directly, and every RESYNC_INTERVAL_MS it emits `events.resync`, on which the
 * audit-log followers re-read from their cursors — so other instances' events still arrive, a little late, and
 * exactly once (the log is the store; notifications only wake). When Redis is back, one more resync catches up
 * on whatever happened between the last tick and the resubscription.
 */
export class EventBus {
  private readonly emitter = new EventEmitter({ captureRejections: false });
  private pub: Redis | null = null;
  private sub: Redis | null = null;
  private subscribed = false;
  private resyncTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redisUrl?: string,
    private readonly health?: DependencyHealth,
    private readonly channel: string = DEFAULT_EVENTS_CHANNEL,
  ) {
    this.emitter.setMaxListeners(0);
  }

  /**
   * Connects to Redis when configured; resolves once this instance receives what any instance publishes — or,
   * when Redis cannot be reached now, at once, degraded (it keeps reconnecting).
   */
  async start(): Promise<void> {
    if (!this.redisUrl || this.pub) return;
    const options = { ...REDIS_FAIL_FAST, lazyConnect: true, autoResubscribe: false };
    const pub = (this.pub = new Redis(this.redisUrl, options));
    const sub = (this.sub = new Redis(this.redisUrl, options));
    for (const [client, part] of [
      [pub, 'publish'],
      [sub, 'subscribe'],
    ] as const) {
      client.on('error', (error) => this.health?.report('redis', part, false, errorLabel(error)));
      client.on('close', () => {
        if (client === sub) this.subscribed = false;
        this.health?.report('redis', part, false, 'connection closed');
        this.degrade();
      });
    }
    pub.on('ready', () => {
      this.health?.report('redis', 'publish', true);
      this.recoverIfWhole();
    });
    sub.on('ready', () => {
      sub
        .subscribe(this.channel)
        .then(() => {
          this.subscribed = true;
          this.health?.report('redis', 'subscribe', true);
          this.recoverIfWhole();
        })
        .catch((error) => this.health?.report('redis', 'subscribe', false, errorLabel(error)));
    });
    sub.on('message', (_channel: string, message: string) => {
      try {
        const event = JSON.parse(message) as DomainEvent;
        this.emitter.emit(event.topic, event);
      } catch {
        // Not one of ours: ignored.
      }
    });
    const subscribedOnce = new Promise<void>((resolve) => {
      sub.once('ready', () => {
        const check = () => (this.subscribed ? resolve() : setTimeout(check, 5).unref());
        check();
      });
    });
    const connected = await Promise.allSettled([pub.connect(), sub.connect()]);
    if (connected.every((c) => c.status === 'fulfilled')) {
      await Promise.race([subscribedOnce, new Promise((r) => setTimeout(r, REDIS_FAIL_FAST.commandTimeout * 2).unref())]);
    }
    if (!this.whole()) this.degrade();
  }

  async stop(): Promise<void> {
    const clients = [this.pub, this.sub].filter((c): c is Redis => c !== null);
    this.pub = this.sub = null;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = null;
    for (const c of clients) {
      c.removeAllListeners('close');
      c.removeAllListeners('error');
      c.on('error', () => undefined);
    }
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  }

  /** Both connections up and subscribed: events round-trip through Redis. */
  private whole(): boolean {
    return this.pub?.status === 'ready' && this.sub?.status === 'ready' && this.subscribed;
  }

  /** Redis went away: keep followers re-reading until it is back. */
  private degrade(): void {
    if (!this.pub || this.resyncTimer) return;
    this.resyncTimer = setInterval(() => this.resync(), RESYNC_INTERVAL_MS).unref();
  }

  private recoverIfWhole(): void {
    if (!this.whole() || !this.resyncTimer) return;
    clearInterval(this.resyncTimer);
    this.resyncTimer = null;
    this.resync();
  }

  /** Tells this instance's followers that notifications may have been missed (see `events.resync`). */
  resync(): void {
    this.emitter.emit('events.resync', { topic: 'events.resync' });
  }

  publish(event: DomainEvent): void {
    if (event.topic === 'events.resync') return this.resync();
    const pub = this.pub;
    // Subscribed through Redis: the event comes back from there. Otherwise this instance's subscribers are told
    // directly (other instances learn on their next resync).
    if (!pub || !this.whole()) this.emitter.emit(event.topic, event);
    if (pub?.status === 'ready') {
      pub.publish(this.channel, JSON.stringify(event)).catch((error) => {
        this.health?.report('redis', 'publish', false, errorLabel(error));
        // It may not have reached Redis, so not come back either: a notification twice is harmless.
        this.emitter.emit(event.topic, event);
      });
    }
  }

  subscribe<T extends DomainEvent['topic']>(topic: T, listener: (event: Extract<DomainEvent, { topic: T }>) => void): () => void {
    const l = listener as (event: DomainEvent) => void;
    this.emitter.on(topic, l);
    return () => this.emitter.off(topic, l);
  }
}
