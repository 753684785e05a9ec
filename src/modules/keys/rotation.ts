import { isUniqueViolation, type Db } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import { DecryptionError, encryptField, masterKeyId, openUnderMaster, sealUnderMaster, unwrapKey, wrapKey, type MasterKey } from '../../lib/crypto/envelope.ts';
import { Policy } from '../../policy/policy.ts';
import { appendAudit, type AuditActor } from '../audit/audit.chain.ts';
import { openSecret, secretAad } from '../credential/secrets.ts';
import { userFactorLabel, type Keyring } from './keyring.ts';

/**
 * Key rotation for encryption at rest, as two resumable jobs:
 *
 * - Master-key rotation rewraps every organization's data keys (OrganizationKey rows) from the old master key to
 *   the new one. Data keys do not change, so no secret is re-encrypted and it takes one row per data-key version.
 * - Re-keying an organization adds its next data-key version and re-encrypts its secrets still sealed under older
 *   versions. Older OrganizationKey rows are kept: database backups taken before the re-key hold secrets sealed
 *   under them, and a restored backup needs them (the `keys status` command shows which versions still seal data).
 *
 * Both work in batches and write each row with a conditional update on the state they read, so they can be
 * interrupted at any point and run again: every row is, at all times, readable under exactly what it records, and
 * a re-run picks up whatever is left. Progress messages and errors name organizations, versions and master-key ids
 * (fingerprints), never key material or plaintext.
 */

export class KeyRotationError extends Error {
  override name = 'KeyRotationError';
}

/** The operator running a command on the server machine: no user, no API key. */
export const OPERATOR: AuditActor = { userId: null, apiKeyId: null };

export type JobOptions = {
  /** Rows read, transformed and written per round trip (default 100). */
  batchSize?: number;
  /** Receives one progress line after each committed batch. A throw stops the job there, like a crash would. */
  log?: (message: string) => void;
  /** Checked before each batch: aborting stops the job between batches (it throws the signal's reason). */
  signal?: AbortSignal;
  /** Called after each committed batch with the rows this run has written so far; a throw stops the job there. */
  onBatch?: (progress: { done: number }) => void;
  /** When given, a completed job appends an audit entry (clock for its time; actor defaults to OPERATOR). */
  audit?: { clock: Clock; actor?: AuditActor };
};

const DEFAULT_BATCH = 100;
const MAX_BATCH = 10_000;

function batchSizeOf(options: JobOptions): number {
  const n = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_BATCH) throw new RangeError(`batchSize must be an integer from 1 to ${MAX_BATCH}.`);
  return n;
}

function assertMasterKey(master: MasterKey, which: string): void {
  if (!Buffer.isBuffer(master.key) || master.key.length !== 32 || masterKeyId(master.key) !== master.id) {
    throw new KeyRotationError(`The ${which} master key is malformed (its id does not match its key).`);
  }
}

async function audit(db: Db, options: JobOptions, organizationId: string | null, action: string, data: Record<string, unknown>) {
  if (!options.audit) return;
  const ctx = { policy: new Policy({ kind: 'anonymous' }), clock: options.audit.clock, actor: options.audit.actor ?? OPERATOR };
  await db.$transaction((tx) => appendAudit(tx, ctx, { organizationId, action, targetType: organizationId ? 'Organization' : null, targetId: organizationId, data }));
}

async function describeOrganization(db: Db, organizationId: string): Promise<string> {
  const org = await db.organization.findUnique({ where: { id: organizationId }, select: { name: true } });
  return org ? `organization ${JSON.stringify(org.name)} (${organizationId})` : `organization ${organizationId}`;
}

// --- master key ---

export type RotateMasterKeyResult = {
  fromMasterKeyId: string;
  toMasterKeyId: string;
  /** OrganizationKey rows when the job started. */
  total: number;
  /** Rows this run rewrapped from the old master key to the new one. */
  rewrapped: number;
  /** Rows already on the new master key when the job started (a previous, interrupted run). */
  alreadyRotated: number;
  /** Rows another process moved off the old key between this run's read and its write (normally 0). */
  skipped: number;
};

/**
 * Rewraps every data key from `from` to `to`. Refuses, before changing anything, when some data key is wrapped by
 * a third master key: no configured key could open it afterwards. Run it with the servers stopped: a server still
 * holding the old key cannot open rows once they are rewrapped (and would wrap new organizations' keys with the
 * old one; a re-run rewraps those).
 */
