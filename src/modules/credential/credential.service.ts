import { z } from 'zod';
import type { Context } from '../../context.ts';
import type { TxClient } from '../../db/client.ts';
import { DomainError, ForbiddenError, ValidationError, type FieldIssue, ConflictError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { containsActiveContent, sanitizeNotesHtml } from '../../lib/html.ts';
import { generatePassword, passwordStrength, type PasswordOptions } from '../../lib/passwordGen.ts';
import { parseSshPrivateKey, SshKeyError } from '../../lib/sshKey.ts';
import { OtpSecretError, parseOtpSecret } from '../../lib/totp.ts';
import { parseInput, text } from '../../lib/validate.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { effectiveState, OPEN_STATES, type RequestState } from '../accessRequest/accessRequest.state.ts';
import { openSecret, sealSecret, type SecretField, type SecretRow } from './secrets.ts';
import type { Credential, Prisma } from '../../generated/prisma-sqlite/client.ts';

export type CredentialKind = 'PASSWORD' | 'API_KEY' | 'SSH_KEY';

/** Secret material as given by a client. Which parts apply depends on the credential's kind. */
export type SecretInput = {
  password?: string | null;
  otpSecret?: string | null;
  apiKeys?: { clientIdentifier: string; clientSecret: string; secretIdentifier?: string | null }[] | null;
  privateKey?: string | null;
  passphrase?: string | null;
};

export type MetadataInput = {
  name?: string | null;
  username?: string | null;
  url?: string | null;
  notes?: string | null;
  categoryId?: string | null;
  folderId?: string | null;
  restricted?: boolean | null;
  resourceType?: string | null;
  resourceId?: string | null;
  autofillSelectors?: { field: string; selector: string }[] | null;
};

const SECRET_MAX = 16_384;
const optionalText = (max: number) => text(max).nullish();

const metadataSchema = z.object({
  name: text(255).optional(),
  username: optionalText(255),
  url: optionalText(2048).refine((u) => u == null || /^[a-z][a-z0-9+.-]*:\/\//i.test(u) || !u.includes(':'), 'must be a URL or a host name'),
  notes: z
    .string()
    .max(65_536, 'must be at most 65536 characters')
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
    .nullish(),
  restricted: z.boolean().nullish(),
  resourceType: optionalText(64),
  resourceId: optionalText(128),
  autofillSelectors: z
    .array(z.object({ field: text(64), selector: text(512) }))
    .max(20, 'at most 20 selectors')
    .nullish(),
});

/** Built once: zod schemas are costly to build, and an import prepares thousands of rows. */
const createMetadataSchema = metadataSchema.extend({ name: text(255) });

const secretString = (what: string) => z.string().min(1, 'must not be empty').max(SECRET_MAX, `must be at most ${SECRET_MAX} characters`).describe(what);

const secretSchema = z.object({
  password: secretString('password').nullish(),
  otpSecret: z.string().max(2048).nullish(),
  apiKeys: z
    .array(z.object({ clientIdentifier: text(512), clientSecret: secretString('secret'), secretIdentifier: optionalText(512) }))
    .max(20, 'at most 20 keys')
    .nullish(),
  privateKey: secretString('private key').nullish(),
  passphrase: secretString('passphrase').nullish(),
});

export const generatorSchema = z.object({
  length: z.number().int().min(8).max(256).default(24),
  symbols: z.boolean().default(true),
  digits: z.boolean().default(true),
  uppercase: z.boolean().default(true),
  lowercase: z.boolean().default(true),
  excludeAmbiguous: z.boolean().default(false),
});

/** Generator options as a client sends them (GraphQL gives null for omitted optional fields). */
export type GeneratorInput = { [K in keyof z.input<typeof generatorSchema>]?: z.input<typeof generatorSchema>[K] | null };

function generateFrom(options: GeneratorInput): string {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== null && v !== undefined));
  return generatePassword(parseInput(generatorSchema, given, ['input', 'generate']) as PasswordOptions);
}

