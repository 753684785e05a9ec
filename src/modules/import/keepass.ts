import { createRequire } from 'node:module';
import argon2 from 'argon2';
import type { Kdbx, KdbxEntryField, KdbxGroup, KdbxHeader } from 'kdbxweb';

// kdbxweb is a CommonJS bundle whose named exports Node's ESM loader cannot see (`import * as` gives an empty
// namespace under plain Node, while bundlers and vitest paper over it): required, it is the same everywhere.
const kdbxweb = createRequire(import.meta.url)('kdbxweb') as typeof import('kdbxweb');
import type { Candidate } from './formats.ts';
import { ImportFileError, rowPath } from './formats.ts';

/**
 * KDBX key derivation is set by the file: a crafted file could ask for gigabytes or hours. These bound it (a
 * KeePassXC default is 64 MiB and a few dozen passes); files beyond them are refused before any work.
 */
export const KDBX_MAX_MEMORY_KIB = 256 * 1024;
export const KDBX_MAX_ITERATIONS = 100;
export const KDBX_MAX_PARALLELISM = 16;
/** AES-KDF (KeePass's own default) runs one AES block per round: bounded the same way. */
export const KDBX_MAX_AES_ROUNDS = 10_000_000;

class KdfLimitError extends Error {}

let installed = false;
/** kdbxweb ships no argon2; the native package computes raw argon2d/argon2id hashes off the event loop (also for files a test writes). */
export function installArgon2() {
  if (installed) return;
  installed = true;
  kdbxweb.CryptoEngine.setArgon2Impl(async (password, salt, memory, iterations, length, parallelism, type, version) => {
    if (memory > KDBX_MAX_MEMORY_KIB || iterations > KDBX_MAX_ITERATIONS || parallelism > KDBX_MAX_PARALLELISM) throw new KdfLimitError();
    const hash = await argon2.hash(Buffer.from(password), {
      raw: true,
      salt: Buffer.from(salt),
      memoryCost: memory,
      timeCost: iterations,
      hashLength: length,
      parallelism,
      type: type === kdbxweb.CryptoEngine.Argon2TypeArgon2d ? argon2.argon2d : argon2.argon2id,
      version,
    });
    return hash.buffer.slice(hash.byteOffset, hash.byteOffset + hash.byteLength) as ArrayBuffer;
  });
}

const text = (v: KdbxEntryField | undefined): string | null => {
  if (v === undefined) return null;
  const s = typeof v === 'string' ? v : v.getText();
  const t = s.trim();
  return t === '' ? null : s;
};

/**
 * The header alone, before any key derivation: the version, and the cost the file asks for. Argon2's parameters are
 * checked again where the hash is computed (installArgon2).
 */
function checkHeader(bytes: ArrayBuffer) {
  let header: KdbxHeader;
  try {
    header = kdbxweb.KdbxHeader.read(new kdbxweb.BinaryStream(bytes), new kdbxweb.KdbxContext({ kdbx: {} as Kdbx }));
  } catch {
    throw new ImportFileError('not a KeePass (KDBX) file, or a damaged one');
  }
  if (header.versionMajor !== 4) throw new ImportFileError('only KDBX 4 files are imported; save the database in KDBX 4 format');
  const uuid = header.kdfParameters?.get('$UUID');
  const kdf = uuid instanceof ArrayBuffer ? Buffer.from(uuid).toString('base64') : null;
  if (kdf === kdbxweb.Consts.KdfId.Aes) {
    const rounds = header.kdfParameters?.get('R');
    const n = rounds instanceof kdbxweb.Int64 ? rounds.value : typeof rounds === 'number' ? rounds : Infinity;
    if (!(n <= KDBX_MAX_AES_ROUNDS)) throw new ImportFileError(`the file's key derivation asks for more than ${KDBX_MAX_AES_ROUNDS} AES rounds`);
  } else if (kdf !== kdbxweb.Consts.KdfId.Argon2d && kdf !== kdbxweb.Consts.KdfId.Argon2id) {
    throw new ImportFileError('the file uses an unknown key derivation');
  }
}

/**
 * A KDBX 4 file opened with its master password: groups become folders (the root group and the recycle bin are
 * not folders; entries in the bin are skipped), the TOTP seed comes from the `otp` field (KeePassXC) or
 * `TOTP Seed`. The entry's UUID is its source id.
 */
export async function keepassCandidates(file: Buffer, masterPassword: string, maxRows: number): Promise<Candidate[]> {
  installArgon2();
  const bytes = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;
  checkHeader(bytes);
  let db: Kdbx;
  try {
    db = await kdbxweb.Kdbx.load(bytes, new kdbxweb.Credentials(kdbxweb.ProtectedValue.fromString(masterPassword)));
  } catch (error) {
    if (error instanceof KdfLimitError) {
      throw new ImportFileError(`the file's key derivation asks for more than ${KDBX_MAX_MEMORY_KIB / 1024} MiB or ${KDBX_MAX_ITERATIONS} passes`);
    }
    const code = (error as { code?: string }).code;
    if (code === kdbxweb.Consts.ErrorCodes.InvalidKey) throw new ImportFileError('the master password does not open this KeePass file');
    throw new ImportFileError('not a KeePass (KDBX) file, or a damaged one');
  }
  const bin = db.meta.recycleBinEnabled ? db.meta.recycleBinUuid?.id : undefined;
  const out: Candidate[] = [];
  // Iterative walk: nesting depth is the file's to choose.
  const stack: { group: KdbxGroup; path: string[] }[] = db.groups.map((g) => ({ group: g, path: [] }));
  while (stack.length > 0) {
    const { group, path } = stack.pop()!;
    if (bin && group.uuid.id === bin) continue;
    for (const entry of group.entries) {
      const row = out.length + 1;
      if (row > maxRows) throw new ImportFileError(`the file holds more than ${maxRows} entries; split it`);
      const name = text(entry.fields.get('Title'));
      const password = text(entry.fields.get('Password'));
      if (!name) {
        out.push({ row, problems: [{ path: rowPath(row, 'name'), message: 'is empty' }] });
        continue;
      }
      if (!password) {
        out.push({ row, skip: 'no password' });
        continue;
      }
      out.push({
        row,
        item: {
          sourceId: `uuid:${entry.uuid.id}`,
          name: name.trim(),
          username: text(entry.fields.get('UserName'))?.trim() ?? null,
          password,
          url: text(entry.fields.get('URL'))?.trim() ?? null,
          notes: text(entry.fields.get('Notes')),
          otpSecret: text(entry.fields.get('otp'))?.trim() ?? text(entry.fields.get('TOTP Seed'))?.trim() ?? null,
          folder: path,
          category: null,
        },
      });
    }
    // The top group is the database itself, not a folder: its entries sit at the top level.
    for (const child of [...group.groups].reverse()) stack.push({ group: child, path: [...path, child.name ?? ''] });
  }
  return out;
}
