import { createHash } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Context } from '../../context.ts';
import { isUniqueViolation, type TxClient } from '../../db/client.ts';
import { ConflictError, ValidationError, type FieldIssue } from '../../lib/errors.ts';
import { parseOtpSecret } from '../../lib/totp.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { insertCredential, prepareCreate, rotateCredentialInTx, updateCredentialInTx, type PreparedCreate } from '../credential/credential.service.ts';
import { openSecret } from '../credential/secrets.ts';
import { SOURCE_NAME, type Candidate, type ImportFormat, type ImportItem, rowPath } from './formats.ts';

/** Rows one GraphQL request (and one CLI batch, one transaction) handles; larger files go through the CLI. */
export const IMPORT_MAX_ROWS = 1000;
/** Problems reported per import; past this the report says how many more there were. */
export const IMPORT_MAX_PROBLEMS = 100;
/** An import batch's transaction may take this long (it seals and audits up to IMPORT_MAX_ROWS credentials). */
const IMPORT_TX_TIMEOUT_MS = 120_000;

/**
 * Rules applied to every row: folders whose credentials become restricted (any folder on the row's path, by name,
 * ignoring letter case), and source categories mapped to vaultgate category names. A source category without a
 * mapping lands in the vaultgate category of the same name, if there is one; otherwise the credential stays
 * uncategorised.
 */
export type ImportRules = { restrictedFolders?: string[] | null; categoryMap?: { source: string; category: string }[] | null };

export type ImportAction = 'CREATE' | 'UPDATE' | 'UNCHANGED' | 'SKIP';
export type ImportItemReport = { row: number; action: ImportAction; name: string | null; reason: string | null; credentialId: string | null };

export type ImportReport = {
  format: ImportFormat;
  dryRun: boolean;
  committed: boolean;
  fileSha256: string;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  foldersCreated: number;
  problems: FieldIssue[];
  moreProblems: number;
  items: ImportItemReport[];
};

export const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

export function emptyReport(format: ImportFormat, dryRun: boolean, fileSha256: string): ImportReport {
  return { format, dryRun, committed: false, fileSha256, rows: 0, created: 0, updated: 0, unchanged: 0, skipped: 0, foldersCreated: 0, problems: [], moreProblems: 0, items: [] };
}

/** Adds a batch's report to a running total (the CLI's batches). */
export function addReport(total: ImportReport, batch: ImportReport, keepItems: boolean): void {
  for (const k of ['rows', 'created', 'updated', 'unchanged', 'skipped', 'foldersCreated', 'moreProblems'] as const) total[k] += batch[k];
  for (const p of batch.problems) {
    if (total.problems.length < IMPORT_MAX_PROBLEMS) total.problems.push(p);
    else total.moreProblems += 1;
  }
  if (keepItems) total.items.push(...batch.items);
}

type Planned = {
  row: number;
  item: ImportItem;
  restricted: boolean;
  categoryId: string | null;
  prepared: PreparedCreate;
  existing: { id: string; restricted: boolean; archivedAt: Date | null; categoryId: string | null } | null;
  action: ImportAction;
  reason: string | null;
  metadataChanged: boolean;
  secretChanged: boolean;
};

const lower = (s: string) => s.toLowerCase();

/** Folder tree of an organization as a map from "parentId\u0000lower(name)" to id. */
async function folderIndex(tx: TxClient | Context['db'], organizationId: string): Promise<Map<string, string>> {
  const folders = await tx.folder.findMany({ where: { organizationId }, select: { id: true, parentId: true, name: true } });
  return new Map(folders.map((f) => [`${f.parentId ?? ''}\u0000${lower(f.name)}`, f.id]));
}

/** The id of an existing folder path, or null when some part of it does not exist yet. */
function findFolder(index: Map<string, string>, path: string[]): string | null | undefined {
  let parent = '';
  for (const name of path) {
    const id = index.get(`${parent}\u0000${lower(name)}`);
    if (!id) return undefined;
    parent = id;
  }
  return path.length === 0 ? null : parent;
}

/**
 * One batch of an import: validates every row, looks up what earlier imports made, and — unless it is a dry run
 * or any row has a problem — writes it all in one transaction (all or nothing): new credentials, changed ones as
 * metadata edits or new versions (rotation), folders the file names, one audit entry per credential and one for
 * the batch. `seen` carries source ids across the batches of one file, so a duplicate row is found anywhere.
 */