/** One decrypted field to store in a new version. */
type PlainSecret = { field: SecretField; keyRef?: string; plaintext: string };

/**
 * Writing a credential. Restricted ones are kept by ADMIN and MANAGER only: a MEMBER who could clear the flag,
 * or rotate the secret to a value of their choosing, would release it to themselves without a request.
 */
function assertMayWrite(ctx: Context, organizationId: string, restricted: { before: boolean; after: boolean }) {
  ctx.policy.assert('credential:write', { organizationId });
  if (restricted.before || restricted.after) ctx.policy.assert('credential:manageRestricted', { organizationId });
}

/** Loads a credential the viewer may see (metadata), or answers FORBIDDEN exactly as for a missing id. */
export async function loadVisibleCredential(ctx: Context, tx: TxClient, globalId: string): Promise<Credential> {
  const id = localId(globalId, 'Credential');
  const credential = await tx.credential.findFirst({ where: { id, AND: [ctx.policy.readable('Credential')] } });
  if (!credential) throw new ForbiddenError();
  return credential;
}

async function resolvePlacement(
  tx: TxClient,
  organizationId: string,
  input: { categoryId?: string | null; folderId?: string | null },
): Promise<{ categoryId?: string | null; folderId?: string | null }> {
  const out: { categoryId?: string | null; folderId?: string | null } = {};
  const issues: FieldIssue[] = [];
  if (input.categoryId !== undefined) {
    if (input.categoryId === null) out.categoryId = null;
    else {
      const id = safeLocalId(input.categoryId, 'Category');
      const found = id && (await tx.category.findFirst({ where: { id, organizationId } }));
      if (!found) issues.push({ path: ['input', 'categoryId'], message: 'no such category in this organization' });
      else out.categoryId = found.id;
    }
  }
  if (input.folderId !== undefined) {
    if (input.folderId === null) out.folderId = null;
    else {
      const id = safeLocalId(input.folderId, 'Folder');
      const found = id && (await tx.folder.findFirst({ where: { id, organizationId } }));
      if (!found) issues.push({ path: ['input', 'folderId'], message: 'no such folder in this organization' });
      else out.folderId = found.id;
    }
  }
  if (issues.length) throw new ValidationError(issues);
  return out;
}

function safeLocalId(globalId: string, typename: string): string | null {
  try {
    return localId(globalId, typename);
  } catch {
    return null;
  }
}

/** Sanitises notes HTML; refuses active content outright rather than silently changing what was meant. */
function cleanNotes(notes: string | null | undefined): string | null | undefined {
  if (notes == null) return notes;
  if (containsActiveContent(notes)) {
    throw ValidationError.field('input.notes', 'must not contain scripts, event handlers or javascript: URLs');
  }
  return sanitizeNotesHtml(notes);
}

/**
 * Validates secret material for a kind and turns it into the fields to seal, plus the metadata derived from it
 * (SSH fingerprint, password strength). Messages never echo the secret.
 */
