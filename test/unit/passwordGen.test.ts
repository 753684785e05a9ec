import { describe, expect, it } from 'vitest';
import { generatePassword, passwordStrength, type PasswordOptions } from '../../src/lib/passwordGen.ts';

const LOWER = /[a-z]/;
const UPPER = /[A-Z]/;
const DIGIT = /[0-9]/;
const SYMBOL = /[^A-Za-z0-9]/;
const SAMPLES = 200;

describe('generatePassword', () => {
  it.each([8, 9, 24, 64, 255, 256])('produces exactly %i characters', (length) => {
    expect(generatePassword({ length })).toHaveLength(length);
  });

  it('defaults to 24 characters with all four classes', () => {
    for (let i = 0; i < SAMPLES; i++) {
      const p = generatePassword();
      expect(p).toHaveLength(24);
      for (const re of [LOWER, UPPER, DIGIT, SYMBOL]) expect(p).toMatch(re);
    }
  });

  it.each<[string, PasswordOptions, RegExp[], RegExp[]]>([
    ['lowercase only', { symbols: false, digits: false, uppercase: false }, [LOWER], [UPPER, DIGIT, SYMBOL]],
    ['digits only', { symbols: false, uppercase: false, lowercase: false }, [DIGIT], [LOWER, UPPER, SYMBOL]],
    ['symbols only', { digits: false, uppercase: false, lowercase: false }, [SYMBOL], [LOWER, UPPER, DIGIT]],
    ['letters without symbols or digits', { symbols: false, digits: false }, [LOWER, UPPER], [DIGIT, SYMBOL]],
    ['all classes at the minimum length', { length: 8 }, [LOWER, UPPER, DIGIT, SYMBOL], []],
  ])('%s: every enabled class present, disabled classes absent', (_name, options, present, absent) => {
    for (let i = 0; i < SAMPLES; i++) {
      const p = generatePassword(options);
      for (const re of present) expect(p).toMatch(re);
      for (const re of absent) expect(p).not.toMatch(re);
    }
  });

  it('uses only shell-friendly symbols', () => {
    const all = Array.from({ length: 50 }, () => generatePassword({ length: 256, digits: false, uppercase: false, lowercase: false })).join('');
    expect(all).toMatch(/^[!#$%&()*+,\-./:;<=>?@[\]^_{|}~]+$/);
  });

  it('leaves out look-alike characters when asked', () => {
    const all = Array.from({ length: 50 }, () => generatePassword({ length: 256, excludeAmbiguous: true })).join('');
    expect(all).not.toMatch(/[Il1|O0o]/);
    expect(Array.from({ length: 50 }, () => generatePassword({ length: 256 })).join('')).toMatch(/[Il1|O0o]/);
  });

  it.each<[string, PasswordOptions]>([
    ['length 7', { length: 7 }],
    ['length 257', { length: 257 }],
    ['length 0', { length: 0 }],
    ['fractional length', { length: 12.5 }],
    ['NaN length', { length: Number.NaN }],
    ['no class enabled', { symbols: false, digits: false, uppercase: false, lowercase: false }],
  ])('rejects %s', (_name, options) => {
    expect(() => generatePassword(options)).toThrow(RangeError);
  });

  it('never repeats across 2,000 passwords (collision odds for 24 chars are ~2^-300)', () => {
    const seen = new Set(Array.from({ length: 2000 }, () => generatePassword()));
    expect(seen.size).toBe(2000);
  });

  it('spreads characters over the whole pool and every position', () => {
    // 20,000 digit-only characters: each digit expected 2,000 times; bounds are > 10 standard deviations wide.
    const counts = new Map<string, number>();
    const firstChars = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const p = generatePassword({ length: 200, symbols: false, uppercase: false, lowercase: false });
      firstChars.add(p[0]);
      for (const c of p) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect([...counts.keys()].sort().join('')).toBe('0123456789');
    for (const n of counts.values()) expect(n).toBeGreaterThan(1500);
    for (const n of counts.values()) expect(n).toBeLessThan(2500);
    expect(firstChars.size).toBeGreaterThan(5);
  });
});

describe('passwordStrength', () => {
  it.each([
    ['password', 0],
    ['123456', 0],
    ['qwerty', 0],
    ['p@ssw0rd', 0],
    ['iloveyou123', 1],
    ['Troubador3', 2],
    ['correct horse battery staple', 4],
  ])('scores %j as %i', (password, score) => {
    expect(passwordStrength(password).score).toBe(score);
  });

  it('explains a weak password', () => {
    const result = passwordStrength('password');
    expect(result.feedback.warning).toEqual(expect.any(String));
    expect(result.feedback.warning!.length).toBeGreaterThan(0);
    expect(result.guessesLog10).toBeLessThan(2);
  });

  it('rates generated 24-character passwords 4 with no warning', () => {
    for (let i = 0; i < 20; i++) {
      const result = passwordStrength(generatePassword());
      expect(result.score).toBe(4);
      expect(result.guessesLog10).toBeGreaterThan(20);
      expect(result.feedback.warning).toBeNull();
    }
  });

  it('penalizes passwords built from user inputs', () => {
    const password = 'acmecorp-vaultadmin';
    const without = passwordStrength(password);
    const withInputs = passwordStrength(password, ['acmecorp', 'vaultadmin']);
    expect(without.score).toBe(4);
    expect(withInputs.guessesLog10).toBeLessThan(without.guessesLog10 - 5);
    expect(withInputs.score).toBeLessThan(without.score);
  });

  it('analyses only the first 64 characters (uncapped, a 256-character input costs seconds of CPU)', () => {
    // Speed itself is a benchmark matter; here we check the cap that bounds it is in force.
    const long = generatePassword({ length: 256 });
    const result = passwordStrength(long);
    expect(result.score).toBe(4);
    expect(result.guessesLog10).toBe(passwordStrength(long.slice(0, 64)).guessesLog10);
  });
});