export async function rotateMasterKey(db: Db, options: JobOptions & { from: MasterKey; to: MasterKey }): Promise<RotateMasterKeyResult> {
  const { from, to } = options;
  const batchSize = batchSizeOf(options);
  assertMasterKey(from, 'current');
  assertMasterKey(to, 'new');
  if (from.id === to.id) throw new KeyRotationError(`The new master key is the current one (${from.id}); generate a different key.`);

  const foreign = await db.organizationKey.findMany({
    where: { masterKeyId: { notIn: [from.id, to.id] } },
    select: { organizationId: true, version: true, masterKeyId: true },
    orderBy: [{ organizationId: 'asc' }, { version: 'asc' }],
  });
  if (foreign.length > 0) {
    const shown = await Promise.all(
      foreign.slice(0, 5).map(async (k) => `${await describeOrganization(db, k.organizationId)} data key v${k.version} (master key ${k.masterKeyId})`),
    );
    const more = foreign.length > shown.length ? `, and ${foreign.length - shown.length} more` : '';
    throw new KeyRotationError(
      `${foreign.length} data key(s) are wrapped by a master key that is neither the current (${from.id}) nor the new one (${to.id}): ` +
        `${shown.join('; ')}${more}. Nothing was changed. Rotate them with the master key that wrapped them first, or restore them from a backup.`,
    );
  }

  const total = await db.organizationKey.count();
  const alreadyRotated = await db.organizationKey.count({ where: { masterKeyId: to.id } });
  let rewrapped = 0;
  let skipped = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    // No cursor: every row read leaves this set (rewritten here, or changed by someone else), so re-querying from
    // the start converges and also picks up rows a still-running server added meanwhile.
    const rows = await db.organizationKey.findMany({
      where: { masterKeyId: from.id },
      select: { id: true, organizationId: true, version: true, wrappedKey: true },
      orderBy: { id: 'asc' },
      take: batchSize,
    });
    if (rows.length === 0) break;
    const updates = [];
    for (const row of rows) {
      const context = { organizationId: row.organizationId, keyVersion: row.version, masterKeyId: from.id };
      let dataKey: Buffer;
      try {
        dataKey = unwrapKey(from.key, row.wrappedKey, context);
      } catch (error) {
        if (!(error instanceof DecryptionError)) throw error;
        throw new KeyRotationError(
          `The data key v${row.version} of ${await describeOrganization(db, row.organizationId)} is recorded as wrapped by master key ${from.id} ` +
            `but does not open with it: the row is corrupt or was copied from elsewhere. ${rewrapped} data key(s) were rewrapped before it; restore this one from a backup, then run the rotation again.`,
        );
      }
      const wrappedKey = wrapKey(to.key, dataKey, { ...context, masterKeyId: to.id });
      dataKey.fill(0);
      updates.push(db.organizationKey.updateMany({ where: { id: row.id, masterKeyId: from.id }, data: { wrappedKey, masterKeyId: to.id } }));
    }
    const results = await db.$transaction(updates);
    const done = results.reduce((n, r) => n + r.count, 0);
    rewrapped += done;
    skipped += rows.length - done;
    options.log?.(`rewrapped ${rewrapped} data key(s) from master key ${from.id} to ${to.id}`);
    options.onBatch?.({ done: rewrapped });
  }

  // Second-factor seeds are sealed under the master key itself (users belong to no one organization).
  for (;;) {
    options.signal?.throwIfAborted();
    const factors = await db.userFactor.findMany({
      where: { masterKeyId: from.id, sealedSecret: { not: null } },
      select: { id: true, sealedSecret: true },
      orderBy: { id: 'asc' },
      take: batchSize,
    });
    if (factors.length === 0) break;
    const updates = factors.map((f) => {
      const label = userFactorLabel(f.id);
      let plain: string;
      try {
        plain = openUnderMaster(from, f.sealedSecret!, label);
      } catch (error) {
        if (!(error instanceof DecryptionError)) throw error;
        throw new KeyRotationError(`The second factor ${f.id} is recorded as sealed by master key ${from.id} but does not open with it; reset that user's factors, then run the rotation again.`);
      }
      const sealedSecret = sealUnderMaster(to, plain, label);
      return db.userFactor.updateMany({ where: { id: f.id, masterKeyId: from.id }, data: { sealedSecret, masterKeyId: to.id } });
    });
    await db.$transaction(updates);
    options.log?.(`resealed ${factors.length} second-factor seed(s) under master key ${to.id}`);
  }

  const result = { fromMasterKeyId: from.id, toMasterKeyId: to.id, total, rewrapped, alreadyRotated, skipped };
  await audit(db, options, null, 'key.rotate_master', { ...result });
  return result;
}

