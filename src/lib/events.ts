import { EventEmitter } from 'node:events';

/**
 * What happened, by id only (CONVENTIONS §7): subscribers re-read the objects through the services with their
 * own policy, so an event never carries a secret or anything its receiver may not see.
 */
export type DomainEvent = {
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

/** Publishes events in this process. The real-time issue puts Redis behind the same interface. */
export class EventBus {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(event: DomainEvent): void {
    this.emitter.emit(event.topic, event);
  }

  subscribe(topic: DomainEvent['topic'], listener: (event: DomainEvent) => void): () => void {
    this.emitter.on(topic, listener);
    return () => this.emitter.off(topic, listener);
  }
}
