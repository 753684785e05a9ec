import { describe, expect, it } from 'vitest';
import { PrincipalCache } from '../../src/modules/auth/principalCache.ts';
import type { Principal } from '../../src/policy/policy.ts';

const user = (userId: string): Principal => ({ kind: 'user', userId, sessionId: `s-${userId}`, isSystemAdmin: false, memberships: new Map() });

/** A load that counts its calls and can be held open, to interleave a clear with a lookup under way. */
function loader(principal: Principal, expiresAt: number | null = null) {
  let calls = 0;
  let release!: () => void;
  let gate: Promise<void> | null = null;
  return {
    get calls() {
      return calls;
    },
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release: () => release(),
    load: async () => {
      calls++;
      if (gate) await gate;
      return { principal, expiresAt };
    },
  };
}

describe('PrincipalCache', () => {
  it('reuses a principal within its time and loads it again after', async () => {
    const cache = new PrincipalCache(1000);
    const l = loader(user('a'));
    expect(await cache.get('k', 0, l.load)).toEqual(user('a'));
    await cache.get('k', 999, l.load);
    expect(l.calls).toBe(1);
    await cache.get('k', 1000, l.load);
    expect(l.calls).toBe(2);
  });

  it('never keeps an entry past the session’s own expiry', async () => {
    const cache = new PrincipalCache(60_000);
    const l = loader(user('a'), 500);
    await cache.get('k', 0, l.load);
    await cache.get('k', 499, l.load);
    expect(l.calls).toBe(1);
    await cache.get('k', 500, l.load);
    expect(l.calls).toBe(2);
  });

  it('with a time of 0 always loads', async () => {
    const cache = new PrincipalCache(0);
    const l = loader(user('a'));
    await cache.get('k', 0, l.load);
    await cache.get('k', 0, l.load);
    expect(l.calls).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('does not cache a failed lookup', async () => {
    const cache = new PrincipalCache(1000);
    await expect(cache.get('k', 0, async () => Promise.reject(new Error('unknown token')))).rejects.toThrow('unknown token');
    expect(cache.size).toBe(0);
  });

  it('clear() forgets entries, and a lookup under way when it ran does not store its (possibly stale) answer', async () => {
    const cache = new PrincipalCache(60_000);
    const l = loader(user('a'));
    await cache.get('k', 0, l.load);
    cache.clear();
    expect(cache.size).toBe(0);
    l.hold();
    const pending = cache.get('k', 1, l.load);
    cache.clear(); // e.g. a sign-out committed while the session was being read
    l.release();
    await pending;
    expect(cache.size).toBe(0);
    await cache.get('k', 2, l.load);
    expect(l.calls).toBe(3);
    expect(cache.size).toBe(1);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = new PrincipalCache(60_000, 2);
    const a = loader(user('a'));
    await cache.get('a', 0, a.load);
    await cache.get('b', 0, loader(user('b')).load);
    await cache.get('c', 0, loader(user('c')).load);
    expect(cache.size).toBe(2);
    await cache.get('a', 0, a.load);
    expect(a.calls).toBe(2);
  });
});
