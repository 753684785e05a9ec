import type { TxClient } from '../../db/client.ts';
import { generateDataKey, openUnderMaster, sealUnderMaster, unwrapKey, wrapKey, type MasterKey } from '../../lib/crypto/envelope.ts';

/** What a second factor's sealed seed is bound to. */
export const userFactorLabel = (factorId: string): string => `userFactor:${factorId}`;

export type DataKey = { version: number; key: Buffer };

/**
 * Organization data keys. Each organization has one or more versions of a 32-byte data key, stored only wrapped
 * by the master key (which never enters the database). The newest version encrypts; any version decrypts what
 * it sealed. Unwrapped keys are cached in memory: a master-key rotation rewraps rows without changing the data
 * keys, so the cache stays valid; a re-key adds a new version.
 */
export class Keyring {
  private readonly cache = new Map<string, Buffer>();

  constructor(private master: MasterKey) {}

  get masterKeyId(): string {
    return this.master.id;
  }

  /** Swaps the master key in a running process (after a rotation has rewrapped every data key). */
  useMasterKey(master: MasterKey): void {
    this.master = master;
  }

  /** Seals an installation-wide secret (a TOTP seed of a user's second factor) under the master key. */
  sealForInstallation(plaintext: string, label: string): { sealed: string; masterKeyId: string } {
    return { sealed: sealUnderMaster(this.master, plaintext, label), masterKeyId: this.master.id };
  }

  openForInstallation(sealed: string, label: string): string {
    return openUnderMaster(this.master, sealed, label);
  }

  /** The newest data key of an organization, created (and wrapped) on first use inside the caller's transaction. */
  async current(tx: TxClient, organizationId: string): Promise<DataKey> {
    const row = await tx.organizationKey.findFirst({ where: { organizationId }, orderBy: { version: 'desc' } });
    if (row) return { version: row.version, key: this.unwrap(organizationId, row.version, row.wrappedKey, row.masterKeyId) };
    return this.create(tx, organizationId, 1);
  }

  /** The data key of a given version, for decrypting what it sealed. */
  async byVersion(tx: TxClient, organizationId: string, version: number): Promise<Buffer> {
    const cached = this.cache.get(`${organizationId}:${version}`);
    if (cached) return cached;
    const row = await tx.organizationKey.findUniqueOrThrow({ where: { organizationId_version: { organizationId, version } } });
    return this.unwrap(organizationId, row.version, row.wrappedKey, row.masterKeyId);
  }

  /** Adds the next data-key version (re-keying an organization); later encryptions use it. */
  async create(tx: TxClient, organizationId: string, version: number): Promise<DataKey> {
    const key = generateDataKey();
    const wrappedKey = wrapKey(this.master.key, key, { organizationId, keyVersion: version, masterKeyId: this.master.id });
    await tx.organizationKey.create({ data: { organizationId, version, wrappedKey, masterKeyId: this.master.id } });
    this.cache.set(`${organizationId}:${version}`, key);
    return { version, key };
  }

  private unwrap(organizationId: string, version: number, wrapped: string, masterKeyId: string): Buffer {
    const cacheKey = `${organizationId}:${version}`;
    let key = this.cache.get(cacheKey);
    if (!key) {
      key = unwrapKey(this.master.key, wrapped, { organizationId, keyVersion: version, masterKeyId });
      this.cache.set(cacheKey, key);
    }
    return key;
  }
}
