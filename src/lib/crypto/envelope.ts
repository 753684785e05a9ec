import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Envelope encryption: a per-organization data key (wrapped by the master key) seals each secret field with
 * AES-256-GCM. The associated data names where a ciphertext belongs, so a row copied to another organization,
 * credential, field or version fails authentication instead of decrypting.
 */

export type FieldContext = {
  organizationId: string;
  credentialId: string;
  field: string;
  version: number;
  keyVersion: number;
};

export type WrapContext = { organizationId: string; keyVersion: number; masterKeyId: string };

export type MasterKey = { key: Buffer; id: string };

/** Any failed open: tampering, wrong key, wrong context or a malformed envelope. Deliberately carries no detail. */
export class DecryptionError extends Error {
  override name = 'DecryptionError';
  constructor() {
    super('Decryption failed: the data is corrupt, was sealed with another key, or belongs to another context.');
  }
}

export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const FIELD_FORMAT = 'v1';
const WRAP_FORMAT = 'k1';
const B64URL = /^[A-Za-z0-9_-]*$/;
const MASTER_KEY_ID = /^[0-9a-f]{16}$/;

export function generateDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

export function encryptField(dataKey: Buffer, plaintext: string, aad: FieldContext): string {
  const { nonce, sealed } = seal(dataKey, Buffer.from(plaintext, 'utf8'), fieldAad(aad));
  return [FIELD_FORMAT, aad.keyVersion, nonce, sealed].join('.');
}

export function decryptField(dataKey: Buffer, sealed: string, aad: FieldContext): string {
  const parts = parseFieldEnvelope(sealed);
  if (parts.keyVersion !== aad.keyVersion) throw new DecryptionError();
  return open(dataKey, parts.nonce, parts.sealed, fieldAad(aad)).toString('utf8');
}

/** Which data-key version sealed a field, so the caller can fetch that key (and find rows left to re-encrypt). */
export function sealedKeyVersion(sealed: string): number {
  return parseFieldEnvelope(sealed).keyVersion;
}

export function wrapKey(masterKey: Buffer, dataKey: Buffer, context: WrapContext): string {
  assertKey(dataKey, 'Data key');
  const { nonce, sealed } = seal(masterKey, dataKey, wrapAad(context));
  return [WRAP_FORMAT, context.masterKeyId, context.keyVersion, nonce, sealed].join('.');
}

export function unwrapKey(masterKey: Buffer, wrapped: string, context: WrapContext): Buffer {
  const parts = parseWrapEnvelope(wrapped);
  if (parts.masterKeyId !== context.masterKeyId || parts.keyVersion !== context.keyVersion) throw new DecryptionError();
  const key = open(masterKey, parts.nonce, parts.sealed, wrapAad(context));
  if (key.length !== KEY_BYTES) throw new DecryptionError();
  return key;
}

/**
 * Seals a small installation-wide secret (a user's TOTP seed) directly under the master key. `label` names the row
 * it belongs to (bound as associated data), so a ciphertext copied to another row fails to open.
 */
export function sealUnderMaster(master: MasterKey, plaintext: string, label: string): string {
  const { nonce, sealed } = seal(master.key, Buffer.from(plaintext, 'utf8'), Buffer.from(`vaultgate:m1:${master.id}:${label}`, 'utf8'));
  return ['m1', master.id, nonce, sealed].join('.');
}

export function openUnderMaster(master: MasterKey, sealedText: string, label: string): string {
  const parts = sealedText.split('.');
  if (parts.length !== 4 || parts[0] !== 'm1' || parts[1] !== master.id || !B64URL.test(parts[2]) || !B64URL.test(parts[3])) throw new DecryptionError();
  const aad = Buffer.from(`vaultgate:m1:${master.id}:${label}`, 'utf8');
  return open(master.key, Buffer.from(parts[2], 'base64url'), Buffer.from(parts[3], 'base64url'), aad).toString('utf8');
}

/** The master key that wrapped a data key, for rotation: rewrap everything not yet under the current id. */
export function wrappedKeyInfo(wrapped: string): { masterKeyId: string; keyVersion: number } {
  const { masterKeyId, keyVersion } = parseWrapEnvelope(wrapped);
  return { masterKeyId, keyVersion };
}

export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * The master key comes from the environment (base64 or hex of 32 bytes) or from a key file holding the same
 * text. Messages name the source, never the value.
 */
export function loadMasterKey(options: { envValue?: string; keyFilePath?: string; create: boolean }): MasterKey {
  const envValue = options.envValue?.trim();
  if (envValue) {
    const key = decodeKeyText(envValue);
    if (!key) throw new MasterKeyError('The master key from the environment must be exactly 32 bytes, encoded as base64 (44 characters) or hex (64 characters).');
    return { key, id: masterKeyId(key) };
  }
  if (!options.keyFilePath) throw new MasterKeyError('No master key configured: provide it in the environment or point to a key file.');
  const key = readKeyFile(options.keyFilePath) ?? (options.create ? createKeyFile(options.keyFilePath) : null);
  if (!key) throw new MasterKeyError(`Master key file ${options.keyFilePath} does not exist.`);
  return { key, id: masterKeyId(key) };
}

