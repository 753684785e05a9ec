import { createHash } from 'node:crypto';
import type { FieldIssue } from '../../lib/errors.ts';
import { CsvParser } from './csv.ts';

/** The file formats the importer reads (docs/import.md). */
export const IMPORT_FORMATS = ['ITGLUE', 'BITWARDEN', 'KEEPASS', 'ONEPASSWORD', 'CSV'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** What `importSource` says on a credential imported from each format. */
export const SOURCE_NAME: Record<ImportFormat, string> = {
  ITGLUE: 'itglue',
  BITWARDEN: 'bitwarden',
  KEEPASS: 'keepass',
  ONEPASSWORD: '1password',
  CSV: 'csv',
};

/** The fields a generic CSV's columns can be mapped to. */
export const IMPORT_FIELDS = ['id', 'name', 'username', 'password', 'url', 'notes', 'folder', 'category', 'otpSecret'] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];
export type ColumnMapping = Partial<Record<ImportField, string>>;

/** One credential as read from a file, before any rule or database lookup. Secrets stay in memory only. */
export type ImportItem = {
  sourceId: string;
  name: string;
  username: string | null;
  password: string | null;
  url: string | null;
  notes: string | null;
  otpSecret: string | null;
  /** Folder path, outermost first; empty for the top level. */
  folder: string[];
  category: string | null;
};

/** A row of the file: its number (1 = first credential), and the item, a reason to skip it, or problems. */
export type Candidate = { row: number; item?: ImportItem; skip?: string; problems?: FieldIssue[] };

export class ImportFileError extends Error {
  override name = 'ImportFileError';
}

export const rowPath = (row: number, field: string): string[] => [`rows[${row}]`, field];

const blank = (v: string | null | undefined): string | null => {
  if (v == null) return null;
  const t = v.trim();
  return t === '' ? null : t;
};

/** "Domain admins / Tier 0" → ["Domain admins", "Tier 0"]; split by hand, no pattern. */
export function folderPath(value: string | null | undefined): string[] {
  if (!value) return [];
  return value
    .split('/')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * A stable id for rows whose format has none: a digest of what identifies the row (not its secret), so the same
 * row imported again finds the credential it made.
 */
function digestId(parts: (string | null)[]): string {
  return 'h:' + createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);
}

/** A header cell reduced to letters and digits, lower case: "Password Category" → "passwordcategory". */
function headerKey(h: string): string {
  let out = '';
  for (const ch of h.toLowerCase()) if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) out += ch;
  return out;
}

/** Header aliases per CSV format: the first alias present names the column. */
const CSV_COLUMNS: Record<'ITGLUE' | 'ONEPASSWORD', Record<ImportField | 'organization' | 'archived' | 'tags', string[]>> = {
  ITGLUE: {
    id: ['id', 'passwordid'],
    organization: ['organization', 'organizationname'],
    name: ['name', 'title', 'description'],
    username: ['username', 'user'],
    password: ['password'],
    url: ['url', 'resourceurl'],
    notes: ['notes'],
    category: ['passwordcategory', 'passwordtype', 'category', 'type', 'passwordcategoryname'],
    folder: ['folder', 'passwordfolder', 'foldername'],
    otpSecret: ['otpsecret', 'otp', 'totp'],
    archived: ['archived'],
    tags: [],
  },
  ONEPASSWORD: {
    id: ['uuid', 'id'],
    organization: [],
    name: ['title', 'name'],
    username: ['username'],
    password: ['password'],
    url: ['url', 'urls', 'website', 'loginurl'],
    notes: ['notes', 'notesplain'],
    category: ['type', 'category'],
    folder: ['vault', 'folder'],
    otpSecret: ['otpauth', 'onetimepassword', 'totp'],
    archived: ['archived'],
    tags: ['tags'],
  },
};

/**
 * Turns CSV records into candidates: the first record is the header. Fed record by record, so a file of any size
 * streams through with only the current row in memory.
 */
export class CsvRows {
  private columns: Partial<Record<string, number>> | null = null;
  private row = 0;

  constructor(
    private readonly format: 'ITGLUE' | 'ONEPASSWORD' | 'CSV',
    private readonly mapping: ColumnMapping | null,
    private readonly emit: (c: Candidate) => void,
  ) {}

  record(fields: string[]): void {
    if (!this.columns) {
      this.columns = this.resolveHeader(fields);
      return;
    }
    this.row += 1;
    const row = this.row;
    const get = (key: string): string | null => {
      const i = this.columns![key];
      return i === undefined ? null : (fields[i] ?? null);
    };
    const archived = blank(get('archived'));
    if (archived && ['true', 'yes', '1'].includes(archived.toLowerCase())) {
      this.emit({ row, skip: 'archived in the source' });
      return;
    }
    const organization = blank(get('organization'));
    let folder = folderPath(get('folder'));
    if (this.format === 'ITGLUE' && organization) folder = [organization, ...folder];
    if (this.format === 'ONEPASSWORD' && folder.length === 0) {
      const tags = blank(get('tags'));
      if (tags) folder = folderPath(tags.split(',')[0]);
    }
    const name = blank(get('name'));
    const username = blank(get('username'));
    const url = blank(get('url'));
    const problems: FieldIssue[] = [];
    if (!name) problems.push({ path: rowPath(row, 'name'), message: 'is empty' });
    const password = get('password');
    if (!password) problems.push({ path: rowPath(row, 'password'), message: 'is empty' });
    if (problems.length) {
      this.emit({ row, problems });
      return;
    }
    const id = blank(get('id'));
    this.emit({
      row,
      item: {
        sourceId: id ? `id:${id}` : digestId([folder.join('/'), name, username, url]),
        name: name!,
        username,
        password,
        url,
        notes: blank(get('notes')),
        otpSecret: blank(get('otpSecret')),
        folder,
        category: blank(get('category')),
      },
    });
  }