function prepareSecrets(kind: CredentialKind, raw: SecretInput, userInputs: string[], rate = true) {
  const s = parseInput(secretSchema, raw);
  const issues: FieldIssue[] = [];
  const fields: PlainSecret[] = [];
  const apiKeys: { clientIdentifier: string; secretIdentifier: string | null; secret: string }[] = [];
  let fingerprint: string | null = null;
  let strength: number | null = null;
  const refuse = (field: string, message: string) => issues.push({ path: ['input', field], message });
  const notFor = (field: keyof SecretInput, kinds: CredentialKind[]) => {
    if (s[field] != null && !kinds.includes(kind)) refuse(field, `does not apply to ${kind} credentials`);
  };
  notFor('password', ['PASSWORD']);
  notFor('otpSecret', ['PASSWORD']);
  notFor('apiKeys', ['API_KEY']);
  notFor('privateKey', ['SSH_KEY']);
  notFor('passphrase', ['SSH_KEY']);

  if (kind === 'PASSWORD') {
    if (!s.password) refuse('password', 'is required for a PASSWORD credential (or ask for a generated one)');
    else {
      fields.push({ field: 'PASSWORD', plaintext: s.password });
      strength = rate ? passwordStrength(s.password, userInputs).score : null;
    }
    if (s.otpSecret) {
      try {
        fields.push({ field: 'OTP_SECRET', plaintext: JSON.stringify(parseOtpSecret(s.otpSecret)) });
      } catch (e) {
        if (!(e instanceof OtpSecretError)) throw e;
        refuse('otpSecret', e.message);
      }
    }
  }
  if (kind === 'API_KEY') {
    if (!s.apiKeys?.length) refuse('apiKeys', 'at least one key is required for an API_KEY credential');
    for (const k of s.apiKeys ?? []) apiKeys.push({ clientIdentifier: k.clientIdentifier, secretIdentifier: k.secretIdentifier ?? null, secret: k.clientSecret });
  }
  if (kind === 'SSH_KEY') {
    if (!s.privateKey) refuse('privateKey', 'is required for an SSH_KEY credential');
    else {
      try {
        fingerprint = parseSshPrivateKey(s.privateKey).fingerprint;
        fields.push({ field: 'SSH_PRIVATE_KEY', plaintext: s.privateKey });
      } catch (e) {
        if (!(e instanceof SshKeyError)) throw e;
        refuse('privateKey', e.message);
      }
    }
    if (s.passphrase) fields.push({ field: 'PASSPHRASE', plaintext: s.passphrase });
  }
  if (issues.length) throw new ValidationError(issues);
  return { fields, apiKeys, fingerprint, strength };
}

/** Seals a full set of fields as `version` of a credential. */
async function writeVersion(
  ctx: Context,
  tx: TxClient,
  credential: { id: string; organizationId: string },
  version: number,
  fields: PlainSecret[],
  reason: string | null,
) {
  const rows: SecretRow[] = [];
  for (const f of fields) {
    rows.push(await sealSecret(tx, ctx.keyring, credential.organizationId, { credentialId: credential.id, version, field: f.field, keyRef: f.keyRef, plaintext: f.plaintext }));
  }
  await tx.secretValue.createMany({ data: rows });
  await tx.credentialVersion.create({
    data: { credentialId: credential.id, version, changedById: ctx.policy.userId, changedAt: ctx.clock.now(), reason },
  });
}

export type CreateCredentialInput = MetadataInput &
  SecretInput & { organizationId: string; kind: CredentialKind; generate?: GeneratorInput | null };

/** Credential metadata and secrets validated and prepared for writing; no database involved (an import's dry run uses it). */
export function prepareCreate(input: CreateCredentialInput, options: { rateStrength?: boolean } = {}) {
  const meta = parseInput(createMetadataSchema, pickMetadata(input));
  const notes = cleanNotes(meta.notes);
  let generated: string | null = null;
  if (input.generate) {
    if (input.kind !== 'PASSWORD') throw ValidationError.field('input.generate', 'only PASSWORD credentials can be generated');
    if (input.password) throw ValidationError.field('input.generate', 'give either a password or generator options, not both');
    generated = generateFrom(input.generate);
  }
  // Rating is the slow part (zxcvbn, milliseconds per password): a validation-only caller (an import's dry run) skips it.
  const secrets = prepareSecrets(input.kind, { ...input, password: generated ?? input.password }, [meta.name, meta.username ?? ''].filter(Boolean), options.rateStrength ?? true);
  return { meta, notes, generated, secrets };
}
export type PreparedCreate = ReturnType<typeof prepareCreate>;

/** Where an imported credential came from (see import.service); never set by createCredential. */
export type ImportOrigin = { importSource: string; importSourceId: string };