// --- organization data keys ---

export type UndecryptableSecret = { secretValueId: string; credentialId: string; keyVersion: number };

export type RekeyResult = {
  organizationId: string;
  /** The data-key version secrets were moved to. */
  toVersion: number;
  /** Whether this run created `toVersion` (false when it resumed an interrupted re-key). */
  created: boolean;
  /** Older versions this run re-encrypted secrets from. */
  fromVersions: number[];
  reencrypted: number;
  /** Rows changed by someone else between this run's read and its write (they are retried while they stay old). */
  skipped: number;
  /** Rows that fail authentication under their own key: tampered with or moved. Left as they are, and reported. */
  undecryptable: UndecryptableSecret[];
  /** SecretValue rows still sealed under a version older than `toVersion` when the run ended; 0 when complete. */
  remaining: number;
};

async function countOlder(db: Db, organizationId: string, version: number): Promise<number> {
  return db.secretValue.count({ where: { keyVersion: { lt: version }, credential: { organizationId } } });
}

/**
 * Moves an organization to a new data key: creates the next version (or, when secrets are still sealed under
 * versions older than the newest, resumes with the newest, which an interrupted run created), then re-encrypts
 * those secrets batch by batch. Each row is replaced only if it still holds what was read (id, key version and
 * ciphertext), so concurrent writers and re-runs are safe, and a crash leaves every row readable under its
 * recorded version. New secrets use the new version as soon as it exists (the keyring seals with the newest).
 */
export async function rekeyOrganization(db: Db, keyring: Keyring, organizationId: string, options: JobOptions = {}): Promise<RekeyResult> {
  const batchSize = batchSizeOf(options);
  // Before anything is written: a stopped `--all` run must not add a version to each organization it skips.
  options.signal?.throwIfAborted();
  const org = await db.organization.findUnique({ where: { id: organizationId }, select: { id: true } });
  if (!org) throw new KeyRotationError(`Organization ${organizationId} does not exist.`);
  const who = await describeOrganization(db, organizationId);

  const keys = await db.organizationKey.findMany({ where: { organizationId }, select: { version: true, masterKeyId: true }, orderBy: { version: 'asc' } });
  const foreign = keys.filter((k) => k.masterKeyId !== keyring.masterKeyId);
  if (foreign.length > 0) {
    throw new KeyRotationError(
      `The data key(s) ${foreign.map((k) => `v${k.version} (master key ${k.masterKeyId})`).join(', ')} of ${who} are not wrapped by the configured ` +
        `master key ${keyring.masterKeyId}. Finish the master-key rotation (keys rotate-master) before re-keying. Nothing was changed.`,
    );
  }
  const dataKey = async (version: number): Promise<Buffer> => {
    try {
      return await keyring.byVersion(db, organizationId, version);
    } catch (error) {
      if (isNotFound(error)) throw new KeyRotationError(`Secrets of ${who} are sealed under data key v${version}, which does not exist.`);
      if (error instanceof DecryptionError) throw new KeyRotationError(`The data key v${version} of ${who} does not open with master key ${keyring.masterKeyId}: the row is corrupt or was copied from elsewhere.`);
      throw error;
    }
  };

  // Checked before creating anything, so a master-key problem does not leave a fresh, unused version behind.
  for (const k of keys) await dataKey(k.version);
  const newest = keys.at(-1)?.version ?? 0;
  let toVersion = newest;
  let created = false;
  if (newest === 0 || (await countOlder(db, organizationId, newest)) === 0) {
    toVersion = newest + 1;
    try {
      await keyring.create(db, organizationId, toVersion);
      created = true;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Another re-key created this version a moment ago: continue with it.
    }
  }
  const newKey = await dataKey(toVersion);
  options.log?.(`${who}: ${created ? 'created' : 'resuming with'} data key v${toVersion}`);

  const fromVersions = new Set<number>();
  const undecryptable: UndecryptableSecret[] = [];
  let reencrypted = 0;
  let skipped = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const rows = await db.secretValue.findMany({
      where: {
        keyVersion: { lt: toVersion },
        credential: { organizationId },
        ...(undecryptable.length > 0 ? { id: { notIn: undecryptable.map((u) => u.secretValueId) } } : {}),
      },
      select: { id: true, credentialId: true, version: true, field: true, keyRef: true, keyVersion: true, sealed: true },
      orderBy: { id: 'asc' },
      take: batchSize,
    });
    if (rows.length === 0) break;
    const updates = [];
    for (const row of rows) {
      await dataKey(row.keyVersion);
      let sealed: string;
      try {
        sealed = encryptField(newKey, await openSecret(db, keyring, organizationId, row), secretAad(organizationId, { ...row, keyVersion: toVersion }));
      } catch (error) {
        if (!(error instanceof DecryptionError)) throw error;
        undecryptable.push({ secretValueId: row.id, credentialId: row.credentialId, keyVersion: row.keyVersion });
        continue;
      }
      fromVersions.add(row.keyVersion);
      updates.push(
        db.secretValue.updateMany({ where: { id: row.id, keyVersion: row.keyVersion, sealed: row.sealed }, data: { keyVersion: toVersion, sealed } }),
      );
    }
    const results = updates.length > 0 ? await db.$transaction(updates) : [];
    const done = results.reduce((n, r) => n + r.count, 0);
    reencrypted += done;
    skipped += updates.length - done;
    options.log?.(`${who}: re-encrypted ${reencrypted} secret(s) under data key v${toVersion}`);
    options.onBatch?.({ done: reencrypted });
  }

  const remaining = await countOlder(db, organizationId, toVersion);
  const result: RekeyResult = {
    organizationId,
    toVersion,
    created,
    fromVersions: [...fromVersions].sort((a, b) => a - b),
    reencrypted,
    skipped,
    undecryptable,
    remaining,
  };
  await audit(db, options, organizationId, 'key.rekey', {
    toVersion,
    created,
    fromVersions: result.fromVersions,
    reencrypted,
    undecryptable: undecryptable.map((u) => u.secretValueId),
    remaining,
  });
  return result;
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2025';
}

