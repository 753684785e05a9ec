import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword, passwordHashProfile, usePasswordHashProfile, verifyPassword } from '../../src/lib/passwords.ts';

const PASSWORD = 'correct horse battery staple';

describe('password hash profiles', () => {
  afterEach(() => usePasswordHashProfile('standard'));

  it('standard makes OWASP-minimum argon2id hashes; test makes minimal ones', async () => {
    expect(passwordHashProfile()).toBe('standard');
    expect(await hashPassword(PASSWORD)).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    usePasswordHashProfile('test');
    expect(await hashPassword(PASSWORD)).toMatch(/^\$argon2id\$v=19\$m=8,p=1,t=1\$/);
  });

  it('verifies hashes of either profile under either profile (a hash carries its own parameters)', async () => {
    const standard = await hashPassword(PASSWORD);
    usePasswordHashProfile('test');
    const cheap = await hashPassword(PASSWORD);
    for (const active of ['test', 'standard'] as const) {
      usePasswordHashProfile(active);
      expect(await verifyPassword(standard, PASSWORD)).toBe(true);
      expect(await verifyPassword(cheap, PASSWORD)).toBe(true);
      expect(await verifyPassword(standard, `${PASSWORD}!`)).toBe(false);
      expect(await verifyPassword(cheap, `${PASSWORD}!`)).toBe(false);
      expect(await verifyPassword(null, PASSWORD)).toBe(false);
    }
  });
});
