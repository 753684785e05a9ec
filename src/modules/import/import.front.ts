import type { Context } from '../../context.ts';
import { ValidationError } from '../../lib/errors.ts';
import { CsvError } from './csv.ts';
import { bitwardenCandidates, csvCandidates, ImportFileError, type Candidate, type ColumnMapping, type ImportField, type ImportFormat } from './formats.ts';
import { importBatch, IMPORT_MAX_ROWS, sha256Hex, type ImportReport, type ImportRules } from './import.service.ts';
import { keepassCandidates } from './keepass.ts';

export type ImportContentInput = {
  organizationId: string;
  format: ImportFormat;
  content: string;
  encoding: 'TEXT' | 'BASE64';
  masterPassword: string | null;
  columns: { field: ImportField; column: string }[] | null;
  rules: ImportRules | null;
  dryRun: boolean;
};

/** Strict base64 (the alphabet, optional padding), checked by hand: Buffer.from would skip junk silently. */
function decodeBase64(text: string): Buffer {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 61 || c === 10 || c === 13;
    if (!ok) throw ValidationError.field('input.content', 'is not base64');
    if (c !== 10 && c !== 13) n++;
  }
  if (n % 4 !== 0) throw ValidationError.field('input.content', 'is not base64');
  return Buffer.from(text, 'base64');
}

export function columnMapping(columns: { field: ImportField; column: string }[] | null): ColumnMapping | null {
  if (!columns) return null;
  const mapping: ColumnMapping = {};
  for (const [i, c] of columns.entries()) {
    if (mapping[c.field] !== undefined) throw ValidationError.field(`input.columns.${i}.field`, 'is mapped twice');
    mapping[c.field] = c.column;
  }
  return mapping;
}

/** Parses a file's whole content into candidates, whatever its format. */
export async function candidatesOf(
  format: ImportFormat,
  bytes: Buffer,
  options: { masterPassword: string | null; mapping: ColumnMapping | null; maxRows: number },
): Promise<Candidate[]> {
  try {
    if (format === 'KEEPASS') {
      if (!options.masterPassword) throw new ImportFileError('a KeePass file needs its master password');
      return await keepassCandidates(bytes, options.masterPassword, options.maxRows);
    }
    const text = bytes.toString('utf8');
    if (format === 'BITWARDEN') return bitwardenCandidates(text, options.maxRows);
    return csvCandidates(format, text, options.mapping, options.maxRows);
  } catch (error) {
    if (error instanceof CsvError) throw new ImportFileError(`line ${error.line}: ${error.message}`);
    throw error;
  }
}

/** The GraphQL front end: one request is one batch (at most IMPORT_MAX_ROWS rows). */
export async function importContent(ctx: Context, input: ImportContentInput): Promise<ImportReport> {
  if (input.format === 'KEEPASS' && input.encoding !== 'BASE64') throw ValidationError.field('input.encoding', 'a KeePass file is sent as BASE64');
  const bytes = input.encoding === 'BASE64' ? decodeBase64(input.content) : Buffer.from(input.content, 'utf8');
  if (input.format !== 'CSV' && input.columns) throw ValidationError.field('input.columns', 'apply to the CSV format only');
  const candidates = await candidatesOf(input.format, bytes, { masterPassword: input.masterPassword, mapping: columnMapping(input.columns), maxRows: IMPORT_MAX_ROWS });
  return importBatch(ctx, { organizationId: input.organizationId, format: input.format, candidates, rules: input.rules, dryRun: input.dryRun, fileSha256: sha256Hex(bytes) });
}
