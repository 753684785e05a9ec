import { builder } from '../../graphql/builder.ts';
import { ErrorInterface, FieldIssueRef } from '../../graphql/errors.ts';
import { ConflictError, DomainError, ValidationError, type FieldIssue } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import { IMPORT_FIELDS, IMPORT_FORMATS, ImportFileError } from './formats.ts';
import { IMPORT_MAX_ROWS, type ImportItemReport, type ImportReport } from './import.service.ts';
import { importContent } from './import.front.ts';

const ImportFormatEnum = builder.enumType('ImportFormat', {
  description: 'Which vault’s export a file is (docs/import.md lists the columns each is read by).',
  values: {
    ITGLUE: { description: 'IT Glue’s password export (CSV).' },
    BITWARDEN: { description: 'Bitwarden’s unencrypted JSON export.' },
    KEEPASS: { description: 'A KeePass KDBX 4 database, opened with its master password (content in base64).' },
    ONEPASSWORD: { description: '1Password’s CSV export.' },
    CSV: { description: 'Any CSV with a header row, read through a column mapping.' },
  } as const satisfies Record<(typeof IMPORT_FORMATS)[number], unknown>,
});

const ImportEncodingEnum = builder.enumType('ImportEncoding', {
  description: 'How the file content is sent.',
  values: { TEXT: { description: 'As text (CSV, JSON).' }, BASE64: { description: 'As base64 of the file’s bytes (required for KEEPASS).' } } as const,
});

const ImportFieldEnum = builder.enumType('ImportField', {
  description: 'A credential field a generic CSV column can be mapped to.',
  values: {
    id: { value: 'id', description: 'The row’s own id in the source (makes re-imports exact; without it the folder, name, username and URL identify a row).' },
    name: { value: 'name', description: 'Name (required).' },
    username: { value: 'username', description: 'User name.' },
    password: { value: 'password', description: 'Password (required).' },
    url: { value: 'url', description: 'URL or host.' },
    notes: { value: 'notes', description: 'Notes.' },
    folder: { value: 'folder', description: 'Folder path, parts separated by "/".' },
    category: { value: 'category', description: 'Source category, matched to a category by name or by the category map.' },
    otpSecret: { value: 'otpSecret', description: 'TOTP seed (base32 or otpauth:// URI).' },
  } as const satisfies Record<(typeof IMPORT_FIELDS)[number], unknown>,
});

const ImportActionEnum = builder.enumType('ImportAction', {
  description: 'What an import does (or, in a dry run, would do) with a row.',
  values: {
    CREATE: { description: 'A new credential.' },
    UPDATE: { description: 'An earlier import’s credential whose row changed: details edited, a changed secret stored as a new version.' },
    UNCHANGED: { description: 'An earlier import’s credential, identical: nothing to do.' },
    SKIP: { description: 'Not imported (see reason).' },
  } as const,
});

const ColumnMappingInput = builder.inputType('ImportColumnMappingInput', {
  description: 'Which column of a generic CSV holds a field.',
  fields: (t) => ({
    field: t.field({ type: ImportFieldEnum, required: true, description: 'The credential field.' }),
    column: t.string({ required: true, description: 'The column’s header, ignoring letter case, spaces and punctuation.' }),
  }),
});

const CategoryMapInput = builder.inputType('ImportCategoryMapInput', {
  description: 'A source category (IT Glue’s password category, 1Password’s type…) mapped to a category of the organization.',
  fields: (t) => ({
    source: t.string({ required: true, description: 'The category as the file names it (ignoring letter case).' }),
    category: t.string({ required: true, description: 'The name of a category of the organization.' }),
  }),
});

const ImportRulesInput = builder.inputType('ImportRulesInput', {
  description: 'Rules applied to every row.',
  fields: (t) => ({
    restrictedFolders: t.stringList({ description: 'Folder names (any level, ignoring letter case) whose credentials become restricted, e.g. "Domain admins". An import never clears the flag.' }),
    categoryMap: t.field({ type: [CategoryMapInput], description: 'Source categories to categories; unmapped ones match a category of the same name, else stay uncategorised.' }),
  }),
});

const ImportCredentialsInput = builder.inputType('ImportCredentialsInput', {
  description: `A file to import into one organization: at most ${IMPORT_MAX_ROWS} rows, within the request size limit (REQUEST_MAX_BYTES, 256 KiB by default); larger files go through the CLI.`,
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'Global id of the organization.' }),
    format: t.field({ type: ImportFormatEnum, required: true, description: 'Which export it is.' }),
    content: t.string({ required: true, description: 'The file’s content (see encoding).' }),
    encoding: t.field({ type: ImportEncodingEnum, description: 'TEXT (default) or BASE64.' }),
    masterPassword: t.string({ description: 'KEEPASS: the database’s master password. Never stored or logged.' }),
    columns: t.field({ type: [ColumnMappingInput], description: 'CSV: which column holds which field (default: columns named like the fields).' }),
    rules: t.field({ type: ImportRulesInput, description: 'Restricted folders and category mapping.' }),
    dryRun: t.boolean({ required: true, description: 'True: report what would be created, updated and skipped, and every problem; write nothing.' }),
  }),
});

