import { describe, expect, it } from 'vitest';
import { parseSshPrivateKey, SshKeyError } from '../../src/lib/sshKey.ts';
import { base32Decode } from '../../src/lib/totp.ts';
import { looksLikeEmail, stripDidYouMean, trimTrailing } from '../../src/lib/text.ts';
import { compileUserPattern, matchesWhole, UserPatternError } from '../../src/lib/userPattern.ts';
import { fit, slowdownRatio } from '../support/linearity.ts';

/**
 * Every check a client's input reaches, run with input crafted for backtracking and with benign input of the
 * same length: the crafted one may not be much slower (SECURITY.md, "Regular expressions").
 */
const MAX_RATIO = 20;
const quietly = (f: () => unknown) => () => {
  try {
    f();
  } catch {
    // refusals are expected; only the time matters here
  }
};

describe('linear-time input checks', () => {
  it('SSH key armor: whitespace runs inside the armor cost no more than a body', async () => {
    // Small enough that the backtracking parser this replaced fails in seconds rather than hours (it was cubic).
    const n = 1000;
    const head = '-----BEGIN OPENSSH PRIVATE KEY-----';
    const benign = fit(`${head}\n`, n);
    const adversarial = `${fit(head, n - 1, ' ')}!`;
    const ratio = await slowdownRatio((s) => quietly(() => parseSshPrivateKey(s))(), benign, adversarial);
    expect(ratio).toBeLessThan(MAX_RATIO);
    // One more shape: many `-----END` look-alikes and whitespace between them.
    const looks = fit(`${head}\n${' \n-----EN'.repeat(n / 9)}`, n);
    expect(await slowdownRatio((s) => quietly(() => parseSshPrivateKey(s))(), benign, looks)).toBeLessThan(MAX_RATIO);
  });

  it('SSH key: public-key detection scans once', async () => {
    const n = 60_000;
    expect(await slowdownRatio((s) => quietly(() => parseSshPrivateKey(s))(), 'x'.repeat(n), `ssh-${'a'.repeat(n - 5)}\t`)).toBeLessThan(MAX_RATIO);
  });

  it('still refuses what it refused and reads what it read', () => {
    expect(() => parseSshPrivateKey(`-----BEGIN OPENSSH PRIVATE KEY-----${' '.repeat(100)}!`)).toThrow(SshKeyError);
    expect(() => parseSshPrivateKey('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBt')).toThrow(/public key/);
    expect(() => parseSshPrivateKey('-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----')).toThrow(/public key/);
    expect(() => parseSshPrivateKey('-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: x\n\nAAAA\n-----END RSA PRIVATE KEY-----')).toThrow(/Encrypted PEM/);
    expect(() => parseSshPrivateKey('-----BEGIN RSA PRIVATE KEY-----AAAA\n-----END RSA PRIVATE KEY-----')).toThrow(/PEM-armored/);
    expect(() => parseSshPrivateKey('-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----')).toThrow(/PEM-armored/);
    expect(() => parseSshPrivateKey('-----BEGIN FOO KEY-----\nAAAA\n-----END FOO KEY-----')).toThrow(/Unsupported key format "FOO KEY"/);
  });

  it('base32 padding: a long run of "=" before a last character', async () => {
    const n = 10_000;
    const ratio = await slowdownRatio((s) => quietly(() => base32Decode(s))(), 'A'.repeat(n), `${'='.repeat(n - 1)}A`);
    expect(ratio).toBeLessThan(MAX_RATIO);
    expect(trimTrailing('AB==', '=')).toBe('AB');
  });

  it('email shape used by the sign-in audit', async () => {
    const n = 40_000;
    expect(await slowdownRatio((s) => looksLikeEmail(s), `a@${'b'.repeat(n - 4)}.c`, `a@${'.'.repeat(n - 3)}@`)).toBeLessThan(MAX_RATIO);
    expect(['a@b.c', 'first.last@example.org', 'a@b..'].map(looksLikeEmail)).toEqual([true, true, true]);
    expect(['a@b', 'a@.b', 'a@b.', '@b.c', 'a b@c.d', 'a@b@c.d', 'ab.c'].map(looksLikeEmail)).toEqual(Array(7).fill(false));
  });

  it('"Did you mean" suggestions are removed in one pass', async () => {
    const n = 40_000;
    expect(await slowdownRatio((s) => stripDidYouMean(s), 'x'.repeat(n), `${' '.repeat(n - 1)}x`)).toBeLessThan(MAX_RATIO);
    expect(stripDidYouMean('Cannot query field "nme" on type "User". Did you mean "name"?')).toBe('Cannot query field "nme" on type "User".');
    expect(stripDidYouMean('A. Did you mean "x"? B. Did you mean "y" or "z"?')).toBe('A. B.');
  });

  it('ticket patterns typed by a manager run in linear time, whatever the pattern', async () => {
    // A plausible pattern for JIRA keys; on a backtracking engine a 32-character near-miss takes a minute.
    const pattern = '([A-Z0-9]+-?)+[0-9]+';
    const n = 2000;
    const ratio = await slowdownRatio((s) => matchesWhole(pattern, s), `ABC-${'1'.repeat(n - 4)}`, `ABC${'1'.repeat(n - 4)}x`);
    expect(ratio).toBeLessThan(MAX_RATIO);
    expect(matchesWhole(pattern, 'OPS-123')).toBe(true);
    expect(matchesWhole('INC-[0-9]+', 'INC-12')).toBe(true);
    expect(matchesWhole('INC-[0-9]+', 'xINC-12')).toBe(false); // the whole ticket, not a part
    expect(matchesWhole('INC-[0-9]+', 'INC-12x')).toBe(false);
    expect(matchesWhole('a|b', 'ab')).toBe(false);
  });

  it('refuses patterns RE2 cannot run in linear time', () => {
    for (const bad of ['(a)\\1', 'a(?=b)', 'a(?!b)', '(?<=a)b', '(a{1000}){1000}', '[']) {
      expect(() => compileUserPattern(bad), bad).toThrow(UserPatternError);
    }
  });
});
