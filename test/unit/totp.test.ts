import { describe, expect, it } from 'vitest';
import { OtpSecretError, base32Decode, base32Encode, hotp, parseOtpSecret, totpCode, type OtpAlgorithm } from '../../src/lib/totp.ts';

// RFC 6238 appendix B seeds: ASCII "1234567890" repeated to 20, 32 and 64 bytes.
const seed = (length: number) => Buffer.from('1234567890'.repeat(7).slice(0, length), 'ascii');
const seeds: Record<OtpAlgorithm, string> = {
  SHA1: base32Encode(seed(20)),
  SHA256: base32Encode(seed(32)),
  SHA512: base32Encode(seed(64)),
};

describe('totpCode (RFC 6238 appendix B, 8 digits, 30 s)', () => {
  it.each<[number, OtpAlgorithm, string]>([
    [59, 'SHA1', '94287082'],
    [59, 'SHA256', '46119246'],
    [59, 'SHA512', '90693936'],
    [1111111109, 'SHA1', '07081804'],
    [1111111109, 'SHA256', '68084774'],
    [1111111109, 'SHA512', '25091201'],
    [1111111111, 'SHA1', '14050471'],
    [1111111111, 'SHA256', '67062674'],
    [1111111111, 'SHA512', '99943326'],
    [1234567890, 'SHA1', '89005924'],
    [1234567890, 'SHA256', '91819424'],
    [1234567890, 'SHA512', '93441116'],
    [2000000000, 'SHA1', '69279037'],
    [2000000000, 'SHA256', '90698825'],
    [2000000000, 'SHA512', '38618901'],
    [20000000000, 'SHA1', '65353130'],
    [20000000000, 'SHA256', '77737706'],
    [20000000000, 'SHA512', '47863826'],
  ])('T=%i %s → %s', (t, algorithm, expected) => {
    const secret = { secretBase32: seeds[algorithm], digits: 8, period: 30, algorithm };
    expect(totpCode(secret, new Date(t * 1000)).code).toBe(expected);
  });

  it('defaults a bare secret to SHA-1, 6 digits, 30 s (the low digits of the 8-digit vector)', () => {
    expect(seeds.SHA1).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(totpCode(seeds.SHA1, new Date(59_000))).toEqual({ code: '287082', secondsRemaining: 1 });
    expect(totpCode(seeds.SHA1, new Date(1111111109_000)).code).toBe('081804');
  });

  it.each([
    [0, 30],
    [29_999, 1],
    [30_000, 30],
    [59_500, 1],
    [1111111111_000, 29],
  ])('at %i ms, %i seconds remain', (ms, remaining) => {
    expect(totpCode(seeds.SHA1, new Date(ms)).secondsRemaining).toBe(remaining);
  });

  it('changes code at the period boundary only', () => {
    const at = (s: number) => totpCode(seeds.SHA1, new Date(s * 1000)).code;
    expect(at(60)).toBe(at(89));
    expect(at(89)).not.toBe(at(90));
  });

  it('rejects invalid times', () => {
    expect(() => totpCode(seeds.SHA1, new Date(Number.NaN))).toThrow(RangeError);
    expect(() => totpCode(seeds.SHA1, new Date(-1000))).toThrow(RangeError);
  });
});

describe('hotp (RFC 4226 appendix D)', () => {
  it.each([
    [0, '755224'], [1, '287082'], [2, '359152'], [3, '969429'], [4, '338314'],
    [5, '254676'], [6, '287922'], [7, '162583'], [8, '399871'], [9, '520489'],
  ])('counter %i → %s', (counter, expected) => {
    expect(hotp(seed(20), BigInt(counter), 6, 'SHA1')).toBe(expected);
  });
});

describe('base32 (RFC 4648 §10)', () => {
  it.each([
    ['', ''], ['f', 'MY======'], ['fo', 'MZXQ===='], ['foo', 'MZXW6==='],
    ['foob', 'MZXW6YQ='], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI======'],
  ])('%j ⇄ %s', (plain, encoded) => {
    expect(base32Decode(encoded).toString('ascii')).toBe(plain);
    expect(base32Decode(encoded.replace(/=+$/, '').toLowerCase()).toString('ascii')).toBe(plain);
    expect(base32Encode(Buffer.from(plain, 'ascii'))).toBe(encoded.replace(/=+$/, ''));
  });

  it.each([
    ['a letter outside the alphabet', 'MZXW6YT1'],
    ['punctuation', 'MZXW-6YTB'],
    ['an impossible length', 'MZXW6Y'],
    ['a single character', 'M'],
    ['wrong padding count', 'MZXW6YQ=='],
    ['padding in the middle', 'MZ=W6YTB'],
    ['padding that does not fill a block', 'MZXQ==='],
  ])('rejects %s', (_name, input) => {
    expect(() => base32Decode(input)).toThrow(OtpSecretError);
  });
});

describe('parseOtpSecret', () => {
  const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

  it.each([
    ['a bare secret', secret],
    ['lower case with spaces, as apps display it', 'jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp'],
    ['surrounding whitespace', `\n  ${secret} \t`],
  ])('accepts %s with the defaults', (_name, input) => {
    expect(parseOtpSecret(input)).toEqual({ secretBase32: secret, digits: 6, period: 30, algorithm: 'SHA1' });
  });

  it('strips padding from the normalized secret', () => {
    expect(parseOtpSecret('JBSWY3DPEHPK3PXPJA======').secretBase32).toBe('JBSWY3DPEHPK3PXPJA');
  });

  it.each([
    [`otpauth://totp/ACME%20Co:john@example.com?secret=${secret}&issuer=ACME%20Co`, { digits: 6, period: 30, algorithm: 'SHA1' }],
    [`otpauth://totp/x?secret=${secret.toLowerCase()}&digits=8&period=60&algorithm=SHA256`, { digits: 8, period: 60, algorithm: 'SHA256' }],
    [`OTPAUTH://TOTP/x?algorithm=sha512&secret=${secret}&digits=7`, { digits: 7, period: 30, algorithm: 'SHA512' }],
  ])('reads parameters from %s', (uri, expected) => {
    expect(parseOtpSecret(uri)).toEqual({ secretBase32: secret, ...expected });
  });

  it('computes codes with the URI parameters', () => {
    const uri = `otpauth://totp/x?secret=${seeds.SHA256}&digits=8&algorithm=SHA256`;
    expect(totpCode(uri, new Date(1234567890_000)).code).toBe('91819424');
  });

  it.each([
    ['an empty string', ''],
    ['a too-short secret (40 bits)', 'JBSWY3DP'],
    ['invalid characters', 'JBSWY3DPEHPK3PX0'],
    ['an HOTP URI', `otpauth://hotp/x?secret=${secret}&counter=1`],
    ['a URI without a secret', 'otpauth://totp/x?digits=6'],
    ['5 digits', `otpauth://totp/x?secret=${secret}&digits=5`],
    ['9 digits', `otpauth://totp/x?secret=${secret}&digits=9`],
    ['a zero period', `otpauth://totp/x?secret=${secret}&period=0`],
    ['a fractional period', `otpauth://totp/x?secret=${secret}&period=2.5`],
    ['MD5', `otpauth://totp/x?secret=${secret}&algorithm=MD5`],
  ])('rejects %s without echoing the secret', (_name, input) => {
    let error: unknown;
    try {
      parseOtpSecret(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OtpSecretError);
    expect((error as Error).message.toUpperCase()).not.toContain('JBSWY3DP');
  });
});
