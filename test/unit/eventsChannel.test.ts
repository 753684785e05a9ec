import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus, type DomainEvent } from '../../src/lib/events.ts';
import { loadConfig } from '../../src/config.ts';

/** Issue 12: the Redis events channel is configurable, so deployments sharing one Redis do not hear each other. */
const REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const buses: EventBus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.stop()));
});

const bus = async (channel: string) => {
  const b = new EventBus(REDIS, undefined, channel);
  buses.push(b);
  await b.start();
  return b;
};
const heard = (b: EventBus) => {
  const got: DomainEvent[] = [];
  b.subscribe('auth.changed', (e) => got.push(e));
  return got;
};

describe('REDIS_EVENTS_CHANNEL', () => {
  it('defaults to vaultgate:events and can be set', () => {
    expect(loadConfig({}).redisEventsChannel).toBe('vaultgate:events');
    expect(loadConfig({ REDIS_EVENTS_CHANNEL: 'staging:events' }).redisEventsChannel).toBe('staging:events');
  });

  it('instances on one channel hear each other; another channel hears nothing', async () => {
    const channel = `test:${randomBytes(6).toString('hex')}`;
    const [a, b, other] = [await bus(channel), await bus(channel), await bus(`${channel}:other`)];
    const [onA, onB, onOther] = [heard(a), heard(b), heard(other)];
    a.publish({ topic: 'auth.changed' });
    for (let i = 0; i < 200 && (onA.length === 0 || onB.length === 0); i++) await new Promise((r) => setTimeout(r, 10));
    expect([onA.length, onB.length]).toEqual([1, 1]);
    // The other channel got nothing (its own publish arrives, so the wait is bounded by an event, not a sleep).
    other.publish({ topic: 'auth.changed' });
    for (let i = 0; i < 200 && onOther.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(onOther.length).toBe(1);
    expect([onA.length, onB.length]).toEqual([1, 1]);
  });
});