/**
 * Writes a prepared credential inside the caller's transaction: the row, its first version (sealed), the audit
 * entry. `placement` holds local ids the caller has already checked belong to the organization.
 */
export async function insertCredential(
  ctx: Context,
  tx: TxClient,
  organizationId: string,
  kind: CredentialKind,
  prepared: PreparedCreate,
  placement: { categoryId?: string | null; folderId?: string | null },
  origin?: ImportOrigin,
) {
  assertMayWrite(ctx, organizationId, { before: false, after: prepared.meta.restricted === true });
  const { meta, notes, secrets } = prepared;
  const now = ctx.clock.now();
  const created = await tx.credential.create({
    data: {
      organizationId,
      kind,
      name: meta.name,
      username: meta.username ?? null,
      url: meta.url ?? null,
      notes: notes ?? null,
      restricted: meta.restricted ?? false,
      resourceType: meta.resourceType ?? null,
      resourceId: meta.resourceId ?? null,
      autofillSelectors: meta.autofillSelectors ? JSON.stringify(meta.autofillSelectors) : null,
      publicKeyFingerprint: secrets.fingerprint,
      passwordStrength: secrets.strength,
      currentVersion: 1,
      createdAt: now,
      passwordUpdatedAt: now,
      createdById: ctx.policy.userId,
      updatedById: ctx.policy.userId,
      categoryId: placement.categoryId ?? null,
      folderId: placement.folderId ?? null,
      importSource: origin?.importSource ?? null,
      importSourceId: origin?.importSourceId ?? null,
    },
  });
  const fields = [...secrets.fields];
  for (const [position, k] of secrets.apiKeys.entries()) {
    const key = await tx.credentialApiKey.create({
      data: { credentialId: created.id, clientIdentifier: k.clientIdentifier, secretIdentifier: k.secretIdentifier, position },
    });
    fields.push({ field: 'API_KEY_SECRET', keyRef: key.id, plaintext: k.secret });
  }
  await writeVersion(ctx, tx, created, 1, fields, null);
  await appendAudit(tx, ctx, {
    organizationId,
    action: 'credential.create',
    targetType: 'Credential',
    targetId: created.id,
    data: { name: created.name, kind: created.kind, restricted: created.restricted, ...(origin ? { importSource: origin.importSource } : {}) },
  });
  return created;
}

export async function createCredential(ctx: Context, input: CreateCredentialInput) {
  const organizationId = localId(input.organizationId, 'Organization');
  assertMayWrite(ctx, organizationId, { before: false, after: input.restricted === true });
  const prepared = prepareCreate(input);
  const credential = await ctx.db.$transaction(async (tx) => {
    const placement = await resolvePlacement(tx, organizationId, input);
    return insertCredential(ctx, tx, organizationId, input.kind, prepared, placement);
  });
  return { credential, strength: prepared.secrets.strength, generated: prepared.generated !== null };
}

function pickMetadata(input: MetadataInput) {
  const { name, username, url, notes, restricted, resourceType, resourceId, autofillSelectors } = input;
  return { name, username, url, notes, restricted, resourceType, resourceId, autofillSelectors };
}

/** Edits metadata. Absent fields stay; null clears an optional field. Secret material changes only by rotation. */
export async function updateCredential(ctx: Context, input: MetadataInput & { id: string }) {
  return ctx.db.$transaction((tx) => updateCredentialInTx(ctx, tx, input));
}

/**
 * updateCredential inside the caller's transaction. `localPlacement` (an import's folders and categories, already
 * checked to be the organization's) replaces the global-id lookup of categoryId/folderId.
 */
