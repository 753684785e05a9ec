import { createHash, createPrivateKey, createPublicKey, type JsonWebKey } from 'node:crypto';
import { hasWhitespace, isWhitespace, trimTrailing } from './text.ts';

/**
 * Identifies an SSH private key by its public half: key type, bit size and the OpenSSH SHA-256 fingerprint.
 * Encrypted OpenSSH keys need no passphrase, since that format stores the public key in clear. Errors describe
 * the problem, never the key.
 */

export type SshKeyInfo = {
  keyType: string;
  bits: number;
  fingerprint: string;
  /** authorized_keys form: `<type> <base64 blob>`. */
  publicKey: string;
  encrypted: boolean;
  format: 'openssh' | 'pem';
};

export class SshKeyError extends Error {
  override name = 'SshKeyError';
}

const MAX_INPUT = 64 * 1024;
const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
const PEM_TYPES: Record<string, 'pkcs1' | 'sec1' | 'pkcs8'> = { 'RSA PRIVATE KEY': 'pkcs1', 'EC PRIVATE KEY': 'sec1', 'PRIVATE KEY': 'pkcs8' };
const CURVES: Record<string, { name: string; bits: number; coordinate: number }> = {
  'P-256': { name: 'nistp256', bits: 256, coordinate: 32 },
  'P-384': { name: 'nistp384', bits: 384, coordinate: 48 },
  'P-521': { name: 'nistp521', bits: 521, coordinate: 66 },
};

export function parseSshPrivateKey(input: string): SshKeyInfo {
  if (typeof input !== 'string' || input.trim() === '') throw new SshKeyError('The SSH key is empty.');
  if (input.length > MAX_INPUT) throw new SshKeyError('The SSH key is too large.');
  const text = input.trim();
  if (looksLikePublicKey(text)) throw new SshKeyError('This is a public key; a private key is expected.');
  const armor = unarmor(text);
  if (!armor) throw new SshKeyError('The SSH key must be a single PEM-armored private key (-----BEGIN ... PRIVATE KEY-----).');
  if (armor.body.includes('-----')) throw new SshKeyError('Paste exactly one private key.');
  const label = armor.label;
  if (label === 'OPENSSH PRIVATE KEY') return parseOpenSsh(decodeBase64Body(armor.body));
  const pemType = PEM_TYPES[label];
  if (pemType) {
    if (hasEncryptedPemHeader(armor.body)) throw new SshKeyError('Encrypted PEM keys are not supported; store the key in OpenSSH format instead (ssh-keygen -p -f <file>).');
    return parsePem(decodeBase64Body(armor.body), pemType);
  }
  if (label === 'ENCRYPTED PRIVATE KEY') throw new SshKeyError('Encrypted PKCS#8 keys are not supported; store the key in OpenSSH format instead (ssh-keygen -p -f <file>).');
  throw new SshKeyError(`Unsupported key format "${label}"; expected OPENSSH, RSA, EC or PKCS#8 PRIVATE KEY.`);
}

// The key is parsed with plain string scans, never with a regex over the whole text: a member pastes it, and a
// backtracking pattern there (`\s+([\s\S]*?)\s+-----END`) took minutes on a crafted 64 KiB key (issue 12).

const PUBLIC_PREFIXES = ['ssh-', 'ecdsa-', 'sk-'];
const PUBLIC_ARMOR = ['-----BEGIN PUBLIC KEY-----', '-----BEGIN SSH2 PUBLIC KEY-----', '-----BEGIN RSA PUBLIC KEY-----', '-----BEGIN EC PUBLIC KEY-----'];
const BASE64_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';

/** An authorized_keys line (`ssh-ed25519 AAAA…`) or a PEM/RFC 4716 public key. */
function looksLikePublicKey(text: string): boolean {
  if (PUBLIC_ARMOR.some((header) => text.includes(header))) return true;
  if (!PUBLIC_PREFIXES.some((prefix) => text.startsWith(prefix))) return false;
  const space = text.indexOf(' ');
  if (space < 0 || hasWhitespace(text.slice(0, space))) return false;
  return space + 1 < text.length && BASE64_CHARS.includes(text[space + 1]);
}

