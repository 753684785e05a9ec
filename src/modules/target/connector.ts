// One small interface for changing and checking a vaulted account's password on the system it opens
// (docs/targets.md). Connectors do network I/O only: no database, no audit, no logging of secrets; the
// service around them decides what is stored, promoted and audited.

/** Where a credential's account lives and how to reach it. */
export type TargetConfig =
  | { protocol: 'SSH'; host: string; port: number; hostKeyFingerprint: string }
  | { protocol: 'POSTGRES'; host: string; port: number; database: string };

/** Why a connector could not do what was asked. Never carries a secret or a library message meant for clients. */
export type TargetFailureReason =
  /** The target refused the account with this secret. */
  | 'AUTH_REJECTED'
  /** The SSH host presented a key other than the pinned one; nothing was sent. */
  | 'HOST_KEY_MISMATCH'
  /** Connection refused, timed out, or the protocol failed before authentication. */
  | 'UNREACHABLE'
  /** Logged in, but the target did not accept the new secret (the change command failed). */
  | 'CHANGE_REJECTED'
  /** The change was sent but its outcome is unknown (connection lost, no exit status): the target may hold the new secret. */
  | 'CHANGE_UNCONFIRMED'
  /** The new secret cannot be set safely on this target (e.g. control characters). */
  | 'UNSUPPORTED_SECRET';

export type TargetResult = { ok: true } | { ok: false; reason: TargetFailureReason; detail?: string };

export type TargetAccount = { username: string };

export interface TargetConnector {
  /** Logs in as the account with the secret; ok when the target accepts it. */
  verify(target: TargetConfig, account: TargetAccount, secret: string): Promise<TargetResult>;
  /** Sets the account's password from oldSecret to newSecret, authenticating as the account itself. */
  change(target: TargetConfig, account: TargetAccount, oldSecret: string, newSecret: string): Promise<TargetResult>;
}

export const fail = (reason: TargetFailureReason, detail?: string): TargetResult => ({ ok: false, reason, detail });
export const OK: TargetResult = { ok: true };

/** Refuses secrets a target's change command could misread: control characters (newlines end a chpasswd line). */
export function hasControlCharacters(secret: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(secret);
}
