import argon2 from 'argon2';

/**
 * How new password hashes are made. `standard` is OWASP's minimum for argon2id (19 MiB, two passes, one lane).
 * `test` is argon2id at its smallest cost (8 KiB, one pass) so that a test suite creating hundreds of users does
 * not spend minutes hashing; config.ts accepts it only with NODE_ENV=test, because such hashes are cheap to crack.
 * Either way a stored hash carries its own parameters, so verification does not depend on the profile.
 */
export type PasswordHashProfile = 'standard' | 'test';

const PROFILES = {
  standard: { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 },
  test: { type: argon2.argon2id, memoryCost: 8, timeCost: 1, parallelism: 1 },
} as const satisfies Record<PasswordHashProfile, argon2.HashOptions>;

/** Longer input is refused before hashing so that nobody can make the server hash megabytes. */
export const PASSWORD_MAX_LENGTH = 256;
export const PASSWORD_MIN_LENGTH = 12;

let profile: PasswordHashProfile = 'standard';
let dummyHash: Promise<string> | undefined;

/**
 * Sets the profile of this process's new hashes (createApp and the CLI pass config.passwordHashProfile). One
 * process runs one configuration; test processes that start several servers start them all with the same profile.
 */
export function usePasswordHashProfile(next: PasswordHashProfile): void {
  if (next === profile) return;
  profile = next;
  dummyHash = undefined;
}

export function passwordHashProfile(): PasswordHashProfile {
  return profile;
}

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, PROFILES[profile]);
}

/**
 * Verifies a password. With no stored hash (unknown email, disabled account) it still runs one argon2
 * verification against a throwaway hash, so that the answer takes about as long either way.
 */
export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  if (password.length > PASSWORD_MAX_LENGTH) return false;
  if (!storedHash) {
    dummyHash ??= argon2.hash('vaultgate-timing-equaliser', PROFILES[profile]);
    await argon2.verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await argon2.verify(storedHash, password);
  } catch {
    return false;
  }
}