/**
 * `-----BEGIN <label>-----`, whitespace, body, whitespace, `-----END <label>-----`, and nothing around it.
 * Whitespace, not newlines, separates the parts: keys pasted through web forms often arrive on one line.
 */
function unarmor(text: string): { label: string; body: string } | null {
  const BEGIN = '-----BEGIN ';
  if (!text.startsWith(BEGIN)) return null;
  const labelEnd = text.indexOf('-----', BEGIN.length);
  if (labelEnd <= BEGIN.length || labelEnd - BEGIN.length > 64) return null;
  const label = text.slice(BEGIN.length, labelEnd);
  for (const ch of label) if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch === ' ')) return null;
  const footer = `-----END ${label}-----`;
  const bodyStart = labelEnd + 5;
  const bodyEnd = text.length - footer.length;
  if (bodyEnd - bodyStart < 2 || !text.endsWith(footer)) return null;
  const between = text.slice(bodyStart, bodyEnd);
  if (!isWhitespace(between[0]) || !isWhitespace(between[between.length - 1])) return null;
  return { label, body: between.trim() };
}

/** An RFC 1421 `Proc-Type: 4,ENCRYPTED` header line inside a traditional PEM body. */
function hasEncryptedPemHeader(body: string): boolean {
  return body.split('\n').some((line) => line.startsWith('Proc-Type:') && line.slice('Proc-Type:'.length).trimStart().startsWith('4,ENCRYPTED'));
}

