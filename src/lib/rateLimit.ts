import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Clock } from './clock.ts';
import { RateLimitedError } from './errors.ts';
import { errorLabel, REDIS_FAIL_FAST, type DependencyHealth } from './health.ts';

/**
 * Abuse limits (README "Rate limits"): sliding windows ("at most N per minute") and lockouts with exponential
 * backoff ("after N failures, wait; each further failure doubles the wait"). Time is always the injected clock's,
 * never the store's, so tests move time instead of sleeping; Redis TTLs only collect garbage.
 * The rules are pure functions below; the Redis scripts mirror them so that check and count are one atomic step.
 */

/** At most `limit` units per `windowMs`. A limit of 0 is no limit. */
export type WindowRule = { limit: number; windowMs: number };

/**
 * After `threshold` consecutive failures, the next attempt waits `firstLockoutMs`; each further failure doubles
 * the wait, up to `maxLockoutMs`. The streak is forgotten `forgetAfterMs` after the last failure (or after the
 * lockout it caused has ended), or at once on success. A threshold of 0 is no lockout.
 */
export type LockoutRule = { threshold: number; firstLockoutMs: number; maxLockoutMs: number; forgetAfterMs: number };

export type Decision = { allowed: true } | { allowed: false; retryAfterMs: number };

const ALLOWED: Decision = { allowed: true };

// ---------------------------------------------------------------------------------------------------------------
// The rules, pure.

/**
 * A sliding window approximated from two fixed buckets (floor(now / window)): the previous bucket counts for
 * the part of it that still overlaps the window ending now. Integer arithmetic, so that the boundary is exact.
 */
export function windowAllows(current: number, previous: number, elapsedMs: number, cost: number, rule: WindowRule): boolean {
  const w = rule.windowMs;
  return previous * (w - elapsedMs) + (current + cost) * w <= rule.limit * w;
}

/** How long until `cost` more fits, given the two buckets' counts (assumes nothing else is counted meanwhile). */
export function windowRetryAfterMs(current: number, previous: number, elapsedMs: number, cost: number, rule: WindowRule): number {
  const w = rule.windowMs;
  const room = rule.limit - cost - current;
  if (room >= 0) {
    if (previous <= 0) return 0;
    // previous * (w - t) <= room * w, for the smallest t in this bucket.
    return Math.max(0, w - Math.floor((room * w) / previous) - elapsedMs);
  }
  // Not in this bucket: in the next one, this bucket is the previous one.
  const next = current <= 0 ? 0 : Math.max(0, w - Math.floor(((rule.limit - cost) * w) / current));
  return w - elapsedMs + next;
}

export type Streak = { count: number; last: number };

/** Until when a streak locks further attempts (its last failure when it is below the threshold). */
export function lockedUntil(streak: Streak, rule: LockoutRule): number {
  if (streak.count < rule.threshold) return streak.last;
  return streak.last + Math.min(rule.firstLockoutMs * 2 ** (streak.count - rule.threshold), rule.maxLockoutMs);
}

/** One attempt: refused while locked (and not counted), otherwise counted as a failure until told otherwise. */
export function nextAttempt(streak: Streak | null, now: number, rule: LockoutRule): { decision: Decision; streak: Streak | null } {
  let s = streak && streak.count > 0 && now <= lockedUntil(streak, rule) + rule.forgetAfterMs ? streak : null;
  if (s && s.count >= rule.threshold) {
    const until = lockedUntil(s, rule);
    if (now < until) return { decision: { allowed: false, retryAfterMs: until - now }, streak: s };
  }
  s = { count: (s?.count ?? 0) + 1, last: now };
  return { decision: ALLOWED, streak: s };
}

// ---------------------------------------------------------------------------------------------------------------
// Storage.

/** Where counts live. Keys arrive already namespaced and hashed; `now` is the injected clock's milliseconds. */
export interface RateLimitStore {
  /** Counts `cost` in the window when `commit` and it fits; returns both buckets' counts before counting. */
  window(key: string, now: number, rule: WindowRule, cost: number, commit: boolean): Promise<{ allowed: boolean; current: number; previous: number }>;
  attempt(key: string, now: number, rule: LockoutRule): Promise<Decision>;
  /** Takes one failure back (an attempt that succeeded). */
  release(key: string): Promise<void>;
  /** Forgets the streak. */
  clear(key: string): Promise<void>;
  /** Marks the key until now + ttlMs. */
  remember(key: string, now: number, ttlMs: number): Promise<void>;
  remembers(key: string, now: number): Promise<boolean>;
  close(): Promise<void>;
}

