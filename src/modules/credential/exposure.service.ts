import { z } from 'zod';
import type { Context } from '../../context.ts';
import { DomainError, ForbiddenError, ValidationError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { parseInput, text } from '../../lib/validate.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { rotateCredential, type GeneratorInput } from './credential.service.ts';
import type { Credential } from '../../generated/prisma-sqlite/client.ts';

/** Credentials one exposure report lists at most (newest exposure first); `truncated` says when there were more. */
export const EXPOSURE_MAX = 500;
/** Ids one rotateCredentials call takes (each is a transaction of its own). */
export const ROTATE_MAX_IDS = 100;

export type ExposureEntry = {
  credentialId: string;
  credentialName: string;
  credential: Credential | null;
  surfaces: string[];
  accessCount: number;
  releasedByRequest: boolean;
  lastExposedAt: Date;
  lastVersionSeen: number | null;
  rotatedSince: boolean;
};

export type ExposureReport = { actorId: string; since: Date; until: Date; entries: ExposureEntry[]; truncated: boolean };

/**
 * Everything one person revealed, copied, exported (access records) or had released through an access request
 * (an approved window that overlapped the period), in the organizations where the viewer may read exposures
 * (exposure:read: ADMIN, MANAGER, AUDITOR), one entry per credential: when it was last exposed and whether its
 * secret changed since. Deleted credentials are left out (there is nothing left to rotate).
 */
export async function exposureReport(ctx: Context, input: { actorId: string; since: Date; until?: Date | null; first?: number | null }): Promise<ExposureReport> {
  const actorId = localId(input.actorId, 'User');
  const now = ctx.clock.now();
  const until = input.until ?? now;
  if (until.getTime() < input.since.getTime()) throw ValidationError.field('until', 'must not be before since');
  const first = input.first ?? EXPOSURE_MAX;
  if (!Number.isInteger(first) || first < 1 || first > EXPOSURE_MAX) throw ValidationError.field('first', `must be from 1 to ${EXPOSURE_MAX}`);
  const organizationIds = ctx.policy.organizationIds('exposure:read');
  const byCredential = new Map<string, ExposureEntry>();
  const entry = (credentialId: string, name: string): ExposureEntry => {
    let e = byCredential.get(credentialId);
    if (!e) {
      e = { credentialId, credentialName: name, credential: null, surfaces: [], accessCount: 0, releasedByRequest: false, lastExposedAt: new Date(0), lastVersionSeen: null, rotatedSince: false };
      byCredential.set(credentialId, e);
    }
    return e;
  };
  if (organizationIds.length > 0) {
    // One grouped read: per credential and surface, how often, the latest time and version.
    const groups = await ctx.db.accessRecord.groupBy({
      by: ['credentialId', 'surface'],
      where: { organizationId: { in: organizationIds }, actorUserId: actorId, credentialId: { not: null }, at: { gte: input.since, lte: until } },
      _count: { _all: true },
      _max: { at: true, version: true, credentialName: true },
    });
    for (const g of groups) {
      const e = entry(g.credentialId!, g._max.credentialName ?? '');
      if (!e.surfaces.includes(g.surface)) e.surfaces.push(g.surface);
      e.accessCount += g._count._all;
      if (g._max.at && g._max.at > e.lastExposedAt) e.lastExposedAt = g._max.at;
      if (g._max.version != null) e.lastVersionSeen = Math.max(e.lastVersionSeen ?? 0, g._max.version);
    }
    const requests = await ctx.db.accessRequest.findMany({
      where: {
        organizationId: { in: organizationIds },
        requesterId: actorId,
        credentialId: { not: null },
        startsAt: { lte: until },
        endsAt: { gte: input.since },
        OR: [{ availableAt: { not: null } }, { state: { in: ['APPROVED', 'AVAILABLE'] }, startsAt: { lte: now } }],
      },
      select: { credentialId: true, credentialName: true, availableAt: true, startsAt: true, endsAt: true, closedAt: true },
    });
    for (const r of requests) {
      const end = Math.min((r.closedAt ?? r.endsAt).getTime(), until.getTime(), now.getTime());
      const start = (r.availableAt ?? r.startsAt).getTime();
      if (end < start || end < input.since.getTime()) continue;
      const e = entry(r.credentialId!, r.credentialName);
      e.releasedByRequest = true;
      if (!e.surfaces.includes('REQUEST')) e.surfaces.push('REQUEST');
      if (end > e.lastExposedAt.getTime()) e.lastExposedAt = new Date(end);
    }
  }
  const all = [...byCredential.values()].sort((a, b) => b.lastExposedAt.getTime() - a.lastExposedAt.getTime() || a.credentialId.localeCompare(b.credentialId));
  const entries = all.slice(0, first);
  const credentials = await ctx.db.credential.findMany({ where: { id: { in: entries.map((e) => e.credentialId) }, organizationId: { in: organizationIds } } });
  const byId = new Map(credentials.map((c) => [c.id, c]));
  const kept: ExposureEntry[] = [];
  for (const e of entries) {
    const c = byId.get(e.credentialId);
    if (!c) continue;
    e.credential = c;
    e.credentialName = c.name;
    e.rotatedSince = c.passwordUpdatedAt.getTime() > e.lastExposedAt.getTime();
    e.surfaces.sort();
    kept.push(e);
  }
  return { actorId, since: input.since, until, entries: kept, truncated: all.length > first };
}

/** One id of rotateCredentials that was not found, or that the viewer may not rotate (the same answer for both). */
export class CredentialNotAvailableError extends DomainError {
  override name = 'CredentialNotAvailableError';
  constructor() {
    super('No such credential, or you may not rotate it.');
  }
}

export type BulkRotateItem = { id: string; credential: Credential | null; strength: number | null; error: Error | null };

/**
 * New generated passwords for many credentials, each through rotateCredential (its own transaction, its rules for
 * restricted and archived credentials, its credential.rotate entry), then one credential.rotate_batch entry per
 * organization touched. One failure does not undo the others: each id gets its own result.
 */
export async function rotateCredentials(ctx: Context, input: { ids: string[]; generate?: GeneratorInput | null; reason: string }): Promise<BulkRotateItem[]> {
  if (input.ids.length === 0) throw ValidationError.field('input.ids', 'name at least one credential');
  if (input.ids.length > ROTATE_MAX_IDS) throw ValidationError.field('input.ids', `at most ${ROTATE_MAX_IDS} credentials per call`);
  if (new Set(input.ids).size !== input.ids.length) throw ValidationError.field('input.ids', 'names a credential twice');
  const reason = parseInput(z.object({ reason: text(500) }), { reason: input.reason }).reason;
  const results: BulkRotateItem[] = [];
  const rotated = new Map<string, string[]>();
  for (const id of input.ids) {
    try {
      const r = await rotateCredential(ctx, { id, generate: input.generate ?? {}, reason });
      results.push({ id, credential: r.credential, strength: r.strength, error: null });
      rotated.set(r.credential.organizationId, [...(rotated.get(r.credential.organizationId) ?? []), r.credential.id]);
    } catch (error) {
      if (error instanceof ForbiddenError) results.push({ id, credential: null, strength: null, error: new CredentialNotAvailableError() });
      else if (error instanceof DomainError) results.push({ id, credential: null, strength: null, error });
      else if ((error as { extensions?: { code?: string } }).extensions?.code === 'BAD_USER_INPUT') results.push({ id, credential: null, strength: null, error: new CredentialNotAvailableError() });
      else throw error;
    }
  }
  for (const [organizationId, credentialIds] of rotated) {
    await ctx.db.$transaction((tx) =>
      appendAudit(tx, ctx, {
        organizationId,
        action: 'credential.rotate_batch',
        targetType: 'Organization',
        targetId: organizationId,
        data: { reason, count: credentialIds.length, credentialIds, requested: input.ids.length },
      }),
    );
  }
  return results;
}