/** OpenSSH's fingerprint of a public key blob: SHA-256, base64 without padding. */
export function sshFingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${trimTrailing(createHash('sha256').update(publicKeyBlob).digest('base64'), '=')}`;
}

function decodeBase64Body(body: string): Buffer {
  const compact = body.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) throw new SshKeyError('The SSH key body is not valid base64.');
  return Buffer.from(compact, 'base64');
}

// Layout (OpenSSH PROTOCOL.key): magic, cipher, kdf, kdf options, key count, public key blobs, private section.
function parseOpenSsh(data: Buffer): SshKeyInfo {
  if (data.length < MAGIC.length || !data.subarray(0, MAGIC.length).equals(MAGIC)) throw new SshKeyError('The OpenSSH key has an unknown header.');
  const reader = new Reader(data, MAGIC.length, 'The OpenSSH key is truncated or corrupt.');
  const cipher = reader.text();
  const kdf = reader.text();
  reader.bytes();
  if (reader.uint32() !== 1) throw new SshKeyError('The OpenSSH key file must hold exactly one key.');
  const blob = reader.bytes();
  const privateSection = reader.bytes();
  reader.end();
  const encrypted = cipher !== 'none';
  if (!encrypted) {
    if (kdf !== 'none') throw new SshKeyError('The OpenSSH key is corrupt: an unencrypted key names a KDF.');
    const inner = new Reader(privateSection, 0, 'The OpenSSH key is truncated or corrupt.');
    // Matching check integers are how OpenSSH itself notices a damaged private section.
    if (inner.uint32() !== inner.uint32()) throw new SshKeyError('The OpenSSH key is corrupt: its integrity check failed.');
  } else if (kdf !== 'bcrypt') {
    throw new SshKeyError('The encrypted OpenSSH key uses an unknown key derivation.');
  }
  return { ...describeBlob(blob), encrypted, format: 'openssh' };
}

function describeBlob(blob: Buffer): Omit<SshKeyInfo, 'encrypted' | 'format'> {
  const reader = new Reader(blob, 0, 'The public key inside the SSH key is corrupt.');
  const keyType = reader.text();
  let bits: number;
  switch (keyType) {
    case 'ssh-ed25519':
    case 'sk-ssh-ed25519@openssh.com':
      if (reader.bytes().length !== 32) throw new SshKeyError('The Ed25519 public key has the wrong length.');
      bits = 256;
      break;
    case 'ssh-rsa': {
      reader.bytes();
      bits = mpintBits(reader.bytes());
      if (bits < 1024) throw new SshKeyError('The RSA key is too small.');
      break;
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
    case 'sk-ecdsa-sha2-nistp256@openssh.com': {
      const curveName = reader.text();
      const curve = Object.values(CURVES).find((c) => c.name === curveName);
      if (!curve || !keyType.includes(curve.name)) throw new SshKeyError('The ECDSA key names a curve that does not match its type.');
      const point = reader.bytes();
      if (point.length !== 1 + 2 * curve.coordinate || point[0] !== 0x04) throw new SshKeyError('The ECDSA public point is malformed.');
      bits = curve.bits;
      break;
    }
    default:
      throw new SshKeyError(/^[\x21-\x7e]{1,64}$/.test(keyType) ? `Unsupported SSH key type "${keyType}".` : 'Unsupported SSH key type.');
  }
  if (keyType.startsWith('sk-')) reader.text();
  reader.end();
  return { keyType, bits, fingerprint: sshFingerprint(blob), publicKey: `${keyType} ${blob.toString('base64')}` };
}

function parsePem(der: Buffer, type: 'pkcs1' | 'sec1' | 'pkcs8'): SshKeyInfo {
  let jwk: JsonWebKey;
  try {
    jwk = createPublicKey(createPrivateKey({ key: der, format: 'der', type })).export({ format: 'jwk' });
  } catch {
    throw new SshKeyError('The PEM private key could not be read.');
  }
  const parts = (...fields: Buffer[]) => Buffer.concat(fields.map(sshString));
  const b64 = (value: string | undefined) => Buffer.from(value ?? '', 'base64url');
  let blob: Buffer;
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
    blob = parts(Buffer.from('ssh-ed25519'), b64(jwk.x));
  } else if (jwk.kty === 'RSA') {
    blob = parts(Buffer.from('ssh-rsa'), mpint(b64(jwk.e)), mpint(b64(jwk.n)));
  } else if (jwk.kty === 'EC' && jwk.crv && CURVES[jwk.crv]) {
    const curve = CURVES[jwk.crv];
    const point = Buffer.concat([Buffer.from([0x04]), leftPad(b64(jwk.x), curve.coordinate), leftPad(b64(jwk.y), curve.coordinate)]);
    blob = parts(Buffer.from(`ecdsa-sha2-${curve.name}`), Buffer.from(curve.name), point);
  } else {
    throw new SshKeyError('The PEM key is of a type SSH does not use here (supported: Ed25519, RSA, ECDSA P-256/384/521).');
  }
  return { ...describeBlob(blob), encrypted: false, format: 'pem' };
}

function sshString(value: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  return Buffer.concat([length, value]);
}

/** SSH mpint: big-endian, minimal, with a zero byte when the high bit would otherwise read as negative. */
function mpint(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start++;
  const trimmed = unsigned.subarray(start);
  return trimmed.length > 0 && trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
}

function mpintBits(value: Buffer): number {
  let start = 0;
  while (start < value.length && value[start] === 0) start++;
  if (start === value.length) return 0;
  return (value.length - start - 1) * 8 + (32 - Math.clz32(value[start]));
}

function leftPad(value: Buffer, length: number): Buffer {
  return value.length >= length ? value : Buffer.concat([Buffer.alloc(length - value.length), value]);
}

class Reader {
  constructor(private readonly data: Buffer, private offset: number, private readonly message: string) {}

  uint32(): number {
    if (this.offset + 4 > this.data.length) throw new SshKeyError(this.message);
    const value = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  bytes(): Buffer {
    const length = this.uint32();
    if (this.offset + length > this.data.length) throw new SshKeyError(this.message);
    const value = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  text(): string {
    return this.bytes().toString('latin1');
  }

  end(): void {
    if (this.offset !== this.data.length) throw new SshKeyError(this.message);
  }
}