// --- status ---

export type DataKeyStatus = { version: number; masterKeyId: string | null; secrets: number };

export type OrganizationKeyStatus = {
  organizationId: string;
  name: string;
  /** The newest data-key version (the one new secrets are sealed with); null when the organization has none. */
  currentVersion: number | null;
  /** Every version that exists or still seals secrets; masterKeyId is null for a version with no key row. */
  versions: DataKeyStatus[];
  /** Secrets sealed under versions older than the current one: a re-key in progress (0 otherwise). */
  secretsOnOlderVersions: number;
};

export type KeyStatus = {
  organizations: OrganizationKeyStatus[];
  /** How many data keys each master key wraps. */
  masterKeys: { masterKeyId: string; dataKeys: number }[];
};

export async function keyStatus(db: Db): Promise<KeyStatus> {
  const [organizations, keys, counts, masters] = await Promise.all([
    db.organization.findMany({ select: { id: true, name: true }, orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
    db.organizationKey.findMany({ select: { organizationId: true, version: true, masterKeyId: true }, orderBy: { version: 'asc' } }),
    db.$queryRaw<{ organizationId: string; keyVersion: number | bigint; n: number | bigint }[]>`
      SELECT c."organizationId" AS "organizationId", s."keyVersion" AS "keyVersion", COUNT(*) AS "n"
      FROM "SecretValue" s JOIN "Credential" c ON c."id" = s."credentialId"
      GROUP BY c."organizationId", s."keyVersion"`,
    db.organizationKey.groupBy({ by: ['masterKeyId'], _count: { _all: true }, orderBy: { masterKeyId: 'asc' } }),
  ]);
  const perOrg = new Map<string, Map<number, DataKeyStatus>>();
  const versionsOf = (organizationId: string) => {
    let m = perOrg.get(organizationId);
    if (!m) perOrg.set(organizationId, (m = new Map()));
    return m;
  };
  for (const k of keys) versionsOf(k.organizationId).set(k.version, { version: k.version, masterKeyId: k.masterKeyId, secrets: 0 });
  for (const c of counts) {
    const m = versionsOf(c.organizationId);
    const version = Number(c.keyVersion);
    const entry = m.get(version) ?? { version, masterKeyId: null, secrets: 0 };
    entry.secrets = Number(c.n);
    m.set(version, entry);
  }
  return {
    organizations: organizations.map((o) => {
      const versions = [...(perOrg.get(o.id)?.values() ?? [])].sort((a, b) => a.version - b.version);
      const withKey = versions.filter((v) => v.masterKeyId !== null);
      const currentVersion = withKey.at(-1)?.version ?? null;
      const secretsOnOlderVersions = currentVersion === null ? 0 : versions.filter((v) => v.version < currentVersion).reduce((n, v) => n + v.secrets, 0);
      return { organizationId: o.id, name: o.name, currentVersion, versions, secretsOnOlderVersions };
    }),
    masterKeys: masters.map((m) => ({ masterKeyId: m.masterKeyId, dataKeys: m._count._all })),
  };
}
