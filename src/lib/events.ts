import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';

/**
 * What happened, by id only (CONVENTIONS §7): subscribers re-read the objects through the services with their
 * own policy, so an event never carries a secret or anything its receiver may not see.
 */
export type DomainEvent =
  | AccessRequestChanged
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

/** The default Redis channel (REDIS_EVENTS_CHANNEL): instances exchange events only within one channel. */
export const DEFAULT_EVENTS_CHANNEL = 'vaultgate:events';

/**
 * Publishes events to the subscribers of this process, or — with Redis (REDIS_URL) — of every instance: then
 * a publish goes to Redis and comes back to each instance, this one included, through its subscription.
 */
export class EventBus {
  private readonly emitter = new EventEmitter({ captureRejections: false });
  private pub: Redis | null = null;
  private sub: Redis | null = null;

  constructor(
    private readonly redisUrl?: string,
    private readonly onError?: (error: unknown) => void,
    private readonly channel: string = DEFAULT_EVENTS_CHANNEL,
  ) {
    this.emitter.setMaxListeners(0);
  }

  /** Connects to Redis when configured; resolves once this instance receives what any instance publishes. */
  async start(): Promise<void> {
    if (!this.redisUrl || this.pub) return;
    const options = { lazyConnect: true, maxRetriesPerRequest: 3 };
    this.pub = new Redis(this.redisUrl, options);
    this.sub = new Redis(this.redisUrl, options);
    for (const c of [this.pub, this.sub]) c.on('error', (error) => this.onError?.(error));
    await Promise.all([this.pub.connect(), this.sub.connect()]);
    this.sub.on('message', (_channel: string, message: string) => {
      try {
        const event = JSON.parse(message) as DomainEvent;
        this.emitter.emit(event.topic, event);
      } catch (error) {
        this.onError?.(error);
      }
    });
    await this.sub.subscribe(this.channel);
  }

  async stop(): Promise<void> {
    const clients = [this.pub, this.sub].filter((c): c is Redis => c !== null);
    this.pub = this.sub = null;
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  }

  publish(event: DomainEvent): void {
    if (this.pub) {
      this.pub.publish(this.channel, JSON.stringify(event)).catch((error) => this.onError?.(error));
      return;
    }
    this.emitter.emit(event.topic, event);
  }

  subscribe<T extends DomainEvent['topic']>(topic: T, listener: (event: Extract<DomainEvent, { topic: T }>) => void): () => void {
    const l = listener as (event: DomainEvent) => void;
    this.emitter.on(topic, l);
    return () => this.emitter.off(topic, l);
  }
}