export async function updateCredentialInTx(
  ctx: Context,
  tx: TxClient,
  input: MetadataInput & { id: string },
  localPlacement?: { categoryId?: string | null; folderId?: string | null },
) {
  const meta = parseInput(metadataSchema, pickMetadata(input));
  if (input.name === null) throw ValidationError.field('input.name', 'must not be empty');
  const notes = input.notes === undefined ? undefined : cleanNotes(meta.notes);
  {
    const current = await loadVisibleCredential(ctx, tx, input.id);
    assertMayWrite(ctx, current.organizationId, { before: current.restricted, after: input.restricted ?? current.restricted });
    const placement = localPlacement ?? (await resolvePlacement(tx, current.organizationId, input));
    const data: Prisma.CredentialUncheckedUpdateInput = { updatedById: ctx.policy.userId, ...placement };
    if (input.name !== undefined) data.name = meta.name;
    for (const key of ['username', 'url', 'resourceType', 'resourceId'] as const) {
      if (input[key] !== undefined) data[key] = meta[key] ?? null;
    }
    if (notes !== undefined) data.notes = notes;
    if (input.restricted != null) data.restricted = input.restricted;
    if (input.autofillSelectors !== undefined) data.autofillSelectors = meta.autofillSelectors ? JSON.stringify(meta.autofillSelectors) : null;
    const updated = await tx.credential.update({ where: { id: current.id }, data });
    await appendAudit(tx, ctx, {
      organizationId: current.organizationId,
      action: 'credential.update',
      targetType: 'Credential',
      targetId: current.id,
      data: { changed: Object.keys(data).filter((k) => k !== 'updatedById') },
    });
    return updated;
  }
}

/**
 * Stores new secret material as the next version, with a reason. Fields not replaced are carried forward
 * (re-sealed, since a ciphertext is bound to its version). `generate` makes a new random password.
 */
export type RotateInput = { id: string; newSecret?: SecretInput | null; generate?: GeneratorInput | null; reason: string };

export async function rotateCredential(ctx: Context, input: RotateInput) {
  return ctx.db.$transaction((tx) => rotateCredentialInTx(ctx, tx, input));
}

/**
 * rotateCredential inside the caller's transaction: rotateCredentials (bulk) and re-imports of changed rows rotate
 * through here, so the rules for restricted and archived credentials are these, once.
 */
