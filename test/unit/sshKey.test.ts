import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SshKeyError, parseSshPrivateKey, sshFingerprint } from '../../src/lib/sshKey.ts';

const sshKeygen = (() => {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // ssh-keygen exits non-zero on -? but is present; only a missing binary reports ENOENT.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
})();

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const str = (value: Buffer | string) => {
  const b = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([u32(b.length), b]);
};
const armor = (label: string, body: Buffer) =>
  `-----BEGIN ${label}-----\n${body.toString('base64').replace(/.{70}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;

/** Independent fingerprint: SHA-256 of the wire-format blob, base64, padding removed. */
const expectedFingerprint = (blob: Buffer) => 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');

function ed25519Fixture() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { raw, blob: Buffer.concat([str('ssh-ed25519'), str(raw)]), pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

function openSshContainer(o: { blob: Buffer; cipher?: string; kdf?: string; kdfOptions?: Buffer; keys?: number; privateSection?: Buffer; magic?: string }) {
  const check = randomBytes(4);
  const privateSection = o.privateSection ?? Buffer.concat([check, check, str('ssh-ed25519'), str(randomBytes(32)), str(randomBytes(64)), str('comment'), Buffer.from([1, 2, 3])]);
  return Buffer.concat([
    Buffer.from(o.magic ?? 'openssh-key-v1\0', 'latin1'),
    str(o.cipher ?? 'none'),
    str(o.kdf ?? 'none'),
    str(o.kdfOptions ?? Buffer.alloc(0)),
    u32(o.keys ?? 1),
    str(o.blob),
    str(privateSection),
  ]);
}

function errorOf(input: string): Error {
  try {
    parseSshPrivateKey(input);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected parseSshPrivateKey to throw');
}

describe('parseSshPrivateKey: hand-built OpenSSH containers', () => {
  it('reads an unencrypted key and fingerprints its public blob', () => {
    const { raw, blob } = ed25519Fixture();
    const info = parseSshPrivateKey(armor('OPENSSH PRIVATE KEY', openSshContainer({ blob })));
    expect(info).toEqual({
      keyType: 'ssh-ed25519',
      bits: 256,
      fingerprint: expectedFingerprint(blob),
      publicKey: `ssh-ed25519 ${blob.toString('base64')}`,
      encrypted: false,
      format: 'openssh',
    });
    expect(info.publicKey).toContain(Buffer.concat([str('ssh-ed25519'), str(raw)]).toString('base64'));
  });

  it('reads the public key of an encrypted key without a passphrase', () => {
    const { blob } = ed25519Fixture();
    const kdfOptions = Buffer.concat([str(randomBytes(16)), u32(16)]);
    const container = openSshContainer({ blob, cipher: 'aes256-ctr', kdf: 'bcrypt', kdfOptions, privateSection: randomBytes(160) });
    const info = parseSshPrivateKey(armor('OPENSSH PRIVATE KEY', container));
    expect(info).toMatchObject({ keyType: 'ssh-ed25519', fingerprint: expectedFingerprint(blob), encrypted: true });
  });

  it('accepts CRLF line endings and surrounding whitespace', () => {
    const { blob } = ed25519Fixture();
    const text = `\n  ${armor('OPENSSH PRIVATE KEY', openSshContainer({ blob })).replace(/\n/g, '\r\n')}  \n`;
    expect(parseSshPrivateKey(text).fingerprint).toBe(expectedFingerprint(blob));
  });

  it('accepts a key pasted on one line', () => {
    const { blob, pem } = ed25519Fixture();
    const oneLine = (text: string) => text.trim().replace(/\s*\n\s*/g, ' ');
    expect(parseSshPrivateKey(oneLine(armor('OPENSSH PRIVATE KEY', openSshContainer({ blob })))).fingerprint).toBe(expectedFingerprint(blob));
    expect(parseSshPrivateKey(oneLine(pem)).fingerprint).toBe(expectedFingerprint(blob));
  });

  it('matches a fingerprint recorded from `ssh-keygen -lf` (all-zero Ed25519 key)', () => {
    const blob = Buffer.concat([str('ssh-ed25519'), str(Buffer.alloc(32))]);
    expect(blob.toString('base64')).toBe('AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(sshFingerprint(blob)).toBe('SHA256:kmYcvdi2GkPeWxB6XLjrZB8JHsy2Hm8luHMFp9GMvqk');
  });

  const good = ed25519Fixture().blob;
  it.each<[string, () => string, RegExp]>([
    ['an empty string', () => '  ', /empty/],
    ['no armor', () => good.toString('base64'), /PEM-armored/],
    ['mismatched armor', () => armor('OPENSSH PRIVATE KEY', openSshContainer({ blob: good })).replace('END OPENSSH', 'END RSA'), /PEM-armored/],
    ['two keys pasted together', () => armor('OPENSSH PRIVATE KEY', openSshContainer({ blob: good })).repeat(2), /exactly one/],
    ['invalid base64', () => '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA$$$$\n-----END OPENSSH PRIVATE KEY-----', /base64/],
    ['a wrong magic', () => armor('OPENSSH PRIVATE KEY', openSshContainer({ blob: good, magic: 'openssh-key-v2\0' })), /unknown header/],
    ['a truncated container', () => armor('OPENSSH PRIVATE KEY', openSshContainer({ blob: good }).subarray(0, 60)), /truncated/],
    ['trailing bytes', () => armor('OPENSSH PRIVATE KEY', Buffer.concat([openSshContainer({ blob: good }), Buffer.from([0])])), /corrupt/],
    ['two keys in one container', () => armor('OPENSSH PRIVATE KEY', openSshContainer({ blob: good, keys: 2 })), /exactly one key/],
    ['mismatched check integers', () => armor('OPENSSH PRIVATE KEY', openSshContainer({ blob: good, privateSection: Buffer.concat([u32(1), u32(2), str('x')]) })), /integrity/],
    ['an unknown kdf on an encrypted key', () => armor('OPENSSH PRIVATE KEY', openSshContainer({ blob: good, cipher: 'aes256-ctr', kdf: 'scrypt' })), /key derivation/],
    ['a short Ed25519 key', () => armor('OPENSSH PRIVATE KEY', openSshContainer({ blob: Buffer.concat([str('ssh-ed25519'), str(randomBytes(31))]) })), /wrong length/],
    ['an unknown key type', () => armor('OPENSSH PRIVATE KEY', openSshContainer({ blob: Buffer.concat([str('ssh-foo'), str(randomBytes(32))]) })), /Unsupported SSH key type "ssh-foo"/],
    ['a curve that does not match the type', () => armor('OPENSSH PRIVATE KEY', openSshContainer({ blob: Buffer.concat([str('ecdsa-sha2-nistp256'), str('nistp384'), str(Buffer.concat([Buffer.from([4]), randomBytes(96)]))]) })), /curve/],
    ['a public key line', () => `ssh-ed25519 ${good.toString('base64')} me@host`, /public key/],
    ['a PEM public key', () => generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString(), /public key/],
    ['an encrypted PKCS#8 key', () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString(), /Encrypted PKCS#8/],
    ['an encrypted traditional PEM key', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs1', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString(), /Encrypted PEM/],
    ['a corrupt PEM body', () => armor('PRIVATE KEY', randomBytes(64)), /could not be read/],
    ['an unsupported PEM label', () => armor('DSA PRIVATE KEY', randomBytes(64)), /Unsupported key format/],
  ])('rejects %s with a clear SshKeyError', (_name, input, message) => {
    const text = input();
    const error = errorOf(text);
    expect(error).toBeInstanceOf(SshKeyError);
    expect(error.message).toMatch(message);
    const body = text.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    if (body.length >= 16) expect(error.message).not.toContain(body.slice(0, 16));
  });
});

describe('parseSshPrivateKey: PEM keys from node:crypto', () => {
  it('fingerprints a PKCS#8 Ed25519 key', () => {
    const { blob, pem } = ed25519Fixture();
    expect(parseSshPrivateKey(pem)).toEqual({
      keyType: 'ssh-ed25519',
      bits: 256,
      fingerprint: expectedFingerprint(blob),
      publicKey: `ssh-ed25519 ${blob.toString('base64')}`,
      encrypted: false,
      format: 'pem',
    });
  });

  it('builds the RSA blob with SSH mpints (leading zero when the high bit is set)', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = publicKey.export({ format: 'jwk' });
    const n = Buffer.from(jwk.n!, 'base64url');
    expect(n[0] & 0x80).toBe(0x80); // 2048-bit moduli always fill their top byte
    const blob = Buffer.concat([str('ssh-rsa'), str(Buffer.from([1, 0, 1])), str(Buffer.concat([Buffer.from([0]), n]))]);
    for (const type of ['pkcs1', 'pkcs8'] as const) {
      const info = parseSshPrivateKey(privateKey.export({ format: 'pem', type }).toString());
      expect(info).toMatchObject({ keyType: 'ssh-rsa', bits: 2048, fingerprint: expectedFingerprint(blob) });
    }
  });

  it.each([
    ['P-256', 'ecdsa-sha2-nistp256', 256, 32],
    ['P-384', 'ecdsa-sha2-nistp384', 384, 48],
    ['P-521', 'ecdsa-sha2-nistp521', 521, 66],
  ])('fingerprints an EC %s key', (namedCurve, keyType, bits, size) => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve });
    const point = publicKey.export({ format: 'der', type: 'spki' }).subarray(-(1 + 2 * size));
    expect(point[0]).toBe(0x04);
    const blob = Buffer.concat([str(keyType), str(keyType.slice('ecdsa-sha2-'.length)), str(point)]);
    for (const type of ['sec1', 'pkcs8'] as const) {
      expect(parseSshPrivateKey(privateKey.export({ format: 'pem', type }).toString())).toMatchObject({ keyType, bits, fingerprint: expectedFingerprint(blob) });
    }
  });
});

describe.skipIf(!sshKeygen)('parseSshPrivateKey agrees with ssh-keygen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vaultgate-ssh-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;

  /** `ssh-keygen -l` prints "<bits> SHA256:<fp> <comment> (<TYPE>)". */
  function keygenFingerprint(pubPath: string): { bits: number; fingerprint: string } {
    const [bits, fingerprint] = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubPath], { encoding: 'utf8' }).trim().split(' ');
    return { bits: Number(bits), fingerprint };
  }

  it.each([
    ['ed25519', ['-t', 'ed25519'], 'ssh-ed25519', 'openssh'],
    ['ed25519 with a passphrase', ['-t', 'ed25519', '-N', 'correct horse'], 'ssh-ed25519', 'openssh'],
    ['rsa 2048', ['-t', 'rsa', '-b', '2048'], 'ssh-rsa', 'openssh'],
    ['rsa 3072 with a passphrase', ['-t', 'rsa', '-b', '3072', '-N', 'pw'], 'ssh-rsa', 'openssh'],
    ['ecdsa 256', ['-t', 'ecdsa', '-b', '256'], 'ecdsa-sha2-nistp256', 'openssh'],
    ['ecdsa 384 with a passphrase', ['-t', 'ecdsa', '-b', '384', '-N', 'pw'], 'ecdsa-sha2-nistp384', 'openssh'],
    ['ecdsa 521', ['-t', 'ecdsa', '-b', '521'], 'ecdsa-sha2-nistp521', 'openssh'],
    ['rsa in PEM', ['-t', 'rsa', '-b', '2048', '-m', 'PEM'], 'ssh-rsa', 'pem'],
    ['ecdsa in PEM', ['-t', 'ecdsa', '-b', '384', '-m', 'PEM'], 'ecdsa-sha2-nistp384', 'pem'],
    ['rsa in PKCS#8', ['-t', 'rsa', '-b', '2048', '-m', 'PKCS8'], 'ssh-rsa', 'pem'],
  ])('%s', (_name, args, keyType, format) => {
    const path = join(dir, `key${n++}`);
    const passphrase = args.includes('-N') ? [] : ['-N', ''];
    execFileSync('ssh-keygen', ['-q', ...args, ...passphrase, '-C', 'vaultgate-test', '-f', path], { stdio: 'ignore' });
    const info = parseSshPrivateKey(readFileSync(path, 'utf8'));
    expect(info).toMatchObject({ keyType, format, encrypted: args.includes('-N'), ...keygenFingerprint(`${path}.pub`) });
    expect(readFileSync(`${path}.pub`, 'utf8').startsWith(`${info.publicKey} `)).toBe(true);
  });

  it('derives the same public key as `ssh-keygen -y` from a node:crypto RSA key', () => {
    const path = join(dir, 'node-rsa.pem');
    writeFileSync(path, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs1' }), { mode: 0o600 });
    const derived = execFileSync('ssh-keygen', ['-y', '-f', path], { encoding: 'utf8' }).trim();
    expect(parseSshPrivateKey(readFileSync(path, 'utf8')).publicKey).toBe(derived.split(' ').slice(0, 2).join(' '));
  });
});