const bucketOf = (now: number, windowMs: number) => {
  const bucket = Math.floor(now / windowMs);
  return { bucket, elapsed: now - bucket * windowMs };
};

/** Redis TTLs are real time: long enough for any clock position a test moves to within that time. */
const streakTtlMs = (rule: LockoutRule) => rule.maxLockoutMs + rule.forgetAfterMs + 60_000;

/**
 * One process's counts, bounded: past `maxEntries`, expired entries are swept and then the least recently
 * written tenth is dropped (which can only make limits more lenient, never lock anyone out).
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly entries = new Map<string, { value: unknown; expiresAt: number }>();

  constructor(private readonly maxEntries = 100_000) {}

  get size(): number {
    return this.entries.size;
  }

  private read<T>(key: string, now: number): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value as T;
  }

  private write(key: string, value: unknown, now: number, ttlMs: number) {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.evict(now);
    this.entries.set(key, { value, expiresAt: now + ttlMs });
  }

  private evict(now: number) {
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
    let excess = this.entries.size - Math.floor(this.maxEntries * 0.9);
    for (const k of this.entries.keys()) {
      if (excess-- <= 0) break;
      this.entries.delete(k);
    }
  }

  async window(key: string, now: number, rule: WindowRule, cost: number, commit: boolean) {
    const { bucket, elapsed } = bucketOf(now, rule.windowMs);
    const currentKey = `${key}:${bucket}`;
    const current = this.read<number>(currentKey, now) ?? 0;
    const previous = this.read<number>(`${key}:${bucket - 1}`, now) ?? 0;
    const allowed = windowAllows(current, previous, elapsed, cost, rule);
    if (allowed && commit) this.write(currentKey, current + cost, now, 2 * rule.windowMs - elapsed);
    return { allowed, current, previous };
  }

  async attempt(key: string, now: number, rule: LockoutRule) {
    const { decision, streak } = nextAttempt(this.read<Streak>(key, now) ?? null, now, rule);
    if (decision.allowed && streak) this.write(key, streak, now, streakTtlMs(rule));
    return decision;
  }

  async release(key: string) {
    const e = this.entries.get(key);
    if (e) e.value = { ...(e.value as Streak), count: Math.max(0, (e.value as Streak).count - 1) };
  }

  async clear(key: string) {
    this.entries.delete(key);
  }

  async remember(key: string, now: number, ttlMs: number) {
    this.write(key, true, now, ttlMs);
  }

  async remembers(key: string, now: number) {
    return this.read<boolean>(key, now) === true;
  }

  async close() {
    this.entries.clear();
  }
}

// Mirrors windowAllows. KEYS: current bucket, previous bucket. ARGV: elapsed, window, limit, cost, commit, ttl.
const WINDOW_SCRIPT = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local e, w, limit, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if prev * (w - e) + (cur + cost) * w > limit * w then return {0, cur, prev} end
if ARGV[5] == '1' then
  redis.call('INCRBY', KEYS[1], cost)
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
return {1, cur, prev}
`;

// Mirrors nextAttempt. KEYS: the streak (hash n, last). ARGV: now, threshold, first, max, forget, ttl.
const ATTEMPT_SCRIPT = `
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local now, threshold, first, max, forget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local function lockedUntil()
  if n < threshold then return last end
  return last + math.min(first * 2 ^ (n - threshold), max)
end
if n > 0 and now > lockedUntil() + forget then n = 0 end
if n >= threshold then
  local u = lockedUntil()
  if now < u then return {0, u - now} end
end
redis.call('HSET', KEYS[1], 'n', n + 1, 'last', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return {1, 0}
`;

const RELEASE_SCRIPT = `
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if n > 0 then redis.call('HSET', KEYS[1], 'n', n - 1) end
return n
`;

/** After a command failed on a connection that looked ready, how long Redis is not asked again. */
export const REDIS_COOLDOWN_MS = 1000;

type Scripted = Redis & {
  vgWindow(cur: string, prev: string, ...args: (string | number)[]): Promise<[number, number, number]>;
  vgAttempt(key: string, ...args: (string | number)[]): Promise<[number, number]>;
  vgRelease(key: string): Promise<number>;
};