// --- internals ---

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): { nonce: string; sealed: string } {
  assertKey(key, 'Encryption key');
  // 96-bit random nonces keep collision odds negligible well beyond the number of writes one data key sees.
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce: nonce.toString('base64url'), sealed: body.toString('base64url') };
}

function open(key: Buffer, nonce: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (key.length !== KEY_BYTES) throw new DecryptionError();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DecryptionError();
  }
}

function assertKey(key: Buffer, what: string): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new RangeError(`${what} must be ${KEY_BYTES} bytes.`);
}

/** A JSON array in fixed order is canonical: one encoding per context, and no separator ambiguity. */
function fieldAad(c: FieldContext): Buffer {
  for (const s of [c.organizationId, c.credentialId, c.field]) requireText(s);
  for (const n of [c.version, c.keyVersion]) requireCounter(n);
  return Buffer.from(JSON.stringify(['vaultgate/field/v1', c.organizationId, c.credentialId, c.field, c.version, c.keyVersion]), 'utf8');
}

function wrapAad(c: WrapContext): Buffer {
  requireText(c.organizationId);
  requireCounter(c.keyVersion);
  if (!MASTER_KEY_ID.test(c.masterKeyId)) throw new TypeError('masterKeyId must be 16 lowercase hex characters.');
  return Buffer.from(JSON.stringify(['vaultgate/data-key/v1', c.organizationId, c.keyVersion, c.masterKeyId]), 'utf8');
}

function requireText(value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError('Encryption context ids must be non-empty strings.');
}

function requireCounter(value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new TypeError('Encryption context versions must be non-negative integers.');
}

function parseFieldEnvelope(sealed: string): { keyVersion: number; nonce: Buffer; sealed: Buffer } {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  if (parts.length !== 4 || parts[0] !== FIELD_FORMAT) throw new DecryptionError();
  return { keyVersion: parseCounter(parts[1]), ...parseBody(parts[2], parts[3]) };
}

function parseWrapEnvelope(wrapped: string): { masterKeyId: string; keyVersion: number; nonce: Buffer; sealed: Buffer } {
  const parts = typeof wrapped === 'string' ? wrapped.split('.') : [];
  if (parts.length !== 5 || parts[0] !== WRAP_FORMAT || !MASTER_KEY_ID.test(parts[1])) throw new DecryptionError();
  return { masterKeyId: parts[1], keyVersion: parseCounter(parts[2]), ...parseBody(parts[3], parts[4]) };
}

function parseCounter(text: string): number {
  if (!/^(0|[1-9][0-9]{0,14})$/.test(text)) throw new DecryptionError();
  return Number(text);
}

function parseBody(nonceText: string, sealedText: string): { nonce: Buffer; sealed: Buffer } {
  if (!B64URL.test(nonceText) || !B64URL.test(sealedText)) throw new DecryptionError();
  const nonce = Buffer.from(nonceText, 'base64url');
  const sealed = Buffer.from(sealedText, 'base64url');
  // Re-encoding rejects non-canonical base64url, so one envelope has exactly one spelling.
  if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES || sealed.toString('base64url') !== sealedText || nonce.toString('base64url') !== nonceText) {
    throw new DecryptionError();
  }
  return { nonce, sealed };
}

function decodeKeyText(text: string): Buffer | null {
  let key: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/]{43}=?$/.test(text)) key = Buffer.from(text, 'base64');
  else if (/^[A-Za-z0-9_-]{43}=?$/.test(text)) key = Buffer.from(text, 'base64url');
  return key && key.length === KEY_BYTES ? key : null;
}

function readKeyFile(path: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new MasterKeyError(`Master key file ${path} cannot be opened (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  try {
    // Checked on the open descriptor, so the file judged is the file read.
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new MasterKeyError(`Master key file ${path} is not a regular file.`);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new MasterKeyError(`Master key file ${path} is accessible by group or others (mode ${mode}); restrict it with: chmod 600 ${path}`);
    }
    const key = decodeKeyText(readFileSync(fd, 'utf8').trim());
    if (!key) throw new MasterKeyError(`Master key file ${path} must hold exactly 32 bytes, encoded as base64 or hex.`);
    return key;
  } finally {
    closeSync(fd);
  }
}

function createKeyFile(path: string): Buffer {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  try {
    // 'create' links rather than renames: it fails if another process created the file first, and overwriting
    // that key would orphan whatever it has already encrypted. The loser of the race uses the winner's key.
    writeKeyFile(path, key, 'create');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const existing = readKeyFile(path);
    if (!existing) throw new MasterKeyError(`Master key file ${path} could not be created.`);
    return existing;
  }
  return key;
}

/**
 * Writes a key file (base64, mode 0600) through a fsynced temporary file: `replace` renames it over the target
 * atomically, `create` links it into place and fails with EEXIST rather than overwrite anything.
 */
export function writeKeyFile(path: string, key: Buffer, mode: 'replace' | 'create'): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${key.toString('base64')}\n`);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  try {
    if (mode === 'replace') renameSync(temp, path);
    else linkSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
  if (process.platform !== 'win32') {
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}

