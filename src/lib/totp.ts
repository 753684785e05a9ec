import { createHmac } from 'node:crypto';
import { trimTrailing } from './text.ts';

/** RFC 6238 TOTP over RFC 4226 HOTP. Error messages never repeat the secret. */

export type OtpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

export type OtpSecret = { secretBase32: string; digits: number; period: number; algorithm: OtpAlgorithm };

export class OtpSecretError extends Error {
  override name = 'OtpSecretError';
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALGORITHMS: readonly OtpAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];
// RFC 4226 asks for 128 bits, but many issuers still hand out 80-bit secrets; refusing them would lock users out.
const MIN_SECRET_BYTES = 10;
const MAX_SECRET_BYTES = 128;

/** RFC 4648 base32: case-insensitive, spaces ignored, padding optional but correct when present. */
export function base32Decode(input: string): Buffer {
  const text = input.replace(/\s+/g, '').toUpperCase();
  const data = trimTrailing(text, '=');
  const padding = text.length - data.length;
  if (padding > 0 && (text.length % 8 !== 0 || ![1, 3, 4, 6].includes(padding))) throw new OtpSecretError('The secret has invalid base32 padding.');
  // Lengths 1, 3 and 6 (mod 8) cannot come from whole bytes.
  if ([1, 3, 6].includes(data.length % 8)) throw new OtpSecretError('The secret is not valid base32: its length is impossible.');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of data) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) throw new OtpSecretError('The secret is not valid base32: use only letters A–Z and digits 2–7.');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
    value &= (1 << bits) - 1;
  }
  return Buffer.from(out);
}

export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >>> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  return bits > 0 ? out + ALPHABET[(value << (5 - bits)) & 31] : out;
}

/** A bare base32 secret (SHA-1, 6 digits, 30 s) or an `otpauth://totp/...` URI with its own parameters. */
export function parseOtpSecret(input: string): OtpSecret {
  const text = input.trim();
  if (/^otpauth:/i.test(text)) return parseOtpAuthUri(text);
  return normalize(text, 6, 30, 'SHA1');
}

export function totpCode(secret: string | OtpSecret, now: Date): { code: string; secondsRemaining: number } {
  const otp = typeof secret === 'string' ? parseOtpSecret(secret) : secret;
  const ms = now.getTime();
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError('TOTP needs a valid time after the Unix epoch.');
  const seconds = Math.floor(ms / 1000);
  const code = hotp(base32Decode(otp.secretBase32), BigInt(Math.floor(seconds / otp.period)), otp.digits, otp.algorithm);
  return { code, secondsRemaining: otp.period - (seconds % otp.period) };
}

export function hotp(key: Buffer, counter: bigint, digits: number, algorithm: OtpAlgorithm): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(counter);
  const mac = createHmac(algorithm.toLowerCase(), key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return (binary % 10 ** digits).toString().padStart(digits, '0');
}

function parseOtpAuthUri(text: string): OtpSecret {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OtpSecretError('The otpauth URI is malformed.');
  }
  if (url.host.toLowerCase() !== 'totp') throw new OtpSecretError('Only time-based otpauth URIs (otpauth://totp/...) are supported.');
  const param = (name: string) => url.searchParams.get(name) ?? undefined;
  const secret = param('secret');
  if (!secret) throw new OtpSecretError('The otpauth URI has no secret parameter.');
  const digits = integerParam(param('digits'), 6, 'digits');
  const period = integerParam(param('period'), 30, 'period');
  const algorithm = (param('algorithm') ?? 'SHA1').toUpperCase().replace('-', '');
  if (!ALGORITHMS.includes(algorithm as OtpAlgorithm)) throw new OtpSecretError('The otpauth algorithm must be SHA1, SHA256 or SHA512.');
  return normalize(secret, digits, period, algorithm as OtpAlgorithm);
}

function integerParam(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]{1,4}$/.test(value)) throw new OtpSecretError(`The otpauth ${name} parameter must be a whole number.`);
  return Number(value);
}

function normalize(secret: string, digits: number, period: number, algorithm: OtpAlgorithm): OtpSecret {
  if (digits < 6 || digits > 8) throw new OtpSecretError('TOTP codes must have 6 to 8 digits.');
  if (period < 1 || period > 300) throw new OtpSecretError('The TOTP period must be between 1 and 300 seconds.');
  const bytes = base32Decode(secret);
  if (bytes.length < MIN_SECRET_BYTES) throw new OtpSecretError(`The secret is too short: at least ${MIN_SECRET_BYTES * 8} bits are required.`);
  if (bytes.length > MAX_SECRET_BYTES) throw new OtpSecretError(`The secret is too long: at most ${MAX_SECRET_BYTES} bytes are allowed.`);
  return { secretBase32: base32Encode(bytes), digits, period, algorithm };
}
