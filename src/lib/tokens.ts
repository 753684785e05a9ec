import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** vgs session, vgk API key, vgb bootstrap, vgi invitation, vgc sign-in challenge, vgo single-sign-on handoff, vgt SSH session (proxy). */
export type TokenPrefix = 'vgs' | 'vgk' | 'vgb' | 'vgi' | 'vgc' | 'vgo' | 'vgt';

/** 32 random bytes (256 bits), base64url, behind a prefix that says what the token is. */
export function newToken(prefix: TokenPrefix): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/**
 * Tokens carry 256 bits of randomness, so a plain SHA-256 is a sound way to store them: nothing to brute-force,
 * and a lookup by hash stays a single indexed query.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A token shape check before any database work: wrong prefix or length is rejected without a query. */
export function looksLikeToken(value: string, prefix: TokenPrefix): boolean {
  return value.length === prefix.length + 1 + 43 && value.startsWith(`${prefix}_`) && /^[A-Za-z0-9_-]+$/.test(value);
}