/** Counts shared by every instance (REDIS_URL). Each check-and-count is one Lua script, so racing requests cannot both pass. */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Scripted;

  /** Until when (wall clock) no command is sent after one failed on a connection that still looked ready. */
  private openUntil = 0;
  private failing = false;

  constructor(url: string, private readonly prefix: string, private readonly health?: DependencyHealth) {
    const redis = new Redis(url, REDIS_FAIL_FAST);
    // Connection errors are a state (health logs the change once), not a log line per reconnection attempt.
    redis.on('error', (error) => this.health?.report('redis', 'rate-limits', false, errorLabel(error)));
    redis.on('close', () => this.health?.report('redis', 'rate-limits', false, 'connection closed'));
    redis.on('ready', () => {
      this.openUntil = 0;
      this.failing = false;
      this.health?.report('redis', 'rate-limits', true);
    });
    redis.defineCommand('vgWindow', { numberOfKeys: 2, lua: WINDOW_SCRIPT });
    redis.defineCommand('vgAttempt', { numberOfKeys: 1, lua: ATTEMPT_SCRIPT });
    redis.defineCommand('vgRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    this.redis = redis as Scripted;
  }

  /** Whether to send commands now: connected, and no command failed in the last REDIS_COOLDOWN_MS. */
  available(): boolean {
    return this.redis.status === 'ready' && Date.now() >= this.openUntil;
  }

  /** A command failed (timed out, or the connection broke): stop trying for a moment. */
  failed(error: unknown): void {
    this.openUntil = Date.now() + REDIS_COOLDOWN_MS;
    this.failing = true;
    this.health?.report('redis', 'rate-limits', false, errorLabel(error));
  }

  /** A command succeeded: after a failure on a connection that stayed up, Redis is back. */
  succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    this.health?.report('redis', 'rate-limits', true);
  }

  // The hash tag keeps a window's buckets in one Redis Cluster slot.
  private k = (kind: string, key: string) => `${this.prefix}${kind}:{${key}}`;

  async window(key: string, now: number, rule: WindowRule, cost: number, commit: boolean) {
    const { bucket, elapsed } = bucketOf(now, rule.windowMs);
    const base = this.k('w', key);
    const [ok, current, previous] = await this.redis.vgWindow(
      `${base}:${bucket}`,
      `${base}:${bucket - 1}`,
      elapsed,
      rule.windowMs,
      rule.limit,
      cost,
      commit ? '1' : '0',
      2 * rule.windowMs + 60_000,
    );
    return { allowed: ok === 1, current: Number(current), previous: Number(previous) };
  }

  async attempt(key: string, now: number, rule: LockoutRule): Promise<Decision> {
    const [ok, wait] = await this.redis.vgAttempt(
      this.k('s', key),
      now,
      rule.threshold,
      rule.firstLockoutMs,
      rule.maxLockoutMs,
      rule.forgetAfterMs,
      streakTtlMs(rule),
    );
    return ok === 1 ? ALLOWED : { allowed: false, retryAfterMs: Number(wait) };
  }

  async release(key: string) {
    await this.redis.vgRelease(this.k('s', key));
  }

  async clear(key: string) {
    await this.redis.del(this.k('s', key));
  }

  async remember(key: string, now: number, ttlMs: number) {
    await this.redis.set(this.k('m', key), String(now + ttlMs), 'PX', ttlMs);
  }

  async remembers(key: string, now: number) {
    const until = await this.redis.get(this.k('m', key));
    return until !== null && Number(until) > now;
  }

  async close() {
    this.redis.removeAllListeners('close');
    this.redis.removeAllListeners('error');
    this.redis.on('error', () => undefined);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/**
 * Redis when it answers, else this process's memory (docs/outages.md): while Redis is unreachable, limits are
 * counted per instance — still limits, each instance enforcing the configured numbers — instead of failing every
 * request that is limited (which, with the per-address check of presented credentials, is every authenticated
 * one). Nothing waits on a dead connection: commands are not queued while disconnected, time out quickly, and
 * after a failure Redis is left alone for REDIS_COOLDOWN_MS (a circuit breaker) unless it reconnects first.
 * Counts made in memory during an outage are not carried back to Redis, nor Redis's into memory: an outage
 * starts every counter of this instance afresh (bounded, and the reason reveals stay audited either way).
 */
export class FailoverRateLimitStore implements RateLimitStore {
  private readonly memory = new MemoryRateLimitStore();

  constructor(private readonly redis: RedisRateLimitStore) {}

  private async run<T>(op: (store: RateLimitStore) => Promise<T>): Promise<T> {
    if (this.redis.available()) {
      try {
        const result = await op(this.redis);
        this.redis.succeeded();
        return result;
      } catch (error) {
        this.redis.failed(error);
      }
    }
    return op(this.memory);
  }

  window(key: string, now: number, rule: WindowRule, cost: number, commit: boolean) {
    return this.run((s) => s.window(key, now, rule, cost, commit));
  }

  attempt(key: string, now: number, rule: LockoutRule) {
    return this.run((s) => s.attempt(key, now, rule));
  }

  release(key: string) {
    return this.run((s) => s.release(key));
  }

  clear(key: string) {
    return this.run((s) => s.clear(key));
  }

  remember(key: string, now: number, ttlMs: number) {
    return this.run((s) => s.remember(key, now, ttlMs));
  }

  remembers(key: string, now: number) {
    return this.run((s) => s.remembers(key, now));
  }

  async close() {
    await Promise.all([this.redis.close(), this.memory.close()]);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What services use.

/**
 * The limits as services see them: a scope (`signin:address`) and a subject (`["10.0.0.1"]`) name a counter.
 * Subjects are hashed, so keys stay short and no email or address is stored in plain text.
 */
export class RateLimiter {
  constructor(
    private readonly store: RateLimitStore,
    private readonly clock: Clock,
  ) {}

  private key(scope: string, subject: string[]): string {
    return `${scope}:${createHash('sha256').update(subject.join('\u0000')).digest('base64url').slice(0, 32)}`;
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  /** Counts `cost` against the window unless it would exceed it. */
  take(scope: string, subject: string[], rule: WindowRule, cost = 1): Promise<Decision> {
    return this.window(scope, subject, rule, cost, true);
  }

  /** Whether `cost` more would fit now; counts nothing. */
  check(scope: string, subject: string[], rule: WindowRule, cost = 1): Promise<Decision> {
    return this.window(scope, subject, rule, cost, false);
  }

  private async window(scope: string, subject: string[], rule: WindowRule, cost: number, commit: boolean): Promise<Decision> {
    if (rule.limit <= 0) return ALLOWED;
    const now = this.now();
    const r = await this.store.window(this.key(scope, subject), now, rule, cost, commit);
    if (r.allowed) return ALLOWED;
    const { elapsed } = bucketOf(now, rule.windowMs);
    return { allowed: false, retryAfterMs: Math.max(1, windowRetryAfterMs(r.current, r.previous, elapsed, cost, rule)) };
  }

  /** One attempt under a lockout rule: refused (and not counted) while locked, else counted as a failure. */
  attempt(scope: string, subject: string[], rule: LockoutRule): Promise<Decision> {
    if (rule.threshold <= 0) return Promise.resolve(ALLOWED);
    return this.store.attempt(this.key(scope, subject), this.now(), rule);
  }

  /** The attempt succeeded after all: take it back without touching the rest of the streak. */
  release(scope: string, subject: string[]): Promise<void> {
    return this.store.release(this.key(scope, subject));
  }

  /** Ends the streak (a successful sign-in). */
  clear(scope: string, subject: string[]): Promise<void> {
    return this.store.clear(this.key(scope, subject));
  }

  remember(scope: string, subject: string[], ttlMs: number): Promise<void> {
    return this.store.remember(this.key(scope, subject), this.now(), ttlMs);
  }

  remembers(scope: string, subject: string[]): Promise<boolean> {
    return this.store.remembers(this.key(scope, subject), this.now());
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** Throws the typed refusal for a refused decision. */
export function enforce(decision: Decision): void {
  if (!decision.allowed) throw new RateLimitedError(retryAfterSeconds(decision));
}

export function retryAfterSeconds(decision: Decision): number {
  return decision.allowed ? 0 : Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
}

/**
 * Redis when configured (limits hold across instances; this process's memory while Redis is unreachable), else
 * this process's memory.
 */
export function createRateLimiter(
  options: { redisUrl: string | undefined; redisPrefix: string },
  clock: Clock,
  health?: DependencyHealth,
): RateLimiter {
  const store = options.redisUrl
    ? new FailoverRateLimitStore(new RedisRateLimitStore(options.redisUrl, options.redisPrefix, health))
    : new MemoryRateLimitStore();
  return new RateLimiter(store, clock);
}
