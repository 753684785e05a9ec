import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/lib/clock.ts';
import {
  MemoryRateLimitStore,
  RateLimiter,
  lockedUntil,
  nextAttempt,
  retryAfterSeconds,
  windowAllows,
  windowRetryAfterMs,
  type LockoutRule,
  type Streak,
  type WindowRule,
} from '../../src/lib/rateLimit.ts';

const minute: WindowRule = { limit: 3, windowMs: 60_000 };

describe('sliding window (two fixed buckets)', () => {
  it.each([
    // current, previous, elapsed, allowed, retryAfterMs
    [0, 0, 0, true, 0],
    [2, 0, 0, true, 0],
    [3, 0, 0, false, 80_000], // next bucket starts after 60 s; then 3 × (60 − t)/60 + 1 ≤ 3 once t ≥ 20 s
    [3, 0, 59_000, false, 21_000],
    [0, 3, 0, false, 20_000], // the previous bucket still overlaps fully; a third of it must slide out
    [0, 3, 20_000, true, 0],
    [1, 3, 30_000, false, 10_000], // 3 × 30/60 + 1 + 1 = 3.5 > 3 → at t = 40 s: 3 × 20/60 + 2 = 3
    [2, 6, 0, false, 60_000], // room only once the previous bucket has slid out entirely
    [3, 6, 0, false, 60_000 + 20_000],
  ] as const)('current %i, previous %i, %i ms into the bucket → allowed %s, retry after %i ms', (cur, prev, elapsed, allowed, wait) => {
    expect(windowAllows(cur, prev, elapsed, 1, minute)).toBe(allowed);
    if (!allowed) {
      expect(windowRetryAfterMs(cur, prev, elapsed, 1, minute)).toBe(wait);
      // After waiting exactly that long (nothing else counted), the next one fits, and not a millisecond earlier.
      const at = (t: number) => {
        const into = elapsed + t;
        return into < minute.windowMs ? windowAllows(cur, prev, into, 1, minute) : windowAllows(0, cur, into - minute.windowMs, 1, minute);
      };
      expect(at(wait)).toBe(true);
      expect(at(wait - 1)).toBe(false);
    }
  });
});

describe('lockout with exponential backoff', () => {
  const rule: LockoutRule = { threshold: 3, firstLockoutMs: 60_000, maxLockoutMs: 300_000, forgetAfterMs: 900_000 };

  it.each([
    [{ count: 2, last: 0 }, 0],
    [{ count: 3, last: 0 }, 60_000],
    [{ count: 4, last: 0 }, 120_000],
    [{ count: 5, last: 0 }, 240_000],
    [{ count: 6, last: 0 }, 300_000],
    [{ count: 60, last: 0 }, 300_000],
  ] satisfies [Streak, number][])('%o is locked until %i', (streak, until) => {
    expect(lockedUntil(streak, rule)).toBe(until);
  });

  it('counts attempts, refuses (without counting) while locked, and forgets a quiet streak', () => {
    let s: Streak | null = null;
    const step = (now: number) => {
      const r = nextAttempt(s, now, rule);
      s = r.streak;
      return r.decision;
    };
    expect([step(0), step(1), step(2)].every((d) => d.allowed)).toBe(true);
    expect(step(3)).toEqual({ allowed: false, retryAfterMs: 60_000 - 1 });
    expect(s).toEqual({ count: 3, last: 2 });
    expect(step(60_002).allowed).toBe(true);
    expect(step(60_003)).toEqual({ allowed: false, retryAfterMs: 120_000 - 1 });
    // Forgotten once the lockout is over and the window has passed without failures.
    expect(nextAttempt(s, 60_002 + 120_000 + 900_000, rule).decision.allowed).toBe(true);
    expect(nextAttempt(s, 60_002 + 120_000 + 900_001, rule).streak).toEqual({ count: 1, last: 60_002 + 120_000 + 900_001 });
  });
});

describe('RateLimiter on the memory store', () => {
  it('uses the injected clock: time moves only when the test moves it', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const limiter = new RateLimiter(new MemoryRateLimitStore(), clock);
    for (let i = 0; i < 3; i++) expect((await limiter.take('t', ['a'], minute)).allowed).toBe(true);
    const refused = await limiter.take('t', ['a'], minute);
    expect(retryAfterSeconds(refused)).toBe(80);
    expect((await limiter.take('t', ['b'], minute)).allowed).toBe(true);
    expect((await limiter.check('t', ['a'], minute)).allowed).toBe(false);
    clock.advance(80_000);
    expect((await limiter.take('t', ['a'], minute)).allowed).toBe(true);
    expect((await limiter.take('t', ['a'], { limit: 0, windowMs: 1 })).allowed).toBe(true);
  });

  it('stays bounded: past its size it drops expired, then the oldest entries', async () => {
    const clock = new ManualClock(0);
    const store = new MemoryRateLimitStore(100);
    const limiter = new RateLimiter(store, clock);
    for (let i = 0; i < 1000; i++) await limiter.take('t', [String(i)], minute);
    expect(store.size).toBeLessThanOrEqual(100);
    // The newest keys survived.
    expect((await limiter.take('t', ['999'], { limit: 1, windowMs: 60_000 })).allowed).toBe(false);
    clock.advance(10 * 60_000);
    await limiter.take('t', ['new'], minute);
    expect(store.size).toBeLessThanOrEqual(100);
  });

  it('releases one attempt, clears a streak, and remembers for a while', async () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(new MemoryRateLimitStore(), clock);
    const rule: LockoutRule = { threshold: 2, firstLockoutMs: 1000, maxLockoutMs: 8000, forgetAfterMs: 60_000 };
    await limiter.attempt('s', ['x'], rule);
    await limiter.attempt('s', ['x'], rule);
    expect((await limiter.attempt('s', ['x'], rule)).allowed).toBe(false);
    await limiter.release('s', ['x']);
    expect((await limiter.attempt('s', ['x'], rule)).allowed).toBe(true);
    await limiter.clear('s', ['x']);
    expect((await limiter.attempt('s', ['x'], rule)).allowed).toBe(true);
    await limiter.remember('m', ['x'], 5000);
    expect(await limiter.remembers('m', ['x'])).toBe(true);
    clock.advance(5000);
    expect(await limiter.remembers('m', ['x'])).toBe(false);
  });
});
