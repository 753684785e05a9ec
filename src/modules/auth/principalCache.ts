import type { Principal } from '../../policy/policy.ts';

type Entry = { principal: Principal; until: number };

/**
 * Resolved sessions and API keys, reused for a short time (AUTH_CACHE_MS) so that a request does not read the
 * session, user and memberships again (the P1 benchmark's profile: three of the list's six statements).
 *
 * Staleness is bounded two ways. Every change that can end or narrow a principal (sign-out, password change,
 * user disabled, membership added/changed/removed, key revoked) calls `principalsChanged`, which empties the
 * cache here at once and, through the event bus, on every instance. A lookup that was already under way when
 * the cache was emptied does not store its answer (the generation moved on), so it cannot put back what the
 * change just ended. An entry also never outlives the session's or key's own expiry.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;
  private suspended = false;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The cached principal for `key` (a token hash), or the one `load` resolves, remembered until `expiresAt`. */
  async get(key: string, now: number, load: () => Promise<{ principal: Principal; expiresAt: number | null }>): Promise<Principal> {
    if (this.ttlMs <= 0 || this.suspended) return (await load()).principal;
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.principal;
    if (hit) this.entries.delete(key);
    const generation = this.generation;
    const { principal, expiresAt } = await load();
    if (generation === this.generation) {
      // Oldest first out: a Map iterates in insertion order.
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { principal, until: Math.min(now + this.ttlMs, expiresAt ?? Infinity) });
    }
    return principal;
  }

  /** Forgets every cached principal, including those whose lookup is still under way. */
  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  /**
   * Stops caching (and forgets) while this instance cannot hear other instances' changes — Redis unreachable
   * (docs/outages.md) — so that a session ended elsewhere is refused here at once, not up to AUTH_CACHE_MS later.
   */
  suspend(): void {
    this.suspended = true;
    this.clear();
  }

  /** Caches again, from empty (changes made elsewhere meanwhile were not heard). */
  resume(): void {
    this.clear();
    this.suspended = false;
  }

  get size(): number {
    return this.entries.size;
  }
}