export async function rotateCredentialInTx(ctx: Context, tx: TxClient, input: RotateInput) {
  const reason = parseInput(z.object({ reason: text(500) }), { reason: input.reason }).reason;
  if (!input.newSecret && !input.generate) throw ValidationError.field('input.newSecret', 'give new secret material or generator options');
  {
    const current = await loadVisibleCredential(ctx, tx, input.id);
    assertMayWrite(ctx, current.organizationId, { before: current.restricted, after: current.restricted });
    if (current.archivedAt) throw ValidationError.field('input.id', 'restore the credential before rotating it');
    // A change on the target holds the next version as pending until the target confirms it (docs/targets.md).
    if (current.pendingVersion !== null) throw ValidationError.field('input.id', 'a change of this password on its target is in progress; try again when it has finished');
    const kind = current.kind as CredentialKind;
    const previous = await tx.secretValue.findMany({ where: { credentialId: current.id, version: current.currentVersion } });
    const carried = new Map<string, PlainSecret>();
    for (const row of previous) {
      carried.set(`${row.field}:${row.keyRef}`, { field: row.field as SecretField, keyRef: row.keyRef, plaintext: await openSecret(tx, ctx.keyring, current.organizationId, row) });
    }
    let generated: string | null = null;
    if (input.generate) {
      if (kind !== 'PASSWORD') throw ValidationError.field('input.generate', 'only PASSWORD credentials can be generated');
      generated = generateFrom(input.generate);
    }
    const given: SecretInput = { ...(input.newSecret ?? {}) };
    if (generated) given.password = generated;
    // Validate the new parts alone: fill the required part of the kind from the previous version when absent.
    const primary = { PASSWORD: 'password', API_KEY: 'apiKeys', SSH_KEY: 'privateKey' } as const;
    const probe = { ...given };
    if (probe[primary[kind]] == null) {
      if (kind === 'PASSWORD') probe.password = carried.get('PASSWORD:')?.plaintext;
      if (kind === 'SSH_KEY') probe.privateKey = carried.get('SSH_PRIVATE_KEY:')?.plaintext;
      if (kind === 'API_KEY') probe.apiKeys = [{ clientIdentifier: '-', clientSecret: '-' }];
    }
    const prepared = prepareSecrets(kind, probe, [current.name, current.username ?? ''].filter(Boolean));
    for (const f of prepared.fields) {
      if ((f.field === 'PASSWORD' && given.password) || (f.field === 'OTP_SECRET' && given.otpSecret) || (f.field === 'SSH_PRIVATE_KEY' && given.privateKey) || (f.field === 'PASSPHRASE' && given.passphrase)) {
        carried.set(`${f.field}:`, f);
      }
    }
    if (kind === 'API_KEY' && given.apiKeys?.length) {
      // A new set of API keys replaces the old set from the next version on. The old rows are retired, not
      // deleted: earlier versions keep their client and secret identifiers beside their sealed secrets.
      for (const key of carried.keys()) if (key.startsWith('API_KEY_SECRET:')) carried.delete(key);
      const next = current.currentVersion + 1;
      await tx.credentialApiKey.updateMany({ where: { credentialId: current.id, retiredInVersion: null }, data: { retiredInVersion: next } });
      for (const [position, k] of given.apiKeys.entries()) {
        const key = await tx.credentialApiKey.create({
          data: { credentialId: current.id, clientIdentifier: k.clientIdentifier.trim(), secretIdentifier: k.secretIdentifier?.trim() || null, position, firstVersion: next },
        });
        carried.set(`API_KEY_SECRET:${key.id}`, { field: 'API_KEY_SECRET', keyRef: key.id, plaintext: k.clientSecret });
      }
    }
    const version = current.currentVersion + 1;
    // Conditional on the version read above: two rotations racing cannot both become version N+1.
    const bumped = await tx.credential.updateMany({
      where: { id: current.id, currentVersion: current.currentVersion },
      data: {
        currentVersion: version,
        passwordUpdatedAt: ctx.clock.now(),
        updatedById: ctx.policy.userId,
        ...(kind === 'PASSWORD' && (given.password || generated) ? { passwordStrength: prepared.strength } : {}),
        ...(kind === 'SSH_KEY' && given.privateKey ? { publicKeyFingerprint: prepared.fingerprint } : {}),
      },
    });
    if (bumped.count !== 1) throw new ConflictError('The credential was rotated meanwhile; nothing was changed. Try again.');
    await writeVersion(ctx, tx, current, version, [...carried.values()], reason);
    await appendAudit(tx, ctx, {
      organizationId: current.organizationId,
      action: 'credential.rotate',
      targetType: 'Credential',
      targetId: current.id,
      data: { version, reason, generated: generated !== null },
    });
    const credential = await tx.credential.findUniqueOrThrow({ where: { id: current.id } });
    return { credential, strength: kind === 'PASSWORD' && (given.password || generated) ? prepared.strength : null };
  }
}

async function setArchived(ctx: Context, globalId: string, archived: boolean) {
  return ctx.db.$transaction(async (tx) => {
    const current = await loadVisibleCredential(ctx, tx, globalId);
    assertMayWrite(ctx, current.organizationId, { before: current.restricted, after: current.restricted });
    if (Boolean(current.archivedAt) === archived) return current;
    const updated = await tx.credential.update({
      where: { id: current.id },
      data: { archivedAt: archived ? ctx.clock.now() : null, updatedById: ctx.policy.userId },
    });
    await appendAudit(tx, ctx, {
      organizationId: current.organizationId,
      action: archived ? 'credential.archive' : 'credential.restore',
      targetType: 'Credential',
      targetId: current.id,
      data: { name: current.name },
    });
    return updated;
  });
}