export async function importBatch(
  ctx: Context,
  input: {
    organizationId: string;
    format: ImportFormat;
    candidates: Candidate[];
    rules?: ImportRules | null;
    dryRun: boolean;
    fileSha256: string;
    seen?: Map<string, number>;
    batch?: number;
  },
): Promise<ImportReport> {
  const { organizationId, format } = input;
  ctx.policy.assert('credential:import', { organizationId });
  if (input.candidates.length > IMPORT_MAX_ROWS) throw ValidationError.field('input.content', `holds more than ${IMPORT_MAX_ROWS} rows; split the file or use the CLI`);
  const source = SOURCE_NAME[format];
  const report = emptyReport(format, input.dryRun, input.fileSha256);
  const problems: FieldIssue[] = [];
  const seen = input.seen ?? new Map<string, number>();
  const restrictedFolders = new Set((input.rules?.restrictedFolders ?? []).map((f) => lower(f.trim())));
  const categories = await ctx.db.category.findMany({ where: { organizationId }, select: { id: true, name: true } });
  const categoryByName = new Map(categories.map((c) => [lower(c.name), c.id]));
  const categoryMap = new Map<string, string>();
  for (const [i, m] of (input.rules?.categoryMap ?? []).entries()) {
    const id = categoryByName.get(lower(m.category.trim()));
    if (!id) problems.push({ path: ['input', 'rules', `categoryMap[${i}]`, 'category'], message: 'no such category in this organization' });
    else categoryMap.set(lower(m.source.trim()), id);
  }

  const planned: Planned[] = [];
  for (const c of input.candidates) {
    report.rows += 1;
    if (c.skip) {
      report.skipped += 1;
      report.items.push({ row: c.row, action: 'SKIP', name: c.item?.name ?? null, reason: c.skip, credentialId: null });
      continue;
    }
    if (c.problems?.length || !c.item) {
      problems.push(...(c.problems ?? []));
      continue;
    }
    const item = c.item;
    const earlier = seen.get(item.sourceId);
    if (earlier !== undefined) {
      problems.push({ path: rowPath(c.row, 'id'), message: `repeats row ${earlier} (same source id, or the same folder, name, username and URL)` });
      continue;
    }
    seen.set(item.sourceId, c.row);
    const folderIssue = item.folder.find((f) => f.length > 255);
    if (folderIssue) {
      problems.push({ path: rowPath(c.row, 'folder'), message: 'a folder name is longer than 255 characters' });
      continue;
    }
    const restricted = item.folder.some((f) => restrictedFolders.has(lower(f)));
    const categoryId = item.category ? (categoryMap.get(lower(item.category)) ?? categoryByName.get(lower(item.category)) ?? null) : null;
    try {
      const prepared = prepareCreate({
        organizationId: '',
        kind: 'PASSWORD',
        name: item.name,
        username: item.username,
        url: item.url,
        notes: item.notes,
        restricted,
        password: item.password,
        otpSecret: item.otpSecret,
      }, { rateStrength: !input.dryRun });
      planned.push({ row: c.row, item, restricted, categoryId, prepared, existing: null, action: 'CREATE', reason: null, metadataChanged: false, secretChanged: false });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      // Paths name the row and the field; messages never hold the value.
      for (const issue of error.fieldErrors) problems.push({ path: rowPath(c.row, issue.path[issue.path.length - 1] ?? 'row'), message: issue.message });
    }
  }

  // What earlier imports made from these rows, and whether the row has changed since.
  const folders = await folderIndex(ctx.db, organizationId);
  const ids = planned.map((p) => p.item.sourceId);
  const existing = ids.length
    ? await ctx.db.credential.findMany({ where: { organizationId, importSource: source, importSourceId: { in: ids } } })
    : [];
  const bySourceId = new Map(existing.map((e) => [e.importSourceId!, e]));
  const newFolders = new Set<string>();
  for (const p of planned) {
    const folderId = findFolder(folders, p.item.folder);
    // Each missing level is a folder to create ("Servers/Rack 1" when neither exists: two).
    if (folderId === undefined) {
      for (let depth = 1; depth <= p.item.folder.length; depth++) {
        const prefix = p.item.folder.slice(0, depth);
        if (findFolder(folders, prefix) === undefined) newFolders.add(prefix.map(lower).join('\u0000'));
      }
    }
    const e = bySourceId.get(p.item.sourceId);
    if (!e) continue;
    p.existing = e;
    if (e.archivedAt) {
      p.action = 'SKIP';
      p.reason = 'archived in vaultgate; restore it to import changes';
      continue;
    }
    const m = p.prepared.meta;
    const notes = p.prepared.notes ?? null;
    p.metadataChanged =
      e.name !== m.name ||
      e.username !== (m.username ?? null) ||
      e.url !== (m.url ?? null) ||
      e.notes !== notes ||
      e.folderId !== (folderId ?? null) ||
      (p.categoryId !== null && e.categoryId !== p.categoryId) ||
      (p.restricted && !e.restricted);
    const secrets = await ctx.db.secretValue.findMany({ where: { credentialId: e.id, version: e.currentVersion, field: { in: ['PASSWORD', 'OTP_SECRET'] } } });
    const plain = new Map<string, string>();
    for (const s of secrets) plain.set(s.field, await openSecret(ctx.db, ctx.keyring, organizationId, s));
    const otp = p.item.otpSecret ? JSON.stringify(parseOtpSecret(p.item.otpSecret)) : null;
    p.secretChanged = plain.get('PASSWORD') !== p.item.password || (otp !== null && plain.get('OTP_SECRET') !== otp);
    p.action = p.metadataChanged || p.secretChanged ? 'UPDATE' : 'UNCHANGED';
    if (p.action === 'UPDATE') p.reason = [p.metadataChanged ? 'details' : null, p.secretChanged ? 'secret (new version)' : null].filter(Boolean).join(' and ') + ' changed';
  }
  report.foldersCreated = newFolders.size;
  for (const p of planned) {
    if (p.action === 'CREATE') report.created += 1;
    else if (p.action === 'UPDATE') report.updated += 1;
    else if (p.action === 'UNCHANGED') report.unchanged += 1;
    else report.skipped += 1;
    report.items.push({ row: p.row, action: p.action, name: p.item.name, reason: p.reason, credentialId: p.existing ? encodeGlobalID('Credential', p.existing.id) : null });
  }
  report.items.sort((a, b) => a.row - b.row);
  report.problems = problems.slice(0, IMPORT_MAX_PROBLEMS);
  report.moreProblems = Math.max(0, problems.length - IMPORT_MAX_PROBLEMS);
  if (problems.length > 0 || input.dryRun) return report;
  if (report.created + report.updated === 0) {
    report.committed = true;
    return report;
  }

  try {
    await ctx.db.$transaction(
      async (tx) => {
        // The organization's row lock (PostgreSQL), as folder writes take it: concurrent imports into one
        // organization take turns, so folder names stay unique and a source id is created once.
        await tx.organization.update({ where: { id: organizationId }, data: { updatedAt: ctx.clock.now() } });
        const index = await folderIndex(tx, organizationId);
        const ensureFolder = async (path: string[]): Promise<string | null> => {
          let parent: string | null = null;
          for (const name of path) {
            const key = `${parent ?? ''}\u0000${lower(name)}`;
            let id = index.get(key);
            if (!id) {
              id = (await tx.folder.create({ data: { organizationId, parentId: parent, name } })).id;
              index.set(key, id);
            }
            parent = id;
          }
          return parent;
        };
        for (const p of planned) {
          if (p.action !== 'CREATE' && p.action !== 'UPDATE') continue;
          const folderId = await ensureFolder(p.item.folder);
          if (p.action === 'CREATE') {
            const created = await insertCredential(ctx, tx, organizationId, 'PASSWORD', p.prepared, { folderId, categoryId: p.categoryId }, { importSource: source, importSourceId: p.item.sourceId });
            const r = report.items.find((i) => i.row === p.row);
            if (r) r.credentialId = encodeGlobalID('Credential', created.id);
            continue;
          }
          const id = encodeGlobalID('Credential', p.existing!.id);
          if (p.metadataChanged) {
            await updateCredentialInTx(
              ctx,
              tx,
              { id, name: p.item.name, username: p.item.username, url: p.item.url, notes: p.item.notes, ...(p.restricted ? { restricted: true } : {}) },
              { folderId, ...(p.categoryId ? { categoryId: p.categoryId } : {}) },
            );
          }
          if (p.secretChanged) {
            await rotateCredentialInTx(ctx, tx, {
              id,
              newSecret: { password: p.item.password, ...(p.item.otpSecret ? { otpSecret: p.item.otpSecret } : {}) },
              reason: `import from ${source}: changed in the source`,
            });
          }
        }
        await appendAudit(tx, ctx, {
          organizationId,
          action: 'credential.import',
          targetType: 'Organization',
          targetId: organizationId,
          data: {
            format: source,
            fileSha256: input.fileSha256,
            ...(input.batch !== undefined ? { batch: input.batch } : {}),
            rows: report.rows,
            created: report.created,
            updated: report.updated,
            unchanged: report.unchanged,
            skipped: report.skipped,
            foldersCreated: report.foldersCreated,
          },
        });
      },
      { timeout: IMPORT_TX_TIMEOUT_MS, maxWait: 10_000 },
    );
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError('Another import of these rows ran at the same time; nothing was written. Run the import again.');
    throw error;
  }
  report.committed = true;
  return report;
}
