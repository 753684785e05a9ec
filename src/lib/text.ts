/**
 * Small string checks written as plain scans instead of regular expressions, so that their cost is linear in the
 * input whatever it holds (SECURITY.md, "Regular expressions"). Use these where input reaches a check whose
 * natural regex would backtrack (a quantifier followed by something that can also match what it consumed).
 */

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\u2028', '\u2029', '\ufeff']);

export const isWhitespace = (ch: string): boolean => WHITESPACE.has(ch) || (ch >= '\u2000' && ch <= '\u200a') || ch === '\u1680' || ch === '\u202f' || ch === '\u205f' || ch === '\u3000';

/** `s` without any trailing run of `ch` (what `s.replace(/c+$/, '')` does, without its quadratic worst case). */
export function trimTrailing(s: string, ch: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === ch) end--;
  return s.slice(0, end);
}

/** Whether `s` contains any whitespace character. */
export function hasWhitespace(s: string): boolean {
  for (const ch of s) if (isWhitespace(ch)) return true;
  return false;
}

/**
 * Something shaped like an email address: `local@domain.tld` without whitespace, exactly one `@`, and a dot inside
 * the domain with characters on both sides. Deliberately loose (it decides what is worth recording, not what is valid).
 */
export function looksLikeEmail(s: string): boolean {
  if (hasWhitespace(s)) return false;
  const at = s.indexOf('@');
  if (at <= 0 || s.indexOf('@', at + 1) >= 0) return false;
  const domain = s.slice(at + 1);
  const dot = domain.indexOf('.', 1);
  return dot > 0 && dot < domain.length - 1;
}

/**
 * Removes every `Did you mean …?` sentence (and the whitespace before it) from an error message: the scan behind
 * hiding schema suggestions when introspection is off.
 */
export function stripDidYouMean(message: string): string {
  const MARK = 'Did you mean ';
  const parts: string[] = [];
  let from = 0;
  for (;;) {
    const at = message.indexOf(MARK, from);
    if (at < 0) break;
    const end = message.indexOf('?', at + MARK.length);
    if (end < 0) break;
    parts.push(trimEndWhitespace(message.slice(from, at)));
    from = end + 1;
  }
  parts.push(message.slice(from));
  return parts.join('');
}

function trimEndWhitespace(s: string): string {
  let end = s.length;
  while (end > 0 && isWhitespace(s[end - 1])) end--;
  return s.slice(0, end);
}
