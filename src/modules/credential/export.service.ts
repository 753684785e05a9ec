import type { Context } from '../../context.ts';
import { appendAudit } from '../audit/audit.chain.ts';
import { credentialOrderBy, credentialWhere, type CredentialFilter } from './credential.query.ts';
import { limitSecretAccess, recordAccess } from './reveal.service.ts';
import { openSecret } from './secrets.ts';
import { localId } from '../../lib/ids.ts';
import { ValidationError } from '../../lib/errors.ts';
import { encodeGlobalID } from '@pothos/plugin-relay';

/** Exports stop here; larger sets should be filtered (or paged through the API). */
export const EXPORT_LIMIT = 5000;
/** Credentials per transaction of an export (see exportCredentials). */
export const EXPORT_BATCH_SIZE = 25;

const COLUMNS = ['id', 'kind', 'name', 'username', 'url', 'category', 'folder', 'restricted', 'passwordUpdatedAt', 'archivedAt'] as const;
const SECRET_COLUMNS = ['password', 'otpSecret', 'apiKeys', 'privateKey', 'passphrase'] as const;

/** RFC 4180 quoting, plus a leading apostrophe where a spreadsheet would run a formula (CSV injection). */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Exports credentials of one organization as CSV or JSON: metadata only (ADMIN, MANAGER, AUDITOR), or with
 * secrets (ADMIN only). Each exported secret is an access with surface EXPORT, recorded in the same
 * transaction that decrypts it; restricted credentials never export their secrets.
 */
export async function exportCredentials(
  ctx: Context,
  input: { organizationId: string; filter?: Omit<CredentialFilter, 'organizationId'> | null; format: 'CSV' | 'JSON'; includeSecrets: boolean },
) {
  const organizationId = localId(input.organizationId, 'Organization');
  ctx.policy.assert(input.includeSecrets ? 'credential:exportSecrets' : 'credential:export', { organizationId });
  // One export with secrets is one call against the secret-access budget, however many it includes.
  if (input.includeSecrets) await limitSecretAccess(ctx);
  const where = await credentialWhere(ctx, { ...(input.filter ?? {}), organizationId: input.organizationId });
  if ((await ctx.db.credential.count({ where })) > EXPORT_LIMIT) {
    throw ValidationError.field('input.filter', `matches more than ${EXPORT_LIMIT} credentials; narrow the filter`);
  }
  const rows: Record<string, unknown>[] = [];
  let secretsExported = 0;
  // Batches of EXPORT_BATCH_SIZE, each in its own short transaction: the organization's audit head is locked
  // (on PostgreSQL) only while one batch records its accesses, so other audited writes interleave instead of
  // waiting for the whole export. Every secret is recorded in the transaction that decrypts it, and the file is
  // returned only after every batch and the closing entry committed: a failure anywhere returns nothing.
  type Position = { name: string; id: string };
  let position: Position | null = null;
  for (let batch = 0; batch * EXPORT_BATCH_SIZE <= EXPORT_LIMIT; batch++) {
    const at: Position | null = position;
    const last: Position | null = await ctx.db.$transaction(async (tx): Promise<Position | null> => {
      const credentials = await tx.credential.findMany({
        where: at ? { AND: [where, { name: { gte: at.name } }, { OR: [{ name: { gt: at.name } }, { name: at.name, id: { gt: at.id } }] }] } : where,
        orderBy: credentialOrderBy(),
        take: EXPORT_BATCH_SIZE,
        include: { category: true, folder: true, apiKeys: { where: { retiredInVersion: null }, orderBy: { position: 'asc' } } },
      });
      for (const c of credentials) {
        if (rows.length >= EXPORT_LIMIT) return null;
        const row: Record<string, unknown> = {
          id: encodeGlobalID('Credential', c.id),
          kind: c.kind,
          name: c.name,
          username: c.username,
          url: c.url,
          category: c.category?.name ?? null,
          folder: c.folder?.name ?? null,
          restricted: c.restricted,
          passwordUpdatedAt: c.passwordUpdatedAt.toISOString(),
          archivedAt: c.archivedAt?.toISOString() ?? null,
        };
        if (input.includeSecrets && !c.restricted) {
          const secrets = await tx.secretValue.findMany({ where: { credentialId: c.id, version: c.currentVersion } });
          const plain = new Map<string, string>();
          for (const s of secrets) plain.set(`${s.field}:${s.keyRef}`, await openSecret(tx, ctx.keyring, organizationId, s));
          row.password = plain.get('PASSWORD:') ?? null;
          row.otpSecret = plain.has('OTP_SECRET:') ? JSON.parse(plain.get('OTP_SECRET:')!).secretBase32 : null;
          row.apiKeys = c.apiKeys.length
            ? c.apiKeys.map((k) => ({ clientIdentifier: k.clientIdentifier, secretIdentifier: k.secretIdentifier, clientSecret: plain.get(`API_KEY_SECRET:${k.id}`) ?? null }))
            : null;
          row.privateKey = plain.get('SSH_PRIVATE_KEY:') ?? null;
          row.passphrase = plain.get('PASSPHRASE:') ?? null;
          await recordAccess(ctx, tx, { credential: c, field: 'ALL', version: c.currentVersion, surface: 'EXPORT' });
          secretsExported += 1;
        } else if (input.includeSecrets) {
          for (const col of SECRET_COLUMNS) row[col] = null;
        }
        rows.push(row);
      }
      const end = credentials[credentials.length - 1];
      return credentials.length === EXPORT_BATCH_SIZE ? { name: end.name, id: end.id } : null;
    });
    if (!last) break;
    position = last;
  }
  await ctx.db.$transaction((tx) =>
    appendAudit(tx, ctx, {
      organizationId,
      action: 'credential.export_list',
      targetType: 'Organization',
      targetId: organizationId,
      data: { format: input.format, includeSecrets: input.includeSecrets, count: rows.length, secretsExported },
    }),
  );
  const columns = input.includeSecrets ? [...COLUMNS, ...SECRET_COLUMNS] : [...COLUMNS];
  const content =
    input.format === 'JSON'
      ? JSON.stringify(rows, null, 2)
      : [columns.join(','), ...rows.map((r) => columns.map((col) => csvCell(r[col])).join(','))].join('\r\n') + '\r\n';
  return { format: input.format, content, count: rows.length, secretsExported };
}
