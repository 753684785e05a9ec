import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DecryptionError,
  MasterKeyError,
  decryptField,
  encryptField,
  generateDataKey,
  loadMasterKey,
  masterKeyId,
  sealedKeyVersion,
  unwrapKey,
  wrapKey,
  wrappedKeyInfo,
  type FieldContext,
} from '../../src/lib/crypto/envelope.ts';

const ctx: FieldContext = { organizationId: 'org_1', credentialId: 'cred_1', field: 'password', version: 3, keyVersion: 2 };
const key = generateDataKey();
const plaintext = 'correct horse battery staple ✓';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function flipBit(sealed: string, part: number, byte: number): string {
  const parts = sealed.split('.');
  const raw = Buffer.from(parts[part], 'base64url');
  raw[byte] ^= 0x01;
  parts[part] = raw.toString('base64url');
  return parts.join('.');
}

describe('encryptField / decryptField', () => {
  it('round-trips text, including empty and non-ASCII', () => {
    for (const text of [plaintext, '', 'x'.repeat(10_000)]) {
      expect(decryptField(key, encryptField(key, text, ctx), ctx)).toBe(text);
    }
  });

  it('produces a self-describing envelope recording the key version', () => {
    const sealed = encryptField(key, plaintext, ctx);
    expect(sealed).toMatch(/^v1\.2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealedKeyVersion(sealed)).toBe(2);
    expect(sealed).not.toContain(Buffer.from(plaintext).toString('base64url'));
  });

  it('is AES-256-GCM with the context as associated data (independent re-encryption)', () => {
    const sealed = encryptField(key, 'abc', ctx);
    const [, , nonceText, body] = sealed.split('.');
    const cipher = createCipheriv('aes-256-gcm', key, Buffer.from(nonceText, 'base64url'));
    cipher.setAAD(Buffer.from(JSON.stringify(['vaultgate/field/v1', 'org_1', 'cred_1', 'password', 3, 2])));
    const expected = Buffer.concat([cipher.update('abc'), cipher.final(), cipher.getAuthTag()]).toString('base64url');
    expect(body).toBe(expected);
  });

  it('uses a fresh nonce each time', () => {
    const a = encryptField(key, plaintext, ctx);
    const b = encryptField(key, plaintext, ctx);
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it.each<[string, Partial<FieldContext>]>([
    ['another organization', { organizationId: 'org_2' }],
    ['another credential', { credentialId: 'cred_2' }],
    ['another field', { field: 'totpSecret' }],
    ['another version', { version: 4 }],
    ['another key version', { keyVersion: 3 }],
    ['ids shifted across fields', { organizationId: 'org_1c', credentialId: 'red_1' }],
  ])('refuses a ciphertext moved to %s', (_name, change) => {
    const sealed = encryptField(key, plaintext, ctx);
    expect(() => decryptField(key, sealed, { ...ctx, ...change })).toThrow(DecryptionError);
  });

  it.each([
    ['a flipped ciphertext bit', (s: string) => flipBit(s, 3, 0)],
    ['a flipped tag bit', (s: string) => flipBit(s, 3, Buffer.from(s.split('.')[3], 'base64url').length - 1)],
    ['a flipped nonce bit', (s: string) => flipBit(s, 2, 5)],
    ['a truncated body', (s: string) => s.slice(0, -4)],
    ['an unknown format', (s: string) => s.replace(/^v1\./, 'v2.')],
    ['a missing part', (s: string) => s.split('.').slice(0, 3).join('.')],
    ['garbage', () => 'not an envelope'],
  ])('refuses %s', (_name, tamper) => {
    expect(() => decryptField(key, tamper(encryptField(key, plaintext, ctx)), ctx)).toThrow(DecryptionError);
  });

  it('refuses an envelope whose recorded key version was edited, even under the matching context', () => {
    const edited = encryptField(key, plaintext, ctx).replace(/^v1\.2\./, 'v1.9.');
    expect(sealedKeyVersion(edited)).toBe(9);
    expect(() => decryptField(key, edited, { ...ctx, keyVersion: 9 })).toThrow(DecryptionError);
  });

  it('refuses the wrong key without leaking key or plaintext in the message', () => {
    const sealed = encryptField(key, plaintext, ctx);
    const error = thrown(() => decryptField(generateDataKey(), sealed, ctx)) as Error;
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error.message).not.toContain(plaintext);
    expect(error.message).not.toContain(key.toString('base64'));
    expect(error.message).not.toContain(key.toString('hex'));
  });

  it('rejects keys of the wrong length and invalid contexts', () => {
    expect(() => encryptField(randomBytes(16), plaintext, ctx)).toThrow(RangeError);
    expect(() => encryptField(key, plaintext, { ...ctx, organizationId: '' })).toThrow(TypeError);
    expect(() => encryptField(key, plaintext, { ...ctx, version: -1 })).toThrow(TypeError);
    expect(() => sealedKeyVersion('v1.x.aa.bb')).toThrow(DecryptionError);
  });
});

describe('wrapKey / unwrapKey', () => {
  const master = randomBytes(32);
  const wrapCtx = { organizationId: 'org_1', keyVersion: 1, masterKeyId: masterKeyId(master) };

  it('round-trips a data key and records the master key id', () => {
    const wrapped = wrapKey(master, key, wrapCtx);
    expect(unwrapKey(master, wrapped, wrapCtx).equals(key)).toBe(true);
    expect(wrappedKeyInfo(wrapped)).toEqual({ masterKeyId: wrapCtx.masterKeyId, keyVersion: 1 });
    expect(wrapped).not.toBe(wrapKey(master, key, wrapCtx));
  });

  it.each<[string, Partial<typeof wrapCtx>]>([
    ['another organization', { organizationId: 'org_2' }],
    ['another key version', { keyVersion: 2 }],
    ['another master key id', { masterKeyId: '0123456789abcdef' }],
  ])('refuses a wrapped key moved to %s', (_name, change) => {
    const wrapped = wrapKey(master, key, wrapCtx);
    expect(() => unwrapKey(master, wrapped, { ...wrapCtx, ...change })).toThrow(DecryptionError);
  });

  it('refuses the wrong master key and tampering', () => {
    const wrapped = wrapKey(master, key, wrapCtx);
    expect(() => unwrapKey(randomBytes(32), wrapped, wrapCtx)).toThrow(DecryptionError);
    expect(() => unwrapKey(master, flipBit(wrapped, 4, 3), wrapCtx)).toThrow(DecryptionError);
  });
});

describe('loadMasterKey', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vaultgate-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const raw = randomBytes(32);
  const expectedId = createHash('sha256').update(raw).digest('hex').slice(0, 16);

  it.each([
    ['base64', raw.toString('base64')],
    ['base64url', raw.toString('base64url')],
    ['hex', raw.toString('hex')],
    ['HEX with whitespace', `  ${raw.toString('hex').toUpperCase()}\n`],
  ])('accepts a 32-byte key in the environment as %s', (_name, envValue) => {
    const loaded = loadMasterKey({ envValue, create: false });
    expect(loaded.key.equals(raw)).toBe(true);
    expect(loaded.id).toBe(expectedId);
  });

  it.each([
    ['16 bytes base64', randomBytes(16).toString('base64')],
    ['33 bytes base64', randomBytes(33).toString('base64')],
    ['31 bytes hex', randomBytes(31).toString('hex')],
    ['not an encoding', 'hunter2-hunter2-hunter2-hunter2-hunter2-hunter2'],
  ])('rejects %s without echoing the value', (_name, envValue) => {
    const error = thrown(() => loadMasterKey({ envValue, create: false })) as Error;
    expect(error).toBeInstanceOf(MasterKeyError);
    expect(error.message).toContain('32 bytes');
    expect(error.message).not.toContain(envValue);
  });

  it('prefers the environment over the key file', () => {
    const loaded = loadMasterKey({ envValue: raw.toString('hex'), keyFilePath: join(dir, 'never-created'), create: true });
    expect(loaded.key.equals(raw)).toBe(true);
    expect(() => statSync(join(dir, 'never-created'))).toThrow();
  });

  it('creates a missing key file with mode 0600, then reads the same key back', () => {
    const path = join(dir, 'nested', 'master.key');
    const created = loadMasterKey({ keyFilePath: path, create: true });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64').equals(created.key)).toBe(true);
    const again = loadMasterKey({ keyFilePath: path, create: true });
    expect(again.key.equals(created.key)).toBe(true);
    expect(again.id).toBe(masterKeyId(created.key));
  });

  it('does not create a file unless asked, and needs some source', () => {
    expect(() => loadMasterKey({ keyFilePath: join(dir, 'missing.key'), create: false })).toThrow(/does not exist/);
    expect(() => loadMasterKey({ create: true })).toThrow(MasterKeyError);
  });

  it.each(['644', '640', '604', '620', '666'])('refuses a key file with mode %s', (octal) => {
    const mode = parseInt(octal, 8);
    const path = join(dir, `insecure-${octal}.key`);
    writeFileSync(path, raw.toString('base64'));
    chmodSync(path, mode);
    const error = thrown(() => loadMasterKey({ keyFilePath: path, create: true })) as Error;
    expect(error).toBeInstanceOf(MasterKeyError);
    expect(error.message).toMatch(/group or others.*chmod 600/);
    expect(error.message).not.toContain(raw.toString('base64'));
  });

  it('refuses a key file with the wrong contents', () => {
    const path = join(dir, 'short.key');
    writeFileSync(path, randomBytes(16).toString('base64'), { mode: 0o600 });
    expect(() => loadMasterKey({ keyFilePath: path, create: false })).toThrow(/exactly 32 bytes/);
  });
});