  private resolveHeader(header: string[]): Partial<Record<string, number>> {
    const keys = header.map(headerKey);
    const out: Partial<Record<string, number>> = {};
    if (this.format === 'CSV') {
      for (const field of IMPORT_FIELDS) {
        const wanted = this.mapping?.[field] ?? field;
        const i = keys.indexOf(headerKey(wanted));
        if (i >= 0) out[field] = i;
        else if (this.mapping?.[field] !== undefined) throw new ImportFileError(`the mapped column "${wanted}" (for ${field}) is not in the header`);
      }
    } else {
      for (const [field, aliases] of Object.entries(CSV_COLUMNS[this.format])) {
        for (const a of aliases) {
          const i = keys.indexOf(a);
          if (i >= 0) {
            out[field] = i;
            break;
          }
        }
      }
    }
    for (const required of ['name', 'password']) {
      if (out[required] === undefined) throw new ImportFileError(`the header has no ${required} column${this.format === 'CSV' ? ' (map one with the column mapping)' : ''}`);
    }
    return out;
  }
}

/** A CSV format's whole text into candidates (the GraphQL path; the CLI streams through CsvParser + CsvRows). */
export function csvCandidates(format: 'ITGLUE' | 'ONEPASSWORD' | 'CSV', text: string, mapping: ColumnMapping | null, maxRows: number): Candidate[] {
  const out: Candidate[] = [];
  const rows = new CsvRows(format, mapping, (c) => {
    if (out.length >= maxRows) throw new ImportFileError(`the file holds more than ${maxRows} rows; split it or use the CLI`);
    out.push(c);
  });
  const parser = new CsvParser((fields) => rows.record(fields));
  parser.push(text);
  parser.end();
  return out;
}

type BitwardenExport = {
  encrypted?: boolean;
  folders?: { id: string; name: string }[];
  collections?: { id: string; name: string }[];
  items?: {
    id?: string;
    type?: number;
    name?: string;
    notes?: string | null;
    folderId?: string | null;
    collectionIds?: string[] | null;
    login?: { username?: string | null; password?: string | null; totp?: string | null; uris?: { uri?: string | null }[] | null } | null;
  }[];
};

/**
 * Bitwarden's unencrypted JSON export: logins become PASSWORD credentials; a secure note's text is a secret too, so
 * it is sealed as the password (the vault has no note kind, and notes are not encrypted). Cards and identities are
 * skipped. The folder is the item's folder, else its first collection.
 */
export function bitwardenCandidates(text: string, maxRows: number): Candidate[] {
  let data: BitwardenExport;
  try {
    data = JSON.parse(text) as BitwardenExport;
  } catch {
    throw new ImportFileError('not a JSON file');
  }
  if (!data || typeof data !== 'object' || !Array.isArray(data.items)) throw new ImportFileError('not a Bitwarden export (no items list)');
  if (data.encrypted) throw new ImportFileError('the Bitwarden export is encrypted; export it as unencrypted JSON');
  if (data.items.length > maxRows) throw new ImportFileError(`the file holds more than ${maxRows} rows; split it or use the CLI`);
  const folders = new Map((data.folders ?? []).map((f) => [f.id, f.name]));
  const collections = new Map((data.collections ?? []).map((c) => [c.id, c.name]));
  return data.items.map((it, index): Candidate => {
    const row = index + 1;
    const folderName = (it.folderId && folders.get(it.folderId)) || (it.collectionIds?.[0] && collections.get(it.collectionIds[0])) || null;
    const name = blank(typeof it.name === 'string' ? it.name : null);
    if (!name) return { row, problems: [{ path: rowPath(row, 'name'), message: 'is empty' }] };
    if (!it.id || typeof it.id !== 'string') return { row, problems: [{ path: rowPath(row, 'id'), message: 'is missing' }] };
    const base = { sourceId: `id:${it.id}`, name, folder: folderPath(folderName), category: null, url: null, username: null, otpSecret: null };
    if (it.type === 1) {
      const login = it.login ?? {};
      if (!login.password) return { row, problems: [{ path: rowPath(row, 'password'), message: 'is empty' }] };
      return {
        row,
        item: { ...base, username: blank(login.username), password: login.password, url: blank(login.uris?.[0]?.uri), notes: blank(it.notes), otpSecret: blank(login.totp) },
      };
    }
    if (it.type === 2) {
      if (!it.notes) return { row, skip: 'an empty secure note' };
      return { row, item: { ...base, category: null, password: it.notes, notes: null } };
    }
    return { row, skip: it.type === 3 ? 'a card (not imported)' : it.type === 4 ? 'an identity (not imported)' : 'an unknown item type' };
  });
}
