import { randomInt } from 'node:crypto';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { createRequire } from 'node:module';

export type PasswordOptions = {
  length?: number;
  symbols?: boolean;
  digits?: boolean;
  uppercase?: boolean;
  lowercase?: boolean;
  /** Leave out look-alikes (I l 1 | O o 0) for passwords that are read aloud or typed from a screen. */
  excludeAmbiguous?: boolean;
};

export type PasswordStrength = {
  score: 0 | 1 | 2 | 3 | 4;
  guessesLog10: number;
  feedback: { warning: string | null; suggestions: string[] };
};

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

// No quotes, backslash, backtick or space: generated passwords end up in shells, URLs and config files.
const CLASSES = {
  lowercase: 'abcdefghijklmnopqrstuvwxyz',
  uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  symbols: '!#$%&()*+,-./:;<=>?@[]^_{|}~',
} as const;
const AMBIGUOUS = new Set('Il1|O0o');

export function generatePassword(options: PasswordOptions = {}): string {
  const { length = 24, symbols = true, digits = true, uppercase = true, lowercase = true, excludeAmbiguous = false } = options;
  if (!Number.isInteger(length) || length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new RangeError(`Password length must be a whole number from ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH}.`);
  }
  const enabled = { lowercase, uppercase, digits, symbols };
  const sets = (Object.keys(CLASSES) as (keyof typeof CLASSES)[])
    .filter((name) => enabled[name])
    .map((name) => [...CLASSES[name]].filter((c) => !excludeAmbiguous || !AMBIGUOUS.has(c)));
  if (sets.length === 0) throw new RangeError('Enable at least one character class.');

  const pool = sets.flat();
  // One character from each class guarantees the mix; the rest come from the whole pool; a shuffle hides which
  // positions were the guaranteed ones. randomInt draws without modulo bias.
  const chars = [...sets.map(pick), ...Array.from({ length: length - sets.length }, () => pick(pool))];
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

function pick(set: readonly string[]): string {
  return set[randomInt(set.length)];
}

let zxcvbn: ZxcvbnFactory | undefined;

/** zxcvbn estimate. Dictionaries load on first use, so processes that never rate a password skip the cost. */
export function passwordStrength(password: string, userInputs: string[] = []): PasswordStrength {
  if (!zxcvbn) {
    // Required here, not imported: the language packs decompress their dictionaries when loaded (a second of
    // CPU that would otherwise sit in every server's start-up).
    const load = createRequire(import.meta.url);
    const common = load('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
    const en = load('@zxcvbn-ts/language-en') as typeof import('@zxcvbn-ts/language-en');
    zxcvbn = new ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
      // The input is user-supplied and matching is synchronous: with the defaults a 256-character symbol-heavy
      // password costs seconds of CPU. These caps keep the worst case near 60 ms; 64 random characters score 4
      // regardless, and l33t substitution counts beyond 10 add nothing for real passwords.
      maxLength: 64,
      l33tMaxSubstitutions: 10,
    });
  }
  const result = zxcvbn.check(password, userInputs);
  return {
    score: result.score,
    guessesLog10: result.guessesLog10,
    feedback: { warning: result.feedback.warning || null, suggestions: [...result.feedback.suggestions] },
  };
}
