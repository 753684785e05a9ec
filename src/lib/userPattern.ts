import { RE2JS } from 're2js';

/**
 * Regular expressions typed by people (an access policy's ticket pattern) run on RE2JS, a linear-time engine:
 * no backtracking, so no pattern and no input can hold the event loop (issue 12: the plausible JIRA pattern
 * `([A-Z0-9]+-?)+[0-9]+` took a minute against a 32-character ticket on the built-in engine). RE2 syntax is the common subset of regular expressions;
 * backreferences and lookaround are refused when the pattern is saved.
 */

export const USER_PATTERN_MAX_LENGTH = 200;

export class UserPatternError extends Error {
  override name = 'UserPatternError';
}

const cache = new Map<string, RE2JS>();
const CACHE_SIZE = 200;

/** Compiles a pattern (cached); throws UserPatternError with a message for people when RE2 refuses it. */
export function compileUserPattern(pattern: string): RE2JS {
  const hit = cache.get(pattern);
  if (hit) return hit;
  if (pattern.length > USER_PATTERN_MAX_LENGTH) throw new UserPatternError(`must be at most ${USER_PATTERN_MAX_LENGTH} characters`);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch {
    throw new UserPatternError('must be a regular expression in RE2 syntax (no backreferences or lookaround, repetition counts up to 1000)');
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(pattern, compiled);
  return compiled;
}

/** Whether the WHOLE input matches the pattern. Linear in the input's length. */
export function matchesWhole(pattern: string, input: string): boolean {
  return compileUserPattern(pattern).matches(input);
}