const ImportItemRef = builder.objectRef<ImportItemReport>('ImportItem').implement({
  description: 'What the import did (or would do) with one row. Never a secret.',
  fields: (t) => ({
    row: t.exposeInt('row', { description: 'Row number in the file, from 1 (the first credential, after any header).' }),
    action: t.field({ type: ImportActionEnum, description: 'What happens to it.', resolve: (i) => i.action }),
    name: t.exposeString('name', { nullable: true, description: 'The credential’s name from the file.' }),
    reason: t.exposeString('reason', { nullable: true, description: 'For SKIP and UPDATE: why.' }),
    credentialId: t.id({ nullable: true, description: 'The credential it made or matched; null for skipped rows and dry-run creations.', resolve: (i) => i.credentialId }),
  }),
});

const ImportCredentialsPayload = builder.objectRef<ImportReport>('ImportCredentialsPayload').implement({
  description: 'The import’s report. Rows with problems come back as ImportProblemsError instead, with nothing written.',
  fields: (t) => ({
    dryRun: t.exposeBoolean('dryRun', { description: 'Whether this was a dry run (nothing written).' }),
    committed: t.exposeBoolean('committed', { description: 'Whether the changes were written (false for a dry run).' }),
    fileSha256: t.exposeString('fileSha256', { description: 'SHA-256 of the file’s bytes, as recorded in the audit log.' }),
    rows: t.exposeInt('rows', { description: 'Rows read.' }),
    created: t.exposeInt('created', { description: 'Credentials created (or that would be).' }),
    updated: t.exposeInt('updated', { description: 'Credentials of earlier imports updated (or that would be).' }),
    unchanged: t.exposeInt('unchanged', { description: 'Rows identical to an earlier import.' }),
    skipped: t.exposeInt('skipped', { description: 'Rows not imported (cards, identities, archived…).' }),
    foldersCreated: t.exposeInt('foldersCreated', { description: 'Folders the file names that did not exist (created, or that would be).' }),
    items: t.field({ type: [ImportItemRef], description: 'Each row, in file order.', resolve: (r) => r.items }),
  }),
});

/** Rows with problems: nothing was written. */
export class ImportProblemsError extends DomainError {
  override name = 'ImportProblemsError';
  readonly fieldErrors: FieldIssue[];
  constructor(readonly report: ImportReport) {
    super(`${report.problems.length + report.moreProblems} problem(s) in the file; nothing was written.`);
    this.fieldErrors = report.problems;
  }
}

builder.objectType(ImportProblemsError, {
  name: 'ImportProblemsError',
  description: 'Some rows cannot be imported (paths like ["rows[12]", "password"]); nothing was written. The report says what the rest would do.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    fieldErrors: t.field({ type: [FieldIssueRef], description: 'Each problem: row and field, and why (never the value).', resolve: (e) => e.fieldErrors }),
    moreProblems: t.int({ description: 'Problems beyond those listed (the list stops at 100).', resolve: (e) => e.report.moreProblems }),
    report: t.field({ type: ImportCredentialsPayload, description: 'What the other rows would do.', resolve: (e) => e.report }),
  }),
});

builder.mutationFields((t) => ({
  importCredentials: t.field({
    description: `Imports an IT Glue, Bitwarden, KeePass, 1Password or generic CSV export into an organization (ADMIN, MANAGER; action credential:import). Dry run first: the report says what would be created, updated and skipped. A real run writes all rows or none, seals every secret as it is read, audits each credential and the import (file SHA-256, counts). Importing the same file again changes nothing. At most ${IMPORT_MAX_ROWS} rows per request.`,
    authScopes: { can: 'credential:import' },
    type: ImportCredentialsPayload,
    errors: { types: [ImportProblemsError, ConflictError, ValidationError] },
    args: { input: t.arg({ type: ImportCredentialsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const organizationId = localId(String(input.organizationId), 'Organization');
      ctx.policy.assert('credential:import', { organizationId });
      try {
        const report = await importContent(ctx, {
          organizationId,
          format: input.format,
          content: input.content,
          encoding: input.encoding ?? 'TEXT',
          masterPassword: input.masterPassword ?? null,
          columns: input.columns ?? null,
          rules: input.rules ?? null,
          dryRun: input.dryRun,
        });
        if (report.problems.length > 0) throw new ImportProblemsError(report);
        return report;
      } catch (error) {
        if (error instanceof ImportFileError) throw ValidationError.field('input.content', error.message);
        throw error;
      }
    },
  }),
}));
