import { createHash, timingSafeEqual } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { newToken } from '../../lib/tokens.ts';

/**
 * Whether this installation has users yet, and the one-time bootstrap token while it has none.
 *
 * `bootstrap` is anonymous, so before it hashes a password (argon2) it must know cheaply that it may proceed:
 * "installed" is remembered once seen (an installation never becomes empty again), and the first administrator
 * can be created only from the server itself (loopback) or with the token generated at start when no user exists
 * (logged once, and returned by `app.start()`). Each instance generates its own token; any of them works on the
 * instance that printed it.
 */
export class InstallationState {
  private installedSeen = false;
  private tokenHash: Buffer | null = null;
  private token: string | null = null;

  get installed(): boolean {
    return this.installedSeen;
  }

  /** The token to print at start, or null once installed. */
  get bootstrapToken(): string | null {
    return this.installedSeen ? null : this.token;
  }

  markInstalled(): void {
    this.installedSeen = true;
    this.token = null;
    this.tokenHash = null;
  }

  /** Creates the one-time token (once per process) for an installation without users. */
  issueToken(): string {
    if (!this.token) {
      this.token = newToken('vgb');
      this.tokenHash = createHash('sha256').update(this.token).digest();
    }
    return this.token;
  }

  /** Constant-time comparison with the issued token; false when none was issued. */
  tokenMatches(presented: string | null | undefined): boolean {
    if (!presented || !this.tokenHash || this.installedSeen) return false;
    return timingSafeEqual(createHash('sha256').update(presented).digest(), this.tokenHash);
  }
}

/** A loopback address (127.0.0.0/8, ::1, or either written as IPv4-mapped IPv6). */
export function isLoopbackAddress(address: string | null | undefined): boolean {
  if (!address || !ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'loopback';
}
