import { z } from 'zod';
import type { Context } from '../../context.ts';
import { isUniqueViolation, type TxClient } from '../../db/client.ts';
import { AlreadyExistsError, DomainError, ForbiddenError, ValidationError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { HOST_KEY_FINGERPRINT, HostKeyProbeError, probeHostKey } from '../../lib/sshHostKey.ts';
import { parseInput, text } from '../../lib/validate.ts';
import { appendAudit } from '../audit/audit.chain.ts';

/** The host did not answer with an SSH host key (unreachable, refused, not SSH, or too slow). Nothing was pinned. */
export class AssetUnreachableError extends DomainError {
  override name = 'AssetUnreachableError';
  constructor() {
    super('The asset could not be reached, or did not present an SSH host key. Nothing was pinned.');
  }
}

/** The asset already has a pinned host key and the new one was not confirmed with `replace`. Nothing changed. */
export class HostKeyAlreadyPinnedError extends DomainError {
  override name = 'HostKeyAlreadyPinnedError';
  constructor(readonly pinned: string, readonly presented: string | null) {
    super('The asset already has a pinned host key; pass replace: true to pin another one.');
  }
}

/** Only PASSWORD and SSH_KEY credentials with a username can be an asset's account. */
export class NotAnAccountError extends DomainError {
  override name = 'NotAnAccountError';
  constructor() {
    super('Only PASSWORD or SSH_KEY credentials with a username can be accounts of an asset.');
  }
}

// A host name or an IP literal: letters, digits, dots, dashes, colons (IPv6), no spaces or URL parts.
const hostName = text(253).refine((h) => /^[A-Za-z0-9._:-]+$/.test(h), 'must be a host name or an IP address');
const port = z.number().int().min(1).max(65535);
const folderRef = z.string().nullish();

const createInput = z.object({ name: text(200), host: hostName, port: port.default(22), folderId: folderRef, hostKeyFingerprint: z.string().regex(HOST_KEY_FINGERPRINT, 'must look like SHA256:<43 base64 characters>').nullish() });
const updateInput = z.object({ name: text(200).optional(), host: hostName.optional(), port: port.optional(), folderId: folderRef });

function duplicate(error: unknown): never {
  if (isUniqueViolation(error)) throw new AlreadyExistsError('An asset with this name already exists.', 'name');
  throw error;
}

async function folderOf(tx: TxClient, organizationId: string, folderId: string | null | undefined): Promise<string | null | undefined> {
  if (folderId === undefined) return undefined;
  if (folderId === null) return null;
  let id: string;
  try {
    id = localId(folderId, 'Folder');
  } catch {
    throw ValidationError.field('input.folderId', 'not a Folder id');
  }
  const folder = await tx.folder.findFirst({ where: { id, organizationId }, select: { id: true } });
  if (!folder) throw ValidationError.field('input.folderId', 'not found in this organization');
  return folder.id;
}

/** An asset the viewer may manage; a foreign or missing id answers the same (FORBIDDEN). */
async function loadForManage(ctx: Context, tx: TxClient, globalId: string) {
  const asset = await tx.asset.findUnique({ where: { id: localId(globalId, 'Asset') } });
  if (!asset || !ctx.policy.can('asset:manage', { organizationId: asset.organizationId })) throw new ForbiddenError();
  return asset;
}

export async function createAsset(ctx: Context, input: { organizationId: string; name: string; host: string; port?: number | null; folderId?: string | null; hostKeyFingerprint?: string | null }) {
  const organizationId = localId(input.organizationId, 'Organization');
  ctx.policy.assert('asset:manage', { organizationId });
  const data = parseInput(createInput, { ...input, port: input.port ?? undefined, organizationId: undefined });
  return ctx.db
    .$transaction(async (tx) => {
      const now = ctx.clock.now();
      const folderId = (await folderOf(tx, organizationId, data.folderId)) ?? null;
      const asset = await tx.asset.create({
        data: { organizationId, folderId, name: data.name, host: data.host, port: data.port, hostKeyFingerprint: data.hostKeyFingerprint ?? null, hostKeyPinnedAt: data.hostKeyFingerprint ? now : null, createdAt: now, updatedAt: now },
      });
      await appendAudit(tx, ctx, { organizationId, action: 'asset.create', targetType: 'Asset', targetId: asset.id, data: { name: asset.name, host: asset.host, port: asset.port, hostKeyFingerprint: asset.hostKeyFingerprint } });
      return asset;
    })
    .catch(duplicate);
}

/** Changing the host or port unpins the host key: another address is another machine until it is pinned again. */
export async function updateAsset(ctx: Context, input: { id: string; name?: string | null; host?: string | null; port?: number | null; folderId?: string | null }) {
  const data = parseInput(updateInput, { name: input.name ?? undefined, host: input.host ?? undefined, port: input.port ?? undefined, folderId: input.folderId });
  return ctx.db
    .$transaction(async (tx) => {
      const asset = await loadForManage(ctx, tx, input.id);
      const folderId = await folderOf(tx, asset.organizationId, data.folderId);
      const moved = (data.host !== undefined && data.host !== asset.host) || (data.port !== undefined && data.port !== asset.port);
      const updated = await tx.asset.update({
        where: { id: asset.id },
        data: { name: data.name, host: data.host, port: data.port, folderId, updatedAt: ctx.clock.now(), ...(moved ? { hostKeyFingerprint: null, hostKeyPinnedAt: null } : {}) },
      });
      await appendAudit(tx, ctx, { organizationId: asset.organizationId, action: 'asset.update', targetType: 'Asset', targetId: asset.id, data: { name: updated.name, host: updated.host, port: updated.port, hostKeyUnpinned: moved && asset.hostKeyFingerprint !== null } });
      return updated;
    })
    .catch(duplicate);
}

/**
 * Pins the asset's host key: the fingerprint given, or — trust on first use — the one the host presents now.
 * Replacing a pinned key needs `replace: true` (a changed key is what an impostor looks like).
 */
export async function pinAssetHostKey(ctx: Context, input: { id: string; fingerprint?: string | null; replace?: boolean | null }) {
  const given = input.fingerprint == null ? null : parseInput(z.object({ fingerprint: z.string().regex(HOST_KEY_FINGERPRINT, 'must look like SHA256:<43 base64 characters>') }), { fingerprint: input.fingerprint }).fingerprint;
  const asset = await ctx.db.$transaction((tx) => loadForManage(ctx, tx, input.id));
  let fingerprint = given;
  if (!fingerprint) {
    try {
      fingerprint = await probeHostKey(asset.host, asset.port);
    } catch (error) {
      if (error instanceof HostKeyProbeError) {
        ctx.logger.info({ event: 'asset.probe_failed', assetId: asset.id, reason: error.message }, 'host key probe failed');
        throw new AssetUnreachableError();
      }
      throw error;
    }
  }
  if (asset.hostKeyFingerprint && asset.hostKeyFingerprint !== fingerprint && !input.replace) throw new HostKeyAlreadyPinnedError(asset.hostKeyFingerprint, fingerprint);
  return ctx.db.$transaction(async (tx) => {
    const current = await loadForManage(ctx, tx, input.id);
    const updated = await tx.asset.update({ where: { id: current.id }, data: { hostKeyFingerprint: fingerprint, hostKeyPinnedAt: ctx.clock.now(), updatedAt: ctx.clock.now() } });
    await appendAudit(tx, ctx, {
      organizationId: current.organizationId,
      action: 'asset.pin_host_key',
      targetType: 'Asset',
      targetId: current.id,
      data: { fingerprint, previous: current.hostKeyFingerprint, source: given ? 'given' : 'first_use' },
    });
    return updated;
  });
}

/** Links a credential to an asset as one of its accounts (or unlinks it with a null asset). */
export async function setCredentialAsset(ctx: Context, input: { credentialId: string; assetId: string | null }) {
  return ctx.db.$transaction(async (tx) => {
    const credential = await tx.credential.findUnique({ where: { id: localId(input.credentialId, 'Credential') } });
    if (!credential || !ctx.policy.can('asset:manage', { organizationId: credential.organizationId })) throw new ForbiddenError();
    let assetId: string | null = null;
    if (input.assetId !== null) {
      const asset = await tx.asset.findUnique({ where: { id: localId(input.assetId, 'Asset') } });
      if (!asset || asset.organizationId !== credential.organizationId) throw new ForbiddenError();
      if (!['PASSWORD', 'SSH_KEY'].includes(credential.kind) || !credential.username) throw new NotAnAccountError();
      assetId = asset.id;
    }
    const updated = await tx.credential.update({ where: { id: credential.id }, data: { assetId } });
    await appendAudit(tx, ctx, { organizationId: credential.organizationId, action: 'credential.set_asset', targetType: 'Credential', targetId: credential.id, data: { assetId, previousAssetId: credential.assetId } });
    return updated;
  });
}
