import type { TxClient } from '../../db/client.ts';
import { DecryptionError, decryptField, encryptField, type FieldContext } from '../../lib/crypto/envelope.ts';
import type { Keyring } from '../keys/keyring.ts';

/** The kinds of secret material a credential version can hold (SecretValue.field). */
export const SECRET_FIELDS = ['PASSWORD', 'OTP_SECRET', 'SSH_PRIVATE_KEY', 'PASSPHRASE', 'API_KEY_SECRET'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

export type SecretRow = { credentialId: string; version: number; field: string; keyRef: string; keyVersion: number; sealed: string };

/**
 * The associated data a secret is sealed with: organization, credential, field (with the API key it belongs to)
 * and version, plus the data-key version. Every reader and the re-key command use this one definition.
 */
export function secretAad(organizationId: string, row: Omit<SecretRow, 'sealed'>): FieldContext {
  return {
    organizationId,
    credentialId: row.credentialId,
    field: row.keyRef ? `${row.field}:${row.keyRef}` : row.field,
    version: row.version,
    keyVersion: row.keyVersion,
  };
}

/** Encrypts one field under the organization's newest data key; returns the SecretValue row to insert. */
export async function sealSecret(
  tx: TxClient,
  keyring: Keyring,
  organizationId: string,
  s: { credentialId: string; version: number; field: SecretField; keyRef?: string; plaintext: string },
): Promise<SecretRow> {
  const dataKey = await keyring.current(tx, organizationId);
  const row = { credentialId: s.credentialId, version: s.version, field: s.field, keyRef: s.keyRef ?? '', keyVersion: dataKey.version };
  return { ...row, sealed: encryptField(dataKey.key, s.plaintext, secretAad(organizationId, row)) };
}

/**
 * Decrypts one stored field; throws DecryptionError when the row was tampered with or moved — also when it names a
 * data-key version its organization does not have (a tampered keyVersion), which is the same kind of failure.
 */
export async function openSecret(tx: TxClient, keyring: Keyring, organizationId: string, row: SecretRow): Promise<string> {
  let key: Buffer;
  try {
    key = await keyring.byVersion(tx, organizationId, row.keyVersion);
  } catch (error) {
    if ((error as { code?: string } | null)?.code === 'P2025') throw new DecryptionError();
    throw error;
  }
  return decryptField(key, row.sealed, secretAad(organizationId, row));
}