export const archiveCredential = (ctx: Context, id: string) => setArchived(ctx, id, true);
export const restoreCredential = (ctx: Context, id: string) => setArchived(ctx, id, false);

/** Deletes a credential and its secrets for good. The audit log and access records stay. ADMIN only. */
export async function deleteCredential(ctx: Context, globalId: string) {
  return ctx.db.$transaction(async (tx) => {
    const current = await loadVisibleCredential(ctx, tx, globalId);
    ctx.policy.assert('credential:delete', { organizationId: current.organizationId });
    // The check for open requests and the delete are one step: on PostgreSQL the row is locked FOR UPDATE before
    // the check, and requestAccess holds FOR KEY SHARE on it while it creates a request, so a request made
    // meanwhile is either seen here (and the delete refused) or made after the delete (and refused there).
    // SQLite serialises writing transactions.
    if (ctx.config.databaseProvider === 'postgresql') {
      const locked = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "Credential" WHERE "id" = ${current.id} FOR UPDATE`;
      if (locked.length === 0) throw new ForbiddenError();
    }
    const open = await tx.accessRequest.findMany({ where: { credentialId: current.id, state: { in: [...OPEN_STATES] } } });
    const now = ctx.clock.now();
    if (open.some((r) => OPEN_STATES.includes(effectiveState({ ...r, state: r.state as RequestState }, now)))) {
      throw new CredentialHasOpenRequestsError();
    }
    await tx.credential.delete({ where: { id: current.id } });
    await appendAudit(tx, ctx, {
      organizationId: current.organizationId,
      action: 'credential.delete',
      targetType: 'Credential',
      targetId: current.id,
      data: { name: current.name, kind: current.kind },
    });
    return current;
  });
}

/** A credential with pending, approved or available access requests is archived, not deleted. */
export class CredentialHasOpenRequestsError extends DomainError {
  override name = 'CredentialHasOpenRequestsError';
  constructor() {
    super('This credential has open access requests; cancel or revoke them first, or archive the credential.');
  }
}

/**
 * Stores a freshly generated password as the next version, inside the caller's transaction: the access-request
 * lifecycle rotates a checked-out credential when its request ends (policies with rotateOnCheckIn). Other
 * fields (the OTP seed) are carried over. Returns the new version, or null when there is nothing to rotate
 * (deleted, archived, or not a PASSWORD credential — those are rotated by people).
 */
export async function rotateGeneratedPassword(ctx: Context, tx: TxClient, credentialId: string, reason: string): Promise<number | null> {
  const current = await tx.credential.findUnique({ where: { id: credentialId } });
  if (!current || current.kind !== 'PASSWORD' || current.archivedAt || current.pendingVersion !== null) return null;
  const previous = await tx.secretValue.findMany({ where: { credentialId, version: current.currentVersion } });
  const fields: PlainSecret[] = [];
  for (const row of previous) {
    if (row.field !== 'PASSWORD') fields.push({ field: row.field as SecretField, keyRef: row.keyRef, plaintext: await openSecret(tx, ctx.keyring, current.organizationId, row) });
  }
  const password = generateFrom({});
  const { strength } = prepareSecrets('PASSWORD', { password }, [current.name, current.username ?? ''].filter(Boolean));
  fields.push({ field: 'PASSWORD', plaintext: password });
  const version = current.currentVersion + 1;
  const bumped = await tx.credential.updateMany({
    where: { id: current.id, currentVersion: current.currentVersion },
    data: { currentVersion: version, passwordUpdatedAt: ctx.clock.now(), passwordStrength: strength, updatedById: ctx.policy.userId },
  });
  if (bumped.count !== 1) return null;
  await writeVersion(ctx, tx, current, version, fields, reason);
  await appendAudit(tx, ctx, {
    organizationId: current.organizationId,
    action: 'credential.rotate',
    targetType: 'Credential',
    targetId: current.id,
    data: { version, reason, generated: true },
  });
  return version;
}
